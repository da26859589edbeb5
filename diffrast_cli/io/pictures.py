"""Output pictures: comparisons, progress grids/GIFs and loss curves (pillow only).

Images are float32 numpy arrays of shape (H, W, 3) with values in [0, 1] and
row 0 at the top.  Every writer expects the parent directory of ``path`` to
exist already, and replaces ``path`` atomically (``io.atomic.atomic_path``):
a failed write raises OutputError and leaves the previous file intact.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .atomic import atomic_path

ERROR_FULL_SCALE = 0.25  # mean abs error mapped to the top of the colour ramp
LABEL_H = 18  # height of the caption strip in side_by_side / progress_grid
SEP = 2  # separator / border width in pixels
MIN_PANEL_H = 256  # side_by_side panels are upscaled to at least this height
MIN_TILE_H = 128  # progress grid tiles and GIF frames are upscaled to this
MAX_TILE_H = 384  # ... and larger ones scaled down to this (a 1024^2 job's 21-frame grid was 40 MB)
BG = (24, 24, 28)  # separator colour
FG = (235, 235, 235)  # caption colour

# black -> purple -> orange -> yellow (monotonic in lightness)
_RAMP_POS = np.array([0.0, 0.35, 0.7, 1.0])
_RAMP_RGB = np.array([[0.0, 0.0, 0.0], [0.42, 0.09, 0.55], [0.93, 0.42, 0.14], [1.0, 0.96, 0.48]])


def _font(size: int = 12):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # pillow < 10.1 has only the fixed bitmap font
        return ImageFont.load_default()


def _as_rgb(img) -> np.ndarray:
    a = np.asarray(img, dtype=np.float32)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise ValueError(f"expected an HxWx3 image, got shape {a.shape}")
    return a[..., :3]


def to_uint8(img) -> np.ndarray:
    """Clip to [0, 1], scale and round to uint8 (NaN becomes 0)."""
    a = np.nan_to_num(_as_rgb(img), nan=0.0, posinf=1.0, neginf=0.0)
    return np.rint(np.clip(a, 0.0, 1.0) * 255.0).astype(np.uint8)


def _save(im: Image.Image, path, **options) -> None:
    """``im.save(path, **options)`` through a temporary file that replaces ``path`` on success."""
    with atomic_path(path) as tmp:
        im.save(tmp, **options)


def save_png(path, img) -> None:
    _save(Image.fromarray(to_uint8(img), "RGB"), path, format="PNG")


def error_colormap(err) -> np.ndarray:
    """Map per-pixel error (HxW, >= 0) to an HxWx3 float heat map."""
    v = np.clip(np.nan_to_num(np.asarray(err, np.float32), nan=1.0) / ERROR_FULL_SCALE, 0.0, 1.0)
    out = np.stack([np.interp(v, _RAMP_POS, _RAMP_RGB[:, c]) for c in range(3)], axis=-1)
    return out.astype(np.float32)


def _upscale(im: Image.Image, min_h: int) -> Image.Image:
    k = max(1, math.ceil(min_h / im.height))
    return im if k == 1 else im.resize((im.width * k, im.height * k), Image.NEAREST)


def _fit_tile(im: Image.Image) -> Image.Image:
    """A progress tile no taller than MAX_TILE_H (aspect kept, area-averaged)."""
    if im.height <= MAX_TILE_H:
        return im
    w = max(1, round(im.width * MAX_TILE_H / im.height))
    return im.resize((w, MAX_TILE_H), Image.BOX)


def _caption(draw: ImageDraw.ImageDraw, text: str, x0: int, y0: int, width: int, font) -> None:
    """Draw ``text`` centred horizontally in a LABEL_H strip starting at (x0, y0)."""
    l, t, r, b = draw.textbbox((0, 0), text, font=font)
    draw.text((x0 + (width - (r - l)) // 2 - l, y0 + (LABEL_H - (b - t)) // 2 - t), text, fill=FG, font=font)


def side_by_side(target, result, path) -> None:
    """Write a 'target | result | error' comparison PNG."""
    t, r = _as_rgb(target), _as_rgb(result)
    if t.shape != r.shape:
        raise ValueError(f"target {t.shape} and result {r.shape} differ in shape")
    err = np.abs(np.nan_to_num(t) - np.nan_to_num(r)).mean(axis=2)
    panels = [Image.fromarray(to_uint8(a)) for a in (t, r, error_colormap(err))]
    panels = [_upscale(p, MIN_PANEL_H) for p in panels]
    pw, ph = panels[0].size
    canvas = Image.new("RGB", (3 * pw + 4 * SEP, LABEL_H + ph + SEP), BG)
    draw, font = ImageDraw.Draw(canvas), _font()
    names = ("target", "result", f"|error| (full scale {ERROR_FULL_SCALE:g})")
    for i, (panel, name) in enumerate(zip(panels, names)):
        x0 = SEP + i * (pw + SEP)
        canvas.paste(panel, (x0, LABEL_H))
        _caption(draw, name, x0, 0, pw, font)
    _save(canvas, path, format="PNG")


def _frame_images(frames, min_h: int, labels=None):
    if not frames:
        raise ValueError("no frames given")
    if labels is not None and len(labels) != len(frames):
        raise ValueError("labels must match frames in length")
    ims = [_fit_tile(_upscale(Image.fromarray(to_uint8(img)), min_h)) for _, img in frames]
    if len({im.size for im in ims}) != 1:
        raise ValueError("all frames must have the same size")
    texts = list(labels) if labels is not None else [f"it {int(it)}" for it, _ in frames]
    return ims, texts


def progress_grid(frames, path, labels=None, max_cols: int = 5) -> None:
    """Write a grid of (iteration, image) frames, each captioned underneath."""
    ims, texts = _frame_images(frames, MIN_TILE_H, labels)
    cols = max(1, min(int(max_cols), len(ims)))
    rows = math.ceil(len(ims) / cols)
    tw, th = ims[0].size
    cell_w, cell_h = tw + SEP, th + LABEL_H + SEP
    canvas = Image.new("RGB", (cols * cell_w + SEP, rows * cell_h + SEP), BG)
    draw, font = ImageDraw.Draw(canvas), _font()
    for i, (im, text) in enumerate(zip(ims, texts)):
        x0 = SEP + (i % cols) * cell_w
        y0 = SEP + (i // cols) * cell_h
        canvas.paste(im, (x0, y0))
        _caption(draw, str(text), x0, y0 + th, tw, font)
    _save(canvas, path, format="PNG")


def progress_gif(frames, path, duration_ms: int = 120) -> None:
    """Write an animated, looping GIF of the frames; the last one is held longer.

    Note: GIF encoders merge identical consecutive frames, so the stored frame
    count can be lower than ``len(frames)`` if the optimizer stalled; the
    iteration caption drawn in the corner keeps frames distinct in practice.
    """
    ims, texts = _frame_images(frames, MIN_TILE_H)
    font = _font(11)
    out = []
    for im, text in zip(ims, texts):
        im = im.copy()
        draw = ImageDraw.Draw(im)
        l, t, r, b = draw.textbbox((4, 3), text, font=font)
        draw.rectangle((l - 2, t - 2, r + 2, b + 2), fill=BG)
        draw.text((4, 3), text, fill=FG, font=font)
        out.append(im)
    durations = [int(duration_ms)] * len(out)
    durations[-1] = max(1000, 8 * int(duration_ms))
    _save(out[0], path, format="GIF", save_all=True, append_images=out[1:],
          duration=durations, loop=0, optimize=False)


# ----------------------------------------------------------------------------
# loss curve
# ----------------------------------------------------------------------------
def _nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round tick positions (steps of 1, 2 or 5 x 10^k) covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    raw = (hi - lo) / max(1, n)
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def _fmt(v: float) -> str:
    if v == 0 or not math.isfinite(v):
        return f"{v:g}"
    if float(v).is_integer() and abs(v) < 1e7:
        return str(int(v))
    return f"{v:.3g}" if 1e-3 <= abs(v) < 1e5 else f"{v:.1e}"


def _plot_panel(draw, box, xs, ys, title, log_y, font, scale, color, final_fmt):
    """Draw one line chart inside ``box`` = (x0, y0, x1, y1) on a supersampled canvas."""
    x0, y0, x1, y1 = box
    ml, mr, mt, mb = 64 * scale, 28 * scale, 30 * scale, 36 * scale
    ax0, ay0, ax1, ay1 = x0 + ml, y0 + mt, x1 - mr, y1 - mb
    draw.text(((x0 + x1) // 2, y0 + 14 * scale), title, fill=(20, 20, 20), font=font, anchor="mm")
    draw.rectangle((ax0, ay0, ax1, ay1), outline=(90, 90, 90), width=scale)
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    ok = np.isfinite(xs) & np.isfinite(ys) & ((ys > 0) if log_y else True)
    if not ok.any():
        draw.text(((ax0 + ax1) // 2, (ay0 + ay1) // 2), "no finite data", fill=(120, 120, 120), font=font, anchor="mm")
        return
    px, py = xs[ok], np.log10(ys[ok]) if log_y else ys[ok]
    xlo, xhi = float(px.min()), float(px.max())
    ylo, yhi = float(py.min()), float(py.max())
    if xhi - xlo < 1e-12:
        xlo, xhi = xlo - 1, xhi + 1
    if yhi - ylo < 1e-9 * max(1.0, abs(yhi)):  # flat data: open a sensible window
        half = 0.5 if log_y else max(1.0, 0.05 * abs(yhi))
        ylo, yhi = ylo - half, yhi + half
    pad = 0.08 * (yhi - ylo)
    ylo, yhi = ylo - pad, yhi + pad

    def to_px(xv, yv):
        return (ax0 + (xv - xlo) / (xhi - xlo) * (ax1 - ax0), ay1 - (yv - ylo) / (yhi - ylo) * (ay1 - ay0))

    grid, tick_col = (225, 225, 225), (60, 60, 60)
    xt = _nice_ticks(xlo, xhi, 5)
    if np.all(np.mod(px, 1) == 0):  # integer iterations: keep integer ticks
        xt = [t for t in xt if float(t).is_integer()] or xt
    for tx in xt:
        gx = to_px(tx, ylo)[0]
        draw.line((gx, ay0 + scale, gx, ay1 - scale), fill=grid, width=scale)
        draw.text((gx, ay1 + 6 * scale), _fmt(tx), fill=tick_col, font=font, anchor="mt")
    if log_y:  # one tick per decade, or round linear values when under a decade
        yt = [float(k) for k in range(math.ceil(ylo), math.floor(yhi) + 1)]
        if len(yt) < 2:
            yt = [math.log10(v) for v in _nice_ticks(10.0**ylo, 10.0**yhi, 4) if v > 0]
    else:
        yt = _nice_ticks(ylo, yhi, 5)
    for ty in yt:
        gy = to_px(xlo, ty)[1]
        draw.line((ax0 + scale, gy, ax1 - scale, gy), fill=grid, width=scale)
        draw.text((ax0 - 5 * scale, gy), _fmt(10.0**ty if log_y else ty), fill=tick_col, font=font, anchor="rm")
    draw.text(((ax0 + ax1) // 2, y1 - 4 * scale), "iteration", fill=tick_col, font=font, anchor="mb")
    pts = [to_px(a, b) for a, b in zip(px, py)]
    if len(pts) > 1:
        draw.line(pts, fill=color, width=2 * scale, joint="curve")
    lx, ly = pts[-1]
    r = 4 * scale
    draw.ellipse((lx - r, ly - r, lx + r, ly + r), fill=color)
    # annotate the true last value (even if it could not be drawn), in the
    # corner away from the end of the curve
    text = "final: " + (final_fmt(ys[-1]) if math.isfinite(ys[-1]) else str(ys[-1]))
    if ly < (ay0 + ay1) / 2:
        draw.text((ax1 - 6 * scale, ay1 - 6 * scale), text, fill=color, font=font, anchor="rd")
    else:
        draw.text((ax1 - 6 * scale, ay0 + 6 * scale), text, fill=color, font=font, anchor="ra")


def loss_curve(records, path, size=(800, 400)) -> None:
    """Write a PNG with loss (log y) and PSNR (dB) against iteration."""
    scale = 2  # draw at 2x and downsample for anti-aliased lines and text
    w, h = size[0] * scale, size[1] * scale
    canvas = Image.new("RGB", (w, h), (255, 255, 255))
    draw, font = ImageDraw.Draw(canvas), _font(11 * scale)
    recs = list(records)

    def col(key):
        out = []
        for r in recs:
            try:
                out.append(float(r.get(key, float("nan"))))
            except (TypeError, ValueError):
                out.append(float("nan"))
        return out

    its = col("iteration")
    _plot_panel(draw, (0, 0, w // 2, h), its, col("loss"), "loss (log scale)", True, font, scale,
                (200, 70, 40), lambda v: f"{v:.4g}")
    _plot_panel(draw, (w // 2, 0, w, h), its, col("psnr"), "PSNR (dB)", False, font, scale,
                (40, 90, 190), lambda v: f"{v:.2f} dB")
    _save(canvas.resize(size, Image.LANCZOS), path, format="PNG")
