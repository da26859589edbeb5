"""Soup resampling (scene.resample): the GPU passes against a numpy reference of the rule,
the seen pass, a run that converges at least as well as without, bit-identical resume,
and nothing at all when it is off."""

import json
import os

import numpy as np
import pytest

from diffrast_cli.checkpoint import CHECKPOINT, PREVIOUS, load_checkpoint
from diffrast_cli.jobfile import load_job
from diffrast_cli.pipeline import run_job
from diffrast_cli.sge import rng
from tests.scenes import gradient_target, make_problem
from tests.test_resume import QUICK, ROOT, _metrics

N = 300


def _problem(device, **resample):
    extra = {f"scene.resample.{k}": v for k, v in {"every": 1000, **resample}.items()}
    extra["scene.init.size"] = 0.15
    return make_problem(device, gradient_target(48, 40), triangles=N, seed=3, extra=extra)


def _areas(est, theta, n):
    lay = est.layout
    xyz = np.concatenate([theta[lay.slice("positions")].reshape(n, 3, 2),
                          theta[lay.slice("depths")].reshape(n, 3, 1)], axis=2).astype(np.float64)
    clip = np.concatenate([xyz, np.ones((n, 3, 1))], axis=2) @ est.views.view_proj[0].astype(np.float64).T
    w, h = est.size
    s = clip[..., :2] / clip[..., 3:] * np.array([0.5 * w, 0.5 * h])
    e1, e2 = s[:, 1] - s[:, 0], s[:, 2] - s[:, 0]
    area = 0.5 * np.abs(e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0])
    return np.where((clip[..., 3] > 0).all(axis=1), area, 0.0), s


def resample_ref(est, theta, moments, last_seen, births, it, cfg):
    """The rule of resample.comp in numpy: which triangles move, and where to."""
    n, lay = N, est.layout
    theta, moments = theta.copy(), moments.copy().reshape(-1, 2)
    last_seen, births = last_seen.copy(), births.copy()
    area, screen = _areas(est, theta, n)
    invalid = ((it - last_seen.astype(np.int64)) >= cfg["unseen"]) | (area < cfg["min_area"])
    donor = ~invalid & (area >= 2 * cfg["min_area"]) & (area > 0)
    inv, don = np.flatnonzero(invalid), np.flatnonzero(donor)
    J = cfg["candidates"]
    pairs = min(len(inv), len(don) // J)
    off = int(rng.pcg_hash(rng.pcg_hash(est.seed ^ 0x2545F491) ^ it)) % max(len(don), 1)
    pos, dep, col = (lay[g] for g in ("positions", "depths", "colors"))
    moves = []
    for k in range(pairs):
        cands = [don[(k + j * pairs + off) % len(don)] for j in range(J)]
        d = cands[int(np.argmax(area[cands]))]
        c = inv[k]
        xyz = np.concatenate([theta[pos.offset + 6 * d:pos.offset + 6 * d + 6].reshape(3, 2),
                              theta[dep.offset + 3 * d:dep.offset + 3 * d + 3].reshape(3, 1)], axis=1)
        lengths = [np.sum((screen[d, (e + 1) % 3] - screen[d, e]) ** 2) for e in range(3)]
        e = int(np.argmax(lengths))
        kb = (e + 1) % 3
        m = (xyz[e] + xyz[kb]) * np.float32(0.5)
        child, parent = xyz.copy(), xyz.copy()
        child[e], parent[kb] = m, m
        for t, v in ((c, child), (d, parent)):
            theta[pos.offset + 6 * t:pos.offset + 6 * t + 6] = v[:, :2].reshape(-1)
            theta[dep.offset + 3 * t:dep.offset + 3 * t + 3] = v[:, 2]
        theta[col.offset + 3 * c:col.offset + 3 * c + 3] = theta[col.offset + 3 * d:col.offset + 3 * d + 3]
        for t in (c, d):
            for g in (pos, dep, col):
                moments[g.offset + g.stride * t:g.offset + g.stride * (t + 1)] = 0.0
            births[t] = last_seen[t] = it
        moves.append((c, d))
    return theta, moments.reshape(-1), last_seen, births, moves, invalid


def test_resample_pass_matches_the_numpy_rule(device):
    cfg = {"unseen": 20, "min_area": 3.0, "candidates": 3}
    problem = _problem(device, **cfg)
    try:
        est = problem.estimator
        r = np.random.default_rng(7)
        theta = problem.theta0.copy()
        est.upload(theta)
        area, _ = _areas(est, theta, N)
        near = np.minimum(np.abs(area - 3.0), np.abs(area - 6.0))
        assert near.min() > 1e-3                        # no area on a threshold: float32 and numpy agree
        moments = r.normal(size=2 * len(theta)).astype(np.float32)
        est.adam.moments.write(moments.tobytes())
        it = 100
        last_seen = r.choice([it - 40, it - 20, it - 19, it - 1, it], N).astype(np.uint32)
        births = r.integers(0, 50, N).astype(np.uint32)
        est.declared.buffers["LAST_SEEN"].write(last_seen.tobytes())
        est.relayout.births.write(births.tobytes())
        est.post_step[0].resample(it)
        want = resample_ref(est, theta, moments, last_seen, births, it, cfg)
        w_theta, w_moments, w_seen, w_births, moves, invalid = want
        # not vacuous: some triangles are unseen, some too small, more are invalid than get placed
        assert 10 < len(moves) < invalid.sum()
        assert (area[invalid] < 3.0).any() and (area[invalid] >= 3.0).any()
        got = est.state()
        np.testing.assert_allclose(got["params"], w_theta, rtol=0, atol=1e-6)
        changed = np.flatnonzero(np.abs(w_theta - theta) > 0)
        assert np.array_equal(np.flatnonzero(np.abs(got["params"] - theta) > 0), changed)
        assert np.array_equal(got["moments"], w_moments)
        assert np.array_equal(got["births"], w_births)
        assert np.array_equal(got["scene_LAST_SEEN"].view(np.uint32), w_seen)
        # both halves of a split keep their area sum and the donor's colour
        new_area, _ = _areas(est, got["params"], N)
        for c, d in moves:
            assert new_area[c] + new_area[d] == pytest.approx(area[d], rel=1e-4)
            assert new_area[c] == pytest.approx(area[d] / 2, rel=1e-3)
    finally:
        problem.release()


def test_seen_pass_marks_triangles_with_a_nonzero_accumulator(device):
    problem = _problem(device, unseen=20)
    try:
        est = problem.estimator
        est.upload(problem.theta0)
        est.step(0, 1.0)
        acc = np.frombuffer(est.accum.read(), np.int32).reshape(est.pairs, -1)
        seen = (acc != 0).any(axis=0)
        assert 0 < seen.sum() < N
        for hook in est.post_step_hooks:
            hook(1)
        last = est.state()["scene_LAST_SEEN"].view(np.uint32)
        assert np.array_equal(last, np.where(seen, 1, 0))
    finally:
        problem.release()


def test_off_adds_nothing(device):
    problem = make_problem(device, gradient_target(16, 16), triangles=10)
    try:
        est = problem.estimator
        assert est.post_step_hooks == () and est.relayout is None and not est.declared.buffers
        assert "ELEMENT_BIRTHS" not in est.defines
        assert set(est.state()) == {"params", "moments", "order"}
    finally:
        problem.release()


RESAMPLE = ["scene.resample.every=10", "scene.resample.unseen=10", "scene.resample.min_area=1.0"]


def _job(*extra):
    return load_job(ROOT / "configs" / "quickstart.yaml", QUICK + list(extra))


def test_a_run_with_resampling_fits_at_least_as_well(tmp_path):
    sets = ["optimize.iterations=300", "output.log_every=100", "scene.init.size=0.05"]
    off = run_job(*_job(*sets), tmp_path / "off", quiet=True)
    on = run_job(*_job(*sets, *RESAMPLE), tmp_path / "on", quiet=True)
    assert on["final"]["loss"] <= off["final"]["loss"], (on["final"], off["final"])
    state = load_checkpoint(tmp_path / "on")[0].state
    assert (state["births"] > 0).sum() > 10           # triangles were re-placed


def test_resume_with_resampling_is_bit_identical(tmp_path):
    job, base = _job("optimize.iterations=40", "output.checkpoint_every=10", *RESAMPLE)
    full = run_job(job, base, tmp_path / "full", quiet=True)
    part = tmp_path / "part"
    run_job(job, base, part, quiet=True)
    os.replace(part / PREVIOUS, part / CHECKPOINT)
    ckpt, _ = load_checkpoint(part)
    assert ckpt.iteration == 30 and (ckpt.state["births"] > 0).any()
    resumed = run_job(job, base, part, quiet=True, resume=True)
    assert resumed["resumed_from"] == 30 and resumed["final"] == full["final"]
    a, b = load_checkpoint(tmp_path / "full")[0].state, load_checkpoint(part)[0].state
    assert set(a) == set(b) >= {"params", "moments", "births", "counts", "scene_LAST_SEEN"}
    for k in a:
        assert np.array_equal(a[k], b[k]), k
    assert _metrics(part) == _metrics(tmp_path / "full")


def test_bad_resample_config_names_the_key(job_file, run_cli):
    code, _, err = run_cli("optimize", job_file, "--set", "scene.resample.every=-5", "--quiet")
    assert code == 2 and "scene.resample.every" in err and len(err.strip().splitlines()) == 1, err
