"""The soft rasterizer as a scene kind (``scene: {kind: soft}``; docs/soft.md): the triangle
soup's parameters and initialisation (scene/soup), drawn so that each triangle covers the
samples within a band around it by ``coverage.cdf`` of the signed distance to its nearest edge.

R (soft.vert, soft.frag) draws each triangle grown by the band in screen space and records, at
every sample, its coverage F(d / tau) (times its opacity with ``scene.opacity``) in the deep id
buffer; G composites them front to back like semi-transparent triangles, which aggregates the
coverages by the probabilistic t-conorm. Gradients: the estimator's (SGE), as for the soup.
"""

from __future__ import annotations

from ..soup.kind import TriangleSoup
from .config import CDF_FAMILIES

# where each family's F(x) falls below 1/255 outside the triangle, in units of tau
BAND_TAUS = {"hard": 0.0, "uniform": 1.0, "hermite": 1.0, "logistic": 5.6, "gaussian": 2.7, "laplace": 4.9,
             "cauchy": 82.0, "exponential": 0.0, "exponential_rev": 5.6, "gamma": 0.0}


class SoftRasterizer(TriangleSoup):
    kind = "soft"
    vertex_shader = "soft.vert"

    def __init__(self, scene_cfg, render_cfg, size: tuple[int, int]):
        super().__init__(scene_cfg, render_cfg, size)
        self.visibility = "deep_id"
        self.fragment_shader = "soft.frag"
        self.size = size
        cov = scene_cfg.coverage
        self.tau = 10.0 ** cov.log_tau
        ndc_per_pixel = 2.0 / min(size)
        self.band_pixels = min(cov.band_pixels, BAND_TAUS[cov.cdf] * self.tau / ndc_per_pixel)

    @property
    def shader_dirs(self) -> tuple:
        from ..registry import get_kind
        return (get_kind("soft").shader_path(), get_kind("soup").shader_path())   # soup_shade.glsl etc.

    def defines(self) -> dict:
        cov = self.cfg.coverage
        return {**super().defines(), "SOFT_FAMILY": CDF_FAMILIES[cov.cdf], "SOFT_TAU": repr(float(self.tau)),
                "SOFT_P": repr(float(cov.shape)), "SOFT_BAND": repr(float(self.band_pixels))}

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
                f"tau 10^{cfg.coverage.log_tau:g}")

    @classmethod
    def create(cls, setup) -> "SoftRasterizer":
        return cls(setup.job.scene, setup.job.render, setup.size)
