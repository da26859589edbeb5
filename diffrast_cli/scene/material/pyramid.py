"""Map pyramids: a material map optimised as a sum of levels at halving resolutions.

With ``levels: L`` (> 1) a map of W x H texels is stored as L levels, level k of
ceil(W / 2^k) x ceil(H / 2^k) texels, finest first, back to back in its parameter
group; the map's value at a UV is the sum of the levels' bilinear samples there,
clamped to the map's bounds (glsl/scene/material/maps.glsl, ``pyramid_*``). A texel
of a coarse level collects the gradient of every pixel its large footprint covers,
so large-scale structure is found first, as a coarse-to-fine schedule would find
it, within one run and one layout (docs/design.md, "PBR materials"). The initial
value goes into the finest level, the coarser ones start at 0; export collapses the
pyramid into the finest level's resolution (:func:`collapse`).
"""

from __future__ import annotations

import numpy as np


def level_sizes(w: int, h: int, levels: int) -> list[tuple[int, int]]:
    """(w, h) of each level, finest first (as the shader's level_size computes them)."""
    return [(max(1, -(-w // (1 << k))), max(1, -(-h // (1 << k)))) for k in range(levels)]


def pyramid_params(finest: np.ndarray, levels: int) -> np.ndarray:
    """The stored parameters of a pyramid whose sum is ``finest`` (H, W, C): finest first, the rest 0."""
    h, w, c = finest.shape
    extra = sum(lw * lh for lw, lh in level_sizes(w, h, levels)[1:])
    return np.concatenate([finest.reshape(-1), np.zeros(extra * c, np.float32)]).astype(np.float32)


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


__all__ = ["collapse", "level_sizes", "pyramid_params", "sample_level"]
