"""A semi-transparent scene kind defined inside tests/ (Python here, GLSL in glsl/ next
to it): flat-coloured triangles in 2D at fixed depths, each with an opacity, drawn
through visibility strategy (b), the deep id buffer (``visibility = "deep_id"``):
every fragment is recorded, G composites them front to back and every composited
triangle is a contributor of the pixel.

Parameter groups: positions (3 corners x, y per triangle: 6), colors (RGB: 3),
opacity (1 per triangle, as a logit: alpha = sigmoid(opacity)). The contributor of
every parameter is its triangle. Declares one GPU buffer (the fixed depth of each
triangle, SSBO_SCENE_DEPTHS; triangle 0 in front). R: glsl/glass.vert (perturbed
corners and opacity) with the core's deep_id.frag. Registered through the
entry-point loader: DIFFRAST_SCENE_KINDS=tests.kinds.glass:SPEC
(tests/test_glass.py).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field

from diffrast_cli.gl.declared import BufferSpec
from diffrast_cli.io.atomic import atomic_write_bytes
from diffrast_cli.schema import Float, Int, ParamGroupConfig, Strict
from diffrast_cli.scene.base import SceneKind, SceneSetup
from diffrast_cli.scene.params import ParamGroup, ParamLayout, group_settings
from diffrast_cli.scene.registry import KindSpec


class GlassConfig(Strict):
    kind: Literal["glass"] = "glass"
    triangles: Int = Field(8, ge=1, le=100_000)
    size: Float = Field(0.4, gt=0, description="circumradius of the initial triangles (clip units)")
    structure: Literal["default", "lists", "kbuffer"] = "default"
    layers: Int = Field(16, ge=1, le=256, description="fragments composited per sample")
    fragments: Float = Field(0.0, ge=0, description="expected fragments per sample (0: from the initial sizes)")
    positions: ParamGroupConfig = ParamGroupConfig()
    colors: ParamGroupConfig = ParamGroupConfig()
    opacity: ParamGroupConfig = ParamGroupConfig()


class Glass(SceneKind):
    kind = "glass"
    primitive_name = "triangles"
    vertex_shader = "glass.vert"
    fragment_shader = "deep_id.frag"
    shade_include = "glass_shade.glsl"
    depth_include = "glass_depth.glsl"
    visibility = "deep_id"
    size_keys = "scene.triangles"

    @classmethod
    def describe_inputs(cls, cfg, base) -> str:
        return f"{cfg.triangles} semi-transparent triangles"

    @classmethod
    def create(cls, setup: SceneSetup) -> "Glass":
        return cls(setup.job.scene, setup.size)

    def __init__(self, cfg: GlassConfig, size):
        self.cfg = cfg
        n = self.n = cfg.triangles
        pixel = 2.0 / max(size)
        self.layout = ParamLayout([
            ParamGroup("positions", 6 * n, 6, **group_settings(cfg.positions, 0.5 * pixel, 0.4 * pixel, (-1.5, 1.5))),
            ParamGroup("colors", 3 * n, 3, **group_settings(cfg.colors, 0.05, 0.02, (0.0, 1.0))),
            ParamGroup("opacity", n, 1, **group_settings(cfg.opacity, 0.2, 0.05, (-8.0, 8.0))),
        ])
        self.contributors = self.shared_contributors = self.primitives = n
        self.depths = np.linspace(0.1, 0.9, n, dtype=np.float32)     # triangle 0 in front

    def defines(self) -> dict:
        return {"SCENE_MAX_CONTRIB": 1}

    def visibility_options(self) -> dict:
        coverage = self.n * 1.3 * self.cfg.size ** 2 / 4.0    # triangle area / clip-space area
        fragments = self.cfg.fragments or min(float(self.n), max(2.0, math.ceil(2.0 * coverage)))
        return {"structure": None if self.cfg.structure == "default" else self.cfg.structure,
                "layers": self.cfg.layers, "fragments": fragments}

    def resources(self) -> list:
        return [BufferSpec("DEPTHS", data=self.depths.tobytes())]

    def initial_params(self, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        n, r = self.n, self.cfg.size
        centre = (rng.random((n, 2)) * 2 - 1) * 0.7
        angle = rng.random((n, 1)) * 2 * np.pi + 2 * np.pi / 3 * np.arange(3)[None, :]
        corners = centre[:, None, :] + r * np.stack([np.cos(angle), np.sin(angle)], axis=2)
        colors = rng.random((n, 3))
        return self.layout.clip(np.concatenate([corners.reshape(-1), colors.reshape(-1),
                                                np.zeros(n)]).astype(np.float32))

    def alphas(self, theta) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-np.asarray(theta[self.layout.slice("opacity")], np.float64)))

    def metrics(self, theta, reference=None) -> dict:
        return {"mean_opacity": float(self.alphas(theta).mean())}

    def export(self, theta, out_dir) -> list:
        xy = theta[self.layout.slice("positions")].reshape(self.n, 6)
        rgb = theta[self.layout.slice("colors")].reshape(self.n, 3)
        lines = [" ".join(f"{v:.6g}" for v in (*p, *c, a)) for p, c, a in zip(xy, rgb, self.alphas(theta))]
        return [atomic_write_bytes(Path(out_dir) / "glass.txt", ("\n".join(lines) + "\n").encode())]


SPEC = KindSpec(name="glass", config=GlassConfig, factory=Glass, shader_dir=Path(__file__).parent / "glsl")
