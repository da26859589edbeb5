"""Visibility strategies: what R writes per sample and how G finds a pixel's colour
and contributors from it. The scene kind names its strategy (``SceneKind.visibility``).

A strategy owns R's render target(s) and supplies the GLSL that G and the
clean pass include as ``<visibility>``: it defines
`vec3 resolve_pixel(int copy, ivec2 px, uint cam, uint key, float sigma)`
(the pixel's colour in a copy, calling the kind's `scene_sample` and, through
it, `add_contributor`). Interface:

- ``__init__(device, size, copies, supersample, options)`` (``options``: the
  kind's ``visibility_options()``); ``include`` (GLSL file), ``defines()``,
  ``uniforms()`` (set on R, G and the clean pass);
- ``clear()`` before R (binds its framebuffer), ``draw(program, draw)`` (R:
  calls ``draw()`` as often as it needs, e.g. twice for a k-buffer),
  ``bind()`` (once: its textures and buffers), ``release()``;
- ``flag_names`` (its entries in report.json ``flags``) and ``on_flags(flags)``
  (at log steps, after the GPU flags are read: e.g. grow a buffer);
- ``memory_bytes_per_texel`` for the memory estimate, ``cols``/``rows``/``ss``.

Shipped: (a) ``opaque_id`` (one primitive id per sample, nearest wins: the
kind's G-side code recomputes everything else); (b) ``deep_id``
(sge/deep_ids.py: every fragment of a sample with depth and opacity,
composited front to back, all composited fragments contributors). A kind that
spreads f+ - f- itself keeps a strategy for the colours and adds the G hook
(``SceneKind.spread_include``).
"""

from __future__ import annotations

from ..errors import ConfigError
from ..gl import bindings as B
from .deep_ids import DeepIdVisibility
from .targets import TiledIdTarget


class OpaqueIdVisibility:
    """(a) The opaque id buffer: R32UI id + depth of every copy, tiled (sge/targets.py)."""

    name = "opaque_id"
    include = "resolve.glsl"
    memory_bytes_per_texel = 4 + 4          # id + depth
    flag_names = ()

    def __init__(self, device, size, copies: int, supersample: int = 1, options: dict | None = None):
        if options:
            raise ConfigError(f"visibility {self.name}: takes no options (got {', '.join(sorted(options))})")
        self.target = TiledIdTarget(device, size, copies, supersample)
        self.cols, self.rows, self.ss = self.target.cols, self.target.rows, self.target.ss

    def defines(self) -> dict:
        return {}

    def uniforms(self) -> dict:
        return self.target.uniforms()

    def clear(self) -> None:
        self.target.clear()

    def draw(self, program, draw) -> None:
        draw()

    def on_flags(self, flags: dict) -> None:
        pass

    def bind(self) -> None:
        self.target.texture.use(location=B.TEX_IDS)

    def release(self) -> None:
        self.target.release()


STRATEGIES: dict[str, type] = {OpaqueIdVisibility.name: OpaqueIdVisibility,
                               DeepIdVisibility.name: DeepIdVisibility}


def register_strategy(cls: type) -> type:
    STRATEGIES[cls.name] = cls
    return cls


def make_visibility(name: str, device, size, copies: int, supersample: int = 1, options: dict | None = None):
    if name not in STRATEGIES:
        raise ConfigError(f"unknown visibility strategy {name!r} (known: {', '.join(sorted(STRATEGIES))})")
    return STRATEGIES[name](device, size, copies, supersample, options)
