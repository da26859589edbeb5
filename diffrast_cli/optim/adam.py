"""Adam as a compute shader over the parameter buffer (bias-corrected, bounded)."""

from __future__ import annotations

import numpy as np

from ..gl import shaders
from ..gl.passes import barrier, groups_1d, set_uniforms


class AdamPass:
    """Owns the moments buffer; reads SSBO_GRAD, updates SSBO_PARAMS in place."""

    def __init__(self, device, count: int, defines: dict, adam_cfg):
        self.ctx = device.ctx
        self.count = count
        self.cfg = adam_cfg
        self.program = shaders.compute(self.ctx, "adam.comp", defines=defines)
        self.moments = self.ctx.buffer(reserve=8 * count)
        self.moments.clear()
        self.groups = groups_1d(count, device.max_groups_x)
        self.origin = 0            # the iteration of the last warm restart (restart())
        self.group_starts = None   # per group: the iteration it starts (optim.schedule.GroupSchedule); None = all 0
        set_uniforms(self.program, u_count=count, u_beta1=adam_cfg.beta1, u_beta2=adam_cfg.beta2,
                     u_adam_eps=adam_cfg.eps)

    def bind(self, binding: int) -> None:
        self.moments.bind_to_storage_buffer(binding)

    def restart(self, iteration: int, clear: bool = True) -> None:
        """A warm restart before step ``iteration`` (0-based): the moments are zeroed (``clear``)
        and bias correction counts steps from there, as in a fresh Adam."""
        self.origin = int(iteration)
        if clear:
            self.moments.clear()

    def step(self, t: int, lr_scale: float) -> None:
        """Adam step number ``t`` (1-based) with the schedule factor ``lr_scale``."""
        b1, b2 = self.cfg.beta1, self.cfg.beta2
        k = max(t - self.origin, 1)          # steps since the last warm restart
        set_uniforms(self.program, u_bias1=1.0 - b1 ** k, u_bias2=1.0 - b2 ** k, u_lr_scale=lr_scale, u_step=t,
                     u_origin=self.origin)
        if self.group_starts is not None:    # a late group's bias correction counts its own steps
            own = [max(t - max(s, self.origin), 1) for s in self.group_starts]
            bias = np.array([(1.0 - b1 ** n, 1.0 - b2 ** n) for n in own], np.float32)
            set_uniforms(self.program, u_group_bias=bias.tobytes(), u_group_bias_on=1)
        self.program.run(*self.groups)
        barrier(self.ctx)

    def release(self) -> None:
        self.moments.release()
        self.program.release()
