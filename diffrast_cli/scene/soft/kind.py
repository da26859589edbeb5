"""The soft rasterizer over a triangle soup (``scene: {kind: soft}``; docs/soft.md): the soup's
parameters and initialisation (scene/soup), drawn so that each triangle covers the samples
within a band around it by ``coverage.cdf`` of the signed distance to its nearest edge.

R (soft.vert, soft.frag) draws each triangle grown by the band in screen space and records, at
every sample, its coverage F(d / tau) (times its opacity with ``scene.opacity``) in the deep id
buffer; G composites them front to back like semi-transparent triangles (``aggregate.color:
composite``, the probabilistic t-conorm) or combines them itself (soft_composite.glsl: a
t-conorm for the silhouette, the z-buffer's or softmax depth weights for the colour). tau, the
t-conorm's p and the softmax gamma may be annealed over the run (softness.py). Gradients: with
``scene.gradient: analytic`` (the default) exact for positions and colours (G's scene_analytic,
soft_analytic.glsl; those groups are not perturbed), the estimator's (SGE) for the rest.
"""

from __future__ import annotations

from dataclasses import replace

from ...gl import shaders
from ...gl.passes import barrier, groups_1d, set_uniforms
from ..params import MAP_ANALYTIC, ParamLayout
from ..soup.kind import TriangleSoup
from .softness import Softness, describe


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
        # exact gradients: the positions' and colours' own slots after the triangles' (MAP_ANALYTIC)
        self.exact = set()
        self.backward = None
        if scene_cfg.gradient == "analytic":
            groups, slots = [], self.n
            if not self.layout["positions"].frozen:     # G's screen slots: 3 corners x (x, y)
                self.screen_base = slots
                slots += 6 * self.n
            for g in self.layout.groups:
                per = {"positions": 6, "colors": 3}.get(g.name)
                if per is not None and not g.frozen:
                    g = replace(g, contrib_base=slots, mapping=MAP_ANALYTIC, offset=0)
                    slots += per * self.n
                    self.exact.add(g.name)
                groups.append(g)
            self.layout = ParamLayout(groups)
            self.contributors = slots

    @property
    def shader_dirs(self) -> tuple:
        from ..registry import get_kind
        return (get_kind("soft").shader_path(), get_kind("soup").shader_path())   # soup_shade.glsl etc.

    def defines(self) -> dict:
        d = {**super().defines(), **self.softness.defines()}
        if self.exact:
            # a slot sums O(1) derivatives over up to every pixel: at the default gain (64) a
            # large triangle's colour overflowed the CPU renderer's fixed-point accumulators at
            # 128² (docs/design.md); 1/4 keeps 512² in range with steps of 1/16384 of a unit
            d.update(SCENE_ANALYTIC=1, SOFT_ANALYTIC=1, ANALYTIC_GAIN="0.25")
        if "positions" in self.exact:
            d.update(SOFT_POSITIONS_ANALYTIC=1, SOFT_SCREEN_BASE=self.screen_base, SOFT_TRIANGLES=self.n)
        if "colors" in self.exact:
            d.update(SOFT_COLORS_ANALYTIC=1, SOUP_COLOR_SIGMA="0.0")
        return d

    def shading_uniforms(self) -> dict:
        return self.softness.shading_uniforms()

    def build(self, ctx, defines: dict, buffers: dict) -> None:
        super().build(ctx, defines, buffers)
        self.ctx = ctx
        if "positions" in self.exact:
            self.backward = shaders.compute(ctx, "soft_backward.comp", defines, dirs=self.shader_dirs)

    def after_gradient(self, estimator, iteration: int) -> None:
        # exact position gradients: G's derivatives at the corners' sample positions chained
        # through the camera (soft_backward.comp)
        if self.backward is None:
            return
        set_uniforms(self.backward, u_pairs=estimator.pairs, u_contributors=estimator.contributors,
                     u_samples=estimator.samples, u_seed=estimator.seed, u_iteration=iteration,
                     **estimator.visibility.uniforms())
        self.backward.run(*groups_1d(estimator.pairs * self.n, estimator.device.max_groups_x))
        barrier(self.ctx)

    def release(self) -> None:
        if self.backward is not None:
            self.backward.release()
            self.backward = None
        super().release()

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
        return f"soft rasterizer: {cfg.triangles} triangles, " + describe(cfg.coverage, cfg.aggregate)

    @classmethod
    def create(cls, setup) -> "SoftRasterizer":
        return cls(setup.job.scene, setup.job.render, setup.size, setup.job.optimize.iterations)
