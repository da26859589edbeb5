"""Displacement mapping: R's on-the-fly refinement against the numpy refinement
(scene/mesh/displacement.py) drawn as an ordinary dense mesh, and the lattice itself."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from diffrast_cli.scene.mesh.displacement import displaced_mesh, lattice
from tests.pbr_scenes import pbr_grid, pbr_problem
from tests.test_gradients import released

W = 64


@pytest.mark.parametrize("level", [1, 3, 6])
def test_lattice_covers_the_triangle_once_with_its_winding(level):
    w, tris = lattice(level)
    assert len(w) == (level + 1) * (level + 2) // 2 and tris.shape == (level * level, 3)
    a = w[tris][:, :, 1:]
    e1, e2 = a[:, 1] - a[:, 0], a[:, 2] - a[:, 0]
    area = 0.5 * (e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0])
    assert np.all(area > 0)                                   # the base triangle's winding
    np.testing.assert_allclose(area.sum(), 0.5)               # tiles the base triangle exactly
    np.testing.assert_allclose(w.sum(axis=1), 1.0)


def test_displaced_render_matches_the_numpy_refinement(device, tmp_path):
    mesh = pbr_grid(side=8, n=4, bump=0.1)
    y, x = np.mgrid[0:16, 0:16] / 16.0
    mesh.material.height = (0.5 + 0.4 * np.sin(2 * np.pi * x) * np.cos(2 * np.pi * y)).astype(np.float32)
    mesh.material.normal = None
    extra = {"scene.material": {"height": {"strength": 0.15}}, "scene.displacement": {"level": 6}}
    with released(pbr_problem(device, tmp_path, mesh, np.zeros((W, W, 3), np.float32), extra=extra)) as p:
        drawn = p.metrics(images=True)["images"][0]
    dense = displaced_mesh(mesh.positions, mesh.faces, mesh.uvs, mesh.material.height, 0.15, 0.5, 6)
    assert len(dense.faces) == 36 * len(mesh.faces)
    dense.material = replace(mesh.material, height=None)
    with released(pbr_problem(device, tmp_path, dense, np.zeros((W, W, 3), np.float32),
                              extra={"scene.material.normal": None})) as p:
        reference = p.metrics(images=True)["images"][0]
    with released(pbr_problem(device, tmp_path, replace(mesh, material=replace(mesh.material, height=None)),
                              np.zeros((W, W, 3), np.float32), extra={"scene.material.normal": None})) as p:
        flat = p.metrics(images=True)["images"][0]
    assert np.abs(flat - reference).max() > 0.1               # the displacement shows
    np.testing.assert_allclose(drawn, reference, atol=2e-3)
