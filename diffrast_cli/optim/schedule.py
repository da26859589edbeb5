"""Learning-rate schedules: a factor in (0, 1] of the iteration."""

from __future__ import annotations

import math


def lr_factor(kind: str, iteration: int, total: int, final: float) -> float:
    """Factor applied to every group's learning rate at ``iteration`` (0-based) of ``total``."""
    if kind == "constant" or total <= 1:
        return 1.0
    x = min(max(iteration / (total - 1), 0.0), 1.0)
    if kind == "cosine":
        return final + (1.0 - final) * 0.5 * (1.0 + math.cos(math.pi * x))
    if kind == "step":
        return 1.0 if x < 0.5 else (math.sqrt(final) if x < 0.75 else final)
    raise ValueError(f"unknown schedule {kind!r}")
