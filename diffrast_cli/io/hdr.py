"""Radiance RGBE (.hdr) images and environment-map inputs (.hdr, .npy).

Reading accepts flat scanlines and new-style run-length-encoded scanlines
(``2 2 W_hi W_lo`` then the four byte planes, each run-length encoded), with the
standard orientation ``-Y H +X W`` (``+Y H +X W`` is flipped to top-first).
Writing produces RLE scanlines where the width allows it (8..32767), else flat.

Decoding follows Radiance: a pixel (r, g, b, e) is (c + 0.5) * 2^(e - 136) per
channel, and 0 when e == 0. Every problem with a file is an InputError of one
line that names the file.
"""

from __future__ import annotations

import os
import re

import numpy as np

from diffrast_cli.errors import InputError

MAX_SIDE = 16384          # an environment image larger than this on a side is refused
_RESOLUTION = re.compile(rb"^([-+])Y (\d+) \+X (\d+)$")


def _bad(path, what: str) -> InputError:
    return InputError(f"{os.fspath(path)}: {what}")


def read_hdr(path) -> np.ndarray:
    """The image of a Radiance .hdr file as (H, W, 3) float32 linear RGB, row 0 = top."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise _bad(path, f"cannot read: {e.strerror or e}") from None
    if not (data.startswith(b"#?RADIANCE") or data.startswith(b"#?RGBE")):
        raise _bad(path, "not a Radiance .hdr file (no #?RADIANCE header)")
    end = data.find(b"\n\n")
    if end < 0:
        raise _bad(path, "truncated .hdr header")
    for line in data[:end].split(b"\n")[1:]:
        if line.startswith(b"FORMAT=") and line.strip() != b"FORMAT=32-bit_rle_rgbe":
            raise _bad(path, f"unsupported .hdr pixel format {line[7:].decode('ascii', 'replace')!r}")
    eol = data.find(b"\n", end + 2)
    if eol < 0:
        raise _bad(path, "truncated .hdr header (no resolution line)")
    m = _RESOLUTION.match(data[end + 2:eol].strip())
    if not m:
        raise _bad(path, "unsupported .hdr resolution line (expected '-Y H +X W')")
    flip, h, w = m.group(1) == b"+", int(m.group(2)), int(m.group(3))
    if not (0 < h <= MAX_SIDE and 0 < w <= MAX_SIDE):
        raise _bad(path, f".hdr size {w}x{h} is outside 1..{MAX_SIDE} per side")
    rgbe = _decode_scanlines(path, memoryview(data)[eol + 1:], h, w)
    image = _rgbe_to_float(rgbe)
    return image[::-1].copy() if flip else image


def _decode_scanlines(path, body: memoryview, h: int, w: int) -> np.ndarray:
    out = np.empty((h, w, 4), np.uint8)
    pos, n = 0, len(body)
    for y in range(h):
        if pos + 4 > n:
            raise _bad(path, f"truncated .hdr data at scanline {y} of {h}")
        head = bytes(body[pos:pos + 4])
        if 8 <= w < 32768 and head[0] == 2 and head[1] == 2 and not head[2] & 0x80:
            if (head[2] << 8 | head[3]) != w:
                raise _bad(path, f"corrupt .hdr scanline {y}: length {head[2] << 8 | head[3]} != width {w}")
            pos += 4
            for c in range(4):
                x = 0
                row = out[y, :, c]
                while x < w:
                    if pos >= n:
                        raise _bad(path, f"truncated .hdr data at scanline {y} of {h}")
                    count = body[pos]
                    if count > 128:
                        count -= 128
                        if x + count > w or pos + 1 >= n:
                            raise _bad(path, f"corrupt .hdr run at scanline {y}")
                        row[x:x + count] = body[pos + 1]
                        pos += 2
                    else:
                        if count == 0 or x + count > w or pos + 1 + count > n:
                            raise _bad(path, f"corrupt .hdr run at scanline {y}")
                        row[x:x + count] = np.frombuffer(body[pos + 1:pos + 1 + count], np.uint8)
                        pos += 1 + count
                    x += count
        else:
            if head[:3] == b"\x01\x01\x01":
                raise _bad(path, "old-style run-length .hdr encoding is not supported")
            if pos + 4 * w > n:
                raise _bad(path, f"truncated .hdr data at scanline {y} of {h}")
            out[y] = np.frombuffer(body[pos:pos + 4 * w], np.uint8).reshape(w, 4)
            pos += 4 * w
    return out


def _rgbe_to_float(rgbe: np.ndarray) -> np.ndarray:
    e = rgbe[..., 3].astype(np.int32)
    scale = np.where(e > 0, np.ldexp(1.0, e - 136), 0.0)
    return ((rgbe[..., :3].astype(np.float64) + 0.5) * scale[..., None]).astype(np.float32)


def float_to_rgbe(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) non-negative floats -> (H, W, 4) uint8 RGBE (Radiance's rounding)."""
    rgb = np.asarray(image, np.float64)
    peak = rgb.max(axis=-1)
    mant, exp = np.frexp(peak)
    small = peak < 1e-32
    scale = np.where(small, 0.0, mant * 256.0 / np.where(small, 1.0, peak))
    out = np.zeros(rgb.shape[:-1] + (4,), np.uint8)
    out[..., :3] = np.clip(np.floor(rgb * scale[..., None]), 0, 255).astype(np.uint8)
    out[..., 3] = np.where(small, 0, np.clip(exp + 128, 0, 255)).astype(np.uint8)
    return out


def _rle_plane(row: np.ndarray) -> bytes:
    """One byte plane of a scanline, run-length encoded (runs of >= 4 equal bytes)."""
    b = row.tobytes()
    n, out, x = len(b), bytearray(), 0
    while x < n:
        run = 1                                   # the run starting at x
        while x + run < n and run < 127 and b[x + run] == b[x]:
            run += 1
        if run >= 4:
            out += bytes((128 + run, b[x]))
            x += run
            continue
        start = x                                 # literals up to the next run of >= 4 (at most 128)
        while x < n and x - start < 128:
            if x + 3 < n and b[x] == b[x + 1] == b[x + 2] == b[x + 3]:
                break
            x += 1
        out.append(x - start)
        out += b[start:x]
    return bytes(out)


def write_hdr(path, image: np.ndarray, rle: bool = True) -> None:
    """Write (H, W, 3) finite non-negative linear RGB as a Radiance .hdr (RLE where the width allows)."""
    a = np.asarray(image, np.float64)
    if a.ndim != 3 or a.shape[2] != 3 or a.shape[0] < 1 or a.shape[1] < 1:
        raise ValueError(f"write_hdr expects an (H, W, 3) image, got shape {a.shape}")
    if not np.isfinite(a).all() or (a < 0).any():
        raise ValueError("write_hdr expects finite non-negative values")
    h, w = a.shape[:2]
    rgbe = float_to_rgbe(a)
    parts = [b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n", f"-Y {h} +X {w}\n".encode("ascii")]
    if rle and 8 <= w < 32768:
        head = bytes((2, 2, w >> 8, w & 0xFF))
        for y in range(h):
            parts.append(head)
            parts.extend(_rle_plane(rgbe[y, :, c]) for c in range(4))
    else:
        parts.append(rgbe.tobytes())
    with open(path, "wb") as f:
        f.write(b"".join(parts))


def load_environment_image(path) -> np.ndarray:
    """An equirectangular environment image (.hdr or .npy (H, W, 3) float) as (H, W, 3) float32.

    Refuses (InputError, one line naming the file) a missing or corrupt file, an
    unknown suffix, a side larger than MAX_SIDE, and NaN, infinite or negative values.
    """
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix == ".hdr":
        image = read_hdr(path)
    elif suffix == ".npy":
        image = _read_npy(path)
    else:
        raise _bad(path, f"unsupported environment image type {suffix or '(none)'!r} (expected .hdr or .npy)")
    if not np.isfinite(image).all():
        raise _bad(path, "environment image has NaN or infinite values")
    if (image < 0).any():
        raise _bad(path, "environment image has negative values")
    return image


def _read_npy(path) -> np.ndarray:
    try:
        a = np.load(path, mmap_mode="r", allow_pickle=False)
    except OSError as e:
        raise _bad(path, f"cannot read: {e.strerror or e}") from None
    except ValueError as e:
        raise _bad(path, f"not a readable .npy array ({str(e).splitlines()[0] if str(e) else 'corrupt'})") from None
    if a.ndim != 3 or a.shape[2] != 3:
        raise _bad(path, f"expected an (H, W, 3) array, got shape {a.shape}")
    if not (0 < a.shape[0] <= MAX_SIDE and 0 < a.shape[1] <= MAX_SIDE):
        raise _bad(path, f"size {a.shape[1]}x{a.shape[0]} is outside 1..{MAX_SIDE} per side")
    if a.dtype.kind != "f":
        raise _bad(path, f"expected a float array, got dtype {a.dtype}")
    try:
        return np.array(a, np.float32)
    except (OSError, ValueError) as e:      # a truncated file shows here when mapped
        raise _bad(path, f"truncated or unreadable .npy data ({e})") from None
