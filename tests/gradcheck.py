"""The one finite-difference harness for SGE gradients (every parameter kind and mode uses it).

``check_gradient(problem, theta, groups)`` compares the mean of N SGE estimates with
central finite differences (FD) of the rendered loss, step eps_i per parameter, and
asserts, for each named group:

1. power: FD is not all ~0, enough parameters have |FD| well above the estimate's
   noise for the sign check to mean something, and the scale below is measured to
   better than ``max_scale_se`` (so a 10% scale error cannot hide in the noise);
2. per parameter: |mean_i - FD_i| <= z * sqrt(se_i^2 + sd_i^2) + floor * rms(FD), where se_i
   is that parameter's own standard error over the N estimates and sd_i the spread of its
   FD over steps 0.8, 1 and 1.25 eps_i (FD is the mean over the three steps: a rasterized
   loss is piecewise constant at the sample scale, and the steps flip different samples);
3. sign: where |FD_i| exceeds twice that tolerance, sign(mean_i) == sign(FD_i);
4. scale: alpha = <mean, FD> / <FD, FD> within ``scale_tol`` of 1 (its standard error
   from the per-estimate alphas), which catches +-10% gradient scale errors;
5. shape: the relative L2 residual |mean - alpha FD| / |FD| < ``rel_tol`` (wrong
   contributors, wrong parameters).

Groups not listed but frozen must receive exactly zero. With several groups perturbed at
once, each group's SGE mean is the gradient of the loss smoothed by the others'
perturbations; scenes are built so that the smoothing is negligible (linear or bilinear
interactions), or the other groups are frozen.

The loss is the job's: mse for L2, mae for L1, averaged over the training views (with
several views per iteration the estimate averages over the views an iteration shows;
the tests use every training view per iteration).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class GroupResult:
    name: str
    fd: np.ndarray
    mean: np.ndarray
    se: np.ndarray
    scale: float
    scale_se: float
    rel: float
    significant: int

    def summary(self) -> str:
        return (f"{self.name}: scale {self.scale:.3f} +- {self.scale_se:.3f}, residual {self.rel:.3f}, "
                f"{self.significant}/{self.fd.size} significant")


def eps_vector(layout) -> np.ndarray:
    return np.concatenate([np.full(g.count, 0.0 if g.frozen else g.eps, np.float32) for g in layout.groups])


def loss_of(problem):
    """theta -> the job's loss of a clean render over the training views (normals etc. as the scene makes them)."""
    est = problem.estimator
    key = "mae" if problem.job.optimize.loss == "l1" else "mse"
    cams = list(problem.views.train)

    def loss(theta):
        est.upload(theta)
        return est.evaluate(cams)[key]

    return loss


FD_STEPS = (0.8, 1.0, 1.25)


def finite_differences(problem, theta, indices, loss=None, steps=FD_STEPS) -> np.ndarray:
    """Central differences (f(theta + h e_i) - f(theta - h e_i)) / (2 h) at ``indices``, one row
    per step h = k eps_i for k in ``steps``: (len(steps), theta.size)."""
    loss = loss or loss_of(problem)
    eps = eps_vector(problem.scene.layout)
    fd = np.zeros((len(steps), theta.size), np.float64)
    for i in indices:
        for row, k in enumerate(steps):
            e = np.zeros_like(theta)
            e[i] = k * eps[i]
            fd[row, i] = (loss(theta + e) - loss(theta - e)) / (2.0 * float(e[i]))
    return fd


def sge_estimates(problem, theta, estimates: int, first_iteration: int = 0) -> np.ndarray:
    est = problem.estimator
    est.upload(theta)
    return np.array([est.estimate_gradient(first_iteration + k) for k in range(estimates)], np.float64)


def check_gradient(problem, theta, groups, *, estimates=32, z=4.5, floor=0.1, scale_tol=0.05,
                   max_scale_se=0.02, rel_tol=0.2, min_significant=0.2, loss=None,
                   samples=None) -> dict:
    """Assert the SGE mean matches FD for ``groups`` (see the module doc); returns {name: GroupResult}.
    ``samples``: precomputed SGE estimates (N, d); ``loss``: theta -> loss (default: the job's)."""
    theta = np.asarray(theta, np.float32)
    layout = problem.scene.layout
    slices = {name: layout.slice(name) for name in groups}
    indices = np.concatenate([np.arange(s.start, s.stop) for s in slices.values()])
    fds = finite_differences(problem, theta, indices, loss)
    fd, fd_sd = fds.mean(axis=0), fds.std(axis=0, ddof=1)
    samples = sge_estimates(problem, theta, estimates) if samples is None else np.asarray(samples, np.float64)
    n = len(samples)
    mean = samples.mean(axis=0)
    se = samples.std(axis=0, ddof=1) / np.sqrt(n)
    for g in layout.groups:
        if g.frozen:
            s = layout.slice(g.name)
            assert not samples[:, s].any(), f"{g.name} is frozen but received a gradient"
    results = {}
    for name, s in slices.items():
        f, m, x = fd[s], mean[s], samples[:, s]
        rms = float(np.sqrt(np.mean(f * f)))
        assert rms > 1e-6, f"{name}: finite differences are all ~0; the check is vacuous"
        tol = z * np.hypot(se[s], fd_sd[s]) + floor * rms
        ff = float(f @ f)
        alphas = x @ f / ff
        scale, scale_se = float(alphas.mean()), float(alphas.std(ddof=1) / np.sqrt(n))
        rel = float(np.linalg.norm(m - scale * f) / np.sqrt(ff))
        significant = np.abs(f) > 2.0 * tol
        r = GroupResult(name, f, m, se[s], scale, scale_se, rel, int(significant.sum()))
        results[name] = r
        assert scale_se <= max_scale_se, f"{r.summary()}: too noisy to see a 10% error (more estimates)"
        assert r.significant >= min_significant * f.size, f"{r.summary()}: too few parameters above the noise"
        flipped = np.flatnonzero(significant & (np.sign(m) != np.sign(f)))
        assert flipped.size == 0, f"{r.summary()}: sign differs from FD at {flipped}: {m[flipped]} vs {f[flipped]}"
        bad = np.flatnonzero(np.abs(m - f) > tol)
        assert bad.size == 0, (f"{r.summary()}: SGE mean off FD at {bad[:8]}: {m[bad[:8]]} vs {f[bad[:8]]} "
                               f"(tolerance {tol[bad[:8]]})")
        assert abs(scale - 1.0) <= scale_tol, f"{r.summary()}: scale off 1 by more than {scale_tol}"
        assert rel < rel_tol, f"{r.summary()}: residual above {rel_tol}"
    return results
