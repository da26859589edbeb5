"""Mesh geometry without files: welding, vertex normals and generated shapes
(icosphere, lat-long sphere)."""

from __future__ import annotations

import numpy as np

from .mesh_data import MeshData

# --------------------------------------------------------------------------- geometry helpers
_WELD_EXACT_ABOVE = float(2 ** 61)   # |x| / tol beyond this: compare coordinates exactly (int64 keys)


def _weld_keys(pos: np.ndarray, tol: float) -> np.ndarray:
    """Integer keys (N, 3): equal keys = the same welded position.

    |x| <= 2^61 tol: round(x / tol) (so |key| <= 2^61); beyond, the bits of the float itself
    (exact comparison; |key| > 2^62 for such magnitudes, so the two kinds never collide).  A
    mesh spanning 1e30 therefore still keeps its unit-sized triangles apart."""
    if tol <= 0:
        keys = np.ascontiguousarray(pos).view(np.int64).copy()   # exact: compare the bits
        keys[pos == 0] = 0                                        # ... with -0.0 == 0.0
        return keys
    scaled = pos / tol
    small = np.abs(scaled) <= _WELD_EXACT_ABOVE
    keys = np.round(np.where(small, scaled, 0.0)).astype(np.int64)
    if not small.all():
        bits = np.ascontiguousarray(np.abs(pos)).view(np.int64)
        keys = np.where(small, keys, np.where(pos < 0, -bits, bits))
    return keys


def unique_rows(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique rows of a float32 array (by value) in order of first use, and the index of each row."""
    a = np.ascontiguousarray(a, dtype=np.float32)
    _, first, inv = np.unique(a.view(np.uint8).reshape(len(a), -1), axis=0,
                              return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return a[np.sort(first)], rank[inv.reshape(-1)]


def weld_map(positions, faces, tol: float = 1e-7):
    """Merge positions closer than ``tol`` (same cell of a ``tol`` grid) and drop unreferenced ones.

    Returns (positions (P, 3) float32, faces (F, 3) int32, old_to_new (N,) int64,
    -1 for unreferenced).  Welded vertices keep the order of their lowest input index.
    """
    pos = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    tri = np.asarray(faces, dtype=np.int64).reshape(-1, 3)
    used = np.zeros(len(pos), dtype=bool)
    used[tri.ravel()] = True
    keys = _weld_keys(pos, float(tol))
    keys = keys[used]
    idx_used = np.flatnonzero(used)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    # renumber the unique keys in order of their lowest input index (stable, deterministic)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    old_to_new = np.full(len(pos), -1, dtype=np.int64)
    old_to_new[idx_used] = rank[inverse]
    new_pos = np.empty((len(first), 3), dtype=np.float64)
    new_pos[rank] = pos[idx_used[first]]
    return new_pos.astype(np.float32), old_to_new[tri].astype(np.int32), old_to_new


def weld(positions, faces, tol: float = 1e-7) -> tuple[np.ndarray, np.ndarray]:
    """Merge duplicate positions (within ``tol``) and drop unreferenced ones: (positions, faces)."""
    pos, tri, _ = weld_map(positions, faces, tol)
    return pos, tri


def compute_vertex_normals(positions, faces) -> np.ndarray:
    """Area-weighted unit vertex normals (P, 3) float32; (0, 0, 1) where undefined."""
    pos = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    tri = np.asarray(faces, dtype=np.int64).reshape(-1, 3)
    finite = np.isfinite(pos)
    scale = float(np.abs(pos[finite]).max(initial=0.0))
    if scale > 0:                                          # normals do not depend on the scale: avoid
        pos = pos / scale                                  # overflow (1e200) and underflow (1e-200)
    p = pos[tri]
    with np.errstate(all="ignore"):
        fn = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])  # length = 2 x area
    fn[~np.isfinite(fn).all(axis=1)] = 0.0                 # a face with a NaN/inf corner counts for nothing
    acc = np.zeros((len(pos), 3))
    for c in range(3):
        acc[:, c] = np.bincount(tri.ravel(), weights=np.repeat(fn[:, c], 3), minlength=len(pos))
    return unit_rows(acc, fallback=np.array([0.0, 0.0, 1.0])).astype(np.float32)


def unit_rows(v, fallback) -> np.ndarray:
    """``v`` scaled to unit length along its last axis; ``fallback`` where its length is 0 or not finite."""
    v = np.asarray(v, dtype=np.float64)
    with np.errstate(all="ignore"):
        n = np.linalg.norm(v, axis=-1, keepdims=True)
        ok = np.isfinite(n) & (n > 1e-30)
        out = np.where(ok, v / np.where(ok, n, 1.0), fallback)
    return out


def icosphere(subdivisions: int, radius: float = 1.0) -> MeshData:
    """Icosahedron subdivided ``subdivisions`` times (20 * 4^s faces), outward CCW faces, no uvs."""
    if not isinstance(subdivisions, (int, np.integer)) or not 0 <= subdivisions <= 9:
        raise ValueError(f"icosphere: subdivisions must be an integer in 0..9, got {subdivisions!r}")
    t = (1.0 + 5.0 ** 0.5) / 2.0
    pos = np.array([[-1, t, 0], [1, t, 0], [-1, -t, 0], [1, -t, 0], [0, -1, t], [0, 1, t],
                    [0, -1, -t], [0, 1, -t], [t, 0, -1], [t, 0, 1], [-t, 0, -1], [-t, 0, 1]], float)
    tri = np.array([[0, 11, 5], [0, 5, 1], [0, 1, 7], [0, 7, 10], [0, 10, 11], [1, 5, 9], [5, 11, 4],
                    [11, 10, 2], [10, 7, 6], [7, 1, 8], [3, 9, 4], [3, 4, 2], [3, 2, 6], [3, 6, 8],
                    [3, 8, 9], [4, 9, 5], [2, 4, 11], [6, 2, 10], [8, 6, 7], [9, 8, 1]], np.int64)
    pos /= np.linalg.norm(pos, axis=1, keepdims=True)
    for _ in range(int(subdivisions)):
        edges = np.sort(tri[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
        uniq, inv = np.unique(edges, axis=0, return_inverse=True)
        mid = pos[uniq].mean(axis=1)
        mid /= np.linalg.norm(mid, axis=1, keepdims=True)
        m = (inv.reshape(-1, 3) + len(pos))               # midpoints of edges 01, 12, 20
        pos = np.concatenate([pos, mid])
        a, b, c = tri.T
        ab, bc, ca = m.T
        tri = np.stack([np.stack([a, ab, ca], 1), np.stack([ab, b, bc], 1),
                        np.stack([ca, bc, c], 1), np.stack([ab, bc, ca], 1)], 1).reshape(-1, 3)
    normals = pos[tri].astype(np.float32)
    return MeshData(positions=(pos * float(radius)).astype(np.float32), faces=tri.astype(np.int32), uvs=None,
                    normals=normals, texture=None, vertex_colors=None, name=f"icosphere{int(subdivisions)}")


def lat_long_sphere(n_lat: int, n_lon: int, radius_fn=None, name: str = "lat_long_sphere") -> MeshData:
    """A sphere r(d) * d sampled on a lat-long grid: rows from the north pole (+y) down,
    columns eastwards from +z; uv = (j / n_lon, 1 - i / n_lat), pole corners at the middle
    of their column.  2 * n_lon * (n_lat - 1) triangles, counter-clockwise seen from outside."""
    theta = np.pi * np.arange(1, n_lat) / n_lat
    phi = 2.0 * np.pi * np.arange(n_lon) / n_lon
    th, ph = np.meshgrid(theta, phi, indexing="ij")
    ring = np.stack([np.sin(th) * np.sin(ph), np.cos(th), np.sin(th) * np.cos(ph)], -1).reshape(-1, 3)
    dirs = np.concatenate([[[0.0, 1.0, 0.0]], ring, [[0.0, -1.0, 0.0]]])
    pos = dirs * (radius_fn(dirs)[:, None] if radius_fn is not None else 1.0)
    south = len(dirs) - 1

    def vid(i, j):          # grid row i (0 = north pole .. n_lat = south pole), column j (wraps)
        return np.where(i == 0, 0, np.where(i == n_lat, south, 1 + (i - 1) * n_lon + j % n_lon))

    i, j = np.meshgrid(np.arange(n_lat), np.arange(n_lon), indexing="ij")
    i, j = i.ravel(), j.ravel()
    a, b, c, d = (i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)
    tris, uvs = [], []
    for corners, mask in (((a, b, c), i < n_lat - 1), ((a, c, d), i > 0)):   # no degenerate pole halves
        tris.append(np.stack([vid(ci[mask], cj[mask]) for ci, cj in corners], axis=1))
        uv = []
        for ci, cj in corners:
            ci, cj = ci[mask], cj[mask].astype(np.float64)
            pole = (ci == 0) | (ci == n_lat)
            uv.append(np.stack([np.where(pole, j[mask] + 0.5, cj) / n_lon, 1.0 - ci / n_lat], axis=1))
        uvs.append(np.stack(uv, axis=1))
    faces = np.concatenate(tris).astype(np.int32)
    order = np.argsort(np.concatenate([np.flatnonzero(i < n_lat - 1) * 2, np.flatnonzero(i > 0) * 2 + 1]),
                       kind="stable")                      # interleave the two halves of each quad
    faces, uvs = faces[order], np.concatenate(uvs)[order]
    pos = pos.astype(np.float32)
    normals = compute_vertex_normals(pos, faces)[faces]
    return MeshData(positions=pos, faces=faces, uvs=uvs.astype(np.float32), normals=normals,
                    texture=None, vertex_colors=None, name=name)
