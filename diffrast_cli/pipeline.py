"""Run a job: set up (everything that can fail is checked before the output
folder exists), loop on the GPU, log at intervals, write the outputs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np

from .checkpoint import CHECKPOINT, PREVIOUS, Checkpoint, job_dict, job_differences, load_checkpoint
from .config import JobConfig
from .jobfile import dump_job
from .errors import ConfigError, NumericalError, OutputError
from .io import pictures
from .optim.schedule import lr_factor
from .problem import Problem
from .io.atomic import atomic_write_bytes, output_error

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


def frame_iterations(total: int, frames: int) -> set[int]:
    """Iterations (0..total) at which a progress frame is taken, evenly spaced, ends included."""
    if frames <= 0:
        return set()
    if frames == 1:
        return {total}
    return {round(i * total / (frames - 1)) for i in range(frames)}


def _make_out_dir(out_dir: Path) -> bool:
    """Create the output folder; True if this run created it."""
    existed = out_dir.exists()
    if existed and not out_dir.is_dir():
        raise OutputError(f"{out_dir}: exists and is not a folder")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot write the output folder ({exc.strerror or exc})")
    return not existed


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


class _StopSignals:
    """SIGINT/SIGTERM during the loop: the first asks the loop to stop after the
    current iteration (it then writes a checkpoint and the outputs so far); a
    second exits at once (checkpoints are written atomically, so the last one
    stays intact)."""

    CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.received = None
        self._previous = {}

    def _handle(self, signum, frame):
        if self.received is not None:
            os._exit(self.CODES.get(signum, 130))
        self.received = signum
        if not self.quiet:
            sys.stderr.write("\ndiffrast: stopping after this iteration (again to exit at once)\n")

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in self.CODES:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    @property
    def exit_code(self) -> int | None:
        return None if self.received is None else self.CODES.get(self.received, 130)


def run_job(job: JobConfig, base_dir: Path, out_dir: Path | None = None, *, device_index=None,
            quiet: bool = False, config_path: Path | None = None, resume: bool = False,
            force: bool = False) -> dict:
    """Optimise a job and write its outputs; returns the report. With ``resume``,
    continue the run in ``out_dir`` from its checkpoint (refused if the job
    changed, unless ``force``). The report's ``interrupted`` names the signal that
    stopped the run early (``exit_code`` then says how to exit)."""
    wall0 = time.perf_counter()
    out_dir = Path(out_dir) if out_dir is not None else Path("runs") / job.name
    ckpt = None
    if resume:
        ckpt, _ = load_checkpoint(out_dir)
        changed = job_differences(ckpt.job, job_dict(job))
        if changed and not force:
            shown = "; ".join(changed[:4]) + (f" and {len(changed) - 4} more" if len(changed) > 4 else "")
            raise ConfigError(f"--resume {out_dir}: the job differs from the checkpoint's: {shown} "
                              f"(--force resumes anyway)")
    problem = Problem(job, base_dir, device_index=device_index)
    created = False
    try:
        if ckpt is not None:
            try:
                problem.estimator.restore(ckpt.state)
            except ValueError as exc:
                raise ConfigError(f"--resume {out_dir}: the checkpoint does not fit this job ({exc})")
        created = _make_out_dir(out_dir)
        report = _optimize(problem, out_dir, quiet, wall0, config_path, ckpt)
    except BaseException:
        # Never leave a half-written output folder behind (a run with a checkpoint keeps it).
        if created and not any((out_dir / name).exists() for name in (CHECKPOINT, PREVIOUS)):
            shutil.rmtree(out_dir, ignore_errors=True)
        raise
    finally:
        problem.release()
    return report


def _optimize(problem: Problem, out_dir: Path, quiet: bool, wall0: float, config_path, ckpt) -> dict:
    job, est = problem.job, problem.estimator
    opt, total = job.optimize, job.optimize.iterations
    log_every = job.output.log_every
    every = job.output.checkpoint_every
    checkpoint_every = 0 if every == 0 else max(log_every, round(every / log_every) * log_every)
    frames_at = frame_iterations(total, job.output.frames)
    ctx = problem.device.ctx
    start = ckpt.iteration if ckpt is not None else 0
    frames: list[tuple[int, np.ndarray]] = list(ckpt.frames) if ckpt is not None else []
    records: list[dict] = [r for r in ckpt.records if r["iteration"] <= start] if ckpt is not None else []
    flags = {"overflow": False, "nonfinite": False}
    if ckpt is not None:
        flags.update({k: v for k, v in ckpt.flags.items() if k in flags})
    loop_seconds = ckpt.loop_seconds if ckpt is not None else 0.0
    atomic_write_bytes(out_dir / OUTPUT_FILES["config"], dump_job(job).encode())
    metrics_path = out_dir / OUTPUT_FILES["metrics"]
    atomic_write_bytes(metrics_path, "".join(json.dumps(rec) + "\n" for rec in records).encode())
    last_checkpoint = start if ckpt is not None else None

    def checkpoint(iteration: int) -> None:
        nonlocal last_checkpoint
        Checkpoint(iteration=iteration, seed=job.seed, job=job_dict(job), state=est.state(), records=records,
                   frames=frames, loop_seconds=loop_seconds, flags=flags).save(out_dir)
        last_checkpoint = iteration

    def log(iteration: int) -> dict:
        m = problem.metrics(images=iteration in frames_at)
        if iteration in frames_at and all(f[0] != iteration for f in frames):
            frames.append((iteration, m["images"][0]))
        seen = est.flags()
        flags["overflow"] = flags["overflow"] or seen["overflow"]
        flags["nonfinite"] = flags["nonfinite"] or seen["nonfinite"]
        if seen["nonfinite"] and opt.on_nonfinite == "stop":
            raise NumericalError(_nonfinite_message(seen, iteration, log_every, out_dir, last_checkpoint))
        rec = {"iteration": iteration, "loss": m["loss"], "psnr": m["psnr"], "elapsed_s": round(loop_seconds, 4)}
        if "holdout_psnr" in m:
            rec["holdout_psnr"] = m["holdout_psnr"]
        records.append(rec)
        _append_line(metrics_path, json.dumps(rec) + "\n")
        return m

    progress = _Progress(total, quiet, job.name)
    signals = _StopSignals(quiet)
    try:
        with signals:
            initial = log(0) if ckpt is None else _initial_from(records, problem)
            progress.update(start)
            it = start
            while it < total and signals.received is None:
                stop = min(total, (it // log_every + 1) * log_every)
                for f in sorted(frames_at):
                    if it < f < stop:
                        stop = f
                        break
                t0 = time.perf_counter()
                i = it
                while i < stop:
                    est.step(i, lr_factor(opt.lr_schedule, i, total, opt.lr_final))
                    i += 1
                    if signals.received is not None:
                        break
                ctx.finish()
                loop_seconds += time.perf_counter() - t0
                m = log(i)
                progress.update(i - it, m)
                it = i
                if signals.received is not None or (checkpoint_every and it % checkpoint_every == 0 and it < total):
                    checkpoint(it)
    finally:
        progress.close()
    if last_checkpoint != it:
        checkpoint(it)

    final = problem.metrics(images=True)
    final_img = final["images"][0]
    theta = est.download()
    pictures.save_png(out_dir / OUTPUT_FILES["final"], final_img)
    # Up to three evaluation views stacked: target | result | error.
    shown = range(min(3, len(problem.eval_cams)))
    stacked_target = np.concatenate([problem.views.targets[problem.eval_cams[i]] for i in shown], axis=0)
    stacked_result = np.concatenate([final["images"][i] for i in shown], axis=0)
    pictures.side_by_side(stacked_target, stacked_result, out_dir / OUTPUT_FILES["comparison"])
    if frames:
        pictures.progress_grid(frames, out_dir / OUTPUT_FILES["progress_grid"])
        pictures.progress_gif(frames, out_dir / OUTPUT_FILES["progress_gif"])
    pictures.loss_curve(records, out_dir / OUTPUT_FILES["curve"])
    assets = problem.scene.export(theta, out_dir)

    dev = problem.device
    report = {
        "job": job.name,
        "config": str(config_path) if config_path else None,
        "out_dir": str(out_dir),
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
        "iterations_planned": total,
        "interrupted": None if signals.received is None else signal.Signals(signals.received).name,
        "exit_code": signals.exit_code or 0,
        "resumed_from": start if ckpt is not None else None,
        "seconds": round(time.perf_counter() - wall0, 3),
        "loop_seconds": round(loop_seconds, 3),
        "it_per_s": round(it / loop_seconds, 2) if loop_seconds > 0 else None,
        "initial": {"loss": initial["loss"], "psnr": initial["psnr"], "mse": initial.get("mse")},
        "final": {k: final[k] for k in ("loss", "psnr", "mse", "mae", "holdout_psnr", "train_psnr") if k in final},
        "device": {**dev.describe(), "aggregation": est.aggregation},
        "flags": flags,
        "checkpoint": CHECKPOINT,
        "outputs": sorted([p for k, p in OUTPUT_FILES.items() if k == "report" or (out_dir / p).exists()]
                          + [a.name for a in assets]),
    }
    report["initial"].update(problem.scene_metrics(problem.theta0))
    report["final"].update(problem.scene_metrics(theta))
    _write_json(out_dir / OUTPUT_FILES["report"], report)
    return report


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


def _nonfinite_message(seen: dict, iteration: int, log_every: int, out_dir: Path, last_checkpoint) -> str:
    what = []
    if seen["nonfinite_gradient"]:
        what.append(f"gradient in group {', '.join(seen['nonfinite_gradient'])}")
    if seen["nonfinite_parameter"]:
        what.append(f"parameter update in group {', '.join(seen['nonfinite_parameter'])}")
    if seen["nonfinite_loss"]:
        what.append("pixel loss")
    step = seen["first_bad_step"]
    when = f"at iteration {step - 1}" if step else f"before iteration {iteration}"
    kept = (f"the last good checkpoint is {out_dir / CHECKPOINT} (iteration {last_checkpoint})"
            if last_checkpoint is not None else "no checkpoint was written yet")
    return (f"non-finite {' and '.join(what) or 'value'} {when}; stopped: {kept}. Lower the learning rate or "
            f"raise eps of that group, or set optimize.on_nonfinite: skip")
