"""Visibility strategies: what R writes per sample and how G finds a pixel's colour
and contributors from it. The scene kind names its strategy (``SceneKind.visibility``).

A strategy owns R's render target(s) and supplies the GLSL that G and the
clean pass include as ``<visibility>``: it defines
`vec3 resolve_pixel(int copy, ivec2 px, uint cam, uint key, float sigma)`
(the pixel's colour in a copy, calling the kind's `scene_sample` and, through
it, `add_contributor`). Interface:

- ``__init__(device, size, copies, supersample)``; ``include`` (GLSL file),
  ``defines()``, ``uniforms()`` (set on R, G and the clean pass);
- ``clear()`` before R (binds its framebuffer), ``bind()`` (once: its
  textures at their units), ``release()``;
- ``memory_bytes_per_texel`` for the memory estimate, ``cols``/``rows``/``ss``.

Shipped: ``opaque_id`` (one primitive id per sample, nearest wins: the kind's
G-side code recomputes everything else). A deep id buffer (several fragments
per sample with depth and coverage, front to back) registers here under its
own name with the same interface. A kind that spreads f+ - f- itself keeps a
strategy for the colours and adds the G hook (``SceneKind.spread_include``).
"""

from __future__ import annotations

from ..errors import ConfigError
from ..gl import bindings as B
from .targets import TiledIdTarget


class OpaqueIdVisibility:
    """(a) The opaque id buffer: R32UI id + depth of every copy, tiled (sge/targets.py)."""

    name = "opaque_id"
    include = "resolve.glsl"
    memory_bytes_per_texel = 4 + 4          # id + depth

    def __init__(self, device, size, copies: int, supersample: int = 1):
        self.target = TiledIdTarget(device, size, copies, supersample)
        self.cols, self.rows, self.ss = self.target.cols, self.target.rows, self.target.ss

    def defines(self) -> dict:
        return {}

    def uniforms(self) -> dict:
        return self.target.uniforms()

    def clear(self) -> None:
        self.target.clear()

    def bind(self) -> None:
        self.target.texture.use(location=B.TEX_IDS)

    def release(self) -> None:
        self.target.release()


STRATEGIES: dict[str, type] = {OpaqueIdVisibility.name: OpaqueIdVisibility}


def register_strategy(cls: type) -> type:
    STRATEGIES[cls.name] = cls
    return cls


def make_visibility(name: str, device, size, copies: int, supersample: int = 1):
    if name not in STRATEGIES:
        raise ConfigError(f"unknown visibility strategy {name!r} (known: {', '.join(sorted(STRATEGIES))})")
    return STRATEGIES[name](device, size, copies, supersample)
