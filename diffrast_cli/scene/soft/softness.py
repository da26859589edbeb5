"""What the soft rasterizer's kinds (``soft`` over a soup, ``soft_mesh`` over an indexed mesh)
share: the band R grows each triangle by, the GLSL defines of the coverage and aggregation, and
the annealed settings (tau, the t-conorm's p, the softmax gamma) set as uniforms per iteration
(docs/soft.md)."""

from __future__ import annotations

import numpy as np

from . import mlp
from .config import CDF_FAMILIES, COLOR_MODES, CONORMS

# where each family's F(x) falls below 1/255 outside the triangle, in units of tau
BAND_TAUS = {"hard": 0.0, "uniform": 1.0, "hermite": 1.0, "logistic": 5.6, "gaussian": 2.7, "laplace": 4.9,
             "cauchy": 82.0, "exponential": 0.0, "exponential_rev": 5.6, "gamma": 0.0}


def annealed(start: float, final: float | None, iteration: int, iterations: int) -> float:
    """``start`` at iteration 0 to ``final`` at the last, linearly (``final`` None: constant)."""
    if final is None or iterations <= 1:
        return start
    t = min(max(iteration / (iterations - 1), 0.0), 1.0)
    return start + t * (final - start)


class Softness:
    """The coverage (``scene.coverage``) and aggregation (``scene.aggregate``) of a soft kind
    rendering at ``size`` for ``iterations`` steps."""

    def __init__(self, coverage, aggregate, size: tuple[int, int], iterations: int):
        self.coverage, self.aggregate, self.iterations = coverage, aggregate, iterations
        self.mlp_weights = mlp.default_weights() if coverage.mlp is None else np.asarray(coverage.mlp, np.float64)
        taus = mlp.band_taus(self.mlp_weights) if coverage.cdf == "mlp" else BAND_TAUS[coverage.cdf]
        final = coverage.log_tau if coverage.log_tau_final is None else coverage.log_tau_final
        ndc_per_pixel = 2.0 / min(size)
        self.band_pixels = min(coverage.band_pixels, taus * 10.0 ** max(coverage.log_tau, final) / ndc_per_pixel)

    def defines(self) -> dict:
        cov, agg = self.coverage, self.aggregate
        return {"SOFT_FAMILY": CDF_FAMILIES[cov.cdf], "SOFT_P": repr(float(cov.shape)),
                "SOFT_BAND": repr(float(self.band_pixels)), "SOFT_CONORM": CONORMS[agg.conorm],
                "SOFT_COLOR": COLOR_MODES[agg.color], "SOFT_BG_DEPTH": repr(float(agg.background_depth)),
                "SOFT_MAX_COVER": int(cov.layers)}

    def shading_uniforms(self) -> dict:
        return {"u_soft_mlp": tuple(float(w) for w in self.mlp_weights)}

    def settings(self, iteration: int) -> dict:
        """tau, the t-conorm's p and the softmax gamma at ``iteration`` (annealed)."""
        cov, agg, n = self.coverage, self.aggregate, self.iterations
        return {"tau": 10.0 ** annealed(cov.log_tau, cov.log_tau_final, iteration, n),
                "p": annealed(agg.p, agg.p_final, iteration, n),
                "gamma": 10.0 ** annealed(agg.log_gamma, agg.log_gamma_final, iteration, n)}

    def iteration_uniforms(self, iteration: int) -> dict:
        s = self.settings(iteration)
        return {"u_soft_tau": s["tau"], "u_soft_conorm_p": s["p"], "u_soft_gamma": s["gamma"]}


def describe(coverage, aggregate) -> str:
    """A few words on a soft kind's coverage and aggregation (``diffrast validate``)."""
    return (f"{coverage.cdf} coverage, tau 10^{coverage.log_tau:g}, {aggregate.conorm} t-conorm, "
            f"{aggregate.color} colour")
