"""Generate the mesh assets used by diffrast's mesh and texture jobs.

Run from the repository root::

    python assets/make_meshes.py

This writes, next to this script:

* ``textured_blob.obj/.mtl/.png`` -- a smooth genus-0 blob (9,024 triangles) with a
  lat-long UV map (one seam at u = 0/1, poles fanned) and a colourful 256x256
  procedural texture with features at several scales: the reference of the
  ``texture_recovery`` job.
* ``target_shape.obj`` -- a sphere with four big lobes (tetrahedral directions; 5,120
  triangles, convex tips and concave saddles between them), inside the unit sphere,
  no texture: the target for deforming a sphere.
* ``dense_reference.glb`` -- the blob with fine geometric detail (65,024 triangles) and a
  512x512 texture embedded, for baking.
* ``lowpoly_start.obj`` -- the blob's low-frequency shape at 6,240 triangles with the same
  lat-long UVs and no texture: the starting mesh of ``bake_lowpoly``.

Every function returns a :class:`diffrast_cli.io.meshes.MeshData`; everything is
procedural (numpy + pillow + trimesh) and deterministic (fixed seeds).
Y is up; the blob's north pole (+y) is v = 1, the top row of the textures.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
if str(ROOT.parent) not in sys.path:
    sys.path.insert(0, str(ROOT.parent))

from diffrast_cli.io.meshes import MeshData, compute_vertex_normals, icosphere, lat_long_sphere  # noqa: E402

SS = 1024  # texture supersampling: SS // size (at least 2) subsamples per texel side


# ----------------------------------------------------------------------------- shapes
def _bump(dirs, centre, width):
    c = np.asarray(centre, dtype=np.float64)
    c = c / np.linalg.norm(c)
    return np.exp((dirs @ c - 1.0) / width)


def blob_radius(dirs) -> np.ndarray:
    """Low-frequency radius of the blob: a few broad bumps and one dent, within [0.6, 0.95]."""
    r = (0.72 + 0.20 * _bump(dirs, [0.3, 0.8, 0.4], 0.35) + 0.14 * _bump(dirs, [-0.8, -0.2, 0.3], 0.25)
         + 0.12 * _bump(dirs, [0.5, -0.6, -0.6], 0.3) - 0.08 * _bump(dirs, [0.1, 0.1, -1.0], 0.2)
         + 0.05 * dirs[:, 0] * dirs[:, 2])
    return r


def detail_radius(dirs) -> np.ndarray:
    """Fine geometric detail for the dense reference: small bumps, pits and ripples (|r| < 0.06)."""
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(48, 3))
    widths = rng.uniform(0.004, 0.02, size=48)
    heights = rng.uniform(-0.035, 0.045, size=48)
    r = sum(h * _bump(dirs, c, w) for c, w, h in zip(centres, widths, heights))
    r = r + 0.008 * np.sin(14 * dirs[:, 0]) * np.sin(14 * dirs[:, 1]) * np.sin(14 * dirs[:, 2])
    return r


def lobes_radius(dirs) -> np.ndarray:
    """Four big lobes along tetrahedral directions, 0.9 at the tips, ~0.55 in the saddles."""
    tips = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], dtype=np.float64) / np.sqrt(3)
    tips = tips @ _rotation(0.4, 0.7).T                    # not axis-aligned, so no view is trivial
    r = 0.5 + 0.45 * (np.maximum(dirs @ tips.T, 0.0) ** 3).sum(axis=1)
    return 0.9 * r / r.max()


def _rotation(ax: float, ay: float) -> np.ndarray:
    cx, sx, cy, sy = np.cos(ax), np.sin(ax), np.cos(ay), np.sin(ay)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    return ry @ rx


# ----------------------------------------------------------------------------- textures
def _hsv(h, s, v):
    h = (h % 1.0) * 6.0
    k = lambda n: (n + h) % 6.0                            # noqa: E731
    f = lambda n: v - v * s * np.clip(np.minimum(k(n), 4.0 - k(n)), 0.0, 1.0)   # noqa: E731
    return np.stack([f(5.0), f(3.0), f(1.0)], axis=-1)


def _wrap(d):
    return (d + 0.5) % 1.0 - 0.5


def procedural_texture(size: int, seed: int = 0, detail: int = 1) -> np.ndarray:
    """(size, size, 3) float32 in [0, 1], row 0 = top (v = 1): periodic in u so the seam is invisible.

    Layers, coarse to fine: hue gradient, broad slanted stripes, rings, a grid of coloured
    dots, a fine checker band, thin latitude lines, and (detail > 1) a finer dot lattice.
    """
    rng = np.random.default_rng(seed)
    ss = max(2, SS // size)
    n = size * ss
    u = (np.arange(n) + 0.5) / n
    v = 1.0 - (np.arange(n) + 0.5) / n                     # row 0 = top = v 1
    uu, vv = np.meshgrid(u, v)
    px = 1.0 / size                                        # one output texel, for soft edges
    cover = lambda sdf: np.clip(0.5 - sdf / px, 0.0, 1.0)[..., None]   # noqa: E731

    img = _hsv(uu + 0.15 * np.sin(2 * np.pi * vv), 0.55, 0.55 + 0.4 * vv)
    stripes = np.sin(2 * np.pi * (6 * uu + 2 * vv))        # period 1/6 in u, slanted
    img = img * (1.0 - 0.45 * cover(0.5 / (2 * np.pi * 6) * (0.55 - stripes)))
    for _ in range(5):                                     # rings
        cu, cv, rad = rng.uniform(0, 1), rng.uniform(0.2, 0.8), rng.uniform(0.05, 0.11)
        d = np.hypot(_wrap(uu - cu), vv - cv)
        ring = cover(np.abs(d - rad) - 0.012)
        img = img * (1 - ring) + ring * _hsv(rng.uniform(), 0.9, 1.0)
    cols, rows = 16 * detail, 8 * detail                   # dots, one colour per cell
    palette = _hsv(rng.uniform(size=(rows, cols)), rng.uniform(0.6, 1.0, (rows, cols)),
                   rng.uniform(0.7, 1.0, (rows, cols)))
    radius = rng.uniform(0.15, 0.35, size=(rows, cols))
    ci = np.minimum((uu * cols).astype(int), cols - 1)
    ri = np.minimum((vv * rows).astype(int), rows - 1)
    d = np.hypot((uu * cols % 1.0) - 0.5, (vv * rows % 1.0) - 0.5) / cols
    centre_v = (ri + 0.5) / rows
    band = (centre_v > 0.3) & (centre_v < 0.8)            # whole cells only: no cut dots
    dots = cover(d - radius[ri, ci] / cols) * band[..., None]
    img = img * (1 - dots) + dots * palette[ri, ci]
    checker = (np.floor(uu * 64 * detail) + np.floor(vv * 64 * detail)) % 2
    cb = ((vv > 0.12) & (vv < 0.25))[..., None]
    img = np.where(cb, 0.15 + 0.75 * checker[..., None] * _hsv(uu, 0.3, 1.0), img)
    lines = cover(np.abs(_wrap(vv * 12) / 12) - 0.4 * px) * (vv < 0.9)[..., None]
    img = img * (1 - 0.8 * lines)
    if detail > 1:                                         # fine lattice near the top
        d = np.hypot(_wrap(uu * 96), _wrap(vv * 96)) / 96
        fine = cover(d - 0.0025) * ((vv > 0.82) & (vv < 0.95))[..., None]
        img = img * (1 - fine) + fine * np.array([1.0, 0.95, 0.3])
    img = np.clip(img, 0.0, 1.0).reshape(size, ss, size, ss, 3).mean(axis=(1, 3))
    return img.astype(np.float32)


# ----------------------------------------------------------------------------- the assets
def textured_blob() -> MeshData:
    mesh = lat_long_sphere(48, 96, blob_radius, "textured_blob")
    mesh.texture = procedural_texture(256, seed=1)
    return mesh


def target_shape() -> MeshData:
    ico = icosphere(4)
    dirs = ico.positions.astype(np.float64)
    pos = (dirs * lobes_radius(dirs)[:, None]).astype(np.float32)
    return MeshData(positions=pos, faces=ico.faces, uvs=None, normals=compute_vertex_normals(pos, ico.faces)[ico.faces],
                    texture=None, vertex_colors=None, name="target_shape")


def dense_reference() -> MeshData:
    mesh = lat_long_sphere(128, 256, lambda d: blob_radius(d) + detail_radius(d), "dense_reference")
    mesh.texture = procedural_texture(512, seed=2, detail=2)
    return mesh


def lowpoly_start() -> MeshData:
    return lat_long_sphere(40, 80, blob_radius, "lowpoly_start")


def main(out_dir: Path = ROOT) -> list[Path]:
    from diffrast_cli.io.mesh_export import export_glb, export_obj

    out = Path(out_dir)
    written = export_obj(textured_blob(), out, "textured_blob")
    written += export_obj(target_shape(), out, "target_shape")
    written.append(export_glb(dense_reference(), out, "dense_reference"))
    written += export_obj(lowpoly_start(), out, "lowpoly_start")
    return written


if __name__ == "__main__":
    for p in main():
        print(f"wrote {p} ({p.stat().st_size / 1024:.0f} KiB)")
