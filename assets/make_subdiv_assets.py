"""Generate the subdivision-surface assets of issue 13 (configs/subdiv_pbr.yaml).

Run from the repository root::

    python assets/make_subdiv_assets.py

This writes next to this script:

* ``subdiv_start.obj``: the start cage, a cube of 3 x 3 quads per side (54 quads, 56
  vertices) pushed onto the unit sphere, with per-corner UVs: each cube side is a cell of a
  3 x 2 atlas;
* ``subdiv_reference.glb``: the reference, the same cage moved into a bean-like shape
  (stretched, with a dent and a bulge), refined 2 levels by Catmull-Clark, displaced by a
  height map (strength 0.04; bumps that fade to the midlevel at the cells' borders, so the
  displaced surface has no cracks at the UV seams), with a base colour map (a hue per cube
  side and stripes) and a roughness map. The displacement is applied; the GLB has no height map.

numpy only, deterministic.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
if str(ROOT.parent) not in sys.path:
    sys.path.insert(0, str(ROOT.parent))

from diffrast_cli.io.material import PbrMaterial  # noqa: E402
from diffrast_cli.io.pbr_export import export_pbr_glb  # noqa: E402
from diffrast_cli.scene.subdiv.cage import cage_obj_text, sphere_cage  # noqa: E402
from diffrast_cli.scene.subdiv.surface import RefinedSurface  # noqa: E402

N = 3                   # quads per cube side and axis
MARGIN = 0.02           # of an atlas cell, around each cube side's UV square
LEVELS = 2
STRENGTH = 0.04
MAP = 128               # texels per side of the maps


def bean(points: np.ndarray) -> np.ndarray:
    """The reference shape: each cage point moved along its direction, then stretched."""
    d = points / np.linalg.norm(points, axis=1, keepdims=True)
    r = 1.0 + 0.22 * np.exp(-8 * np.sum((d - np.array([0.6, 0.6, 0.5])) ** 2, axis=1)) \
        - 0.28 * np.exp(-6 * np.sum((d - np.array([0.0, -0.2, 1.0])) ** 2, axis=1))
    return d * r[:, None] * np.array([1.3, 0.85, 1.0])


def atlas_maps() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(base colour (MAP, MAP, 3) linear, roughness (MAP, MAP), height (MAP, MAP)); row 0 = top."""
    u = (np.arange(MAP) + 0.5) / MAP
    v = 1.0 - (np.arange(MAP) + 0.5) / MAP
    uu, vv = np.meshgrid(u, v)
    side = np.minimum((uu * 3).astype(int), 2) + 3 * np.minimum((vv * 2).astype(int), 1)
    su, sv = uu * 3 - side % 3, vv * 2 - side // 3              # [0, 1] within the side's cell
    hue = side / 6.0
    base = 0.45 + 0.35 * np.stack([np.cos(2 * np.pi * (hue + k / 3.0)) for k in range(3)], axis=2)
    stripes = 0.5 + 0.5 * np.cos(2 * np.pi * 2 * (su + 0.5 * sv))
    base = base * (0.65 + 0.35 * stripes[:, :, None])
    rough = 0.35 + 0.4 * sv
    window = np.clip(np.minimum.reduce([su, 1 - su, sv, 1 - sv]) / 0.15, 0, 1) ** 2
    bumps = np.sin(2 * np.pi * 1.5 * su) * np.sin(2 * np.pi * 1.5 * sv)
    height = 0.5 + 0.45 * window * bumps
    return base.astype(np.float32), rough.astype(np.float32), height.astype(np.float32)


def reference():
    start = sphere_cage(N, MARGIN, "subdiv_start")
    surface = RefinedSurface.build(start, LEVELS)
    base, rough, height = atlas_maps()
    data = surface.mesh_data(bean(start.positions), height, STRENGTH, 0.5, name="subdiv_reference")
    data.material = PbrMaterial(base_color=base, roughness=rough, metallic=np.zeros((1, 1), np.float32),
                                normal=None)
    return data


def main(out_dir=ROOT) -> list[Path]:
    out_dir = Path(out_dir)
    start = sphere_cage(N, MARGIN, "subdiv_start")
    obj = out_dir / "subdiv_start.obj"
    obj.write_text(cage_obj_text(start.positions, start.faces, start.uvs))
    return [obj, export_pbr_glb(reference(), out_dir, "subdiv_reference")]


if __name__ == "__main__":
    for path in main():
        print(path)
