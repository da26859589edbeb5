"""Generate the texture-recovery benchmark asset (issue 9): the blob wearing a high-frequency texture.

Run from the repository root::

    python assets/make_texture_benchmark.py

This writes, next to this script, ``benchmark_blob.obj/.mtl/.png``: the geometry and lat-long
UVs of ``textured_blob`` (9,024 triangles, see make_meshes.py) with a 512x512 texture made to be
hard to recover, standing in for the photograph of issue 9's measurements:

* multi-scale colour noise (value noise, 8 octaves from 4 to 512 cells around u, the finest
  one texel), so every texel carries detail at every scale, like a photograph's grain;
* sharp shapes (discs, boxes, triangles) of flat colour with one-texel antialiased edges;
* text-like strokes: rows of 7-segment "glyphs" a few texels tall, the finest feature.

Everything is procedural and deterministic (fixed seed); the texture is periodic in u
so the seam is invisible. Row 0 = top = v 1 (the north pole), as in make_meshes.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
for p in (ROOT, ROOT.parent):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from make_meshes import _hsv, _wrap, textured_blob  # noqa: E402

SIZE = 512
SUB = 2  # subsamples per texel side (antialiasing of the sharp layers)


def _value_noise(uu, vv, cells_u: int, cells_v: int, rng) -> np.ndarray:
    """Smooth (cubic-Hermite) value noise on a cells_u x cells_v lattice, periodic in u; 3 channels."""
    grid = rng.uniform(-1.0, 1.0, size=(cells_v + 1, cells_u, 3))
    x, y = uu * cells_u, (1.0 - vv) * cells_v
    x0, y0 = np.floor(x).astype(int), np.minimum(np.floor(y).astype(int), cells_v - 1)
    fx, fy = x - x0, y - y0
    fx, fy = (fx * fx * (3 - 2 * fx))[..., None], (fy * fy * (3 - 2 * fy))[..., None]
    x0, x1, y1 = x0 % cells_u, (x0 + 1) % cells_u, y0 + 1
    top = grid[y0, x0] * (1 - fx) + grid[y0, x1] * fx
    bot = grid[y1, x0] * (1 - fx) + grid[y1, x1] * fx
    return top * (1 - fy) + bot * fy


def benchmark_texture(size: int = SIZE, seed: int = 9) -> np.ndarray:
    """(size, size, 3) float32 in [0, 1]: noise + sharp shapes + text-like strokes (see module doc)."""
    rng = np.random.default_rng(seed)
    n = size * SUB
    u = (np.arange(n) + 0.5) / n
    v = 1.0 - (np.arange(n) + 0.5) / n
    uu, vv = np.meshgrid(u, v)
    px = 1.0 / size
    cover = lambda sdf: np.clip(0.5 - sdf / px, 0.0, 1.0)[..., None]   # noqa: E731

    # multi-scale colour noise around a hue gradient
    img = _hsv(uu + 0.3 * vv, 0.5, 0.6)
    for octave in range(8):
        cu = 4 << octave
        img = img + (0.28 / 1.35 ** octave) * _value_noise(uu, vv, cu, max(2, cu // 2), rng)

    # sharp shapes: discs, axis-aligned boxes, triangles (flat colours)
    for _ in range(60):
        cu, cv, r = rng.uniform(0, 1), rng.uniform(0.08, 0.92), rng.uniform(0.01, 0.05)
        du, dv = _wrap(uu - cu), vv - cv
        kind = rng.integers(3)
        if kind == 0:
            sdf = np.hypot(du, dv) - r
        elif kind == 1:
            sdf = np.maximum(np.abs(du) - r, np.abs(dv) - 0.6 * r)
        else:                                              # equilateral-ish triangle, pointing up
            sdf = np.maximum(np.maximum(-dv - 0.5 * r, 0.866 * du + 0.5 * dv - 0.5 * r),
                             -0.866 * du + 0.5 * dv - 0.5 * r)
        c = cover(sdf)
        img = img * (1 - c) + c * _hsv(rng.uniform(), rng.uniform(0.5, 1.0), rng.uniform(0.15, 1.0))

    # text-like strokes: bands of 7-segment glyphs (3 x 5 texel-scale cells), dark or light ink
    segs = [((0, 1), (1, 1)), ((0, 0.5), (1, 0.5)), ((0, 0), (1, 0)),      # horizontal: top, mid, bottom
            ((0, 0.5), (0, 1)), ((1, 0.5), (1, 1)), ((0, 0), (0, 0.5)), ((1, 0), (1, 0.5))]
    for band_v, gh, ink in ((0.70, 10, 0.05), (0.52, 7, 0.95), (0.36, 12, 0.05), (0.20, 6, 0.95)):
        gw, stroke = 0.6 * gh * px, 0.9 * px               # glyph width, stroke half-width ~1 texel
        h = gh * px
        pitch = gw + 4 * px
        count = int(1.0 / pitch)
        pitch = 1.0 / count                                # whole glyphs around u: periodic
        mask = rng.random((count, len(segs))) < 0.55
        gi = np.minimum((uu / pitch).astype(int), count - 1)
        lx = (uu - gi * pitch - 2 * px) / gw               # glyph-local coordinates in [0, 1]
        ly = (vv - band_v) / h
        inside = (np.abs(vv - band_v - 0.5 * h) < h)
        sdf = np.full(uu.shape, np.inf)
        for s, ((ax, ay), (bx, by)) in enumerate(segs):
            on = mask[gi, s] & inside
            if not on.any():
                continue
            # distance to the segment, in texture units
            ex, ey = (bx - ax) * gw, (by - ay) * h
            qx, qy = lx * gw - ax * gw, ly * h - ay * h
            t = np.clip((qx * ex + qy * ey) / (ex * ex + ey * ey), 0, 1)
            d = np.hypot(qx - t * ex, qy - t * ey) - stroke
            sdf = np.where(on, np.minimum(sdf, d), sdf)
        c = cover(sdf)
        img = img * (1 - c) + c * ink

    img = np.clip(img, 0.0, 1.0).reshape(size, SUB, size, SUB, 3).mean(axis=(1, 3))
    return img.astype(np.float32)


def benchmark_blob():
    mesh = textured_blob()
    mesh.texture = benchmark_texture()
    mesh.name = "benchmark_blob"
    return mesh


def main(out_dir: Path = ROOT) -> list[Path]:
    from diffrast_cli.io.mesh_export import export_obj

    return export_obj(benchmark_blob(), Path(out_dir), "benchmark_blob")


if __name__ == "__main__":
    for p in main():
        print(f"wrote {p} ({p.stat().st_size / 1024:.0f} KiB)")
