"""Initial splats (``scene.init``): at random in a box, on the points of a point cloud, on a
mesh's surface, or a 3DGS PLY as it is. Everything here is numpy on the CPU, once per run."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import ConfigError
from ...io.splat_ply import SplatCloud, read_point_cloud, read_splat_ply

SH_C0 = 0.28209479177387814


def color_to_dc(rgb: np.ndarray) -> np.ndarray:
    """The degree-0 coefficient whose colour (0.5 + C0 f) is ``rgb``."""
    return (np.asarray(rgb, np.float64) - 0.5) / SH_C0


def random_quaternions(rng, n: int) -> np.ndarray:
    """Uniformly random unit quaternions (w, x, y, z) (Shoemake's method)."""
    u1, u2, u3 = rng.random((3, n))
    a, b = np.sqrt(1.0 - u1), np.sqrt(u1)
    q = np.stack([a * np.sin(2 * np.pi * u2), a * np.cos(2 * np.pi * u2),
                  b * np.sin(2 * np.pi * u3), b * np.cos(2 * np.pi * u3)], axis=1)
    return q[:, [3, 0, 1, 2]]


def mean_spacing(points: np.ndarray, count: int) -> float:
    """Half the mean spacing of ``count`` points spread over the bounding box of ``points``."""
    ext = np.ptp(points, axis=0) if len(points) > 1 else np.ones(3)
    ext = np.maximum(ext, 1e-3 * max(float(ext.max()), 1e-9))
    return 0.5 * float(np.prod(ext) / max(count, 1)) ** (1.0 / 3.0)


def sample_mesh_surface(path: Path, count: int, rng) -> tuple[np.ndarray, np.ndarray | None]:
    """``count`` points uniform over the surface of the mesh at ``path`` and their colours
    (texture, vertex colours or base colour; None when the mesh has none)."""
    from ...io.meshes import load_mesh
    mesh = load_mesh(path)
    p = np.asarray(mesh.positions, np.float64)[mesh.faces]                 # (F, 3, 3)
    area = 0.5 * np.linalg.norm(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), axis=1)
    if not area.sum() > 0:
        raise ConfigError(f"{path}: the mesh has no surface to sample splats on")
    tri = rng.choice(len(area), size=count, p=area / area.sum())
    r1, r2 = np.sqrt(rng.random(count)), rng.random(count)
    w = np.stack([1 - r1, r1 * (1 - r2), r1 * r2], axis=1)
    points = np.einsum("nk,nkc->nc", w, p[tri])
    colors = None
    if mesh.texture is not None and mesh.uvs is not None:
        uv = np.einsum("nk,nkc->nc", w, np.asarray(mesh.uvs, np.float64)[tri])
        h, wd = mesh.texture.shape[:2]
        x = np.clip((uv[:, 0] % 1.0) * wd, 0, wd - 1).astype(int)
        y = np.clip((1.0 - uv[:, 1] % 1.0) * h, 0, h - 1).astype(int)
        colors = mesh.texture[y, x, :3]
    elif mesh.vertex_colors is not None:
        colors = np.einsum("nk,nkc->nc", w, np.asarray(mesh.vertex_colors, np.float64)[mesh.faces[tri]])
    elif mesh.material is not None and getattr(mesh.material, "base_color", None) is not None:
        colors = np.tile(np.asarray(mesh.material.base_color, np.float64).reshape(-1, 3).mean(axis=0), (count, 1))
    return points.astype(np.float32), None if colors is None else np.asarray(colors, np.float32)


def initial_cloud(cfg, base: Path | None, degree: int, rng, largest_scale: float | None = None) -> SplatCloud:
    """The splats a run starts from (``cfg``: the scene section)."""
    init = cfg.init
    k = (degree + 1) ** 2
    path = None if init.file is None else Path(init.file) if base is None else Path(base) / init.file
    if init.kind == "ply":
        cloud = read_splat_ply(path)
        if cloud.degree > degree:
            cloud.sh = cloud.sh[:, :k]
        elif cloud.degree < degree:
            sh = np.zeros((len(cloud.positions), k, 3), np.float32)
            sh[:, :cloud.sh.shape[1]] = cloud.sh
            cloud.sh = sh
        return cloud
    n = cfg.count
    colors = None
    if init.kind == "random":
        c, e = np.asarray(init.center, np.float64), np.asarray(init.extent, np.float64)
        points = c + (rng.random((n, 3)) * 2 - 1) * e
        spacing_of = np.stack([c - e, c + e])
    elif init.kind == "points":
        pts, cols = read_point_cloud(path)
        pick = rng.choice(len(pts), size=n, replace=len(pts) < n)
        points, colors = pts[pick], None if cols is None else cols[pick]
        spacing_of = pts
    else:
        points, colors = sample_mesh_surface(path, n, rng)
        spacing_of = points
    scale = init.scale
    if scale is None:       # half the mean spacing, at most the caller's bound (e.g. the image's overdraw)
        scale = mean_spacing(np.asarray(spacing_of), n)
        if largest_scale is not None:
            scale = min(scale, largest_scale)
    if colors is None:
        lo, hi = init.color
        colors = lo + rng.random((n, 3)) * (hi - lo)
    sh = np.zeros((n, k, 3), np.float32)
    sh[:, 0] = color_to_dc(colors)
    rot = random_quaternions(rng, n) if init.random_rotations else np.tile([1.0, 0.0, 0.0, 0.0], (n, 1))
    return SplatCloud(positions=np.asarray(points, np.float32),
                      log_scales=np.full((n, 3), np.log(scale), np.float32),
                      rotations=rot.astype(np.float32),
                      opacity_logits=np.full(n, np.log(init.opacity / (1 - init.opacity)), np.float32),
                      sh=sh)
