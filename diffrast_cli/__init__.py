"""diffrast: differentiable rasterization through per-pixel stochastic gradient estimation."""

__version__ = "0.1.0"
