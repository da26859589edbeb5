"""What a task of the suite provides to the runner (runner.py), and the methods it compares.

A task makes an instance from a seed (instances.py), the job of the hard rasterizer fitting it
(per-pixel SGE), the same scene drawn by the soft rasterizer, the problem (targets, cameras),
the start parameters, and the scores of any parameter vector (image space and parameter space;
``primary`` names the one the tables lead with, larger is better). The runner fits each method
and scores snapshots of the parameters along the way (the convergence curves) with the task's
own hard renders, so every method is judged on the asset it produced, not on its own picture.

Methods: ``sge`` (per-pixel SGE, hard rasterizer), ``sge_full`` (the full-image estimator),
``soft_<family>`` (the soft rasterizer with that CDF, its gradients also by SGE) and
``soft_mlp`` (the learned CDF; weights from meta-training, suite/meta.py).
"""

from __future__ import annotations

import copy

import numpy as np

from ..config import JobConfig
from ..problem import Problem

SOFT_FAMILIES = ("logistic", "gaussian", "laplace", "cauchy", "hermite")
# log10 tau per family where neither the task nor a grid search chose one
DEFAULT_LOG_TAU = {"logistic": -2.5, "gaussian": -2.3, "laplace": -2.5, "cauchy": -3.0, "hermite": -2.0, "mlp": -2.5}


def grid_taus(logistic, gaussian, laplace, cauchy, hermite) -> dict:
    """A task's log tau per family: ``diffrast suite --grid``'s choice (training instances
    1000-1001, NVIDIA H200; docs/soft.md)."""
    return dict(logistic=logistic, gaussian=gaussian, laplace=laplace, cauchy=cauchy, hermite=hermite)


def methods(quick: bool, learned: bool = False) -> list[str]:
    """The methods a run compares (``learned``: with the meta-trained MLP)."""
    out = ["sge", "sge_full", "soft_logistic"] + ([] if quick else [f"soft_{f}" for f in SOFT_FAMILIES[1:]])
    return out + (["soft_mlp"] if learned else [])


class Task:
    name = ""
    primary = ""             # the score the tables lead with (larger is better)
    size = 64                # image side at default size
    iterations = 100
    instances = 3            # instances a suite run fits per method by default
    quick_size = 32
    quick_iterations = 40
    soft_kind = "soft"       # the scene kind drawing the task's scene softly
    soft_aggregate: dict = {}
    log_tau: dict = {}       # the task's log tau per family (grid_taus), else DEFAULT_LOG_TAU

    def default_log_tau(self, family: str) -> float:
        return self.log_tau.get(family, DEFAULT_LOG_TAU[family])

    def settings(self, quick: bool) -> tuple[int, int]:
        """(image side, iterations)."""
        return (self.quick_size, self.quick_iterations) if quick else (self.size, self.iterations)

    def instance(self, seed: int, quick: bool):
        raise NotImplementedError

    def hard_job(self, inst, seed: int, quick: bool) -> dict:
        """The job of the hard rasterizer fitting the instance (per-pixel SGE)."""
        raise NotImplementedError

    def problem(self, device, job: JobConfig, inst, quick: bool) -> Problem:
        """The fit's problem: the job with the instance's targets (and cameras)."""
        raise NotImplementedError

    def single_render(self, device, job: dict, quick: bool, theta_of=None, asset=None) -> np.ndarray:
        """One clean render of a single-view ``job`` at the task's size (targets the tasks draw
        themselves); ``theta_of(problem)``: the parameters to show (default: the job's own)."""
        size = self.settings(quick)[0]
        probe = Problem(JobConfig.model_validate(job), None, device=device,
                        target=np.zeros((size, size, 3), np.float32), asset=asset)
        try:
            if theta_of is not None:
                probe.estimator.upload(theta_of(probe))
            return probe.estimator.color(0)
        finally:
            probe.release()

    def start(self, problem: Problem, inst):
        """The start parameters (theta) of the fit."""
        raise NotImplementedError

    def score(self, device, inst, thetas: list, quick: bool) -> list[dict]:
        """Scores of each parameter vector (hard renders made here)."""
        raise NotImplementedError

    def sge_eps(self, quick: bool) -> tuple[str, float]:
        """(the dotted job key of the main group's perturbation size, its default there)."""
        return "scene.positions.eps", 1.0 / self.settings(quick)[0]     # the soup's: half a pixel

    def meta_loss(self, score: dict) -> float:
        """What meta-training lowers (suite/meta.py): the final hard render's MSE."""
        return score["mse"]

    def method_job(self, method: str, inst, seed: int, quick: bool, softness: dict | None = None,
                   overrides: dict | None = None) -> JobConfig:
        """The job of ``method``; ``softness``: the soft scene's coverage settings (log_tau, mlp);
        ``overrides``: dotted job keys set last (e.g. scene.positions.eps)."""
        job = self.hard_job(inst, seed, quick)
        job["name"] = f"suite-{self.name}-{method}"
        if method == "sge_full":
            job["optimize"]["estimator"] = "full_image"
        elif method.startswith("soft_"):
            family = method[len("soft_"):]
            if family not in SOFT_FAMILIES + ("mlp",):
                raise ValueError(f"unknown method {method!r}")
            coverage = {"cdf": family, "log_tau": self.default_log_tau(family), **(softness or {})}
            job["scene"] = {**job["scene"], "kind": self.soft_kind, "coverage": coverage,
                            "aggregate": copy.deepcopy(self.soft_aggregate)}
        elif method != "sge":
            raise ValueError(f"unknown method {method!r}")
        for key, value in (overrides or {}).items():
            node = job
            *parents, last = key.split(".")
            for part in parents:
                node = node.setdefault(part, {})
            node[last] = value
        return JobConfig.model_validate(job)
