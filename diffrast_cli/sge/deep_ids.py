"""Deep id buffer (visibility strategy (b), ``deep_id``): up to K fragments per sample
with depth and opacity, front to back, for every tiled copy of R.

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

:class:`DeepIdVisibility` is the strategy G and the clean pass use
(``glsl/include/deep_resolve.glsl``: composite each sample front to back with
the kind's ``scene_sample`` colour, every composited fragment a contributor).
Which structure it builds is the one switch :data:`DEFAULT_STRUCTURE` (per
renderer), unless the kind's ``visibility_options()`` names one.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ConfigError, LimitError
from ..gl import bindings as B
from ..gl import shaders
from ..gl.passes import barrier, groups_1d, set_uniforms
from .targets import tile_layout

# The structure a kind gets unless it asks for one: per-sample lists on the CPU renderer
# (faster at every measured point, deterministic with ties; docs/design.md, "Deep id
# buffer"). The GPU entry is the one to change after measuring tools/bench_deep_ids.py
# on the GPU.
DEFAULT_STRUCTURE = {"software": "lists", "gpu": "lists"}

# Storage-buffer binding points (the visibility strategy's range of gl/bindings.py);
# one structure is compiled at a time, so the two share them.
SSBO_DEEP_KEYS = SSBO_DEEP_HEADS = B.SSBO_VISIBILITY_FIRST       # keys [slot * N + s] | heads[s]
SSBO_DEEP_IDS = SSBO_DEEP_NODES = B.SSBO_VISIBILITY_FIRST + 1    # ids (+1, 0: none) | nodes (key, id, alpha, next)
SSBO_DEEP_ALPHAS = SSBO_DEEP_COUNTER = B.SSBO_VISIBILITY_FIRST + 2  # opacities | (nodes requested, budget)

EMPTY = 0xFFFFFFFF
T_MIN = 1.0e-4            # compositing stops below this transmittance
ALPHA_MIN = 1.0 / 255.0   # fragments below this opacity are not recorded

KBUFFER_BYTES_PER_SLOT = 12   # key, id, opacity
LIST_BYTES_PER_SAMPLE = 4     # head
LIST_BYTES_PER_NODE = 16      # key, id, opacity, next
LIST_SLACK = 1.25             # node budget over the expected fragments; also the growth factor


def contributor_defines(max_contrib: int) -> dict:
    """Defines of the hashed contributor list (include/contributors.glsl): capacity and
    hash bits (a power of two >= 2 x capacity, so the table never fills)."""
    bits = max(4, int(np.ceil(np.log2(max(2, 2 * max_contrib)))))
    return {"MAX_CONTRIB": int(max_contrib), "CONTRIB_HASH_BITS": bits}


class _DeepBase:
    kind = ""

    def __init__(self, device, size: tuple[int, int], k: int):
        if not 1 <= k <= 256:
            raise LimitError(f"deep id buffer: K must be in 1..256, got {k}")
        self.device = device
        self.ctx = device.ctx
        self.width, self.height = int(size[0]), int(size[1])
        self.samples = self.width * self.height
        self.k = int(k)
        self.fbo = self.ctx.empty_framebuffer((self.width, self.height))
        self._buffers = {}
        self._clear = None

    def _buffer(self, binding: int, nbytes: int, what: str = ""):
        if nbytes > self.device.max_ssbo_bytes:
            raise LimitError(f"the deep id buffer needs {nbytes / 2**20:.1f} MiB in one storage buffer{what}; this "
                             f"device allows {self.device.max_ssbo_bytes / 2**20:.1f} MiB (lower render.resolution, "
                             f"optimize.samples or optimize.views_per_iteration)")
        buf = self.ctx.buffer(reserve=max(4, nbytes))
        self._buffers[binding] = buf
        return buf

    def defines(self) -> dict:
        return {"SSBO_DEEP_A": SSBO_DEEP_KEYS, "SSBO_DEEP_B": SSBO_DEEP_IDS, "SSBO_DEEP_C": SSBO_DEEP_ALPHAS,
                "DEEP_K": self.k, "DEEP_MAX": self.k, "DEEP_T_MIN": repr(T_MIN), "DEEP_ALPHA_MIN": repr(ALPHA_MIN)}

    def uniforms(self) -> dict:
        return {"u_deep_samples": self.samples, "u_deep_width": self.width}

    def bind(self) -> None:
        for binding, buf in self._buffers.items():
            buf.bind_to_storage_buffer(binding)

    def clear(self) -> None:
        """Empty the structure (one compute pass; the buffers must be bound) and make its
        attachment-less framebuffer current: with no depth buffer the depth test passes."""
        if self._clear is None:
            self._clear = shaders.compute(self.ctx, "deep_clear.comp", self.defines())
            count = self._clear_count()
            set_uniforms(self._clear, u_count=count, **self.uniforms())
            self._clear_groups = groups_1d(count, self.device.max_groups_x)
        self._clear.run(*self._clear_groups)
        barrier(self.ctx)
        self.fbo.use()

    def draw(self, program, draw) -> None:
        """R into the structure: ``draw()`` renders every copy with ``program``, whose
        fragment stage calls deep_emit; the k-buffer draws twice (u_deep_pass 0, 1)."""
        for p in range(self.raster_passes):
            if self.raster_passes > 1:
                set_uniforms(program, u_deep_pass=p)
            draw()
            barrier(self.ctx)

    def release(self) -> None:
        for buf in self._buffers.values():
            buf.release()
        self._buffers.clear()
        self.fbo.release()
        if self._clear is not None:
            self._clear.release()
            self._clear = None


class KBuffer(_DeepBase):
    """Fixed k-buffer: the K nearest fragments of every sample."""

    kind = "kbuffer"
    raster_passes = 2

    def __init__(self, device, size, k: int = 8):
        super().__init__(device, size, k)
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

    def read(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(keys, ids, alphas), each (N, K) in slot order."""
        shape = (self.k, self.samples)
        keys = np.frombuffer(self.keys.read(), np.uint32).reshape(shape).T
        ids = np.frombuffer(self.ids.read(), np.uint32).reshape(shape).T
        alphas = np.frombuffer(self.alphas.read(), np.float32).reshape(shape).T
        return keys, ids, alphas


class LinkedLists(_DeepBase):
    """Per-sample linked lists in a node pool of ``budget`` nodes; the gather keeps the
    K nearest of each list. The budget lives on the GPU beside the node counter
    (counter[1]), so growing the pool sets no uniform anywhere."""

    kind = "lists"
    raster_passes = 1

    def __init__(self, device, size, k: int = 8, budget: int | None = None):
        super().__init__(device, size, k)
        self.heads = self._buffer(SSBO_DEEP_HEADS, 4 * self.samples)
        self.counter = self._buffer(SSBO_DEEP_COUNTER, 12)
        self.nodes = None
        self.grow(budget if budget is not None else self.samples * self.k)

    @property
    def bytes_per_sample(self) -> float:
        return LIST_BYTES_PER_SAMPLE + LIST_BYTES_PER_NODE * self.budget / self.samples

    def defines(self) -> dict:
        return {**super().defines(), "DEEP_LISTS": 1}

    def _clear_count(self) -> int:
        return self.samples

    def needed(self) -> int:
        """The most nodes a build asked for since the pool was sized: the last build's, or
        a larger one G saw (> budget: it overflowed)."""
        counts = np.frombuffer(self.counter.read(size=12), np.uint32)
        return int(max(counts[0], counts[2]))

    def overflowed(self) -> bool:
        return self.needed() > self.budget

    def grow(self, nodes: int) -> None:
        """Resize the node pool (e.g. to 1.25 x needed() after an overflow), at most what one
        storage buffer holds on this device; contents are lost."""
        nodes = max(1, min(int(nodes), self.device.max_ssbo_bytes // LIST_BYTES_PER_NODE))
        new = self._buffer(SSBO_DEEP_NODES, LIST_BYTES_PER_NODE * nodes, f" for {nodes} fragments")
        if self.nodes is not None:
            self.nodes.release()
        self.nodes, self.budget = new, nodes
        self.counter.write(np.array([0, nodes, 0], np.uint32).tobytes())
        new.bind_to_storage_buffer(SSBO_DEEP_NODES)

    def read(self) -> tuple[np.ndarray, np.ndarray, int]:
        """(heads (N,), nodes (min(needed, budget), 4) uint32, needed)."""
        needed = self.needed()
        heads = np.frombuffer(self.heads.read(), np.uint32).copy()
        used = min(needed, self.budget)
        nodes = np.frombuffer(self.nodes.read(size=max(4, 16 * used)), np.uint32)[: 4 * used].reshape(used, 4)
        return heads, nodes, needed


STRUCTURES = {"kbuffer": KBuffer, "lists": LinkedLists}


def default_structure(device) -> str:
    return DEFAULT_STRUCTURE["software" if device.is_software else "gpu"]


def make(device, kind: str, size, k: int, budget: int | None = None):
    if kind == "kbuffer":
        return KBuffer(device, size, k)
    if kind == "lists":
        return LinkedLists(device, size, k, budget=budget)
    raise ConfigError(f"deep id buffer: structure must be kbuffer or lists, got {kind!r}")


class DeepIdVisibility:
    """(b) The deep id buffer of every copy, tiled like the opaque one (sge/targets.py).

    Options (``SceneKind.visibility_options()``): ``structure`` ("lists" or "kbuffer";
    default :data:`DEFAULT_STRUCTURE`), ``layers`` (K: fragments composited per sample,
    default 16), ``fragments`` (expected fragments per sample: the lists' first node
    budget is samples x fragments x 1.25, default 4), ``contributors`` (capacity of a
    pixel's de-duplicated contributor list, default 64)."""

    name = "deep_id"
    include = "deep_resolve.glsl"
    flag_names = ("visibility_overflow",)
    OPTIONS = ("structure", "layers", "fragments", "contributors")

    def __init__(self, device, size, copies: int, supersample: int = 1, options: dict | None = None):
        opts = dict(options or {})
        unknown = sorted(set(opts) - set(self.OPTIONS))
        if unknown:
            raise ConfigError(f"visibility {self.name}: unknown option {unknown[0]!r} "
                              f"(known: {', '.join(self.OPTIONS)})")
        structure = opts.get("structure") or default_structure(device)
        k = int(opts.get("layers") or 16)
        self.max_contrib = int(opts.get("contributors") or 64)
        w, h = size
        self.ss = int(supersample)
        self.cols, self.rows = tile_layout(device, size, copies, self.ss)
        self.tile = (w * self.ss, h * self.ss)
        full = (self.cols * self.tile[0], self.rows * self.tile[1])
        budget = math.ceil(full[0] * full[1] * float(opts.get("fragments") or 4.0) * LIST_SLACK)
        self.deep = make(device, structure, full, k, budget=budget)
        self.structure = structure

    @property
    def memory_bytes_per_texel(self) -> int:
        return int(math.ceil(self.deep.bytes_per_sample))

    def defines(self) -> dict:
        return {**self.deep.defines(), **contributor_defines(self.max_contrib)}

    def uniforms(self) -> dict:
        return {"u_cols": self.cols, "u_rows": self.rows, "u_tile_size": self.tile, **self.deep.uniforms()}

    def clear(self) -> None:
        self.deep.clear()

    def draw(self, program, draw) -> None:
        self.deep.draw(program, draw)

    def bind(self) -> None:
        self.deep.bind()

    def on_flags(self, flags: dict) -> None:
        """At a log step: after an overflow the node pool grows to 1.25 x what the frame needed
        (the overflowing frames were composited from the nodes that fitted)."""
        if flags.get("visibility_overflow") and isinstance(self.deep, LinkedLists):
            needed = self.deep.needed()
            if needed > self.deep.budget:
                self.deep.grow(math.ceil(needed * LIST_SLACK))

    def release(self) -> None:
        self.deep.release()
