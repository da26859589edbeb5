"""Displacement mapping on the CPU: the same refinement and displacement R draws
(glsl/scene/mesh/mesh_displace.glsl), for export, Chamfer distances and tests.

Each base triangle is split into level^2 sub-triangles on the lattice
P(i, j) = ((L - i), (i - j), j) / L of base-vertex weights; each lattice vertex moves
along the normalised interpolation of the base mesh's area-weighted vertex normals by
strength * (h - midlevel), h the height map sampled bilinearly (repeat, row 0 = top) at
its interpolated UV.
"""

from __future__ import annotations

import numpy as np

from ...io.mesh_data import MeshData
from ...io.mesh_geometry import compute_vertex_normals, weld_map
from ..material.pyramid import sample_level


def lattice(level: int) -> tuple[np.ndarray, np.ndarray]:
    """(weights (V, 3), sub-triangles (level^2, 3) into them) in the GLSL's sub-triangle order."""
    L = int(level)
    index, weights = {}, []
    for i in range(L + 1):
        for j in range(i + 1):
            index[(i, j)] = len(weights)
            weights.append(((L - i) / L, (i - j) / L, j / L))
    tris = []
    for s in range(L * L):
        i = int(np.floor(np.sqrt(s)))
        while i * i > s:
            i -= 1
        while (i + 1) * (i + 1) <= s:
            i += 1
        k = s - i * i
        if k % 2 == 0:
            j = k // 2
            tris.append((index[(i, j)], index[(i + 1, j)], index[(i + 1, j + 1)]))
        else:
            j = (k - 1) // 2
            tris.append((index[(i, j)], index[(i + 1, j + 1)], index[(i, j + 1)]))
    return np.asarray(weights, np.float64), np.asarray(tris, np.int64)


def sample_map(image: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """Bilinear lookup of a (H, W[, C]) map at OpenGL uvs (N, 2): repeat, row 0 = top."""
    a = np.asarray(image, np.float64)
    out = sample_level(a[:, :, None] if a.ndim == 2 else a, uv)
    return out[:, 0] if a.ndim == 2 else out


def displaced_mesh(positions, faces, uvs, height, strength: float, midlevel: float, level: int,
                   name: str = "displaced") -> MeshData:
    """The refined, displaced surface as a welded MeshData (per-corner UVs kept)."""
    pos = np.asarray(positions, np.float64)
    tri = np.asarray(faces, np.int64)
    normals = compute_vertex_normals(pos, tri).astype(np.float64)
    weights, sub = lattice(level)
    bp = pos[tri]                                           # (F, 3, 3)
    p = np.einsum("vk,fkc->fvc", weights, bp)              # (F, V, 3) lattice points
    n = np.einsum("vk,fkc->fvc", weights, normals[tri])
    ln = np.linalg.norm(n, axis=2, keepdims=True)
    n = np.where(ln > 0, n / np.where(ln > 0, ln, 1.0), 0.0)
    uv = np.einsum("vk,fkc->fvc", weights, np.asarray(uvs, np.float64))   # (F, V, 2)
    h = sample_map(height, uv.reshape(-1, 2)).reshape(uv.shape[:2])
    q = p + n * (strength * (h - midlevel))[:, :, None]
    nv = weights.shape[0]
    flat_faces = (np.arange(len(tri))[:, None, None] * nv + sub[None]).reshape(-1, 3)
    corner_uv = uv.reshape(-1, 2)[flat_faces].astype(np.float32)
    welded, new_faces, _ = weld_map(q.reshape(-1, 3), flat_faces, tol=1e-6 * max(float(np.ptp(pos)), 1e-12))
    return MeshData(positions=welded, faces=new_faces, uvs=corner_uv, normals=None, texture=None,
                    vertex_colors=None, name=name)


__all__ = ["displaced_mesh", "lattice", "sample_map"]
