"""The per-parameter pass: accumulators -> gradient, dividing by 2 s_i eps_i
(param_grad.comp); groups with a gather table sum several contributors;
analytic groups (MAP_ANALYTIC) only scale what the kind's G hook added.

One dispatch per run of consecutive groups of one mapping, by the program of
that mapping, so that no invocation carries another path: on llvmpipe a
shared program ran the gather loop's loads, masked off, for every direct
parameter (docs/design.md, "Per-parameter pass"). A layout of direct groups
only is one dispatch, as before the split."""

from __future__ import annotations

from ..gl import bindings as B
from ..gl import shaders
from ..gl.passes import barrier, groups_1d, set_uniforms
from ..scene.params import MAP_ANALYTIC, MAP_DIRECT
from . import rng


class ParamGradPass:
    """The per-parameter programs, the gradient buffer, the pair keys and the gather tables."""

    def __init__(self, device, layout, pairs: int, contributors: int, size, seed: int, defines: dict,
                 extensions: tuple):
        ctx = self.ctx = device.ctx
        self.count = layout.size
        self.pairs = pairs
        self.seed = seed
        w, h = size
        full_image = "FULL_IMAGE" in defines
        def mapping_of(g):      # the full-image estimator has one slot per pair for every SGE group
            return MAP_DIRECT if full_image and g.mapping != MAP_ANALYTIC else g.mapping

        self.progs = {}
        for mapping in sorted({mapping_of(g) for g in layout.groups}):
            self.progs[mapping] = shaders.compute(ctx, "param_grad.comp", {**defines, "PARAM_MAPPING": mapping},
                                                  None, extensions)
            set_uniforms(self.progs[mapping], u_pairs=pairs, u_contributors=contributors,
                         u_norm=1.0 / (3.0 * w * h))
        self.grad = ctx.buffer(reserve=4 * self.count)
        self.pair_keys = ctx.buffer(reserve=4 * pairs)
        self.gather = ctx.buffer(layout.gather_table().tobytes())
        self.groups = groups_1d(self.count, device.max_groups_x)     # all parameters at once (perturb.comp)
        # Consecutive groups of one mapping share a dispatch over their index range (all direct:
        # one dispatch); a program used for one range gets its range once, here.
        runs = []
        for g in layout.groups:
            if g.count == 0:
                continue
            mapping = mapping_of(g)
            if runs and runs[-1][0] == mapping and runs[-1][2] == g.offset:
                runs[-1][2] = g.offset + g.count
            else:
                runs.append([mapping, g.offset, g.offset + g.count])
        uses = [mapping for mapping, _, _ in runs]
        self.dispatches = []
        for mapping, start, end in runs:
            prog = self.progs[mapping]
            span = dict(u_start=start, u_end=end)
            if uses.count(mapping) == 1:
                set_uniforms(prog, **span)
                span = None
            self.dispatches.append((prog, span, groups_1d(end - start, device.max_groups_x)))

    def bind(self) -> None:
        self.grad.bind_to_storage_buffer(B.SSBO_GRAD)
        self.pair_keys.bind_to_storage_buffer(B.SSBO_KEYS)
        self.gather.bind_to_storage_buffer(B.SSBO_GATHER)

    def run(self, iteration: int) -> None:
        self.pair_keys.write(rng.pair_keys_bytes(self.seed, iteration, self.pairs))
        for prog, span, groups in self.dispatches:
            if span is not None:
                set_uniforms(prog, **span)
            prog.run(*groups)
        barrier(self.ctx)

    def release(self) -> None:
        for obj in (*self.progs.values(), self.grad, self.pair_keys, self.gather):
            obj.release()
        self.progs = {}
