"""GPU resources a scene kind declares, allocated and bound by the core.

A kind lists :class:`BufferSpec` / :class:`TextureSpec` entries; each gets a
binding point (storage buffers) or texture unit from the range the core
reserves for the scene (``SSBO_SCENE_FIRST`` / ``TEX_SCENE_FIRST`` up to the
device's limit), injected into every shader as ``SSBO_SCENE_<NAME>`` /
``TEX_SCENE_<NAME>``. The core binds them once, with its own buffers.
"""

from __future__ import annotations

from dataclasses import dataclass

import moderngl
import numpy as np

from ..errors import LimitError
from . import bindings as B

GL_MAX_SHADER_STORAGE_BUFFER_BINDINGS = "GL_MAX_SHADER_STORAGE_BUFFER_BINDINGS"
GL_MAX_COMBINED_TEXTURE_IMAGE_UNITS = "GL_MAX_COMBINED_TEXTURE_IMAGE_UNITS"
GL_MAX_3D_TEXTURE_SIZE = "GL_MAX_3D_TEXTURE_SIZE"


@dataclass(frozen=True)
class BufferSpec:
    """A storage buffer: ``data`` (bytes) or ``size`` bytes of zeros. ``persistent``: part of
    the checkpoint (state the kind's post-step passes carry between iterations).
    ``element_words``: per-element state of a changing layout (sge/relayout.py), that many
    u32 words per element, moved with the element by compaction (implies persistent).
    ``per_copy``: ``size`` bytes for each copy R draws (state of one render, e.g. what a
    kind computes per copy before drawing); the core allocates ``copies x size``."""

    name: str
    data: bytes | None = None
    size: int = 0
    persistent: bool = False
    element_words: int = 0
    per_copy: bool = False

    @property
    def nbytes(self) -> int:
        return max(4, len(self.data) if self.data is not None else int(self.size))

    def bytes_for(self, copies: int) -> int:
        """Bytes allocated when R draws ``copies`` copies."""
        return max(4, self.nbytes * int(copies)) if self.per_copy else self.nbytes


@dataclass(frozen=True)
class TextureSpec:
    """A 2D texture (sampler) of ``size`` (w, h), or a 3D one of (w, h, d), ``components``
    channels of ``dtype`` (3D ones clamped to their edges). ``per_copy`` (3D, no ``data``): one (w, h, d)
    block for each copy R draws, stacked along the depth (copy k's texels at z + k d), e.g.
    what a kind computes per copy before drawing and its own passes write as an image."""

    name: str
    size: tuple
    components: int = 4
    dtype: str = "f4"
    data: bytes | None = None
    filter: str = "nearest"     # or "linear"
    per_copy: bool = False

    def __post_init__(self):
        if self.per_copy and (len(self.size) != 3 or self.data is not None):
            raise ValueError(f"declared texture {self.name}: per_copy textures are 3D and take no data")

    def shape_for(self, copies: int) -> tuple:
        if not self.per_copy:
            return tuple(self.size)
        w, h, d = self.size
        return (w, h, d * int(copies))

    @property
    def nbytes(self) -> int:
        return self.bytes_for(1)

    def bytes_for(self, copies: int) -> int:
        return int(np.prod(self.shape_for(copies))) * self.components * int(self.dtype[1:])


def _check_name(spec) -> None:
    if not (spec.name.isidentifier() and spec.name.upper() == spec.name):
        raise ValueError(f"declared resource name {spec.name!r} must be an upper-case identifier")


class DeclaredResources:
    """The allocated resources of one scene: ``buffers`` / ``textures`` by name."""

    def __init__(self, ctx, specs: list, copies: int = 1):
        self.ctx = ctx
        self.specs = list(specs)
        self.buffers: dict = {}
        self.textures: dict = {}
        self._bindings: dict = {}
        self._units: dict = {}
        max_bindings = _limit(ctx, GL_MAX_SHADER_STORAGE_BUFFER_BINDINGS, B.SSBO_SCENE_FIRST + 8)
        max_units = _limit(ctx, GL_MAX_COMBINED_TEXTURE_IMAGE_UNITS, B.TEX_SCENE_FIRST + 8)
        seen = set()
        for spec in specs:
            _check_name(spec)
            if spec.name in seen:
                raise ValueError(f"declared resource {spec.name} is declared twice")
            seen.add(spec.name)
            if isinstance(spec, BufferSpec):
                binding = B.SSBO_SCENE_FIRST + len(self._bindings)
                if binding >= max_bindings:
                    raise LimitError(f"the scene declares {len(self._bindings) + 1} storage buffers; this device "
                                     f"binds {max_bindings - B.SSBO_SCENE_FIRST} beside the core's")
                self._bindings[spec.name] = binding
                if spec.per_copy and spec.data is not None:
                    raise ValueError(f"declared buffer {spec.name}: per_copy buffers take a size, not data")
                self.buffers[spec.name] = (ctx.buffer(spec.data) if spec.data is not None and len(spec.data)
                                           else ctx.buffer(reserve=spec.bytes_for(copies)))
                if spec.data is None:
                    self.buffers[spec.name].clear()
            else:
                unit = B.TEX_SCENE_FIRST + len(self._units)
                if unit >= max_units:
                    raise LimitError(f"the scene declares {len(self._units) + 1} textures; this device has "
                                     f"{max_units - B.TEX_SCENE_FIRST} units beside the core's")
                self._units[spec.name] = unit
                self.textures[spec.name] = _texture(ctx, spec, copies)

    @staticmethod
    def nbytes(specs: list, copies: int = 1) -> int:
        """Device memory of the declared resources (before allocating them)."""
        return sum(spec.bytes_for(copies) for spec in specs)

    def defines(self) -> dict:
        d = {f"SSBO_SCENE_{name}": b for name, b in self._bindings.items()}
        d.update({f"TEX_SCENE_{name}": u for name, u in self._units.items()})
        return d

    def persistent(self) -> list[str]:
        """Names of the buffers a checkpoint holds."""
        return [s.name for s in self.specs if isinstance(s, BufferSpec) and (s.persistent or s.element_words)]

    def element_buffers(self) -> list:
        """(buffer, words per element) of the per-element state buffers."""
        return [(self.buffers[s.name], s.element_words) for s in self.specs
                if isinstance(s, BufferSpec) and s.element_words]

    def state(self) -> dict:
        return {name: np.frombuffer(self.buffers[name].read(), np.uint8).copy() for name in self.persistent()}

    def restore(self, state: dict) -> None:
        for name in self.persistent():
            value, buf = state.get(name), self.buffers[name]
            if value is None or value.nbytes != buf.size:
                raise ValueError(f"checkpoint scene buffer {name}: expected {buf.size} bytes, got "
                                 f"{None if value is None else value.nbytes}")
            buf.write(np.ascontiguousarray(value).tobytes())

    def bind(self) -> None:
        for name, buf in self.buffers.items():
            buf.bind_to_storage_buffer(self._bindings[name])
        for name, tex in self.textures.items():
            tex.use(location=self._units[name])

    def release(self) -> None:
        for obj in list(self.buffers.values()) + list(self.textures.values()):
            obj.release()
        self.buffers, self.textures = {}, {}


def _texture(ctx, spec: TextureSpec, copies: int):
    shape = spec.shape_for(copies)
    if len(shape) == 3:
        side = _limit(ctx, GL_MAX_3D_TEXTURE_SIZE, 2048)
        if max(shape) > side:
            raise LimitError(f"texture {spec.name} needs {shape[0]}x{shape[1]}x{shape[2]} texels "
                             f"({copies} copies); this device's 3D textures reach {side} per side")
        tex = ctx.texture3d(shape, spec.components, spec.data, dtype=spec.dtype)
        tex.repeat_x = tex.repeat_y = tex.repeat_z = False
    else:
        tex = ctx.texture(shape, spec.components, spec.data, dtype=spec.dtype)
    f = moderngl.LINEAR if spec.filter == "linear" else moderngl.NEAREST
    tex.filter = (f, f)
    return tex


def _limit(ctx, name: str, fallback: int) -> int:
    try:
        return int(ctx.info.get(name) or fallback)
    except Exception:
        return fallback
