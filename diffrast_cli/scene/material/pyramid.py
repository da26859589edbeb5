"""Coarse to fine within one run and one layout: a material map as a pyramid of levels.

With ``levels: L`` (> 1) and ``level_every: n`` a map of W x H texels is stored as L
levels, level k of ceil(W / 2^k) x ceil(H / 2^k) texels, finest first, each its own
parameter group (scene/material/layer.py); the map's value at a UV is the sum of the
levels' bilinear samples there (glsl/scene/material/maps.glsl, ``pyramid_*``). The
initial map goes into the coarsest level, which is optimised alone for n iterations;
then :class:`PyramidFold` folds it into the next finer level (bilinear at the finer
texel centres) and freezes it at 0, and so on, the finest running to the end. So one
level holds the whole map at any time. Export collapses the pyramid into the finest
resolution (:func:`collapse`). Measured in docs/design.md ("PBR materials").
"""

from __future__ import annotations

import numpy as np

from ...gl import shaders
from ...gl.passes import barrier, groups_1d, set_uniforms


def level_sizes(w: int, h: int, levels: int) -> list[tuple[int, int]]:
    """(w, h) of each level, finest first (as the shader's level_size computes them)."""
    return [(max(1, -(-w // (1 << k))), max(1, -(-h // (1 << k)))) for k in range(levels)]


def pyramid_params(finest: np.ndarray, levels: int, coarsest=None) -> np.ndarray:
    """The stored parameters of a pyramid starting from ``finest`` (H, W, C): in the finest level,
    the rest 0; or, given ``coarsest`` (the map resampled to the coarsest level's size, for a
    coarse-to-fine schedule, whose folds need the whole map in the level being optimised), in
    the coarsest level, the rest 0."""
    h, w, c = finest.shape
    sizes = level_sizes(w, h, levels)
    parts = [np.zeros(lw * lh * c, np.float32) for lw, lh in sizes]
    if coarsest is None:
        parts[0] = finest.reshape(-1)
    else:
        parts[-1] = np.asarray(coarsest, np.float32).reshape(-1)
    return np.concatenate(parts).astype(np.float32)


def sample_level(level: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """Bilinear lookup (repeat, row 0 = top, texel centres at (i + 0.5) / size) of (h, w, C) at uvs (N, 2)."""
    h, w = level.shape[:2]
    x = uv[:, 0] * w - 0.5
    y = (1.0 - uv[:, 1]) * h - 0.5
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    i0, j0 = np.mod(x0.astype(np.int64), w), np.mod(y0.astype(np.int64), h)
    i1, j1 = np.mod(i0 + 1, w), np.mod(j0 + 1, h)
    return (level[j0, i0] * (1 - fx) * (1 - fy) + level[j0, i1] * fx * (1 - fy) + level[j1, i0] * (1 - fx) * fy
            + level[j1, i1] * fx * fy)


def collapse(params: np.ndarray, w: int, h: int, c: int, levels: int, lo: float, hi: float) -> np.ndarray:
    """The pyramid's sum at the finest level's texel centres, clamped to [lo, hi]: (h, w, c)."""
    params = np.asarray(params, np.float64)
    col, row = np.meshgrid((np.arange(w) + 0.5) / w, (np.arange(h) + 0.5) / h)
    uv = np.stack([col.ravel(), 1.0 - row.ravel()], axis=1)
    out = np.zeros((w * h, c))
    at = 0
    for lw, lh in level_sizes(w, h, levels):
        level = params[at:at + lw * lh * c].reshape(lh, lw, c)
        out += level.reshape(-1, c) if (lw, lh) == (w, h) else sample_level(level, uv)
        at += lw * lh * c
    return np.clip(out, lo, hi).reshape(h, w, c).astype(np.float32)


class PyramidFold:
    """Post-step pass of a coarse-to-fine map: when level k's window ends (its group's
    ``stop``), level k is folded into level k - 1 (glsl/scene/material/map_fold.comp)."""

    def __init__(self, estimator, groups: list[str], sizes: list[tuple[int, int]], channels: int, bounds,
                 shader_dirs: tuple):
        self.est, self.ctx = estimator, estimator.ctx
        layout = estimator.layout
        self.prog = shaders.compute(self.ctx, "map_fold.comp", estimator.defines, None, estimator.extensions,
                                    shader_dirs)
        self.folds = {}                  # iteration -> (fine index, coarse index, fine size, coarse size)
        for k in range(1, len(groups)):
            stop = layout[groups[k]].stop
            self.folds[stop] = (layout.index(groups[k - 1]), layout.index(groups[k]), sizes[k - 1], sizes[k])
        self.channels, self.bounds = channels, bounds

    def run(self, iteration: int) -> None:
        fold = self.folds.get(iteration)
        if fold is None:
            return
        fine, coarse, fine_size, coarse_size = fold
        set_uniforms(self.prog, u_fine=fine, u_coarse=coarse, u_fine_size=fine_size, u_coarse_size=coarse_size,
                     u_stride=self.channels, u_bounds=tuple(float(b) for b in self.bounds))
        for p in (0, 1):
            set_uniforms(self.prog, u_pass=p)
            n = fine_size[0] * fine_size[1] if p == 0 else coarse_size[0] * coarse_size[1] * self.channels
            self.prog.run(*groups_1d(n, self.est.device.max_groups_x))
            barrier(self.ctx)

    def release(self) -> None:
        if self.prog is not None:
            self.prog.release()
            self.prog = None


__all__ = ["PyramidFold", "collapse", "level_sizes", "pyramid_params", "sample_level"]
