"""A GPU exclusive prefix sum of u32 values (scan.comp): three dispatches, the total
written into a counter slot on the GPU (nothing read back)."""

from __future__ import annotations

import math

from ..gl import bindings as B
from ..gl import shaders
from ..gl.passes import groups_1d, run_three_phase, set_uniforms


class PrefixSum:
    """Scans up to ``capacity`` values; :meth:`run` binds its buffers itself."""

    def __init__(self, device, capacity: int, defines: dict):
        self.ctx = device.ctx
        self.capacity = int(capacity)
        self.passes = [shaders.compute(self.ctx, "scan.comp", {**defines, "SCAN_PASS": k}) for k in range(3)]
        self.groups = groups_1d(self.capacity, device.max_groups_x)
        self.blocks = self.ctx.buffer(reserve=4 * max(1, math.ceil(self.capacity / B.WG_1D)))
        for prog in self.passes:
            set_uniforms(prog, u_n=self.capacity, u_blocks=self.groups[0] * self.groups[1])

    def run(self, values, out, slot: int) -> None:
        """``out[i]`` = sum of ``values[:i]`` for i < capacity; counts[slot] (SSBO_COUNTS,
        bound by the caller) = the sum of all."""
        values.bind_to_storage_buffer(B.SSBO_SCAN_IN)
        out.bind_to_storage_buffer(B.SSBO_SCAN_OUT)
        self.blocks.bind_to_storage_buffer(B.SSBO_SCAN_BLOCKS)
        set_uniforms(self.passes[1], u_slot=int(slot))
        run_three_phase(self.ctx, self.passes, self.groups)

    def release(self) -> None:
        for obj in self.passes + [self.blocks]:
            obj.release()
