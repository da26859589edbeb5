"""Parameter layout: named groups of a flat parameter vector.

A group is a contiguous range ``[offset, offset + count)`` of theta whose
parameters share a perturbation size, a learning rate and bounds. Every
``stride`` consecutive parameters of a group form one element (a triangle, a
texel, a shared vertex). With MAP_DIRECT the element is itself a contributor,
numbered from ``contrib_base``; with MAP_GATHER (e.g. a shared vertex) the
per-parameter pass sums the accumulators of several contributors, numbered
from ``contrib_base``, that the group's own gather table lists per element
(CSR: ``gather = (start (elements + 1,), entries)``). The tables of all
groups go back to back into one buffer (SSBO_GATHER); a table shared by
several groups is stored once. With MAP_ANALYTIC the scene kind computes
the group's gradient itself in G (its ``scene_analytic`` hook adds the exact
derivative of each pixel's loss into one accumulator slot per parameter,
numbered from ``contrib_base``): the group is not perturbed and the
per-parameter pass only scales the sum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GROUP_DTYPE = np.dtype([
    ("offset", "<u4"), ("count", "<u4"), ("stride", "<u4"), ("contrib_base", "<u4"),
    ("mapping", "<u4"), ("gather_start", "<u4"), ("gather_list", "<u4"), ("flags", "<u4"),
    ("eps", "<f4"), ("lr", "<f4"), ("lo", "<f4"), ("hi", "<f4"),
])
MAP_DIRECT = 0   # contributor = contrib_base + element
MAP_GATHER = 1   # element sums the accumulators its gather table lists (CSR)
MAP_ANALYTIC = 2  # parameter i's own slot contrib_base + (i - offset) holds its exact derivative (no 1/2eps)


@dataclass
class ParamGroup:
    name: str
    count: int
    stride: int
    eps: float
    lr: float
    lo: float
    hi: float
    contrib_base: int = 0
    mapping: int = MAP_DIRECT
    gather: tuple | None = None   # MAP_GATHER: (start, entries) uint32 arrays, CSR per element
    start: int = 0   # optimised in iterations [start, stop) only (optim.schedule.GroupSchedule freezes it outside)
    stop: int | None = None
    offset: int = 0  # set by ParamLayout

    @property
    def frozen(self) -> bool:
        return self.eps == 0.0 or self.lr == 0.0


class ParamLayout:
    """Ordered groups laid out back to back in one flat vector."""

    def __init__(self, groups: list[ParamGroup]):
        offset = 0
        for g in groups:
            if (g.mapping == MAP_GATHER) != (g.gather is not None):
                raise ValueError(f"parameter group {g.name}: a gather table goes with mapping MAP_GATHER")
            g.offset = offset
            offset += g.count
        self.groups = groups
        self.size = offset
        self._gather, self._gather_at = self._gather_tables()

    def _gather_tables(self) -> tuple[np.ndarray, dict]:
        """All groups' gather tables back to back, and (start, entries) offsets per group name."""
        parts, at, placed, size = [], {}, {}, 0
        for g in self.groups:
            if g.gather is None:
                continue
            key = (id(g.gather[0]), id(g.gather[1]))
            if key not in placed:
                start, entries = (np.ascontiguousarray(a, np.uint32) for a in g.gather)
                placed[key] = (size, size + len(start))
                parts += [start, entries]
                size += len(start) + len(entries)
            at[g.name] = placed[key]
        table = np.concatenate(parts) if parts else np.zeros(1, np.uint32)
        return table, at

    def gather_table(self) -> np.ndarray:
        """The gather tables of every group, as uploaded to SSBO_GATHER (uint32)."""
        return self._gather

    def __getitem__(self, name: str) -> ParamGroup:
        for g in self.groups:
            if g.name == name:
                return g
        raise KeyError(name)

    def index(self, name: str) -> int:
        return [g.name for g in self.groups].index(name)

    def slice(self, name: str) -> slice:
        g = self[name]
        return slice(g.offset, g.offset + g.count)

    def table(self, flags: dict | None = None) -> np.ndarray:
        """The group table as uploaded to SSBO_GROUPS; ``flags``: group name -> flag bits
        (gl.bindings.GROUP_*), 0 for the others."""
        t = np.zeros(len(self.groups), dtype=GROUP_DTYPE)
        flags = flags or {}
        for i, g in enumerate(self.groups):
            start, entries = self._gather_at.get(g.name, (0, 0))
            t[i] = (g.offset, g.count, g.stride, g.contrib_base, g.mapping, start, entries, flags.get(g.name, 0),
                    0.0 if g.frozen else g.eps, 0.0 if g.frozen else g.lr, g.lo, g.hi)
        return t

    def defines(self) -> dict:
        """GROUP_<NAME> indices and NUM_GROUPS for the shaders."""
        d = {f"GROUP_{g.name.upper()}": i for i, g in enumerate(self.groups)}
        d["NUM_GROUPS"] = len(self.groups)
        return d

    def clip(self, theta: np.ndarray) -> np.ndarray:
        out = theta.copy()
        for g in self.groups:
            s = slice(g.offset, g.offset + g.count)
            out[s] = np.clip(out[s], g.lo, g.hi)
        return out


def group_settings(cfg, default_eps: float, default_lr: float, default_bounds) -> dict:
    """eps/lr/bounds/start/stop of a group from its job config (None = the default); frozen if not optimised."""
    eps = cfg.eps if cfg.eps is not None else default_eps
    lr = cfg.lr if cfg.lr is not None else default_lr
    lo, hi = cfg.bounds if cfg.bounds is not None else default_bounds
    if not cfg.optimize:
        eps, lr = 0.0, 0.0
    return dict(eps=float(eps), lr=float(lr), lo=float(lo), hi=float(hi), start=int(getattr(cfg, "start", 0)),
                stop=getattr(cfg, "stop", None))
