"""Splat densification (scene.densify): the GPU relocation against a numpy reference of the
rule (clone and split), nothing changes when no splat is dead, the opacity reset, bit-identical
resume, nothing at all when it is off, and config errors."""

import os

import numpy as np
import pytest

from diffrast_cli.checkpoint import CHECKPOINT, PREVIOUS, load_checkpoint
from diffrast_cli.config import JobConfig
from diffrast_cli.jobfile import load_job
from diffrast_cli.pipeline import run_job
from diffrast_cli.problem import Problem
from diffrast_cli.sge import rng
from tests.scenes import gradient_target, set_dotted
from tests.test_gradients import released
from tests.test_resume import ROOT, _metrics

N = 200
IT = 100
LOG_SPLIT = np.log(1.6)


def _problem(device, **densify):
    cfg = {"name": "t", "seed": 5, "target": {"image": "<memory>"},
           "render": {"resolution": [40, 32], "projection": "perspective",
                      "camera": {"position": [0, 0, 4], "look_at": [0, 0, 0], "fov_y": 40}},
           "scene": {"kind": "splats", "count": N, "init": {"extent": [1.2, 1.0, 0.2], "opacity": 0.5}}}
    set_dotted(cfg, {f"scene.densify.{k}": v for k, v in {"every": 1000, **densify}.items()})
    return Problem(JobConfig.model_validate(cfg), None, device=device, target=gradient_target(40, 32))


def _u32(x):
    return int(np.uint64(x) & np.uint64(0xFFFFFFFF))


def _h(v):
    return int(rng.pcg_hash(_u32(v)))


def _normal3(seed, it, s):
    key = _h(_h(seed ^ 0x6A09E667) ^ it)
    h0 = _h(_h(key ^ _u32(s * 0x9E3779B9)))
    h1 = _h(h0)
    h2 = _h(h1)
    h3 = _h(h2)
    u = [((h >> 8) + 0.5) / 16777216.0 for h in (h0, h1, h2, h3)]
    r0, r1 = np.sqrt(-2 * np.log(u[0])), np.sqrt(-2 * np.log(u[2]))
    return np.array([r0 * np.cos(2 * np.pi * u[1]), r0 * np.sin(2 * np.pi * u[1]), r1 * np.cos(2 * np.pi * u[3])])


def _frame(q, logs):
    q = q / np.linalg.norm(q)
    w, x, y, z = q
    r = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                  [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                  [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])
    return r @ np.diag(np.exp(logs))


def _logit(o):
    o = np.clip(o, 1e-6, 1 - 1e-6)
    return np.log(o / (1 - o))


def relocate_ref(est, theta, last_seen, weights, cfg, pixel):
    """The rule of densify.comp in numpy, given the GPU's quantised weights: the parameters
    after the event, the re-placed splats and their donors."""
    lay = est.layout
    el = {g.name: theta[lay.slice(g.name)].reshape(N, g.stride).astype(np.float64) for g in lay.groups}
    o = 1 / (1 + np.exp(-el["opacity"][:, 0]))
    dead = ((IT - last_seen.astype(np.int64)) >= cfg["unseen"]) | (o < cfg["min_opacity"])
    dead_all = np.flatnonzero(dead)
    budget = int(np.floor(np.float32(cfg["budget"]) * np.float32(N - len(dead_all))))
    dead_list = dead_all[:min(len(dead_all), budget)]
    pos = np.concatenate([[0], np.cumsum(weights.astype(np.int64))[:-1]])
    total = int(weights.astype(np.int64).sum())
    key = _h(_h(est.seed ^ 0x6A09E667) ^ IT)
    donors = []
    for k in range(len(dead_list)):
        u = _h(key ^ _u32(k * 0x85EBCA6B)) % total
        donors.append(int(np.searchsorted(pos, u, side="right") - 1))
    copies = np.bincount(donors, minlength=N)
    out = {k: v.copy() for k, v in el.items()}
    split_px = cfg.get("split_pixels", 0.0)

    def place(s, d, resample):
        m = _frame(el["rotations"][d], el["scales"][d])
        split = split_px > 0 and np.exp(el["scales"][d].max()) > split_px * pixel
        if resample or split:
            out["positions"][s] = el["positions"][d] + m @ _normal3(est.seed, IT, s)
        if split:
            out["scales"][s] = el["scales"][d] - LOG_SPLIT
        if not split:
            out["opacity"][s] = _logit(1 - (1 - o[d]) ** (1 / (copies[d] + 1)))
        return split

    splits = []
    for k, c in enumerate(dead_list):
        for name in out:
            out[name][c] = el[name][donors[k]]
        splits.append(place(c, donors[k], True))
    for d in np.flatnonzero(copies):
        place(d, d, False)
    new = np.concatenate([out[g.name].reshape(-1) for g in lay.groups]).astype(np.float32)
    return new, dead_list, np.array(donors), np.array(splits, bool), len(dead_all)


@pytest.mark.parametrize("split_pixels, budget", [(0.0, 1.0), (1.0, 0.2)])
def test_relocation_matches_the_numpy_rule(device, split_pixels, budget):
    cfg = {"unseen": 20, "min_opacity": 0.05, "split_pixels": split_pixels, "budget": budget}
    with released(_problem(device, **cfg)) as problem:
        est, lay = problem.estimator, problem.estimator.layout
        r = np.random.default_rng(11)
        theta = problem.theta0.copy()
        logits = r.choice([-4.0, -1.0, 0.5, 2.0, 3.0], N) + r.uniform(-0.2, 0.2, N)   # o(-2.94) = 0.05: none near
        theta[lay.slice("opacity")] = logits.astype(np.float32)
        theta[lay.slice("scales")] += r.uniform(-1.0, 1.0, 3 * N).astype(np.float32)
        est.upload(theta)
        pixel = est.scene.pixel
        big = np.exp(theta[lay.slice("scales")].reshape(N, 3).max(axis=1)) / pixel
        assert np.abs(big - 1.0).min() > 1e-3                  # no splat on the split threshold
        moments = r.normal(size=2 * len(theta)).astype(np.float32)
        est.adam.moments.write(moments.tobytes())
        last_seen = r.choice([IT - 40, IT - 20, IT - 19, IT - 1, IT, IT, IT], N).astype(np.uint32)
        births = r.integers(0, 50, N).astype(np.uint32)
        b = est.declared.buffers
        b["LAST_SEEN"].write(last_seen.tobytes())
        b["LOSS"].write(r.uniform(0, 1, N).astype(np.float32).tobytes())
        est.relayout.births.write(births.tobytes())
        est.post_step[0].relocate(IT)
        got = est.state()
        weights = np.frombuffer(b["DZ_WEIGHT"].read(), np.uint32)
        o = 1 / (1 + np.exp(-logits))
        want_w = np.round(o / o[weights > 0].max() * 65536)
        live = weights > 0
        assert np.abs(weights[live] - want_w[live]).max() <= 1        # opacity-proportional weights
        w_theta, dead, donors, splits, n_dead = relocate_ref(est, theta, last_seen, weights, cfg, pixel)
        assert 10 < len(dead) and not live[dead].any() and live[donors].all()
        assert (len(dead) == n_dead) == (budget == 1.0)            # the budget binds in the second case
        if split_pixels:
            assert splits.any() and not splits.all()
        np.testing.assert_allclose(got["params"], w_theta, rtol=2e-5, atol=2e-5)
        changed = np.flatnonzero(np.abs(w_theta - theta) > 0)
        assert np.array_equal(np.flatnonzero(got["params"] != theta), changed)
        touched = np.union1d(dead, donors)
        want_m = moments.reshape(-1, 2).copy()
        elem = np.zeros(len(theta), np.int64)
        for g in lay.groups:
            elem[lay.slice(g.name)] = np.repeat(np.arange(N), g.stride)
        want_m[np.isin(elem, touched)] = 0
        assert np.array_equal(got["moments"], want_m.reshape(-1))
        want_b, want_s = births.copy(), last_seen.copy()
        want_b[touched] = want_s[touched] = IT
        assert np.array_equal(got["births"], want_b)
        assert np.array_equal(got["scene_LAST_SEEN"].view(np.uint32), want_s)
        assert not got["scene_LOSS"].view(np.float32).any()
        assert got["counts"][1] == n_dead and got["counts"][3] == 0
        # a clone's copies composite like the donor: 1 - (1 - o')^(copies + 1) = o
        new_o = 1 / (1 + np.exp(-got["params"][lay.slice("opacity")].astype(np.float64)))
        for d in np.unique(donors[~splits]):
            k = 1 + (donors == d).sum()
            assert 1 - (1 - new_o[d]) ** k == pytest.approx(o[d], rel=1e-4)


def test_nothing_changes_when_no_splat_is_dead(device):
    with released(_problem(device, unseen=20)) as problem:
        est = problem.estimator
        est.upload(problem.theta0)
        moments = np.random.default_rng(2).normal(size=2 * len(problem.theta0)).astype(np.float32)
        est.adam.moments.write(moments.tobytes())
        est.declared.buffers["LAST_SEEN"].write(np.full(N, IT - 3, np.uint32).tobytes())
        before = est.state()
        est.post_step[0].relocate(IT)
        after = est.state()
        for k in ("params", "moments", "births", "scene_LAST_SEEN"):
            assert np.array_equal(before[k], after[k]), k
        assert after["counts"][1] == 0


def test_seen_pass_and_opacity_reset(device):
    with released(_problem(device, every=0, reset_every=10, reset_opacity=0.02)) as problem:
        est, lay = problem.estimator, problem.estimator.layout
        theta = problem.theta0.copy()
        theta[lay.slice("opacity")] = np.linspace(-6, 6, N, dtype=np.float32)
        est.upload(theta)
        est.step(0, 1.0)
        acc = np.frombuffer(est.accum.read(), np.int32).reshape(est.pairs, -1) != 0   # 0 as int or float
        # seen: a splat's own slot (f+ - f-), its exact opacity slot or its five screen slots
        scene = problem.scene
        opacity = lay.groups[[g.name for g in lay.groups].index("opacity")].contrib_base
        seen = (acc[:, :N] | acc[:, opacity:opacity + N]
                | acc[:, scene.screen_base:scene.screen_base + 5 * N].reshape(-1, N, 5).any(axis=2)).any(axis=0)
        assert 0 < seen.sum() < N
        assert not acc[:, :N].any()     # every gradient is exact here: nothing perturbed
        before = est.state()["params"][lay.slice("opacity")]
        est.post_step[0].run(10)
        got = est.state()
        reset = np.float32(np.log(0.02 / 0.98))
        assert np.array_equal(got["params"][lay.slice("opacity")], np.minimum(before, reset))
        assert np.array_equal(got["scene_LAST_SEEN"].view(np.uint32), np.where(seen, 10, 0))
        logit = got["params"][lay.slice("opacity")]
        assert logit.max() <= np.float32(np.log(0.02 / 0.98)) + 1e-6
        assert (logit < np.log(0.02 / 0.98) - 0.5).any()


def test_off_adds_nothing(device):
    with released(_problem(device, every=0)) as problem:
        est = problem.estimator
        assert est.post_step_hooks == () and est.relayout is None and set(est.declared.buffers) == {"QUADS", "PROJECTED"}


DENSIFY = ["scene.densify.every=10", "scene.densify.unseen=5", "scene.densify.min_opacity=0.3",
           "scene.densify.split_pixels=3", "scene.densify.reset_every=20", "scene.densify.reset_opacity=0.4"]
QUICK = ["render.resolution=32", "scene.count=300", "output.log_every=10", "output.frames=2",
         "scene.init.opacity=0.29"]    # a few splats fall under min_opacity 0.3 early: re-placements happen


def test_resume_with_densification_is_bit_identical(tmp_path):
    job, base = load_job(ROOT / "configs" / "splats_image.yaml",
                         QUICK + ["optimize.iterations=40", "output.checkpoint_every=10", *DENSIFY])
    full = run_job(job, base, tmp_path / "full", quiet=True)
    part = tmp_path / "part"
    run_job(job, base, part, quiet=True)
    os.replace(part / PREVIOUS, part / CHECKPOINT)
    ckpt, _ = load_checkpoint(part)
    assert ckpt.iteration == 30 and (ckpt.state["births"] > 0).any()
    resumed = run_job(job, base, part, quiet=True, resume=True)
    assert resumed["resumed_from"] == 30 and resumed["final"] == full["final"]
    a, b = load_checkpoint(tmp_path / "full")[0].state, load_checkpoint(part)[0].state
    assert set(a) == set(b) >= {"params", "moments", "births", "counts", "scene_LAST_SEEN", "scene_LOSS"}
    for k in a:
        assert np.array_equal(a[k], b[k]), k
    assert _metrics(part) == _metrics(tmp_path / "full")


@pytest.mark.parametrize("setting, key", [
    ("scene.densify.every=-1", "scene.densify.every"),
    ("scene.densify.signal=gradient", "scene.densify.signal"),
    ("scene.densify.min_opacity=1.5", "scene.densify.min_opacity"),
    ("scene.densify.stop=-2", "scene.densify.stop"),
    ("scene.densify.shrink=0", "scene.densify.shrink"),
])
def test_bad_densify_config_names_the_key(run_cli, setting, key):
    code, _, err = run_cli("optimize", str(ROOT / "configs" / "splats_image.yaml"), "--set", setting, "--quiet")
    assert code == 2 and key in err and len(err.strip().splitlines()) == 1, err


def test_densify_window_errors():
    from diffrast_cli.scene.splats.config import SplatDensify
    with pytest.raises(ValueError, match="stop"):
        SplatDensify(every=10, start=100, stop=50)
    with pytest.raises(ValueError, match="reset_opacity"):
        SplatDensify(every=10, reset_every=100, reset_opacity=0.004)
