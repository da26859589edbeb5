"""Generate the PBR reference asset of issue 10.

Run from the repository root::

    python assets/make_pbr_assets.py

This writes ``pbr_reference.glb`` next to this script: a lat-long unit sphere
(32 x 64, 4,032 triangles, one UV seam at u = 0/1, poles fanned) with a glTF
metallic-roughness material of 256x256 maps:

* a band of 8 x 6 square tiles (32 x 32 texels each) between two polar caps of 32
  rows each; tiles take one of five paint colours, or one of three metals;
* base colour: the tile's colour, grey grout lines between tiles, dark slate caps;
* roughness: per tile one of 0.25, 0.4, 0.6, 0.8 (metals at least 0.45: brushed); grout 0.85;
  caps 0.6;
* metallic: 1 on six metal tiles, 0 elsewhere;
* normal: each tile is a smooth dome h = sin(pi fu) sin(pi fv) (fu, fv the position
  in the tile), flat (+z) on the grout lines and the caps; unit tangent-space normals
  normalize(-k dh/dfu, -k dh/dfv, 1) (u along the tangent, v along the bitangent).

The caps are constant along every row, so nothing differs across the poles where
the columns of the UV map meet; tile edges fall on u = 0 = 1, so the seam is
continuous.  numpy only, deterministic (fixed seed).  Linear colours; the exporter
writes base colour as sRGB.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
if str(ROOT.parent) not in sys.path:
    sys.path.insert(0, str(ROOT.parent))

from diffrast_cli.io.material import PbrMaterial  # noqa: E402
from diffrast_cli.io.mesh_data import MeshData  # noqa: E402
from diffrast_cli.io.mesh_geometry import lat_long_sphere  # noqa: E402
from diffrast_cli.io.pbr_export import export_pbr_glb  # noqa: E402

SIZE = 256            # map side in texels
CAP = 32              # rows of each polar cap
TILES_U, TILES_V = 8, 6
GROUT = 0.06          # grout half-width, as a fraction of a tile side
BUMP = 0.3            # normal-map slope scale k (domes tilt up to ~43 degrees)
PAINTS = np.array([[0.70, 0.12, 0.08], [0.10, 0.32, 0.65], [0.85, 0.62, 0.10],
                   [0.12, 0.45, 0.18], [0.80, 0.78, 0.72]])          # linear RGB
METALS = np.array([[1.00, 0.77, 0.34], [0.91, 0.92, 0.92], [0.96, 0.64, 0.54]])   # gold, silver, copper
ROUGHNESS = np.array([0.25, 0.4, 0.6, 0.8])
N_METAL = 6
METAL_MIN_ROUGHNESS = 0.45


def pbr_maps(seed: int = 10) -> PbrMaterial:
    """The 256x256 maps described in the module doc (row 0 = top = v 1)."""
    rng = np.random.default_rng(seed)
    n_tiles = TILES_U * TILES_V
    metal = np.zeros(n_tiles, bool)
    metal[rng.choice(n_tiles, N_METAL, replace=False)] = True
    paint = PAINTS[rng.integers(0, len(PAINTS), n_tiles)]
    paint[metal] = METALS[rng.integers(0, len(METALS), N_METAL)]
    rough = ROUGHNESS[rng.integers(0, len(ROUGHNESS), n_tiles)]
    rough[metal] = np.maximum(rough[metal], METAL_MIN_ROUGHNESS)  # brushed metals

    row, col = np.mgrid[0:SIZE, 0:SIZE] + 0.5                    # texel centres
    band = (row >= CAP) & (row < SIZE - CAP)
    tu = col / SIZE * TILES_U                                    # tile coordinates, fv growing with v (upwards)
    tv = (SIZE - CAP - row) / (SIZE - 2 * CAP) * TILES_V
    iu = np.clip(np.floor(tu).astype(int), 0, TILES_U - 1)
    iv = np.clip(np.floor(tv).astype(int), 0, TILES_V - 1)
    fu, fv = tu - iu, tv - iv
    tile = iv * TILES_U + iu
    inside = band & (np.minimum(np.minimum(fu, 1 - fu), np.minimum(fv, 1 - fv)) > GROUT)

    base = np.where(inside[..., None], paint[tile], 0.30)
    base = np.where(band[..., None], base, [0.08, 0.09, 0.12])
    roughness = np.where(inside, rough[tile], np.where(band, 0.85, 0.6))
    metallic = np.where(inside, metal[tile], 0.0)

    # dome per tile; its gradient in tile coordinates; flat outside the tiles
    su, sv = np.sin(np.pi * fu), np.sin(np.pi * fv)
    dh_du = np.where(inside, np.pi * np.cos(np.pi * fu) * sv, 0.0)
    dh_dv = np.where(inside, np.pi * su * np.cos(np.pi * fv), 0.0)
    normal = np.stack([-BUMP * dh_du, -BUMP * dh_dv, np.ones_like(dh_du)], axis=-1)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    return PbrMaterial(base_color=base.astype(np.float32), roughness=roughness.astype(np.float32),
                       metallic=metallic.astype(np.float32), normal=normal.astype(np.float32),
                       name="pbr_reference")


def pbr_reference() -> MeshData:
    mesh = lat_long_sphere(32, 64, name="pbr_reference")
    mesh.material = pbr_maps()
    return mesh


def main(out_dir=ROOT) -> list[Path]:
    return [export_pbr_glb(pbr_reference(), out_dir, "pbr_reference")]


if __name__ == "__main__":
    for p in main():
        print(f"wrote {p} ({p.stat().st_size / 1024:.0f} KiB)")
