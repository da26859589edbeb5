"""The optimization loop shared by runs (CLI and Python API) and the bench.

The loop issues ``estimator.step`` with the learning-rate schedule, calls the
post-step hooks (GPU work of a scene kind: nothing read back), and stops at
log steps, progress frames and checkpoints to hand control to the caller.
The only readbacks happen in the caller's ``on_log`` (clean-render metrics,
flags, frames); between two log steps the loop runs on the GPU alone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

from .schedule import GroupSchedule, lr_factor


def frame_iterations(total: int, frames: int) -> frozenset[int]:
    """Iterations (0..total) at which a progress frame is taken, evenly spaced, ends included."""
    if frames <= 0:
        return frozenset()
    if frames == 1:
        return frozenset({total})
    return frozenset(round(i * total / (frames - 1)) for i in range(frames))


@dataclass(frozen=True)
class Plan:
    """When the loop stops to log, take a frame or checkpoint; the learning-rate schedule.

    ``log_every`` 0: no log steps (the bench); ``checkpoint_every`` 0: only at the
    end and on interruption (the caller's business)."""

    total: int
    lr_schedule: str = "constant"
    lr_final: float = 1.0
    log_every: int = 0
    checkpoint_every: int = 0
    frames_at: frozenset = field(default_factory=frozenset)
    restarts: tuple = ()      # warm restarts: Adam's moments zeroed, the schedule starts over

    @classmethod
    def of_job(cls, job) -> "Plan":
        opt, out = job.optimize, job.output
        log_every, every = out.log_every, out.checkpoint_every
        checkpoint_every = 0 if every == 0 else max(log_every, round(every / log_every) * log_every)
        return cls(total=opt.iterations, lr_schedule=opt.lr_schedule, lr_final=opt.lr_final, log_every=log_every,
                   checkpoint_every=checkpoint_every, frames_at=frame_iterations(opt.iterations, out.frames),
                   restarts=tuple(r for r in opt.restarts if r < opt.iterations))

    def lr(self, iteration: int) -> float:
        """The schedule's factor at ``iteration``; with restarts, the schedule runs over each segment."""
        a, b = self.segment(iteration)
        return lr_factor(self.lr_schedule, iteration - a, b - a, self.lr_final)

    def segment(self, iteration: int) -> tuple[int, int]:
        """The span [a, b) between warm restarts that holds ``iteration`` ((0, total) without restarts)."""
        a, b = 0, self.total
        for r in self.restarts:
            if r <= iteration:
                a = r
            else:
                b = r
                break
        return a, b

    def segment_end(self, it: int, end: int) -> int:
        """The next iteration after ``it`` (at most ``end``) where the loop hands back control."""
        stop = end
        if self.log_every:
            stop = min(stop, (it // self.log_every + 1) * self.log_every)
        for f in sorted(self.frames_at):
            if it < f < stop:
                return f
        return stop

    def checkpoint_due(self, it: int) -> bool:
        return bool(self.checkpoint_every) and it % self.checkpoint_every == 0 and it < self.total


class StopRequest:
    """Set ``requested`` (a signal handler, a callback) to end the loop after the current iteration."""

    def __init__(self):
        self.requested = None


class Loop:
    """Runs iterations of one estimator. ``after_step``: callables ``hook(iteration)`` run
    after each step (iteration = the step just done + 1), for GPU-side work only.
    ``finish`` waits for the GPU (the loop clock counts completed work only)."""

    def __init__(self, estimator, plan: Plan, finish: Callable[[], None], *,
                 after_step: Iterable[Callable[[int], None]] = (), stop: StopRequest | None = None):
        self.estimator = estimator
        self.plan = plan
        self.finish = finish
        self.after_step = tuple(after_step)
        self.stop = stop or StopRequest()
        self.seconds = 0.0            # loop time (steps + waits for the GPU), over every run() call
        self.group_schedule = GroupSchedule(estimator)   # groups optimised only in [start, stop)

    def run(self, start: int, end: int | None = None, *, on_log: Callable[[int], None] | None = None,
            on_checkpoint: Callable[[int], None] | None = None) -> int:
        """Iterations ``start`` .. ``end - 1`` (``end``: the plan's total). At every segment end
        (log step, frame, ``end``, or a stop request) calls ``on_log(iteration)`` and, where a
        checkpoint is due or a stop was requested, ``on_checkpoint(iteration)``. Returns the
        iteration reached (``end``, or earlier after a stop request)."""
        plan, step, hooks, stop = self.plan, self.estimator.step, self.after_step, self.stop
        windows = self.group_schedule
        end = plan.total if end is None else end
        it = start
        if windows:
            windows.at(it)
        restarts = frozenset(plan.restarts)
        if restarts:                    # resumed after a restart: count Adam's steps from it
            self.estimator.adam.restart(plan.segment(it)[0], clear=it in restarts)
        while it < end and stop.requested is None:
            seg_end = plan.segment_end(it, end)
            t0 = time.perf_counter()
            i = it
            while i < seg_end:
                if windows and i in windows.changes:
                    windows.at(i)
                if restarts and i in restarts and i != start:     # (start: done above)
                    self.estimator.adam.restart(i)
                step(i, plan.lr(i))
                i += 1
                if hooks:
                    for hook in hooks:
                        hook(i)
                if stop.requested is not None:
                    break
            self.finish()
            self.seconds += time.perf_counter() - t0
            it = i
            if on_log is not None:
                on_log(it)
            if on_checkpoint is not None and (stop.requested is not None or plan.checkpoint_due(it)):
                on_checkpoint(it)
        return it
