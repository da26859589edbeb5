"""A glTF metallic-roughness material (as trimesh loads it) as a
:class:`~diffrast_cli.io.material.PbrMaterial` -- the inverse of :mod:`~diffrast_cli.io.pbr_export`.

* base colour: the texture decoded sRGB -> linear, times baseColorFactor (RGB; alpha dropped);
* roughness / metallic: G / B of metallicRoughnessTexture times roughnessFactor / metallicFactor;
* normal: normalTexture decoded x * 2 - 1 and normalised (its ``scale`` is not applied);
* occlusion: R of occlusionTexture (its ``strength`` is not applied);
* height: the image named by the material's ``extras.diffrast_height`` (see pbr_export).

A factor without a texture gives a (1, 1) map.  trimesh keeps baseColorFactor as 8-bit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError, one_line
from .images import MAX_IMAGE_PIXELS
from .material import PbrMaterial
from .mesh_formats import gltf_image, gltf_json, quiet_loaders
from .pbr_maps import HEIGHT_EXTRAS, base_color_from_image, channel, normal_from_image


def _factor(value, default: float) -> float:
    if value is None:
        return default
    x = float(np.ravel(np.asarray(value, dtype=np.float64))[0])
    if not np.isfinite(x):
        raise ValueError(f"factor {x}")
    return float(np.clip(x, 0.0, 1.0))


def _image(path: Path, img, what: str):
    if img is None:
        return None
    if img.width < 1 or img.height < 1 or img.width * img.height > MAX_IMAGE_PIXELS:
        raise InputError(f"{path}: {what} texture is {img.width}x{img.height}; between 1 and "
                         f"{MAX_IMAGE_PIXELS} pixels are allowed")
    return img


def pbr_material_from_trimesh(path: Path, mat) -> PbrMaterial:
    """The PbrMaterial of trimesh's ``PBRMaterial`` ``mat`` loaded from the glTF ``path``."""
    base_img = _image(path, getattr(mat, "baseColorTexture", None), "base-colour")
    mr_img = _image(path, getattr(mat, "metallicRoughnessTexture", None), "metallic-roughness")
    normal_img = _image(path, getattr(mat, "normalTexture", None), "normal")
    occ_img = _image(path, getattr(mat, "occlusionTexture", None), "occlusion")
    try:
        with quiet_loaders():
            factor = getattr(mat, "baseColorFactor", None)
            factor = np.ones(3) if factor is None else np.asarray(factor, dtype=np.float64)[:3] / 255.0
            if not np.isfinite(factor).all():
                raise ValueError("baseColorFactor is not finite")
            factor = np.clip(factor, 0.0, 1.0)
            base = factor.reshape(1, 1, 3) if base_img is None else base_color_from_image(base_img) * factor
            metal_f = _factor(getattr(mat, "metallicFactor", None), 1.0)
            rough_f = _factor(getattr(mat, "roughnessFactor", None), 1.0)
            if mr_img is None:
                rough, metal = np.full((1, 1), rough_f), np.full((1, 1), metal_f)
            else:
                rough, metal = channel(mr_img, 1) * rough_f, channel(mr_img, 2) * metal_f
            normal = None if normal_img is None else normal_from_image(normal_img)
            occlusion = None if occ_img is None else channel(occ_img, 0)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{path}: cannot read the PBR material ({exc.__class__.__name__}: {one_line(exc)})")
    return PbrMaterial(base_color=np.asarray(base, np.float32), roughness=np.asarray(rough, np.float32),
                       metallic=np.asarray(metal, np.float32), normal=normal, occlusion=occlusion,
                       name=str(getattr(mat, "name", None) or "material_0"))


def add_gltf_height(path: Path, data: bytes, material: PbrMaterial) -> None:
    """Set ``material``'s height map from the glTF's ``extras.diffrast_height`` of the material
    of the same name (or the only material), if there is one."""
    tree, _ = gltf_json(path, data)
    try:
        mats = [m for m in tree.get("materials", []) if isinstance(m, dict)]
        named = [m for m in mats if m.get("name") == material.name] or (mats if len(mats) == 1 else [])
        extras = named[0].get("extras") if named else None
        spec = extras.get(HEIGHT_EXTRAS) if isinstance(extras, dict) else None
        if spec is None:
            return
        src = int(spec["image"])
        strength, midlevel = float(spec.get("strength", 0.0)), float(spec.get("midlevel", 0.5))
        if not (np.isfinite(strength) and np.isfinite(midlevel)):
            raise ValueError("strength and midlevel must be finite")
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise InputError(f"{path}: malformed {HEIGHT_EXTRAS} in the material's extras "
                         f"({exc.__class__.__name__}: {one_line(exc)})")
    img = gltf_image(path, data, src, "height map")
    try:
        with quiet_loaders():
            material.height = channel(img, 0)
    except Exception as exc:
        raise InputError(f"{path}: cannot read the height map ({one_line(exc)})")
    material.height_strength, material.height_midlevel = strength, midlevel


__all__ = ["add_gltf_height", "pbr_material_from_trimesh"]
