"""The soft rasterizer over an indexed mesh (``scene.kind: soft_mesh``, docs/soft.md) on the CPU
renderer: the clean render of a small white grid against a numpy reference (each pixel's
coverage by every projected face, folded by the t-conorm), and the SGE mean of the shared
vertex positions against central differences."""

from __future__ import annotations

import numpy as np
import pytest

from tests.gradcheck import check_gradient
from tests.mesh_scenes import grid_mesh, mesh_problem
from tests.scenes import gradient_target
from tests.soft_reference import cdf, conorm, recorded, signed_distance
from tests.test_gradients import released

W = 40
SOFT = {"scene.kind": "soft_mesh", "scene.shading.model": "unlit", "scene.shading.normals": "smooth",
        "scene.coverage.log_tau": -1.5, "scene.aggregate.color": "zbuffer", "render.background": [0.0, 0.0, 0.0]}


def white_grid():
    mesh = grid_mesh(3, size=0.6, bump=0.0)
    mesh.texture = np.ones_like(mesh.texture)
    return mesh


def reference_silhouette(view_proj: np.ndarray, mesh, kind: str, tau: float) -> np.ndarray:
    h = np.c_[mesh.positions, np.ones(len(mesh.positions))] @ view_proj.T
    ndc = h[:, :2] / h[:, 3:]
    j, i = np.mgrid[0:W, 0:W]
    pts = np.stack([(i + 0.5) / W * 2 - 1, 1 - (j + 0.5) / W * 2], -1).reshape(-1, 2)
    a = np.zeros(len(pts))
    for f in mesh.faces:
        c = cdf("logistic", signed_distance(pts, ndc[f]) / tau)
        c = recorded(c)
        a = conorm(kind, a, c)
    return a.reshape(W, W)


@pytest.mark.parametrize("kind", ["einstein", "probabilistic"])
def test_render_matches_the_numpy_reference(device, tmp_path, kind):
    mesh = white_grid()
    with released(mesh_problem(device, tmp_path, mesh, np.zeros((W, W, 3), np.float32),
                               extra={**SOFT, "scene.aggregate.conorm": kind})) as problem:
        got = problem.estimator.color(0)
        view_proj = problem.views.view_proj[0]
    ref = reference_silhouette(view_proj, mesh, kind, 10 ** -1.5)
    assert np.abs(got[..., 0] - ref).max() < 5e-3
    assert (ref > 0.02).mean() > (ref > 0.98).mean() + 0.1      # the soft band is part of the picture


def test_sge_matches_finite_differences(device, tmp_path):
    mesh = white_grid()
    with released(mesh_problem(device, tmp_path, mesh, gradient_target(W, W),
                               extra={**SOFT, "optimize.samples": 64})) as problem:
        check_gradient(problem, problem.theta0.copy(), ("positions",), estimates=96)
