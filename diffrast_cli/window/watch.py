"""``diffrast optimize JOB --window``: target | current render | error of the first evaluation
view, refreshed at most ``fps`` times a second from the loop's after-step hook. A refresh is a
clean render and a readback; between refreshes the hook only reads the clock, so the loop runs
at its own pace (docs/window.md has the measured cost). Closing the window stops the refreshes,
not the run."""

from __future__ import annotations

import time

import numpy as np

from .live import LiveWindow

ERROR_GAIN = 4.0          # |error| x 4, as grey


def panels(target: np.ndarray, current: np.ndarray) -> np.ndarray:
    """(h, 3w, 3): target, current, |target - current| x ERROR_GAIN."""
    err = np.clip(np.abs(target - current).mean(axis=2, keepdims=True) * ERROR_GAIN, 0.0, 1.0)
    return np.concatenate([target, current, np.repeat(err, 3, axis=2)], axis=1)


class WindowWatch:
    def __init__(self, fps: float = 10.0, scale: int | None = None):
        self.fps = float(fps)
        self.scale = scale
        self.window = None
        self.refreshes = 0
        self.last = None
        self._next = 0.0

    def attach(self, problem) -> "callable":
        """Open the window for ``problem`` (a Problem) and return the loop's after-step hook.
        Attached again (the run rebuilt its scene for a new stage, same views and device),
        the open window shows the new problem."""
        self.problem = problem
        est = problem.estimator
        self.cam = problem.eval_cams[0] if getattr(problem, "eval_cams", None) else 0
        self.target = np.asarray(problem.views.targets[self.cam], np.float32)
        if self.window is None:
            h, w = self.target.shape[:2]
            scale = self.scale or max(1, min(4, 384 // max(h, 1)))
            self.window = LiveWindow(f"diffrast: {problem.job.name}", (3 * w * scale, h * scale),
                                     restore=problem.device.activate)
        if not self.window.closed:
            self.refresh(est)
        return self.hook

    def hook(self, iteration: int) -> None:
        now = time.perf_counter()
        if now < self._next or self.window is None or self.window.closed:
            return
        self._next = now + 1.0 / self.fps
        self.refresh(self.problem.estimator)

    def refresh(self, est) -> None:
        current = est.color(self.cam)
        self.last = panels(self.target, current)
        self.window.show(self.last)
        self.refreshes += 1

    def close(self) -> None:
        if self.window is not None:
            self.window.close()
