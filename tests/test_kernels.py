"""GPU passes against references written here from their definitions: the PCG hash,
the pair key and the parameter signs (glsl/include/rng.glsl), P (perturb.comp) and
Adam (adam.comp).

Nothing in the reference path imports diffrast_cli.sge.rng (the project's own numpy
mirror of the hash); one test checks that mirror against the references below.
"""

import numpy as np
import pytest

from tests.scenes import gradient_target, make_problem

M32 = 0xFFFFFFFF
GOLDEN = 0x9E3779B9


# -- references: Jarzynski & Olano 2020, "Hash Functions for GPU Rendering", pcg_hash --

def pcg(v: int) -> int:
    """pcg_hash on plain Python ints, every operation mod 2^32."""
    state = (v * 747796405 + 2891336453) & M32
    word = (((state >> ((state >> 28) + 4)) ^ state) * 277803737) & M32
    return ((word >> 22) ^ word) & M32


def pair_key_ref(seed: int, iteration: int, pair: int) -> int:
    """pcg(pcg(pcg(seed) ^ iteration) + pair * 0x9E3779B9), mod 2^32."""
    inner = pcg(pcg(seed & M32) ^ (iteration & M32))
    return pcg((inner + pair * GOLDEN) & M32)


def sign_ref(i: int, key: int) -> float:
    """-1 if the top bit of pcg(i ^ key) is set, else +1."""
    return -1.0 if pcg((i ^ key) & M32) >> 31 else 1.0


def pcg_u32(v: np.ndarray) -> np.ndarray:
    """The same hash vectorised on numpy uint32 (wrap-around arithmetic), for long vectors;
    checked against :func:`pcg` below."""
    v = np.asarray(v, dtype=np.uint32)
    with np.errstate(over="ignore"):
        state = v * np.uint32(747796405) + np.uint32(2891336453)
        word = ((state >> ((state >> np.uint32(28)) + np.uint32(4))) ^ state) * np.uint32(277803737)
    return (word >> np.uint32(22)) ^ word


def signs_ref(count: int, key: int) -> np.ndarray:
    h = pcg_u32(np.arange(count, dtype=np.uint32) ^ np.uint32(key))
    return np.where(h >= np.uint32(0x80000000), -1.0, 1.0).astype(np.float32)


# Known answers of the reference above (computed once with it; they pin the reference).
PCG_KNOWN = {0: 129708002, 1: 2831084092, 2: 2055130248, 12345: 4099845390,
             0xFFFFFFFF: 3861530882, 0x80000000: 566699590}
PAIR_KEY_KNOWN = {(0, 0, 0): 2145236065, (7, 0, 0): 3767225587, (7, 5, 3): 2373318488,
                  (2**32 - 1, 123456, 1): 1008346508, (0, 1, 0): 3414907750}
SIGNS_7_5_3 = [1, -1, 1, -1, 1, -1, -1, -1, -1, 1, -1, -1, -1, -1, -1, -1]


def test_reference_hash_known_answers():
    for v, h in PCG_KNOWN.items():
        assert pcg(v) == h, v
    for args, k in PAIR_KEY_KNOWN.items():
        assert pair_key_ref(*args) == k, args
    key = pair_key_ref(7, 5, 3)
    assert [sign_ref(i, key) for i in range(16)] == SIGNS_7_5_3
    # hand-checkable first step of pcg(0): state = 2891336453 = 0xAC564B05, shift 0xA + 4 = 14
    state = 2891336453
    assert state >> 28 == 0xA
    word = (((state >> 14) ^ state) * 277803737) & M32
    assert (word >> 22) ^ word == PCG_KNOWN[0]


def test_vectorised_reference_matches_the_integer_one():
    r = np.random.default_rng(0)
    values = np.concatenate([r.integers(0, 2**32, 2000, dtype=np.uint64),
                             [0, 1, 2**31 - 1, 2**31, 2**32 - 1]]).astype(np.uint32)
    np.testing.assert_array_equal(pcg_u32(values), [pcg(int(v)) for v in values])
    key = pair_key_ref(3, 9, 2)
    np.testing.assert_array_equal(signs_ref(3000, key), [sign_ref(i, key) for i in range(3000)])


def test_signs_are_balanced_and_decorrelated():
    a = signs_ref(100_000, pair_key_ref(0, 0, 0))
    b = signs_ref(100_000, pair_key_ref(0, 1, 0))
    c = signs_ref(100_000, pair_key_ref(0, 0, 1))
    d = signs_ref(100_000, pair_key_ref(1, 0, 0))
    assert set(np.unique(a)) == {-1.0, 1.0}
    assert abs(a.mean()) < 0.02
    for other in (b, c, d):
        assert abs((a * other).mean()) < 0.02
    assert abs((a[1:] * a[:-1]).mean()) < 0.02          # neighbours within one key too


def test_the_project_numpy_mirror_matches_the_reference():
    """diffrast_cli/sge/rng.py (used by the implementation for the pair keys it uploads)."""
    from diffrast_cli.sge import rng
    r = np.random.default_rng(1)
    values = r.integers(0, 2**32, 500, dtype=np.uint64)
    np.testing.assert_array_equal(rng.pcg_hash(values), [pcg(int(v)) for v in values])
    for seed, iteration in ((0, 0), (7, 123456), (2**32 - 1, 2**31 + 5)):
        keys = [pair_key_ref(seed, iteration, p) for p in range(9)]
        np.testing.assert_array_equal(rng.pair_key(seed, iteration, np.arange(9)), keys)
        np.testing.assert_array_equal(np.frombuffer(rng.pair_keys_bytes(seed, iteration, 9), np.uint32), keys)
        np.testing.assert_array_equal(rng.param_signs(700, keys[4]), signs_ref(700, keys[4]))


# -- P: theta + sigma * s * eps, on the GPU --------------------------------------------

# Soup groups: positions 6, depths 3, colours 3 parameters per triangle; eps set in the job.
EPS = {"positions": 0.03125, "depths": 0.0078125, "colors": 0.0625}


@pytest.mark.parametrize("triangles, seed", [(50, 7), (1001, 2**32 - 1)])
def test_perturb_pass_matches_the_reference(device, triangles, seed):
    """600 and 12012 parameters: not multiples of the 256-wide work group, one and many groups."""
    extra = {f"scene.{name}.eps": eps for name, eps in EPS.items()}
    problem = make_problem(device, gradient_target(16, 16), triangles=triangles, seed=seed, extra=extra)
    try:
        est = problem.estimator
        n = 12 * triangles
        assert problem.scene.layout.size == n and n % 256 != 0
        eps = np.concatenate([np.full(6 * triangles, EPS["positions"]), np.full(3 * triangles, EPS["depths"]),
                              np.full(3 * triangles, EPS["colors"])]).astype(np.float32)
        theta = np.random.default_rng(seed % 1000).uniform(-1, 1, n).astype(np.float32)
        est.upload(theta)
        for iteration, pair, sigma in ((0, 0, 1.0), (0, 0, -1.0), (5, 3, -1.0), (123456, 1, 1.0),
                                       (2**31 + 3, 7, 0.5), (9, 2, 0.0)):
            got = est.perturbed_params(iteration, pair, sigma)
            assert got.shape == (n,)
            if sigma == 0.0:
                np.testing.assert_array_equal(got, theta)
                continue
            s = signs_ref(n, pair_key_ref(seed, iteration, pair))
            want = theta + np.float32(sigma) * s * eps
            # the sign of every parameter, exactly (the last one included: the partial work group)
            np.testing.assert_array_equal(np.sign(got - theta) * np.sign(sigma), s)
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    finally:
        problem.release()


# -- Adam (Kingma & Ba 2015, Algorithm 1), then the group bounds ----------------------

def adam_ref(theta, grads, lr, lo, hi, b1, b2, eps, lr_scale=1.0):
    """m_t = b1 m + (1-b1) g; v_t = b2 v + (1-b2) g^2; m^ = m_t/(1-b1^t); v^ = v_t/(1-b2^t);
    theta -= lr * lr_scale * m^ / (sqrt(v^) + eps), then clamped to [lo, hi]. lr = 0: untouched."""
    th = theta.astype(np.float64)
    m = np.zeros_like(th)
    v = np.zeros_like(th)
    for t, g in enumerate(grads, start=1):
        g = g.astype(np.float64)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1 ** t)
        v_hat = v / (1 - b2 ** t)
        th = np.clip(th - lr * lr_scale * m_hat / (np.sqrt(v_hat) + eps), lo, hi)
    return th


ADAM_TRIANGLES = 43     # 516 parameters: three work groups, the last one partial


def _adam_problem(device, adam):
    extra = {"scene.positions.lr": 0.01, "scene.positions.bounds": [-0.3, 0.3],
             "scene.depths.optimize": False,
             "scene.colors.lr": 0.05}
    extra.update({f"optimize.adam.{k}": v for k, v in (adam or {}).items()})
    return make_problem(device, gradient_target(16, 16), triangles=ADAM_TRIANGLES, seed=1, extra=extra)


def _adam_vectors():
    """lr and bounds per parameter, written from the job above (not read from the layout)."""
    n = ADAM_TRIANGLES
    lr = np.concatenate([np.full(6 * n, 0.01), np.zeros(3 * n), np.full(3 * n, 0.05)])
    lo = np.concatenate([np.full(6 * n, -0.3), np.full(3 * n, -np.inf), np.zeros(3 * n)])
    hi = np.concatenate([np.full(6 * n, 0.3), np.full(3 * n, np.inf), np.ones(3 * n)])
    return lr, lo, hi


def _adam_theta():
    n = ADAM_TRIANGLES
    r = np.random.default_rng(5)
    theta = np.concatenate([r.uniform(-0.3, 0.3, 6 * n), r.uniform(0.2, 0.8, 3 * n),
                            r.uniform(0.0, 1.0, 3 * n)]).astype(np.float32)
    theta[9 * n:9 * n + 20] = 0.01       # colours next to the lower bound ...
    theta[9 * n + 20:9 * n + 40] = 0.99  # ... and the upper one
    theta[:10] = 0.295                   # positions next to their upper bound
    return theta


def _adam_grads(steps, count, seed=3):
    """Magnitudes from 1e-4 to 10 per parameter (so Adam's eps matters for some), signs random;
    the near-bound parameters are pushed outwards (a positive gradient lowers theta)."""
    r = np.random.default_rng(seed)
    scale = 10.0 ** r.uniform(-4, 1, count)
    grads = []
    for _ in range(steps):
        g = r.normal(size=count) * scale
        n = ADAM_TRIANGLES
        g[9 * n:9 * n + 20] = np.abs(g[9 * n:9 * n + 20]) + 1.0
        g[9 * n + 20:9 * n + 40] = -np.abs(g[9 * n + 20:9 * n + 40]) - 1.0
        g[:10] = -np.abs(g[:10]) - 1.0
        grads.append(g.astype(np.float32))
    return grads


# The paper's (and the job config's documented) defaults, and custom values set in the job.
ADAM_SETTINGS = [(None, (0.9, 0.999, 1e-8)),
                 ({"beta1": 0.8, "beta2": 0.99, "eps": 1e-3}, (0.8, 0.99, 1e-3))]


@pytest.mark.parametrize("adam, betas", ADAM_SETTINGS, ids=["defaults", "custom"])
@pytest.mark.parametrize("lr_scale", [1.0, 0.37])
def test_adam_pass_matches_the_reference(device, adam, betas, lr_scale):
    problem = _adam_problem(device, adam)
    try:
        est = problem.estimator
        b1, b2, eps = betas
        lr, lo, hi = _adam_vectors()
        theta = _adam_theta()
        assert problem.scene.layout.size == len(theta)
        est.upload(theta)
        grads = _adam_grads(7, len(theta))
        for t, g in enumerate(grads, start=1):
            est.grad.write(g.tobytes())
            est.adam.step(t, lr_scale)
        got = est.download().astype(np.float64)
        want = adam_ref(theta, grads, lr, lo, hi, b1, b2, eps, lr_scale)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-6 * lr_scale)
        # the test is not vacuous: things moved, bounds were hit, the frozen group did not move
        moved = np.abs(got - theta) > 1e-3 * lr
        assert moved[lr > 0].mean() > 0.9
        assert np.array_equal(got[lr == 0], theta[lr == 0])
        n = ADAM_TRIANGLES
        assert np.all(got[9 * n:9 * n + 20] == 0.0) and np.all(got[9 * n + 20:9 * n + 40] == 1.0)
        assert np.all(got[:10] == np.float32(0.3))
        # ... and without the clamp (or with another lr scale) the answer would differ
        free = adam_ref(theta, grads, lr, -np.inf, np.inf, b1, b2, eps, lr_scale)
        assert np.abs(free - want).max() > 0.05
        if lr_scale != 1.0:
            unscaled = adam_ref(theta, grads, lr, lo, hi, b1, b2, eps, 1.0)
            assert np.abs(unscaled - want).max() > 100 * 2e-6
    finally:
        problem.release()


def test_adam_first_step_moves_by_the_learning_rate(device):
    """With bias correction m^/sqrt(v^) = g/|g| at t = 1: every free parameter with |g| >> eps
    moves by lr * lr_scale against its gradient (without the correction: by sqrt(1-b2)/(1-b1)
    = 0.316 lr, or 31.6 lr correcting only m)."""
    problem = _adam_problem(device, None)
    try:
        est = problem.estimator
        lr, lo, hi = _adam_vectors()
        theta = _adam_theta()
        est.upload(theta)
        g = _adam_grads(1, len(theta), seed=11)[0]
        est.grad.write(g.tobytes())
        est.adam.step(1, 0.5)
        delta = est.download().astype(np.float64) - theta
        want = adam_ref(theta, [g], lr, lo, hi, 0.9, 0.999, 1e-8, 0.5)
        free = (lr > 0) & (np.abs(g) > 1e-3) & (theta + 1.01 * lr < hi) & (theta - 1.01 * lr > lo)  # 2 steps
        assert free.sum() > 200
        np.testing.assert_allclose(delta[free], -0.5 * lr[free] * np.sign(g[free]), rtol=2e-3)
        np.testing.assert_allclose(theta + delta, want, rtol=1e-5, atol=1e-7)
        # a second identical gradient: still exactly lr (m^ = v^^0.5 = |g| for a constant g)
        est.grad.write(g.tobytes())
        est.adam.step(2, 0.5)
        delta2 = est.download().astype(np.float64) - theta - delta
        np.testing.assert_allclose(delta2[free], -0.5 * lr[free] * np.sign(g[free]), rtol=2e-3)
    finally:
        problem.release()


def test_adam_skips_nonfinite_gradients_and_flags_them(device):
    problem = make_problem(device, gradient_target(16, 16), triangles=10)
    try:
        est = problem.estimator
        g = np.zeros(problem.scene.layout.size, np.float32)
        g[3] = np.nan
        g[4] = np.inf
        g[5] = 1.0
        est.grad.write(g.tobytes())
        est.adam.step(1, 1.0)
        after = est.download()
        assert np.isfinite(after).all()
        assert after[3] == problem.theta0[3] and after[4] == problem.theta0[4]
        assert after[5] != problem.theta0[5]          # the finite ones still step
        flags = est.flags()
        assert flags["nonfinite"] is True and flags["nonfinite_gradient"] == ["positions"]
        assert flags["first_bad_step"] == 1
        assert est.flags()["nonfinite"] is False  # cleared by the read
    finally:
        problem.release()
