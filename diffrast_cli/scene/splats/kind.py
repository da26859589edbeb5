"""3D Gaussian splats (``scene: {kind: splats}``): the rendering contract is docs/splats.md.

Layout (element s of every group is splat s; its contributor is the splat): positions (3),
scales (3, log), rotations (4, quaternion w x y z), opacity (1, logit), sh_dc (3) and, with
``sh_degree`` > 0, sh_rest (3 ((degree + 1)^2 - 1), coefficient-major). R (splat.vert,
splat.frag) draws each splat as a screen square around its projected mean and records the
Gaussian's opacity at every sample in the deep id buffer; G composites the samples front to
back with each splat's spherical-harmonic colour (splat_shade.glsl). Exact gradients (the
defaults): G adds each fragment's derivatives into the colour and opacity slots and five screen
slots per splat (mean, conic), which splat_backward.comp chains to positions, scales and
rotations after G (``after_gradient``).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ...gl import shaders
from ...gl.declared import BufferSpec
from ...gl.passes import barrier, groups_1d, set_uniforms
from ...io.splat_ply import SplatCloud, read_splat_ply, write_splat_ply
from ..base import SceneKind, SceneSetup
from ..params import MAP_ANALYTIC, ParamGroup, ParamLayout, group_settings
from ...sge.relayout import RelayoutSpec
from . import densify
from .init import initial_cloud

CHAMFER_MIN_OPACITY = 0.5     # the splats whose means count as surface points

GROUPS = ("positions", "scales", "rotations", "opacity", "sh_dc", "sh_rest")
INITIAL_OVERDRAW = 8.0       # default initial size (measured: docs/design.md, "Default initial size")
PROJECTED_BYTES = 48          # a splat's record per copy (glsl/scene/splats/splat_projected.glsl)
SCREEN_SLOTS = 5              # G's exact screen derivatives per splat: mean x, y; conic A, B, C


def pixels_per_unit(view_proj: np.ndarray, point, size) -> float:
    """How many output pixels one world unit spans at ``point`` (the larger axis of the
    projection's Jacobian there)."""
    vp = np.asarray(view_proj, np.float64)
    clip = vp @ np.append(np.asarray(point, np.float64), 1.0)
    w = clip[3] if abs(clip[3]) > 1e-12 else 1e-12
    j0 = 0.5 * size[0] * (vp[0, :3] * w - clip[0] * vp[3, :3]) / (w * w)
    j1 = 0.5 * size[1] * (vp[1, :3] * w - clip[1] * vp[3, :3]) / (w * w)
    return float(max(np.linalg.norm(j0), np.linalg.norm(j1), 1e-12))


def splat_chamfer(points: np.ndarray, reference, n: int = 2000, seed: int = 0) -> float:
    """Symmetric Chamfer distance between splat means and a reference mesh: the mean squared
    distance of the points to the surface plus that of ``n`` surface samples to the nearest
    point (the mesh kind's definition, with points in place of one surface)."""
    from scipy.spatial import cKDTree

    from ..mesh.chamfer import point_to_surface_sq, sample_surface
    if len(points) == 0:
        return float("inf")
    surface = sample_surface(reference.positions, reference.faces, n, seed)
    back = cKDTree(points).query(surface)[0] ** 2
    return float(point_to_surface_sq(points, reference.positions, reference.faces).mean() + back.mean())


class GaussianSplats(SceneKind):
    kind = "splats"
    primitive_name = "splats"
    vertex_shader = "splat.vert"
    fragment_shader = "splat.frag"
    shade_include = "splat_shade.glsl"
    depth_include = "splat_depth.glsl"
    visibility = "deep_id"
    draw_order = False
    size_keys = "scene.count"

    @classmethod
    def load_asset(cls, cfg, base):
        if cfg.init.kind == "ply":
            path = Path(cfg.init.file) if base is None else Path(base) / cfg.init.file
            return read_splat_ply(path)
        return None

    @classmethod
    def describe_inputs(cls, cfg, base) -> str:
        if cfg.init.kind == "ply":
            return f"{len(cls.load_asset(cfg, base).positions)} splats from {cfg.init.file}"
        where = {"random": "at random", "points": f"on the points of {cfg.init.file}",
                 "mesh": f"on the surface of {cfg.init.file}"}[cfg.init.kind]
        return f"{cfg.count} splats {where}, SH degree {cfg.sh_degree}"

    @classmethod
    def create(cls, setup: SceneSetup) -> "GaussianSplats":
        return cls(setup)

    def __init__(self, setup: SceneSetup):
        cfg = self.cfg = setup.job.scene
        self.base = setup.base
        self.size = tuple(int(v) for v in setup.size)
        self.degree = cfg.sh_degree
        self.coeffs = (self.degree + 1) ** 2
        self.cloud = setup.asset if isinstance(setup.asset, SplatCloud) else None
        n = self.n = len(self.cloud.positions) if self.cloud is not None else cfg.count
        center = (np.asarray(cfg.init.center, np.float64) if self.cloud is None
                  else self.cloud.positions.mean(axis=0))
        self.view_proj = np.asarray(setup.views.view_proj, np.float64)
        train = list(setup.views.train) or [0]
        self.pixel = float(np.median([1.0 / pixels_per_unit(self.view_proj[i], center, self.size) for i in train]))
        px = self.pixel
        # exact gradients: one accumulator slot per parameter, after the splats' own
        self.dc_analytic = cfg.color_gradient == "analytic"
        self.opacity_analytic = cfg.opacity_gradient == "analytic"
        self.geometry_analytic = cfg.geometry_gradient == "analytic"
        # G's screen-space derivatives (mean, conic) per splat: splat_backward.comp reads them
        self.screen_base = n if self.geometry_analytic else None
        slots = [n + (SCREEN_SLOTS * n if self.geometry_analytic else 0)]

        def analytic(on: bool, per_splat: int) -> dict:
            if not on:
                return {}
            slots[0] += per_splat * n
            return dict(contrib_base=slots[0] - per_splat * n, mapping=MAP_ANALYTIC)

        groups = [
            ParamGroup("positions", 3 * n, 3, **group_settings(cfg.positions, 0.5 * px, 0.25 * px, (-1e4, 1e4)),
                       **analytic(self.geometry_analytic, 3)),
            # scales: at most an eighth of the image (a splat that grows past it only blurs, and
            # its accumulators overflow), at least a hundredth of a pixel
            ParamGroup("scales", 3 * n, 3, **group_settings(cfg.scales, 0.1, 0.01, (
                math.log(0.01 * px), math.log(max(self.size) / 8.0 * px))), **analytic(self.geometry_analytic, 3)),
            ParamGroup("rotations", 4 * n, 4, **group_settings(cfg.rotations, 0.05, 0.01, (-4.0, 4.0)),
                       **analytic(self.geometry_analytic, 4)),
            ParamGroup("opacity", n, 1, **group_settings(cfg.opacity, 0.3, 0.05, (-12.0, 12.0)),
                       **analytic(self.opacity_analytic, 1)),
            ParamGroup("sh_dc", 3 * n, 3, **group_settings(cfg.sh_dc, 0.1, 0.05, (-8.0, 8.0)),
                       **analytic(self.dc_analytic, 3)),
        ]
        if self.degree > 0:
            rest = 3 * (self.coeffs - 1)
            groups.append(ParamGroup("sh_rest", rest * n, rest, **group_settings(cfg.sh_rest, 0.05, 0.002, (-8.0, 8.0))))
        self.layout = ParamLayout(groups)
        self.shared_contributors = self.primitives = n
        self.contributors = slots[0]

    # -- GPU ------------------------------------------------------------------

    def defines(self) -> dict:
        return {"SCENE_MAX_CONTRIB": 1, "SH_DEGREE": self.degree, "SH_COEFFS": self.coeffs,
                "RENDER_W": self.size[0], "RENDER_H": self.size[1], "SPLAT_COUNT": self.n,
                **({"SCENE_ANALYTIC": 1} if self.dc_analytic or self.opacity_analytic or self.geometry_analytic
                   else {}),
                **({"SPLAT_DC_ANALYTIC": 1} if self.dc_analytic else {}),
                **({"SPLAT_OPACITY_ANALYTIC": 1} if self.opacity_analytic else {}),
                **({"SPLAT_GEOMETRY_ANALYTIC": 1, "SPLAT_SCREEN_BASE": self.screen_base}
                   if self.geometry_analytic else {})}

    def visibility_options(self) -> dict:
        return {"structure": None if self.cfg.structure == "default" else self.cfg.structure,
                "layers": self.cfg.layers, "fragments": self.cfg.fragments or self._expected_fragments(),
                "contributors": self.cfg.contributors}

    def _expected_fragments(self) -> float:
        """The first node budget in fragments per sample: 4x what the initial splats need seen
        by camera 0 (their squares' area over the image's), at least min(layers, 16), at most
        256 (and what one storage buffer holds: sge/deep_ids.py clamps)."""
        if self.cloud is not None:
            sigma = np.exp(self.cloud.log_scales.max(axis=1)).mean()
        else:
            sigma = math.exp(float(self._initial().log_scales.max()))
        side = 2.0 * (3.0 * sigma / self.pixel + 1.0)
        start = self.n * side * side / (self.size[0] * self.size[1])
        # Room for the splats to grow: a frame that overflows the node pool adds no gradient
        # (the plus and minus copies lost different fragments) until the pool grows at the
        # next log step (docs/design.md).
        return float(min(256.0, max(min(float(self.cfg.layers), 16.0), 4.0 * start)))

    def resources(self) -> list:
        # Two triangles per splat over its 4 corners (indexed: the GPU's vertex cache runs the
        # projection once per corner, not once per triangle vertex).
        quad = np.array([0, 1, 2, 0, 2, 3], np.uint32)
        corners = (quad[None, :] + 4 * np.arange(self.n, dtype=np.uint32)[:, None]).reshape(-1)
        quads = [BufferSpec("QUADS", data=corners.tobytes()),
                 BufferSpec("PROJECTED", size=PROJECTED_BYTES * self.n, per_copy=True)]
        return quads + (densify.densify_resources(self.n) if densify.active(self.cfg.densify) else [])

    def build(self, ctx, defines: dict, buffers: dict) -> None:
        super().build(ctx, defines, buffers)
        self.vao.release()
        self.vao = ctx.vertex_array(self.program, [], index_buffer=buffers["QUADS"], index_element_size=4)
        self.ctx = ctx
        self.project = shaders.compute(ctx, "splat_project.comp", defines, dirs=self.shader_dirs)
        self.backward = (shaders.compute(ctx, "splat_backward.comp", defines, dirs=self.shader_dirs)
                         if self.geometry_analytic else None)
        # R in a compute shader with the lists structure; the k-buffer's two raster passes
        # keep the raster pipeline (splat.vert, splat.frag)
        self.raster = (shaders.compute(ctx, "splat_raster.comp", defines, dirs=self.shader_dirs)
                       if "DEEP_LISTS" in defines else None)
        self._max_groups = 65535
        self._raster_ready = False

    def before_render(self, estimator, iteration: int, copies: int, clean: bool) -> None:
        # Every splat of every copy projected once (splat_project.comp) for R and G to read.
        self._max_groups = estimator.device.max_groups_x
        set_uniforms(self.project, u_copies=copies, u_iteration=iteration, u_clean=int(clean),
                     u_seed=estimator.seed, u_samples=estimator.samples)
        self.project.run(*groups_1d(copies * self.n, self._max_groups))
        barrier(self.ctx)
        if self.raster is not None and not self._raster_ready:   # the target's layout never changes
            set_uniforms(self.raster, **estimator.visibility.uniforms())
            self._raster_ready = True

    def after_gradient(self, estimator, iteration: int) -> None:
        # exact geometry gradients: G's screen-space derivatives chained to the splats' positions,
        # scales and rotations (splat_backward.comp)
        if self.backward is None:
            return
        set_uniforms(self.backward, u_pairs=estimator.pairs, u_contributors=estimator.contributors,
                     u_samples=estimator.samples)
        self.backward.run(*groups_1d(estimator.pairs * self.n, self._max_groups))
        barrier(self.ctx)

    def release(self) -> None:
        for name in ("project", "raster", "backward"):
            prog = getattr(self, name, None)
            if prog is not None:
                prog.release()
                setattr(self, name, None)
        super().release()

    # -- densification (scene.densify; off: none of this exists) ---------------

    def relayout(self):
        return RelayoutSpec(groups=tuple(g.name for g in self.layout.groups), capacity=self.n) \
            if densify.active(self.cfg.densify) else None

    def post_step(self, estimator) -> list:
        if not densify.active(self.cfg.densify):
            return []
        return [densify.SplatDensifier(estimator, self.cfg.densify, self.n, self.pixel, self.shader_dirs)]

    def draw(self, instances: int) -> None:
        if self.raster is None:
            self.vao.render(vertices=6 * self.primitives, instances=instances)
            return
        set_uniforms(self.raster, u_copies=instances)
        self.raster.run(*groups_1d(instances * self.n, self._max_groups))

    # -- parameters -----------------------------------------------------------

    def _initial(self, seed: int = 0) -> SplatCloud:
        if self.cloud is not None:
            return self.cloud
        # default size: at most what makes ~INITIAL_OVERDRAW fragments per sample if the splats
        # filled the view (n pi (3 sigma)^2 = overdraw W H, sigma in pixels at the scene centre)
        w, h = self.size
        bound = self.pixel * math.sqrt(INITIAL_OVERDRAW * w * h / (9.0 * math.pi * self.n))
        return initial_cloud(self.cfg, self.base, self.degree, np.random.default_rng(seed), bound)

    def initial_params(self, seed: int) -> np.ndarray:
        return self.layout.clip(self.to_params(self._initial(seed)))

    def to_params(self, cloud: SplatCloud) -> np.ndarray:
        parts = [cloud.positions.reshape(-1), cloud.log_scales.reshape(-1), cloud.rotations.reshape(-1),
                 cloud.opacity_logits.reshape(-1), cloud.sh[:, 0].reshape(-1)]
        if self.degree > 0:
            parts.append(cloud.sh[:, 1:self.coeffs].reshape(-1))
        return np.concatenate(parts).astype(np.float32)

    def to_cloud(self, theta: np.ndarray) -> SplatCloud:
        n, lay = self.n, self.layout
        sh = np.zeros((n, self.coeffs, 3), np.float32)
        sh[:, 0] = theta[lay.slice("sh_dc")].reshape(n, 3)
        if self.degree > 0:
            sh[:, 1:] = theta[lay.slice("sh_rest")].reshape(n, self.coeffs - 1, 3)
        return SplatCloud(positions=theta[lay.slice("positions")].reshape(n, 3).copy(),
                          log_scales=theta[lay.slice("scales")].reshape(n, 3).copy(),
                          rotations=theta[lay.slice("rotations")].reshape(n, 4).copy(),
                          opacity_logits=theta[lay.slice("opacity")].copy(), sh=sh)

    # -- results --------------------------------------------------------------

    def metrics(self, theta, reference=None) -> dict:
        alpha = 1.0 / (1.0 + np.exp(-np.asarray(theta[self.layout.slice("opacity")], np.float64)))
        out = {"mean_opacity": float(alpha.mean()), "splats_visible": int((alpha >= 1.0 / 255.0).sum())}
        if reference is not None and getattr(reference, "faces", None) is not None:
            means = np.asarray(theta[self.layout.slice("positions")], np.float64).reshape(self.n, 3)
            out["chamfer"] = splat_chamfer(means[alpha >= CHAMFER_MIN_OPACITY], reference)
        return out

    def export(self, theta, out_dir) -> list:
        return [write_splat_ply(Path(out_dir) / "splats.ply", self.to_cloud(np.asarray(theta, np.float32)))]
