"""The mesh record every loader and generator returns (conventions in :mod:`meshes`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class MeshData:
    positions: np.ndarray              # (P, 3) float32, unique (welded) vertex positions
    faces: np.ndarray                  # (F, 3) int32 indices into positions
    uvs: np.ndarray | None             # (F, 3, 2) float32 per corner, v = 0 at the bottom of the image
    normals: np.ndarray | None         # (F, 3, 3) float32 per corner, unit length
    texture: np.ndarray | None         # (H, W, 3) float32 in [0, 1], row 0 = top of the image
    vertex_colors: np.ndarray | None   # (P, 3) float32 in [0, 1]
    name: str
    material: object = None            # io.material.PbrMaterial (glTF metallic-roughness), or None
