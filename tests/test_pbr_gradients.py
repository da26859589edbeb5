"""PBR maps against central finite differences (tests/gradcheck.py): base colour, roughness,
metallic and normal maps, each optimised alone, by exact derivatives of the shading
(gradient: analytic, the default) and by the estimator (gradient: sge)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.gradcheck import check_gradient, loss_of
from tests.pbr_scenes import pbr_grid, pbr_problem
from tests.scenes import gradient_target
from tests.test_gradients import released, tilted_grid

W = 40
MAPS = ("base_color", "roughness", "metallic", "normal")


def _extra(group, mode, **more):
    cfg = {"optimize.samples": 64, "scene.positions.optimize": False}
    for m in MAPS:
        cfg[f"scene.material.{m}.optimize"] = m == group
    cfg[f"scene.material.{group}.gradient"] = mode
    cfg[f"scene.material.{group}.eps"] = 0.03
    cfg.update(more)
    return cfg


@pytest.mark.parametrize("group", MAPS)
def test_pbr_maps_analytic(device, tmp_path, group):
    problem = pbr_problem(device, tmp_path, pbr_grid(), gradient_target(W, W), extra=_extra(group, "analytic"))
    with released(problem):
        est = problem.estimator
        s = problem.scene.layout.slice(group)
        a, b = est.estimate_gradient(0)[s], est.estimate_gradient(1)[s]
        assert np.abs(a).max() > 0
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6 * np.abs(a).max())   # no sign-draw noise
        check_gradient(problem, problem.theta0.copy(), (group,), estimates=4)


@pytest.mark.parametrize("group", ["base_color", "metallic", "normal"])
def test_pbr_map_pyramids(device, tmp_path, group):
    """levels: 3 -- the map is the sum of three levels (scene/material/pyramid.py); every
    level's texels get the exact derivative through their own bilinear footprint."""
    problem = pbr_problem(device, tmp_path, pbr_grid(side=8), gradient_target(W, W),
                          extra=_extra(group, "analytic", **{f"scene.material.{group}.levels": 3,
                                                             f"scene.material.{group}.level_every": 10}))
    with released(problem):
        layout = problem.scene.layout
        names = (group, f"{group}_level1", f"{group}_level2")
        stride = {"base_color": 3, "metallic": 1, "normal": 2}[group]
        assert [layout[n].count for n in names] == [stride * 64, stride * 16, stride * 4]
        theta = problem.theta0.copy()
        rng = np.random.default_rng(0)
        for n in names[:2]:                   # the coarsest holds the initial map; give the others values
            s = layout.slice(n)
            theta[s] = rng.normal(0.0, 0.05, s.stop - s.start)
        check_gradient(problem, theta, names, estimates=2)


@pytest.mark.parametrize("group", MAPS)
def test_pbr_maps_sge(device, tmp_path, group):
    problem = pbr_problem(device, tmp_path, pbr_grid(), gradient_target(W, W), extra=_extra(group, "sge"))
    with released(problem):
        check_gradient(problem, problem.theta0.copy(), (group,), estimates=48)


DISPLACED_LIGHTS = [[{"type": "directional", "direction": [0.6, 0.3, 1.0], "intensity": 2.5},
                     {"type": "ambient", "intensity": 0.2}]]


def displaced_grid():
    mesh = pbr_grid(side=6, n=4, bump=0.1)
    y, x = np.mgrid[0:8, 0:8] / 8.0
    mesh.material.height = (0.5 + 0.3 * np.sin(2 * np.pi * x) * np.cos(2 * np.pi * y)).astype(np.float32)
    mesh.material.normal = None
    return mesh


def _displaced_extra(group, level=4):
    cfg = {"optimize.samples": 64, "scene.material": {"height": {"strength": 0.2}}, "scene.displacement": {"level": level},
           "scene.shading.normals": "face"}
    for m in ("base_color", "roughness", "metallic"):
        cfg[f"scene.material.{m}.optimize"] = False
    cfg["scene.material"]["height"]["optimize"] = group == "height"
    cfg["scene.positions.optimize"] = group == "positions"
    if group == "positions":
        cfg["scene.positions.eps"] = 0.08
    return cfg


def test_displaced_height_texels(device, tmp_path):
    """Height texels move the displaced surface: SGE with the 3 corners' height footprints
    as contributors, against central differences."""
    problem = pbr_problem(device, tmp_path, displaced_grid(), gradient_target(W, W), extra=_displaced_extra("height"),
                          lights=[[{"type": "directional", "direction": [0.6, 0.3, 1.0], "intensity": 2.5}]])
    with released(problem):
        check_gradient(problem, problem.theta0.copy(), ("height",), estimates=48)


def test_displaced_vertex_positions(device, tmp_path):
    """Base vertices under displacement: gradients land on the base mesh's vertices. The
    displacement direction (vertex normals of the clean geometry) is held as SGE holds it."""
    mesh = displaced_grid()
    turned = tilted_grid(n=4, bump=0.1)        # edges not along the pixel grid (see test_gradients.tilted_grid)
    mesh.positions = turned.positions
    mesh.material.roughness[:] = 0.9       # broad highlights: the shading of moved facets stays near linear
    mesh.material.metallic[:] = 0.0
    problem = pbr_problem(device, tmp_path, mesh, gradient_target(W, W),
                          extra=_displaced_extra("positions", level=1), lights=DISPLACED_LIGHTS)
    with released(problem):
        scene, est = problem.scene, problem.estimator
        theta = problem.theta0.copy()
        est.upload(theta)
        est.evaluate()                                  # vertex normals of theta0, computed once
        base = loss_of(problem)

        def frozen(t):
            scene.normals_frozen = True
            try:
                return base(t)
            finally:
                scene.normals_frozen = False
        check_gradient(problem, theta, ("positions",), estimates=128, loss=frozen)
