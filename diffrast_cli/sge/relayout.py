"""Layouts whose elements change: re-placed, split or removed between iterations on the GPU.

A scene kind that re-places, splits, clones or removes primitives declares a
:class:`RelayoutSpec`: the parameter groups whose element e is primitive e
(each group holds ``capacity`` elements of ``stride`` parameters), the
capacity the buffers are allocated at and the initial live count. The core
then keeps, on the GPU:

- ``births`` (one u32 per element): the Adam step after which the element's
  moments were reset (0: never). Adam (``ELEMENT_BIRTHS``) bias-corrects such
  an element with its own step count, so a re-placed element starts like a new
  one; a kind that resets an element zeroes its moments and sets its birth.
- ``counts`` (u32 counters, SSBO_COUNTS): ``counts[0]`` is the live count; the
  other slots take the totals of the kind's prefix sums. Read back only at log
  and checkpoint steps (:meth:`Relayout.live`).
- :meth:`Relayout.compact`: removes every element whose keep flag is 0 by a
  GPU prefix sum (scan.comp) and a scatter (move.comp) that moves, together,
  each group's parameters and Adam moments, the births and the kind's
  per-element state (declared buffers with ``element_words``), zeroes the
  freed tail and leaves the new live count in ``counts[0]``.

ε, learning rate and bounds are per group (the group table), so a moved
element keeps them. The kind's own passes run after each step through
:meth:`SceneKind.post_step`; everything here is in the estimator's checkpoint
state, so a resumed run continues bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..gl import bindings as B
from ..gl import shaders
from ..gl.passes import barrier, groups_1d, set_uniforms
from .scan import PrefixSum

COUNT_SLOTS = 8


@dataclass(frozen=True)
class RelayoutSpec:
    groups: tuple            # names of the parameter groups whose element e is primitive e
    capacity: int            # elements allocated in each of them
    live: int | None = None  # initial live count (None: the capacity)


class Relayout:
    """The core's GPU state and compaction pass for a :class:`RelayoutSpec`."""

    def __init__(self, device, layout, spec: RelayoutSpec, defines: dict):
        self.ctx = device.ctx
        self.layout = layout
        self.spec = spec
        self.capacity = int(spec.capacity)
        for name in spec.groups:
            g = layout[name]
            if g.count != self.capacity * g.stride:
                raise ValueError(f"parameter group {name}: {g.count} parameters are not {self.capacity} "
                                 f"elements of {g.stride}")
        live = self.capacity if spec.live is None else int(spec.live)
        self.births = self.ctx.buffer(reserve=4 * self.capacity)
        self.births.clear()
        counts = np.zeros(COUNT_SLOTS, np.uint32)
        counts[0] = live
        self.counts = self.ctx.buffer(counts.tobytes())
        self.scan = PrefixSum(device, self.capacity, defines)
        self.move = shaders.compute(self.ctx, "move.comp", defines)
        self.slots = self.ctx.buffer(reserve=4 * self.capacity)
        words = max([2 * g.stride for g in (layout[n] for n in spec.groups)] + [1])
        self.scratch = self.ctx.buffer(reserve=4 * words * self.capacity)
        self.groups = groups_1d(self.capacity, device.max_groups_x)
        set_uniforms(self.move, u_n=self.capacity)

    @staticmethod
    def defines() -> dict:
        return {"ELEMENT_BIRTHS": 1}

    def group_flags(self) -> dict:
        return {name: B.GROUP_ELEMENT for name in self.spec.groups}

    def bind(self) -> None:
        self.births.bind_to_storage_buffer(B.SSBO_BIRTHS)
        self.counts.bind_to_storage_buffer(B.SSBO_COUNTS)

    # -- compaction ---------------------------------------------------------

    def compact(self, keep, params, moments, element_buffers=()) -> None:
        """Remove the elements whose ``keep`` (u32 buffer, one per element) is 0; the kept ones
        move to the front in order. ``element_buffers``: (buffer, words per element) of the
        kind's per-element state. All on the GPU; the new live count lands in counts[0]."""
        self.scan.run(keep, self.slots, slot=0)
        arrays = []
        for name in self.spec.groups:
            g = self.layout[name]
            arrays.append((params, g.stride, g.offset))
            arrays.append((moments, 2 * g.stride, 2 * g.offset))
        arrays.append((self.births, 1, 0))
        arrays += [(buf, words, 0) for buf, words in element_buffers]
        self.scratch.bind_to_storage_buffer(B.SSBO_MOVE_TO)
        for buf, words, base in arrays:
            buf.bind_to_storage_buffer(B.SSBO_MOVE_FROM)
            set_uniforms(self.move, u_words=words, u_base=base)
            self.move.run(*self.groups)
            barrier(self.ctx)
            self.ctx.copy_buffer(buf, self.scratch, size=4 * words * self.capacity, write_offset=4 * base)
        barrier(self.ctx)
        self.bind()        # the prefix sum rebound the scan points only; births/counts stay

    # -- readbacks and checkpoints (log / checkpoint steps only) -------------

    def live(self) -> int:
        return int(np.frombuffer(self.counts.read(), np.uint32)[0])

    def state(self) -> dict:
        return {"births": np.frombuffer(self.births.read(), np.uint32).copy(),
                "counts": np.frombuffer(self.counts.read(), np.uint32).copy()}

    def restore(self, state: dict) -> None:
        for name, buf, size in (("births", self.births, self.capacity), ("counts", self.counts, COUNT_SLOTS)):
            value = state.get(name)
            if value is None or value.size != size:
                raise ValueError(f"checkpoint {name}: expected {size} values, got "
                                 f"{None if value is None else value.size}")
            buf.write(np.ascontiguousarray(value, np.uint32).tobytes())

    def release(self) -> None:
        for obj in (self.births, self.counts, self.move, self.slots, self.scratch):
            obj.release()
        self.scan.release()
