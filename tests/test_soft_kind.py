"""The soft rasterizer scene kind (``scene.kind: soft``, docs/soft.md) on the CPU renderer: a
clean render against a numpy reference (coverage = CDF of the signed edge distance, composited
front to back), and the SGE mean of its positions and colours against central differences."""

from __future__ import annotations

import numpy as np
import pytest

from diffrast_cli.config import JobConfig
from diffrast_cli.problem import Problem
from tests.gradcheck import check_gradient
from tests.scenes import gradient_target, set_dotted
from tests.soft_reference import cdf, signed_distance
from tests.test_gradients import released

W = 40
TRIANGLES = np.array([[[-0.7, -0.6], [0.2, -0.5], [-0.3, 0.4]],
                      [[-0.1, -0.2], [0.7, 0.0], [0.3, 0.7]],
                      [[-0.6, 0.3], [0.0, 0.1], [-0.2, 0.8]]])
DEPTHS = np.array([0.2, 0.5, 0.8])
COLORS = np.array([[0.9, 0.2, 0.1], [0.1, 0.8, 0.3], [0.2, 0.3, 0.9]])


def soft_problem(device, tmp_path, extra=None, target=None) -> Problem:
    cfg = {"name": "soft", "target": {"image": "<memory>"}, "optimize": {"samples": 64},
           "render": {"resolution": [W, W], "background": [0.1, 0.1, 0.1]},
           "scene": {"kind": "soft", "triangles": len(TRIANGLES), "coverage": {"cdf": "logistic", "log_tau": -1.5}}}
    set_dotted(cfg, extra)
    return Problem(JobConfig.model_validate(cfg), tmp_path, device=device,
                   target=gradient_target(W, W) if target is None else target)


def theta_of(problem) -> np.ndarray:
    lay = problem.scene.layout
    theta = problem.theta0.copy()
    theta[lay.slice("positions")] = TRIANGLES.reshape(-1)
    theta[lay.slice("depths")] = np.repeat(DEPTHS, 3)
    theta[lay.slice("colors")] = COLORS.reshape(-1)
    return theta


def reference_image(family: str, tau: float, background) -> np.ndarray:
    """Each pixel centre's coverage by every triangle, F(d / tau) (d in NDC), at least 1/255,
    composited front to back (depth order) over the background; row 0 = top."""
    j, i = np.mgrid[0:W, 0:W]
    pts = np.stack([(i + 0.5) / W * 2 - 1, 1 - (j + 0.5) / W * 2], -1).reshape(-1, 2)
    cov = np.stack([cdf(family, signed_distance(pts, t) / tau) for t in TRIANGLES], 1)
    cov[cov < 1.0 / 255.0] = 0.0
    out = np.zeros((len(pts), 3))
    trans = np.ones(len(pts))
    for k in np.argsort(DEPTHS):
        out += (trans * cov[:, k])[:, None] * COLORS[k]
        trans *= 1.0 - cov[:, k]
    return (out + trans[:, None] * np.asarray(background)).reshape(W, W, 3)


@pytest.mark.parametrize("family,log_tau", [("logistic", -1.5), ("gaussian", -1.3), ("hermite", -1.2)])
def test_render_matches_the_numpy_reference(device, tmp_path, family, log_tau):
    extra = {"scene.coverage.cdf": family, "scene.coverage.log_tau": log_tau}
    with released(soft_problem(device, tmp_path, extra)) as problem:
        problem.estimator.upload(theta_of(problem))
        got = problem.estimator.color(0)
    ref = reference_image(family, 10.0 ** log_tau, [0.1, 0.1, 0.1])
    assert np.abs(got - ref).max() < 5e-3
    # the softness shows: tau 20 % larger is a different picture
    assert np.abs(got - reference_image(family, 1.2 * 10.0 ** log_tau, [0.1, 0.1, 0.1])).max() > 0.02


@pytest.mark.parametrize("group", ["positions", "colors"])
def test_sge_matches_finite_differences(device, tmp_path, group):
    extra = {f"scene.{g}.optimize": g == group for g in ("positions", "depths", "colors")}
    with released(soft_problem(device, tmp_path, extra)) as problem:
        check_gradient(problem, theta_of(problem), (group,), estimates=96)
