"""Small helpers shared by every pass: uniforms, dispatch sizes, barriers."""

from __future__ import annotations

import math

from .bindings import WG_1D


def set_uniforms(program, **values) -> None:
    """Set the uniforms a program has; ones the compiler removed are skipped."""
    for name, value in values.items():
        try:
            member = program[name]
        except KeyError:
            continue
        if isinstance(value, (bytes, bytearray)):
            member.write(value)
        else:
            member.value = value


def groups_1d(count: int, max_groups: int = 65535) -> tuple[int, int]:
    """Work groups (x, y) covering ``count`` invocations of a WG_1D-wide 1D pass."""
    groups = max(1, math.ceil(count / WG_1D))
    if groups <= max_groups:
        return groups, 1
    return max_groups, math.ceil(groups / max_groups)


def barrier(ctx) -> None:
    """Make storage-buffer and image writes of one pass visible to the next."""
    ctx.memory_barrier()


def run_three_phase(ctx, passes, groups) -> None:
    """Per-element pass, one-work-group pass, per-element pass, with a barrier after each
    (the shape of a histogram / scan / scatter or a block scan / carry scan / add)."""
    passes[0].run(*groups)
    barrier(ctx)
    passes[1].run(1)
    barrier(ctx)
    passes[2].run(*groups)
    barrier(ctx)
