"""Light setups on the GPU: the LIGHTS table, each camera's range of it, and environment maps.

Each light is two vec4 (docs/pbr.md): ``a = (type, x, y, z)`` -- the direction
towards a directional light (unit), a point light's position, or for an
environment map the float offsets of its irradiance and prefiltered radiance
in ENV -- and ``b = (colour * intensity, rotation in radians)``. Camera i is
lit by setup i mod (number of setups); LIGHT_RANGE[i] = (first light, count).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...gl.declared import BufferSpec

LIGHT_TYPES = {"directional": 0.0, "point": 1.0, "ambient": 2.0, "environment": 3.0}
ENV_LEVELS = 6
ENV_SPEC_SIZE = (128, 64)
ENV_IRR_SIZE = (32, 16)


@dataclass
class PackedLights:
    table: np.ndarray          # (L, 8) float32
    ranges: np.ndarray         # (cameras, 2) uint32
    env: np.ndarray | None     # float32 RGB triples of every environment map, or None
    environments: dict         # path -> prefiltered Environment (for references and tests)

    def resources(self) -> list:
        out = [BufferSpec("LIGHTS", data=self.table.tobytes()), BufferSpec("LIGHT_RANGE", data=self.ranges.tobytes())]
        if self.env is not None:
            out.append(BufferSpec("ENV", data=self.env.tobytes()))
        return out

    def defines(self) -> dict:
        if self.env is None:
            return {}
        return dict(HAS_ENV=1, ENV_LEVELS=ENV_LEVELS, ENV_SPEC_W=ENV_SPEC_SIZE[0], ENV_SPEC_H=ENV_SPEC_SIZE[1],
                    ENV_IRR_W=ENV_IRR_SIZE[0], ENV_IRR_H=ENV_IRR_SIZE[1])


def environment_path(light, base) -> Path:
    p = Path(light.file).expanduser()
    return p if p.is_absolute() or base is None else Path(base) / p


def load_environment(path: Path):
    """The prefiltered environment (scene.material.environment.Environment) of an image file."""
    from ...io.hdr import load_environment_image
    from .environment import prefilter_environment
    return prefilter_environment(load_environment_image(path), levels=ENV_LEVELS, spec_size=ENV_SPEC_SIZE,
                                 irr_size=ENV_IRR_SIZE)


def pack_lights(setups: list, cameras: int, base=None) -> PackedLights:
    """``setups``: scene.lights (lists of LightConfig); ``cameras``: the job's view count."""
    rows, firsts, env_parts, env_at, environments, size = [], [], [], {}, {}, 0
    for setup in setups:
        firsts.append((len(rows), len(setup)))
        for light in setup:
            e = np.asarray(light.color, np.float64) * float(light.intensity)
            a = [LIGHT_TYPES[light.type], 0.0, 0.0, 0.0]
            if light.type == "directional":
                d = np.asarray(light.direction, np.float64)
                a[1:] = d / np.linalg.norm(d)
            elif light.type == "point":
                a[1:] = light.position
            elif light.type == "environment":
                path = environment_path(light, base)
                if path not in env_at:
                    env = environments[path] = load_environment(path)
                    irr = np.ascontiguousarray(env.irradiance, np.float32).reshape(-1)
                    spec = np.ascontiguousarray(env.specular, np.float32).reshape(-1)
                    env_at[path] = (size, size + irr.size)
                    env_parts += [irr, spec]
                    size += irr.size + spec.size
                a[1], a[2] = env_at[path]
            rows.append(a + list(e) + [math.radians(light.rotation)])
    table = np.asarray(rows, np.float32).reshape(-1, 8)
    ranges = np.asarray([firsts[i % len(firsts)] for i in range(max(cameras, 1))], np.uint32)
    env = np.concatenate(env_parts).astype(np.float32) if env_parts else None
    if env is not None and env.size >= 1 << 24:
        raise ValueError("environment maps too large for float offsets")   # 2^24 floats: ~90 maps
    return PackedLights(table, ranges, env, environments)


__all__ = ["ENV_IRR_SIZE", "ENV_LEVELS", "ENV_SPEC_SIZE", "LIGHT_TYPES", "PackedLights", "environment_path",
           "load_environment", "pack_lights"]
