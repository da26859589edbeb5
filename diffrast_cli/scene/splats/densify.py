"""Splat densification (``scene.densify``): dead splats re-placed onto live donors, and the
opacity reset, as GPU passes after a step (densify.comp; the rule is in its header).

SGE gives no screen-space positional gradient (the 3DGS densification signal), so the donor
is drawn in proportion to a per-splat signal chosen by ``signal``: its opacity (the MCMC
relocation of Kheradmand et al. 2024), the magnitude of its positions' Adam first moment,
or its accumulated |f+ - f-| (the per-splat loss share); docs/design.md "Splat
densification" compares them. The draw is exact: the signals are quantised to integer
weights (the largest = ``levels``), the core's u32 prefix sum gives each live splat an
interval of [0, total), and each dead splat binary-searches a hashed point in it.

After every step one pass marks the splats seen (``LAST_SEEN``) and adds up the loss signal
(``LOSS``), per-element state the checkpoint keeps. Every ``every`` steps in [start, stop]:
classify, quantise, two prefix sums (totals in counts[1], counts[2]), the dead list, the
draw, the copies, the donors. Nothing is read back; the count is fixed, so the core's
compaction is not needed.
"""

from __future__ import annotations

import math

from ...gl.declared import BufferSpec
from ...gl.passes import set_uniforms
from ..post_step import NumberedPasses

SLOT_DEAD = 1
SLOT_WEIGHT = 2
SIGNALS = {"opacity": 0, "adam": 1, "loss": 2}
SCRATCH = ("DZ_WEIGHT", "DZ_DEAD", "DZ_DEAD_POS", "DZ_WEIGHT_POS", "DZ_COPIES")
PASSES = 8
RESET_PASS = 7


def weight_levels(n: int) -> int:
    """The integer weight of the largest signal: as fine as a u32 total of ``n`` weights allows."""
    return int(max(1, min(1 << 16, (2 ** 32 - 1) // max(n, 1))))


def densify_resources(n: int) -> list:
    """The buffers densification declares for ``n`` splats."""
    return ([BufferSpec("LAST_SEEN", size=4 * n, element_words=1), BufferSpec("LOSS", size=4 * n, element_words=1),
             BufferSpec("DZ_LISTS", size=8 * n)] + [BufferSpec(name, size=4 * n) for name in SCRATCH])


def active(cfg) -> bool:
    return cfg.every > 0 or cfg.reset_every > 0


def in_window(cfg, every: int, iteration: int) -> bool:
    return (every > 0 and iteration % every == 0 and iteration >= cfg.start
            and (cfg.stop is None or iteration <= cfg.stop))


class SplatDensifier(NumberedPasses):
    """The post-step passes of splats with ``scene.densify.every`` or ``reset_every`` > 0."""

    def __init__(self, estimator, cfg, n: int, pixel: float, shader_dirs: tuple):
        self.est = estimator
        self.cfg = cfg
        self.n = n
        super().__init__(estimator, "densify.comp", "DZ_PASS", PASSES, n, shader_dirs)
        reset = math.log(cfg.reset_opacity / (1.0 - cfg.reset_opacity))
        for prog in self.passes:
            set_uniforms(prog, u_n=n, u_pairs=estimator.pairs, u_contributors=estimator.contributors,
                         u_unseen=cfg.unseen, u_min_opacity=float(cfg.min_opacity), u_signal=SIGNALS[cfg.signal],
                         u_levels=float(weight_levels(n)), u_seed=estimator.seed,
                         u_split_pixels=float(cfg.split_pixels), u_pixel=float(pixel),
                         u_log_shrink=float(math.log(cfg.shrink)), u_reset_logit=float(reset),
                         u_budget=float(cfg.budget))
        self.buffers = estimator.declared.buffers

    def run(self, iteration: int) -> None:
        """After step ``iteration`` (steps done): mark what was seen; re-place and reset on schedule."""
        self.run_pass(0, iteration)
        if in_window(self.cfg, self.cfg.every, iteration):
            self.relocate(iteration)
        if in_window(self.cfg, self.cfg.reset_every, iteration):
            self.run_pass(RESET_PASS, iteration)

    def relocate(self, iteration: int) -> None:
        b, scan = self.buffers, self.est.relayout.scan
        self.run_pass(1, iteration)
        self.run_pass(2, iteration)
        scan.run(b["DZ_DEAD"], b["DZ_DEAD_POS"], SLOT_DEAD)
        scan.run(b["DZ_WEIGHT"], b["DZ_WEIGHT_POS"], SLOT_WEIGHT)
        for k in (3, 4, 5, 6):
            self.run_pass(k, iteration)
