"""Point-to-surface distances and the Chamfer distance of the reports."""

import numpy as np

from diffrast_cli.io.meshes import icosphere
from diffrast_cli.scene.mesh.chamfer import (chamfer_distance, closest_on_triangles, point_to_surface_sq,
                                                 sample_surface)


def test_closest_points_match_brute_force_and_lie_on_the_triangle():
    rng = np.random.default_rng(0)
    a, b, c = (rng.normal(size=(500, 3)) for _ in range(3))
    p = 2.0 * rng.normal(size=(500, 3))
    q = closest_on_triangles(p, a, b, c)
    # brute force: dense barycentric grid on each triangle
    u, v = np.meshgrid(np.linspace(0, 1, 81), np.linspace(0, 1, 81))
    keep = u + v <= 1
    u, v = u[keep], v[keep]
    grid = a[:, None] + u[None, :, None] * (b - a)[:, None] + v[None, :, None] * (c - a)[:, None]
    brute = ((grid - p[:, None]) ** 2).sum(-1).min(axis=1)
    got = ((q - p) ** 2).sum(-1)
    assert np.all(got <= brute + 1e-9)
    assert np.allclose(got, brute, rtol=0.05, atol=1e-3)


def test_sphere_distances_and_chamfer():
    sphere = icosphere(3, 1.0)
    pts = sample_surface(sphere.positions, sphere.faces, 300, seed=1)
    assert point_to_surface_sq(pts, sphere.positions, sphere.faces).max() < 1e-20
    far = pts * 1.5
    d = np.sqrt(point_to_surface_sq(far, sphere.positions, sphere.faces))
    assert np.allclose(d, 0.5 * np.linalg.norm(pts, axis=1), atol=0.02)
    assert chamfer_distance(sphere.positions, sphere.faces, sphere.positions, sphere.faces) < 1e-20
    bigger = icosphere(3, 1.1)
    assert abs(chamfer_distance(sphere.positions, sphere.faces, bigger.positions, bigger.faces) - 2 * 0.1 ** 2) < 3e-3
