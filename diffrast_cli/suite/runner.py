"""``diffrast suite``: the inverse-rendering tasks (issue 12, docs/soft.md) run by each gradient
method on the same instances and budget. Built so far: the 2D shape task and its methods.

Methods: ``sge`` (per-pixel SGE through the hard rasterizer, the soup kind), ``sge_full`` (the
full-image estimator), and ``soft_<family>`` (the soft kind with that CDF at ``log_tau``, its
gradients also from SGE). Each instance: the instance's triangles, white over black, fitted to
its binary silhouette (MSE); metrics: the final silhouette's IoU with the target (threshold
0.5) and its MSE, both at the start and at the end.
"""

from __future__ import annotations

import time

import numpy as np

from ..config import JobConfig
from ..optim.schedule import lr_factor
from ..problem import Problem
from . import instances

TASKS = ("shape2d",)
SOFT_FAMILIES = ("logistic", "gaussian", "laplace", "cauchy", "hermite")
DEFAULT_LOG_TAU = {"logistic": -2.5, "gaussian": -2.3, "laplace": -2.5, "cauchy": -3.0, "hermite": -2.0}


def methods(quick: bool) -> list[str]:
    return ["sge", "sge_full", "soft_logistic"] + ([] if quick else [f"soft_{f}" for f in SOFT_FAMILIES[1:]])


def shape2d_job(method: str, size: int, iterations: int, seed: int, log_tau: float | None) -> dict:
    scene = {"kind": "soup", "triangles": instances.SHAPE2D_TRIANGLES,
             "colors": {"optimize": False}, "depths": {"optimize": False}}
    optimize = {"iterations": iterations, "samples": 1}
    if method == "sge_full":
        optimize["estimator"] = "full_image"
    elif method.startswith("soft_"):
        family = method[len("soft_"):]
        tau = DEFAULT_LOG_TAU[family] if log_tau is None else log_tau
        scene.update(kind="soft", coverage={"cdf": family, "log_tau": tau})
    elif method != "sge":
        raise ValueError(f"unknown method {method!r}")
    return {"name": f"suite-shape2d-{method}", "seed": seed, "target": {"image": "<memory>"},
            "render": {"resolution": size, "background": [0.0, 0.0, 0.0]}, "scene": scene, "optimize": optimize}


def silhouette_metrics(image: np.ndarray, target: np.ndarray) -> dict:
    s = image[..., 0].astype(np.float64)
    mask = s > 0.5
    union = (mask | target).sum()
    return {"iou": float((mask & target).sum() / union) if union else 1.0,
            "mse": float(((s - target) ** 2).mean())}


def run_shape2d(device, seed: int, method: str, size: int, iterations: int, log_tau=None) -> dict:
    inst = instances.shape2d(seed, size=size)
    target = np.repeat(inst.target[..., None], 3, axis=2).astype(np.float32)
    job = JobConfig.model_validate(shape2d_job(method, size, iterations, seed, log_tau))
    problem = Problem(job, None, device=device, target=target)
    try:
        est, lay = problem.estimator, problem.scene.layout
        theta = problem.theta0.copy()
        theta[lay.slice("positions")] = inst.triangles.reshape(-1)
        theta[lay.slice("depths")] = 0.5
        theta[lay.slice("colors")] = 1.0
        est.upload(theta)
        t0 = time.perf_counter()
        opt = job.optimize
        for it in range(iterations):
            est.step(it, lr_factor(opt.lr_schedule, it, iterations, opt.lr_final))
        final_theta = est.download()
        seconds = time.perf_counter() - t0
    finally:
        problem.release()
    # metrics on the hard render (what the asset is, whatever rasterizer fitted it), by a
    # problem of its own, made after the fit's is released (GL binding points are global)
    hard = Problem(JobConfig.model_validate(shape2d_job("sge", size, 1, 0, None)), None, device=device, target=target)
    try:
        start = silhouette_metrics(_render(hard, theta), inst.target)
        end = silhouette_metrics(_render(hard, final_theta), inst.target)
    finally:
        hard.release()
    return {"task": "shape2d", "method": method, "seed": seed, "start": start, "final": end,
            "seconds": round(seconds, 3), "it_per_s": round(iterations / seconds, 2) if seconds > 0 else None}


def _render(problem: Problem, theta: np.ndarray) -> np.ndarray:
    problem.estimator.upload(theta)
    return problem.estimator.color(0)


TAU_GRID = (-3.0, -2.5, -2.0, -1.5, -1.0)
GRID_SEEDS = (1000, 1001)      # training instances of the grid search (never the reported seeds)


def grid_search(device, method: str, size: int, iterations: int, progress=None) -> tuple[float, dict]:
    """The log_tau of TAU_GRID with the best mean final IoU on the GRID_SEEDS instances."""
    scores = {}
    for log_tau in TAU_GRID:
        rs = [run_shape2d(device, seed, method, size, iterations, log_tau) for seed in GRID_SEEDS]
        scores[log_tau] = float(np.mean([r["final"]["iou"] for r in rs]))
        if progress:
            progress({"grid": method, "log_tau": log_tau, "iou": scores[log_tau]})
    return max(scores, key=scores.get), scores


def run_suite(device, tasks, instances_count: int, quick: bool, grid: bool = False, progress=None) -> dict:
    """Every method on seeds 0..instances_count-1 of each task; with ``grid`` each soft family's
    log_tau is first chosen on separate training instances (grid_search)."""
    size, iterations = (64, 60) if quick else (instances.SHAPE2D_SIZE, 200)
    runs, chosen = [], {}
    for task in tasks:
        for method in methods(quick):
            log_tau = None
            if grid and method.startswith("soft_"):
                log_tau, scores = grid_search(device, method, size, iterations, progress)
                chosen[method] = {"log_tau": log_tau, "grid_iou": scores}
            for seed in range(instances_count):
                runs.append(run_shape2d(device, seed, method, size, iterations, log_tau))
                runs[-1]["log_tau"] = log_tau
                if progress:
                    progress(runs[-1])
    return {"tasks": list(tasks), "instances": instances_count, "quick": quick, "size": size,
            "iterations": iterations, "grid": chosen, "runs": runs, "summary": summarize(runs)}


def summarize(runs: list) -> list:
    rows = {}
    for r in runs:
        rows.setdefault((r["task"], r["method"]), []).append(r)
    out = []
    for (task, method), rs in rows.items():
        tau = rs[0].get("log_tau")
        if tau is None and method.startswith("soft_"):
            tau = DEFAULT_LOG_TAU[method[len("soft_"):]]
        out.append({"task": task, "method": method, "instances": len(rs), "log_tau": tau,
                    "iou_start": float(np.mean([r["start"]["iou"] for r in rs])),
                    "iou": float(np.mean([r["final"]["iou"] for r in rs])),
                    "mse": float(np.mean([r["final"]["mse"] for r in rs])),
                    "it_per_s": float(np.mean([r["it_per_s"] or 0.0 for r in rs]))})
    return out


def markdown(summary: list) -> str:
    lines = ["| task | method | log τ | instances | IoU start | IoU final | MSE final | it/s |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for s in summary:
        tau = "" if s["log_tau"] is None else f"{s['log_tau']:g}"
        lines.append(f"| {s['task']} | {s['method']} | {tau} | {s['instances']} | {s['iou_start']:.3f} | "
                     f"{s['iou']:.3f} | {s['mse']:.4f} | {s['it_per_s']:.1f} |")
    return "\n".join(lines)
