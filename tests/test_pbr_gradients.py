"""PBR maps against central finite differences (tests/gradcheck.py): base colour, roughness,
metallic and normal maps, each optimised alone, by exact derivatives of the shading
(gradient: analytic, the default) and by the estimator (gradient: sge)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.gradcheck import check_gradient
from tests.pbr_scenes import pbr_grid, pbr_problem
from tests.scenes import gradient_target
from tests.test_gradients import released

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


@pytest.mark.parametrize("group", MAPS)
def test_pbr_maps_sge(device, tmp_path, group):
    problem = pbr_problem(device, tmp_path, pbr_grid(), gradient_target(W, W), extra=_extra(group, "sge"))
    with released(problem):
        check_gradient(problem, problem.theta0.copy(), (group,), estimates=48)
