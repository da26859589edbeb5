"""optimize() and render() for scripts: the same runs as the command line, in memory or
into a run folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from diffrast_cli.config import JobConfig
from diffrast_cli.errors import ConfigError, InputError
from diffrast_cli.io.images import target_size
from diffrast_cli.pipeline import Outcome, execute
from diffrast_cli.problem import Problem

from .jobs import ARRAY_TARGET, load_job


class Result:
    """What :func:`optimize` returns.

    ``report``: the dict written to report.json; ``parameters``: the final parameters as
    numpy arrays by group name (one row per element: a triangle, a vertex, a texel);
    ``theta``: the same as one flat float32 vector; ``out``: the run folder (None for a
    run that wrote nothing); ``job``: the job that ran."""

    def __init__(self, job: JobConfig, outcome: Outcome, targets):
        self.job = job
        self.report = outcome.report
        self.out = outcome.out
        self.theta = outcome.theta
        self.parameters = {g.name: outcome.theta[outcome.layout.slice(g.name)].reshape(-1, g.stride)
                           for g in outcome.layout.groups}
        self.targets = targets

    def __repr__(self) -> str:
        f = self.report["final"]
        return (f"Result({self.report['job']!r}: {self.report['iterations']} iterations, "
                f"PSNR {self.report['initial']['psnr']:.2f} -> {f['psnr']:.2f} dB, out={self.out})")


def _as_job(job) -> JobConfig:
    return job if isinstance(job, JobConfig) else load_job(job)


def _target_array(job: JobConfig, targets) -> np.ndarray | None:
    """The target image of a single-view job from an array (HxWx3 or HxWx4, float in [0, 1] or
    uint8), resized like a target file to ``render.resolution``."""
    t = job.target
    if targets is None:
        if t.image == ARRAY_TARGET:
            raise ConfigError('target.image: "<array>" needs targets= (a numpy image) in diffrast.optimize')
        return None
    if t.image is None:
        raise ConfigError("targets: arrays replace target.image only (this job's target is "
                          f"{next(k for k in ('images', 'transforms', 'reference') if getattr(t, k) is not None)})")
    if isinstance(targets, (list, tuple)):
        if len(targets) != 1:
            raise ConfigError(f"targets: a single-view job takes one image, got {len(targets)}")
        targets = targets[0]
    a = np.asarray(targets)
    if a.ndim == 2:
        a = a[:, :, None].repeat(3, axis=2)
    if a.ndim != 3 or a.shape[2] not in (3, 4) or min(a.shape[:2]) < 1:
        raise InputError(f"targets: expected an HxWx3 or HxWx4 image, got shape {a.shape}")
    if a.dtype == np.uint8:
        a = a.astype(np.float32) / 255.0
    elif a.dtype.kind in "fiu":
        a = a.astype(np.float32)
    else:
        raise InputError(f"targets: expected a numeric image, got dtype {a.dtype}")
    if not np.isfinite(a).all():
        raise InputError("targets: the image holds non-finite values")
    if a.shape[2] == 4:
        alpha = np.clip(a[:, :, 3:], 0.0, 1.0)
        a = a[:, :, :3] * alpha + np.asarray(job.render.background, np.float32) * (1.0 - alpha)
    a = np.clip(a, 0.0, 1.0)
    w, h = target_size(job.render.resolution, (a.shape[1], a.shape[0]))
    if (w, h) != (a.shape[1], a.shape[0]):
        from PIL import Image
        a = np.stack([np.asarray(Image.fromarray(np.ascontiguousarray(a[:, :, c]), mode="F")
                                 .resize((w, h), Image.Resampling.LANCZOS), dtype=np.float32) for c in range(3)], axis=2)
    return np.ascontiguousarray(np.clip(a, 0.0, 1.0), dtype=np.float32)


def optimize(job, out=None, callback=None, targets=None, *, overwrite: bool = False, resume: bool = False,
             force: bool = False, device=None, progress: bool = False, runs=None, stop_on_signals: bool = False,
             config=None, window: bool | float = False) -> Result:
    """Run a job (a job from :func:`load_job`, a job file path or a mapping).

    ``out``: the run folder to write (refused if it holds a run, unless ``overwrite``, which
    replaces it once the new run has written all its outputs; ``resume`` continues the run in
    it, ``force`` even if the job changed); None writes nothing, unless ``runs`` names a
    folder: the run then goes to ``runs/<name>`` (``runs/<name>-2``, ... if that exists).
    ``callback(step)`` runs at every log step (``output.log_every``) with ``step.iteration``,
    ``step.loss``, ``step.psnr``, ``step.holdout_psnr`` and ``step.image()`` (the clean render,
    computed on request); returning False (or raising StopIteration) stops the run after that
    step, with ``report["interrupted"] == "callback"``. ``targets``: the target image as a
    numpy array instead of the job's file. ``device``: the EGL device number. ``progress``: a
    progress bar on stderr. Ctrl-C raises KeyboardInterrupt (a run folder keeps its last
    checkpoint), unless ``stop_on_signals``: then, as on the command line, the first
    SIGINT/SIGTERM stops the run after the current iteration and the result's report names
    the signal. ``config``: the job file recorded in the report. ``window``: a live glfw window
    (target | render | error), refreshed at most 10 times a second (a number: that rate);
    needs a display. Errors are
    :class:`DiffrastError` subclasses with the command line's one-line messages."""
    if isinstance(job, (str, Path)) and config is None:
        config = job
    job = _as_job(job)
    target = _target_array(job, targets)
    options = {"runs_root": Path(runs)} if runs is not None else {}
    if window:
        from ..window.live import require_display
        from ..window.watch import WindowWatch
        require_display()
        options["watch"] = WindowWatch(fps=10.0 if window is True else float(window))
    outcome = execute(job, Path.cwd(), Path(out) if out is not None else None,
                      write=out is not None or runs is not None, device_index=device, quiet=not progress,
                      config_path=config, resume=resume, force=force, overwrite=overwrite, targets=target,
                      callback=callback, handle_signals=stop_on_signals, **options)
    return Result(job, outcome, target)


def render(job_or_result, view: int = 0, *, targets=None, device=None) -> np.ndarray:
    """A clean render (HxWx3 float32 in [0, 1], row 0 = top) of camera ``view``: of a
    :class:`Result`'s final parameters, or of a job's initial ones."""
    if isinstance(job_or_result, Result):
        job, theta = job_or_result.job, job_or_result.theta
        target = job_or_result.targets if targets is None else _target_array(job, targets)
    else:
        job, theta = _as_job(job_or_result), None
        target = _target_array(job, targets)
    problem = Problem(job, Path.cwd(), device_index=device, target=target)
    try:
        count = problem.views.count
        if not isinstance(view, (int, np.integer)) or isinstance(view, bool) or not 0 <= view < count:
            raise ConfigError(f"view: {view!r} is not a camera of this job (0..{count - 1})")
        if theta is not None:
            problem.estimator.upload(theta)
        return problem.estimator.color(int(view))
    finally:
        problem.release()
