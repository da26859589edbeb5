"""Generate the synthetic fitting targets used by diffrast.

Run from the repository root::

    python assets/make_portrait.py

This writes ``assets/portrait.png`` (512x512, a stylised but photo-like
portrait: soft lighting, anti-aliased edges, hair strands, shallow depth of
field background and mild film grain) and ``assets/shapes.png`` (128x128,
a few flat-coloured anti-aliased shapes, for fast tests).

Everything is procedural (numpy + pillow only) and deterministic: the only
randomness comes from ``numpy.random.default_rng`` with fixed seeds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SS = 2  # supersampling factor for the float canvas (anti-aliasing)


# ----------------------------------------------------------------------------
# small numeric helpers
# ----------------------------------------------------------------------------
def _smoothstep(e0, e1, x):
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.clip(np.nan_to_num((x - e0) / (e1 - e0)), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _cover(sdf, width):
    """Soft coverage of the region sdf < 0, with an edge of ``width`` units."""
    return np.clip(0.5 - sdf / width, 0.0, 1.0)


def _ellipse_sdf(x, y, cx, cy, rx, ry):
    """Approximate signed distance to an axis-aligned ellipse."""
    r = np.sqrt(((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2)
    return (r - 1.0) * min(rx, ry)


def _smin(a, b, k):
    """Polynomial smooth minimum (rounded union of two distance fields)."""
    h = np.clip(0.5 + 0.5 * (b - a) / k, 0.0, 1.0)
    return b * (1 - h) + a * h - k * h * (1 - h)


def _gauss(x, y, cx, cy, sx, sy, angle=0.0):
    c, s = np.cos(angle), np.sin(angle)
    dx, dy = x - cx, y - cy
    u, v = c * dx + s * dy, -s * dx + c * dy
    return np.exp(-0.5 * ((u / sx) ** 2 + (v / sy) ** 2))


def _blur(img, sigma):
    """Separable Gaussian blur of an HxW or HxWxC float array (reflect edges)."""
    if sigma <= 0:
        return img
    rad = int(np.ceil(3.0 * sigma))
    k = np.exp(-0.5 * (np.arange(-rad, rad + 1) / sigma) ** 2)
    k /= k.sum()
    out = img.astype(np.float32)
    for axis in (0, 1):
        pad = [(0, 0)] * out.ndim
        pad[axis] = (rad, rad)
        p = np.pad(out, pad, mode="reflect")
        acc = np.zeros_like(out)
        n = out.shape[axis]
        for i, w in enumerate(k):
            sl = [slice(None)] * out.ndim
            sl[axis] = slice(i, i + n)
            acc += w * p[tuple(sl)]
        out = acc
    return out


def _over(img, color, alpha):
    """Composite ``color`` (3-vector or HxWx3) over ``img`` with coverage alpha."""
    a = alpha[..., None]
    return img * (1.0 - a) + np.asarray(color, np.float32) * a


def _downsample(img, f):
    h, w = img.shape[0] // f, img.shape[1] // f
    return img.reshape(h, f, w, f, -1).mean(axis=(1, 3))


def _strand_layer(n_px, strands, width, zoom=1.0, centre=(0.5, 0.40)):
    """Rasterise polylines (in unit coordinates) into a float coverage map.

    Drawn with pillow at 2x the canvas resolution and box-filtered down so the
    strands come out anti-aliased.  ``strands`` is a list of (points, value).
    """
    big = n_px * 2
    layer = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(layer)
    for pts, val in strands:
        xy = [(float((centre[0] + (px - centre[0]) * zoom) * big),
               float((centre[1] + (py - centre[1]) * zoom) * big)) for px, py in pts]
        draw.line(xy, fill=int(val), width=width, joint="curve")
    layer = layer.resize((n_px, n_px), Image.BOX)
    return np.asarray(layer, np.float32) / 255.0


# ----------------------------------------------------------------------------
# portrait
# ----------------------------------------------------------------------------
def _background(x, y, rng, px):
    """Out-of-focus interior: warm wall to cool shadow, window light, bokeh."""
    t = np.clip(0.55 * x + 0.45 * y, 0, 1)[..., None]
    top = np.array([0.80, 0.70, 0.58], np.float32)
    bot = np.array([0.20, 0.30, 0.34], np.float32)
    img = top * (1 - t) + bot * t
    # a soft bright window pane on the upper left
    win = _cover(np.maximum(np.abs(x - 0.12) - 0.09, np.abs(y - 0.22) - 0.2), 0.01)
    img = _over(img, [0.97, 0.93, 0.82], 0.55 * win)
    # a dark plant-ish blob on the right
    for cx, cy, r in ((0.95, 0.50, 0.10), (0.88, 0.62, 0.08), (0.99, 0.70, 0.09), (0.90, 0.40, 0.06)):
        img = _over(img, [0.16, 0.26, 0.17], 0.7 * _cover(_ellipse_sdf(x, y, cx, cy, r, 1.3 * r), 0.01))
    # bokeh disks
    bokeh = [
        (0.80, 0.14, 0.050, [1.00, 0.86, 0.60], 0.55),
        (0.90, 0.26, 0.035, [1.00, 0.92, 0.72], 0.45),
        (0.70, 0.08, 0.025, [0.95, 0.80, 0.62], 0.40),
        (0.06, 0.62, 0.045, [0.60, 0.78, 0.82], 0.35),
        (0.16, 0.74, 0.030, [0.70, 0.85, 0.85], 0.30),
    ]
    for cx, cy, r, col, a in bokeh:
        d = _cover(_ellipse_sdf(x, y, cx, cy, r, r), 0.004)
        ring = 1.0 + 0.25 * _smoothstep(0.6 * r, r, np.hypot(x - cx, y - cy))
        img = _over(img, col, np.clip(a * d * ring, 0, 1))
    # faint texture so the wall is not perfectly smooth, then defocus
    img = img + 0.05 * (_blur(rng.standard_normal(x.shape).astype(np.float32), 12 * px))[..., None]
    return _blur(img, 20 * px)


def _head_geometry(x, y):
    cx, cy, rx, ry = 0.5, 0.42, 0.155, 0.205
    ey = (y - cy) / ry
    taper = 1.0 - 0.28 * _smoothstep(0.0, 1.0, ey)  # narrower jaw and chin
    ex = (x - cx) / (rx * taper)
    r = np.sqrt(ex**2 + ey**2)
    sdf = (r - 1.0) * rx * taper
    return ex, ey, sdf


def _skin_shade(nx, ny, base, ambient=0.38):
    """Lambert + wrap lighting from the upper left, warm in the shadows."""
    nz = np.sqrt(np.clip(1.0 - nx**2 - ny**2, 0.0, 1.0))
    light = np.array([-0.55, -0.45, 0.70])
    light /= np.linalg.norm(light)
    ndl = nx * light[0] + ny * light[1] + nz * light[2]
    diff = np.clip((ndl + 0.3) / 1.3, 0, 1)  # wrapped diffuse (soft terminator)
    base = np.asarray(base, np.float32)
    shadow_tint = np.array([0.75, 0.42, 0.35], np.float32)  # subsurface warmth
    col = base * (ambient + (1 - ambient) * diff[..., None])
    warm = (1 - diff)[..., None] * 0.18
    return col * (1 - warm) + shadow_tint * base * warm, diff


def _hairline(xv):
    """Fringe hairline height: a side parting on the left, swept to the right."""
    hx = xv - 0.5
    sweep = _smoothstep(-0.16, 0.10, hx) * (1 - _smoothstep(0.02, 0.16, hx))
    return 0.30 - 0.07 * sweep + 0.05 * _smoothstep(0.06, 0.17, np.abs(hx))


def make_portrait(size: int = 512) -> Image.Image:
    """Return a deterministic, photo-like synthetic portrait (RGB, size x size)."""
    rng = np.random.default_rng(20240611)
    n = size * SS
    px = 1.0 / n  # one canvas pixel in unit coordinates
    coords = (np.arange(n, dtype=np.float32) + 0.5) / n
    x, y = np.meshgrid(coords, coords)
    edge = 2.0 * px  # default anti-aliased edge width

    img = _background(x, y, rng, px)
    # the figure is modelled in its own frame, scaled up a little about the face
    zoom = 1.12
    x, y = 0.5 + (x - 0.5) / zoom, 0.40 + (y - 0.40) / zoom

    # ---- head geometry (needed for the hair / shoulders / shadows too)
    ex, ey, head_sdf = _head_geometry(x, y)
    head = _cover(head_sdf, edge)

    # ---- hair silhouette: a bob framing the face
    hx = x - 0.5
    hair_sdf = _ellipse_sdf(x, y, 0.5, 0.39, 0.205, 0.245)
    cut = 0.565 + 0.03 * np.cos(hx * 9) + 0.004 * np.sin(hx * 170) + 0.003 * np.sin(hx * 97 + 1)
    hair_sdf = np.maximum(hair_sdf, y - cut)  # ragged ends at jaw level
    hair = _cover(hair_sdf, 3 * px)
    # hairline: a side part on the left, fringe sweeping right
    front = _cover(y - _hairline(x), 4 * px) * head  # hair on top of the face
    side_open = _cover(np.abs(hx) - (0.135 - 0.1 * _smoothstep(0.5, 0.58, y)), 3 * px)
    # ---- neck and shoulders geometry (sweater with a V neck)
    neck_sdf = np.maximum(np.abs(x - 0.5) - (0.060 + 0.05 * _smoothstep(0.64, 0.74, y) ** 2), 0.50 - y)
    neck = _cover(neck_sdf, edge)
    ax = np.abs(x - 0.5)
    trap = np.maximum(0.695 + 0.5 * np.maximum(ax - 0.07, 0) ** 1.1 - y, ax - 0.32)
    delt = _ellipse_sdf(ax, y, 0.285, 0.91, 0.09, 0.135)
    torso = np.maximum(ax - 0.365, 0.91 - y)
    body_sdf = _smin(_smin(trap, delt, 0.04), torso, 0.03)
    vneck = np.maximum(ax - 0.6 * (0.80 - y), y - 0.80)
    vneck = np.maximum(vneck, 0.68 - y)
    body = _cover(body_sdf, 3 * px) * (1 - _cover(vneck, 3 * px))

    # soft drop shadow of the figure onto the wall (light from upper left)
    fig = np.clip(hair + head + neck + _cover(body_sdf, 3 * px), 0, 1)
    dx, dy = int(0.035 * n), int(0.02 * n)
    shadow = np.zeros_like(fig)
    shadow[dy:, dx:] = fig[:-dy, :-dx]
    img = img * (1.0 - 0.35 * _blur(shadow, 14 * px))[..., None]

    # ---- back hair (behind neck and face)
    hair_base = np.array([0.20, 0.12, 0.07], np.float32)
    hnx = np.clip(hx / 0.22, -1, 1)
    hny = np.clip((y - 0.36) / 0.28, -1, 1)
    hair_col, hair_lit = _skin_shade(hnx, hny, hair_base * 1.3, ambient=0.45)
    img = _over(img, hair_col * 0.8, hair)

    # ---- neck
    skin = np.array([0.93, 0.72, 0.60], np.float32)
    neck_col, _ = _skin_shade(np.clip((x - 0.5) / 0.12, -1, 1) * 0.9, np.full_like(y, 0.1), skin * 0.92)
    chin_shadow = _gauss(x, y, 0.515, 0.595, 0.085, 0.03)
    collarbone = _gauss(x, y, 0.44, 0.705, 0.035, 0.005, 0.3) + _gauss(x, y, 0.56, 0.705, 0.035, 0.005, -0.3)
    neck_col = neck_col * (1 - 0.5 * chin_shadow - 0.15 * collarbone)[..., None]
    img = _over(img, neck_col, neck)

    # ---- sweater
    cloth = np.array([0.16, 0.24, 0.42], np.float32)
    bnx = np.clip((x - 0.5) / 0.55, -1, 1)
    bny = np.clip(-0.7 + 0.9 * _smoothstep(0.68, 1.0, y), -1, 1)
    cloth_col, _ = _skin_shade(bnx, bny, cloth, ambient=0.35)
    # soft knit texture + a few fabric folds
    knit = 0.5 + 0.5 * np.sin(x * n * 0.55) * np.sin(y * n * 0.3)
    folds = (_gauss(x, y, 0.30, 0.90, 0.012, 0.09, 0.5) + _gauss(x, y, 0.71, 0.90, 0.014, 0.10, -0.45)
             + 0.7 * _gauss(x, y, 0.45, 0.95, 0.01, 0.06, 0.15))
    cloth_col = cloth_col * (0.94 + 0.06 * knit)[..., None] * (1 - 0.35 * folds)[..., None]
    # ribbed collar band along the V
    band = _cover(np.abs(vneck + 0.012) - 0.011, 2 * px) * _cover(body_sdf, 3 * px)
    cloth_col = _over(cloth_col, cloth_col * 1.3, band * 0.7)
    img = _over(img, cloth_col, body)
    # shadow cast by the head onto the chest
    img = img * (1 - 0.3 * _gauss(x, y, 0.55, 0.71, 0.12, 0.025) * body)[..., None]

    # ---- face skin with shading
    face_col, _ = _skin_shade(ex * 0.92, ey * 0.8, skin)
    # blush, eye sockets, nose, under-lip and chin modelling
    face_col = _over(face_col, [0.85, 0.45, 0.42], 0.22 * (_gauss(x, y, 0.415, 0.475, 0.03, 0.022) + _gauss(x, y, 0.59, 0.475, 0.03, 0.022)))
    socket = _gauss(x, y, 0.435, 0.395, 0.035, 0.022) + _gauss(x, y, 0.565, 0.395, 0.035, 0.022)
    nose_side = _gauss(x, y, 0.521, 0.452, 0.008, 0.032, 0.12)  # shadow side of the bridge
    nose_tip_sh = _gauss(x, y, 0.512, 0.488, 0.016, 0.008, -0.2)
    under_nose = _gauss(x, y, 0.503, 0.501, 0.018, 0.005)
    philtrum = _gauss(x, y, 0.503, 0.513, 0.005, 0.008)
    under_lip = _gauss(x, y, 0.50, 0.568, 0.028, 0.007)
    temple = _gauss(x, y, 0.64, 0.42, 0.03, 0.12)
    jaw = _gauss(x, y, 0.60, 0.56, 0.04, 0.05, -0.6)
    dark = (0.22 * socket + 0.28 * nose_side + 0.2 * nose_tip_sh + 0.4 * under_nose + 0.1 * philtrum
            + 0.25 * under_lip + 0.25 * temple + 0.2 * jaw)
    face_col = face_col * (1 - np.clip(dark, 0, 0.7))[..., None]
    bridge = _gauss(x, y, 0.498, 0.445, 0.005, 0.035) + 0.9 * _gauss(x, y, 0.497, 0.478, 0.008, 0.007)
    cheek_hi = _gauss(x, y, 0.42, 0.445, 0.025, 0.018) + 0.6 * _gauss(x, y, 0.45, 0.31, 0.05, 0.03)
    chin_hi = _gauss(x, y, 0.49, 0.595, 0.02, 0.012)
    face_col = face_col + (0.10 * bridge + 0.08 * cheek_hi + 0.05 * chin_hi)[..., None] * np.array([1.0, 0.95, 0.9])
    img = _over(img, face_col, head)

    # nostrils
    nostrils = _gauss(x, y, 0.487, 0.494, 0.006, 0.0035, 0.35) + _gauss(x, y, 0.519, 0.494, 0.006, 0.0035, -0.35)
    alae = _gauss(x, y, 0.479, 0.486, 0.004, 0.009, -0.4) + _gauss(x, y, 0.527, 0.486, 0.004, 0.009, 0.4)
    img = img * (1 - 0.5 * np.clip(nostrils, 0, 1) - 0.2 * alae)[..., None]

    # ---- eyes
    for side in (-1, 1):
        ecx, ecy = 0.5 + side * 0.066, 0.405
        tilt = side * 0.08
        c, s = np.cos(tilt), np.sin(tilt)
        u = c * (x - ecx) + s * (y - ecy)
        v = -s * (x - ecx) + c * (y - ecy)
        hw = 0.034
        t = np.clip(u / hw, -1, 1)
        top = -0.016 * (1 - t**2) ** 0.8 * (1 - 0.15 * side * t)
        bottom = 0.009 * (1 - t**2) ** 0.9
        eye_sdf = np.maximum(np.maximum(top - v, v - bottom), np.abs(u) - hw)
        eye = _cover(eye_sdf, 1.5 * px)
        sclera = np.array([0.90, 0.87, 0.84]) * (1 - 0.35 * _smoothstep(0.4, 1.0, np.abs(t)))[..., None]
        sclera = sclera * (1 - 0.25 * _smoothstep(0.0, -0.014, v))[..., None]  # lid shadow
        img = _over(img, sclera, eye)
        # iris + pupil, looking slightly to the left
        icx, icy = ecx - 0.004, ecy - 0.002
        rr = np.hypot(x - icx, y - icy)
        ir = 0.0145
        iris_col = np.array([0.28, 0.36, 0.22]) * (0.55 + 0.9 * _smoothstep(ir, 0.3 * ir, rr))[..., None]
        iris_col = iris_col * (1 - 0.5 * _smoothstep(0.7 * ir, ir, rr))[..., None]  # limbal ring
        fib = 0.85 + 0.15 * np.sin(np.arctan2(y - icy, x - icx) * 23)
        iris_col = iris_col * fib[..., None] * (1 - 0.4 * _smoothstep(0.0, -0.012, v))[..., None]
        img = _over(img, iris_col, eye * _cover(rr - ir, 1.5 * px))
        img = _over(img, [0.03, 0.02, 0.02], eye * _cover(rr - 0.0055, 1.5 * px))
        img = _over(img, [1.0, 1.0, 0.97], 0.9 * eye * _cover(np.hypot(x - icx + 0.004, y - icy + 0.004) - 0.0025, 1.2 * px))
        # upper lid line / lashes, and crease
        lid = _cover(np.abs(v - top + 0.0015) - 0.0022 * (1 - t**2) ** 0.5, 1.5 * px) * (np.abs(u) < hw * 1.08)
        img = _over(img, [0.08, 0.05, 0.04], 0.9 * lid)
        crease = _cover(np.abs(v - top * 1.75 + 0.004) - 0.0012, 3 * px) * (1 - t**2)
        img = img * (1 - 0.3 * crease)[..., None]
        lower = _cover(np.abs(v - bottom - 0.0015) - 0.001, 2 * px) * (1 - t**2)
        img = img * (1 - 0.2 * lower)[..., None]

    # ---- eyebrows: short strokes following an arch
    brow_strokes = []
    for side in (-1, 1):
        for i in range(140):
            a = rng.uniform(0, 1) ** 0.8
            bx = 0.5 + side * (0.030 + 0.075 * a)
            by = 0.366 - 0.016 * np.sin(np.pi * (0.2 + 0.8 * a)) + rng.normal(0, 0.0015)
            by += rng.uniform(-1, 1) * 0.004 * (1 - 0.6 * a)
            ang = 0.9 * (1 - a) + 0.15 + rng.normal(0, 0.12)  # hairs rise near the nose, lie flat outside
            L = rng.uniform(0.008, 0.014)
            pts = [(bx, by + 0.002), (bx + side * L * np.cos(ang), by + 0.002 - L * np.sin(ang) * 0.6)]
            brow_strokes.append((pts, rng.uniform(120, 230)))
        # soft underlying brow tone
        bx = 0.5 + side * 0.067
        img = img * (1 - 0.4 * _gauss(x, y, bx, 0.357, 0.036, 0.0055, side * 0.12))[..., None]
    brows = _strand_layer(n, brow_strokes, 3, zoom)
    img = _over(img, [0.17, 0.11, 0.08], 0.9 * _blur(brows, 0.6 * px))

    # ---- mouth
    mcx, mcy, mhw = 0.503, 0.535, 0.048
    t = np.clip((x - mcx) / mhw, -1, 1)
    env = np.sqrt(np.clip(1 - t**2, 0, 1))
    mid = mcy - 0.006 * t**2 + 0.0015
    upper_top = mid - 0.016 * env * (1 - 0.35 * np.exp(-(t / 0.18) ** 2)) - 0.001
    lower_bot = mid + 0.019 * env ** 0.8
    inside = np.abs(x - mcx) < mhw
    up = _cover(np.maximum(upper_top - y, y - mid), 2 * px) * inside
    lo = _cover(np.maximum(mid - y, y - lower_bot), 2 * px) * inside
    # lips tint the shaded skin underneath (multiplicative), so lighting carries over
    fade = 1 - 0.3 * _smoothstep(0.4, 1.0, np.abs(t))
    lo_tint = np.array([0.90, 0.62, 0.60]) * (1.05 - 0.25 * _smoothstep(0.0, 1.0, (y - mid) / 0.019))[..., None]
    up_tint = np.array([0.74, 0.48, 0.47])
    up, lo = _blur(up, 1.5 * px), _blur(lo, 1.5 * px)
    img = img * (1 - (up * fade)[..., None] * (1 - up_tint))
    img = img * (1 - (lo * fade)[..., None] * (1 - lo_tint))
    img = _over(img, [1.0, 0.85, 0.82], 0.3 * _gauss(x, y, 0.49, mid + 0.008, 0.012, 0.003) * lo)
    line = _cover(np.abs(y - mid) - 0.0012 * env, 1.5 * px) * inside
    img = _over(img, [0.32, 0.12, 0.11], 0.75 * line)
    corners = _gauss(x, y, mcx - mhw, mid - 0.003, 0.004, 0.004) + _gauss(x, y, mcx + mhw, mid - 0.003, 0.004, 0.004)
    img = img * (1 - 0.3 * corners)[..., None]

    # ---- hair strands (texture over the whole hair mass, incl. fringe)
    def hair_strand(s, t0, t1, wobble):
        """A strand from near the parting, over the skull, falling straight down."""
        side = -1 if rng.uniform() < 0.4 else 1
        rx = 0.155 if side < 0 else 0.255  # the parting is left of centre
        ts = np.linspace(t0, t1, 28)
        sx = 0.45 + side * rx * s * np.sin(np.minimum(ts, np.pi / 2))
        sx = sx * (1 + wobble * np.sin(ts * 5 + rng.uniform(0, 6)))
        sy = np.where(ts > np.pi / 2, 0.40 + 0.3 * (ts - np.pi / 2), 0.40 - 0.25 * s * np.cos(ts))
        return list(zip(sx + rng.normal(0, 0.002), sy))

    strands = [(hair_strand(rng.uniform(0.35, 1.08), rng.uniform(0, 0.25), rng.uniform(1.6, 2.2), 0.01),
                rng.uniform(60, 255)) for _ in range(1100)]
    dark_strands = [(hair_strand(rng.uniform(0.3, 1.08), rng.uniform(0, 0.4), rng.uniform(1.5, 2.2), 0.0),
                     rng.uniform(80, 255)) for _ in range(600)]
    light = _blur(_strand_layer(n, strands, 2, zoom), 0.5 * px)
    darkl = _blur(_strand_layer(n, dark_strands, 3, zoom), 0.7 * px)
    # fringe: hair sweeping from the part across the forehead
    fringe = []
    for i in range(260):
        a = rng.uniform(0, 1)
        x0 = 0.44 + rng.normal(0, 0.01)
        y0 = 0.20 + rng.normal(0, 0.01)
        x1 = 0.33 + 0.38 * a
        y1 = float(_hairline(x1)) + rng.normal(0.0, 0.004)
        ctrl = (0.5 * (x0 + x1) + 0.02, min(y0, y1) - 0.01)
        ts = np.linspace(0, 1, 20)[:, None]
        p = (1 - ts) ** 2 * np.array([x0, y0]) + 2 * ts * (1 - ts) * np.array(ctrl) + ts**2 * np.array([x1, y1])
        fringe.append(([tuple(q) for q in p], rng.uniform(70, 255)))
    fr = _blur(_strand_layer(n, fringe, 2, zoom), 0.5 * px)

    hair_mask = np.clip(hair * (1 - head * (1 - front)) * (1 - side_open * head) + front, 0, 1)
    hair_front = hair_col * (0.8 - 0.4 * darkl + 0.8 * light + 0.6 * fr * hair_lit - 0.2 * fr * (1 - hair_lit))[..., None]
    hair_front = hair_front + (0.12 * light * hair_lit**2)[..., None] * np.array([1.0, 0.8, 0.6])  # sheen
    img = _over(img, np.clip(hair_front, 0, 1), hair_mask)
    # soft contact shadow of the hair on the face
    hs = _blur(hair_mask, 5 * px) * head * (1 - hair_mask)
    img = img * (1 - 0.45 * hs)[..., None]
    # a few flyaway hairs breaking the silhouette
    fly = []
    for i in range(40):
        ang = rng.uniform(-2.6, -0.4)
        r0 = rng.uniform(0.96, 1.0)
        x0, y0 = 0.5 + 0.205 * r0 * np.cos(ang), 0.39 + 0.245 * r0 * np.sin(ang)
        ts = np.linspace(0, 1, 12)
        bend = rng.normal(0, 0.02)
        L = rng.uniform(0.02, 0.05)
        pts = [(x0 + np.cos(ang) * L * q + bend * q * q, y0 + np.sin(ang) * L * q) for q in ts]
        fly.append((pts, rng.uniform(90, 200)))
    fl = _blur(_strand_layer(n, fly, 1, zoom), 0.4 * px)
    img = _over(img, hair_col * 1.3, 0.6 * fl)

    # ---- photographic finish: slight lens softness, vignette, grain
    img = _blur(img, 0.6 * px)
    vign = 1.0 - 0.22 * _smoothstep(0.35, 0.85, np.hypot(x - 0.5, y - 0.45))
    img = img * vign[..., None]
    img = _downsample(img.astype(np.float32), SS)
    g = rng.standard_normal(img.shape[:2]).astype(np.float32)
    grain = 0.010 * _blur(g, 0.6)[..., None]
    img = img + grain
    img = np.clip(img, 0.0, 1.0) ** (1 / 1.05)
    return Image.fromarray((img * 255.0 + 0.5).astype(np.uint8), "RGB")


# ----------------------------------------------------------------------------
# simple test image
# ----------------------------------------------------------------------------
def make_shapes(size: int = 128) -> Image.Image:
    """Return a small deterministic test image: flat anti-aliased shapes."""
    n = size * 4
    c = (np.arange(n, dtype=np.float32) + 0.5) / n
    x, y = np.meshgrid(c, c)
    aa = 1.5 / n
    img = np.empty((n, n, 3), np.float32)
    img[:] = [0.92, 0.90, 0.82]
    img[y > 0.62 - 0.12 * x] = [0.28, 0.36, 0.45]  # two-tone background
    img = _over(img, [0.86, 0.22, 0.18], _cover(np.hypot(x - 0.30, y - 0.32) - 0.18, aa))
    img = _over(img, [0.98, 0.78, 0.15], _cover(np.hypot(x - 0.72, y - 0.70) - 0.14, aa))

    def tri_sdf(p0, p1, p2):
        # max of signed edge distances (exact enough for a convex triangle)
        pts = [np.asarray(p, np.float32) for p in (p0, p1, p2)]
        u, w = pts[1] - pts[0], pts[2] - pts[0]
        area = u[0] * w[1] - u[1] * w[0]
        d = None
        for a, b in ((pts[0], pts[1]), (pts[1], pts[2]), (pts[2], pts[0])):
            e = b - a
            nrm = np.array([-e[1], e[0]]) / np.hypot(*e) * np.sign(area)
            di = -((x - a[0]) * nrm[0] + (y - a[1]) * nrm[1])
            d = di if d is None else np.maximum(d, di)
        return d

    img = _over(img, [0.20, 0.55, 0.30], _cover(tri_sdf((0.58, 0.10), (0.92, 0.18), (0.70, 0.46)), aa))
    img = _over(img, [0.35, 0.25, 0.60], _cover(tri_sdf((0.10, 0.90), (0.45, 0.62), (0.40, 0.95)), aa))
    img = _downsample(img, 4)
    return Image.fromarray((np.clip(img, 0, 1) * 255.0 + 0.5).astype(np.uint8), "RGB")


def main() -> None:
    here = Path(__file__).resolve().parent
    make_portrait(512).save(here / "portrait.png", optimize=True)
    make_shapes(128).save(here / "shapes.png", optimize=True)
    for name in ("portrait.png", "shapes.png"):
        p = here / name
        print(f"wrote {p} ({p.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
