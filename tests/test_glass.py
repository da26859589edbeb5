"""Visibility strategy (b), the deep id buffer, through the estimator: the semi-transparent
test kind tests/kinds/glass (defined entirely in tests/, like tests/kinds/quads) against a
numpy compositing reference, its SGE mean against finite differences for positions,
colours and opacity, the two structures (lists, k-buffer) against each other, the node
budget's overflow flag and growth, and runs through `diffrast optimize` and the API."""

from __future__ import annotations

import json

import numpy as np
import pytest

from diffrast_cli.config import JobConfig
from diffrast_cli.errors import ConfigError
from diffrast_cli.problem import Problem
from diffrast_cli.scene import registry
from tests.gradcheck import check_gradient
from tests.kinds import registered
from tests.scenes import gradient_target, set_dotted

W = 40
GLASS_PLUGIN = "tests.kinds.glass:SPEC"
BACKGROUND = (0.1, 0.2, 0.3)


@pytest.fixture
def glass():
    with registered("glass", GLASS_PLUGIN) as spec:
        yield spec


def glass_problem(device, extra=None, target=None) -> Problem:
    cfg = {"name": "glass", "target": {"image": "<memory>"},
           "render": {"resolution": [W, W], "background": list(BACKGROUND)},
           "scene": {"kind": "glass", "triangles": 4}, "optimize": {"samples": 64}}
    set_dotted(cfg, extra)
    return Problem(JobConfig.model_validate(cfg), None, device=device,
                   target=gradient_target(W, W) if target is None else target)


def glass_theta():
    """Four overlapping triangles (two or three layers over most of the middle), no edge
    parallel to the pixel grid, opacities 0.35-0.7."""
    centres = np.array([[-0.15, -0.1], [0.15, -0.05], [0.0, 0.15], [0.05, 0.0]])
    radius = np.array([0.8, 0.75, 0.8, 0.45])
    angle = np.array([0.3, 1.1, 2.0, 0.7])[:, None] + 2 * np.pi / 3 * np.arange(3)[None, :]
    corners = centres[:, None, :] + radius[:, None, None] * np.stack([np.cos(angle), np.sin(angle)], axis=2)
    colors = np.array([[0.9, 0.2, 0.4], [0.1, 0.8, 0.3], [0.3, 0.4, 0.95], [0.95, 0.9, 0.1]])
    alphas = np.array([0.55, 0.35, 0.7, 0.45])
    logits = np.log(alphas / (1 - alphas))
    return np.concatenate([corners.reshape(-1), colors.reshape(-1), logits]).astype(np.float32)


def reference_render(theta, n, size):
    """Front-to-back 'over' at pixel centres (triangle 0 in front), over the background;
    row 0 = top. Also a mask of pixels within 0.01 px of an edge (left out) and the layers per pixel."""
    xy = theta[:6 * n].astype(np.float64).reshape(n, 3, 2)
    rgb = theta[6 * n:9 * n].astype(np.float64).reshape(n, 3)
    alpha = 1 / (1 + np.exp(-theta[9 * n:10 * n].astype(np.float64)))
    ys, xs = np.mgrid[0:size, 0:size]
    X, Y = (xs + 0.5) / size * 2 - 1, (ys + 0.5) / size * 2 - 1      # GL rows: y up
    color = np.zeros((size, size, 3))
    t = np.ones((size, size))
    near_edge = np.zeros((size, size), bool)
    layers = np.zeros((size, size), int)
    for k in range(n):
        e = []
        for i in range(3):
            a, b = xy[k, i], xy[k, (i + 1) % 3]
            length = np.hypot(*(b - a))
            e.append(((b[0] - a[0]) * (Y - a[1]) - (b[1] - a[1]) * (X - a[0])) / length)
        e = np.stack(e)
        inside = np.all(e > 0, axis=0) | np.all(e < 0, axis=0)
        near_edge |= np.any(np.abs(e) < 0.01 * 2 / size, axis=0)
        layers += inside
        w = np.where(inside, t * alpha[k], 0.0)
        color += w[..., None] * rgb[k]
        t *= np.where(inside, 1 - alpha[k], 1.0)
    color += t[..., None] * np.asarray(BACKGROUND)
    return color[::-1], near_edge[::-1], layers[::-1]


@pytest.mark.parametrize("structure", ["lists", "kbuffer"])
def test_clean_render_matches_numpy_compositing(device, glass, structure):
    problem = glass_problem(device, {"scene.structure": structure})
    try:
        assert problem.estimator.visibility.structure == structure
        theta = glass_theta()
        problem.estimator.upload(theta)
        img = problem.estimator.color(0)
        want, near_edge, layers = reference_render(theta, 4, W)
        assert near_edge.mean() < 0.05
        assert (layers >= 1).mean() > 0.3 and (layers >= 2).mean() > 0.15 and (layers >= 4).mean() > 0.04
        np.testing.assert_allclose(img[~near_edge], want[~near_edge], atol=2e-5)
    finally:
        problem.release()


def test_structures_give_the_same_gradient(device, glass):
    """Lists and k-buffer hold the same fragments here (4 layers < K), so G sees the same
    colours and contributors: bit-identical estimates with fixed-point atomics."""
    grads = {}
    for structure in ("lists", "kbuffer"):
        problem = glass_problem(device, {"scene.structure": structure, "optimize.atomics": "fixed",
                                         "optimize.samples": 8})
        try:
            problem.estimator.upload(glass_theta())
            grads[structure] = [problem.estimator.estimate_gradient(it) for it in range(2)]
        finally:
            problem.release()
    assert all(np.count_nonzero(g) > 30 for g in grads["lists"])
    assert all(np.array_equal(a, b) for a, b in zip(grads["lists"], grads["kbuffer"]))


@pytest.mark.parametrize("group", ["positions", "colors", "opacity"])
def test_glass_gradient_matches_finite_differences(device, glass, group):
    frozen = {f"scene.{g}.optimize": False for g in ("positions", "colors", "opacity") if g != group}
    problem = glass_problem(device, {**frozen, "scene.positions.eps": 4.0 / W})
    try:
        results = check_gradient(problem, glass_theta(), (group,), estimates=64)
        print(results[group].summary())
    finally:
        problem.release()


def test_node_budget_overflow_is_flagged_and_grows(device, glass):
    problem = glass_problem(device, {"scene.fragments": 0.05, "optimize.samples": 2})
    try:
        est = problem.estimator
        vis = est.visibility
        theta = glass_theta()
        est.upload(theta)
        budget = vis.deep.budget
        est.estimate_gradient(0)
        flags = est.flags()
        assert flags["visibility_overflow"] is True and vis.deep.budget > budget
        est.estimate_gradient(1)
        assert est.flags()["visibility_overflow"] is False
        want, near_edge, _ = reference_render(theta, 4, W)
        np.testing.assert_allclose(est.color(0)[~near_edge], want[~near_edge], atol=2e-5)
    finally:
        problem.release()


def test_unknown_visibility_option_is_one_line(device, glass, monkeypatch):
    from tests.kinds.glass import Glass
    monkeypatch.setattr(Glass, "visibility_options", lambda self: {"layerz": 3})
    with pytest.raises(ConfigError, match=r"^visibility deep_id: unknown option 'layerz' \(known: structure"):
        glass_problem(device)


JOB = ("name: glass\ntarget: {image: target.png}\nrender: {resolution: 32}\n"
       "scene: {kind: glass, triangles: 12, size: 0.5}\noptimize: {iterations: 40}\noutput: {log_every: 10}\n")


def test_glass_runs_end_to_end_through_the_cli(tmp_path, run_cli):
    from tests.conftest import write_target
    write_target(tmp_path / "target.png", 32, 32)
    (tmp_path / "job.yaml").write_text(JOB)
    env = {registry.ENV_VAR: GLASS_PLUGIN}
    code, out, err = run_cli("validate", tmp_path / "job.yaml", env=env)
    assert code == 0, err
    assert "12 semi-transparent triangles" in out
    code, out, err = run_cli("optimize", tmp_path / "job.yaml", "--out", tmp_path / "run", "-q", env=env,
                             timeout=180)
    assert code == 0, err
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["scene"] == "glass" and report["triangles"] == 12
    assert report["final"]["loss"] < report["initial"]["loss"]
    assert report["flags"] == {"overflow": False, "nonfinite": False, "visibility_overflow": False}
    assert 0 < report["final"]["mean_opacity"] < 1
    lines = (tmp_path / "run" / "glass.txt").read_text().splitlines()
    assert len(lines) == 12 and all(len(line.split()) == 10 for line in lines)


def test_glass_runs_through_the_api(glass):
    try:
        import diffrast
    except ImportError:   # not installed (PYTHONPATH only): the same package under its own name
        import diffrast_cli.api as diffrast
    target = gradient_target(32, 32)
    job = diffrast.load_job({"name": "glass", "render": {"resolution": 32},
                             "scene": {"kind": "glass", "triangles": 12, "size": 0.5},
                             "optimize": {"iterations": 40}, "output": {"log_every": 10}})
    result = diffrast.optimize(job, out=None, targets=target)
    assert result.out is None
    assert result.report["final"]["loss"] < 0.8 * result.report["initial"]["loss"]
    assert result.report["flags"]["visibility_overflow"] is False
    assert set(result.parameters) == {"positions", "colors", "opacity"}
    assert result.parameters["opacity"].shape == (12, 1)
    img = diffrast.render(result)
    assert img.shape == (32, 32, 3) and np.isfinite(img).all()
