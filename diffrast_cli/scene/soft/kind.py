"""The soft rasterizer as a scene kind (``scene: {kind: soft}``; docs/soft.md): the triangle
soup's parameters and initialisation (scene/soup), drawn so that each triangle covers the
samples within a band around it by ``coverage.cdf`` of the signed distance to its nearest edge.

R (soft.vert, soft.frag) draws each triangle grown by the band in screen space and records, at
every sample, its coverage F(d / tau) (times its opacity with ``scene.opacity``) in the deep id
buffer; G composites them front to back like semi-transparent triangles (``aggregate.color:
composite``, the probabilistic t-conorm) or combines them itself (soft_shade.glsl: a t-conorm for
the silhouette, the z-buffer's or softmax depth weights for the colour). tau, the t-conorm's p
and the softmax gamma may be annealed over the run (uniforms set per iteration). Gradients: the
estimator's (SGE), as for the soup.
"""

from __future__ import annotations

import numpy as np

from ..soup.kind import TriangleSoup
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


class SoftRasterizer(TriangleSoup):
    kind = "soft"
    vertex_shader = "soft.vert"

    def __init__(self, scene_cfg, render_cfg, size: tuple[int, int], iterations: int = 1):
        super().__init__(scene_cfg, render_cfg, size)
        self.visibility = "deep_id"
        self.fragment_shader = "soft.frag"
        self.shade_include = "soft_shade.glsl"
        self.size = size
        self.iterations = iterations
        cov = scene_cfg.coverage
        self.mlp_weights = mlp.default_weights() if cov.mlp is None else np.asarray(cov.mlp, np.float64)
        band_taus = mlp.band_taus(self.mlp_weights) if cov.cdf == "mlp" else BAND_TAUS[cov.cdf]
        tau_max = 10.0 ** max(cov.log_tau, cov.log_tau if cov.log_tau_final is None else cov.log_tau_final)
        ndc_per_pixel = 2.0 / min(size)
        self.band_pixels = min(cov.band_pixels, band_taus * tau_max / ndc_per_pixel)

    @property
    def shader_dirs(self) -> tuple:
        from ..registry import get_kind
        return (get_kind("soft").shader_path(), get_kind("soup").shader_path())   # soup_shade.glsl etc.

    def defines(self) -> dict:
        cov, agg = self.cfg.coverage, self.cfg.aggregate
        return {**super().defines(), "SOFT_FAMILY": CDF_FAMILIES[cov.cdf], "SOFT_P": repr(float(cov.shape)),
                "SOFT_BAND": repr(float(self.band_pixels)), "SOFT_CONORM": CONORMS[agg.conorm],
                "SOFT_COLOR": COLOR_MODES[agg.color], "SOFT_BG_DEPTH": repr(float(agg.background_depth))}

    def shading_uniforms(self) -> dict:
        return {"u_soft_mlp": tuple(float(w) for w in self.mlp_weights)}

    def settings(self, iteration: int) -> dict:
        """tau, the t-conorm's p and the softmax gamma at ``iteration`` (annealed)."""
        cov, agg, n = self.cfg.coverage, self.cfg.aggregate, self.iterations
        return {"tau": 10.0 ** annealed(cov.log_tau, cov.log_tau_final, iteration, n),
                "p": annealed(agg.p, agg.p_final, iteration, n),
                "gamma": 10.0 ** annealed(agg.log_gamma, agg.log_gamma_final, iteration, n)}

    def iteration_uniforms(self, iteration: int) -> dict:
        s = self.settings(iteration)
        return {"u_soft_tau": s["tau"], "u_soft_conorm_p": s["p"], "u_soft_gamma": s["gamma"]}

    def visibility_options(self) -> dict:
        # fragments per sample: the triangles' grown areas over the image (2D mode), at least the layers
        w, h = self.size
        grow = 2.0 * self.band_pixels * 2.0 / min(w, h)
        area = self.n * 11.0 / 144.0 * (2.0 * self.cfg.init.size + grow) ** 2 / 4.0
        return {"layers": int(self.cfg.coverage.layers),
                "fragments": float(min(256.0, max(float(self.cfg.coverage.layers), 4.0 * area)))}

    @classmethod
    def describe_inputs(cls, cfg, base) -> str:
        return (f"soft rasterizer: {cfg.triangles} triangles, {cfg.coverage.cdf} coverage, "
                f"tau 10^{cfg.coverage.log_tau:g}, {cfg.aggregate.conorm} t-conorm, {cfg.aggregate.color} colour")

    @classmethod
    def create(cls, setup) -> "SoftRasterizer":
        return cls(setup.job.scene, setup.job.render, setup.size, setup.job.optimize.iterations)
