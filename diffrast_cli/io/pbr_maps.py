"""PBR maps as image files and back: the encodings glTF 2.0 (and our OBJ + MTL) use.

Maps are in the parameters' convention of :class:`~diffrast_cli.io.material.PbrMaterial`
(float, row 0 = top).  Encodings, each the inverse of its decoder here:

* base colour: linear RGB -> sRGB transfer function -> 8-bit RGB PNG;
* metallic-roughness (glTF): one 8-bit RGB PNG, G = roughness, B = metallic,
  R = occlusion where it is packed in (else 255);
* normal: tangent-space unit vector n -> n * 0.5 + 0.5 -> 8-bit RGB PNG;
* roughness, metallic, occlusion alone: 8-bit grayscale PNG;
* height: 16-bit grayscale PNG.

A map whose shape is (1, 1[, C]) is a constant: exporters write it as a factor.
"""

from __future__ import annotations

import io

import numpy as np

from .material import linear_to_srgb, srgb_to_linear

# the key of a glTF material's extras that names its height image (see io.pbr_export)
HEIGHT_EXTRAS = "diffrast_height"


def is_constant(a) -> bool:
    """True for a (1, 1[, C]) map (written as a factor, not an image)."""
    return np.shape(a)[:2] == (1, 1)


def _png(img) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _clean(a) -> np.ndarray:
    return np.clip(np.nan_to_num(np.asarray(a, dtype=np.float64), nan=0.0), 0.0, 1.0)


def png_rgb8(a) -> bytes:
    """(H, W, 3) in [0, 1] as an 8-bit RGB PNG (no transfer function applied)."""
    from PIL import Image

    a = _clean(a)
    if a.ndim != 3 or a.shape[2] != 3:
        raise ValueError(f"an RGB map must have shape (H, W, 3), got {a.shape}")
    return _png(Image.fromarray(np.rint(a * 255.0).astype(np.uint8), mode="RGB"))


def png_gray8(a) -> bytes:
    """(H, W) or (H, W, 1) in [0, 1] as an 8-bit grayscale PNG."""
    from PIL import Image

    a = _clean(a)
    a = a[:, :, 0] if a.ndim == 3 else a
    return _png(Image.fromarray(np.rint(a * 255.0).astype(np.uint8), mode="L"))


def png_gray16(a) -> bytes:
    """(H, W) or (H, W, 1) in [0, 1] as a 16-bit grayscale PNG."""
    from PIL import Image

    a = _clean(a)
    a = a[:, :, 0] if a.ndim == 3 else a
    return _png(Image.fromarray(np.rint(a * 65535.0).astype(np.uint16)))


def resample(a, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) map resized bilinearly to ``shape`` (texel centres kept); a constant is broadcast."""
    from PIL import Image

    a = np.asarray(a, dtype=np.float32)
    a = a[:, :, 0] if a.ndim == 3 else a
    if a.shape == tuple(shape):
        return a
    if is_constant(a):
        return np.full(shape, a[0, 0], np.float32)
    img = Image.fromarray(np.ascontiguousarray(a), mode="F").resize((shape[1], shape[0]), Image.BILINEAR)
    return np.asarray(img, dtype=np.float32)


def base_color_png(linear) -> bytes:
    """Linear base colour (H, W, 3) as an 8-bit sRGB PNG."""
    return png_rgb8(linear_to_srgb(_clean(linear)))


def normal_png(normal) -> bytes:
    """Unit tangent-space normals (H, W, 3) as n * 0.5 + 0.5 in an 8-bit RGB PNG."""
    n = np.nan_to_num(np.asarray(normal, dtype=np.float64), nan=0.0)
    length = np.linalg.norm(n, axis=-1, keepdims=True)
    n = np.where(length > 1e-12, n / np.where(length > 1e-12, length, 1.0), [0.0, 0.0, 1.0])
    return png_rgb8(n * 0.5 + 0.5)


def packed_size(*maps) -> tuple[int, int]:
    """The (H, W) of the largest non-constant map among ``maps`` (None entries skipped)."""
    shapes = [np.shape(m)[:2] for m in maps if m is not None and not is_constant(m)]
    return max(shapes, key=lambda s: (s[0] * s[1], s)) if shapes else (1, 1)


def metallic_roughness_png(roughness, metallic, occlusion=None) -> bytes:
    """glTF's metallic-roughness image (G = roughness, B = metallic, R = occlusion or 255),
    at the size of the largest non-constant of the maps given."""
    shape = packed_size(roughness, metallic, occlusion)
    red = np.ones(shape, np.float32) if occlusion is None else resample(occlusion, shape)
    return png_rgb8(np.stack([red, resample(roughness, shape), resample(metallic, shape)], axis=-1))


# --------------------------------------------------------------------------- decoding (loaders)
def image_channels(img) -> np.ndarray:
    """A pillow image as (H, W, C) float32 in [0, 1] (16-bit images scaled by 65535), row 0 = top;
    grayscale gives one channel, anything else RGB (alpha dropped)."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        a = np.asarray(img, dtype=np.float64)
        scale = 65535.0 if mode.startswith("I;16") or (mode == "I" and a.max(initial=0) > 255) \
            else 255.0 if mode == "I" else 1.0
        return np.clip(a / scale, 0, 1)[:, :, None].astype(np.float32)
    if mode in ("L", "LA"):
        return (np.asarray(img.convert("L"), dtype=np.float32) / 255.0)[:, :, None]
    rgb = img.convert("RGBA").convert("RGB") if mode in ("P", "PA") else img.convert("RGB")
    return np.asarray(rgb, dtype=np.float32) / 255.0


def channel(img, index: int) -> np.ndarray:
    """Channel ``index`` (0 = R) of a pillow image as (H, W) float32 (a gray image's only channel)."""
    a = image_channels(img)
    return a[:, :, min(index, a.shape[2] - 1)]


def base_color_from_image(img) -> np.ndarray:
    """An sRGB base-colour image as linear (H, W, 3) float32."""
    a = image_channels(img)
    a = np.repeat(a, 3, axis=2) if a.shape[2] == 1 else a
    return srgb_to_linear(a).astype(np.float32)


def normal_from_image(img) -> np.ndarray:
    """An encoded normal map as unit (H, W, 3) float32 (x * 2 - 1, normalised; zero -> +z)."""
    a = image_channels(img).astype(np.float64)
    a = np.repeat(a, 3, axis=2) if a.shape[2] == 1 else a
    n = a * 2.0 - 1.0
    length = np.linalg.norm(n, axis=-1, keepdims=True)
    n = np.where(length > 1e-6, n / np.where(length > 1e-6, length, 1.0), [0.0, 0.0, 1.0])
    return n.astype(np.float32)


__all__ = ["HEIGHT_EXTRAS", "base_color_from_image", "base_color_png", "channel", "image_channels", "is_constant",
           "metallic_roughness_png", "normal_from_image", "normal_png", "packed_size", "png_gray16",
           "png_gray8", "png_rgb8", "resample"]
