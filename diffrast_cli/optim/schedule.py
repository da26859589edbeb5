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


class GroupSchedule:
    """Parameter groups optimised only within a window of iterations [start, stop)
    (``ParamGroup.start`` / ``ParamGroup.stop``, job keys ``<group>.start`` / ``<group>.stop``).

    Outside its window a group is frozen: eps and lr are 0 in the estimator's group table,
    so its parameters are neither perturbed (the other groups see a clean copy of it) nor
    updated, and its Adam moments stay as they are. Adam's bias correction counts the
    group's own steps from its start (AdamPass.group_starts), so a late group's first step
    is as large as a fresh Adam's, not shrunk by the global step count. Generic over scene
    kinds: it reads only the layout and rewrites the group table when a window opens or
    closes (a few hundred bytes)."""

    def __init__(self, estimator):
        layout = getattr(estimator, "layout", None)
        groups = layout.groups if layout is not None else []
        self.estimator = estimator
        self.windows = {i: (g.start, g.stop) for i, g in enumerate(groups)
                        if not g.frozen and (g.start > 0 or g.stop is not None)}
        self.changes = frozenset(x for w in self.windows.values() for x in w if x is not None)
        self._active = None
        self._table = None
        if any(start > 0 for start, _ in self.windows.values()):
            estimator.adam.group_starts = [self.windows.get(i, (0, None))[0] for i in range(len(groups))]

    def __bool__(self) -> bool:
        return bool(self.windows)

    def active(self, iteration: int) -> frozenset:
        """Indices of the scheduled groups that are optimised at ``iteration`` (0-based)."""
        return frozenset(i for i, (start, stop) in self.windows.items()
                         if start <= iteration and (stop is None or iteration < stop))

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
        for i in self.windows:
            if i not in active:
                table[i]["eps"] = 0.0
                table[i]["lr"] = 0.0
        est.groups.write(table.tobytes())
        self._active = active
