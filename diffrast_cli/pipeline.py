"""Run a job: set up (everything that can fail is checked before the output
folder is claimed), run the shared loop (:mod:`optim.loop`), log at intervals,
checkpoint, write the outputs and the report into a run folder (:mod:`runfolder`),
or nothing at all for an in-memory run of the Python API."""

from __future__ import annotations

import json
import contextlib
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .checkpoint import CHECKPOINT, PREVIOUS, Checkpoint, job_dict, job_differences, load_checkpoint
from .config import JobConfig
from .jobfile import dump_job
from .errors import ConfigError, NumericalError
from .interrupts import RaiseOnSignals, StopSignals
from .io import pictures
from .optim.loop import Loop, Plan, StopRequest
from .problem import Problem
from .scene.registry import get_kind
from .io.atomic import atomic_write_bytes, output_error
from .runfolder import DEFAULT_ROOT, RunFolder, check_target

OUTPUT_FILES = {
    "checkpoint": CHECKPOINT,
    "final": "final.png",
    "comparison": "comparison.png",
    "progress_grid": "progress.png",
    "progress_gif": "progress.gif",
    "curve": "curve.png",
    "metrics": "metrics.jsonl",
    "report": "report.json",
    "config": "job.yaml",
}


def _write_json(path: Path, data) -> None:
    atomic_write_bytes(path, (json.dumps(data, indent=2, allow_nan=True) + "\n").encode())


class _Progress:
    """tqdm bar on stderr, or nothing with --quiet."""

    def __init__(self, total: int, quiet: bool, name: str):
        self.bar = None
        if not quiet:
            from tqdm import tqdm
            self.bar = tqdm(total=total, desc=name, unit="it", file=sys.stderr, dynamic_ncols=True,
                            mininterval=0.25 if sys.stderr.isatty() else 10.0)

    def update(self, n: int, m: dict | None = None) -> None:
        if self.bar is None:
            return
        if m is not None:
            self.bar.set_postfix(loss=f"{m['loss']:.5f}", psnr=f"{m['psnr']:.2f}dB", refresh=False)
        self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class Step:
    """What a run's callback receives at each log step (``output.log_every``): ``iteration``,
    ``loss``, ``psnr`` (of a clean render of the evaluation views), ``holdout_psnr`` (multi-view
    jobs with held-out cameras, else None), ``elapsed_s`` (loop time), and ``image()``, the clean
    render of the first evaluation view (HxWx3 float32, row 0 = top), rendered on request and
    only during the callback."""

    def __init__(self, record: dict, render):
        self.iteration = record["iteration"]
        self.loss = record["loss"]
        self.psnr = record["psnr"]
        self.holdout_psnr = record.get("holdout_psnr")
        self.elapsed_s = record["elapsed_s"]
        self._render = render
        self._image = None

    def image(self) -> np.ndarray:
        if self._image is None:
            if self._render is None:
                raise RuntimeError("Step.image() is only available during the callback")
            self._image = self._render()
        return self._image

    def __repr__(self) -> str:
        return f"Step(iteration={self.iteration}, loss={self.loss:.6g}, psnr={self.psnr:.2f})"


@dataclass
class Outcome:
    """A finished (or stopped) run: its report, final parameters and run folder (None: nothing written)."""

    report: dict
    theta: np.ndarray
    layout: object
    out: Path | None


def _relative(path: Path, folder: Path) -> str:
    """A written file's name inside the run folder (``gltf/mesh.gltf`` for a subfolder)."""
    try:
        return Path(path).resolve().relative_to(Path(folder).resolve()).as_posix()
    except ValueError:
        return Path(path).name


def run_job(job: JobConfig, base_dir: Path, out_dir: Path | None = None, **options) -> dict:
    """Optimise a job and write its outputs (see :func:`execute`); returns the report."""
    return execute(job, base_dir, out_dir, **options).report


def execute(job: JobConfig, base_dir: Path | None, out_dir: Path | None = None, *, write: bool = True,
            device_index=None, quiet: bool = False, config_path: Path | None = None, resume: bool = False,
            force: bool = False, overwrite: bool = False, targets=None, callback=None,
            handle_signals: bool = True, runs_root: Path = DEFAULT_ROOT, watch=None) -> Outcome:
    """Optimise a job. With ``write``, into a run folder (``out_dir``; default ``runs_root/<name>``
    or the next free ``runs_root/<name>-N``; see :mod:`runfolder`); without, nothing is written.
    ``resume`` continues the run in ``out_dir`` from its checkpoint (refused if the job changed,
    unless ``force``). ``targets``: a target image array replacing the job's target file.
    ``callback(step)`` runs at each log step (:class:`Step`); returning False or raising
    StopIteration stops the run after that step. With ``handle_signals`` the first SIGINT/SIGTERM
    stops the run after the current iteration; the report's ``interrupted`` names the signal
    (or "callback") and ``exit_code`` says how to exit. ``watch``: a live window
    (window/watch.WindowWatch) refreshed from the loop's after-step hook, or None."""
    wall0 = time.perf_counter()
    if resume and not write:
        raise ConfigError("resume: a run without a folder cannot be resumed")
    if write:
        check_target(out_dir, overwrite=overwrite, resume=resume)
    folder = None
    failed = True
    guard = (RaiseOnSignals("interrupted before the optimization started; nothing was written")
             if handle_signals else contextlib.nullcontext())
    try:
        with guard:
            ckpt = None
            if resume:
                folder = RunFolder.open(out_dir, job.name, resume=True)
                ckpt, _ = load_checkpoint(folder.path)
                changed = job_differences(ckpt.job, job_dict(job))
                if changed and not force:
                    shown = "; ".join(changed[:4]) + (f" and {len(changed) - 4} more" if len(changed) > 4 else "")
                    raise ConfigError(f"--resume {out_dir}: the job differs from the checkpoint's: {shown} "
                                      f"(--force resumes anyway)")
            stages = get_kind(job.scene.kind).factory.stages(job)
            resume_at = ckpt.iteration if ckpt is not None else 0
            # a checkpoint taken at a stage's iteration holds the state from before the change
            past = [stage_job for at, stage_job in stages if at < resume_at]
            problem = Problem(past[-1] if past else job, base_dir, device_index=device_index, target=targets)
            run = None
            try:
                if ckpt is not None:
                    try:
                        problem.estimator.restore(ckpt.state)
                    except ValueError as exc:
                        raise ConfigError(f"--resume {out_dir}: the checkpoint does not fit this job ({exc})")
                if write and folder is None:
                    folder = RunFolder.open(out_dir, job.name, overwrite=overwrite, root=runs_root)
                run = _Run(problem, folder, ckpt, quiet, callback, watch, job=job,
                           stages=[(at, stage_job) for at, stage_job in stages if at >= resume_at])
                outcome = run.run(wall0, config_path, handle_signals, guard)
            finally:
                if watch is not None:
                    watch.close()
                (run.problem if run is not None else problem).release()
        failed = False
        return outcome
    finally:
        if folder is not None:
            folder.close(failed)


class _Run:
    """One run's bookkeeping: metrics, frames, flags, checkpoints and the outputs."""

    def __init__(self, problem: Problem, folder: RunFolder | None, ckpt, quiet: bool, callback, watch=None,
                 job: JobConfig | None = None, stages=()):
        """``job``: the job as given (``problem.job`` may be a stage's); ``stages``: the scene's
        stage changes still ahead, (iteration, job) (SceneKind.stages)."""
        job = job or problem.job
        self.job = job
        self.stages = list(stages)
        self.watch = watch
        self.problem, self.est, self.folder, self.ckpt = problem, problem.estimator, folder, ckpt
        self.quiet, self.callback = quiet, callback
        self.plan = Plan.of_job(job)
        self.out = folder.path if folder is not None else None
        self.frames: list[tuple[int, np.ndarray]] = list(ckpt.frames) if ckpt is not None else []
        start = ckpt.iteration if ckpt is not None else 0
        self.start = start
        self.records: list[dict] = [r for r in ckpt.records if r["iteration"] <= start] if ckpt is not None else []
        self.flags = {"overflow": False, "nonfinite": False, **{k: False for k in self.est.visibility.flag_names}}
        if ckpt is not None:
            self.flags.update({k: v for k, v in ckpt.flags.items() if k in self.flags})
        self.stop = StopRequest()
        self.loop = self._loop(ckpt.loop_seconds if ckpt is not None else 0.0)
        self.last_checkpoint = start if ckpt is not None else None
        self.initial_scene = problem.scene_metrics(problem.theta0)

    def _loop(self, seconds: float) -> Loop:
        hooks = self.est.post_step_hooks
        if self.watch is not None:        # a live window (window/watch.py): refreshes between steps
            hooks = hooks + (self.watch.attach(self.problem),)
        loop = Loop(self.est, self.plan, self.problem.device.ctx.finish, stop=self.stop, after_step=hooks)
        loop.seconds = seconds
        return loop

    def next_stage(self, stage_job: JobConfig) -> None:
        """The scene rebuilt from a stage's job, the optimiser's state carried over
        (SceneKind.carry_over): parameters, Adam's moments and its step count."""
        old = self.problem
        state = self.est.state()
        new = Problem(stage_job, old.base, device=old.device, views=old.views, cameras=old.cams)
        try:
            new.reference = old.reference
            params, moments = new.scene.carry_over(old.scene, state["params"], state["moments"])
            new.estimator.upload(np.ascontiguousarray(params, np.float32))
            new.estimator.adam.moments.write(np.ascontiguousarray(moments, np.float32).tobytes())
            new.estimator.adam.origin = self.est.adam.origin
        except BaseException:
            new.release()
            raise
        new.owns_device, old.owns_device = old.owns_device, False
        old.release()
        self.problem, self.est = new, new.estimator
        self.loop = self._loop(self.loop.seconds)

    def checkpoint(self, iteration: int) -> None:
        if self.out is None:
            return
        job = self.job
        Checkpoint(iteration=iteration, seed=job.seed, job=job_dict(job), state=self.est.state(), records=self.records,
                   frames=self.frames, loop_seconds=self.loop.seconds, flags=self.flags).save(self.out)
        self.last_checkpoint = iteration

    def log(self, iteration: int) -> dict:
        problem, plan = self.problem, self.plan
        frame = iteration in plan.frames_at
        m = problem.metrics(images=frame)
        if frame and all(f[0] != iteration for f in self.frames):
            self.frames.append((iteration, m["images"][0]))
        seen = self.est.flags()
        self.flags["overflow"] = self.flags["overflow"] or seen["overflow"]
        self.flags["nonfinite"] = self.flags["nonfinite"] or seen["nonfinite"]
        for k in self.est.visibility.flag_names:
            self.flags[k] = self.flags[k] or seen[k]
        if seen["nonfinite"] and problem.job.optimize.on_nonfinite == "stop":
            raise NumericalError(_nonfinite_message(seen, iteration, self.out, self.last_checkpoint))
        rec = {"iteration": iteration, "loss": m["loss"], "psnr": m["psnr"], "elapsed_s": round(self.loop.seconds, 4)}
        if "holdout_psnr" in m:
            rec["holdout_psnr"] = m["holdout_psnr"]
        self.records.append(rec)
        if self.out is not None:
            _append_line(self.out / OUTPUT_FILES["metrics"], json.dumps(rec) + "\n")
        if self.callback is not None:
            self._call_back(rec, m["images"][0] if frame else None)
        return m

    def _call_back(self, rec: dict, image) -> None:
        cam = self.problem.eval_cams[0]
        step = Step(rec, (lambda: image.copy()) if image is not None else (lambda: self.est.color(cam)))
        try:
            go_on = self.callback(step)
        except StopIteration:
            go_on = False
        finally:
            step._render = None
        if go_on is False and self.stop.requested is None:
            self.stop.requested = "callback"

    def run(self, wall0: float, config_path, handle_signals: bool, guard) -> Outcome:
        problem, job, plan = self.problem, self.job, self.plan
        if self.out is not None:
            atomic_write_bytes(self.out / OUTPUT_FILES["config"], dump_job(job).encode())
            atomic_write_bytes(self.out / OUTPUT_FILES["metrics"],
                               "".join(json.dumps(rec) + "\n" for rec in self.records).encode())
        progress = _Progress(plan.total, self.quiet, job.name)
        signals = StopSignals(self.quiet, self.stop, handle_signals)
        try:
            with signals:
                initial = self.log(0) if self.ckpt is None else _initial_from(self.records, problem)
                progress.update(self.start)
                self.it = self.start

                def on_log(i):
                    m = self.log(i)
                    progress.update(i - self.it, m)
                    self.it = i

                it = self.start
                for at, stage_job in self.stages + [(None, None)]:
                    it = self.loop.run(it, at, on_log=on_log, on_checkpoint=self.checkpoint)
                    if at is None or it < at or self.stop.requested is not None:
                        break
                    self.next_stage(stage_job)
        finally:
            progress.close()
        if self.folder is not None and isinstance(guard, RaiseOnSignals):
            guard.message = self._interrupted_outputs
        if self.last_checkpoint != it and self.out is not None:
            self.checkpoint(it)
        return self._finish(it, initial, wall0, config_path, signals)

    def _interrupted_outputs(self) -> str:
        folder = self.folder
        if folder.replacing:
            kept = f"the old run in {folder.final} is intact"
        elif any((folder.path / n).exists() for n in (CHECKPOINT, PREVIOUS)):
            kept = f"its last checkpoint is kept: resume with diffrast optimize --resume {folder.final}"
        else:
            kept = "nothing was kept"
        return f"interrupted while writing the outputs; {kept}"

    def _finish(self, it: int, initial: dict, wall0: float, config_path, signals) -> Outcome:
        problem, job, est, out = self.problem, self.job, self.est, self.out
        opt = job.optimize
        final = problem.metrics(images=out is not None)
        theta = est.download()
        assets = []
        if out is not None:
            pictures.save_png(out / OUTPUT_FILES["final"], final["images"][0])
            # Up to three evaluation views stacked: target | result | error.
            shown = range(min(3, len(problem.eval_cams)))
            stacked_target = np.concatenate([problem.views.targets[problem.eval_cams[i]] for i in shown], axis=0)
            stacked_result = np.concatenate([final["images"][i] for i in shown], axis=0)
            pictures.side_by_side(stacked_target, stacked_result, out / OUTPUT_FILES["comparison"])
            if self.frames:
                pictures.progress_grid(self.frames, out / OUTPUT_FILES["progress_grid"])
                pictures.progress_gif(self.frames, out / OUTPUT_FILES["progress_gif"])
            pictures.loss_curve(self.records, out / OUTPUT_FILES["curve"])
            assets = problem.scene.export(theta, out)
        stop = self.stop.requested
        loop_seconds = self.loop.seconds
        dev = problem.device
        report = {
            "job": job.name,
            "config": str(config_path) if config_path else None,
            "out_dir": str(self.folder.final) if self.folder is not None else None,
            "estimator": opt.estimator,
            "loss_kind": opt.loss,
            "scene": job.scene.kind,
            problem.scene.primitive_name: problem.scene.primitives,
            "views": {"cameras": problem.views.count, "train": len(problem.views.train),
                      "holdout": len(problem.views.holdout), "per_iteration": opt.views_per_iteration},
            "parameters": problem.scene.layout.size,
            "resolution": list(problem.size),
            "supersample": job.render.supersample,
            "samples": opt.samples,
            "seed": job.seed,
            "iterations": it,
            "iterations_planned": self.plan.total,
            "interrupted": None if stop is None else (stop if isinstance(stop, str) else signal.Signals(stop).name),
            "exit_code": signals.exit_code or 0,
            "resumed_from": self.start if self.ckpt is not None else None,
            "seconds": round(time.perf_counter() - wall0, 3),
            "loop_seconds": round(loop_seconds, 3),
            "it_per_s": round(it / loop_seconds, 2) if loop_seconds > 0 else None,
            "initial": {"loss": initial["loss"], "psnr": initial["psnr"], "mse": initial.get("mse"),
                        **({"holdout_psnr": initial["holdout_psnr"]} if initial.get("holdout_psnr") is not None else {})},
            "final": {k: final[k] for k in ("loss", "psnr", "mse", "mae", "holdout_psnr", "train_psnr") if k in final},
            "device": {**dev.describe(), "aggregation": est.aggregation},
            "flags": self.flags,
            "checkpoint": CHECKPOINT if out is not None else None,
            "outputs": sorted([p for k, p in OUTPUT_FILES.items() if k == "report" or (out / p).exists()]
                              + [_relative(a, out) for a in assets]) if out is not None else [],
        }
        report["initial"].update(self.initial_scene)
        report["final"].update(problem.scene_metrics(theta))
        if out is not None:
            _write_json(out / OUTPUT_FILES["report"], report)
            self.folder.commit()
        return Outcome(report=report, theta=theta, layout=problem.scene.layout,
                       out=self.folder.final if self.folder is not None else None)


def _append_line(path: Path, line: str) -> None:
    """Append a line to ``path``; a failed write (a full disk) is an OutputError and leaves
    the file as it was (no half line)."""
    data = line.encode()
    try:
        with open(path, "ab", buffering=0) as fh:
            size = fh.tell()
            try:
                while data:
                    data = data[fh.write(data):]
            except OSError:
                fh.truncate(size)
                raise
    except OSError as exc:
        raise output_error(path, exc, existed=True) from exc


def _initial_from(records: list, problem: Problem) -> dict:
    """The iteration-0 metrics of a resumed run (from its records)."""
    first = records[0] if records and records[0]["iteration"] == 0 else None
    if first is None:
        return problem.metrics()
    mse = first["loss"] if problem.job.optimize.loss == "l2" else None     # the l2 loss is the MSE
    return {"loss": first["loss"], "psnr": first["psnr"], "mse": mse}


def _nonfinite_message(seen: dict, iteration: int, out_dir: Path | None, last_checkpoint) -> str:
    what = []
    if seen["nonfinite_gradient"]:
        what.append(f"gradient in group {', '.join(seen['nonfinite_gradient'])}")
    if seen["nonfinite_parameter"]:
        what.append(f"parameter update in group {', '.join(seen['nonfinite_parameter'])}")
    if seen["nonfinite_loss"]:
        what.append("pixel loss")
    step = seen["first_bad_step"]
    when = f"at iteration {step - 1}" if step else f"before iteration {iteration}"
    if out_dir is None:
        kept = "nothing was written (no run folder)"
    else:
        kept = (f"the last good checkpoint is {out_dir / CHECKPOINT} (iteration {last_checkpoint})"
                if last_checkpoint is not None else "no checkpoint was written yet")
    return (f"non-finite {' and '.join(what) or 'value'} {when}; stopped: {kept}. Lower the learning rate or "
            f"raise eps of that group, or set optimize.on_nonfinite: skip")
