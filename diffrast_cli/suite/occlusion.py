"""The occlusion task (defined by this project; docs/soft.md): two overlapping triangles (red and
blue, colours fixed) must recover their placement and their depth order from one 128² image;
they start moved 0.08–0.15 (NDC) and in the wrong depth order. Corner positions and depths are
optimized (depth steps 0.05, learning rate 0.03 for every method), 200 steps. The soft
rasterizer draws it with softmax depth weights under its t-conorm silhouette (log gamma -1),
which give depth a gradient; the hard z-buffer gives depth none unless the
perturbation swaps the order. Scores: success (depth order right and corners within 0.03 on average),
whether the order is right, the mean corner error, and the MSE of the final hard render."""

from __future__ import annotations

import numpy as np

from ..config import JobConfig
from ..problem import Problem
from . import instances
from .task import Task, grid_taus

PLACED = 0.03      # NDC: the placement is recovered when the mean corner error is below this
DEPTH_EPS, DEPTH_LR = 0.05, 0.03   # depth moves 0.4 in the run (the soup's defaults: 0.01, 0.01)


class Occlusion(Task):
    name = "occlusion"
    log_tau = grid_taus(-3.0, -3.5, -3.0, -4.0, -2.5)
    primary = "success"
    instances = 8
    size, iterations = 128, 200
    quick_size, quick_iterations = 64, 60
    soft_aggregate = {"color": "softmax_silhouette", "log_gamma": -1.0}

    def instance(self, seed: int, quick: bool):
        return instances.occlusion(seed)

    def hard_job(self, inst, seed: int, quick: bool) -> dict:
        size, iterations = self.settings(quick)
        return {"name": "suite-occlusion", "seed": seed, "target": {"image": "<memory>"},
                "render": {"resolution": size, "background": [0.0, 0.0, 0.0]},
                "scene": {"kind": "soup", "triangles": 2, "colors": {"optimize": False},
                          "depths": {"eps": DEPTH_EPS, "lr": DEPTH_LR}},
                "optimize": {"iterations": iterations, "samples": 1}}

    def _theta(self, problem: Problem, triangles, depths, colors) -> np.ndarray:
        lay = problem.scene.layout
        theta = problem.theta0.copy()
        theta[lay.slice("positions")] = np.asarray(triangles, np.float32).reshape(-1)
        theta[lay.slice("depths")] = np.repeat(depths, 3)
        theta[lay.slice("colors")] = np.asarray(colors).reshape(-1)
        return theta

    def problem(self, device, job: JobConfig, inst, quick: bool) -> Problem:
        return Problem(job, None, device=device, target=self.target_image(device, inst, quick))

    def target_image(self, device, inst, quick: bool) -> np.ndarray:
        """The hard render of the target placement and order."""
        return self.single_render(device, self.hard_job(inst, 0, quick), quick,
                                  lambda p: self._theta(p, inst.target, inst.target_depths, inst.colors))

    def start(self, problem: Problem, inst):
        return self._theta(problem, inst.start, inst.start_depths, inst.colors)

    def score(self, device, inst, thetas: list, quick: bool) -> list[dict]:
        job = JobConfig.model_validate(self.hard_job(inst, 0, quick))
        target = self.target_image(device, inst, quick)
        hard = Problem(job, None, device=device, target=target)
        try:
            lay = hard.scene.layout
            want_front = int(np.argmin(inst.target_depths))
            out = []
            for theta in thetas:
                hard.estimator.upload(theta)
                image = hard.estimator.color(0)
                corners = theta[lay.slice("positions")].reshape(2, 3, 2)
                depth = theta[lay.slice("depths")].reshape(2, 3).mean(axis=1)
                errors = np.linalg.norm(corners - inst.target, axis=2)
                order = int(np.argmin(depth)) == want_front
                out.append({"success": float(order and errors.mean() < PLACED), "order": float(order),
                            "corner_error": float(errors.mean()), "mse": float(((image - target) ** 2).mean())})
            return out
        finally:
            hard.release()
