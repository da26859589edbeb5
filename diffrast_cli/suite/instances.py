"""Task instances of the suite, generated deterministically from (task, seed): everything a
run needs that is not rendered, made by the project (no third-party data). Definitions follow
the paper's public settings (../shared/PRIOR_ART.md, "Learning to Rasterize Differentiably"):

- ``shape2d``: ~800 small triangles (one template, each rotated at random, spread over the view
  by a scrambled 2D Halton sequence) and a binary 256² target silhouette (a random "logo": a
  union of discs, rectangles and a star);
- ``shape3d``: a 642-vertex icosphere of radius 0.5 to deform, and the target shape (the same
  sphere with smooth random bumps), seen from 24 azimuths of one elevation ring;
- ``pose``: 24 target cameras (distance 2.5 + U·1.5, elevation and azimuth ~ N(0, 60°), fov
  20°), each with a start camera 15–35° away from it (angle between the two view directions);
- ``occlusion``: two overlapping triangles (red and blue, circumradius 0.35–0.5 in NDC, centres
  0.25–0.4 apart), their target placement and depth order, and a start with both moved by
  0.08–0.15 and the depth order swapped (defined by this project; docs/soft.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..io.mesh_geometry import icosphere

SHAPE2D_TRIANGLES = 800
SHAPE2D_SIZE = 256


def rng_for(task: str, seed: int) -> np.random.Generator:
    """The generator of instance ``seed`` of ``task`` (independent streams per task)."""
    return np.random.default_rng([int(seed), sum(ord(c) << (8 * (i % 4)) for i, c in enumerate(task))])


def scrambled_halton(n: int, base: int, rng: np.random.Generator) -> np.ndarray:
    """n points of the radical inverse in ``base`` with a random digit permutation (0 fixed)."""
    perm = np.concatenate([[0], 1 + rng.permutation(base - 1)])
    out = np.zeros(n)
    idx = np.arange(1, n + 1)
    scale = 1.0 / base
    while idx.any():
        out += perm[idx % base] * scale
        idx //= base
        scale /= base
    return out


@dataclass
class Shape2D:
    triangles: np.ndarray      # (n, 3, 2) float32, NDC
    target: np.ndarray         # (S, S) bool, row 0 = top


def logo(rng: np.random.Generator, size: int) -> np.ndarray:
    """A random binary logo at ``size``²: 2–3 discs, 1–2 rectangles and a five-pointed star."""
    y, x = np.mgrid[0:size, 0:size]
    p = np.stack([(x + 0.5) / size * 2 - 1, 1 - (y + 0.5) / size * 2], -1)
    mask = np.zeros((size, size), bool)
    for _ in range(rng.integers(2, 4)):
        c, r = rng.uniform(-0.5, 0.5, 2), rng.uniform(0.15, 0.35)
        mask |= np.hypot(*(p - c).transpose(2, 0, 1)) < r
    for _ in range(rng.integers(1, 3)):
        c, half, a = rng.uniform(-0.4, 0.4, 2), rng.uniform(0.1, 0.3, 2), rng.uniform(0, math.pi)
        d = p - c
        u = d[..., 0] * math.cos(a) + d[..., 1] * math.sin(a)
        v = -d[..., 0] * math.sin(a) + d[..., 1] * math.cos(a)
        mask |= (np.abs(u) < half[0]) & (np.abs(v) < half[1])
    c, r = rng.uniform(-0.3, 0.3, 2), rng.uniform(0.25, 0.4)
    d = p - c
    ang = np.arctan2(d[..., 1], d[..., 0]) + rng.uniform(0, 2 * math.pi)
    star = r * (0.55 + 0.45 * np.cos(5 * ang))
    return mask | (np.hypot(d[..., 0], d[..., 1]) < star)


def shape2d(seed: int, n: int = SHAPE2D_TRIANGLES, size: int = SHAPE2D_SIZE) -> Shape2D:
    rng = rng_for("shape2d", seed)
    template = np.array([[0.0, 1.0], [-0.866, -0.5], [0.866, -0.5]]) * 0.04
    centres = np.stack([scrambled_halton(n, 2, rng), scrambled_halton(n, 3, rng)], 1) * 1.8 - 0.9
    a = rng.uniform(0, 2 * math.pi, n)
    rot = np.stack([np.stack([np.cos(a), -np.sin(a)], -1), np.stack([np.sin(a), np.cos(a)], -1)], -2)
    tris = centres[:, None, :] + np.einsum("nij,vj->nvi", rot, template)
    return Shape2D(tris.astype(np.float32), logo(rng, size))


@dataclass
class Shape3D:
    positions: np.ndarray      # (642, 3) float32: the sphere to deform
    faces: np.ndarray          # (F, 3) uint32
    target: np.ndarray         # (642, 3) float32: the target shape (same topology)
    azimuths: np.ndarray       # (24,) degrees
    elevation: float           # degrees


def shape3d(seed: int) -> Shape3D:
    rng = rng_for("shape3d", seed)
    pos, faces, target = bumpy_sphere(rng)
    return Shape3D(pos.astype(np.float32), faces, target.astype(np.float32),
                   np.arange(24) * 15.0, float(rng.choice([-60.0, -30.0, 0.0, 30.0, 60.0])))


def bumpy_sphere(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the 642-vertex sphere of radius 0.5, its faces, the same vertices moved by 3-5 smooth
    random bumps and dents to radii in [0.3, 0.95])."""
    sphere = icosphere(3, 0.5)
    pos = np.asarray(sphere.positions, np.float64)
    dirs = pos / np.linalg.norm(pos, axis=1, keepdims=True)
    radius = np.full(len(pos), 0.55)
    for _ in range(rng.integers(3, 6)):            # smooth bumps and dents
        axis = rng.normal(size=3)
        axis /= np.linalg.norm(axis)
        radius += rng.uniform(-0.12, 0.25) * np.exp((dirs @ axis - 1.0) / rng.uniform(0.05, 0.3))
    target = dirs * np.clip(radius, 0.3, 0.95)[:, None]
    return pos, np.asarray(sphere.faces, np.uint32), target


@dataclass
class Pose:
    target: np.ndarray         # (24, 3) distance, elevation, azimuth (degrees)
    start: np.ndarray          # (24, 3) the same, 15-35 degrees away in view direction
    fov_y: float
    positions: np.ndarray      # (642, 3) float32: the object (a bumpy sphere, as shape3d's targets)
    faces: np.ndarray          # (F, 3) uint32
    colors: np.ndarray         # (642, 3) float32: 0.5 + 0.5 * the vertex's direction (no two alike)


def direction(elevation, azimuth) -> np.ndarray:
    e, a = np.radians(elevation), np.radians(azimuth)
    return np.stack([np.cos(e) * np.sin(a), np.sin(e), np.cos(e) * np.cos(a)], -1)


def angle_between(e0, a0, e1, a1) -> np.ndarray:
    """Degrees between the view directions (elevation, azimuth) of two cameras."""
    c = np.sum(direction(e0, a0) * direction(e1, a1), -1)
    return np.degrees(np.arccos(np.clip(c, -1.0, 1.0)))


def pose(seed: int, count: int = 24) -> Pose:
    rng = rng_for("pose", seed)
    dist = 2.5 + rng.uniform(0, 1.5, count)
    elev = np.clip(rng.normal(0, 60, count), -85, 85)
    azim = rng.normal(0, 60, count)
    start = np.zeros((count, 3))
    for i in range(count):
        # the target's view direction turned by 15-35 degrees about a random perpendicular axis
        v = direction(elev[i], azim[i])
        axis = np.cross(v, rng.normal(size=3))
        axis /= np.linalg.norm(axis)
        t = math.radians(rng.uniform(15, 35))
        w = v * math.cos(t) + np.cross(axis, v) * math.sin(t)
        start[i] = (2.0 + rng.uniform(0, 8.0), math.degrees(math.asin(np.clip(w[1], -1, 1))),
                    math.degrees(math.atan2(w[0], w[2])))
    _, faces, shape = bumpy_sphere(rng)
    colors = 0.5 + 0.5 * shape / np.linalg.norm(shape, axis=1, keepdims=True)
    return Pose(np.stack([dist, elev, azim], 1), start, 20.0, shape.astype(np.float32), faces,
                colors.astype(np.float32))


@dataclass
class Occlusion:
    start: np.ndarray          # (2, 3, 2) float32: the two triangles, NDC
    target: np.ndarray         # (2, 3, 2) float32
    start_depths: np.ndarray   # (2,) depth of triangle 0 and 1 at the start (0 nearest)
    target_depths: np.ndarray  # (2,)
    colors: np.ndarray         # (2, 3) RGB of the triangles


def occluder(rng: np.random.Generator, centre) -> np.ndarray:
    """A triangle of circumradius 0.35-0.5 around ``centre``, corners 120° ± 20° apart."""
    a = rng.uniform(0, 2 * math.pi) + np.arange(3) * 2 * math.pi / 3 + rng.uniform(-0.35, 0.35, 3)
    return np.asarray(centre) + rng.uniform(0.35, 0.5) * np.stack([np.cos(a), np.sin(a)], 1)


def occlusion(seed: int) -> Occlusion:
    rng = rng_for("occlusion", seed)
    c0 = rng.uniform(-0.2, 0.2, 2)
    a = rng.uniform(0, 2 * math.pi)
    c1 = c0 + rng.uniform(0.25, 0.4) * np.array([math.cos(a), math.sin(a)])
    target = np.stack([occluder(rng, c0), occluder(rng, c1)])
    front = int(rng.integers(0, 2))
    target_depths = np.array([0.3, 0.7]) if front == 0 else np.array([0.7, 0.3])
    start = target.copy()
    for k in range(2):
        b = rng.uniform(0, 2 * math.pi)
        start[k] += rng.uniform(0.08, 0.15) * np.array([math.cos(b), math.sin(b)])
    return Occlusion(start.astype(np.float32), target.astype(np.float32), target_depths[::-1].copy(), target_depths,
                     np.array([[0.9, 0.2, 0.1], [0.1, 0.3, 0.9]]))
