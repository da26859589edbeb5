"""The per-parameter pass: accumulators -> gradient, dividing by 2 s_i eps_i
(param_grad.comp); groups with a gather table sum several contributors."""

from __future__ import annotations

from ..gl import bindings as B
from ..gl import shaders
from ..gl.passes import barrier, groups_1d, set_uniforms
from . import rng


class ParamGradPass:
    """The per-parameter program, the gradient buffer, the pair keys and the gather tables."""

    def __init__(self, device, layout, pairs: int, contributors: int, size, seed: int, defines: dict,
                 extensions: tuple):
        ctx = self.ctx = device.ctx
        self.count = layout.size
        self.pairs = pairs
        self.seed = seed
        w, h = size
        self.prog = shaders.compute(ctx, "param_grad.comp", defines, None, extensions)
        self.grad = ctx.buffer(reserve=4 * self.count)
        self.pair_keys = ctx.buffer(reserve=4 * pairs)
        self.gather = ctx.buffer(layout.gather_table().tobytes())
        self.groups = groups_1d(self.count, device.max_groups_x)
        set_uniforms(self.prog, u_count=self.count, u_pairs=pairs, u_contributors=contributors,
                     u_norm=1.0 / (3.0 * w * h))

    def bind(self) -> None:
        self.grad.bind_to_storage_buffer(B.SSBO_GRAD)
        self.pair_keys.bind_to_storage_buffer(B.SSBO_KEYS)
        self.gather.bind_to_storage_buffer(B.SSBO_GATHER)

    def run(self, iteration: int) -> None:
        self.pair_keys.write(rng.pair_keys_bytes(self.seed, iteration, self.pairs))
        self.prog.run(*self.groups)
        barrier(self.ctx)

    def release(self) -> None:
        for obj in (self.prog, self.grad, self.pair_keys, self.gather):
            obj.release()
