"""GPU passes against numpy references: the hash, P (perturb) and Adam."""

import numpy as np

from diffrast_cli.sge import rng
from tests.scenes import gradient_target, make_problem


def test_signs_are_balanced_and_decorrelated():
    a = rng.param_signs(100_000, rng.pair_key(0, 0, 0))
    b = rng.param_signs(100_000, rng.pair_key(0, 1, 0))
    c = rng.param_signs(100_000, rng.pair_key(0, 0, 1))
    assert set(np.unique(a)) == {-1.0, 1.0}
    assert abs(a.mean()) < 0.02
    assert abs((a * b).mean()) < 0.02 and abs((a * c).mean()) < 0.02


def test_perturb_pass_matches_numpy(device):
    problem = make_problem(device, gradient_target(32, 32), triangles=50, seed=7)
    try:
        est, layout = problem.estimator, problem.scene.layout
        theta = problem.theta0
        eps = np.concatenate([np.full(g.count, g.eps, np.float32) for g in layout.groups])
        for iteration, pair, sigma in ((0, 0, 1.0), (5, 3, -1.0), (123456, 1, 1.0)):
            got = est.perturbed_params(iteration, pair, sigma)
            s = rng.param_signs(layout.size, rng.pair_key(7, iteration, pair))
            np.testing.assert_allclose(got, theta + sigma * s * eps, rtol=0, atol=1e-6)
    finally:
        problem.release()


def _numpy_adam(theta, grads, lr, lo, hi, b1=0.9, b2=0.999, eps=1e-8):
    m = np.zeros_like(theta, dtype=np.float64)
    v = np.zeros_like(theta, dtype=np.float64)
    th = theta.astype(np.float64)
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        th = np.clip(th - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps), lo, hi)
    return th


def test_adam_pass_matches_numpy(device):
    problem = make_problem(device, gradient_target(16, 16), triangles=40, seed=1)
    try:
        est, layout = problem.estimator, problem.scene.layout
        theta = problem.theta0.copy()
        lr = np.concatenate([np.full(g.count, g.lr, np.float64) for g in layout.groups])
        lo = np.concatenate([np.full(g.count, g.lo, np.float64) for g in layout.groups])
        hi = np.concatenate([np.full(g.count, g.hi, np.float64) for g in layout.groups])
        r = np.random.default_rng(3)
        grads = [r.normal(size=layout.size).astype(np.float32) * 10 ** r.uniform(-3, 1) for _ in range(6)]
        for t, g in enumerate(grads, start=1):
            est.grad.write(g.tobytes())
            est.adam.step(t, 1.0)
        expected = _numpy_adam(theta, grads, lr, lo, hi)
        np.testing.assert_allclose(est.download(), expected, rtol=1e-4, atol=1e-6)
        assert not np.allclose(est.download(), theta)  # it moved
    finally:
        problem.release()


def test_adam_skips_nonfinite_gradients_and_flags_them(device):
    problem = make_problem(device, gradient_target(16, 16), triangles=10)
    try:
        est = problem.estimator
        g = np.zeros(problem.scene.layout.size, np.float32)
        g[3] = np.nan
        g[4] = np.inf
        est.grad.write(g.tobytes())
        est.adam.step(1, 1.0)
        after = est.download()
        assert np.isfinite(after).all()
        assert after[3] == problem.theta0[3] and after[4] == problem.theta0[4]
        assert est.flags()["nonfinite"] is True
        assert est.flags()["nonfinite"] is False  # cleared by the read
    finally:
        problem.release()


def test_pair_keys_bytes_matches_the_vector_mirror():
    for seed, iteration in ((0, 0), (7, 123456), (2**32 - 1, 2**31 + 5)):
        got = np.frombuffer(rng.pair_keys_bytes(seed, iteration, 9), dtype=np.uint32)
        want = rng.pair_key(seed, iteration, np.arange(9)).astype(np.uint32)
        np.testing.assert_array_equal(got, want)
