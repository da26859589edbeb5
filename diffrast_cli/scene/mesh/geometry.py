"""Connectivity tables of an indexed triangle mesh (numpy, no GL): vertex -> triangles,
edge weights, closedness and orientation, the Laplacian's CSR."""

from __future__ import annotations

import numpy as np


def vertex_triangles(faces: np.ndarray, vertices: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR vertex -> incident triangles: (start (V+1,), triangle list (3F,))."""
    flat = faces.reshape(-1).astype(np.int64)
    order = np.argsort(flat, kind="stable")
    tris = (order // 3).astype(np.uint32)
    counts = np.bincount(flat, minlength=vertices)
    start = np.concatenate([[0], np.cumsum(counts)]).astype(np.uint32)
    return start, tris


def edge_weights(positions: np.ndarray, faces: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Undirected edges (E,2) and their weights: 1 (uniform) or (cot a + cot b) / 2, clamped >= 0."""
    p = positions.astype(np.float64)
    e = np.concatenate([faces[:, [1, 2]], faces[:, [2, 0]], faces[:, [0, 1]]])  # opposite corners 0, 1, 2
    if kind == "uniform":
        w = np.ones(len(e))
    else:
        opp = np.concatenate([faces[:, 0], faces[:, 1], faces[:, 2]])
        a, b = p[e[:, 0]] - p[opp], p[e[:, 1]] - p[opp]
        cross = np.linalg.norm(np.cross(a, b), axis=1)
        w = 0.5 * np.einsum("ij,ij->i", a, b) / np.maximum(cross, 1e-12)
    key = np.sort(e, axis=1)
    uniq, inv = np.unique(key, axis=0, return_inverse=True)
    weights = np.bincount(inv.reshape(-1), weights=w, minlength=len(uniq))
    if kind == "uniform":
        weights = np.ones(len(uniq))
    return uniq, np.maximum(weights, 0.0)


def closed_orientation(positions: np.ndarray, faces: np.ndarray) -> int:
    """+1 if the mesh is closed with consistently oriented, outward (counter-clockwise) faces,
    -1 if closed and inward, 0 if it is open or inconsistently oriented."""
    f = faces.astype(np.int64)
    directed = np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
    n = int(f.max()) + 1 if len(f) else 0
    code = directed[:, 0] * n + directed[:, 1]
    reverse = directed[:, 1] * n + directed[:, 0]
    if len(np.unique(code)) != len(code):      # an edge used twice in one direction
        return 0
    if not np.all(np.isin(reverse, code)):      # a boundary edge (or a flipped neighbour)
        return 0
    p = positions.astype(np.float64)[f]
    volume = np.einsum("ij,ij->i", p[:, 0], np.cross(p[:, 1], p[:, 2])).sum() / 6.0
    return 1 if volume > 0 else (-1 if volume < 0 else 0)


def laplacian_csr(positions: np.ndarray, faces: np.ndarray, kind: str):
    """CSR of L = I - D^-1 W: per vertex its neighbours with a = w_vk / W_v and b = w_kv / W_k."""
    n = len(positions)
    edges, w = edge_weights(positions, faces, kind)
    src = np.concatenate([edges[:, 0], edges[:, 1]])
    dst = np.concatenate([edges[:, 1], edges[:, 0]])
    ww = np.concatenate([w, w])
    total = np.bincount(src, weights=ww, minlength=n)
    total[total == 0] = 1.0
    order = np.lexsort((dst, src))
    src, dst, ww = src[order], dst[order], ww[order]
    start = np.concatenate([[0], np.cumsum(np.bincount(src, minlength=n))]).astype(np.uint32)
    table = np.zeros((len(src), 4), np.float32)
    table[:, 0] = dst.astype(np.uint32).view(np.float32)
    table[:, 1] = ww / total[src]
    table[:, 2] = ww / total[dst]
    return start, table


def face_adjacency(faces: np.ndarray) -> tuple[np.ndarray, int]:
    """Per triangle the triangles across its edges (v0v1, v1v2, v2v0): (F, 4) uint32, the 4th
    column and any edge not shared by exactly two triangles 0xFFFFFFFF; and the number of
    edges shared by exactly two triangles (the normal-consistency pairs)."""
    f = np.asarray(faces, np.int64)
    nf = len(f)
    none = np.uint32(0xFFFFFFFF)
    adj = np.full((nf, 4), none, np.uint32)
    if nf == 0:
        return adj, 0
    e = np.stack([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]], axis=1).reshape(-1, 2)   # (3F, 2), slot = 3 t + k
    key = np.sort(e, axis=1)
    _, inv, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    inv = inv.reshape(-1)
    slots = np.flatnonzero(counts[inv] == 2)
    order = slots[np.argsort(inv[slots], kind="stable")]      # the two slots of each shared edge side by side
    a, b = order[0::2], order[1::2]
    adj[a // 3, a % 3] = (b // 3).astype(np.uint32)
    adj[b // 3, b % 3] = (a // 3).astype(np.uint32)
    return adj, len(a)
