"""The learned coverage CDF of the soft rasterizer (``coverage.cdf: mlp``; docs/soft.md): a
1 -> 4 -> 4 -> 4 -> 4 -> 1 network, bias-free, tanh, the first layer's output added to the
fourth layer's input, sigmoid output; 56 weights, row major per layer (4, 16, 16, 16, 4).
The renderer evaluates it in GLSL (soft_coverage.glsl, ``soft_mlp``); this numpy copy sizes
the band R draws around each triangle and starts the meta-training (suite/meta.py)."""

from __future__ import annotations

import numpy as np

WEIGHTS = 56
COVERAGE_MIN = 1.0 / 255.0      # R records no coverage below this (soft.frag: DEEP_ALPHA_MIN)


def default_weights() -> np.ndarray:
    """A start close to the logistic CDF (|F - logistic| < 0.08 everywhere): layer 1 at four
    scales, identity hidden layers, output weights 2 (F in [6e-4, 0.9994])."""
    eye = np.eye(4).ravel()
    return np.concatenate([[0.025, 0.05, 0.1, 0.2], eye, eye, eye, [2.0, 2.0, 2.0, 2.0]])


def cdf(x, weights) -> np.ndarray:
    """F(x) for an array x."""
    w = np.asarray(weights, np.float64)
    x = np.asarray(x, np.float64)[..., None]
    h1 = np.tanh(x * w[:4])
    h = h1
    for layer in range(3):
        z = h @ w[4 + 16 * layer: 20 + 16 * layer].reshape(4, 4).T
        h = np.tanh(z + h1 if layer == 2 else z)
    return 1.0 / (1.0 + np.exp(-(h @ w[52:56])))


def band_taus(weights, reach: float = 200.0) -> float:
    """How far outside a triangle (in units of tau) the coverage stays >= COVERAGE_MIN (at
    most ``reach``): R grows each triangle by this band."""
    x = np.linspace(-reach, 0.0, 20001)
    above = np.nonzero(cdf(x, weights) >= COVERAGE_MIN)[0]
    return float(-x[above[0]]) if len(above) else 0.0
