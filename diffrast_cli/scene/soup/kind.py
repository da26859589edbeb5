"""Triangle soup: N independent triangles, 12 parameters each.

Layout (groups back to back): positions x,y of the 3 corners (6 per
triangle), depths z of the 3 corners (3 per triangle), flat RGB colour (3 per
triangle), and with ``scene.opacity.enabled`` an opacity logit (1 per
triangle, scene/opacity.py: the soup is then drawn into the deep id buffer and
composited front to back). The contributor of every parameter is its triangle.
In 2D mode x,y are in [-1, 1] over the image and z in [0, 1] orders the
triangles (0 nearest); in perspective mode (x, y, z) is a point in the world.
"""

from __future__ import annotations

import math

import numpy as np

from .. import opacity as op
from ..base import SceneKind, SceneSetup
from ...sge.relayout import RelayoutSpec
from ..params import ParamGroup, ParamLayout, group_settings
from .resample import SoupResampler, resample_resources

PARAMS_PER_TRIANGLE = 12


class TriangleSoup(SceneKind):
    """The soup scene kind: parameter layout, initialisation, R draw, G shading, export."""

    kind = "soup"
    primitive_name = "triangles"
    vertex_shader = "soup.vert"
    size_keys = "scene.triangles"
    shade_include = "soup_shade.glsl"
    depth_include = "soup_depth.glsl"

    @classmethod
    def describe_inputs(cls, cfg, base) -> str:
        return f"soup {cfg.triangles} triangles"

    @classmethod
    def create(cls, setup: SceneSetup) -> "TriangleSoup":
        return cls(setup.job.scene, setup.job.render, setup.size)

    def __init__(self, scene_cfg, render_cfg, size: tuple[int, int]):
        self.cfg = scene_cfg
        self.n = scene_cfg.triangles
        self.perspective = render_cfg.projection == "perspective"
        w, h = size
        if self.perspective:
            cam = render_cfg.camera
            dist = math.dist(cam.position, cam.look_at)
            pixel = 2.0 * dist * math.tan(math.radians(cam.fov_y) / 2.0) / h
            pos_bounds = dep_bounds = (-1e4, 1e4)
            dep_eps = 0.5 * pixel
        else:
            pixel = 2.0 / max(w, h)   # one pixel in clip units
            pos_bounds = (-1.5, 1.5)
            dep_bounds = (0.0, 1.0)
            dep_eps = 0.01
        n = self.n
        groups = [
            # Defaults tuned on configs/quickstart.yaml (CPU renderer, see README "Results").
            ParamGroup("positions", 6 * n, 6, **group_settings(scene_cfg.positions, 0.5 * pixel, 0.4 * pixel, pos_bounds)),
            ParamGroup("depths", 3 * n, 3, **group_settings(scene_cfg.depths, dep_eps, 0.01, dep_bounds)),
            ParamGroup("colors", 3 * n, 3, **group_settings(scene_cfg.colors, 0.05, 0.02, (0.0, 1.0))),
        ]
        self.transparent = scene_cfg.opacity.enabled
        if self.transparent:       # R records every fragment with the copy's opacity (soup.vert's v_alpha)
            groups.append(op.opacity_group(scene_cfg.opacity, n))
            self.visibility = "deep_id"
            self.fragment_shader = "deep_id.frag"
        self.layout = ParamLayout(groups)
        self.contributors = n
        self.shared_contributors = n
        self.primitives = n
        self.program = None

    # -- parameters ---------------------------------------------------------

    def defines(self) -> dict:
        return {"SCENE_MAX_CONTRIB": 1}

    def visibility_options(self) -> dict:
        if not self.transparent:
            return {}
        fragments = None
        if not self.perspective:   # mean area of a triangle with corners uniform in a square of side 2 size
            # is 11/144 (2 size)^2; the image is 4 clip units^2. Fitting grows the triangles, and a
            # frame whose lists overflow drops fragments at random (f+ and f- lose different ones:
            # configs/transparent_soup.yaml fell from 30 to 18 dB when its budget started at 4 per
            # sample; the lists only grow at log steps): room for K layers or 4x the initial coverage.
            coverage = self.n * 11.0 / 144.0 * (2.0 * self.cfg.init.size) ** 2 / 4.0
            fragments = min(float(self.n), max(float(self.cfg.opacity.layers), 4.0 * coverage))
        return op.visibility_options(self.cfg.opacity, fragments)

    # -- resampling (scene.resample; off: none of this exists) ---------------

    @property
    def resampling(self) -> bool:
        return self.cfg.resample.every > 0

    def resources(self) -> list:
        return resample_resources(self.n) if self.resampling else []

    def relayout(self):
        groups = ("positions", "depths", "colors") + (("opacity",) if self.transparent else ())
        return RelayoutSpec(groups=groups, capacity=self.n) if self.resampling else None

    def post_step(self, estimator) -> list:
        return [SoupResampler(estimator, self.cfg.resample, self.n, self.shader_dirs)] if self.resampling else []

    def initial_params(self, seed: int) -> np.ndarray:
        """Random soup: centres uniform in centre +- extent, corners +- size around them."""
        init = self.cfg.init
        rng = np.random.default_rng(seed)
        n = self.n
        center = np.asarray(init.center, dtype=np.float64)
        extent = np.asarray(init.extent, dtype=np.float64)
        c = center + (rng.random((n, 3)) * 2.0 - 1.0) * extent
        corners = c[:, None, :2] + (rng.random((n, 3, 2)) * 2.0 - 1.0) * init.size
        depth = np.repeat(c[:, None, 2], 3, axis=1) + (rng.random((n, 3)) * 2.0 - 1.0) * 0.01 * init.size
        lo, hi = init.color
        color = lo + rng.random((n, 3)) * (hi - lo)
        parts = [corners.reshape(-1), depth.reshape(-1), color.reshape(-1)]
        if self.transparent:
            parts.append(op.initial_logits(self.cfg.opacity, n))
        theta = np.concatenate(parts).astype(np.float32)
        return self.layout.clip(theta)

    def split(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions (N,3,3), colors (N,3)) of a parameter vector."""
        n = self.n
        xy = theta[self.layout.slice("positions")].reshape(n, 3, 2)
        z = theta[self.layout.slice("depths")].reshape(n, 3, 1)
        color = theta[self.layout.slice("colors")].reshape(n, 3)
        return np.concatenate([xy, z], axis=2), color

    def metrics(self, theta: np.ndarray, reference=None) -> dict:
        return {"mean_opacity": float(op.alphas(theta, self.layout).mean())} if self.transparent else {}

    def export(self, theta: np.ndarray, out_dir) -> list:
        """soup.ply (face colours; with opacity their alpha channel is the opacity) and soup.obj
        (vertex colours, RGB only: OBJ has no alpha)."""
        from ...io.export import export_soup
        positions, colors = self.split(theta)
        if self.transparent:
            colors = np.concatenate([colors, op.alphas(theta, self.layout)[:, None]], axis=1)
        return export_soup(positions, colors, out_dir, stem="soup")
