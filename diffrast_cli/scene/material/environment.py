"""Environment lighting of docs/pbr.md: prefiltering an equirectangular image on the CPU.

Convention (docs/pbr.md): a world direction d, after rotating it by -rotation
degrees about +y, maps to u = 0.5 + atan2(d.x, -d.z) / (2 pi), v = acos(d.y) / pi,
v = 0 at the top row (+y). Texel (i, j) of a W x H map has its centre at
u = (i + 0.5) / W, v = (j + 0.5) / H. Sampling is bilinear between texel centres,
repeating in u and clamped in v, as GL_LINEAR with GL_REPEAT / GL_CLAMP_TO_EDGE.

* irradiance: the cosine-convolved radiance divided by pi (a constant L gives L),
  a direct sum over a solid-angle-weighted downsampled source.
* specular: K levels for perceptual roughness r_k = k / (K - 1); level 0 is the
  image resampled (a mirror), level k > 0 the GGX-filtered radiance with N = V = R
  (alpha = max(r_k, 0.045)^2): int L(l) D(h) max(N.l, 0) dl / int D(h) max(N.l, 0) dl.
  Levels whose lobe is wide enough are a direct sum over a solid-angle-weighted
  downsampled source (texels under a third of alpha); the sharpest use filtered
  importance sampling (Hammersley points, a mip level of the source per sample).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Environment:
    irradiance: np.ndarray     # (h, w, 3) float32: cosine-convolved radiance / pi
    specular: np.ndarray       # (K, h, w, 3) float32: level k = GGX-prefiltered radiance for r = k / (K - 1)

    @property
    def roughness_levels(self) -> np.ndarray:
        k = self.specular.shape[0]
        return np.linspace(0.0, 1.0, k) if k > 1 else np.zeros(1)


# ---- the equirectangular convention

def rotate_y(d: np.ndarray, degrees: float) -> np.ndarray:
    """Directions (N, 3) rotated by ``degrees`` about +y (right-handed: +x turns towards -z)."""
    a = np.radians(degrees)
    c, s = np.cos(a), np.sin(a)
    d = np.asarray(d, np.float64)
    return np.stack([c * d[..., 0] + s * d[..., 2], d[..., 1], -s * d[..., 0] + c * d[..., 2]], axis=-1)


def direction_to_uv(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit directions (..., 3) -> (u, v) of docs/pbr.md (no rotation)."""
    d = np.asarray(d, np.float64)
    u = 0.5 + np.arctan2(d[..., 0], -d[..., 2]) / (2 * np.pi)
    v = np.arccos(np.clip(d[..., 1], -1.0, 1.0)) / np.pi
    return u, v


def uv_to_direction(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The inverse of direction_to_uv: (u, v) -> unit directions (..., 3)."""
    u, v = np.broadcast_arrays(np.asarray(u, np.float64), np.asarray(v, np.float64))
    theta, phi = np.pi * v, 2 * np.pi * (u - 0.5)
    st = np.sin(theta)
    return np.stack([st * np.sin(phi), np.cos(theta), -st * np.cos(phi)], axis=-1)


def texel_directions(width: int, height: int) -> np.ndarray:
    """(height, width, 3) unit directions of the texel centres of a width x height map."""
    u = (np.arange(width) + 0.5) / width
    v = (np.arange(height) + 0.5) / height
    return uv_to_direction(u[None, :], v[:, None])


def row_solid_angles(width: int, height: int) -> np.ndarray:
    """(height,) exact solid angle of one texel in each row (sum over the map = 4 pi)."""
    edges = np.cos(np.pi * np.arange(height + 1) / height)
    return (edges[:-1] - edges[1:]) * (2 * np.pi / width)


def sample_bilinear(texture: np.ndarray, u: np.ndarray, v: np.ndarray, layer=None) -> np.ndarray:
    """Bilinear lookup of texture (h, w, C) (or (L, h, w, C) with ``layer`` (N,) ints) at (u, v).

    Texel centres at (i + 0.5) / w; u repeats, v is clamped to the edge texels."""
    tex = np.asarray(texture)
    h, w = tex.shape[-3], tex.shape[-2]
    x = np.asarray(u, np.float64) * w - 0.5
    y = np.asarray(v, np.float64) * h - 0.5
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = (x - x0)[..., None], (y - y0)[..., None]
    i0 = np.mod(x0.astype(np.int64), w)
    i1 = np.mod(i0 + 1, w)
    j0 = np.clip(y0.astype(np.int64), 0, h - 1)
    j1 = np.clip(y0.astype(np.int64) + 1, 0, h - 1)
    if layer is None:
        def at(j, i):
            return tex[j, i]
    else:
        k = np.asarray(layer, np.int64)

        def at(j, i):
            return tex[k, j, i]
    top = at(j0, i0) * (1 - fx) + at(j0, i1) * fx
    bottom = at(j1, i0) * (1 - fx) + at(j1, i1) * fx
    return top * (1 - fy) + bottom * fy


# ---- resampling and prefiltering

def resample_equirect(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """An equirectangular image resampled to size = (width, height), float64.

    Integer reduction factors average the source texels weighted by their solid
    angle (energy-preserving); what is left is a bilinear lookup at the new texel centres."""
    img = np.asarray(image, np.float64)
    w, h = size
    fy, fx = max(img.shape[0] // h, 1), max(img.shape[1] // w, 1)
    if fy > 1 or fx > 1:
        hh, ww = img.shape[0] // fy, img.shape[1] // fx
        src = img
        if (hh * fy, ww * fx) != img.shape[:2]:     # not a multiple: bilinear to the multiple first
            src = resample_equirect(img, (ww * fx, hh * fy))
        weight = row_solid_angles(src.shape[1], src.shape[0])[:, None, None]
        num = (src * weight).reshape(hh, fy, ww, fx, -1).sum(axis=(1, 3))
        den = np.broadcast_to(weight, src.shape[:2] + (1,)).reshape(hh, fy, ww, fx, 1).sum(axis=(1, 3))
        img = num / den
    if img.shape[:2] == (h, w):
        return img
    u = (np.arange(w) + 0.5) / w
    v = (np.arange(h) + 0.5) / h
    return sample_bilinear(img, np.broadcast_to(u[None, :], (h, w)), np.broadcast_to(v[:, None], (h, w)))


def _irradiance(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    w, h = size
    src_w, src_h = min(image.shape[1], 128), min(image.shape[0], 64)
    src = resample_equirect(image, (src_w, src_h)).reshape(-1, 3)
    src_dirs = texel_directions(src_w, src_h).reshape(-1, 3)
    omega = np.repeat(row_solid_angles(src_w, src_h), src_w)
    out_dirs = texel_directions(w, h).reshape(-1, 3)
    cosine = np.maximum(out_dirs @ src_dirs.T, 0.0) * omega          # (h*w, src)
    # divided by the quadrature's own integral of the cosine (pi in the limit): a constant L gives L exactly
    return ((cosine @ src) / cosine.sum(axis=1, keepdims=True)).reshape(h, w, 3)


def hammersley(count: int) -> np.ndarray:
    """(count, 2) Hammersley points in [0, 1)^2 (i / n, base-2 radical inverse of i)."""
    i = np.arange(count, dtype=np.uint64)
    bits = np.zeros(count, np.float64)
    scale, rest = 0.5, i.copy()
    for _ in range(32):
        bits += (rest & np.uint64(1)).astype(np.float64) * scale
        rest >>= np.uint64(1)
        scale *= 0.5
    return np.stack([(i.astype(np.float64) + 0.5) / count, bits], axis=1)


def _tangent_frames(n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    up = np.where(np.abs(n[:, 1:2]) < 0.999, np.array([[0.0, 1.0, 0.0]]), np.array([[0.0, 0.0, 1.0]]))
    t = np.cross(up, n)
    t /= np.linalg.norm(t, axis=1, keepdims=True)
    return t, np.cross(n, t)


def _mip_pyramid(image: np.ndarray):
    """Levels of the source (each halved, solid-angle weighted) packed flat: (flat, widths, heights, offsets)."""
    levels = [np.asarray(image, np.float64)]
    while levels[-1].shape[0] > 1 and levels[-1].shape[1] > 1:
        h, w = levels[-1].shape[:2]
        levels.append(resample_equirect(levels[-1], (max(w // 2, 1), max(h // 2, 1))))
    widths = np.array([lv.shape[1] for lv in levels])
    heights = np.array([lv.shape[0] for lv in levels])
    offsets = np.concatenate([[0], np.cumsum(widths * heights)[:-1]])
    flat = np.concatenate([lv.reshape(-1, 3) for lv in levels]).astype(np.float32)   # float32: half the traffic
    return flat, widths, heights, offsets


def _pyramid_bilinear(pyr, u, v, level):
    flat, widths, heights, offsets = pyr
    w, h, off = widths[level], heights[level], offsets[level]
    x, y = u * w - 0.5, v * h - 0.5
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = (x - x0).astype(np.float32)[..., None], (y - y0).astype(np.float32)[..., None]
    i0 = np.mod(x0.astype(np.int64), w)
    i1 = np.mod(i0 + 1, w)
    row0 = off + np.clip(y0.astype(np.int64), 0, h - 1) * w
    row1 = off + np.clip(y0.astype(np.int64) + 1, 0, h - 1) * w
    top = flat[row0 + i0] * (1 - fx) + flat[row0 + i1] * fx
    bottom = flat[row1 + i0] * (1 - fx) + flat[row1 + i1] * fx
    return top * (1 - fy) + bottom * fy


def _ggx_direct(image: np.ndarray, dirs: np.ndarray, alpha: float, src_height: int) -> np.ndarray:
    """The GGX-filtered radiance as a direct sum over a solid-angle-weighted downsampled source.

    With N = V, n.h = sqrt((1 + n.l) / 2), so the weight D(h) max(n.l, 0) dOmega_l depends on n.l only."""
    src_h = min(src_height, image.shape[0])
    src_w = min(2 * src_h, image.shape[1])
    src = resample_equirect(image, (src_w, src_h)).reshape(-1, 3).astype(np.float32)
    src_dirs = texel_directions(src_w, src_h).reshape(-1, 3).astype(np.float32)
    omega = np.repeat(row_solid_angles(src_w, src_h), src_w).astype(np.float32)
    a2 = np.float32(alpha * alpha)
    out = np.empty((len(dirs), 3))
    for start in range(0, len(dirs), 1024):
        c = dirs[start:start + 1024].astype(np.float32) @ src_dirs.T
        np.maximum(c, 0, out=c)
        denom = (1 + c) * ((a2 - 1) / 2) + 1                # nh^2 (a2 - 1) + 1
        weight = c / (denom * denom) * omega                # D up to the constant a2 / pi
        out[start:start + 1024] = (weight @ src) / weight.sum(axis=1, keepdims=True)
    return out


def _ggx_level(pyr, dirs: np.ndarray, alpha: float, samples: int) -> np.ndarray:
    """The GGX-filtered radiance by filtered importance sampling of the source pyramid."""
    a2 = alpha * alpha
    xi = hammersley(samples)
    cos_h = np.sqrt((1 - xi[:, 0]) / (1 + (a2 - 1) * xi[:, 0]))
    sin_h = np.sqrt(np.maximum(1 - cos_h ** 2, 0.0))
    phi = 2 * np.pi * xi[:, 1]
    h_local = np.stack([sin_h * np.cos(phi), sin_h * np.sin(phi), cos_h], axis=1)
    l_local = 2 * cos_h[:, None] * h_local - np.array([0.0, 0.0, 1.0])     # reflect V = N about H
    keep = l_local[:, 2] > 0
    l_local, cos_h = l_local[keep], cos_h[keep]
    n_dot_l = l_local[:, 2]
    d = a2 / (np.pi * (cos_h ** 2 * (a2 - 1) + 1) ** 2)
    omega_sample = 4.0 / (samples * d)                                     # 1 / (M pdf), pdf = D / 4 (N = V)
    t, b = _tangent_frames(dirs)
    l_world = (t[:, None, :] * l_local[None, :, 0:1] + b[:, None, :] * l_local[None, :, 1:2]
               + dirs[:, None, :] * l_local[None, :, 2:3])                 # (P, S, 3)
    u, v = direction_to_uv(l_world)
    flat, widths, heights, _ = pyr
    sin_theta = np.maximum(np.sqrt(np.maximum(1 - l_world[..., 1] ** 2, 0.0)), np.sin(np.pi / (2 * heights[0])))
    omega_texel = 2 * np.pi * np.pi / (widths[0] * heights[0]) * sin_theta
    lod = np.clip(0.5 * np.log2(omega_sample[None, :] / omega_texel) + 1.0, 0.0, len(widths) - 1)
    l0 = np.floor(lod).astype(np.int64)
    l1 = np.minimum(l0 + 1, len(widths) - 1)
    f = (lod - l0).astype(np.float32)[..., None]
    radiance = _pyramid_bilinear(pyr, u, v, l0) * (1 - f) + _pyramid_bilinear(pyr, u, v, l1) * f
    weights = (n_dot_l / n_dot_l.sum()).astype(np.float32)
    return (radiance * weights[None, :, None]).sum(axis=1, dtype=np.float64)


DIRECT_SUM_MAX_HEIGHT = 64    # rougher levels (alpha >= 3 pi / 64) are a direct sum over a <= 128x64 source


def prefilter_environment(image: np.ndarray, levels: int = 6, spec_size: tuple[int, int] = (128, 64),
                          irr_size: tuple[int, int] = (32, 16), samples: int = 64) -> Environment:
    """Irradiance and GGX-prefiltered specular maps of an equirectangular linear RGB image (H, W, 3).

    Sizes are (width, height); ``samples`` GGX samples per texel and level."""
    image = np.asarray(image, np.float64)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) image, got shape {image.shape}")
    if levels < 1:
        raise ValueError("levels must be at least 1")
    w, h = spec_size
    spec = np.empty((levels, h, w, 3), np.float32)
    spec[0] = resample_equirect(image, spec_size)
    if levels > 1:
        pyr = _mip_pyramid(image)
        dirs = texel_directions(w, h).reshape(-1, 3)
        for k in range(1, levels):
            alpha = max(k / (levels - 1), 0.045) ** 2
            src_height = 2 ** int(np.ceil(np.log2(3 * np.pi / alpha)))     # source texels below a third of the lobe
            if src_height <= DIRECT_SUM_MAX_HEIGHT:
                spec[k] = _ggx_direct(image, dirs, alpha, src_height).reshape(h, w, 3)
            else:
                spec[k] = _ggx_level(pyr, dirs, alpha, samples).reshape(h, w, 3)
    return Environment(irradiance=_irradiance(image, irr_size).astype(np.float32), specular=spec)


# ---- lookups (what the GLSL does with the uploaded textures)

def irradiance_at(env: Environment, n: np.ndarray, rotation_deg: float = 0.0) -> np.ndarray:
    """Irr(N) of docs/pbr.md for unit normals n (N, 3): (N, 3)."""
    u, v = direction_to_uv(rotate_y(n, -rotation_deg))
    return sample_bilinear(env.irradiance, u, v)


def specular_at(env: Environment, r_dir: np.ndarray, roughness: np.ndarray, rotation_deg: float = 0.0) -> np.ndarray:
    """Spec(R, r) of docs/pbr.md: bilinear within a level, linear between levels r_k = k / (K - 1)."""
    u, v = direction_to_uv(rotate_y(r_dir, -rotation_deg))
    k_max = env.specular.shape[0] - 1
    x = np.clip(np.asarray(roughness, np.float64), 0.0, 1.0) * k_max
    k0 = np.minimum(np.floor(x).astype(np.int64), k_max)
    k1 = np.minimum(k0 + 1, k_max)
    f = (x - k0)[..., None]
    return sample_bilinear(env.specular, u, v, k0) * (1 - f) + sample_bilinear(env.specular, u, v, k1) * f


# ---- the project's own sky

def procedural_sky(width: int = 512, height: int = 256, sun_dir=(0.4, 0.55, -0.73), sun_color=(1.0, 0.95, 0.85),
                   sun_irradiance: float = 3.0, sun_radius_deg: float = 2.0, zenith_color=(0.18, 0.32, 0.65),
                   horizon_color=(0.75, 0.82, 0.92), ground_color=(0.22, 0.2, 0.18)) -> np.ndarray:
    """(height, width, 3) float32 linear RGB: a gradient sky, a darker ground and a small bright sun disk.

    The sun disk (antialiased over about one texel) is scaled so that a surface facing it
    receives ``sun_irradiance * sun_color`` from it, whatever the resolution."""
    d = texel_directions(width, height)
    y = d[..., 1:2]
    sky = np.asarray(horizon_color) + (np.asarray(zenith_color) - np.asarray(horizon_color)) * np.sqrt(np.clip(y, 0, 1))
    ground = np.asarray(ground_color) * (1.0 - 0.3 * np.clip(-y, 0, 1))
    blend = np.clip(y / 0.02 + 0.5, 0.0, 1.0)                  # a soft horizon line
    img = ground + (sky - ground) * blend
    s = np.asarray(sun_dir, np.float64)
    s /= np.linalg.norm(s)
    angle = np.arccos(np.clip(d @ s, -1.0, 1.0))
    edge = np.pi / height                                      # one texel
    disk = np.clip((np.radians(sun_radius_deg) + edge / 2 - angle) / edge, 0.0, 1.0)
    omega = row_solid_angles(width, height)[:, None]
    power = (disk * omega * np.maximum(d @ s, 0.0)).sum()
    if power > 0:
        img = img + disk[..., None] * (sun_irradiance / power) * np.asarray(sun_color)
    return img.astype(np.float32)
