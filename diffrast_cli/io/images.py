"""Target images: load any image pillow reads, composite alpha, resize."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError

MAX_IMAGE_PIXELS = 64 * 1024 * 1024


def target_size(resolution, image_size: tuple[int, int]) -> tuple[int, int]:
    """(w, h) of the render: [w, h] as given, or an int for the longer side keeping the image's aspect."""
    if isinstance(resolution, int):
        iw, ih = image_size
        if iw >= ih:
            return resolution, max(1, round(resolution * ih / iw))
        return max(1, round(resolution * iw / ih)), resolution
    return int(resolution[0]), int(resolution[1])


def open_image(path: Path):
    """Open and fully decode an image, or raise InputError naming the file."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: image not found")
    if not path.is_file():
        raise InputError(f"{path}: not a file")
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        img = Image.open(path)
        img.load()
    except UnidentifiedImageError:
        raise InputError(f"{path}: not an image pillow can read")
    except Image.DecompressionBombError as exc:
        raise InputError(f"{path}: image too large ({exc})")
    except (OSError, ValueError, SyntaxError) as exc:
        raise InputError(f"{path}: corrupt or truncated image ({exc})")
    if img.width < 1 or img.height < 1:
        raise InputError(f"{path}: empty image")
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
    rgb = to_rgb_float(img, background)
    if (w, h) != img.size:
        channels = [Image.fromarray(rgb[:, :, c], mode="F").resize((w, h), Image.Resampling.LANCZOS)
                    for c in range(3)]
        rgb = np.stack([np.asarray(c, dtype=np.float32) for c in channels], axis=2)
    return np.clip(rgb, 0.0, 1.0).astype(np.float32)
