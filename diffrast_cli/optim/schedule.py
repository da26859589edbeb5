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


class GroupStarts:
    """Parameter groups that start late (``ParamGroup.start`` > 0, job key ``<group>.start``).

    Before its start iteration a group is frozen: eps and lr are 0 in the estimator's group
    table, so its parameters are neither perturbed nor updated (the other groups see a clean
    copy of it) and its Adam moments stay 0. From the start on its table entry is restored,
    and Adam's bias correction counts the group's own steps (AdamPass.group_starts), so its
    first steps are as large as a fresh Adam's, not inflated by the global step count.
    Generic over scene kinds: it reads only the layout and the group table."""

    def __init__(self, estimator):
        layout = getattr(estimator, "layout", None)
        groups = layout.groups if layout is not None else []
        self.estimator = estimator
        self.starts = {i: g.start for i, g in enumerate(groups) if g.start > 0 and not g.frozen}
        self.changes = frozenset(self.starts.values())
        self._active = None
        self._table = None
        if self.starts:
            estimator.adam.group_starts = [g.start if i in self.starts else 0 for i, g in enumerate(groups)]

    def __bool__(self) -> bool:
        return bool(self.starts)

    def active(self, iteration: int) -> frozenset:
        """Indices of the late groups that are optimised at ``iteration`` (0-based)."""
        return frozenset(i for i, s in self.starts.items() if iteration >= s)

    def at(self, iteration: int) -> None:
        """Before step ``iteration``: the group table as the schedule wants it (written on change only)."""
        active = self.active(iteration)
        if active == self._active:
            return
        import numpy as np

        from ..scene.params import GROUP_DTYPE
        est = self.estimator
        if self._table is None:
            self._table = np.frombuffer(est.groups.read(), dtype=GROUP_DTYPE).copy()
        table = self._table.copy()
        for i in self.starts:
            if i not in active:
                table[i]["eps"] = 0.0
                table[i]["lr"] = 0.0
        est.groups.write(table.tobytes())
        self._active = active
