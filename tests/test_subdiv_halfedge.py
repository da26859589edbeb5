"""The halfedge Catmull-Clark refinement (diffrast_cli/scene/subdiv/halfedge.py, issue 13) against
a classic face-list implementation written here from the textbook rules, on small cages: a
cube, an open grid with a boundary, a cube with a crease loop, a triangle/quad mix. Two levels;
the refined halfedges map back to their cage halfedges by shifts of 2 bits."""

from __future__ import annotations

import numpy as np
import pytest

from diffrast_cli.errors import ConfigError
from diffrast_cli.scene.subdiv import halfedge as he


def classic(points, faces, creases=frozenset()):
    """One Catmull-Clark step on a face list: (points, quads). Boundary and crease edges take
    midpoints; vertices on two of them the crease rule, on more a corner."""
    p = np.asarray(points, float)
    edges = {}
    for f, poly in enumerate(faces):
        for k in range(len(poly)):
            key = frozenset((poly[k], poly[(k + 1) % len(poly)]))
            edges.setdefault(key, []).append(f)
    fp = [p[list(poly)].mean(axis=0) for poly in faces]
    sharp = {e for e, fs in edges.items() if len(fs) == 1 or e in creases}
    ep = {}
    for e, fs in edges.items():
        a, b = tuple(e)
        ep[e] = 0.5 * (p[a] + p[b]) if e in sharp else 0.25 * (p[a] + p[b] + fp[fs[0]] + fp[fs[1]])
    out = []
    for v in range(len(p)):
        inc = [e for e in edges if v in e]
        s = [e for e in inc if e in sharp]
        if len(s) == 2:
            out.append(0.75 * p[v] + 0.125 * sum(p[next(iter(e - {v}))] for e in s))
        elif len(s) > 2:
            out.append(p[v])
        else:
            n = len(inc)
            q = np.mean([fp[f] for f, poly in enumerate(faces) if v in poly], axis=0)
            r = np.mean([0.5 * (p[a] + p[b]) for a, b in (tuple(e) for e in inc)], axis=0)
            out.append((q + 2 * r + (n - 3) * p[v]) / n)
    index = {}
    pts = list(out)
    for f, x in enumerate(fp):
        index[("f", f)] = len(pts)
        pts.append(x)
    for e, x in ep.items():
        index[("e", e)] = len(pts)
        pts.append(x)
    quads = []
    for f, poly in enumerate(faces):
        n = len(poly)
        for k in range(n):
            v, nxt, prv = poly[k], poly[(k + 1) % n], poly[k - 1]
            quads.append((v, index[("e", frozenset((v, nxt)))], index[("f", f)], index[("e", frozenset((prv, v)))]))
    new_creases = set()
    for e in creases:
        a, b = tuple(e)
        new_creases |= {frozenset((a, index[("e", e)])), frozenset((b, index[("e", e)]))}
    return np.asarray(pts), quads, frozenset(new_creases)


CUBE_P = [(x, y, z) for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)]
CUBE_F = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
GRID_P = [(x, y, 0.1 * x * y) for y in range(3) for x in range(3)]
GRID_F = [(0, 1, 4, 3), (1, 2, 5, 4), (3, 4, 7, 6), (4, 5, 8, 7)]
PYRAMID_P = [(-1, -1, 0), (1, -1, 0), (1, 1, 0), (-1, 1, 0), (0, 0, 1.5)]
PYRAMID_F = [(0, 3, 2, 1), (0, 1, 4), (1, 2, 4), (2, 3, 4), (3, 0, 4)]
CASES = {"cube": (CUBE_P, CUBE_F, ()), "grid": (GRID_P, GRID_F, ()),
         "cube_crease": (CUBE_P, CUBE_F, ((0, 1), (1, 3), (3, 2), (2, 0))),
         "tri_quad_mix": (PYRAMID_P, PYRAMID_F, ((0, 4),))}


@pytest.mark.parametrize("name", list(CASES))
def test_two_levels_match_the_classic_rules(name):
    points, faces, creases = CASES[name]
    m = he.from_polygons(faces, len(points), creases)
    got_m, got = he.refine(m, np.asarray(points, float), 2)
    want, quads, crease_set = np.asarray(points, float), faces, frozenset(frozenset(c) for c in creases)
    for _ in range(2):
        want, quads, crease_set = classic(want, quads, crease_set)
    assert got.shape == want.shape
    # same points (the orders differ): each refined point has its twin in the reference
    d = np.linalg.norm(got[:, None] - want[None], axis=2)
    assert d.min(axis=1).max() < 1e-12 and d.min(axis=0).max() < 1e-12
    # same quads, compared by their corner positions
    key = lambda pts: tuple(sorted(tuple(np.round(x, 9)) for x in pts))        # noqa: E731
    assert sorted(key(got[q]) for q in he.quads(got_m)) == sorted(key(want[list(q)]) for q in quads)


def test_refined_topology_is_consistent_and_maps_to_the_cage():
    m = he.from_polygons(PYRAMID_F, len(PYRAMID_P))
    r = he.refine_topology(he.refine_topology(m))
    h = np.arange(r.count)
    assert np.all(r.next[r.prev] == h) and np.all(r.prev[r.next] == h)
    inner = r.twin >= 0
    assert np.all(r.twin[r.twin[inner]] == h[inner])
    assert np.all(r.vert[r.twin[inner]] == r.vert[r.next[inner]])       # a twin runs the other way
    assert r.faces == 4 * m.count and r.count == 16 * m.count
    # a level-2 face is a level-1 halfedge; it lies in the cage face its halfedges come from
    assert np.all(m.face[he.cage_halfedge(r.face, 1)] == m.face[he.cage_halfedge(h, 2)])
    # Euler characteristic of the closed pyramid stays 2
    assert r.vertices - r.edges + r.faces == 2


def test_bad_cages_are_one_line_errors():
    with pytest.raises(ConfigError, match="used twice in the same direction"):
        he.from_polygons([(0, 1, 2), (0, 1, 3)], 4)
    with pytest.raises(ConfigError, match="crease 0-2 is not an edge"):
        he.from_polygons([(0, 1, 2, 3)], 4, creases=[(0, 2)])
    with pytest.raises(ConfigError, match="needs at least 3"):
        he.from_polygons([(0, 1)], 2)


@pytest.mark.parametrize("name", list(CASES))
def test_stencil_tables_equal_the_point_rules(name):
    """Each level as a stencil table (the GPU gathers) gives the same points as refine_points;
    the composed table of two levels too, and its rows are affine (weights sum to 1)."""
    from diffrast_cli.scene.subdiv import stencils as st
    points, faces, creases = CASES[name]
    p0 = np.asarray(points, float) + np.random.default_rng(1).normal(0, 0.1, (len(points), 3))
    m = he.from_polygons(faces, len(points), creases)
    s1 = st.level_stencil(m)
    assert np.abs(s1.apply(p0) - he.refine_points(m, p0)).max() < 1e-12
    m1 = he.refine_topology(m)
    s2 = st.level_stencil(m1)
    total = st.compose(s2, s1)
    _, want = he.refine(m, p0, 2)
    assert np.abs(total.apply(p0) - want).max() < 1e-12
    sums = np.add.reduceat(total.weight, total.start[:-1])
    assert np.abs(sums - 1.0).max() < 1e-12
    # a refined point of cage face f depends only on the vertices of faces sharing a vertex with f
    m2 = he.refine_topology(m1)
    quads = he.quads(m2)
    face_of_quad = m.face[he.cage_halfedge(np.arange(len(quads)), 1)]
    for f, poly in enumerate(faces):
        ring = {v for other in faces if set(other) & set(poly) for v in other}
        used = {int(c) for q in quads[face_of_quad == f] for v in q
                for c in total.index[total.start[v]:total.start[v + 1]]}
        assert used <= ring


def test_corner_values_refine_linearly():
    """Face-varying values (UVs): children take the corner, edge midpoints and the face mean;
    a value linear in the position stays linear on a flat grid."""
    from diffrast_cli.scene.subdiv import stencils as st
    m = he.from_polygons(GRID_F, len(GRID_P))
    flat = np.asarray(GRID_P, float)[:, :2]
    uv = flat[m.vert] / 2.0
    r1 = st.refine_corner_values(m, uv)
    m1 = he.refine_topology(m)
    lin = he.refine_points(m, np.c_[flat, np.zeros(len(flat))])[:, :2]
    # on the flat grid (z dropped) the interior refined points sit where linear interpolation puts them
    inner = np.abs(lin[m1.vert] - 2.0 * r1).max(axis=1) < 1e-12
    assert inner.sum() >= 16
    assert np.allclose(r1[0::4], uv)
    assert np.allclose(r1[2::4].reshape(-1, 2), np.repeat(np.array([uv[m.face == f].mean(0) for f in range(4)]), 4, 0))
