"""Hostile target images and meshes (issue "Reliability", item 6).

Each input either loads CORRECTLY (right shape, values in [0, 1], the known content comes
out as expected) or is refused with ONE InputError line that names the file.  Through the
CLI: one stderr line, exit code 2, no traceback, no output folder.

Decisions documented here (and in diffrast_cli/io/images.py):
* 16-bit data is divided by 65535 whatever its content (a dark 16-bit PGM stays dark);
  a 32-bit integer image by the smallest of 255 / 65535 / 2^32-1 that holds its maximum.
* Float images are [0, 1] (clipped); NaN/inf pixels are refused.
* The EXIF orientation of a target image IS applied (a phone's portrait photo stored
  sideways is used upright, as every viewer shows it); header_size agrees.
* Meshes: faces with a repeated corner are dropped, zero-area faces with distinct corners
  are kept (their normals fall back to the neighbours' or +z, never NaN); faces with fewer
  than 3 corners are ignored, polygons are fanned into triangles; coordinates must be
  finite and inside the float32 range.
"""

from __future__ import annotations

import io
import json
import os
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image, ImageFile, ImageOps

from diffrast_cli.errors import InputError
from diffrast_cli.io import images, meshes
from diffrast_cli.io.images import header_size, load_target, to_rgb_float
from diffrast_cli.io.meshes import compute_vertex_normals, load_mesh

W, H = 16, 8
BG = (0.25, 0.5, 0.75)


def one_line_error(fn, path, *args, **kw) -> str:
    with pytest.raises(InputError) as info:
        fn(path, *args, **kw)
    msg = str(info.value)
    assert type(info.value) is InputError
    assert msg.startswith(str(path)) and msg == msg.strip(), msg
    assert "\n" not in msg and len(msg.splitlines()) == 1, msg
    return msg


def ramp(w=W, h=H) -> np.ndarray:
    """Horizontal ramp 0..1 (float64, h x w)."""
    return np.tile(np.linspace(0.0, 1.0, w), (h, 1))


def rgb_u8() -> np.ndarray:
    r = ramp()
    return (np.stack([r, 1.0 - r, np.full_like(r, 0.25)], axis=-1) * 255).round().astype(np.uint8)


def gray3(a) -> np.ndarray:
    return np.repeat(np.asarray(a, np.float64)[:, :, None], 3, axis=2)


def over(rgb, alpha) -> np.ndarray:
    alpha = np.asarray(alpha, np.float64)[:, :, None]
    return rgb * alpha + np.asarray(BG) * (1.0 - alpha)


# ---------------------------------------------------------------- raw PNG / PGM writers (16 bit)
def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def raw_png(w, h, bit_depth, color_type, rows: bytes | list, extra=b"", crc_ok=True, ihdr_crc_ok=True) -> bytes:
    """A PNG from raw rows (bytes per row, already big-endian for 16 bit)."""
    if isinstance(rows, bytes):
        stride = len(rows) // h
        rows = [rows[i * stride:(i + 1) * stride] for i in range(h)]
    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 0)
    idat = _chunk(b"IDAT", zlib.compress(b"".join(b"\x00" + r for r in rows)))
    if not crc_ok:
        idat = idat[:-4] + b"\x00\x00\x00\x00"
    head = _chunk(b"IHDR", ihdr)
    if not ihdr_crc_ok:
        head = head[:-4] + b"\x00\x00\x00\x00"
    return b"\x89PNG\r\n\x1a\n" + head + extra + idat + _chunk(b"IEND", b"")


def u16(a) -> bytes:
    return np.asarray(np.round(a), dtype=">u2").tobytes()


# ---------------------------------------------------------------- images: every mode pillow writes
def _save(path, img, **kw):
    img.save(path, **kw)
    return path


def case_1(p):
    checker = (np.indices((H, W)).sum(0) % 2).astype(bool)
    return _save(p / "one.png", Image.fromarray(checker).convert("1")), gray3(checker), 0


def case_L(p):
    return _save(p / "l.png", Image.fromarray((ramp() * 255).round().astype(np.uint8), "L")), gray3(ramp()), 0.5 / 255


def case_LA(p):
    a = np.tile(np.linspace(0, 1, H)[:, None], (1, W))
    la = np.stack([(ramp() * 255).round(), (a * 255).round()], -1).astype(np.uint8)
    return _save(p / "la.png", Image.fromarray(la, "LA")), over(gray3(ramp()), a), 1 / 255


def case_P(p):
    img = Image.fromarray(rgb_u8()).quantize(64)
    expect = np.asarray(img.convert("RGB"), np.float64) / 255
    return _save(p / "p.png", img), expect, 1e-6


def case_P_transparency(p):
    img = Image.fromarray(rgb_u8()).quantize(64)
    idx = np.asarray(img)
    t = int(idx[0, 0])
    expect = np.asarray(img.convert("RGB"), np.float64) / 255
    expect[idx == t] = BG
    return _save(p / "pt.png", img, transparency=t), expect, 1e-6


def case_P_gif_transparency(p):
    img = Image.fromarray(rgb_u8()).quantize(64)
    idx = np.asarray(img)
    t = int(idx[0, -1])
    expect = np.asarray(img.convert("RGB"), np.float64) / 255
    expect[idx == t] = BG
    return _save(p / "pt.gif", img, transparency=t), expect, 1e-6


def case_RGB(p):
    return _save(p / "rgb.png", Image.fromarray(rgb_u8())), rgb_u8() / 255, 1e-6


def case_RGBA(p):
    a = np.tile(np.linspace(0, 1, H)[:, None], (1, W))
    rgba = np.dstack([rgb_u8(), (a * 255).round().astype(np.uint8)])
    return _save(p / "rgba.png", Image.fromarray(rgba, "RGBA")), over(rgb_u8() / 255, a), 1 / 255


def case_RGB_trns(p):                         # an RGB PNG with a transparent colour (tRNS)
    rgb = rgb_u8().copy()
    rgb[2:4, 2:4] = (10, 20, 30)
    expect = rgb / 255
    expect[2:4, 2:4] = BG
    data = raw_png(W, H, 8, 2, rgb.tobytes(), extra=_chunk(b"tRNS", struct.pack(">HHH", 10, 20, 30)))
    (p / "trns.png").write_bytes(data)
    return p / "trns.png", expect, 1e-6


def case_I32_16bit_range(p):                 # mode I TIFF holding 0..65535
    return (_save(p / "i.tif", Image.fromarray((ramp() * 65535).round().astype(np.int32), "I")),
            gray3(ramp()), 1e-6)


def case_I32_8bit_range(p):                  # mode I TIFF holding 0..255
    return (_save(p / "i8.tif", Image.fromarray((ramp() * 255).round().astype(np.int32), "I")),
            gray3(ramp()), 0.5 / 255)


def case_I32_full_range(p):                  # values past 65535 (and negative ones, clipped to 0)
    a = ramp() * (2**32 - 1)
    raw = np.clip(a - 2**31, -2**31, 2**31 - 1).astype(np.int32)      # stored as signed; top > 65535
    expect = np.clip(raw.astype(np.float64), 0, None) / (2**32 - 1)
    return _save(p / "ifull.tif", Image.fromarray(raw, "I")), gray3(expect), 1e-6


def case_I16_png(p):
    return _save(p / "i16.png", Image.fromarray((ramp() * 65535).round().astype(np.uint16))), gray3(ramp()), 1e-6


def case_I16_png_dark(p):                    # 16-bit data whose maximum is small stays dark
    a = ramp() * 255
    data = raw_png(W, H, 16, 0, u16(a))
    (p / "dark16.png").write_bytes(data)
    return p / "dark16.png", gray3(np.round(a) / 65535), 1e-6


def case_I16_tiff(p):
    return _save(p / "i16.tif", Image.fromarray((ramp() * 65535).round().astype(np.uint16))), gray3(ramp()), 1e-6


def case_I16_png_trns(p):                    # 16-bit gray with a transparent value
    a = np.round(ramp() * 65535)
    a[0, 3] = a[1, 3] = 1234
    expect = gray3(a / 65535)
    expect[(a == 1234)] = BG
    data = raw_png(W, H, 16, 0, u16(a), extra=_chunk(b"tRNS", struct.pack(">H", 1234)))
    (p / "trns16.png").write_bytes(data)
    return p / "trns16.png", expect, 1e-6


def case_RGB16_png(p):                       # pillow reads it as 8-bit: right scale, 1/255 steps
    a = np.stack([ramp(), 1 - ramp(), np.full((H, W), 0.3)], -1) * 65535
    (p / "rgb16.png").write_bytes(raw_png(W, H, 16, 2, u16(a)))
    return p / "rgb16.png", np.round(a) / 65535, 1 / 255 + 1e-6


def case_RGBA16_png(p):
    alpha = np.tile(np.linspace(0, 1, H)[:, None], (1, W))
    rgb = np.stack([ramp(), 1 - ramp(), np.full((H, W), 0.3)], -1)
    a = np.dstack([rgb, alpha]) * 65535
    (p / "rgba16.png").write_bytes(raw_png(W, H, 16, 6, u16(a)))
    return p / "rgba16.png", over(rgb, alpha), 2 / 255


def case_LA16_png(p):
    alpha = np.tile(np.linspace(0, 1, H)[:, None], (1, W))
    a = np.dstack([ramp(), alpha]) * 65535
    (p / "la16.png").write_bytes(raw_png(W, H, 16, 4, u16(a)))
    return p / "la16.png", over(gray3(ramp()), alpha), 2 / 255


def case_F_tiff(p):
    return _save(p / "f.tif", Image.fromarray(ramp().astype(np.float32), "F")), gray3(ramp()), 1e-6


def case_F_tiff_out_of_range(p):             # floats are [0, 1]: -1 -> 0, 7 -> 1
    a = (ramp() * 8 - 1).astype(np.float32)
    return _save(p / "f8.tif", Image.fromarray(a, "F")), gray3(np.clip(a, 0, 1)), 1e-6


def case_CMYK_tiff(p):
    img = Image.fromarray(rgb_u8()).convert("CMYK")
    return _save(p / "cmyk.tif", img), rgb_u8() / 255, 1 / 255 + 1e-6


def case_CMYK_jpeg(p):
    img = Image.new("RGB", (W, H), (255, 0, 0)).convert("CMYK")
    return _save(p / "cmyk.jpg", img, quality=100), np.broadcast_to([1.0, 0, 0], (H, W, 3)), 0.03


def case_YCbCr_tiff(p):
    img = Image.fromarray(rgb_u8()).convert("YCbCr")
    return _save(p / "ycbcr.tif", img), rgb_u8() / 255, 0.03


def case_YCbCr_jpeg(p):
    img = Image.new("RGB", (W, H), (0, 0, 255)).convert("YCbCr")
    return _save(p / "ycbcr.jpg", img, quality=100), np.broadcast_to([0, 0, 1.0], (H, W, 3)), 0.03


def case_LAB_tiff(p):
    img = Image.new("LAB", (W, H), (255, 128, 128))                 # L = 100, a = b = 0: white
    return _save(p / "lab.tif", img), np.ones((H, W, 3)), 0.02


def case_HSV_webp(p):                        # pillow writes HSV only as WebP (converted to RGB)
    img = Image.new("HSV", (W, H), (85, 255, 255))                  # pure green
    return _save(p / "hsv.webp", img, lossless=True), np.broadcast_to([0, 1.0, 0], (H, W, 3)), 1e-6


def case_JPEG(p):
    img = Image.new("RGB", (W, H), (200, 100, 50))
    return _save(p / "rgb.jpg", img, quality=95), np.broadcast_to(np.array([200, 100, 50]) / 255, (H, W, 3)), 0.02


def case_GIF_animated(p):
    frames = [Image.new("RGB", (W, H), c) for c in ((255, 0, 0), (0, 0, 255), (0, 255, 0))]
    frames[0].save(p / "anim.gif", save_all=True, append_images=frames[1:], duration=50, loop=0)
    return p / "anim.gif", np.broadcast_to([1.0, 0, 0], (H, W, 3)), 1e-6


def case_TIFF_multipage(p):
    frames = [Image.new("RGB", (W, H), c) for c in ((0, 255, 0), (255, 0, 0))]
    frames[0].save(p / "pages.tif", save_all=True, append_images=frames[1:])
    return p / "pages.tif", np.broadcast_to([0, 1.0, 0], (H, W, 3)), 1e-6


def case_WebP_lossless_RGBA(p):
    a = np.tile(np.linspace(0, 1, H)[:, None], (1, W))
    rgba = np.dstack([rgb_u8(), (a * 255).round().astype(np.uint8)])
    return (_save(p / "rgba.webp", Image.fromarray(rgba, "RGBA"), lossless=True, exact=True),
            over(rgb_u8() / 255, a), 1 / 255)


def case_WebP_lossy(p):
    return (_save(p / "rgb.webp", Image.new("RGB", (W, H), (30, 200, 90)), quality=95),
            np.broadcast_to(np.array([30, 200, 90]) / 255, (H, W, 3)), 0.03)


def case_BMP(p):
    return _save(p / "rgb.bmp", Image.fromarray(rgb_u8())), rgb_u8() / 255, 1e-6


def case_BMP_RGBA(p):                        # pillow reads a 32-bit BMP as RGB: the alpha is not used
    rgba = np.dstack([rgb_u8(), np.zeros((H, W), np.uint8)])
    return _save(p / "rgba.bmp", Image.fromarray(rgba, "RGBA")), rgb_u8() / 255, 1e-6


def case_TIFF_RGBA(p):
    a = np.tile(np.linspace(0, 1, H)[:, None], (1, W))
    rgba = np.dstack([rgb_u8(), (a * 255).round().astype(np.uint8)])
    return _save(p / "rgba.tif", Image.fromarray(rgba, "RGBA")), over(rgb_u8() / 255, a), 1 / 255


def case_PPM(p):
    return _save(p / "rgb.ppm", Image.fromarray(rgb_u8())), rgb_u8() / 255, 1e-6


def case_PGM(p):
    return _save(p / "l.pgm", Image.fromarray((ramp() * 255).round().astype(np.uint8), "L")), gray3(ramp()), 0.5 / 255


def case_PGM16(p):
    a = ramp() * 65535
    (p / "g16.pgm").write_bytes(f"P5\n{W} {H}\n65535\n".encode() + u16(a))
    return p / "g16.pgm", gray3(np.round(a) / 65535), 1e-6


def case_PGM16_dark(p):                      # 16-bit PGM whose values are all <= 255: stays dark
    a = ramp() * 255
    (p / "d16.pgm").write_bytes(f"P5\n{W} {H}\n65535\n".encode() + u16(a))
    return p / "d16.pgm", gray3(np.round(a) / 65535), 1e-6


def case_PGM_maxval_1023(p):                 # maxval 1023: 1023 is white
    a = ramp() * 1023
    (p / "g10.pgm").write_bytes(f"P5\n{W} {H}\n1023\n".encode() + u16(a))
    return p / "g10.pgm", gray3(np.round(a) / 1023), 1 / 65535 + 1e-5


def case_PPM16(p):
    a = np.stack([ramp(), 1 - ramp(), np.full((H, W), 0.3)], -1) * 65535
    (p / "c16.ppm").write_bytes(f"P6\n{W} {H}\n65535\n".encode() + u16(a))
    return p / "c16.ppm", np.round(a) / 65535, 1 / 255 + 1e-6


IMAGE_CASES = {name[5:]: fn for name, fn in sorted(globals().items()) if name.startswith("case_")}


@pytest.mark.parametrize("name", list(IMAGE_CASES))
def test_image_modes_load_with_the_right_content(tmp_path, name):
    path, expect, tol = IMAGE_CASES[name](tmp_path)
    try:
        Image.open(path).load()
    except OSError as exc:      # e.g. Pillow 12.3 writes a YCbCr TIFF it cannot read back
        pytest.skip(f"this Pillow ({Image.__version__}) cannot read back the {name} file it wrote: {exc}")
    got = load_target(path, (W, H), BG)
    assert got.shape == (H, W, 3) and got.dtype == np.float32
    assert np.isfinite(got).all() and got.min() >= 0.0 and got.max() <= 1.0
    np.testing.assert_allclose(got, np.broadcast_to(expect, (H, W, 3)), atol=tol + 1e-6, rtol=0,
                               err_msg=f"{name}: {Image.open(path).mode}")
    assert header_size(path) == (W, H)
    # an int resolution keeps the aspect; the content survives resizing (means match)
    half = load_target(path, W // 2, BG)
    assert half.shape == (H // 2, W // 2, 3)
    assert abs(float(half.mean()) - float(got.mean())) < 0.05


def test_hsv_mode_is_not_savable_but_converts_right():
    img = Image.new("HSV", (2, 1), (0, 255, 255))                  # pure red
    for fmt in ("PNG", "TIFF", "JPEG", "BMP"):
        with pytest.raises((OSError, KeyError, ValueError)):
            img.save(io.BytesIO(), fmt)
    np.testing.assert_allclose(to_rgb_float(img), [[[1, 0, 0], [1, 0, 0]]], atol=1e-6)


def test_float_image_with_nan_or_inf_is_refused(tmp_path):
    for bad in (np.nan, np.inf, -np.inf):
        a = ramp().astype(np.float32)
        a[1, 2] = bad
        path = tmp_path / f"f_{bad}.tif"
        Image.fromarray(a, "F").save(path)
        msg = one_line_error(load_target, path, (W, H), BG)
        assert "1 NaN or infinite pixels" in msg


def test_one_by_one_image(tmp_path):
    Image.new("RGB", (1, 1), (255, 128, 0)).save(tmp_path / "px.png")
    assert header_size(tmp_path / "px.png") == (1, 1)
    got = load_target(tmp_path / "px.png", 8, BG)
    assert got.shape == (8, 8, 3)
    np.testing.assert_allclose(got, np.broadcast_to([1, 128 / 255, 0], (8, 8, 3)), atol=1e-5)
    assert load_target(tmp_path / "px.png", (5, 3), BG).shape == (3, 5, 3)


# ---------------------------------------------------------------- EXIF orientation
ORIENTATION_REFERENCE = {       # what a viewer shows for each tag, built from the stored 3x2 image
    1: lambda a: a, 2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
    5: lambda a: a.transpose(1, 0, 2), 6: lambda a: np.rot90(a, -1),
    7: lambda a: a[::-1, ::-1].transpose(1, 0, 2), 8: lambda a: np.rot90(a, 1),
}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied(tmp_path, orientation):
    stored = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255]],
                       [[255, 255, 0], [0, 255, 255], [255, 0, 255]]], np.uint8)      # 3 wide, 2 high
    exif = Image.Exif()
    exif[images.EXIF_ORIENTATION] = orientation
    path = tmp_path / f"o{orientation}.png"
    Image.fromarray(stored).save(path, exif=exif)
    upright = np.asarray(ImageOps.exif_transpose(Image.open(path)), np.float64) / 255   # pillow's reference
    np.testing.assert_array_equal(upright, ORIENTATION_REFERENCE[orientation](stored) / 255)
    h, w = upright.shape[:2]
    assert header_size(path) == (w, h)
    got = load_target(path, (w, h))
    np.testing.assert_allclose(got, upright, atol=1e-6)
    assert load_target(path, 6).shape == (6 * h // max(w, h), 6 * w // max(w, h), 3)   # aspect of the upright image


def test_exif_orientation_of_a_phone_jpeg(tmp_path):
    """A portrait photo stored landscape with orientation 6: used upright (top of the scene on top)."""
    stored = np.zeros((32, 48, 3), np.uint8)
    stored[:, :16] = (255, 0, 0)                # the left third of the stored image is the scene's top
    exif = Image.Exif()
    exif[images.EXIF_ORIENTATION] = 6
    path = tmp_path / "phone.jpg"
    Image.fromarray(stored).save(path, exif=exif, quality=95)
    assert header_size(path) == (32, 48)
    got = load_target(path, (32, 48))
    assert got.shape == (48, 32, 3)
    assert got[:12, :, 0].mean() > 0.9 and got[-12:, :, 0].mean() < 0.1


@pytest.mark.parametrize("value", [0, 9, 65535])
def test_exif_orientation_out_of_range_is_ignored(tmp_path, value):
    exif = Image.Exif()
    exif[images.EXIF_ORIENTATION] = value
    path = tmp_path / "o.png"
    Image.fromarray(rgb_u8()).save(path, exif=exif)
    np.testing.assert_allclose(load_target(path, (W, H)), rgb_u8() / 255, atol=1e-6)
    assert header_size(path) == (W, H)


def test_corrupt_exif_is_ignored(tmp_path):
    path = tmp_path / "badexif.png"
    Image.fromarray(rgb_u8()).save(path)
    data = path.read_bytes()
    i = data.index(b"IDAT") - 4
    bad = data[:i] + _chunk(b"eXIf", b"MM\x00\x2a\xff\xff\xff\xff garbage") + data[i:]
    path.write_bytes(bad)
    np.testing.assert_allclose(load_target(path, (W, H)), rgb_u8() / 255, atol=1e-6)


# ---------------------------------------------------------------- corrupt and hostile image files
def _png_bytes(img=None) -> bytes:
    b = io.BytesIO()
    (img or Image.fromarray(rgb_u8())).save(b, "PNG")
    return b.getvalue()


def _noise_png() -> bytes:
    return _png_bytes(Image.fromarray((np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8)))


def _jpeg_bytes() -> bytes:
    b = io.BytesIO()
    Image.fromarray((np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8)).save(b, "JPEG")
    return b.getvalue()


def _tiff_bytes(**kw) -> bytes:
    b = io.BytesIO()
    Image.fromarray(rgb_u8()).save(b, "TIFF", **kw)
    return b.getvalue()


def _bad_lzw_tiff() -> bytes:
    """A TIFF that libtiff complains about (on fd 2) while pillow fails to open it."""
    data = bytearray(_tiff_bytes(compression="tiff_lzw"))
    tags = struct.unpack_from("<I", data, 4)[0]
    n = struct.unpack_from("<H", data, tags)[0]
    for i in range(n):
        off = tags + 2 + 12 * i
        if struct.unpack_from("<H", data, off)[0] == 277:          # SamplesPerPixel -> 41
            struct.pack_into("<I", data, off + 8, 41)
    return bytes(data)


NOT_AN_IMAGE = "not an image pillow can read"
TRUNCATED = "corrupt or truncated image ("
CORRUPT = {                                         # name: (bytes, what the message says)
    "truncated.png": (lambda: _png_bytes()[:60], TRUNCATED + "image file is truncated"),
    "truncated_idat.png": (lambda: _noise_png()[: len(_noise_png()) // 2], TRUNCATED + "image file is truncated"),
    "bad_ihdr_crc.png": (lambda: raw_png(W, H, 8, 2, rgb_u8().tobytes(), ihdr_crc_ok=False), NOT_AN_IMAGE),
    "truncated.jpg": (lambda: _jpeg_bytes()[: len(_jpeg_bytes()) // 2], TRUNCATED + "image file is truncated"),
    "header_only.jpg": (lambda: _jpeg_bytes()[:200], TRUNCATED),
    "zero.png": (lambda: b"", NOT_AN_IMAGE + " (empty file)"),
    "random.png": (lambda: np.random.default_rng(3).integers(0, 256, 4096, dtype=np.uint8).tobytes(), NOT_AN_IMAGE),
    "text.png": (lambda: b"this is a text file, not an image\n", NOT_AN_IMAGE),
    "text.txt": (lambda: b"hello\n", NOT_AN_IMAGE),
    "bomb_100000x100000.png": (lambda: raw_png(100_000, 100_000, 8, 2, [b""] * 1),
                               f"image is more than the {images.MAX_IMAGE_PIXELS} pixels allowed"),
    "bomb_10000x10000.png": (lambda: raw_png(10_000, 10_000, 8, 0, [b""] * 1),
                             f"image is 10000x10000, more than the {images.MAX_IMAGE_PIXELS} pixels allowed"),
    "zero_width.png": (lambda: raw_png(0, 8, 8, 2, [b""] * 8), NOT_AN_IMAGE),
    "bad_lzw.tif": (_bad_lzw_tiff, NOT_AN_IMAGE),
    "truncated.tif": (lambda: _tiff_bytes(compression="tiff_lzw")[:100], NOT_AN_IMAGE),
    "rgb_float.tif": (lambda: _rgb_float_tiff(), NOT_AN_IMAGE),   # 3 float32 samples per pixel: pillow cannot
    "truncated.gif": (lambda: _png_and("GIF")[:30], NOT_AN_IMAGE),
    "truncated.webp": (lambda: _png_and("WEBP")[:40], TRUNCATED),
    "svg.png": (lambda: b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', NOT_AN_IMAGE),
}


def _png_and(fmt) -> bytes:
    b = io.BytesIO()
    Image.fromarray(rgb_u8()).save(b, fmt)
    return b.getvalue()


def _rgb_float_tiff() -> bytes:
    """A minimal little-endian 2x1 TIFF with 3 float32 samples per pixel (pillow cannot read it)."""
    w, h = 2, 1
    pixels = np.zeros((h, w, 3), "<f4").tobytes()
    entries = [(256, 3, 1, w), (257, 3, 1, h), (258, 3, 3, 0), (259, 3, 1, 1), (262, 3, 1, 2),
               (273, 4, 1, 0), (277, 3, 1, 3), (278, 3, 1, h), (279, 4, 1, len(pixels)), (339, 3, 3, 0)]
    ifd_off = 8
    extra_off = ifd_off + 2 + 12 * len(entries) + 4
    bps_off, fmt_off, data_off = extra_off, extra_off + 6, extra_off + 12
    out = bytearray(b"II*\x00" + struct.pack("<I", ifd_off) + struct.pack("<H", len(entries)))
    for tag, typ, count, value in entries:
        if tag == 258:
            value = bps_off
        elif tag == 339:
            value = fmt_off
        elif tag == 273:
            value = data_off
        if typ == 3 and count == 1:
            out += struct.pack("<HHIHH", tag, typ, count, value, 0)
        else:
            out += struct.pack("<HHII", tag, typ, count, value)
    out += b"\x00\x00\x00\x00" + struct.pack("<HHH", 32, 32, 32) + struct.pack("<HHH", 3, 3, 3) + pixels
    return bytes(out)


@pytest.mark.parametrize("name", list(CORRUPT))
def test_corrupt_images_are_one_line_input_errors(tmp_path, capfd, monkeypatch, name):
    make, needle = CORRUPT[name]
    path = tmp_path / name
    path.write_bytes(make())
    decoded = []                                           # pixel decodes pillow started
    real_load = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda img: decoded.append(img.size) or real_load(img))
    msg = one_line_error(load_target, path, (W, H), BG)
    assert needle in msg, msg
    if name.startswith("bomb"):
        assert decoded == []                               # refused from the header: no pixel was decoded
    out, err = capfd.readouterr()
    assert out == "" and err == "", (out, err)             # nothing from libtiff & co on fd 1/2


def test_bad_idat_crc_still_loads_the_intact_pixels(tmp_path):
    """Pillow does not check IDAT checksums: the pixels are intact and load right."""
    path = tmp_path / "idat_crc.png"
    path.write_bytes(raw_png(W, H, 8, 2, rgb_u8().tobytes(), crc_ok=False))
    np.testing.assert_allclose(load_target(path, (W, H)), rgb_u8() / 255, atol=1e-6)


def test_image_paths_that_are_not_files(tmp_path):
    assert "image not found" in one_line_error(load_target, tmp_path / "nope.png", 8)
    (tmp_path / "dir.png").mkdir()
    assert "not a file" in one_line_error(load_target, tmp_path / "dir.png", 8)
    (tmp_path / "loop.png").symlink_to(tmp_path / "loop.png")
    assert "image not found" in one_line_error(load_target, tmp_path / "loop.png", 8)     # ELOOP
    assert "image not found" in one_line_error(load_target, tmp_path / "dir.png" / "x.png", 8)
    (tmp_path / "file.png").write_bytes(_png_bytes())
    assert "image not found" in one_line_error(load_target, tmp_path / "file.png" / "x.png", 8)   # ENOTDIR
    msg = one_line_error(load_target, tmp_path / ("x" * 5000 + ".png"), 8)
    assert msg.endswith(": cannot read image (File name too long)"), msg[-200:]
    os.mkfifo(tmp_path / "fifo.png")
    assert msg_tail(one_line_error(load_target, tmp_path / "fifo.png", 8)) == "not a file"


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux /proc/self/mem")
def test_image_and_mesh_that_cannot_be_read_even_by_root(tmp_path):
    """/proc/self/mem opens for anyone (root too) and reading it at offset 0 fails with EIO:
    a read error is reported as such, not as a corrupt file."""
    (tmp_path / "mem.png").symlink_to("/proc/self/mem")
    (tmp_path / "mem.obj").symlink_to("/proc/self/mem")
    assert msg_tail(one_line_error(load_target, tmp_path / "mem.png", 8)) == "cannot read image (Input/output error)"
    assert msg_tail(one_line_error(load_mesh, tmp_path / "mem.obj")) == "cannot read mesh (Input/output error)"


def msg_tail(msg: str) -> str:
    """What a '<file>: <what>' message says after the file name."""
    return msg.split(": ", 1)[1]


def test_random_mutations_of_valid_images(tmp_path, capfd):
    """Byte flips and truncations of valid files of many formats: each loads (finite, in [0, 1])
    or is a one-line InputError; nothing else escapes and nothing is printed."""
    rng = np.random.default_rng(7)
    sources = {}
    for fmt, img in [("PNG", Image.fromarray(rgb_u8())), ("JPEG", Image.fromarray(rgb_u8())),
                     ("GIF", Image.fromarray(rgb_u8()).quantize(16)), ("BMP", Image.fromarray(rgb_u8())),
                     ("TIFF", Image.fromarray(rgb_u8())), ("WEBP", Image.fromarray(rgb_u8())),
                     ("PPM", Image.fromarray(rgb_u8())), ("TIFF", Image.fromarray(ramp().astype(np.float32), "F"))]:
        b = io.BytesIO()
        img.save(b, fmt, **({"compression": "tiff_lzw"} if fmt == "TIFF" and img.mode != "F" else {}))
        sources[f"{fmt.lower()}{len(sources)}"] = (fmt, b.getvalue())
    outcomes = {"loaded": 0, "refused": 0}
    for i in range(400):
        key = list(sources)[i % len(sources)]
        fmt, data = sources[key]
        data = bytearray(data)
        if rng.random() < 0.3:
            data = data[: int(rng.integers(0, len(data)))]
        else:
            for j in rng.integers(0, len(data), int(rng.integers(1, 6))):
                data[j] = int(rng.integers(0, 256))
        path = tmp_path / f"m.{fmt.lower()}"
        path.write_bytes(bytes(data))
        try:
            got = load_target(path, 8, BG)
        except InputError as exc:
            msg = str(exc)
            assert msg.startswith(str(path)) and "\n" not in msg, msg
            outcomes["refused"] += 1
            continue
        assert got.dtype == np.float32 and got.ndim == 3 and got.shape[2] == 3
        assert np.isfinite(got).all() and got.min() >= 0 and got.max() <= 1
        outcomes["loaded"] += 1
    assert outcomes["loaded"] > 20 and outcomes["refused"] > 100, outcomes
    out, err = capfd.readouterr()
    assert err == "", err[:500]


# ---------------------------------------------------------------- meshes
TRI = "v 0 0 0\nv 1 0 0\nv 0 1 0\n"
PLY_HEAD = ("ply\nformat ascii 1.0\nelement vertex {nv}\nproperty float x\nproperty float y\nproperty float z\n"
            "element face {nf}\nproperty list uchar int vertex_indices\nend_header\n")


def _ply(verts: str, faces: str) -> bytes:
    return (PLY_HEAD.format(nv=len(verts.splitlines()), nf=len(faces.splitlines())) + verts + faces).encode()


def _glb(tree: dict, binary: bytes = b"") -> bytes:
    js = json.dumps(tree).encode()
    js += b" " * (-len(js) % 4)
    binary += b"\x00" * (-len(binary) % 4)
    body = struct.pack("<I", len(js)) + b"JSON" + js
    if binary:
        body += struct.pack("<I", len(binary)) + b"BIN\x00" + binary
    return b"glTF" + struct.pack("<II", 2, 12 + len(body)) + body


def _glb_triangle(positions) -> bytes:
    pos = np.asarray(positions, "<f4").reshape(-1, 3)
    idx = np.arange(len(pos), dtype="<u2")
    blob = pos.tobytes() + idx.tobytes()
    tree = {"asset": {"version": "2.0"}, "scene": 0, "scenes": [{"nodes": [0]}], "nodes": [{"mesh": 0}],
            "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1}]}],
            "buffers": [{"byteLength": len(blob)}],
            "bufferViews": [{"buffer": 0, "byteOffset": 0, "byteLength": pos.nbytes},
                            {"buffer": 0, "byteOffset": pos.nbytes, "byteLength": idx.nbytes}],
            "accessors": [{"bufferView": 0, "componentType": 5126, "count": len(pos), "type": "VEC3",
                           "min": [0, 0, 0], "max": [1, 1, 1]},
                          {"bufferView": 1, "componentType": 5123, "count": len(idx), "type": "SCALAR"}]}
    return _glb(tree, blob)


MESH_REFUSED = {
    # NaN / inf / out of float32
    "nan.obj": (TRI.replace("1 0 0", "1 nan 0") + "f 1 2 3\n", "NaN or infinite vertex coordinates"),
    "inf.ply": (_ply("0 0 0\n1 inf 0\n0 1 0\n", "3 0 1 2\n"), "NaN or infinite vertex coordinates"),
    "nan_binary.ply": (None, "NaN or infinite vertex coordinates"),
    "nan.glb": (_glb_triangle([[0, 0, 0], [1, np.nan, 0], [0, 1, 0]]), "NaN or infinite vertex coordinates"),
    "inf.glb": (_glb_triangle([[0, 0, 0], [1, 0, 0], [0, np.inf, 0]]), "NaN or infinite vertex coordinates"),
    "huge.obj": ("v 0 0 0\nv 1e200 0 0\nv 0 1 0\nf 1 2 3\n", "beyond the 32-bit float range"),
    "f32_overflow.obj": ("v 0 0 0\nv 1e39 0 0\nv 0 1 0\nf 1 2 3\n", "beyond the 32-bit float range"),
    "nan_uv.obj": (TRI + "vt nan 0\nf 1/1 2/1 3/1\n", "NaN or infinite UV"),
    "huge_uv.obj": (TRI + "vt 1e39 0\nf 1/1 2/1 3/1\n", "UV coordinates beyond the 32-bit float range"),
    # indices
    "index_high.obj": (TRI + "f 1 2 4\n", "vertex that does not exist"),
    "index_negative_out.obj": (TRI + "f -10 -2 -1\n", "vertex that does not exist"),
    "index_huge.obj": (TRI + "f 1 2 99999999999999999999999\n", "vertex that does not exist"),
    "index_zero.obj": (TRI + "f 0 1 2\n", "index_zero.obj:4: a face refers to index 0"),
    "index_zero_among_good.obj": (TRI + "v 1 1 0\nf 1 2 3\nf 0 3 4\n", ":6: a face refers to index 0"),
    "index_zero_quad.obj": (TRI + "v 1 1 0\nf 2 3 4 0\n", "OBJ indices start at 1"),
    "index_zero_uv.obj": (TRI + "vt 0 0\nf 1/1 2/0 3/1\n", ":5: a face refers to index 0"),
    "index_text.obj": (TRI + "f a b c\n", "malformed"),
    "index_high.ply": (_ply("0 0 0\n1 0 0\n0 1 0\n", "3 0 1 7\n"), "face indices outside"),
    "index_negative.ply": (_ply("0 0 0\n1 0 0\n0 1 0\n", "3 0 1 -1\n"), "face indices outside"),
    # degenerate / too few corners
    "repeated_only.obj": (TRI + "f 1 2 2\nf 3 3 3\n", "every triangle is degenerate"),
    "coincident_only.obj": ("v 0 0 0\nv 0 0 0\nv 0 0 0\nf 1 2 3\n", "every triangle is degenerate"),
    "two_corners.obj": (TRI + "f 1 2\n", "no triangles"),
    "one_corner.obj": (TRI + "f 1\n", "no triangles"),
    "two_corners.ply": (_ply("0 0 0\n1 0 0\n0 1 0\n", "2 0 1\n"), "no triangles"),
    "points_only.obj": (TRI, "no triangles"),
    # garbage with a mesh name
    "garbage.glb": (np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes(), "not a GLB"),
    "garbage.obj": (np.random.default_rng(2).integers(0, 256, 4096, dtype=np.uint8).tobytes(), "binary data"),
    "garbage.ply": (np.random.default_rng(3).integers(0, 256, 4096, dtype=np.uint8).tobytes(), "not a PLY"),
    "garbage.gltf": (np.random.default_rng(4).integers(0, 256, 4096, dtype=np.uint8).tobytes(), "not a valid glTF"),
    "text.glb": (b"hello, I am not a GLB\n", "not a GLB"),
    "text.obj": (b"hello\nworld\n", "no triangles"),
    "png.obj": (_png_bytes(), "binary data"),
    # GLB / glTF structure
    "json_invalid.glb": (b"glTF\x02\x00\x00\x00\x20\x00\x00\x00\x08\x00\x00\x00JSON{{{{{{{{", "not a valid glTF"),
    "json_array.glb": (_glb([]), "not a valid glTF file (the JSON is not an object)"),
    "json_not_utf8.glb": (b"glTF\x02\x00\x00\x00\x1c\x00\x00\x00\x04\x00\x00\x00JSON\xff\xfe{}", "not a valid glTF"),
    "json_deep.glb": (b"glTF\x02\x00\x00\x00\x00\x00\x00\x00" + struct.pack("<I", 200_000) + b"JSON"
                      + b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    "json_deep.gltf": (b'{"asset": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
    "chunk_past_end.glb": (b"glTF\x02\x00\x00\x00\xff\xff\xff\x7f\xff\xff\xff\x7fJSON{}",
                           "truncated GLB file (its JSON chunk is 2147483647 bytes, the file has 2 after the header)"),
    "header_only.glb": (b"glTF\x02\x00\x00\x00", "not a GLB file"),
    "count_inf.gltf": ('{"asset": {"version": "2.0"}, "nodes": [{"mesh": 0}], "meshes": [{"primitives": '
                       '[{"attributes": {"POSITION": 0}}]}], "accessors": [{"count": 1e999}]}', "malformed glTF"),
    "count_huge.gltf": ('{"asset": {"version": "2.0"}, "nodes": [{"mesh": 0}], "meshes": [{"primitives": '
                        '[{"attributes": {"POSITION": 0}}]}], "accessors": [{"count": 300000000}]}',
                        "100000000 triangles, more than"),
    "types_wrong.gltf": ('{"asset": {"version": "2.0"}, "nodes": "abc", "meshes": 5, "buffers": 7}', "malformed glTF"),
    "null.gltf": ("null", "the JSON is not an object"),
    # empty
    "empty.obj": ("", "empty file"),
    "empty.glb": ("", "empty file"),
    "empty.gltf": ("", "empty file"),
    "empty.ply": ("", "empty file"),
    "blank.obj": ("  \n\n\t\n", "empty file"),
    "truncated.ply": (_ply("0 0 0\n1 0 0\n0 1 0\n", "3 0 1 2\n")[:-12], "malformed or truncated PLY file"),
}


@pytest.mark.parametrize("name", list(MESH_REFUSED))
def test_hostile_meshes_are_one_line_input_errors(tmp_path, name):
    data, needle = MESH_REFUSED[name]
    if name == "nan_binary.ply":
        data = (b"ply\nformat binary_little_endian 1.0\nelement vertex 3\nproperty float x\nproperty float y\n"
                b"property float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n"
                + np.array([0, 0, 0, 1, np.nan, 0, 0, 1, 0], "<f4").tobytes() + b"\x03"
                + np.arange(3, dtype="<i4").tobytes())
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    msg = one_line_error(load_mesh, path)
    assert needle and needle in msg, msg


def test_gltf_with_a_missing_or_short_bin(tmp_path):
    box = trimesh.creation.box()
    files = trimesh.exchange.gltf.export_gltf(trimesh.Scene(box))
    (tmp_path / "model.gltf").write_bytes(files["model.gltf"])
    msg = one_line_error(load_mesh, tmp_path / "model.gltf")
    assert "buffer file" in msg and "not found" in msg
    bins = [k for k in files if k.endswith(".bin")]
    for k in bins:
        (tmp_path / k).write_bytes(files[k][: len(files[k]) // 3])     # truncated buffer
    assert "malformed or truncated GLTF file" in one_line_error(load_mesh, tmp_path / "model.gltf")
    for k in bins:
        (tmp_path / k).write_bytes(files[k])
    assert len(load_mesh(tmp_path / "model.gltf").faces) == 12


def test_mesh_paths_that_are_not_files(tmp_path):
    assert "mesh not found" in one_line_error(load_mesh, tmp_path / "nope.obj")
    (tmp_path / "dir.glb").mkdir()
    assert "not a file" in one_line_error(load_mesh, tmp_path / "dir.glb")
    msg = one_line_error(load_mesh, tmp_path / ("m" * 5000 + ".obj"))
    assert msg.endswith(": cannot read mesh (File name too long)"), msg[-200:]
    assert "mesh not found" in one_line_error(load_mesh, tmp_path / "dir.glb" / "m.obj")


# ------------------------------------------------------------ meshes that load (and load right)
def _unit_finite(n):
    n = np.asarray(n)
    assert np.isfinite(n).all()
    np.testing.assert_allclose(np.linalg.norm(n, axis=-1), 1.0, atol=1e-5)


def _loaded(tmp_path, name, text, **kw):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    m = load_mesh(path, **kw)
    assert np.isfinite(m.positions).all()
    _unit_finite(compute_vertex_normals(m.positions, m.faces))
    if m.normals is not None:
        _unit_finite(m.normals)
    f = m.faces
    assert (f[:, 0] != f[:, 1]).all() and (f[:, 1] != f[:, 2]).all() and (f[:, 2] != f[:, 0]).all()
    return m


def test_degenerate_faces(tmp_path):
    # a repeated corner is dropped (and the vertex only it used); zero-area faces with distinct corners stay
    m = _loaded(tmp_path, "mix.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 2 0 0\nv 5 5 5\n"
                                     "f 1 2 3\nf 1 2 4\nf 1 5 5\nf 2 2 2\n")
    assert len(m.faces) == 2 and len(m.positions) == 4
    m = _loaded(tmp_path, "collinear.obj", "v 0 0 0\nv 1 0 0\nv 2 0 0\nf 1 2 3\n")   # only zero-area faces
    assert len(m.faces) == 1
    m = _loaded(tmp_path, "vn_zero.obj", TRI + "vn 0 0 0\nf 1//1 2//1 3//1\n")         # zero file normals
    np.testing.assert_allclose(m.normals, np.broadcast_to([0, 0, 1], (1, 3, 3)), atol=1e-6)
    m = _loaded(tmp_path, "vn_nan.obj", TRI + "vn nan 0 0\nf 1//1 2//1 3//1\n")        # NaN file normals
    np.testing.assert_allclose(m.normals, np.broadcast_to([0, 0, 1], (1, 3, 3)), atol=1e-6)


def test_compute_vertex_normals_on_degenerate_input_is_finite_and_unit():
    cases = [
        (np.zeros((3, 3)), [[0, 1, 2]]),                                     # all corners equal
        ([[0, 0, 0], [1, 0, 0], [2, 0, 0]], [[0, 1, 2]]),                   # collinear
        ([[0, 0, 0], [1, 0, 0], [0, 1, 0]], [[0, 0, 1], [1, 1, 1]]),        # repeated indices
        ([[0, 0, 0], [1, 0, 0], [0, 1, 0], [9, 9, 9]], [[0, 1, 2]]),        # an unused vertex
        ([[0, 0, 0], [1, 0, 0], [0, 1, 0]], [[0, 1, 2], [0, 2, 1]]),        # opposite faces cancel
        ([[0, 0, 0], [3e38, 0, 0], [0, 3e38, 0]], [[0, 1, 2]]),             # the cross product overflows
        ([[0, 0, 0], [1e-30, 0, 0], [0, 1e-30, 0]], [[0, 1, 2]]),           # ... or underflows
        ([[0, 0, 0], [np.nan, 0, 0], [0, 1, 0], [1, 1, 0]], [[0, 1, 2], [0, 3, 2]]),   # a NaN corner
        ([[0, 0, 0], [np.inf, 0, 0], [0, 1, 0]], [[0, 1, 2]]),
        (np.zeros((0, 3)), np.zeros((0, 3), int)),                           # nothing at all
    ]
    for pos, faces in cases:
        n = compute_vertex_normals(np.asarray(pos, np.float32), np.asarray(faces))
        assert n.shape == (len(pos), 3)
        if len(pos):
            _unit_finite(n)
    n = compute_vertex_normals(np.array([[0, 0, 0], [3e38, 0, 0], [0, 3e38, 0]], np.float32), np.array([[0, 1, 2]]))
    np.testing.assert_allclose(n, np.broadcast_to([0, 0, 1], (3, 3)), atol=1e-6)    # right, not a fallback
    n = compute_vertex_normals(np.array([[0, 0, 0], [1e-30, 0, 0], [0, 1e-30, 0]], np.float32), np.array([[0, 2, 1]]))
    np.testing.assert_allclose(n, np.broadcast_to([0, 0, -1], (3, 3)), atol=1e-6)


def test_corners_and_polygons(tmp_path):
    m = _loaded(tmp_path, "neg_relative.obj", TRI + "f -3 -2 -1\n")     # OBJ relative indices are valid
    assert len(m.faces) == 1
    m = _loaded(tmp_path, "mixed.obj", TRI + "f 1 2\nf 1 2 3\n")        # the 2-corner face is ignored
    assert len(m.faces) == 1
    m = _loaded(tmp_path, "pentagon.obj", "v 0 0 0\nv 1 0 0\nv 1.3 1 0\nv 0.5 1.6 0\nv -0.3 1 0\nf 1 2 3 4 5\n")
    assert len(m.faces) == 3 and len(m.positions) == 5
    m = _loaded(tmp_path, "heptagon.obj", "".join(f"v {np.cos(a):.6f} {np.sin(a):.6f} 0\n"
                                                  for a in np.linspace(0, 2 * np.pi, 8)[:-1]) + "f 1 2 3 4 5 6 7\n")
    assert len(m.faces) == 5
    np.testing.assert_allclose(compute_vertex_normals(m.positions, m.faces), np.broadcast_to([0, 0, 1], (7, 3)),
                               atol=1e-6)
    m = _loaded(tmp_path, "pentagon.ply", _ply("0 0 0\n1 0 0\n1.3 1 0\n0.5 1.6 0\n-0.3 1 0\n", "5 0 1 2 3 4\n"))
    assert len(m.faces) == 3


def test_huge_coordinate_range_keeps_small_triangles(tmp_path):
    """Welding a mesh that spans 1e30 must not merge its unit-sized vertices (it used to drop them)."""
    m = _loaded(tmp_path, "range.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 1e30 0 0\nv 0 0 1e30\nf 1 2 3\nf 1 4 5\n")
    assert len(m.faces) == 2 and len(m.positions) == 5
    pos, faces = meshes.weld(np.array([[0, 0, 0], [1e-8, 0, 0], [1e30, 0, 0], [1e30, 0, 0], [-1e30, 0, 0]]),
                             np.array([[0, 2, 4], [1, 3, 4]]))
    assert len(pos) == 3 and (faces[0] == faces[1]).all()                 # tolerance near 0, exact far away


# ---------------------------------------------------------------- large meshes
def write_grid_obj(path: Path, n: int) -> Path:
    """An n x n grid of unit quads as 2 n^2 counter-clockwise triangles over (n + 1)^2 vertices
    'v i j 0' (integers: exact in float32), written in bulk."""
    i, j = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
    xs, ys = i.ravel().astype(str).astype(object), j.ravel().astype(str).astype(object)
    a = (i[:-1, :-1] * (n + 1) + j[:-1, :-1]).ravel() + 1          # corners (i, j), (i+1, j), (i+1, j+1), (i, j+1)
    b, c, d = a + (n + 1), a + (n + 2), a + 1
    f = np.stack([a, b, c, a, c, d], axis=1).astype(str).astype(object)
    lines = "f " + f[:, 0] + " " + f[:, 1] + " " + f[:, 2] + "\nf " + f[:, 3] + " " + f[:, 4] + " " + f[:, 5] + "\n"
    path.write_bytes((f"# {2 * n * n} faces\n" + "".join("v " + xs + " " + ys + " 0\n") + "".join(lines)).encode())
    return path


LARGE_N = 300          # 180,000 triangles over 90,601 vertices: indices well past 16 bits


@pytest.fixture(scope="module")
def large_grid_obj(tmp_path_factory) -> Path:
    return write_grid_obj(tmp_path_factory.mktemp("big") / "grid.obj", LARGE_N)


def test_large_mesh_loads_exactly(large_grid_obj):
    m = load_mesh(large_grid_obj)
    n = LARGE_N
    assert m.faces.shape == (2 * n * n, 3) and m.positions.shape == ((n + 1) ** 2, 3)
    assert m.faces.dtype == np.int32 and m.positions.dtype == np.float32
    i, j = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
    grid = np.stack([i.ravel(), j.ravel(), np.zeros(i.size)], axis=1)
    np.testing.assert_array_equal(np.unique(m.positions, axis=0), grid[np.lexsort(grid.T[::-1])])
    p = m.positions.astype(np.float64)[m.faces]
    cross = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    np.testing.assert_array_equal(cross, np.broadcast_to([0, 0, 1], cross.shape))    # every triangle: area 1/2, CCW
    quads, halves = np.unique(p[:, :, :2].min(axis=1), axis=0, return_counts=True)
    assert len(quads) == n * n and (halves == 2).all()                    # both halves of every quad


def _lines_run_in_diffrast(fn) -> int:
    """Lines of diffrast_cli's own code executed while ``fn()`` runs (loops, comprehensions and
    generators included; trimesh and numpy are not counted)."""
    package = str(Path(meshes.__file__).resolve().parents[1])
    count = 0

    def local(frame, event, arg):
        nonlocal count
        count += event == "line"
        return local

    def calls(frame, event, arg):
        return local if frame.f_code.co_filename.startswith(package) else None

    old = sys.gettrace()
    sys.settrace(calls)
    try:
        fn()
    finally:
        sys.settrace(old)
    return count


def test_mesh_loading_runs_no_python_per_face(tmp_path):
    """diffrast's own loading code is vectorised: 16x the faces runs the same Python lines."""
    small = write_grid_obj(tmp_path / "small.obj", 20)        # 800 faces
    large = write_grid_obj(tmp_path / "large.obj", 80)        # 12,800 faces
    counts = [_lines_run_in_diffrast(lambda p=p: load_mesh(p)) for p in (small, large)]
    assert counts[0] > 50, counts                             # the tracer saw the loader
    assert counts[1] - counts[0] < 100, counts                # (a per-face loop adds >= 12,000)


def test_faces_over_the_limit_are_refused_before_parsing(large_grid_obj, monkeypatch):
    def parse(*args, **kwargs):
        raise AssertionError("the OBJ was handed to the parser")

    monkeypatch.setattr(meshes, "MAX_FACES", 100_000)
    monkeypatch.setattr(trimesh, "load_scene", parse)
    msg = one_line_error(load_mesh, large_grid_obj)
    assert msg_tail(msg) == f"{2 * LARGE_N ** 2} faces, more than the 100000 triangles allowed"


# ---------------------------------------------------------------- through the real CLI
def _write_job(folder: Path, target: str, mesh: str | None = None) -> Path:
    job = folder / "job.yaml"
    scene = f"scene: {{kind: mesh, mesh: {mesh}}}\n" if mesh else "scene: {triangles: 10}\n"
    proj = "render: {resolution: 16, projection: perspective}\n" if mesh else "render: {resolution: 16}\n"
    job.write_text(f"name: hostile\ntarget: {{image: {target}}}\n{proj}{scene}optimize: {{iterations: 2}}\n"
                   "output: {log_every: 1, frames: 1}\n")
    Image.new("RGB", (16, 16), (255, 0, 0)).save(folder / "ok.png")
    return job


CLI_INPUTS = [
    ("bad_lzw.tif", _bad_lzw_tiff, None, "bad_lzw.tif"),
    ("bomb.png", lambda: raw_png(100_000, 100_000, 8, 2, [b""]), None, "pixels allowed"),
    ("nan.tif", lambda: _float_tiff_with_nan(), None, "NaN or infinite pixels"),
    ("nan.obj", lambda: (TRI.replace("1 0 0", "1 nan 0") + "f 1 2 3\n").encode(), "mesh", "NaN or infinite"),
    ("garbage.glb", lambda: b"\x00\xff" * 500, "mesh", "not a GLB"),
    ("deep.gltf", lambda: b"[" * 100_000 + b"]" * 100_000, "mesh", "nested too deeply"),
]


def _float_tiff_with_nan() -> bytes:
    a = ramp().astype(np.float32)
    a[0, 0] = np.nan
    b = io.BytesIO()
    Image.fromarray(a, "F").save(b, "TIFF")
    return b.getvalue()


@pytest.mark.parametrize("name, make, kind, needle", CLI_INPUTS, ids=[c[0] for c in CLI_INPUTS])
def test_cli_hostile_input_is_one_line_exit_2_no_output(run_cli, tmp_path, name, make, kind, needle):
    (tmp_path / name).write_bytes(make())
    job = _write_job(tmp_path, "ok.png" if kind == "mesh" else name, mesh=name if kind == "mesh" else None)
    out = tmp_path / "out"
    code, stdout, stderr = run_cli("optimize", job, "--out", out, "--quiet")
    lines = stderr.splitlines()
    assert code == 2, (code, stdout, stderr[-2000:])
    assert len(lines) == 1 and lines[0].startswith("diffrast: input error: "), stderr[-2000:]
    assert "Traceback" not in stdout + stderr
    assert str(tmp_path / name) in lines[0] and needle in lines[0], lines[0]
    assert not out.exists()


def test_exif_orientation_of_16_bit_data_keeps_its_scale(tmp_path):
    a = (ramp() * 255).round().astype(np.uint16)             # dark 16-bit data: must stay / 65535
    exif = Image.Exif()
    exif[images.EXIF_ORIENTATION] = 6
    path = tmp_path / "dark16_o6.png"
    Image.fromarray(a).save(path, exif=exif)
    got = load_target(path, (H, W))
    np.testing.assert_allclose(got, gray3(np.rot90(a, -1) / 65535), atol=1e-6)


def test_random_mutations_of_valid_meshes(tmp_path, capfd):
    """Byte flips, truncations and token swaps (nan, inf, -1, 1e39, huge indices ...) of valid
    OBJ / PLY / GLB files: each loads a sane mesh or is a one-line InputError."""
    rng = np.random.default_rng(11)
    box = trimesh.creation.box()
    obj = ("".join(f"v {x} {y} {z}\n" for x, y, z in box.vertices) + "vt 0 0\nvt 1 0\nvt 1 1\nvn 0 0 1\n"
           + "".join(f"f {a + 1}/1/1 {b + 1}/2/1 {c + 1}/3/1\n" for a, b, c in box.faces)).encode()
    tex = box.copy()
    tex.visual = trimesh.visual.TextureVisuals(uv=rng.random((len(box.vertices), 2)),
                                               image=Image.fromarray(rgb_u8()))
    sources = {"obj": obj, "ply": trimesh.exchange.ply.export_ply(box, encoding="ascii"),
               "bply": trimesh.exchange.ply.export_ply(box, encoding="binary"),
               "glb": trimesh.exchange.gltf.export_glb(trimesh.Scene(tex))}
    tokens = [b"nan", b"inf", b"-1", b"0", b"1e39", b"99999999999", b"x", b"", b"1e-300", b"3.4e38", b"/"]
    seen = {"loaded": 0, "refused": 0}
    for i in range(300):
        kind = list(sources)[i % len(sources)]
        data = sources[kind]
        r = rng.random()
        if r < 0.2:
            data = data[: int(rng.integers(0, len(data)))]
        elif r < 0.5 or kind in ("bply", "glb"):
            data = bytearray(data)
            for j in rng.integers(0, len(data), int(rng.integers(1, 5))):
                data[j] = int(rng.integers(0, 256))
            data = bytes(data)
        else:
            toks = data.split(b" ")
            for j in rng.integers(0, len(toks), int(rng.integers(1, 4))):
                toks[j] = tokens[int(rng.integers(0, len(tokens)))] + (b"\n" if toks[j].endswith(b"\n") else b"")
            data = b" ".join(toks)
        path = tmp_path / f"m.{'ply' if kind == 'bply' else kind}"
        path.write_bytes(data)
        try:
            m = load_mesh(path)
        except InputError as exc:
            assert str(exc).startswith(str(path)) and "\n" not in str(exc), str(exc)
            seen["refused"] += 1
            continue
        assert np.isfinite(m.positions).all() and len(m.faces) and m.faces.min() >= 0
        assert m.faces.max() < len(m.positions)
        for a in (m.uvs, m.normals, m.texture, m.vertex_colors):
            assert a is None or np.isfinite(a).all()
        _unit_finite(compute_vertex_normals(m.positions, m.faces))
        seen["loaded"] += 1
    assert seen["loaded"] > 20 and seen["refused"] > 50, seen
    assert capfd.readouterr().err == ""
