"""The core of layouts that change (sge/relayout.py): the GPU prefix sum, compaction of
parameters, moments, births and per-element state against numpy, and Adam's per-element
bias correction after a reset."""

import numpy as np
import pytest

from diffrast_cli.gl import bindings as B
from diffrast_cli.scene.params import ParamGroup, ParamLayout
from diffrast_cli.sge.relayout import Relayout, RelayoutSpec
from diffrast_cli.sge.scan import PrefixSum
from tests.scenes import gradient_target, make_problem


@pytest.mark.parametrize("n", [1, 1000, 300_001])       # one partial group; several; > WG_SCAN groups
def test_prefix_sum_matches_numpy(device, n):
    ctx = device.ctx
    values = np.random.default_rng(n).integers(0, 5, n).astype(np.uint32)
    scan = PrefixSum(device, n, {})
    src, out = ctx.buffer(values.tobytes()), ctx.buffer(reserve=4 * n)
    counts = ctx.buffer(reserve=4 * 8)
    counts.clear()
    try:
        counts.bind_to_storage_buffer(B.SSBO_COUNTS)
        scan.run(src, out, slot=3)
        got = np.frombuffer(out.read(), np.uint32)
        want = np.concatenate([[0], np.cumsum(values)[:-1]]).astype(np.uint32)
        assert np.array_equal(got, want)
        assert np.frombuffer(counts.read(), np.uint32)[3] == values.sum()
    finally:
        for obj in (scan, src, out, counts):
            obj.release()


def _layout(n):
    return ParamLayout([ParamGroup("a", 3 * n, 3, 0.1, 0.1, -1, 1),
                        ParamGroup("fixed", 5, 5, 0.1, 0.1, -1, 1),       # not per element: never moves
                        ParamGroup("b", 2 * n, 2, 0.1, 0.1, -1, 1)])


@pytest.mark.parametrize("n", [37, 5000])
def test_compaction_moves_parameters_moments_births_and_state_together(device, n):
    ctx = device.ctx
    layout = _layout(n)
    r = np.random.default_rng(n)
    theta = r.random(layout.size).astype(np.float32)
    moments = r.random(2 * layout.size).astype(np.float32)
    births = r.integers(0, 100, n).astype(np.uint32)
    state = r.integers(0, 2**32, 2 * n, dtype=np.uint64).astype(np.uint32)     # 2 words per element
    keep = (r.random(n) < 0.6).astype(np.uint32)
    relayout = Relayout(device, layout, RelayoutSpec(groups=("a", "b"), capacity=n), layout.defines())
    bufs = [ctx.buffer(a.tobytes()) for a in (theta, moments, state, keep)]
    try:
        relayout.births.write(births.tobytes())
        relayout.bind()
        assert relayout.live() == n
        relayout.compact(bufs[3], bufs[0], bufs[1], element_buffers=[(bufs[2], 2)])
        kept = np.flatnonzero(keep)
        live = len(kept)
        assert relayout.live() == live
        got_theta = np.frombuffer(bufs[0].read(), np.float32)
        got_moments = np.frombuffer(bufs[1].read(), np.float32).reshape(-1, 2)
        ref_moments = moments.reshape(-1, 2)
        for name in ("a", "b"):
            g = layout[name]
            s = slice(g.offset, g.offset + g.count)
            old = theta[s].reshape(n, g.stride)
            new = got_theta[s].reshape(n, g.stride)
            assert np.array_equal(new[:live], old[kept]) and not new[live:].any()
            old_m = ref_moments[s].reshape(n, g.stride, 2)
            new_m = got_moments[s].reshape(n, g.stride, 2)
            assert np.array_equal(new_m[:live], old_m[kept]) and not new_m[live:].any()
        f = layout.slice("fixed")
        assert np.array_equal(got_theta[f], theta[f]) and np.array_equal(got_moments[f], ref_moments[f])
        got_births = relayout.state()["births"]
        assert np.array_equal(got_births[:live], births[kept]) and not got_births[live:].any()
        got_state = np.frombuffer(bufs[2].read(), np.uint32).reshape(n, 2)
        assert np.array_equal(got_state[:live], state.reshape(n, 2)[kept]) and not got_state[live:].any()
    finally:
        for obj in bufs:
            obj.release()
        relayout.release()


def test_relayout_rejects_a_group_that_is_not_per_element(device):
    layout = _layout(10)
    with pytest.raises(ValueError, match="fixed"):
        Relayout(device, layout, RelayoutSpec(groups=("a", "fixed"), capacity=10), layout.defines())


def test_adam_counts_steps_from_an_element_birth(device):
    """An element whose moments were reset after step b is bias-corrected with t - b (as a new
    parameter); the others with the global t."""
    n = 20
    problem = make_problem(device, gradient_target(16, 16), triangles=n, seed=1,
                           extra={"scene.resample.every": 1000, "scene.depths.lr": 0.01})
    try:
        est = problem.estimator
        theta = problem.theta0.copy()
        est.upload(theta)
        size = len(theta)
        b1, b2, eps = 0.9, 0.999, 1e-8
        lr = np.zeros(size)
        for g in problem.scene.layout.groups:
            lr[g.offset:g.offset + g.count] = g.lr
        lo = np.concatenate([np.full(6 * n, -1.5), np.zeros(3 * n), np.zeros(3 * n)])
        hi = np.concatenate([np.full(6 * n, 1.5), np.ones(3 * n), np.ones(3 * n)])
        reborn = np.zeros(n, bool)
        reborn[[2, 7, 19]] = True
        element = np.concatenate([np.repeat(np.arange(n), 6), np.repeat(np.arange(n), 3), np.repeat(np.arange(n), 3)])
        r = np.random.default_rng(2)
        th, m, v = theta.astype(np.float64), np.zeros(size), np.zeros(size)
        th_global = th.copy()                    # the same moments, bias-corrected with the global t
        birth = np.zeros(size)
        for t in range(1, 8):
            if t == 4:          # reset after step 3
                births = np.where(reborn, 3, 0).astype(np.uint32)
                est.relayout.births.write(births.tobytes())
                mom = np.frombuffer(est.adam.moments.read(), np.float32).reshape(-1, 2).copy()
                mom[reborn[element]] = 0.0
                est.adam.moments.write(mom.tobytes())
                m[reborn[element]] = 0.0
                v[reborn[element]] = 0.0
                birth = np.where(reborn[element], 3.0, 0.0)
            g = (r.normal(size=size) * 0.1).astype(np.float32)
            est.grad.write(g.tobytes())
            est.adam.step(t, 1.0)
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g.astype(np.float64) ** 2
            tl = t - birth
            th = np.clip(th - lr * (m / (1 - b1 ** tl)) / (np.sqrt(v / (1 - b2 ** tl)) + eps), lo, hi)
            th_global = np.clip(th_global - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps), lo, hi)
        got = est.download()
        np.testing.assert_allclose(got, th, rtol=1e-4, atol=2e-5)      # float32 steps of lr up to 0.05
        # with the global step count the reborn elements would have moved differently
        sel = reborn[element] & (lr > 0)
        assert np.abs(th_global[sel] - th[sel]).max() > 0.01
        np.testing.assert_allclose(th_global[~reborn[element]], th[~reborn[element]], rtol=1e-12)
    finally:
        problem.release()
