"""numpy references of the soft rasterizer's CDF families and t-conorms
(glsl/scene/soft/soft_coverage.glsl), written from their definitions (docs/soft.md)."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import gammainc

FAMILIES = {"hard": 0, "uniform": 1, "hermite": 2, "logistic": 3, "gaussian": 4, "laplace": 5, "cauchy": 6,
            "exponential": 7, "exponential_rev": 8, "gamma": 9, "mlp": 10}
CONORMS = {"max": 0, "probabilistic": 1, "einstein": 2, "hamacher": 3, "yager": 4, "dombi": 5}


def mlp(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """1 -> 4 -> 4 -> 4 -> 4 -> 1, bias-free tanh, layer 1's output added to layer 4's input,
    sigmoid output; w: 56 weights, row major per layer."""
    x = np.asarray(x, np.float64)[:, None]
    h1 = np.tanh(x * w[:4][None, :])
    h = h1
    for layer in range(3):
        m = w[4 + 16 * layer: 20 + 16 * layer].reshape(4, 4)
        z = h @ m.T
        if layer == 2:
            z = z + h1
        h = np.tanh(z)
    return 1.0 / (1.0 + np.exp(-(h @ w[52:56])))


def cdf(family: str, x, p: float = 2.0, w=None) -> np.ndarray:
    x = np.asarray(x, np.float64)
    if family == "hard":
        return (x >= 0).astype(np.float64)
    if family == "uniform":
        return np.clip(0.5 * (x + 1.0), 0.0, 1.0)
    if family == "hermite":
        t = np.clip(0.5 * (x + 1.0), 0.0, 1.0)
        return t * t * (3.0 - 2.0 * t)
    if family == "logistic":
        return 1.0 / (1.0 + np.exp(-x))
    if family == "gaussian":
        return np.array([0.5 * (1.0 + math.erf(v / math.sqrt(2.0))) for v in x.ravel()]).reshape(x.shape)
    if family == "laplace":
        return np.where(x < 0, 0.5 * np.exp(np.minimum(x, 0)), 1.0 - 0.5 * np.exp(-np.maximum(x, 0)))
    if family == "cauchy":
        return 0.5 + np.arctan(x) / math.pi
    if family == "exponential":
        return np.where(x > 0, 1.0 - np.exp(-np.maximum(x, 0)), 0.0)
    if family == "exponential_rev":
        return np.where(x < 0, np.exp(np.minimum(x, 0)), 1.0)
    if family == "gamma":
        return np.where(x > 0, gammainc(p, np.maximum(x, 0)), 0.0)
    if family == "mlp":
        return mlp(x, np.asarray(w, np.float64))
    raise ValueError(family)


def conorm(kind: str, a, b, p: float = 2.0) -> np.ndarray:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if kind == "max":
        return np.maximum(a, b)
    if kind == "probabilistic":
        return a + b - a * b
    if kind == "einstein":
        return (a + b) / (1.0 + a * b)
    if kind == "hamacher":
        return (a + b - (2.0 - p) * a * b) / (1.0 - (1.0 - p) * a * b)
    if kind == "yager":
        return np.minimum(1.0, (a ** p + b ** p) ** (1.0 / p))
    if kind == "dombi":
        with np.errstate(divide="ignore"):
            u = (a / (1.0 - a)) ** p + (b / (1.0 - b)) ** p
            return 1.0 / (1.0 + u ** (-1.0 / p))
    raise ValueError(kind)


def signed_distance(p: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """Distance from points p (n, 2) to the triangle's nearest edge, positive inside."""
    p = np.asarray(p, np.float64)
    best = np.full(len(p), np.inf)
    inside = np.ones(len(p), bool)
    u, v = tri[1] - tri[0], tri[2] - tri[0]
    area = u[0] * v[1] - u[1] * v[0]
    for e in range(3):
        a, b = tri[e], tri[(e + 1) % 3]
        ab, ap = b - a, p - a
        t = np.clip(ap @ ab / (ab @ ab), 0.0, 1.0)
        best = np.minimum(best, np.linalg.norm(ap - t[:, None] * ab, axis=1))
        inside &= (ab[0] * ap[:, 1] - ab[1] * ap[:, 0]) * area > 0
    return np.where(inside, best, -best)


def aggregate(kind: str, cov, p: float = 2.0) -> float:
    acc = 0.0
    for i, c in enumerate(cov):
        acc = c if i == 0 else float(conorm(kind, acc, c, p))
    return acc


def recorded(f: np.ndarray) -> np.ndarray:
    """The coverage the soft rasterizer records for CDF values f: (f - 1/255) / (1 - 1/255),
    0 below 1/255 (continuous at the band's edge)."""
    m = 1.0 / 255.0
    return np.where(f > m, (f - m) / (1.0 - m), 0.0)
