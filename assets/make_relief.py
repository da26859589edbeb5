"""Generate the displacement reference of issue 10 (configs/displacement.yaml).

Run from the repository root::

    python assets/make_relief.py

This writes ``relief_reference.glb`` next to this script: a low-poly lat-long unit
sphere (8 x 16, 224 triangles) with a constant clay material and a 64 x 128 height
map (glTF extras ``diffrast_height``, strength 0.15, midlevel 0.5): a ring of 8
smooth round bumps and 8 dents around the equator, fading to the midlevel towards the
poles. The map is periodic in u and constant on the pole rows, so the displaced surface
has no cracks at the UV seam or the poles. numpy only, deterministic.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
if str(ROOT.parent) not in sys.path:
    sys.path.insert(0, str(ROOT.parent))

from diffrast_cli.io.material import PbrMaterial  # noqa: E402
from diffrast_cli.io.mesh_geometry import lat_long_sphere  # noqa: E402
from diffrast_cli.io.pbr_export import export_pbr_glb  # noqa: E402

STRENGTH = 0.15


def relief_height(width: int = 128, height: int = 64) -> np.ndarray:
    """(height, width) in [0, 1], row 0 = top (v = 1, the +y pole)."""
    u = (np.arange(width) + 0.5) / width
    v = 1.0 - (np.arange(height) + 0.5) / height
    uu, vv = np.meshgrid(u, v)
    lat = (vv - 0.5) * np.pi                      # -pi/2 .. pi/2
    band = np.cos(lat) ** 4                       # 0 at the poles
    bumps = np.cos(8 * 2 * np.pi * uu) * np.exp(-((lat / 0.45) ** 2))
    ridges = 0.5 * np.cos(4 * 2 * np.pi * uu + 1.0) * np.sin(2.0 * lat)
    return np.clip(0.5 + 0.42 * band * (bumps + ridges), 0.0, 1.0).astype(np.float32)


def relief_reference():
    mesh = lat_long_sphere(8, 16, name="relief_reference")
    mesh.material = PbrMaterial(base_color=np.float32([0.55, 0.32, 0.22]).reshape(1, 1, 3),
                                roughness=np.full((1, 1), 0.55, np.float32), metallic=np.zeros((1, 1), np.float32),
                                height=relief_height(), height_strength=STRENGTH, height_midlevel=0.5)
    return mesh


def main(out_dir=ROOT) -> Path:
    return export_pbr_glb(relief_reference(), out_dir, "relief_reference")


if __name__ == "__main__":
    print(main())
