"""Soup resampling (``scene.resample``): re-place triangles that stay unseen or shrink below
an area threshold by splitting large visible ones, all on the GPU (resample.comp).

After every step one pass marks the triangles whose accumulators are non-zero as seen
(``LAST_SEEN``, per-element state the checkpoint keeps). Every ``every`` steps: classify
(area, invalid, donor), two prefix sums (the core's, totals in counts[1] and counts[2]),
the index lists, and the placement pass (see resample.comp for the rule). Nothing is read
back; the layout keeps its size, so the core's compaction is not needed.
"""

from __future__ import annotations

from ...gl.declared import BufferSpec
from ...gl.passes import set_uniforms
from ..post_step import NumberedPasses

SLOT_INVALID = 1
SLOT_DONORS = 2
SCRATCH = ("RS_AREA", "RS_INVALID", "RS_DONOR", "RS_INVALID_POS", "RS_DONOR_POS", "RS_INVALID_LIST",
           "RS_DONOR_LIST")


def resample_resources(n: int) -> list:
    """The buffers resampling declares for ``n`` triangles."""
    return [BufferSpec("LAST_SEEN", size=4 * n, element_words=1)] + [BufferSpec(name, size=4 * n) for name in SCRATCH]


class SoupResampler(NumberedPasses):
    """The post-step passes of a soup with ``scene.resample.every`` > 0."""

    def __init__(self, estimator, cfg, n: int, shader_dirs: tuple):
        self.est = estimator
        self.cfg = cfg
        self.n = n
        super().__init__(estimator, "resample.comp", "RS_PASS", 4, n, shader_dirs)
        w, h = estimator.size
        for prog in self.passes:
            set_uniforms(prog, u_n=n, u_pairs=estimator.pairs, u_contributors=estimator.contributors,
                         u_unseen=cfg.unseen, u_min_area=float(cfg.min_area), u_candidates=cfg.candidates,
                         u_seed=estimator.seed, u_half_size=(0.5 * w, 0.5 * h))
        self.buffers = estimator.declared.buffers

    def run(self, iteration: int) -> None:
        """After step ``iteration`` (steps done): mark what was seen; every ``every`` steps re-place."""
        self.run_pass(0, iteration)
        if iteration % self.cfg.every == 0:
            self.resample(iteration)

    def resample(self, iteration: int) -> None:
        b, scan = self.buffers, self.est.relayout.scan
        self.run_pass(1, iteration)
        scan.run(b["RS_INVALID"], b["RS_INVALID_POS"], SLOT_INVALID)
        scan.run(b["RS_DONOR"], b["RS_DONOR_POS"], SLOT_DONORS)
        self.run_pass(2, iteration)
        self.run_pass(3, iteration)
