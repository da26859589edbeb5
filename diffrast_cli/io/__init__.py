"""Input/output helpers: target images, output pictures and mesh export."""
