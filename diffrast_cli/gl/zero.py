"""Zeroing storage buffers where they live.

moderngl's ``Buffer.clear()`` maps the buffer for writing and fills it from
the CPU. On a GPU that is a synchronous round trip through host memory for
the whole buffer: G's accumulators (one word per contributor and pair, 68 MB
for the 12.7M-parameter bench problem with 4 views) were cleared that way
every iteration. On a GPU, :class:`BufferZero` clears with one
compute dispatch (zero.comp); on a software renderer the buffer is host
memory and the CPU fill is the cheapest clear, so it stays.
"""

from __future__ import annotations

from . import bindings as B
from . import shaders
from .passes import barrier, groups_1d, set_uniforms


class BufferZero:
    """``zero(buffer)`` sets every byte of ``buffer`` to 0 before the next pass reads it."""

    def __init__(self, device, on_device: bool | None = None):
        self.ctx = device.ctx
        self.max_groups = device.max_groups_x
        self.on_device = (not device.is_software) if on_device is None else bool(on_device)
        self._prog = None

    def __call__(self, buffer) -> None:
        if not self.on_device:
            buffer.clear()
            return
        if buffer.size % 4:
            raise ValueError(f"a device-side clear works on whole 32-bit words, not {buffer.size} bytes")
        if self._prog is None:
            self._prog = shaders.compute(self.ctx, "zero.comp")
        words = buffer.size // 4
        set_uniforms(self._prog, u_words=words)
        buffer.bind_to_storage_buffer(B.SSBO_ZERO)
        self._prog.run(*groups_1d(words, self.max_groups))
        barrier(self.ctx)

    def release(self) -> None:
        if self._prog is not None:
            self._prog.release()
            self._prog = None
