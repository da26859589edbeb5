"""A scene kind defined entirely inside tests/ (Python here, GLSL in glsl/ next to it):
flat-coloured convex quads in 2D, each drawn as two triangles, stacked at fixed depths.

Parameter groups: positions (4 corners x, y per quad: 8), colors (RGB per quad: 3).
The contributor of every parameter is its quad. It declares one GPU buffer (the
depth of each quad, SSBO_SCENE_DEPTHS) and, with ``spread: hook``, spreads each
pixel's f+ - f- itself through the G hook (glsl/quads_spread.glsl) instead of the
contributor list. Registered through the entry-point loader: DIFFRAST_SCENE_KINDS=
tests.kinds.quads:SPEC (see tests/test_scene_kinds.py).
"""

from __future__ import annotations

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

CORNERS = 4


class QuadsConfig(Strict):
    kind: Literal["quads"] = "quads"
    quads: Int = Field(4, ge=1, le=100_000)
    size: Float = Field(0.25, gt=0, description="half diagonal of the initial quads (clip units)")
    spread: Literal["ids", "hook"] = "ids"
    positions: ParamGroupConfig = ParamGroupConfig()
    colors: ParamGroupConfig = ParamGroupConfig()


class Quads(SceneKind):
    kind = "quads"
    primitive_name = "quads"
    vertex_shader = "quads.vert"
    shade_include = "quads_shade.glsl"
    depth_include = "quads_depth.glsl"
    size_keys = "scene.quads"

    @classmethod
    def describe_inputs(cls, cfg, base) -> str:
        return f"{cfg.quads} quads"

    @classmethod
    def create(cls, setup: SceneSetup) -> "Quads":
        return cls(setup.job.scene, setup.size)

    def __init__(self, cfg: QuadsConfig, size):
        self.cfg = cfg
        n = self.n = cfg.quads
        pixel = 2.0 / max(size)
        self.layout = ParamLayout([
            ParamGroup("positions", 2 * CORNERS * n, 2 * CORNERS,
                       **group_settings(cfg.positions, 0.5 * pixel, 0.4 * pixel, (-1.5, 1.5))),
            ParamGroup("colors", 3 * n, 3, **group_settings(cfg.colors, 0.05, 0.02, (0.0, 1.0))),
        ])
        self.contributors = self.shared_contributors = self.primitives = n
        self.spread_include = "quads_spread.glsl" if cfg.spread == "hook" else ""
        self.depths = np.linspace(0.1, 0.9, n, dtype=np.float32)     # quad 0 in front

    def defines(self) -> dict:
        return {"SCENE_MAX_CONTRIB": 1}

    def resources(self) -> list:
        return [BufferSpec("DEPTHS", data=self.depths.tobytes())]

    def draw(self, instances: int) -> None:
        self.vao.render(vertices=6 * self.primitives, instances=instances)

    def initial_params(self, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        n, r = self.n, self.cfg.size
        centre = (rng.random((n, 2)) * 2 - 1) * 0.7
        angle = rng.random((n, 1)) * np.pi / 2 + np.pi / 2 * np.arange(CORNERS)[None, :] + 0.3
        corners = centre[:, None, :] + r * np.stack([np.cos(angle), np.sin(angle)], axis=2)
        colors = rng.random((n, 3))
        return self.layout.clip(np.concatenate([corners.reshape(-1), colors.reshape(-1)]).astype(np.float32))

    def metrics(self, theta, reference=None) -> dict:
        xy = theta[self.layout.slice("positions")].reshape(self.n, CORNERS, 2)
        x, y = xy[..., 0], xy[..., 1]
        area = 0.5 * np.abs(np.sum(x * np.roll(y, -1, 1) - np.roll(x, -1, 1) * y, axis=1))
        return {"quad_area": float(area.mean())}

    def export(self, theta, out_dir) -> list:
        xy = theta[self.layout.slice("positions")].reshape(self.n, CORNERS, 2)
        rgb = theta[self.layout.slice("colors")].reshape(self.n, 3)
        lines = [" ".join(f"{v:.6g}" for v in (*q.reshape(-1), *c)) for q, c in zip(xy, rgb)]
        return [atomic_write_bytes(Path(out_dir) / "quads.txt", ("\n".join(lines) + "\n").encode())]


SPEC = KindSpec(name="quads", config=QuadsConfig, factory=Quads, shader_dir=Path(__file__).parent / "glsl")
