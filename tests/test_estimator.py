"""The accumulation paths against each other: float or fixed-point atomics, direct or
aggregated adds give the same estimate (the estimate itself is checked against finite
differences in test_gradients.py)."""

import numpy as np
from diffrast_cli.gl.context import FLOAT_ATOMICS_EXT, create_device
from tests.scenes import gradient_target, make_problem

def test_atomic_paths_agree():
    """Float or fixed-point atomics, direct or work-group aggregated: the same estimate."""
    probe = create_device()
    have_float = FLOAT_ATOMICS_EXT in probe.extensions
    probe.release()
    grads = {}
    for atomics in ("float", "fixed") if have_float else ("fixed",):
        dev = create_device(atomics=atomics)
        for aggregate in (False, True):
            problem = make_problem(dev, gradient_target(64, 64), triangles=300, samples=4, seed=5,
                                   supersample=2 if aggregate else 1, aggregate=aggregate)
            try:
                grads[atomics, aggregate] = np.array([problem.estimator.estimate_gradient(k) for k in range(3)])
            finally:
                problem.release()
        dev.release()
    for aggregate in (False, True):
        a = grads.get(("float", aggregate), grads["fixed", aggregate])
        b = grads["fixed", aggregate]
        assert np.count_nonzero(a) > 0.5 * a.size
        # Identical signs and pixels: only the fixed-point rounding (2^-16 per pixel) may differ.
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-3 * np.abs(a).max())


def test_aggregation_is_exact():
    """Work-group (and, where the driver has it, subgroup) aggregation changes only the
    order of additions."""
    from diffrast_cli.sge.aggregation import SUBGROUP_EXTENSIONS
    dev = create_device()
    modes = ["direct", "shared"]
    if all(e in dev.extensions for e in SUBGROUP_EXTENSIONS):
        modes.append("subgroup")
    grads = []
    for aggregate in modes:
        problem = make_problem(dev, gradient_target(64, 64), triangles=300, samples=2, seed=9, aggregate=aggregate)
        try:
            grads.append(np.array([problem.estimator.estimate_gradient(k) for k in range(2)]))
        finally:
            problem.release()
    dev.release()
    assert np.count_nonzero(grads[0]) > 0.5 * grads[0].size
    for other in grads[1:]:
        np.testing.assert_allclose(grads[0], other, rtol=1e-4, atol=1e-5 * np.abs(grads[0]).max())


def test_releasing_a_second_device_reactivates_the_first(monkeypatch):
    """GL calls go to the current context: releasing the newest device must make the one
    still in use current again (on NVIDIA, calls with no current context are dropped
    silently: a run on the first device then never moved; found by the suite on an H200)."""
    from diffrast_cli.gl.context import GLDevice
    first = create_device()
    try:
        second = create_device()
        activated = []
        original = GLDevice.activate
        monkeypatch.setattr(GLDevice, "activate", lambda self: (activated.append(self), original(self)))
        second.release()
        assert len(activated) == 1 and activated[0] is first
        problem = make_problem(first, gradient_target(32, 32), triangles=20, seed=2)
        try:
            image = problem.estimator.color()
            before = problem.metrics()["mse"]
            for i in range(30):
                problem.estimator.step(i)
            assert problem.metrics()["mse"] < before          # the steps ran on the first device
        finally:
            problem.release()
        assert image.any()
    finally:
        first.release()
