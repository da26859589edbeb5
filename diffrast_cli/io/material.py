"""The PBR material record (glTF 2.0 metallic-roughness) that loaders return and exporters write.

Every map is an array in the parameters' convention: float32, row 0 = the top of
the image (v = 1), values as docs/pbr.md defines them. A constant map is a
(1, 1[, C]) array. ``None`` = the map is absent (occlusion, height, normal).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# channels of each map, in the order the parameter layout stores them
MAP_CHANNELS = {"base_color": 3, "roughness": 1, "metallic": 1, "normal": 3, "height": 1, "occlusion": 1}


@dataclass
class PbrMaterial:
    base_color: np.ndarray                 # (H, W, 3) linear RGB in [0, 1]
    roughness: np.ndarray                  # (H, W) perceptual roughness in [0, 1]
    metallic: np.ndarray                   # (H, W) in [0, 1]
    normal: np.ndarray | None = None       # (H, W, 3) unit tangent-space normal, z out of the surface
    occlusion: np.ndarray | None = None    # (H, W) in [0, 1]
    height: np.ndarray | None = None       # (H, W) in [0, 1]; displacement = strength * (h - midlevel)
    height_strength: float = 0.0           # world units
    height_midlevel: float = 0.5
    name: str = "material_0"

    def map(self, name: str):
        """The map called ``name`` (a key of MAP_CHANNELS) as (H, W, C) float32, or None."""
        value = getattr(self, name)
        if value is None:
            return None
        a = np.asarray(value, np.float32)
        return a[:, :, None] if a.ndim == 2 else a


def constant_material(base_color=(0.8, 0.8, 0.8), roughness=0.5, metallic=0.0) -> PbrMaterial:
    return PbrMaterial(base_color=np.asarray(base_color, np.float32).reshape(1, 1, 3),
                       roughness=np.full((1, 1), roughness, np.float32),
                       metallic=np.full((1, 1), metallic, np.float32))


def srgb_to_linear(x):
    x = np.asarray(x, np.float64)
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(x):
    x = np.maximum(np.asarray(x, np.float64), 0.0)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1.0 / 2.4) - 0.055)


__all__ = ["MAP_CHANNELS", "PbrMaterial", "constant_material", "linear_to_srgb", "srgb_to_linear"]
