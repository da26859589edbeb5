"""Per-corner tangent frames for normal maps, in the MikkTSpace conventions glTF uses.

A tangent is (x, y, z, w): xyz a unit vector orthogonal to the corner normal N,
pointing to increasing u; w = +1 or -1 the handedness, such that the bitangent
B = cross(N, xyz) * w points to increasing v (OpenGL v: 0 = bottom of the image,
as :class:`~diffrast_cli.io.mesh_data.MeshData` stores uvs).  As in MikkTSpace:

* each face's tangent is (dv2 e1 - dv1 e2) / det of its UV Jacobian, det the signed
  UV area (times 2); w = +1 where det > 0 (the UV layout is not mirrored), else -1;
* at a corner the face tangent is projected onto the plane orthogonal to the corner
  normal, normalised and weighted by the corner's angle (measured in that plane);
* corners that share the position index, uv, normal and handedness accumulate the
  weighted face tangents, and every one of them gets the normalised sum.

Faces whose UVs are degenerate (zero UV area) add nothing; a corner whose sum is zero
(only degenerate faces around it) gets a unit vector orthogonal to its normal.
"""

from __future__ import annotations

import numpy as np

from .mesh_geometry import compute_vertex_normals, unique_rows

EPS = 1e-20


def _unit(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``v`` normalised (zero rows stay zero) and their lengths."""
    length = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(length > EPS, length, 1.0), length[..., 0]


def _reject(v: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``v`` without its component along the unit vectors ``n``."""
    return v - n * np.sum(v * n, axis=-1, keepdims=True)


def any_orthogonal(n: np.ndarray) -> np.ndarray:
    """A unit vector orthogonal to each unit row of ``n`` (built from the world axis least
    aligned with it)."""
    axis = np.zeros_like(n)
    axis[np.arange(len(n)), np.argmin(np.abs(n), axis=1)] = 1.0
    return _unit(_reject(axis, n))[0]


def face_tangents(p: np.ndarray, uv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per face: the direction of increasing u (F, 3) (not normalised; zero where the UVs are
    degenerate) and the handedness (F,) in {+1, -1}.  ``p`` (F, 3, 3), ``uv`` (F, 3, 2)."""
    e1, e2 = p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]
    d1, d2 = uv[:, 1] - uv[:, 0], uv[:, 2] - uv[:, 0]
    det = d1[:, 0] * d2[:, 1] - d2[:, 0] * d1[:, 1]          # signed UV area x 2
    sign = np.where(det < 0, -1.0, 1.0)
    t = (d2[:, 1:2] * e1 - d1[:, 1:2] * e2) * sign[:, None]  # = det * dP/du, made to point to +u
    scale = max(float(np.abs(uv).max(initial=0.0)), 1.0)
    degenerate = np.abs(det) <= 1e-12 * scale * scale
    t[degenerate] = 0.0
    return t, sign


def corner_angles(p: np.ndarray, n: np.ndarray) -> np.ndarray:
    """(F, 3) angle at each corner between its two edges, projected onto the plane
    orthogonal to the corner normal ``n`` (F, 3, 3)."""
    a = _unit(_reject(np.roll(p, -1, axis=1) - p, n))[0]
    b = _unit(_reject(np.roll(p, 1, axis=1) - p, n))[0]
    return np.arccos(np.clip(np.sum(a * b, axis=-1), -1.0, 1.0))


def corner_tangents(positions, faces, uvs, normals=None) -> np.ndarray:
    """(F, 3, 4) float32 unit tangents with handedness w, one per face corner.

    ``positions`` (P, 3), ``faces`` (F, 3) indices, ``uvs`` (F, 3, 2) per corner (OpenGL v),
    ``normals`` (F, 3, 3) unit per corner or None (smooth vertex normals are used, as
    :func:`~diffrast_cli.io.mesh_geometry.compute_vertex_normals` gives them).
    """
    pos = np.asarray(positions, dtype=np.float64)
    tri = np.asarray(faces, dtype=np.int64)
    uv = np.asarray(uvs, dtype=np.float64)
    if tri.ndim != 2 or tri.shape[1] != 3 or uv.shape != (len(tri), 3, 2):
        raise ValueError(f"need faces (F, 3) and uvs (F, 3, 2), got {tri.shape} and {uv.shape}")
    if normals is None:
        normals = compute_vertex_normals(pos, tri)[tri]
    n = np.asarray(normals, dtype=np.float64)
    if n.shape != (len(tri), 3, 3):
        raise ValueError(f"normals must have shape {(len(tri), 3, 3)}, got {n.shape}")
    n, length = _unit(n)
    n[length <= EPS] = np.array([0.0, 0.0, 1.0])
    if len(tri) == 0:
        return np.zeros((0, 3, 4), np.float32)
    p = pos[tri]
    t_face, sign = face_tangents(p, uv)
    # the face tangent at each corner, in the corner normal's plane, weighted by the angle
    t = _unit(_reject(np.broadcast_to(t_face[:, None], n.shape), n))[0]
    t = t * corner_angles(p, n)[..., None]
    w = np.broadcast_to(sign[:, None], tri.shape).reshape(-1)
    # corners that share position index, uv, normal and handedness are one vertex
    key = np.concatenate([tri.reshape(-1, 1).astype(np.float32),
                          uv.reshape(-1, 2).astype(np.float32),
                          n.reshape(-1, 3).astype(np.float32),
                          w[:, None].astype(np.float32)], axis=1)
    key[:, 0] = tri.reshape(-1).astype(np.int32).view(np.float32)   # the index's bits, compared by bytes
    _, group = unique_rows(key)
    total = np.stack([np.bincount(group, weights=t.reshape(-1, 3)[:, c]) for c in range(3)], axis=1)
    nc = n.reshape(-1, 3)
    out, length = _unit(_reject(total[group], nc))
    lost = length <= 1e-12
    if lost.any():
        out[lost] = any_orthogonal(nc[lost])
    return np.concatenate([out, w[:, None]], axis=1).reshape(len(tri), 3, 4).astype(np.float32)


__all__ = ["any_orthogonal", "corner_angles", "corner_tangents", "face_tangents"]
