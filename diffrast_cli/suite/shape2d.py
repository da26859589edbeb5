"""The 2D shape task (docs/soft.md, "The suite"): 800 template triangles (white, depth and colour
fixed) deformed to match a binary silhouette at 256² (MSE), 200 steps; scored by the IoU
(threshold 0.5) and MSE of the final hard silhouette."""

from __future__ import annotations

import numpy as np

from ..config import JobConfig
from ..problem import Problem
from . import instances
from .task import Task, grid_taus


def silhouette_metrics(image: np.ndarray, target: np.ndarray, threshold: float = 0.5) -> dict:
    """IoU of image[..., 0] > threshold with the boolean ``target``, and the MSE to it."""
    s = image[..., 0].astype(np.float64)
    mask = s > threshold
    union = (mask | target).sum()
    return {"iou": float((mask & target).sum() / union) if union else 1.0,
            "mse": float(((s - target) ** 2).mean())}


class Shape2D(Task):
    name = "shape2d"
    log_tau = grid_taus(-3.0, -3.0, -3.0, -3.0, -2.5)
    primary = "iou"
    size, iterations = instances.SHAPE2D_SIZE, 200
    quick_size, quick_iterations = 64, 60

    def instance(self, seed: int, quick: bool):
        return instances.shape2d(seed, size=self.settings(quick)[0])

    def hard_job(self, inst, seed: int, quick: bool) -> dict:
        size, iterations = self.settings(quick)
        return {"name": "suite-shape2d", "seed": seed, "target": {"image": "<memory>"},
                "render": {"resolution": size, "background": [0.0, 0.0, 0.0]},
                "scene": {"kind": "soup", "triangles": instances.SHAPE2D_TRIANGLES,
                          "colors": {"optimize": False}, "depths": {"optimize": False}},
                "optimize": {"iterations": iterations, "samples": 1}}

    def problem(self, device, job: JobConfig, inst, quick: bool) -> Problem:
        target = np.repeat(inst.target[..., None], 3, axis=2).astype(np.float32)
        return Problem(job, None, device=device, target=target)

    def start(self, problem: Problem, inst):
        lay = problem.scene.layout
        theta = problem.theta0.copy()
        theta[lay.slice("positions")] = inst.triangles.reshape(-1)
        theta[lay.slice("depths")] = 0.5
        theta[lay.slice("colors")] = 1.0
        return theta

    def score(self, device, inst, thetas: list, quick: bool) -> list[dict]:
        hard = self.problem(device, JobConfig.model_validate(self.hard_job(inst, 0, quick)), inst, quick)
        try:
            out = []
            for theta in thetas:
                hard.estimator.upload(theta)
                out.append(silhouette_metrics(hard.estimator.color(0), inst.target))
            return out
        finally:
            hard.release()
