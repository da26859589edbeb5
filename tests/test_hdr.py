"""Radiance .hdr reading and writing, and the environment-image loader's refusals."""

from __future__ import annotations

import numpy as np
import pytest

from diffrast_cli.errors import InputError
from diffrast_cli.io.hdr import float_to_rgbe, load_environment_image, read_hdr, write_hdr


def _image(h=13, w=37, seed=0):
    rng = np.random.default_rng(seed)
    img = rng.uniform(0, 1, (h, w, 3)) * 10.0 ** rng.uniform(-3, 3, (h, w, 1))
    img[2, 3:20] = (5.0, 0.25, 0.0)            # long runs of equal bytes, exercised by RLE
    img[4] = 0.0
    return img.astype(np.float32)


@pytest.mark.parametrize("rle", [True, False])
def test_round_trip_within_rgbe_precision(tmp_path, rle):
    img = _image()
    write_hdr(tmp_path / "a.hdr", img, rle=rle)
    back = read_hdr(tmp_path / "a.hdr")
    assert back.shape == img.shape and back.dtype == np.float32
    peak = img.max(axis=-1, keepdims=True)
    assert np.all(np.abs(back - img) <= peak / 256 + 1e-30)     # one mantissa step of the brightest channel
    assert np.all(back[4] == 0)


def test_rle_is_smaller_on_smooth_images(tmp_path):
    img = np.ones((16, 64, 3), np.float32)
    write_hdr(tmp_path / "r.hdr", img)
    write_hdr(tmp_path / "f.hdr", img, rle=False)
    assert (tmp_path / "r.hdr").stat().st_size < (tmp_path / "f.hdr").stat().st_size / 4
    np.testing.assert_allclose(read_hdr(tmp_path / "r.hdr"), read_hdr(tmp_path / "f.hdr"))


def test_reads_a_handmade_rle_file(tmp_path):
    """Bytes written by hand, not by write_hdr: two scanlines of width 8 mixing runs and literals."""
    w = 8
    line0 = [bytes((136, 128)),                        # R: a run of 8 x 128
             bytes((4, 0, 64, 128, 255, 132, 32)),     # G: 4 literals then a run of 4 x 32
             bytes((136, 0)),                          # B: 8 x 0
             bytes((136, 129))]                        # E: 8 x 129 -> scale 2^-7
    line1 = [bytes((8,)) + bytes(range(8)), bytes((136, 0)), bytes((136, 0)), bytes((136, 0))]  # E = 0: black
    body = b"".join([bytes((2, 2, 0, w))] + line0 + [bytes((2, 2, 0, w))] + line1)
    (tmp_path / "h.hdr").write_bytes(b"#?RADIANCE\n# made by hand\nFORMAT=32-bit_rle_rgbe\n\n-Y 2 +X 8\n" + body)
    img = read_hdr(tmp_path / "h.hdr")
    assert img.shape == (2, 8, 3)
    s = 2.0 ** -7
    np.testing.assert_allclose(img[0, :, 0], 128.5 * s)
    np.testing.assert_allclose(img[0, :, 1], np.array([0, 64, 128, 255, 32, 32, 32, 32]) * s + 0.5 * s)
    np.testing.assert_allclose(img[0, :, 2], 0.5 * s)
    assert np.all(img[1] == 0)


def test_flat_file_and_bottom_up_orientation(tmp_path):
    rgbe = float_to_rgbe(np.array([[[1, 0, 0]], [[0, 0, 2]]], np.float64))      # 2 rows, 1 column
    (tmp_path / "b.hdr").write_bytes(b"#?RGBE\n\n+Y 2 +X 1\n" + rgbe.tobytes())
    img = read_hdr(tmp_path / "b.hdr")                 # +Y: the first stored row is the bottom
    assert img[0, 0, 2] > 1.9 and img[1, 0, 0] > 0.9


@pytest.mark.parametrize("content, words", [
    (b"P6\n1 1\n255\n\0\0\0", "not a Radiance"),
    (b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n", "truncated"),
    (b"#?RADIANCE\n\n-Y 4 +X 4\n" + bytes(20), "truncated"),
    (b"#?RADIANCE\n\n-Y 20000 +X 4\n", "outside"),
    (b"#?RADIANCE\n\n+X 4 -Y 4\n", "resolution"),
    (b"#?RADIANCE\nFORMAT=32-bit_rle_xyze\n\n-Y 1 +X 1\n\0\0\0\0", "format"),
    (b"#?RADIANCE\n\n-Y 1 +X 8\n\x02\x02\x00\x08\x88\x01", "truncated"),
    (b"#?RADIANCE\n\n-Y 1 +X 8\n\x02\x02\x00\x08\x90\x01", "corrupt"),
])
def test_bad_hdr_files_are_one_line_input_errors(tmp_path, content, words):
    path = tmp_path / "bad.hdr"
    path.write_bytes(content)
    with pytest.raises(InputError) as err:
        load_environment_image(path)
    msg = str(err.value)
    assert "\n" not in msg and str(path) in msg and words in msg


def test_npy_inputs(tmp_path):
    good = np.full((4, 8, 3), 0.5, np.float32)
    np.save(tmp_path / "g.npy", good)
    np.testing.assert_array_equal(load_environment_image(tmp_path / "g.npy"), good)
    cases = {"nan.npy": np.full((2, 4, 3), np.nan), "neg.npy": -np.ones((2, 4, 3)),
             "shape.npy": np.ones((2, 4)), "int.npy": np.ones((2, 4, 3), np.int32),
             "big.npy": np.lib.stride_tricks.as_strided(np.zeros(1), (16385, 2, 3), (0, 0, 0))}
    for name, a in cases.items():
        np.save(tmp_path / name, a)
    (tmp_path / "trunc.npy").write_bytes((tmp_path / "g.npy").read_bytes()[:-10])
    (tmp_path / "junk.npy").write_bytes(b"not numpy at all")
    for name, words in [("nan.npy", "NaN"), ("neg.npy", "negative"), ("shape.npy", "shape"), ("int.npy", "float"),
                        ("big.npy", "outside"), ("trunc.npy", "npy"), ("junk.npy", "npy"), ("missing.npy", "cannot read")]:
        with pytest.raises(InputError) as err:
            load_environment_image(tmp_path / name)
        assert name in str(err.value) and words in str(err.value) and "\n" not in str(err.value), str(err.value)
    with pytest.raises(InputError, match="unsupported"):
        load_environment_image(tmp_path / "x.exr")


def test_write_refuses_bad_values(tmp_path):
    with pytest.raises(ValueError):
        write_hdr(tmp_path / "x.hdr", -np.ones((2, 2, 3)))
    with pytest.raises(ValueError):
        write_hdr(tmp_path / "x.hdr", np.ones((2, 2)))
