"""The GL layer: contexts, shader loading, binding points, render targets."""
