"""Scene kinds: parameter layout, cameras and one module per primitive kind."""
