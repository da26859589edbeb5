"""The soft rasterizer scene kind (``scene.kind: soft``, docs/soft.md) on the CPU renderer: clean
renders against a numpy reference (coverage = CDF of the signed edge distance; composited front
to back, or a t-conorm silhouette with z-buffer or softmax colour; the learned MLP CDF; tau
annealed), and the SGE mean of its positions, colours and (softmax) depths against central
differences."""

from __future__ import annotations

import numpy as np
import pytest

from diffrast_cli.config import JobConfig
from diffrast_cli.problem import Problem
from tests.gradcheck import check_gradient
from tests.scenes import gradient_target, set_dotted
from diffrast_cli.scene.soft import mlp
from tests.soft_reference import cdf, conorm, recorded, signed_distance
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


def reference_image(family: str, tau: float, background, **kw) -> np.ndarray:
    """Each pixel centre's coverage by every triangle, recorded(F(d / tau)) (d in NDC),
    composited front to back (depth order) over the background; row 0 = top."""
    cov = coverages(family, tau, **kw)
    out = np.zeros((len(cov), 3))
    trans = np.ones(len(cov))
    for k in np.argsort(DEPTHS):
        out += (trans * cov[:, k])[:, None] * COLORS[k]
        trans *= 1.0 - cov[:, k]
    return (out + trans[:, None] * np.asarray(background)).reshape(W, W, 3)


def coverages(family: str, tau: float, **kw) -> np.ndarray:
    """(pixels, triangles) recorded coverage at each pixel centre, row 0 = top."""
    j, i = np.mgrid[0:W, 0:W]
    pts = np.stack([(i + 0.5) / W * 2 - 1, 1 - (j + 0.5) / W * 2], -1).reshape(-1, 2)
    cov = np.stack([cdf(family, signed_distance(pts, t) / tau, **kw) for t in TRIANGLES], 1)
    cov = recorded(cov)
    return cov


def aggregated_image(cov, color, kind="probabilistic", p=1.0, gamma=1e-2, background=(0.1, 0.1, 0.1),
                     inside=float(recorded(np.array(0.5))), bg_depth=1e-3) -> np.ndarray:
    """docs/soft.md "Aggregation", in numpy: z-buffer colour under the t-conorm silhouette,
    or softmax depth weights (z = 1 - depth) with the background term."""
    bg = np.asarray(background)
    order = np.argsort(DEPTHS)
    out = np.zeros((len(cov), 3))
    for n, c in enumerate(cov):
        if color == "zbuffer":
            a = 0.0
            for k in order:
                if c[k] > 0:
                    a = float(conorm(kind, a, c[k], p))
            hit = [k for k in order if c[k] > 0 and c[k] >= inside]
            shown = hit[0] if hit else max(order, key=lambda k: c[k])
            out[n] = a * COLORS[shown] + (1 - a) * bg
        else:
            z = 1.0 - DEPTHS
            z_max = max([bg_depth] + [z[k] for k in order if c[k] > 0])
            w = c * np.exp((z - z_max) / gamma)
            w_bg = np.exp((bg_depth - z_max) / gamma)
            out[n] = (w @ COLORS + w_bg * bg) / (w.sum() + w_bg)
    return out.reshape(W, W, 3)


@pytest.mark.parametrize("color,kind,p", [("zbuffer", "einstein", 1.0), ("zbuffer", "yager", 2.0),
                                          ("zbuffer", "max", 1.0), ("softmax", "probabilistic", 1.0)])
def test_aggregation_matches_the_numpy_reference(device, tmp_path, color, kind, p):
    log_tau, log_gamma = -1.5, -1.5
    extra = {"scene.aggregate.color": color, "scene.aggregate.conorm": kind, "scene.aggregate.p": p,
             "scene.aggregate.log_gamma": log_gamma}
    with released(soft_problem(device, tmp_path, extra)) as problem:
        problem.estimator.upload(theta_of(problem))
        got = problem.estimator.color(0)
    cov = coverages("logistic", 10.0 ** log_tau)
    ref = aggregated_image(cov, color, kind, p, 10.0 ** log_gamma)
    assert np.abs(got - ref).max() < 5e-3
    # and it is not the alpha-composited picture
    assert np.abs(got - reference_image("logistic", 10.0 ** log_tau, [0.1, 0.1, 0.1])).max() > 0.02


@pytest.mark.parametrize("weights", ["default", "random"])
def test_learned_cdf_matches_the_numpy_reference(device, tmp_path, weights):
    w = mlp.default_weights()
    if weights == "random":
        w = w + np.random.default_rng(0).normal(0.0, 0.2, mlp.WEIGHTS)
    assert 0.0 < mlp.band_taus(w) * 10 ** -1.5 < 16 * 2 / W     # the band R draws holds every coverage
    extra = {"scene.coverage.cdf": "mlp", "scene.coverage.mlp": [float(v) for v in w], "scene.coverage.log_tau": -1.5}
    with released(soft_problem(device, tmp_path, extra)) as problem:
        problem.estimator.upload(theta_of(problem))
        got = problem.estimator.color(0)
    ref = reference_image("mlp", 10 ** -1.5, [0.1, 0.1, 0.1], w=w)
    assert np.abs(got - ref).max() < 5e-3


def test_tau_is_annealed_over_the_run(device, tmp_path):
    extra = {"scene.coverage.log_tau_final": -1.0, "optimize.iterations": 5}
    with released(soft_problem(device, tmp_path, extra)) as problem:
        est = problem.estimator
        assert problem.scene.softness.settings(4)["tau"] == pytest.approx(0.1)
        assert problem.scene.softness.settings(2)["tau"] == pytest.approx(10 ** -1.25)
        est.upload(theta_of(problem))
        start = est.color(0)
        est.render(4, est.copies, clean=False)       # the last iteration's R sets its tau
        end = est.color(0)
    assert np.abs(start - reference_image("logistic", 10 ** -1.5, [0.1] * 3)).max() < 5e-3
    assert np.abs(end - reference_image("logistic", 0.1, [0.1] * 3)).max() < 5e-3


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


@pytest.mark.parametrize("group,color", [("positions", "composite"), ("colors", "composite"),
                                         ("depths", "softmax"), ("positions", "zbuffer")])
def test_sge_matches_finite_differences(device, tmp_path, group, color):
    extra = {f"scene.{g}.optimize": g == group for g in ("positions", "depths", "colors")}
    extra.update({"scene.aggregate.color": color, "scene.aggregate.log_gamma": -1.5, "scene.gradient": "sge"})
    with released(soft_problem(device, tmp_path, extra)) as problem:
        theta = theta_of(problem)
        if color == "zbuffer":     # one colour: the shown fragment's switch at an edge is a jump
            theta[problem.scene.layout.slice("colors")] = 0.8
        check_gradient(problem, theta, (group,), estimates=96)


EXACT_CASES = [("composite", "probabilistic", "logistic"), ("composite", "probabilistic", "gaussian"),
               ("zbuffer", "einstein", "logistic"), ("zbuffer", "dombi", "hermite"), ("zbuffer", "max", "laplace"),
               ("softmax", "probabilistic", "logistic"), ("softmax_silhouette", "hamacher", "laplace"),
               ("softmax_silhouette", "einstein", "mlp")]


@pytest.mark.parametrize("color,conorm,cdf", EXACT_CASES)
def test_exact_gradients_match_finite_differences(device, tmp_path, color, conorm, cdf):
    """scene.gradient: analytic (the default): positions and colours exact, against central
    differences (2 x 2 samples per pixel: the band's nearest-edge kinks and the discrete
    z-buffer choice average out; one colour for the z-buffer, whose shown fragment switches;
    gamma 1: at 0.1 a softmax pixel swings most of a colour within one step and central
    differences measure a secant, 0.88-1.06x the derivative)."""
    extra = {"scene.depths.optimize": False, "scene.aggregate.color": color, "scene.aggregate.conorm": conorm,
             "scene.aggregate.p": 2.0 if conorm in ("yager", "dombi", "hamacher") else 1.0,
             "scene.aggregate.log_gamma": 0.0, "scene.coverage.cdf": cdf, "optimize.samples": 1,
             "render.supersample": 2}
    with released(soft_problem(device, tmp_path, extra)) as problem:
        assert problem.scene.exact == {"positions", "colors"}
        theta = theta_of(problem)
        if color == "zbuffer":
            theta[problem.scene.layout.slice("colors")] = np.repeat([[0.8, 0.5, 0.3]], len(TRIANGLES), 0).reshape(-1)
            groups = ("positions",)
        else:
            groups = ("positions", "colors")
        check_gradient(problem, theta, groups, estimates=2, max_scale_se=1.0)


def test_exact_gradients_stay_in_range_at_256(device, tmp_path):
    """A large triangle's exact colour and corner derivatives sum over thousands of pixels: in
    the CPU renderer's fixed-point accumulators they overflowed at 128² before the soft kind's
    smaller ANALYTIC_GAIN; at 256² they match central differences and raise no flag."""
    extra = {"scene.depths.optimize": False, "render.resolution": [256, 256], "optimize.samples": 1}
    with released(soft_problem(device, tmp_path, extra, target=np.zeros((256, 256, 3), np.float32))) as problem:
        check_gradient(problem, theta_of(problem), ("positions", "colors"), estimates=2, max_scale_se=1.0)
        assert not problem.estimator.flags()["overflow"]
