"""Per-group windows (``<group>.start`` / ``<group>.stop``, optim/schedule.GroupSchedule): a group
is frozen (not perturbed, not updated) before its start and from its stop on, the other groups
run as usual, and from its start Adam's bias correction counts the group's own steps (the
first step is lr, as a fresh Adam's). Generic over kinds: a soup and a mesh job both use it.
Warm restarts (``optimize.restarts``): Adam's moments are zeroed before the restart's step."""

from __future__ import annotations

import numpy as np
import pytest

from diffrast_cli.errors import ConfigError
from diffrast_cli.jobfile import validate_job
from diffrast_cli.optim.loop import Loop, Plan
from tests.mesh_scenes import grid_mesh, mesh_problem
from tests.scenes import gradient_target, make_problem
from tests.test_gradients import released

START = 3


def _changed(a, b, s):
    return np.flatnonzero(a[s] != b[s])


def _check(problem, late: str, other: str):
    est, layout = problem.estimator, problem.scene.layout
    lr = layout[late].lr
    theta0 = problem.theta0.copy()
    est.upload(theta0)
    loop = Loop(est, Plan(total=10), est.ctx.finish)
    assert loop.group_schedule and set(loop.group_schedule.windows) == {layout.index(late)}
    loop.run(0, START)
    before = est.download()
    assert _changed(before, theta0, layout.slice(late)).size == 0, f"{late} moved before its start"
    assert _changed(before, theta0, layout.slice(other)).size > 0, f"{other} did not move"
    loop.group_schedule.at(START)
    est.estimate(START)                       # the gradient the next step uses (same signs, same theta)
    grad = est.gradient()[layout.slice(late)]
    loop.run(START, START + 1)
    after = est.download()
    step = (before - after)[layout.slice(late)]
    g = layout[late]
    want = lr * np.sign(grad)
    free = (np.abs(grad) > 0) & (before[layout.slice(late)] - want > g.lo) & (before[layout.slice(late)] - want < g.hi)
    assert free.sum() >= 0.5 * free.size
    # first step of a fresh Adam: lr * g / |g| (bias-corrected by the group's own count, 1);
    # with the global count (START + 1) it would be about half of that
    np.testing.assert_allclose(step[free], want[free], rtol=1e-3)
    assert not step[grad == 0].any()
    return loop


def test_mesh_positions_start_late(device, tmp_path):
    extra = {"scene.positions.start": START, "scene.positions.eps": 0.02, "scene.positions.lr": 0.01,
             "optimize.samples": 4}
    problem = mesh_problem(device, tmp_path, grid_mesh(bump=0.3), gradient_target(24, 24), extra=extra)
    with released(problem):
        _check(problem, "positions", "texture")


def test_soup_colors_start_late(device):
    problem = make_problem(device, gradient_target(24, 24), triangles=6, samples=2,
                           extra={"scene.colors.start": START})
    with released(problem):
        _check(problem, "colors", "positions")


def test_mesh_positions_stop(device, tmp_path):
    """Positions optimised for iterations [0, 3) only; the texture throughout."""
    extra = {"scene.positions.stop": START, "scene.positions.eps": 0.02, "scene.positions.lr": 0.01,
             "optimize.samples": 4}
    problem = mesh_problem(device, tmp_path, grid_mesh(bump=0.3), gradient_target(24, 24), extra=extra)
    with released(problem):
        est, layout = problem.estimator, problem.scene.layout
        est.upload(problem.theta0)
        loop = Loop(est, Plan(total=8), est.ctx.finish)
        assert problem.estimator.adam.group_starts is None       # no late start: Adam as usual
        loop.run(0, START)
        mid = est.download()
        assert _changed(mid, problem.theta0, layout.slice("positions")).size > 0
        loop.run(START, 8)
        end = est.download()
        assert _changed(end, mid, layout.slice("positions")).size == 0, "positions moved after their stop"
        assert _changed(end, mid, layout.slice("texture")).size > 0
        est.estimate(8)                     # frozen: not perturbed, so no gradient either
        assert not est.gradient()[layout.slice("positions")].any()


def test_warm_restart_zeroes_adam_moments(device):
    """After a restart at iteration 3 the step is a fresh Adam's first step (lr * sign(g)) for
    every group; without the restart it is not."""
    for restarts in ((START,), ()):
        problem = make_problem(device, gradient_target(24, 24), triangles=6, samples=2)
        with released(problem):
            est, layout = problem.estimator, problem.scene.layout
            est.upload(problem.theta0)
            loop = Loop(est, Plan(total=8, restarts=restarts), est.ctx.finish)
            loop.run(0, START)
            assert np.frombuffer(est.adam.moments.read(), np.float32).any()
            before = est.download()
            est.estimate(START)
            grad = est.gradient()
            loop.run(START, START + 1)
            step = before - est.download()
            g = layout["colors"]
            s = layout.slice("colors")
            want = g.lr * np.sign(grad[s])
            free = (grad[s] != 0) & (before[s] - want > g.lo) & (before[s] - want < g.hi)
            assert free.sum() >= 0.5 * free.size
            fresh = np.allclose(step[s][free], want[free], rtol=1e-3)
            assert fresh == bool(restarts), restarts


def test_no_start_no_table_writes(device):
    problem = make_problem(device, gradient_target(16, 16), triangles=2, samples=1)
    with released(problem):
        loop = Loop(problem.estimator, Plan(total=2), problem.estimator.ctx.finish)
        assert not loop.group_schedule
        assert problem.estimator.adam.group_starts is None


@pytest.mark.parametrize("overrides, needle", [
    ({"scene": {"kind": "mesh", "icosphere": {}, "positions": {"start": 1500}}},
     "scene.positions.start: 1500 is not below optimize.iterations (1500)"),
    ({"scene": {"kind": "soup", "colors": {"start": 20}}, "optimize": {"iterations": 10}},
     "scene.colors.start: 20 is not below optimize.iterations (10)"),
    ({"scene": {"kind": "mesh", "icosphere": {}, "texture": {"start": -1}}}, "scene.texture.start"),
    ({"scene": {"kind": "mesh", "icosphere": {}, "positions": {"start": 5, "stop": 5}}},
     "scene.positions: stop (5) must be greater than start (5)"),
    ({"scene": {"kind": "soup", "depths": {"stop": 0}}}, "scene.depths.stop"),
    ({"scene": {"kind": "mesh", "icosphere": {}, "positions": {"start": 2.5}}}, "scene.positions.start"),
    ({"scene": {"kind": "mesh", "icosphere": {}, "normal_consistency": {"weight": -1}}},
     "scene.normal_consistency.weight"),
])
def test_bad_values_name_the_key(overrides, needle):
    with pytest.raises(ConfigError) as e:
        validate_job({"target": {"image": "x"}, **overrides})
    msg = str(e.value)
    assert needle in msg and len(msg.splitlines()) == 1, msg


def test_a_frozen_group_may_name_any_start():
    """optimize: false wins: a start past the end is not an error there."""
    job = validate_job({"target": {"image": "x"}, "optimize": {"iterations": 10},
                        "scene": {"kind": "soup", "colors": {"start": 50, "optimize": False}}})
    assert job.scene.colors.start == 50
