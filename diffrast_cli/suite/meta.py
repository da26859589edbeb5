"""Learning the softness (issue 12; docs/soft.md, "Learning the softness"): meta-parameters of a
gradient method trained over instances of a task family by a zeroth-order outer loop, then
compared with their start on held-out instances and on a transfer task.

Targets (what is learned):
- ``mlp``: the soft rasterizer's 56 MLP weights (cdf: mlp), log10 tau and log10 gamma (used by
  tasks whose soft colour is a softmax); the start is the logistic-like MLP
  (scene/soft/mlp.py) at the logistic family's default tau;
- ``sge_eps``: the SGE perturbation size of the task's main group, as log2 of a factor on its
  default (the estimator's own softness).

Outer loop (no autodiff framework): each step draws a Rademacher direction d and runs the inner
optimisation (the task's fit, quick sizes by default) at phi + sigma d and phi - sigma d on the
same training instance with the same seeds (antithetic pair, common random numbers); the
estimate g_i = (L+ - L-) d_i / (2 sigma_i) of the gradient of the final loss L (the task's
meta_loss: the final hard render's MSE) is fed to Adam. Python touches only the few meta-
parameters; every inner run is the usual GPU loop.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from ..scene.soft import mlp
from .runner import get_task, run_instance

TRAIN_SEEDS = tuple(range(2000, 2008))   # training instances (never reported)
TARGETS = ("mlp", "sge_eps")


class MetaSpace:
    """The meta-parameters of a target: start values, perturbation sizes, Adam learning rates,
    and how a vector becomes an inner run's method, softness and job overrides."""

    def __init__(self, target: str, task, start_log_tau: float | None = None):
        if target not in TARGETS:
            raise ConfigError(f"meta target {target!r}: choose from {', '.join(TARGETS)}")
        self.target, self.task = target, task
        if target == "mlp":
            w = mlp.default_weights()
            tau = task.default_log_tau("logistic") if start_log_tau is None else start_log_tau
            self.start = np.concatenate([w, [tau, task.soft_aggregate.get("log_gamma", -1.0)]])
            # steps relative to each weight (a first-layer weight of 0.025 must not flip sign)
            self.sigma = np.concatenate([0.1 * np.abs(w) + 0.005, [0.1, 0.1]])
            self.lr = 0.5 * self.sigma
        else:
            self.start, self.sigma, self.lr = np.zeros(1), np.full(1, 0.25), np.full(1, 0.15)

    def inner(self, phi: np.ndarray, quick: bool) -> dict:
        """run_instance's method, softness and overrides at phi."""
        if self.target == "mlp":
            softness = {"mlp": [float(w) for w in phi[:mlp.WEIGHTS]], "log_tau": float(np.clip(phi[-2], -6.0, 0.0))}
            overrides = {}
            if self.task.soft_aggregate.get("color", "").startswith("softmax"):
                overrides["scene.aggregate.log_gamma"] = float(np.clip(phi[-1], -8.0, 1.0))
            return {"method": "soft_mlp", "softness": softness, "overrides": overrides}
        key, default = self.task.sge_eps(quick)
        return {"method": "sge", "softness": None, "overrides": {key: float(default * 2.0 ** phi[0])}}

    def describe(self, phi: np.ndarray) -> dict:
        if self.target == "mlp":
            return {"mlp": [float(w) for w in phi[:mlp.WEIGHTS]], "log_tau": float(phi[-2]), "log_gamma": float(phi[-1])}
        return {"eps_factor": float(2.0 ** phi[0])}


def inner_loss(device, space: MetaSpace, phi, seed: int, quick: bool) -> tuple[float, dict]:
    run = run_instance(device, space.task, seed, quick=quick, curve=False, **space.inner(phi, quick))
    return space.task.meta_loss(run["final"]), run["final"]


def meta_train(device, task_name: str, target: str, steps: int, quick: bool = True, seed: int = 0,
               progress=None, start_log_tau: float | None = None) -> dict:
    """Train ``target``'s meta-parameters on ``task_name``'s training instances; returns the
    learned vector (``phi``), its start, its description and the history of the outer loop."""
    task = get_task(task_name)
    space = MetaSpace(target, task, start_log_tau)
    rng = np.random.default_rng(seed)
    phi = space.start.copy()
    m, v = np.zeros_like(phi), np.zeros_like(phi)
    history = []
    for k in range(steps):
        d = rng.choice([-1.0, 1.0], size=phi.size)
        inst = TRAIN_SEEDS[k % len(TRAIN_SEEDS)]
        plus, _ = inner_loss(device, space, phi + space.sigma * d, inst, quick)
        minus, _ = inner_loss(device, space, phi - space.sigma * d, inst, quick)
        g = (plus - minus) * d / (2.0 * space.sigma)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        step = (m / (1 - 0.9 ** (k + 1))) / (np.sqrt(v / (1 - 0.999 ** (k + 1))) + 1e-12)
        phi = phi - space.lr * step
        history.append({"outer": k, "instance": inst, "train": 0.5 * (plus + minus), "plus": plus, "minus": minus})
        if progress:
            progress({**history[-1], "metric": "meta loss", "value": space.describe(phi)})
    return {"task": task_name, "target": target, "steps": steps, "quick": quick, "phi": [float(x) for x in phi],
            "start": [float(x) for x in space.start],
            **space.describe(phi), "history": history}


def evaluate(device, task_name: str, target: str, start, phi, seeds, quick: bool) -> dict:
    """The start and the learned meta-parameters on ``seeds`` of ``task_name``: mean meta loss
    and mean primary score of each."""
    task = get_task(task_name)
    space = MetaSpace(target, task)
    out = {}
    for name, vector in (("start", np.asarray(start, np.float64)), ("learned", np.asarray(phi, np.float64))):
        losses, scores = [], []
        for s in seeds:
            loss, final = inner_loss(device, space, vector, s, quick)
            losses.append(loss)
            scores.append(final[task.primary])
        out[name] = {"meta_loss": float(np.mean(losses)), task.primary: float(np.mean(scores))}
    out["instances"] = list(seeds)
    out["metric"] = task.primary
    return out


def load_softness(path) -> dict:
    """The learned softness of a meta run (softness.json): {"mlp": 56 weights, "log_tau": t}."""
    try:
        data = json.loads(Path(path).read_text())
        weights = [float(w) for w in data["mlp"]]
        log_tau = float(data["log_tau"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ConfigError(f"{path}: not a softness file of diffrast meta ({type(e).__name__}: {e})") from None
    if len(weights) != mlp.WEIGHTS or not np.all(np.isfinite(weights)) or not -6.0 <= log_tau <= 0.0:
        raise ConfigError(f"{path}: mlp needs {mlp.WEIGHTS} finite weights and log_tau in [-6, 0]")
    return {"mlp": weights, "log_tau": log_tau}


def transfer_start(device, task_name: str, target: str) -> list:
    """The start values on another task (its own gamma and eps defaults)."""
    return [float(x) for x in MetaSpace(target, get_task(task_name)).start]


def transfer_phi(result: dict, task_name: str, target: str) -> list:
    """The learned values carried to another task: the MLP and tau as learned (gamma: the
    other task's own, when the training task had no softmax colour); SGE's eps factor as learned."""
    phi = list(result["phi"])
    if target == "mlp" and not get_task(result["task"]).soft_aggregate.get("color", "").startswith("softmax"):
        phi[-1] = transfer_start(None, task_name, target)[-1]
    return phi
