"""Voxel grids of density and colour: node layout, trilinear sampling and the emission-absorption
ray march, in numpy (the reference the GPU passes are tested against, and the ground truth of
procedural targets). Every rule here is mirrored by glsl/scene/volume/volume_common.glsl.

Nodes: (nx, ny, nz) values on the box [lo, hi]; node (i, j, k) at lo + (i, j, k) / (n - 1) *
(hi - lo); flat index i + nx (j + ny k). A point samples the 8 nodes of the cell it lies in
(trilinear; cells clamped to the grid). A ray enters the box at t0 (or starts at its origin
inside), leaves at t1, and takes samples at t0 + (m + j) * step, m = 0, 1, ... while < t1, with
j in [0, 1) the jitter (0.5 for clean renders). Each sample: density s (trilinear of the node
densities), alpha = 1 - exp(-s * step), colour c (trilinear, clamped to [0, 1]); C += T alpha c, T *= 1 - alpha; the ray stops when T < termination;
the pixel is C + T * background. (The scene kind's parameters are log densities: node density
= exp(theta).)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class GridSpec:
    sides: tuple[int, int, int]
    lo: np.ndarray
    hi: np.ndarray
    step_voxels: float = 0.5
    termination: float = 1e-3

    @property
    def nodes(self) -> int:
        return int(np.prod(self.sides))

    @property
    def voxel(self) -> np.ndarray:
        return (self.hi - self.lo) / (np.asarray(self.sides) - 1)

    @property
    def step(self) -> float:
        """World length of one march step."""
        return float(self.step_voxels * self.voxel.min())

    def node_positions(self) -> np.ndarray:
        """(nodes, 3) world positions in flat order (x fastest)."""
        nx, ny, nz = self.sides
        k, j, i = np.meshgrid(np.arange(nz), np.arange(ny), np.arange(nx), indexing="ij")
        ijk = np.stack([i, j, k], axis=-1).reshape(-1, 3)
        return self.lo + ijk * self.voxel


def trilinear(spec: GridSpec, values: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Values (nodes, C) sampled at points (N, 3)."""
    n = np.asarray(spec.sides)
    u = (np.asarray(points, np.float64) - spec.lo) / (spec.hi - spec.lo) * (n - 1)
    i0 = np.clip(np.floor(u).astype(np.int64), 0, n - 2)
    f = u - i0
    out = 0.0
    for dz in (0, 1):
        for dy in (0, 1):
            for dx in (0, 1):
                d = np.array([dx, dy, dz])
                w = np.prod(np.where(d == 1, f, 1.0 - f), axis=1)
                idx = (i0[:, 0] + dx) + n[0] * ((i0[:, 1] + dy) + n[1] * (i0[:, 2] + dz))
                out = out + w[:, None] * values[idx]
    return out


def box_interval(spec: GridSpec, origin, direction) -> tuple[float, float]:
    """(t0, t1) of the ray in the box (t0 >= 0); t1 <= t0 when it misses."""
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / np.asarray(direction, np.float64)
        a = (spec.lo - origin) * inv
        b = (spec.hi - origin) * inv
    t0 = np.nanmax(np.minimum(a, b))
    t1 = np.nanmin(np.maximum(a, b))
    return max(float(t0), 0.0), float(t1)


def march(spec: GridSpec, density: np.ndarray, color: np.ndarray, origin, direction, background,
          jitter: float = 0.5) -> np.ndarray:
    """The colour of one ray (direction unit length)."""
    t0, t1 = box_interval(spec, origin, direction)
    bg = np.asarray(background, np.float64)
    if not t1 > t0:
        return bg
    step = spec.step
    ts = t0 + (np.arange(int(np.ceil((t1 - t0) / step)) + 1) + jitter) * step
    ts = ts[ts < t1]
    if len(ts) == 0:
        return bg
    pts = np.asarray(origin) + ts[:, None] * np.asarray(direction)
    sig = trilinear(spec, density.reshape(-1, 1), pts)[:, 0]
    col = np.clip(trilinear(spec, color.reshape(-1, 3), pts), 0.0, 1.0)
    out = np.zeros(3)
    t = 1.0
    for s, c in zip(sig, col):
        a = 1.0 - np.exp(-s * step)
        out += t * a * c
        t *= 1.0 - a
        if t < spec.termination:
            break
    return out + t * bg


def render(spec: GridSpec, density, color, view_proj, size, background) -> np.ndarray:
    """(h, w, 3) clean image (jitter 0.5) of the grid seen through a view-projection matrix; row 0 = top."""
    w, h = size
    inv = np.linalg.inv(np.asarray(view_proj, np.float64))
    img = np.zeros((h, w, 3))
    for y in range(h):
        for x in range(w):
            ndc = np.array([2 * (x + 0.5) / w - 1, 1 - 2 * (y + 0.5) / h])
            near = inv @ np.array([ndc[0], ndc[1], -1.0, 1.0])
            far = inv @ np.array([ndc[0], ndc[1], 1.0, 1.0])
            near, far = near[:3] / near[3], far[:3] / far[3]
            d = far - near
            img[y, x] = march(spec, density, color, near, d / np.linalg.norm(d), background)
    return img


def resample(spec_from: GridSpec, values: np.ndarray, spec_to: GridSpec) -> np.ndarray:
    """Node values (nodes, C) of one grid sampled trilinearly at another grid's nodes."""
    return trilinear(spec_from, values.reshape(spec_from.nodes, -1), spec_to.node_positions())


__all__ = ["GridSpec", "box_interval", "march", "render", "resample", "trilinear"]
