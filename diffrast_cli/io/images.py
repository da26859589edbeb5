"""Target images: load any image pillow reads, composite alpha, resize."""

from __future__ import annotations

import struct
import warnings
from pathlib import Path

import numpy as np

from ..errors import InputError, LimitError

MAX_IMAGE_PIXELS = 64 * 1024 * 1024    # a target image file, decoded
MAX_TARGET_PIXELS = 64 * 1024 * 1024   # the target at render.resolution (8192 x 8192)


def target_size(resolution, image_size: tuple[int, int]) -> tuple[int, int]:
    """(w, h) of the render: [w, h] as given, or an int for the longer side keeping the image's aspect."""
    if isinstance(resolution, int):
        iw, ih = image_size
        if iw >= ih:
            return resolution, max(1, round(resolution * ih / iw))
        return max(1, round(resolution * iw / ih)), resolution
    return int(resolution[0]), int(resolution[1])


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or exc.__class__.__name__


def header_size(path: Path) -> tuple[int, int] | None:
    """(w, h) from the image header without decoding, or None if it cannot be read
    (then :func:`load_target` reports the problem)."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as img:
                return img.size
    except Exception:
        return None


def open_image(path: Path):
    """Open and fully decode an image, or raise InputError naming the file."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: image not found")
    if not path.is_file():
        raise InputError(f"{path}: not a file")
    # Pillow's own bomb check only warns between 1x and 2x its limit: the size is checked here instead.
    Image.MAX_IMAGE_PIXELS = 2 * MAX_IMAGE_PIXELS
    try:
        f = open(path, "rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot read image ({exc.strerror or exc.__class__.__name__})")
    try:
        with f, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            img = Image.open(f)
            if img.width < 1 or img.height < 1:
                raise InputError(f"{path}: empty image ({img.width}x{img.height})")
            if img.width * img.height > MAX_IMAGE_PIXELS:
                raise InputError(f"{path}: image is {img.width}x{img.height}, more than the "
                                 f"{MAX_IMAGE_PIXELS} pixels allowed")
            img.load()
    except InputError:
        raise
    except UnidentifiedImageError:
        raise InputError(f"{path}: not an image pillow can read" + (" (empty file)" if path.stat().st_size == 0 else ""))
    except Image.DecompressionBombError:
        raise InputError(f"{path}: image is more than the {MAX_IMAGE_PIXELS} pixels allowed")
    except MemoryError:
        raise InputError(f"{path}: not enough memory to decode the image")
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError, struct.error) as exc:
        raise InputError(f"{path}: corrupt or truncated image ({_one_line(exc)})")
    return img


def to_rgb_float(img, background=(0.0, 0.0, 0.0)) -> np.ndarray:
    """HxWx3 float32 in [0, 1]; alpha is composited over ``background``."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        a = np.asarray(img, dtype=np.float64)
        a = a / (65535.0 if mode.startswith("I;16") or a.max() > 255 else 255.0)
        return np.repeat(a[:, :, None], 3, axis=2).astype(np.float32)
    if mode == "F":
        a = np.clip(np.asarray(img, dtype=np.float64), 0.0, 1.0)
        return np.repeat(a[:, :, None], 3, axis=2).astype(np.float32)
    has_alpha = mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info)
    rgba = np.asarray(img.convert("RGBA" if has_alpha else "RGB"), dtype=np.float32) / 255.0
    if not has_alpha:
        return rgba
    rgb, alpha = rgba[:, :, :3], rgba[:, :, 3:4]
    return (rgb * alpha + np.asarray(background, dtype=np.float32) * (1.0 - alpha)).astype(np.float32)


def load_target(path: Path, resolution, background=(0.0, 0.0, 0.0)) -> np.ndarray:
    """The target image at the render resolution: HxWx3 float32, row 0 = top."""
    from PIL import Image

    img = open_image(path)
    w, h = target_size(resolution, img.size)
    if w * h > MAX_TARGET_PIXELS:
        raise LimitError(f"render.resolution: a {w}x{h} target ({w * h} pixels) is more than the "
                         f"{MAX_TARGET_PIXELS} pixels allowed (8192x8192); lower render.resolution")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rgb = to_rgb_float(img, background)
            if (w, h) != img.size:
                channels = [Image.fromarray(rgb[:, :, c], mode="F").resize((w, h), Image.Resampling.LANCZOS)
                            for c in range(3)]
                rgb = np.stack([np.asarray(c, dtype=np.float32) for c in channels], axis=2)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot convert the {img.mode} image to RGB ({_one_line(exc)})")
    return np.clip(rgb, 0.0, 1.0).astype(np.float32)
