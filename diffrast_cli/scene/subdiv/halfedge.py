"""Catmull-Clark subdivision in the halfedge formulation of Dupuy & Vanhoey 2021 ("A halfedge
refinement rule for parallel Catmull-Clark subdivision"; issue 13, docs/subdiv.md): the cage's
topology is refined once at load, and each level's points are gathers over halfedges, one
output point at a time (the form the GPU passes take).

A mesh is a set of halfedge arrays (``Halfedges``): for halfedge h, ``next``, ``prev``,
``twin`` (-1 on a boundary), ``vert`` (its origin), ``face`` and ``edge``; edges carry a crease
flag. Refining halfedge h yields the quad of halfedges 4h..4h+3 (its vertex, the edge point of
its edge, the face point of its face, the edge point of its previous edge), so a refined
halfedge maps to its cage halfedge by a shift of 2 bits per level. New points are numbered
vertex points [0, V), face points [V, V + F), edge points [V + F, V + F + E).

Point rules (smooth): face point = mean of the face's vertices; edge point = (two ends + two
face points) / 4; vertex point = ((n - 3) v + Q + 2 R) / n (n the valence, Q the mean of the
adjacent face points, R of the incident edges' midpoints). Boundary and crease edges: the
midpoint. A vertex on exactly two boundary/crease edges: 3/4 v + 1/8 (a + b) with a, b their
other ends; on more than two: fixed (a corner); on fewer: smooth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import ConfigError


@dataclass
class Halfedges:
    next: np.ndarray
    prev: np.ndarray
    twin: np.ndarray
    vert: np.ndarray
    face: np.ndarray
    edge: np.ndarray
    edge_crease: np.ndarray     # (E,) bool: boundary edges count as creases in the point rules
    vertices: int
    faces: int

    @property
    def count(self) -> int:
        return len(self.next)

    @property
    def edges(self) -> int:
        return len(self.edge_crease)


def _edges_of(twin: np.ndarray) -> np.ndarray:
    """An edge index per halfedge: one per twin pair (or boundary halfedge), in halfedge order."""
    h = np.arange(len(twin))
    owner = (twin < 0) | (h < twin)
    ids = np.cumsum(owner) - 1
    edge = np.where(owner, ids, 0)
    edge[~owner] = ids[twin[~owner]]
    return edge.astype(np.int64)


def from_polygons(faces, vertices: int, creases=()) -> Halfedges:
    """Halfedges of a polygon mesh (faces: lists of vertex indices, counter-clockwise; any
    mix of triangles, quads, n-gons; manifold). ``creases``: vertex pairs of sharp edges."""
    nxt, vert, face = [], [], []
    for f, poly in enumerate(faces):
        n = len(poly)
        if n < 3:
            raise ConfigError(f"face {f} has {n} vertices; a face needs at least 3")
        base = len(vert)
        vert += [int(v) for v in poly]
        face += [f] * n
        nxt += [base + (k + 1) % n for k in range(n)]
    nxt = np.asarray(nxt, np.int64)
    vert = np.asarray(vert, np.int64)
    if len(vert) and (vert.min() < 0 or vert.max() >= vertices):
        raise ConfigError(f"a face names vertex {int(vert.max())}, the cage has {vertices}")
    prev = np.empty_like(nxt)
    prev[nxt] = np.arange(len(nxt))
    directed = {}
    for h, (a, b) in enumerate(zip(vert.tolist(), vert[nxt].tolist())):
        if (a, b) in directed:
            raise ConfigError(f"edge {a}-{b} is used twice in the same direction: the cage is not a "
                              "consistently oriented manifold")
        directed[(a, b)] = h
    twin = np.array([directed.get((b, a), -1) for a, b in zip(vert.tolist(), vert[nxt].tolist())], np.int64)
    edge = _edges_of(twin)
    crease = np.zeros(edge.max() + 1 if len(edge) else 0, bool)
    crease[edge[twin < 0]] = True
    for a, b in creases:
        h = directed.get((int(a), int(b)), directed.get((int(b), int(a))))
        if h is None:
            raise ConfigError(f"crease {a}-{b} is not an edge of the cage")
        crease[edge[h]] = True
    return Halfedges(nxt, prev, twin, vert, np.asarray(face, np.int64), edge, crease, vertices, len(faces))


def refine_topology(m: Halfedges) -> Halfedges:
    """One level: halfedge h -> the quad 4h..4h+3 (see the module notes)."""
    H, V, F = m.count, m.vertices, m.faces
    h = np.arange(H)
    child = lambda k: 4 * h + k                                        # noqa: E731
    nxt = np.empty(4 * H, np.int64)
    for k in range(4):
        nxt[child(k)] = 4 * h + (k + 1) % 4
    prev = np.empty_like(nxt)
    prev[nxt] = np.arange(4 * H)
    twin = np.empty(4 * H, np.int64)
    t_next = np.where(m.twin >= 0, m.next[np.maximum(m.twin, 0)], -1)
    twin[child(0)] = np.where(t_next >= 0, 4 * t_next + 3, -1)
    twin[child(1)] = 4 * m.next + 2
    twin[child(2)] = 4 * m.prev + 1
    t_prev = m.twin[m.prev]
    twin[child(3)] = np.where(t_prev >= 0, 4 * t_prev, -1)
    vert = np.empty(4 * H, np.int64)
    vert[child(0)] = m.vert
    vert[child(1)] = V + F + m.edge
    vert[child(2)] = V + m.face
    vert[child(3)] = V + F + m.edge[m.prev]
    edge = _edges_of(twin)
    crease = np.zeros(edge.max() + 1, bool)
    crease[edge[child(0)]] = m.edge_crease[m.edge]                    # halves of a parent edge
    crease[edge[child(3)]] = m.edge_crease[m.edge[m.prev]]
    return Halfedges(nxt, prev, twin, vert, np.repeat(h, 4), edge, crease, V + F + m.edges, H)


def refine_points(m: Halfedges, points: np.ndarray) -> np.ndarray:
    """The next level's points (V + F + E, 3) from this level's (V, 3): face, edge and vertex
    points by the rules in the module notes."""
    p = np.asarray(points, np.float64)
    V, F, E = m.vertices, m.faces, m.edges
    per_face = np.bincount(m.face, minlength=F).astype(np.float64)
    fp = np.zeros((F, 3))
    np.add.at(fp, m.face, p[m.vert])
    fp /= per_face[:, None]

    # edges: one representative halfedge each, its ends, its faces
    rep = np.zeros(E, np.int64)
    rep[m.edge] = np.arange(m.count)                                   # a halfedge of each edge (either)
    a, b = m.vert[rep], m.vert[m.next[rep]]
    mid = 0.5 * (p[a] + p[b])
    t = m.twin[rep]
    smooth = ~m.edge_crease & (t >= 0)
    ep = mid.copy()
    ep[smooth] = 0.5 * mid[smooth] + 0.25 * (fp[m.face[rep[smooth]]] + fp[m.face[t[smooth]]])

    # vertices: valence, face points, edge midpoints, crease neighbours
    valence = np.bincount(np.concatenate([a, b]), minlength=V).astype(np.float64)
    r = np.zeros((V, 3))
    np.add.at(r, a, mid)
    np.add.at(r, b, mid)
    faces_at = np.bincount(m.vert, minlength=V).astype(np.float64)
    q = np.zeros((V, 3))
    np.add.at(q, m.vert, fp[m.face])
    creases = np.bincount(np.concatenate([a[m.edge_crease], b[m.edge_crease]]), minlength=V)
    across = np.zeros((V, 3))
    np.add.at(across, a[m.edge_crease], p[b[m.edge_crease]])
    np.add.at(across, b[m.edge_crease], p[a[m.edge_crease]])
    n = np.maximum(valence, 1.0)[:, None]
    vp = ((n - 3.0) * p + q / np.maximum(faces_at, 1.0)[:, None] + 2.0 * r / n) / n
    crease_v = creases == 2
    vp[crease_v] = 0.75 * p[crease_v] + 0.125 * across[crease_v]
    corner = creases > 2
    vp[corner] = p[corner]
    return np.concatenate([vp, fp, ep])


def refine(m: Halfedges, points: np.ndarray, levels: int) -> tuple[Halfedges, np.ndarray]:
    for _ in range(levels):
        points = refine_points(m, points)
        m = refine_topology(m)
    return m, points


def quads(m: Halfedges) -> np.ndarray:
    """(F, 4) vertex indices of a refined mesh (every face a quad from level 1 on)."""
    if m.count != 4 * m.faces:
        raise ValueError("faces are quads only after one level of refinement")
    return m.vert.reshape(m.faces, 4)


def cage_halfedge(h: np.ndarray, levels: int) -> np.ndarray:
    """The cage halfedge a halfedge of level ``levels`` refines."""
    return np.asarray(h) >> (2 * levels)
