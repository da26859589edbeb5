"""Catmull-Clark levels as stencil tables: each refined point a weighted sum of the previous
level's points (rows of a sparse matrix, CSR). Built once at load from the halfedge topology
(halfedge.py) by the same rules as ``halfedge.refine_points``; the GPU pass of a level
(glsl/scene/subdiv/subdiv_refine.comp) is one gather per output point over its row, so no
float atomics are needed. Composing the levels gives each refined point's support among the
control points: what the scene kind gathers the per-face gradients over.

Also here: face-varying values (UVs) refined linearly per halfedge corner, and the
vertex -> quads incidence of a refined mesh (normals).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .halfedge import Halfedges


@dataclass
class Stencil:
    """A (rows x cols) sparse matrix: row r = sum of weight[k] * in[index[k]], k in [start[r], start[r+1])."""

    start: np.ndarray       # (rows + 1,) int64
    index: np.ndarray       # (nnz,) int64
    weight: np.ndarray      # (nnz,) float64
    cols: int

    @property
    def rows(self) -> int:
        return len(self.start) - 1

    def apply(self, points: np.ndarray) -> np.ndarray:
        p = np.asarray(points, np.float64)
        contrib = self.weight[:, None] * p[self.index]
        out = np.zeros((self.rows, p.shape[1]))
        np.add.at(out, np.repeat(np.arange(self.rows), np.diff(self.start)), contrib)
        return out

    def row_of_entries(self) -> np.ndarray:
        return np.repeat(np.arange(self.rows), np.diff(self.start))


def from_triplets(rows: np.ndarray, cols: np.ndarray, weights: np.ndarray, shape: tuple[int, int]) -> Stencil:
    """Duplicates summed; zero weights dropped; rows sorted by column."""
    rows, cols = np.asarray(rows, np.int64), np.asarray(cols, np.int64)
    key = rows * shape[1] + cols
    order = np.argsort(key, kind="stable")
    key, w = key[order], np.asarray(weights, np.float64)[order]
    uniq, first = np.unique(key, return_index=True)
    sums = np.add.reduceat(w, first) if len(w) else w
    keep = sums != 0.0
    uniq, sums = uniq[keep], sums[keep]
    r, c = uniq // shape[1], uniq % shape[1]
    start = np.zeros(shape[0] + 1, np.int64)
    np.add.at(start, r + 1, 1)
    return Stencil(np.cumsum(start), c, sums, shape[1])


def _face_members(m: Halfedges):
    """(halfedge h, halfedge g, 1 / size of face(h)) for every g in the face of h."""
    size = np.bincount(m.face, minlength=m.faces)
    hs, gs = [], []
    h = np.arange(m.count)
    g = h.copy()
    for _ in range(int(size.max()) if len(size) else 0):
        hs.append(h)
        gs.append(g)
        g = m.next[g]
    hs, gs = np.concatenate(hs), np.concatenate(gs)
    # each face walked once per member: keep the pairs of one walk length (size of the face)
    step = np.concatenate([np.full(m.count, k) for k in range(len(hs) // max(m.count, 1))])
    keep = step < size[m.face[hs]]
    return hs[keep], gs[keep], 1.0 / size[m.face[hs[keep]]]


def level_stencil(m: Halfedges) -> Stencil:
    """The next level's points (vertex points, face points, edge points; halfedge.py) from this level's."""
    V, F, E = m.vertices, m.faces, m.edges
    rows, cols, ws = [], [], []

    def add(r, c, w):
        r, c = np.asarray(r, np.int64), np.asarray(c, np.int64)
        rows.append(np.broadcast_to(r, np.broadcast_shapes(r.shape, c.shape)).ravel())
        cols.append(np.broadcast_to(c, np.broadcast_shapes(r.shape, c.shape)).ravel())
        ws.append(np.broadcast_to(np.asarray(w, np.float64), rows[-1].shape).ravel())

    hh, gg, inv = _face_members(m)          # face point of face(h) = sum over g of vert(g) / size
    # face points: one walk per face (from its first halfedge)
    first = np.full(F, -1, np.int64)
    first[m.face[::-1]] = np.arange(m.count)[::-1]
    own = first[m.face[hh]] == hh
    add(V + m.face[hh[own]], m.vert[gg[own]], inv[own])

    # edge points
    rep = np.zeros(E, np.int64)
    rep[m.edge] = np.arange(m.count)
    a, b = m.vert[rep], m.vert[m.next[rep]]
    sharp = m.edge_crease | (m.twin[rep] < 0)
    e = np.arange(E)
    add(V + F + e[sharp], a[sharp], 0.5)
    add(V + F + e[sharp], b[sharp], 0.5)
    smooth_h = ~sharp[m.edge]                          # both halfedges of each smooth edge
    add(V + F + m.edge[smooth_h], m.vert[smooth_h], 0.25)
    sel = smooth_h[hh]                                  # + 1/4 of the face points of its two faces
    add(V + F + m.edge[hh[sel]], m.vert[gg[sel]], 0.25 * inv[sel])

    # vertex points
    valence = np.bincount(np.concatenate([a, b]), minlength=V).astype(np.float64)
    faces_at = np.bincount(m.vert, minlength=V).astype(np.float64)
    creases = np.bincount(np.concatenate([a[sharp], b[sharp]]), minlength=V)
    n = np.maximum(valence, 1.0)
    smooth_v = creases < 2
    v = np.arange(V)
    add(v[smooth_v], v[smooth_v], (n[smooth_v] - 3.0) / n[smooth_v])
    # Q / faces_at / n: each face at v (a halfedge h leaving v) -> its members
    q_rows = m.vert[hh]
    sel = smooth_v[q_rows]
    add(q_rows[sel], m.vert[gg[sel]], inv[sel] / (np.maximum(faces_at, 1.0)[q_rows[sel]] * n[q_rows[sel]]))
    # 2 R / n^2 = sum over incident edges of (a + b) / n^2
    for end in (a, b):
        sel = smooth_v[end]
        wgt = 1.0 / n[end[sel]] ** 2
        add(end[sel], a[sel], wgt)
        add(end[sel], b[sel], wgt)
    crease_v = creases == 2
    add(v[crease_v], v[crease_v], 0.75)
    for end, other in ((a, b), (b, a)):
        sel = sharp & crease_v[end]
        add(end[sel], other[sel], 0.125)
    corner = creases > 2
    add(v[corner], v[corner], 1.0)
    return from_triplets(np.concatenate(rows), np.concatenate(cols), np.concatenate(ws), (V + F + E, V))


def csr_rows(start: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(entry positions, lengths) of the CSR rows ``rows`` back to back: the entries of rows[0],
    then of rows[1], ... (positions into the table ``start`` indexes)."""
    lens = np.diff(start)[rows]
    offs = np.repeat(start[rows], lens) + (np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens))
    return offs, lens


def compose(outer: Stencil, inner: Stencil) -> Stencil:
    """outer o inner: rows of outer over the columns of inner."""
    offs, lens = csr_rows(inner.start, outer.index)
    rows = np.repeat(outer.row_of_entries(), lens)
    w_outer = np.repeat(outer.weight, lens)
    return from_triplets(rows, inner.index[offs], w_outer * inner.weight[offs], (outer.rows, inner.cols))


def refine_corner_values(m: Halfedges, values: np.ndarray) -> np.ndarray:
    """Face-varying values (one per halfedge corner, e.g. UVs) of the next level, linear within
    each face: child 4h+k takes the corner's value, the edge's midpoint, the face's mean, the
    previous edge's midpoint."""
    val = np.asarray(values, np.float64)
    hh, gg, inv = _face_members(m)
    mean = np.zeros((m.count,) + val.shape[1:])
    np.add.at(mean, hh, inv.reshape((-1,) + (1,) * (val.ndim - 1)) * val[gg])
    out = np.empty((4 * m.count,) + val.shape[1:])
    out[0::4] = val
    out[1::4] = 0.5 * (val + val[m.next])
    out[2::4] = mean
    out[3::4] = 0.5 * (val[m.prev] + val)
    return out


def vertex_quads(quads: np.ndarray, vertices: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR (start, quad list) of the quads around each vertex of a quad mesh."""
    q = np.repeat(np.arange(len(quads)), 4)
    v = np.asarray(quads, np.int64).ravel()
    order = np.argsort(v, kind="stable")
    start = np.zeros(vertices + 1, np.int64)
    np.add.at(start, v + 1, 1)
    return np.cumsum(start), q[order]
