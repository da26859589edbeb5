"""Run a job: set up (everything that can fail is checked before the output
folder exists), loop on the GPU, log at intervals, write the outputs."""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from .config import JobConfig, dump_job
from .errors import OutputError
from .io import pictures
from .optim.schedule import lr_factor
from .problem import Problem

OUTPUT_FILES = {
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
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, allow_nan=True) + "\n")
    tmp.replace(path)


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


def run_job(job: JobConfig, base_dir: Path, out_dir: Path | None = None, *, device_index=None,
            quiet: bool = False, config_path: Path | None = None) -> dict:
    """Optimise a job and write its outputs; returns the report."""
    wall0 = time.perf_counter()
    out_dir = Path(out_dir) if out_dir is not None else Path("runs") / job.name
    problem = Problem(job, base_dir, device_index=device_index)
    created = False
    try:
        created = _make_out_dir(out_dir)
        report = _optimize(problem, out_dir, quiet, wall0, config_path)
    except BaseException:
        # Never leave a half-written output folder behind.
        if created:
            shutil.rmtree(out_dir, ignore_errors=True)
        raise
    finally:
        problem.release()
    return report


def _optimize(problem: Problem, out_dir: Path, quiet: bool, wall0: float, config_path) -> dict:
    job, est = problem.job, problem.estimator
    opt, total = job.optimize, job.optimize.iterations
    log_every = job.output.log_every
    frames_at = frame_iterations(total, job.output.frames)
    frames: list[tuple[int, np.ndarray]] = []
    records: list[dict] = []
    ctx = problem.device.ctx
    (out_dir / OUTPUT_FILES["config"]).write_text(dump_job(job))
    metrics_file = open(out_dir / OUTPUT_FILES["metrics"], "w")
    flags = {"overflow": False, "nonfinite": False}

    def log(iteration: int, loop_seconds: float) -> dict:
        m = problem.metrics(images=iteration in frames_at)
        if iteration in frames_at:
            frames.append((iteration, m["images"][0]))
        for key, value in est.flags().items():
            flags[key] = flags[key] or value
        rec = {"iteration": iteration, "loss": m["loss"], "psnr": m["psnr"], "elapsed_s": round(loop_seconds, 4)}
        if "holdout_psnr" in m:
            rec["holdout_psnr"] = m["holdout_psnr"]
        records.append(rec)
        metrics_file.write(json.dumps(rec) + "\n")
        metrics_file.flush()
        return m

    progress = _Progress(total, quiet, job.name)
    try:
        initial = log(0, 0.0)
        loop_seconds = 0.0
        it = 0
        while it < total:
            stop = min(total, (it // log_every + 1) * log_every)
            for f in sorted(frames_at):
                if it < f < stop:
                    stop = f
                    break
            t0 = time.perf_counter()
            for i in range(it, stop):
                est.step(i, lr_factor(opt.lr_schedule, i, total, opt.lr_final))
            ctx.finish()
            loop_seconds += time.perf_counter() - t0
            m = log(stop, loop_seconds)
            progress.update(stop - it, m)
            it = stop
    finally:
        progress.close()
        metrics_file.close()

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
        "triangles": problem.scene.primitives,
        "views": {"cameras": problem.views.count, "train": len(problem.views.train),
                  "holdout": len(problem.views.holdout), "per_iteration": opt.views_per_iteration},
        "parameters": problem.scene.layout.size,
        "resolution": list(problem.size),
        "supersample": job.render.supersample,
        "samples": opt.samples,
        "seed": job.seed,
        "iterations": total,
        "seconds": round(time.perf_counter() - wall0, 3),
        "loop_seconds": round(loop_seconds, 3),
        "it_per_s": round(total / loop_seconds, 2) if loop_seconds > 0 else None,
        "initial": {"loss": initial["loss"], "psnr": initial["psnr"], "mse": initial["mse"]},
        "final": {k: final[k] for k in ("loss", "psnr", "mse", "mae", "holdout_psnr", "train_psnr") if k in final},
        "device": {**dev.describe(), "aggregation": est.aggregation},
        "flags": flags,
        "outputs": sorted([p for k, p in OUTPUT_FILES.items() if (out_dir / p).exists()] + [a.name for a in assets]),
    }
    chamfer0 = problem.chamfer(problem.theta0)
    if chamfer0 is not None:
        report["initial"]["chamfer"] = chamfer0
        report["final"]["chamfer"] = problem.chamfer(theta)
    _write_json(out_dir / OUTPUT_FILES["report"], report)
    return report
