"""Numbered compute passes of a kind's post-step work (soup resampling, splat densification):
one program per pass number of one shader, run over one thread per element."""

from __future__ import annotations

from ..gl import shaders
from ..gl.passes import barrier, groups_1d, set_uniforms


class NumberedPasses:
    """Programs ``shader`` compiled with ``define`` = 0 .. count - 1 (plus the estimator's
    defines), dispatched over ``n`` elements."""

    def __init__(self, estimator, shader: str, define: str, count: int, n: int, shader_dirs: tuple):
        self.ctx = estimator.ctx
        self.passes = [shaders.compute(self.ctx, shader, {**estimator.defines, define: k}, None,
                                       estimator.extensions, shader_dirs) for k in range(count)]
        self.groups = groups_1d(n, estimator.device.max_groups_x)

    def run_pass(self, k: int, iteration: int) -> None:
        set_uniforms(self.passes[k], u_iteration=iteration)
        self.passes[k].run(*self.groups)
        barrier(self.ctx)

    def release(self) -> None:
        for prog in self.passes:
            prog.release()
        self.passes = []
