"""``diffrast suite``: the inverse-rendering tasks (issue 12, docs/soft.md) fitted by each
gradient method on the same instances and budget (task.py names the methods).

Each run fits one instance with one method (Adam, the task's defaults and the cosine schedule)
and keeps CURVE_POINTS + 1 snapshots of the parameters; the task scores them afterwards with
its own hard renders (a problem of its own, made after the fit's is released: GL binding
points are global). A run's record: the start and final scores, the curve, seconds and it/s.
"""

from __future__ import annotations

import time

import numpy as np

from ..optim.schedule import lr_factor
from .occlusion import Occlusion
from .pose import Pose
from .shape2d import Shape2D
from .shape3d import Shape3D
from .task import methods

TASK_CLASSES = {t.name: t for t in (Shape2D, Shape3D, Pose, Occlusion)}
TASKS = tuple(TASK_CLASSES)
CURVE_POINTS = 10
TAU_GRID = (-4.0, -3.5, -3.0, -2.5, -2.0, -1.5, -1.0)
GRID_SEEDS = (1000, 1001)      # training instances of the grid search (never the reported seeds)


def get_task(name: str):
    return TASK_CLASSES[name]()


def run_instance(device, task, seed: int, method: str, quick: bool, softness: dict | None = None,
                 overrides: dict | None = None, curve: bool = True) -> dict:
    """Fit instance ``seed`` of ``task`` with ``method``; scores along the way (``curve``), else
    at the start and the end."""
    inst = task.instance(seed, quick)
    job = task.method_job(method, inst, seed, quick, softness, overrides)
    opt = job.optimize
    iterations = opt.iterations
    every = max(1, iterations // CURVE_POINTS) if curve else iterations
    problem = task.problem(device, job, inst, quick)
    try:
        est = problem.estimator
        theta = task.start(problem, inst)
        est.upload(theta)
        snapshots = [(0, theta)]
        t0 = time.perf_counter()
        for it in range(iterations):
            est.step(it, lr_factor(opt.lr_schedule, it, iterations, opt.lr_final))
            if (it + 1) % every == 0 or it + 1 == iterations:
                snapshots.append((it + 1, est.download()))
        seconds = time.perf_counter() - t0
    finally:
        problem.release()
    scores = task.score(device, inst, [t for _, t in snapshots], quick)
    return {"task": task.name, "method": method, "seed": seed, "start": scores[0], "final": scores[-1],
            "curve": [{"iteration": i, **s} for (i, _), s in zip(snapshots, scores)],
            "seconds": round(seconds, 3), "it_per_s": round(iterations / seconds, 2) if seconds > 0 else None}


def grid_search(device, task, method: str, quick: bool, progress=None) -> tuple[float, dict]:
    """The log_tau of TAU_GRID with the lowest mean final meta loss (the task's continuous
    score, e.g. the hard render's MSE: a success rate over two instances rarely separates the
    candidates) on the GRID_SEEDS instances."""
    losses = {}
    for log_tau in TAU_GRID:
        rs = [run_instance(device, task, seed, method, quick, {"log_tau": log_tau}, curve=False) for seed in GRID_SEEDS]
        losses[log_tau] = float(np.mean([task.meta_loss(r["final"]) for r in rs]))
        if progress:
            progress({"grid": f"{task.name} {method}", "log_tau": log_tau, "score": losses[log_tau],
                      "metric": "meta loss"})
    return min(losses, key=losses.get), losses


def run_suite(device, tasks, instances_count: int | None, quick: bool, grid: bool = False, progress=None,
              learned: dict | None = None) -> dict:
    """Every method on instances 0..N-1 of each task (N: ``instances_count``, else the task's
    own count, 1 with ``quick``). ``grid``: each soft family's log_tau is first chosen on
    separate training instances (grid_search); ``learned``: the meta-trained softness
    ({"mlp": weights, "log_tau": ...}, suite/meta.py) adds soft_mlp."""
    runs, chosen = [], {}
    for name in tasks:
        task = get_task(name)
        count = instances_count or (1 if quick else task.instances)
        for method in methods(quick, learned is not None):
            softness = None
            if method == "soft_mlp":
                softness = {"mlp": list(learned["mlp"]), "log_tau": learned["log_tau"]}
            elif grid and method.startswith("soft_"):
                log_tau, scores = grid_search(device, task, method, quick, progress)
                chosen[f"{name}/{method}"] = {"log_tau": log_tau, "grid": scores}
                softness = {"log_tau": log_tau}
            for seed in range(count):
                r = run_instance(device, task, seed, method, quick, softness)
                r["log_tau"] = None if softness is None else softness.get("log_tau")
                runs.append(r)
                if progress:
                    progress({**r, "metric": task.primary})
    return {"tasks": list(tasks), "quick": quick, "grid": chosen, "runs": runs, "summary": summarize(runs)}


def summarize(runs: list) -> list:
    """Per task and method: the mean of every final score, the primary one first, and it/s."""
    rows = {}
    for r in runs:
        rows.setdefault((r["task"], r["method"]), []).append(r)
    out = []
    for (name, method), rs in rows.items():
        tau = rs[0].get("log_tau")
        task = get_task(name)
        if tau is None and method.startswith("soft_"):
            tau = task.default_log_tau(method[len("soft_"):])
        primary = task.primary
        keys = [primary] + sorted(k for k in rs[0]["final"] if k != primary)
        out.append({"task": name, "method": method, "instances": len(rs), "log_tau": tau, "metric": primary,
                    "start": float(np.mean([r["start"][primary] for r in rs])),
                    "final": {k: float(np.mean([r["final"][k] for r in rs])) for k in keys},
                    "seconds": float(np.mean([r["seconds"] for r in rs])),
                    "it_per_s": float(np.mean([r["it_per_s"] or 0.0 for r in rs]))})
    return out


def markdown(summary: list) -> str:
    """One table per task: method, log tau, instances, the primary score at the start and end,
    the other final scores, seconds per run and it/s."""
    blocks = []
    for name in dict.fromkeys(s["task"] for s in summary):
        rows = [s for s in summary if s["task"] == name]
        primary = rows[0]["metric"]
        others = [k for k in rows[0]["final"] if k != primary]
        lines = [f"**{name}** ({primary}: larger is better)", "",
                 "| method | log τ | instances | " + f"{primary} start | {primary} final | "
                 + "".join(f"{k} | " for k in others) + "s/run | it/s |",
                 "| --- | --- | --- | --- | --- | " + "--- | " * len(others) + "--- | --- |"]
        for s in rows:
            tau = "" if s["log_tau"] is None else f"{s['log_tau']:g}"
            lines.append(f"| {s['method']} | {tau} | {s['instances']} | {s['start']:.3f} | {s['final'][primary]:.3f} | "
                         + "".join(f"{s['final'][k]:.4g} | " for k in others)
                         + f"{s['seconds']:.1f} | {s['it_per_s']:.1f} |")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
