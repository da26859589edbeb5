"""Generate the voxel-volume reference of issue 14 (configs/volume_smoke.yaml).

Run from the repository root::

    python assets/make_volume_smoke.py

This writes ``smoke_reference.npz`` next to this script (what ``target.reference.volume`` and
``scene.init_file`` read: density (z, y, x), color (z, y, x, 3), lo, hi): a 40^3 grid on
[-1, 1]^3 of a smoke-like field, four soft anisotropic puffs along a bent plume with a ripple
of their density, coloured by a gradient along the plume (warm at the base, cool at the top)
that varies around it. Density up to about 9 per world unit (a ray through the thickest part
keeps a few percent of its light). numpy only, deterministic.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
if str(ROOT.parent) not in sys.path:
    sys.path.insert(0, str(ROOT.parent))

from diffrast_cli.scene.volume.grid import GridSpec  # noqa: E402

SIDE = 40
PUFFS = [  # centre, radii, peak density
    ((-0.25, -0.45, 0.05), (0.30, 0.22, 0.28), 8.0),
    ((0.05, -0.1, -0.05), (0.26, 0.24, 0.22), 7.0),
    ((0.3, 0.2, 0.1), (0.22, 0.26, 0.2), 6.0),
    ((0.1, 0.5, 0.2), (0.2, 0.18, 0.24), 5.0),
]


def smoke_field() -> tuple[np.ndarray, np.ndarray, GridSpec]:
    spec = GridSpec((SIDE, SIDE, SIDE), np.full(3, -1.0), np.full(3, 1.0))
    p = spec.node_positions()
    density = np.zeros(len(p))
    for c, r, peak in PUFFS:
        q = (p - np.asarray(c)) / np.asarray(r)
        density += peak * np.exp(-0.5 * np.sum(q * q, axis=1) * 2.0)
    density *= 1.0 + 0.25 * np.sin(5.0 * p[:, 0] + 3.0 * p[:, 2]) * np.cos(4.0 * p[:, 1])
    density[density < 0.05] = 0.0
    height = np.clip((p[:, 1] + 0.8) / 1.6, 0.0, 1.0)
    around = 0.5 + 0.5 * np.sin(np.arctan2(p[:, 2], p[:, 0]) * 2.0)
    warm, cool = np.array([1.0, 0.55, 0.2]), np.array([0.25, 0.55, 1.0])
    color = (1 - height)[:, None] * warm + height[:, None] * cool
    color = np.clip(color * (0.75 + 0.25 * around)[:, None] + 0.1 * around[:, None] * np.array([0.0, 0.6, 0.2]), 0, 1)
    shape = (SIDE, SIDE, SIDE)
    return density.reshape(shape).astype(np.float32), color.reshape(shape + (3,)).astype(np.float32), spec


def main(out_dir=ROOT) -> Path:
    density, color, spec = smoke_field()
    path = Path(out_dir) / "smoke_reference.npz"
    np.savez_compressed(path, density=density, color=color, lo=spec.lo.astype(np.float32),
                        hi=spec.hi.astype(np.float32))
    return path


if __name__ == "__main__":
    print(main())
