"""Geometric distances between meshes, for reports and tests.

The Chamfer distance here is point-to-surface, not point-to-sample: sample
points of one mesh are matched to the closest point on the other mesh's
triangles (among the triangles with the nearest centroids, found with
scipy's k-d tree), so it has no sampling noise floor and two identical
meshes score ~0.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree


def sample_surface(positions: np.ndarray, faces: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """``n`` points uniformly distributed over the triangles' area (deterministic from the seed)."""
    p = np.asarray(positions, np.float64)[np.asarray(faces)]
    area = 0.5 * np.linalg.norm(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), axis=1)
    total = area.sum()
    if not np.isfinite(total) or total <= 0:
        return p[:1, 0].repeat(n, axis=0)
    rng = np.random.default_rng(seed)
    f = rng.choice(len(area), n, p=area / total)
    u, v = rng.random(n), rng.random(n)
    flip = u + v > 1
    u[flip], v[flip] = 1 - u[flip], 1 - v[flip]
    return p[f, 0] + u[:, None] * (p[f, 1] - p[f, 0]) + v[:, None] * (p[f, 2] - p[f, 0])


def closest_on_triangles(p: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Closest points to p[i] on triangles (a[i], b[i], c[i]) (Voronoi regions of the triangle)."""
    ab, ac, ap = b - a, c - a, p - a
    d1, d2 = (ab * ap).sum(-1), (ac * ap).sum(-1)
    bp, cp = p - b, p - c
    d3, d4 = (ab * bp).sum(-1), (ac * bp).sum(-1)
    d5, d6 = (ab * cp).sum(-1), (ac * cp).sum(-1)
    va, vb, vc = d3 * d6 - d5 * d4, d5 * d2 - d1 * d6, d1 * d4 - d3 * d2
    denom = va + vb + vc
    safe = np.where(np.abs(denom) > 1e-30, denom, 1.0)
    out = a + ab * (vb / safe)[..., None] + ac * (vc / safe)[..., None]          # interior
    def edge(mask, x, y, t):
        return np.where(mask[..., None], x + (y - x) * np.clip(t, 0, 1)[..., None], out)
    t_ab = d1 / np.where(d1 - d3 != 0, d1 - d3, 1.0)
    t_ac = d2 / np.where(d2 - d6 != 0, d2 - d6, 1.0)
    t_bc = (d4 - d3) / np.where((d4 - d3) + (d5 - d6) != 0, (d4 - d3) + (d5 - d6), 1.0)
    out = edge((vc <= 0) & (d1 >= 0) & (d3 <= 0), a, b, t_ab)
    out = edge((vb <= 0) & (d2 >= 0) & (d6 <= 0), a, c, t_ac)
    out = edge((va <= 0) & (d4 - d3 >= 0) & (d5 - d6 >= 0), b, c, t_bc)
    out = np.where(((d1 <= 0) & (d2 <= 0))[..., None], a, out)
    out = np.where(((d3 >= 0) & (d4 <= d3))[..., None], b, out)
    out = np.where(((d6 >= 0) & (d5 <= d6))[..., None], c, out)
    return out


def point_to_surface_sq(points: np.ndarray, positions: np.ndarray, faces: np.ndarray,
                        candidates: int = 24, chunk: int = 256) -> np.ndarray:
    """Squared distance from each point to the mesh surface (checking the triangles whose
    centroids are nearest; exact for reasonably uniform meshes)."""
    tri = np.asarray(positions, np.float64)[np.asarray(faces)]
    cen = tri.mean(axis=1)
    k = min(candidates, len(tri))
    tree = cKDTree(cen)
    points = np.asarray(points, np.float64)
    out = np.empty(len(points))
    for i in range(0, len(points), chunk):
        x = points[i:i + chunk]
        near = tree.query(x, k=k)[1].reshape(len(x), k)
        q = closest_on_triangles(x[:, None, :], tri[near, 0], tri[near, 1], tri[near, 2])
        out[i:i + chunk] = ((q - x[:, None, :]) ** 2).sum(-1).min(axis=1)
    return out


def chamfer_distance(pos_a, faces_a, pos_b, faces_b, n: int = 2000, seed: int = 0) -> float:
    """Symmetric Chamfer distance: mean squared point-to-surface distance of ``n`` surface
    samples of each mesh to the other mesh, summed over both directions."""
    a = sample_surface(pos_a, faces_a, n, seed)
    b = sample_surface(pos_b, faces_b, n, seed + 1)
    return float(point_to_surface_sq(a, pos_b, faces_b).mean() + point_to_surface_sq(b, pos_a, faces_a).mean())
