"""Geometric distances between meshes (numpy only), for reports and tests."""

from __future__ import annotations

import numpy as np


def sample_surface(positions: np.ndarray, faces: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """``n`` points uniformly distributed over the triangles' area (deterministic from the seed)."""
    p = np.asarray(positions, np.float64)[np.asarray(faces)]
    area = 0.5 * np.linalg.norm(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), axis=1)
    total = area.sum()
    if not np.isfinite(total) or total <= 0:
        return p[:, 0][:1].repeat(n, axis=0)
    rng = np.random.default_rng(seed)
    f = rng.choice(len(area), n, p=area / total)
    u, v = rng.random(n), rng.random(n)
    flip = u + v > 1
    u[flip], v[flip] = 1 - u[flip], 1 - v[flip]
    return p[f, 0] + u[:, None] * (p[f, 1] - p[f, 0]) + v[:, None] * (p[f, 2] - p[f, 0])


def _nearest_sq(a: np.ndarray, b: np.ndarray, chunk: int = 512) -> np.ndarray:
    out = np.empty(len(a))
    bb = (b * b).sum(axis=1)
    for i in range(0, len(a), chunk):
        x = a[i:i + chunk]
        d = (x * x).sum(axis=1)[:, None] - 2.0 * x @ b.T + bb[None]
        out[i:i + chunk] = np.maximum(d.min(axis=1), 0.0)
    return out


def chamfer_distance(pos_a, faces_a, pos_b, faces_b, n: int = 4000, seed: int = 0) -> float:
    """Symmetric Chamfer distance (mean squared nearest-point distance, both ways)
    between surface samples of two meshes."""
    a = sample_surface(pos_a, faces_a, n, seed)
    b = sample_surface(pos_b, faces_b, n, seed + 1)
    return float(_nearest_sq(a, b).mean() + _nearest_sq(b, a).mean())
