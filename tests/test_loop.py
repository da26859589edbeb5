"""The one optimization loop (diffrast_cli/optim/loop.py): where it hands back control, the
learning rate of every step, post-step hooks, stop requests; the bench runs through it."""

from __future__ import annotations

import pytest

from diffrast_cli.optim.loop import Loop, Plan, frame_iterations
from diffrast_cli.optim.schedule import lr_factor


class FakeEstimator:
    def __init__(self):
        self.steps = []

    def step(self, iteration, lr_scale=1.0):
        self.steps.append((iteration, lr_scale))


def _loop(plan, **kw):
    est = FakeEstimator()
    finished = []
    return Loop(est, plan, lambda: finished.append(len(est.steps)), **kw), est, finished


def test_segments_stop_at_log_steps_frames_and_the_end():
    plan = Plan(total=23, lr_schedule="cosine", lr_final=0.1, log_every=10, checkpoint_every=20,
                frames_at=frame_iterations(23, 3))
    assert plan.frames_at == {0, 12, 23}          # round(11.5) = 12
    loop, est, finished = _loop(plan)
    logs, ckpts = [], []
    assert loop.run(0, on_log=logs.append, on_checkpoint=ckpts.append) == 23
    assert logs == [10, 12, 20, 23] and ckpts == [20]          # no checkpoint due at the end (the caller's)
    assert finished == logs                                     # the GPU is waited for before each log
    assert est.steps == [(i, lr_factor("cosine", i, 23, 0.1)) for i in range(23)]
    assert loop.seconds > 0


def test_checkpoint_interval_is_rounded_to_log_steps():
    from diffrast_cli.config import JobConfig
    job = JobConfig.model_validate({"target": {"image": "x.png"}, "optimize": {"iterations": 100},
                                    "output": {"log_every": 15, "checkpoint_every": 40, "frames": 0}})
    plan = Plan.of_job(job)
    assert plan.checkpoint_every == 45 and plan.frames_at == frozenset()
    assert [i for i in range(1, 101) if plan.checkpoint_due(i)] == [45, 90]


def test_resumed_run_continues_at_its_iteration_with_the_same_learning_rates():
    plan = Plan(total=30, lr_schedule="step", lr_final=0.25, log_every=10)
    full, est_full, _ = _loop(plan)
    full.run(0)
    part, est_part, _ = _loop(plan)
    part.run(20)
    assert est_part.steps == est_full.steps[20:]


def test_hooks_run_after_every_step_and_a_stop_request_ends_the_segment():
    plan = Plan(total=50, log_every=10, checkpoint_every=20)
    calls = []
    loop, est, _ = _loop(plan, after_step=[calls.append])

    def hook(i):
        if i == 13:
            loop.stop.requested = "test"

    loop.after_step = (calls.append, hook)
    logs, ckpts = [], []
    assert loop.run(0, on_log=logs.append, on_checkpoint=ckpts.append) == 13
    assert calls == list(range(1, 14)) and [s[0] for s in est.steps] == list(range(13))
    assert logs == [10, 13] and ckpts == [13]                  # a stopped run logs and checkpoints


def test_no_log_steps_for_the_bench_one_segment_per_call():
    plan = Plan(total=8, lr_schedule="cosine", lr_final=0.5)
    loop, est, finished = _loop(plan)
    assert loop.run(0, 3) == 3 and loop.run(3) == 8
    assert finished == [3, 8] and [s[0] for s in est.steps] == list(range(8))


def test_bench_runs_through_the_loop(steps):
    from diffrast_cli.bench import run_bench
    out = run_bench(["soup-2k-256"], iterations=5, warmup=3, samples=1, device_index=None, atomics="auto",
                    progress=False)
    r = out["results"][0]
    assert r["iterations"] == 5 and r["it_per_s"] > 0
    # warm-up and timed steps: iterations 0..7 with the job's cosine schedule over 8, then the per-pass run
    assert steps[:8] == [(i, pytest.approx(lr_factor("cosine", i, 8, 0.1))) for i in range(8)]
    assert [i for i, _ in steps[8:]] == list(range(8, 13))


class FakeAdam:
    def __init__(self):
        self.restarts = []

    def restart(self, iteration, clear=True):
        self.restarts.append((iteration, clear))


def test_warm_restarts_start_the_schedule_over_and_restart_adam():
    """optimize.restarts: the schedule runs over each span between restarts; Adam restarts
    before the step of each restart, also where a restart falls on a log step; a run resumed
    after a restart counts Adam's steps from it without clearing the restored moments."""
    plan = Plan(total=30, lr_schedule="cosine", lr_final=0.1, log_every=10, restarts=(10, 25))
    assert plan.segment(0) == (0, 10) and plan.segment(10) == (10, 25) and plan.segment(29) == (25, 30)
    assert plan.lr(10) == 1.0 and plan.lr(25) == 1.0
    assert plan.lr(24) == pytest.approx(lr_factor("cosine", 14, 15, 0.1))
    loop, est, _ = _loop(plan)
    est.adam = FakeAdam()
    loop.run(0)
    assert est.adam.restarts == [(0, False), (10, True), (25, True)]
    assert [round(lr, 6) for _, lr in est.steps[9:12]] == [0.1, 1.0, round(lr_factor("cosine", 1, 15, 0.1), 6)]
    resumed, est2, _ = _loop(plan)
    est2.adam = FakeAdam()
    resumed.run(12)
    assert est2.adam.restarts == [(10, False), (25, True)] and est2.steps == est.steps[12:]
    at_restart, est3, _ = _loop(plan)
    est3.adam = FakeAdam()
    at_restart.run(25)                        # the checkpoint before the restart: its moments are cleared
    assert est3.adam.restarts == [(25, True)]


def test_restarts_past_the_end_are_dropped_and_bad_ones_refused():
    from diffrast_cli.config import JobConfig
    from diffrast_cli.errors import ConfigError
    from diffrast_cli.jobfile import validate_job
    job = JobConfig.model_validate({"target": {"image": "x.png"}, "optimize": {"iterations": 100, "restarts": [50, 100]}})
    assert Plan.of_job(job).restarts == (50,)
    for bad in ([50, 50], [0], [60, 40], [1.5], "70"):
        with pytest.raises(ConfigError) as e:
            validate_job({"target": {"image": "x.png"}, "optimize": {"restarts": bad}})
        assert "optimize.restarts" in str(e.value) and len(str(e.value).splitlines()) == 1
