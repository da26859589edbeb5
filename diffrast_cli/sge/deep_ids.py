"""Deep id buffer (visibility strategy (b)): up to K fragments per sample with
depth and opacity, front to back, for every tiled copy of R.

Two structures with one interface (``glsl/include/deep_ids.glsl`` holds the
GLSL side and the correctness argument):

* :class:`KBuffer` -- K slots per sample (depth key, id, opacity), built in two
  raster passes: an atomicMin insertion chain on 32-bit depth keys, then a
  payload pass where each surviving fragment claims its slot. Keeps the K
  nearest fragments of each sample. 12 K bytes per sample, always.
* :class:`LinkedLists` -- a head per sample and a node pool (16 bytes per
  fragment) filled by one raster pass; the gather sorts each list. Keeps every
  fragment up to the node budget; past it, fragments are dropped and
  :meth:`LinkedLists.needed` says how many nodes the frame wanted.

Both take a draw callback that renders all copies with a program whose
fragment stage calls ``deep_emit``; both are read in compute passes through
``deep_gather`` / ``deep_composite`` (``glsl/include/deep_composite.glsl``).
Binding points live here (a reserved range above the core's) so that nothing
in ``gl/bindings.py`` changes.
"""

from __future__ import annotations

import numpy as np

from ..errors import LimitError
from ..gl import shaders
from ..gl.passes import barrier, groups_1d, set_uniforms

# Storage-buffer binding points of the deep id buffer (above gl/bindings.py's 0..20).
SSBO_DEEP_KEYS = 24       # k-buffer: depth keys, slot-major [slot * N + sample]
SSBO_DEEP_IDS = 25        # k-buffer: primitive id + 1 (0: none)
SSBO_DEEP_ALPHAS = 26     # k-buffer: opacity of the fragment
SSBO_DEEP_HEADS = 27      # lists: first node of each sample (0xFFFFFFFF: none)
SSBO_DEEP_NODES = 28      # lists: nodes (depth key, id + 1, opacity bits, next)
SSBO_DEEP_COUNTER = 29    # lists: nodes requested this frame
# Bindings of the test kind (tests/test_deep_ids.py, tools/bench_deep_ids.py).
SSBO_DEEP_TRIS = 30       # triangles: 3 corners xyz + (rgb, opacity), 4 vec4 each
SSBO_DEEP_OUT_COLOR = 31  # resolve output: composited colour + transmittance per copy pixel
SSBO_DEEP_OUT_CONTRIB = 32  # resolve output: contributor count, digest, dropped (+ list)
SSBO_DEEP_OUT_FRAGS = 33  # resolve output: gathered fragments of each sample

EMPTY = 0xFFFFFFFF
T_MIN = 1.0e-4            # compositing stops below this transmittance
ALPHA_MIN = 1.0 / 255.0   # fragments below this opacity are not recorded

KBUFFER_BYTES_PER_SLOT = 12   # key, id, opacity
LIST_BYTES_PER_SAMPLE = 4     # head
LIST_BYTES_PER_NODE = 16      # key, id, opacity, next


def binding_defines() -> dict[str, str]:
    return {name: str(value) for name, value in globals().items()
            if name.startswith("SSBO_DEEP_") and isinstance(value, int)}


def hash_size(max_contrib: int) -> tuple[int, int]:
    """(slots, bits) of the contributor hash: a power of two >= 2 * max_contrib."""
    bits = max(4, int(np.ceil(np.log2(max(2, 2 * max_contrib)))))
    return 1 << bits, bits


class _DeepBase:
    kind = ""

    def __init__(self, device, size: tuple[int, int], k: int, max_contrib: int):
        if not 1 <= k <= 256:
            raise LimitError(f"deep id buffer: K must be in 1..256, got {k}")
        self.device = device
        self.ctx = device.ctx
        self.width, self.height = int(size[0]), int(size[1])
        self.samples = self.width * self.height
        self.k = int(k)
        self.max_contrib = int(max_contrib)
        self.fbo = self.ctx.empty_framebuffer((self.width, self.height))
        self._buffers = {}
        self._clear = None

    def _buffer(self, binding: int, nbytes: int):
        if nbytes > self.device.max_ssbo_bytes:
            raise LimitError(f"deep id buffer: {nbytes} bytes in one storage buffer; this device allows "
                             f"{self.device.max_ssbo_bytes}")
        buf = self.ctx.buffer(reserve=max(4, nbytes))
        self._buffers[binding] = buf
        return buf

    def defines(self) -> dict:
        slots, bits = hash_size(self.max_contrib)
        out = binding_defines()
        out.update({"DEEP_K": self.k, "DEEP_MAX": self.k, "DEEP_MAX_CONTRIB": self.max_contrib,
                    "DEEP_HASH": slots, "DEEP_HASH_BITS": bits, "DEEP_T_MIN": repr(T_MIN),
                    "DEEP_ALPHA_MIN": repr(ALPHA_MIN)})
        return out

    def uniforms(self) -> dict:
        return {"u_deep_samples": self.samples, "u_deep_width": self.width, "u_deep_budget": 0}

    def bind(self) -> None:
        for binding, buf in self._buffers.items():
            buf.bind_to_storage_buffer(binding)

    def clear(self) -> None:
        if self._clear is None:
            self._clear = shaders.compute(self.ctx, "deep_clear.comp", self.defines())
        self.bind()
        count = self._clear_count()
        set_uniforms(self._clear, u_count=count, **self.uniforms())
        gx, gy = groups_1d(count, self.device.max_groups_x)
        self._clear.run(gx, gy)
        barrier(self.ctx)

    def raster(self, program, draw, pass_index: int = 0) -> None:
        """One raster pass: no depth test, no blending, no culling; the fragment
        stage of ``program`` calls deep_emit."""
        import moderngl
        self.fbo.use()
        self.ctx.disable(moderngl.DEPTH_TEST | moderngl.BLEND | moderngl.CULL_FACE)
        self.bind()
        set_uniforms(program, u_deep_pass=pass_index, **self.uniforms())
        draw()
        barrier(self.ctx)

    def release(self) -> None:
        for buf in self._buffers.values():
            buf.release()
        self._buffers.clear()
        self.fbo.release()
        if self._clear is not None:
            self._clear.release()


class KBuffer(_DeepBase):
    """Fixed k-buffer: the K nearest fragments of every sample."""

    kind = "kbuffer"
    raster_passes = 2

    def __init__(self, device, size, k: int = 8, max_contrib: int | None = None):
        super().__init__(device, size, k, max_contrib or 2 * k)
        slot_bytes = 4 * self.samples * self.k
        self.keys = self._buffer(SSBO_DEEP_KEYS, slot_bytes)
        self.ids = self._buffer(SSBO_DEEP_IDS, slot_bytes)
        self.alphas = self._buffer(SSBO_DEEP_ALPHAS, slot_bytes)

    @property
    def bytes_per_sample(self) -> int:
        return KBUFFER_BYTES_PER_SLOT * self.k

    def defines(self) -> dict:
        return {**super().defines(), "DEEP_KBUFFER": 1}

    def _clear_count(self) -> int:
        return self.samples * self.k

    def build(self, program, draw) -> None:
        self.clear()
        self.raster(program, draw, 0)
        self.raster(program, draw, 1)

    def read(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(keys, ids, alphas), each (N, K) in slot order."""
        shape = (self.k, self.samples)
        keys = np.frombuffer(self.keys.read(), np.uint32).reshape(shape).T
        ids = np.frombuffer(self.ids.read(), np.uint32).reshape(shape).T
        alphas = np.frombuffer(self.alphas.read(), np.float32).reshape(shape).T
        return keys, ids, alphas


class LinkedLists(_DeepBase):
    """Per-sample linked lists in a node pool of ``budget`` nodes; the gather
    keeps the ``resolve_max`` nearest of each list (default K)."""

    kind = "lists"
    raster_passes = 1

    def __init__(self, device, size, k: int = 8, budget: int | None = None, max_contrib: int | None = None):
        super().__init__(device, size, k, max_contrib or 2 * k)
        self.budget = int(budget if budget is not None else self.samples * self.k)
        self.heads = self._buffer(SSBO_DEEP_HEADS, 4 * self.samples)
        self.counter = self._buffer(SSBO_DEEP_COUNTER, 4)
        self.nodes = self._buffer(SSBO_DEEP_NODES, LIST_BYTES_PER_NODE * max(1, self.budget))

    @property
    def bytes_per_sample(self) -> float:
        return LIST_BYTES_PER_SAMPLE + LIST_BYTES_PER_NODE * self.budget / self.samples

    def defines(self) -> dict:
        return {**super().defines(), "DEEP_LISTS": 1}

    def uniforms(self) -> dict:
        return {**super().uniforms(), "u_deep_budget": self.budget}

    def _clear_count(self) -> int:
        return self.samples

    def build(self, program, draw) -> None:
        self.clear()
        self.raster(program, draw, 0)

    def needed(self) -> int:
        """Nodes the last build asked for (> budget: it overflowed)."""
        return int(np.frombuffer(self.counter.read(), np.uint32)[0])

    def overflowed(self) -> bool:
        return self.needed() > self.budget

    def grow(self, nodes: int) -> None:
        """Resize the node pool (e.g. to 1.25 x needed() after an overflow)."""
        self.budget = int(nodes)
        self.nodes.release()
        self.nodes = self._buffer(SSBO_DEEP_NODES, LIST_BYTES_PER_NODE * max(1, self.budget))

    def read(self) -> tuple[np.ndarray, np.ndarray, int]:
        """(heads (N,), nodes (min(needed, budget), 4) uint32, needed)."""
        needed = self.needed()
        heads = np.frombuffer(self.heads.read(), np.uint32).copy()
        used = min(needed, self.budget)
        nodes = np.frombuffer(self.nodes.read(size=max(4, 16 * used)), np.uint32)[: 4 * used].reshape(used, 4)
        return heads, nodes, needed


def make(device, kind: str, size, k: int, **kwargs):
    if kind == "kbuffer":
        return KBuffer(device, size, k, max_contrib=kwargs.get("max_contrib"))
    if kind == "lists":
        return LinkedLists(device, size, k, budget=kwargs.get("budget"), max_contrib=kwargs.get("max_contrib"))
    raise ValueError(f"deep id buffer kind must be kbuffer or lists, got {kind!r}")


class DeepTriangles:
    """The deep-id test kind: semi-transparent flat triangles in 2D clip space,
    ``copies`` tiled copies (copy c shifted by c * shift), and its G-shaped
    resolve pass. ``tris``: (T, 4, 4) float32 -- corners xyz (w unused) and
    (r, g, b, opacity)."""

    def __init__(self, device, deep, tris: np.ndarray, tile: tuple[int, int], cols: int, rows: int,
                 copies: int = 2, shift=(0.0, 0.0), background=(0.0, 0.0, 0.0), write_contrib: bool = False,
                 write_frags: bool = False):
        self.device, self.ctx, self.deep = device, device.ctx, deep
        self.tile, self.cols, self.rows, self.copies = tuple(tile), cols, rows, copies
        assert copies % 2 == 0 and cols * tile[0] == deep.width and rows * tile[1] == deep.height
        self.count = len(tris)
        self.tris = self.ctx.buffer(np.ascontiguousarray(tris, np.float32).tobytes())
        defines = deep.defines()
        self.program = shaders.program(self.ctx, "deep_tris.vert", "deep_tris.frag", defines)
        rdef = dict(defines)
        if write_contrib:
            rdef["DEEP_WRITE_CONTRIB"] = 1
        if write_frags:
            rdef["DEEP_WRITE_FRAGS"] = 1
        self.write_contrib, self.write_frags = write_contrib, write_frags
        self.resolve_prog = shaders.compute(self.ctx, "deep_resolve.comp", rdef)
        self.vao = self.ctx.vertex_array(self.program, [])
        npix = tile[0] * tile[1]
        self.stride = deep.max_contrib + 3 if write_contrib else 3
        self.out_color = self.ctx.buffer(reserve=16 * npix * copies)
        self.out_contrib = self.ctx.buffer(reserve=4 * npix * (copies // 2) * self.stride)
        self.out_frags = self.ctx.buffer(reserve=16 * deep.samples * deep.k if write_frags else 16)
        tiles = {"u_cols": cols, "u_rows": rows, "u_tile_size": tuple(tile)}
        set_uniforms(self.program, u_copy_shift=tuple(map(float, shift)), u_alpha_scale=1.0, **tiles)
        set_uniforms(self.resolve_prog, u_size=tuple(tile), u_background=tuple(map(float, background)), **tiles)

    def draw(self) -> None:
        self.tris.bind_to_storage_buffer(SSBO_DEEP_TRIS)
        import moderngl
        self.vao.render(mode=moderngl.TRIANGLES, vertices=3 * self.count, instances=self.copies)

    def build(self) -> None:
        self.deep.build(self.program, self.draw)

    def resolve(self) -> None:
        from ..gl.bindings import WG_2D_X, WG_2D_Y
        self.deep.bind()
        self.tris.bind_to_storage_buffer(SSBO_DEEP_TRIS)
        self.out_color.bind_to_storage_buffer(SSBO_DEEP_OUT_COLOR)
        self.out_contrib.bind_to_storage_buffer(SSBO_DEEP_OUT_CONTRIB)
        self.out_frags.bind_to_storage_buffer(SSBO_DEEP_OUT_FRAGS)
        set_uniforms(self.resolve_prog, **self.deep.uniforms())
        w, h = self.tile
        self.resolve_prog.run(-(-w // WG_2D_X), -(-h // WG_2D_Y), self.copies // 2)
        barrier(self.ctx)

    def read_colors(self) -> np.ndarray:
        """(copies, H, W, 4): rgb over the background, transmittance."""
        w, h = self.tile
        return np.frombuffer(self.out_color.read(), np.float32).reshape(self.copies, h, w, 4)

    def read_contrib(self) -> tuple[np.ndarray, np.ndarray | None]:
        """(header (pairs, H, W, 3): count | full flag << 31, digest, dropped; lists or None)."""
        w, h = self.tile
        raw = np.frombuffer(self.out_contrib.read(), np.uint32).reshape(self.copies // 2, h, w, self.stride)
        return raw[..., :3], (raw[..., 3:] if self.write_contrib else None)

    def read_frags(self) -> np.ndarray:
        """(N, K, 4): gathered (key, id, alpha bits, count) of every sample of the target."""
        return np.frombuffer(self.out_frags.read(), np.uint32).reshape(self.deep.samples, self.deep.k, 4)

    def release(self) -> None:
        for obj in (self.vao, self.program, self.resolve_prog, self.tris, self.out_color, self.out_contrib,
                    self.out_frags):
            obj.release()
