"""The soft rasterizer over a triangle soup (``scene: {kind: soft}``; docs/soft.md): the soup's
parameters and initialisation (scene/soup), drawn so that each triangle covers the samples
within a band around it by ``coverage.cdf`` of the signed distance to its nearest edge.

R (soft.vert, soft.frag) draws each triangle grown by the band in screen space and records, at
every sample, its coverage F(d / tau) (times its opacity with ``scene.opacity``) in the deep id
buffer; G composites them front to back like semi-transparent triangles (``aggregate.color:
composite``, the probabilistic t-conorm) or combines them itself (soft_composite.glsl: a
t-conorm for the silhouette, the z-buffer's or softmax depth weights for the colour). tau, the
t-conorm's p and the softmax gamma may be annealed over the run (softness.py). Gradients: the
estimator's (SGE), as for the soup.
"""

from __future__ import annotations

from ..soup.kind import TriangleSoup
from .softness import Softness


class SoftRasterizer(TriangleSoup):
    kind = "soft"
    vertex_shader = "soft.vert"

    def __init__(self, scene_cfg, render_cfg, size: tuple[int, int], iterations: int = 1):
        super().__init__(scene_cfg, render_cfg, size)
        self.visibility = "deep_id"
        self.fragment_shader = "soft.frag"
        self.shade_include = "soft_shade.glsl"
        self.size = size
        self.softness = Softness(scene_cfg.coverage, scene_cfg.aggregate, size, iterations)
        self.band_pixels = self.softness.band_pixels

    @property
    def shader_dirs(self) -> tuple:
        from ..registry import get_kind
        return (get_kind("soft").shader_path(), get_kind("soup").shader_path())   # soup_shade.glsl etc.

    def defines(self) -> dict:
        return {**super().defines(), **self.softness.defines()}

    def shading_uniforms(self) -> dict:
        return self.softness.shading_uniforms()

    def iteration_uniforms(self, iteration: int) -> dict:
        return self.softness.iteration_uniforms(iteration)

    def visibility_options(self) -> dict:
        # fragments per sample: the triangles' grown areas over the image (2D mode), at least the layers
        w, h = self.size
        grow = 2.0 * self.band_pixels * 2.0 / min(w, h)
        area = self.n * 11.0 / 144.0 * (2.0 * self.cfg.init.size + grow) ** 2 / 4.0
        return {"layers": int(self.cfg.coverage.layers),
                "fragments": float(min(256.0, max(float(self.cfg.coverage.layers), 4.0 * area)))}

    @classmethod
    def describe_inputs(cls, cfg, base) -> str:
        return f"soft rasterizer: {cfg.triangles} triangles, " + Softness(cfg.coverage, cfg.aggregate, (2, 2), 1).describe()

    @classmethod
    def create(cls, setup) -> "SoftRasterizer":
        return cls(setup.job.scene, setup.job.render, setup.size, setup.job.optimize.iterations)
