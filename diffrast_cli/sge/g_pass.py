"""G: one invocation per pixel and antithetic pair turns the pixel's f+ - f- into
additions to its contributors' accumulators (gradient.comp)."""

from __future__ import annotations

from ..gl import bindings as B
from ..gl import shaders
from ..gl.passes import barrier, set_uniforms


class GPass:
    """The G program and the per-contributor accumulators (one block per pair)."""

    def __init__(self, ctx, size, pairs: int, contributors: int, defines: dict, aliases: dict,
                 extensions: tuple, dirs: tuple, zero):
        self.ctx = ctx
        self.zero = zero          # gl/zero.py: clears the accumulators where they live
        self.pairs = pairs
        w, h = size
        self.wg = ((w + B.WG_2D_X - 1) // B.WG_2D_X, (h + B.WG_2D_Y - 1) // B.WG_2D_Y)
        self.prog = shaders.compute(ctx, "gradient.comp", defines, aliases, extensions, dirs)
        self.accum = ctx.buffer(reserve=4 * pairs * contributors)

    def bind(self) -> None:
        self.accum.bind_to_storage_buffer(B.SSBO_ACCUM)

    def run(self, iteration: int) -> None:
        """Clear the accumulators and spread every pixel's difference (3 GL calls + a barrier)."""
        self.zero(self.accum)
        set_uniforms(self.prog, u_iteration=iteration)
        self.prog.run(self.wg[0], self.wg[1], self.pairs)
        barrier(self.ctx)

    def release(self) -> None:
        self.prog.release()
        self.accum.release()
