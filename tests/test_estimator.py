"""The SGE estimator against central finite differences of the rendered loss,
and the float and fixed-point atomic paths against each other."""

import numpy as np
import pytest

from diffrast_cli.gl.context import FLOAT_ATOMICS_EXT, create_device
from tests.scenes import check_sge_against_fd, gradient_target, make_problem

W = 48
CENTERS = np.array([[-0.5, -0.5], [0.5, -0.45], [-0.45, 0.5], [0.5, 0.5]])
OFFSETS = np.array([[-0.35, -0.3], [0.38, -0.25], [-0.05, 0.4]])


def _scene_theta():
    """Four non-overlapping triangles, one per quadrant, with distinct colours."""
    xy = (CENTERS[:, None, :] + OFFSETS[None]).reshape(-1)
    colors = np.array([[0.8, 0.2, 0.5], [0.1, 0.7, 0.3], [0.5, 0.5, 0.9], [0.9, 0.8, 0.1]]).reshape(-1)
    return np.concatenate([xy, np.full(12, 0.5), colors]).astype(np.float32)


def _problem(device, samples=64, aggregate=None):
    return make_problem(device, gradient_target(W, W), triangles=4, samples=samples, supersample=2, extra={
        "scene.positions.eps": 4.0 / W, "scene.colors.eps": 0.05, "scene.depths.optimize": False},
        aggregate=aggregate)


@pytest.fixture(scope="module", params=["float", "fixed"])
def device(request):
    probe = create_device()
    have_float = FLOAT_ATOMICS_EXT in probe.extensions
    probe.release()
    if request.param == "float" and not have_float:
        pytest.skip("driver has no float atomics")
    dev = create_device(atomics=request.param)
    yield dev
    dev.release()


@pytest.mark.parametrize("aggregate", [False, True], ids=["direct", "aggregated"])
def test_sge_mean_matches_finite_differences(device, aggregate):
    problem = _problem(device, aggregate=aggregate)
    try:
        layout = problem.scene.layout
        mean = check_sge_against_fd(problem, _scene_theta(), ("positions", "colors"))
        # Frozen depths get no gradient at all.
        assert not mean[layout.slice("depths")].any()
    finally:
        problem.release()


def test_single_estimate_is_noisy_but_unbiased_direction(device):
    """One estimate with one pair correlates positively with the mean estimate."""
    problem = _problem(device, samples=1)
    try:
        problem.estimator.upload(_scene_theta())
        single = [problem.estimator.estimate_gradient(k) for k in range(200)]
        mean = np.mean(single, axis=0)
        corr = [np.dot(g, mean) / (np.linalg.norm(g) * np.linalg.norm(mean) + 1e-30) for g in single]
        assert np.mean(corr) > 0.1
    finally:
        problem.release()


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
    from diffrast_cli.sge.estimator import SUBGROUP_EXTENSIONS
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
