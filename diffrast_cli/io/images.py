"""Target images: load any image pillow reads, composite alpha, resize.

What a target image becomes (HxWx3 float32 in [0, 1], row 0 = top):

* 8-bit data / 255; 16-bit data (16-bit PNG, PGM/PPM, TIFF) / 65535; a 32-bit integer
  image (mode I) has no agreed white, so it is divided by the smallest of 255, 65535 and
  2^32 - 1 that holds its largest value (negative values become 0).  Pillow reads 16-bit
  RGB(A) PNGs as 8-bit: the scale is right, the low byte is lost.
* Float images (mode F, e.g. a float TIFF) are taken as [0, 1] (clipped); NaN or infinite
  pixels are refused.
* Alpha (RGBA, LA, PA, a palette or colour with PNG/GIF transparency) is composited over
  render.background; CMYK, YCbCr, LAB and HSV are converted to RGB by pillow.
* The EXIF orientation tag is applied (as photo viewers and browsers do): a portrait
  photo stored sideways with orientation 6 is used upright.  :func:`header_size` reports
  the upright size too.  Textures of meshes (:func:`open_image` alone) are not rotated.
* Animated or multi-page files: the first frame.
* Files that are not images, truncated or corrupt, or over MAX_IMAGE_PIXELS are refused
  with an InputError naming the file (pillow's own errors are never let through).
"""

from __future__ import annotations

import contextlib
import os
import struct
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

from ..errors import InputError, LimitError, one_line

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


EXIF_ORIENTATION = 0x0112


def exif_orientation(img) -> int:
    """The EXIF orientation (1..8) of an opened image; 1 when there is none or it cannot be read
    (bad metadata does not make the pixels unusable)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = img.getexif().get(EXIF_ORIENTATION, 1)
    except Exception:
        return 1
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _upright(a: np.ndarray, orientation: int) -> np.ndarray:
    """An HxWxC array of the stored image as it is meant to be seen (EXIF orientation 1..8).
    Done on the array, so the image keeps its format and tags (which set the scale of 16-bit data)."""
    flips = {1: lambda x: x, 2: lambda x: x[:, ::-1], 3: lambda x: x[::-1, ::-1], 4: lambda x: x[::-1],
             5: lambda x: x.transpose(1, 0, 2), 6: lambda x: np.rot90(x, -1),
             7: lambda x: x[::-1, ::-1].transpose(1, 0, 2), 8: lambda x: np.rot90(x, 1)}
    return np.ascontiguousarray(flips.get(orientation, flips[1])(a))


def header_size(path: Path) -> tuple[int, int] | None:
    """Upright (w, h) from the image header (EXIF orientation applied) without decoding,
    or None if it cannot be read (then :func:`load_target` reports the problem)."""
    from PIL import Image

    try:
        if not Path(path).is_file():                 # a FIFO would block open() until a writer comes
            return None
        with c_stderr_into([]), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as img:
                w, h = img.size
                return (h, w) if exif_orientation(img) >= 5 else (w, h)
    except Exception:
        return None


@contextlib.contextmanager
def c_stderr_into(caught: list):
    """C libraries under pillow (libtiff) print their warnings and errors straight to file
    descriptor 2, which would add lines to the CLI's one-line error: send fd 2 to a temporary
    file meanwhile and append what was printed to ``caught`` (filled on exit)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield
        return
    try:
        with tempfile.TemporaryFile() as tmp:
            os.dup2(tmp.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
                tmp.seek(0)
                caught.extend(line for line in tmp.read(16384).decode("utf-8", "replace").splitlines()
                              if line.strip())
    finally:
        os.close(saved)


def _decoder_said(caught: list) -> str:
    return f"; {one_line(caught[0])[:200]}" if caught else ""


def check_input_file(path, what: str) -> Path:
    """``path`` as a Path if it names an existing regular file, else InputError
    ('<path>: <what> not found', 'not a file', 'cannot read <what> (...)')."""
    path = Path(path)
    try:
        exists, is_file = path.exists(), path.is_file()
    except (OSError, ValueError) as exc:             # a name too long, ...
        raise InputError(f"{path}: cannot read {what} ({getattr(exc, 'strerror', None) or one_line(exc)})")
    if not exists:
        raise InputError(f"{path}: {what} not found")
    if not is_file:
        raise InputError(f"{path}: not a file")
    return path


def decode_checked(source, path, what: str):
    """Open ``source`` (a file object) with pillow, refuse empty or over-large
    images from the header (InputError naming ``path`` and ``what``), then decode.
    The caller handles pillow's own exceptions and warnings."""
    from PIL import Image

    img = Image.open(source)
    if img.width < 1 or img.height < 1:
        raise InputError(f"{path}: empty {what} ({img.width}x{img.height})")
    if img.width * img.height > MAX_IMAGE_PIXELS:
        raise InputError(f"{path}: {what} is {img.width}x{img.height}, more than the "
                         f"{MAX_IMAGE_PIXELS} pixels allowed")
    img.load()
    return img


def open_image(path: Path):
    """Open and fully decode an image, or raise InputError naming the file."""
    from PIL import Image, UnidentifiedImageError

    path = check_input_file(path, "image")
    # Pillow's own bomb check only warns between 1x and 2x its limit: the size is checked here instead.
    Image.MAX_IMAGE_PIXELS = 2 * MAX_IMAGE_PIXELS
    try:
        f = open(path, "rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot read image ({exc.strerror or exc.__class__.__name__})")
    caught: list = []
    try:
        with f, c_stderr_into(caught), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            img = decode_checked(f, path, "image")
    except InputError:
        raise
    except UnidentifiedImageError:
        raise InputError(f"{path}: not an image pillow can read" + (" (empty file)" if path.stat().st_size == 0 else ""))
    except Image.DecompressionBombError:
        raise InputError(f"{path}: image is more than the {MAX_IMAGE_PIXELS} pixels allowed")
    except MemoryError:
        raise InputError(f"{path}: not enough memory to decode the image")
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError, struct.error) as exc:
        if isinstance(exc, OSError) and exc.errno is not None and exc.strerror:   # reading failed (EIO, ...)
            raise InputError(f"{path}: cannot read image ({exc.strerror})")
        raise InputError(f"{path}: corrupt or truncated image ({one_line(exc)}{_decoder_said(caught)})")
    except Exception as exc:             # any other failure of a pillow decoder on a bad file
        raise InputError(f"{path}: corrupt or truncated image ({exc.__class__.__name__}: {one_line(exc)}"
                         f"{_decoder_said(caught)})")
    return img


def _integer_scale(img, a: np.ndarray) -> float:
    """The value of white of an integer-valued (mode I or I;16*) image."""
    if img.mode.startswith("I;16") or img.format in ("PNG", "PPM"):    # 16-bit data (PGM: scaled to 65535)
        return 65535.0
    if img.format == "TIFF":
        bits = getattr(img, "tag_v2", {}).get(258)                      # BitsPerSample
        bits = bits[0] if isinstance(bits, (tuple, list)) and bits else bits
        if bits in (8, 16):
            return float(2 ** bits - 1)
    top = float(a.max(initial=0.0))
    return 255.0 if top <= 255 else 65535.0 if top <= 65535 else float(2 ** 32 - 1)


def to_rgb_float(img, background=(0.0, 0.0, 0.0)) -> np.ndarray:
    """HxWx3 float32 in [0, 1]; alpha is composited over ``background`` (see the module notes)."""
    mode = img.mode
    bg = np.asarray(background, dtype=np.float64)
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        raw = np.asarray(img)
        a = raw.astype(np.float64)
        if mode == "F":
            if not np.isfinite(a).all():
                raise ValueError(f"{int((~np.isfinite(a)).sum())} NaN or infinite pixels in a float image")
        else:
            a = a / _integer_scale(img, a)
        gray = np.clip(a, 0.0, 1.0)[:, :, None]
        t = img.info.get("transparency")
        if mode != "F" and isinstance(t, int) and not isinstance(t, bool):   # PNG tRNS of a 16-bit gray image
            alpha = (raw != t)[:, :, None].astype(np.float64)
            return (gray * alpha + bg * (1.0 - alpha)).astype(np.float32)
        return np.repeat(gray, 3, axis=2).astype(np.float32)
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info
    if mode == "La":
        img = img.convert("LA")
    rgba = np.asarray(img.convert("RGBA" if has_alpha else "RGB"), dtype=np.float64) / 255.0
    if not has_alpha:
        return rgba.astype(np.float32)
    rgb, alpha = rgba[:, :, :3], rgba[:, :, 3:4]
    return (rgb * alpha + bg * (1.0 - alpha)).astype(np.float32)


def load_target(path: Path, resolution, background=(0.0, 0.0, 0.0)) -> np.ndarray:
    """The target image at the render resolution: HxWx3 float32, row 0 = top."""
    from PIL import Image

    img = open_image(path)
    orientation = exif_orientation(img)
    iw, ih = img.size
    size = (ih, iw) if orientation >= 5 else (iw, ih)       # upright
    w, h = target_size(resolution, size)
    if w * h > MAX_TARGET_PIXELS:
        raise LimitError(f"render.resolution: a {w}x{h} target ({w * h} pixels) is more than the "
                         f"{MAX_TARGET_PIXELS} pixels allowed (8192x8192); lower render.resolution")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rgb = _upright(to_rgb_float(img, background), orientation)
            if (w, h) != size:
                channels = [Image.fromarray(rgb[:, :, c], mode="F").resize((w, h), Image.Resampling.LANCZOS)
                            for c in range(3)]
                rgb = np.stack([np.asarray(c, dtype=np.float32) for c in channels], axis=2)
    except MemoryError:
        raise InputError(f"{path}: not enough memory to convert the image")
    except Exception as exc:
        raise InputError(f"{path}: cannot convert the {img.mode} image to RGB ({one_line(exc)})")
    return np.clip(rgb, 0.0, 1.0).astype(np.float32)
