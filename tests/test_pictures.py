"""Tests for diffrast_cli.io.pictures and the synthetic asset generator."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from diffrast_cli.io import pictures as P

REPO = Path(__file__).resolve().parents[1]


def _img(h=32, w=48, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((h, w, 3), dtype=np.float32)


def _load(path) -> np.ndarray:
    with Image.open(path) as im:
        assert im.format == "PNG"
        return np.asarray(im.convert("RGB"))


# ---------------------------------------------------------------- basics
def test_to_uint8_clips_and_rounds():
    a = np.array([[[-0.5, 0.0, 0.6 / 255]], [[1.4 / 255, 254.6 / 255, 7.0]]], np.float32)
    u = P.to_uint8(a)
    assert u.dtype == np.uint8
    assert u.tolist() == [[[0, 0, 1]], [[1, 255, 255]]]


def test_save_png_roundtrip(tmp_path):
    img = _img()
    P.save_png(tmp_path / "a.png", img)
    back = _load(tmp_path / "a.png")
    assert back.shape == img.shape
    assert np.array_equal(back, P.to_uint8(img))


def test_error_colormap_ramp_is_black_at_zero_and_brightening():
    err = np.linspace(0, P.ERROR_FULL_SCALE, 11, dtype=np.float32)[None, :]
    cm = P.error_colormap(err)[0]
    assert np.allclose(cm[0], 0.0)
    lum = cm @ np.array([0.2126, 0.7152, 0.0722])
    assert np.all(np.diff(lum) > 0), "ramp must get monotonically brighter"
    assert np.allclose(P.error_colormap(np.array([[10.0]])), cm[-1])  # saturates


# ---------------------------------------------------------------- side_by_side
@pytest.mark.parametrize("h,w", [(32, 48), (300, 200)])
def test_side_by_side_layout_and_error_panel(tmp_path, h, w):
    target = _img(h, w, 1)
    result = target.copy()
    # the right half of the result differs strongly, the left half is identical
    result[:, w // 2:, :] = np.where(target[:, w // 2:] > 0.5, 0.0, 1.0)
    out = tmp_path / "cmp.png"
    P.side_by_side(target, result, out)
    pic = _load(out)

    k = max(1, math.ceil(P.MIN_PANEL_H / h))
    pw, ph = w * k, h * k
    assert ph >= P.MIN_PANEL_H
    assert pic.shape == (P.LABEL_H + ph + P.SEP, 3 * pw + 4 * P.SEP, 3)

    def panel(i):
        x0 = P.SEP + i * (pw + P.SEP)
        return pic[P.LABEL_H:P.LABEL_H + ph, x0:x0 + pw]

    # panels 0 and 1 are the (nearest-upscaled) images themselves
    up_t = np.repeat(np.repeat(P.to_uint8(target), k, 0), k, 1)
    up_r = np.repeat(np.repeat(P.to_uint8(result), k, 0), k, 1)
    assert np.array_equal(panel(0), up_t)
    assert np.array_equal(panel(1), up_r)
    # separators are the background colour
    sep_x = P.SEP + pw
    assert np.all(pic[P.LABEL_H:, sep_x:sep_x + P.SEP] == P.BG)
    # error panel: black where equal, bright where different
    err = panel(2).astype(float)
    left, right = err[:, : (w // 2) * k - k], err[:, (w // 2) * k + k:]
    assert left.max() == 0
    assert right.mean() > 150
    # labels: the caption strip above each panel contains light text pixels
    strip = pic[: P.LABEL_H, P.SEP:P.SEP + pw]
    assert (strip.max(axis=2) > 150).sum() > 10


def test_side_by_side_rejects_shape_mismatch(tmp_path):
    with pytest.raises(ValueError):
        P.side_by_side(_img(8, 8), _img(8, 9), tmp_path / "x.png")


# ---------------------------------------------------------------- grid / gif
@pytest.mark.parametrize("n,max_cols,cols,rows", [(1, 5, 1, 1), (5, 5, 5, 1), (7, 5, 5, 2), (7, 3, 3, 3)])
def test_progress_grid_geometry(tmp_path, n, max_cols, cols, rows):
    h, w = 20, 30
    frames = [(i * 50, _img(h, w, i)) for i in range(n)]
    out = tmp_path / "grid.png"
    P.progress_grid(frames, out, max_cols=max_cols)
    pic = _load(out)
    k = math.ceil(P.MIN_TILE_H / h)
    tw, th = w * k, h * k
    assert pic.shape == (rows * (th + P.LABEL_H + P.SEP) + P.SEP, cols * (tw + P.SEP) + P.SEP, 3)
    # every frame lands in its own tile at the expected place
    for i, (_, img) in enumerate(frames):
        x0 = P.SEP + (i % cols) * (tw + P.SEP)
        y0 = P.SEP + (i // cols) * (th + P.LABEL_H + P.SEP)
        assert np.array_equal(pic[y0:y0 + th:k, x0:x0 + tw:k], P.to_uint8(img))
        caption = pic[y0 + th:y0 + th + P.LABEL_H, x0:x0 + tw]
        assert (caption.max(axis=2) > 150).any()


def test_progress_grid_labels_and_errors(tmp_path):
    frames = [(0, _img(8, 8)), (10, _img(8, 8, 2))]
    P.progress_grid(frames, tmp_path / "g.png", labels=["start", "end"])
    P.progress_grid(frames, tmp_path / "d.png")
    labelled, default = _load(tmp_path / "g.png"), _load(tmp_path / "d.png")
    k = P.MIN_TILE_H // 8
    assert labelled.shape == default.shape == (8 * k + P.LABEL_H + 2 * P.SEP, 2 * (8 * k + P.SEP) + P.SEP, 3)
    tiles = slice(P.SEP, P.SEP + 8 * k)
    assert np.array_equal(labelled[tiles], default[tiles])          # the same pictures ...
    assert not np.array_equal(labelled, default)                   # ... with other captions
    with pytest.raises(ValueError):
        P.progress_grid([], tmp_path / "e.png")
    with pytest.raises(ValueError):
        P.progress_grid(frames, tmp_path / "e.png", labels=["one"])


def test_progress_gif_frame_count_and_timing(tmp_path):
    frames = [(i * 10, np.full((16, 24, 3), i / 6, np.float32)) for i in range(6)]
    out = tmp_path / "p.gif"
    P.progress_gif(frames, out, duration_ms=80)
    with Image.open(out) as im:
        assert im.format == "GIF"
        assert im.n_frames == len(frames)
        assert im.size == (24 * 8, 16 * 8)                          # upscaled to MIN_TILE_H
        durations = []
        for i in range(im.n_frames):
            im.seek(i)
            durations.append(im.info["duration"])
            pic = np.asarray(im.convert("RGB")).astype(int)
            # frame i is grey i/6 (below the caption box in the corner)
            assert np.abs(pic[40:] - round(255 * i / 6)).max() <= 2, i
    assert durations[0] == 80
    assert durations[-1] > durations[0]


# ---------------------------------------------------------------- loss curve
def _records(n):
    return [
        {"iteration": float(i * 10), "loss": 0.2 * math.exp(-i / 30) + 1e-3, "psnr": 10 + 15 * (1 - math.exp(-i / 30))}
        for i in range(n)
    ]


@pytest.mark.parametrize(
    "records",
    [
        _records(200),
        _records(1),
        [{"iteration": 0, "loss": 0.0, "psnr": float("inf")}],
        [{"iteration": 0, "loss": 0.5, "psnr": 3.0}, {"iteration": 5, "loss": 0.0, "psnr": float("inf")}],
        [{"iteration": 0, "loss": float("nan"), "psnr": float("nan")}, {"iteration": 1, "loss": -1.0, "psnr": -float("inf")}],
        _records(5) + [{"iteration": 60, "loss": float("inf"), "psnr": float("nan")}],
        [],
    ],
    ids=["normal", "single", "zero-loss", "zero-last", "all-bad", "inf-tail", "empty"],
)
def test_loss_curve_writes_png(tmp_path, records):
    out = tmp_path / "loss.png"
    P.loss_curve(records, out)
    pic = _load(out)
    assert pic.shape == (400, 800, 3)
    assert pic.min() < 100  # axes / text were drawn on the white canvas


def test_loss_curve_draws_both_curves(tmp_path):
    out = tmp_path / "loss.png"
    P.loss_curve(_records(100), out)
    pic = _load(out).astype(int)
    red = (pic[..., 0] > 150) & (pic[..., 1] < 120) & (pic[..., 2] < 100)
    blue = (pic[..., 2] > 150) & (pic[..., 0] < 100)
    assert red[:, :400].sum() > 200 and red[:, 400:].sum() == 0
    assert blue[:, 400:].sum() > 200 and blue[:, :400].sum() == 0


# ---------------------------------------------------------------- assets
def _asset_module():
    spec = importlib.util.spec_from_file_location("make_portrait", REPO / "assets" / "make_portrait.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_make_shapes_is_deterministic():
    mod = _asset_module()
    a, b = mod.make_shapes(64), mod.make_shapes(64)
    assert a.size == (64, 64) and a.mode == "RGB"
    assert a.tobytes() == b.tobytes()
    arr = np.asarray(a)
    assert len(np.unique(arr.reshape(-1, 3), axis=0)) > 6  # several colours + AA edges


def test_large_frames_are_scaled_down_in_progress_pictures(tmp_path):
    """A 1024^2 job's progress grid and GIF use tiles of MAX_TILE_H rows (aspect kept);
    the comparison keeps full resolution."""
    img = np.zeros((1024, 768, 3), np.float32)
    img[:512] = 1.0                                           # top half white
    frames = [(0, img), (10, img)]
    P.progress_grid(frames, tmp_path / "g.png")
    P.progress_gif(frames, tmp_path / "a.gif")
    with Image.open(tmp_path / "a.gif") as gif:
        assert gif.size == (288, P.MAX_TILE_H)
        frame = np.asarray(gif.convert("RGB"), np.float32)
        assert frame[P.MAX_TILE_H // 4, 144].min() > 200 and frame[3 * P.MAX_TILE_H // 4, 144].max() < 50
    with Image.open(tmp_path / "g.png") as grid:
        assert grid.size[1] == P.MAX_TILE_H + P.LABEL_H + 2 * P.SEP
    P.side_by_side(img, img, tmp_path / "c.png")
    with Image.open(tmp_path / "c.png") as comp:
        assert comp.size[1] == P.LABEL_H + 1024 + P.SEP
