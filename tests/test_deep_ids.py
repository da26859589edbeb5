"""Deep id buffer (diffrast_cli/sge/deep_ids.py, glsl/include/deep_ids.glsl,
deep_composite.glsl and the hashed list of contributors.glsl, driven by the harness
tests/kinds/deep_tris) against a numpy reference written here from the definition:
the fragments of a sample are the triangles covering its centre (in its copy's
tile, the copy's shift applied), with opacity >= 1/255, sorted by depth
(window z = z/2 + 1/2, ties by id), truncated to K; the composite is
front-to-back "over" with early termination below transmittance 1e-4; the
contributors of a pixel are the fragments composited (up to termination) in
either copy of its pair, each once.

Samples whose centre lies within 1e-2 px of a triangle edge, or where two
fragments' depths are closer than 1e-5 (order up to rounding), are left out
of the comparison (about one sample in ten here); the tests check that they are few.
"""

from __future__ import annotations

import numpy as np
import pytest

from diffrast_cli.sge import deep_ids as D
from tests.kinds.deep_tris import DeepTriangles

T_MIN = np.float32(1e-4)
ALPHA_MIN = np.float32(1.0 / 255.0)


# ---------------------------------------------------------------- reference

def sample_centres(tile):
    w, h = tile
    xs = (np.arange(w) + 0.5) / w * 2 - 1
    ys = (np.arange(h) + 0.5) / h * 2 - 1
    return np.meshgrid(xs, ys)  # (h, w) each, NDC of the texel centres


def coverage(tris, tile, shift):
    """(T, h, w) covered, (T, h, w) window depth, (h, w) ambiguous."""
    w, h = tile
    X, Y = sample_centres(tile)
    px = 2.0 / min(w, h)  # NDC per pixel, the larger of the two axes
    cov = np.zeros((len(tris), h, w), bool)
    depth = np.zeros((len(tris), h, w))
    amb = np.zeros((h, w), bool)
    for t, tri in enumerate(tris.astype(np.float64)):
        p = tri[:3, :3].copy()
        p[:, :2] += shift
        e = []
        for i in range(3):
            a, b = p[i, :2], p[(i + 1) % 3, :2]
            n = np.hypot(*(b - a))
            e.append(((b[0] - a[0]) * (Y - a[1]) - (b[1] - a[1]) * (X - a[0])) / n)
            # distance to the edge segment: GL snaps vertices to 1/256 px, so closer is a coin toss
            u = np.clip(((X - a[0]) * (b[0] - a[0]) + (Y - a[1]) * (b[1] - a[1])) / n ** 2, 0, 1)
            amb |= np.hypot(X - a[0] - u * (b[0] - a[0]), Y - a[1] - u * (b[1] - a[1])) < 1e-2 * px
        e = np.stack(e)
        inside = np.all(e > 0, axis=0) | np.all(e < 0, axis=0)
        # barycentric interpolation of z (orthographic: linear in screen space)
        (x0, y0), (x1, y1), (x2, y2) = p[:, :2]
        det = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)
        l1 = ((X - x0) * (y2 - y0) - (x2 - x0) * (Y - y0)) / det
        l2 = ((x1 - x0) * (Y - y0) - (X - x0) * (y1 - y0)) / det
        z = p[0, 2] + l1 * (p[1, 2] - p[0, 2]) + l2 * (p[2, 2] - p[0, 2])
        cov[t] = inside
        depth[t] = 0.5 * z + 0.5
    return cov, depth, amb


def reference(tris, tile, copies, shift, k):
    """Per copy: list over samples (h, w) of the full front-to-back fragment list
    [(id + 1, depth, alpha)], and an ambiguity mask."""
    alphas = tris[:, 3, 3].astype(np.float32)
    out = []
    for c in range(copies):
        cov, depth, amb = coverage(tris, tile, np.array(shift) * c)
        h, w = amb.shape
        lists = np.empty((h, w), object)
        for y in range(h):
            for x in range(w):
                ts = [t for t in np.nonzero(cov[:, y, x])[0] if alphas[t] >= ALPHA_MIN]
                fr = sorted(((depth[t, y, x], t + 1) for t in ts))
                d = [f[0] for f in fr]
                if len(d) > 1 and np.min(np.diff(d)) < 1e-5 and np.min(np.diff(d)) != 0.0:
                    amb[y, x] = True
                lists[y, x] = [(i, dd, alphas[i - 1]) for dd, i in fr]
        out.append((lists, amb))
    return out


def composite(frags, colors, background):
    """float32 front-to-back over, as the shader does it; (rgb, T, contributor ids + 1)."""
    c = np.zeros(3, np.float32)
    t = np.float32(1.0)
    contrib = []
    for i, _, a in frags:
        a = np.float32(a)
        c = c + (t * a) * colors[i - 1]
        t = np.float32(t * (np.float32(1.0) - a))
        contrib.append(i)
        if t < T_MIN:
            break
    return c + t * background, t, contrib


# ---------------------------------------------------------------- scenes

def random_tris(n, seed, alpha=(0.15, 0.8), size=1.1, tilt=0.0):
    rng = np.random.default_rng(seed)
    tris = np.zeros((n, 4, 4), np.float32)
    centre = rng.uniform(-0.7, 0.7, (n, 1, 2))
    tris[:, :3, :2] = centre + rng.uniform(-size, size, (n, 3, 2))
    z = rng.uniform(-0.8, 0.8, (n, 1))
    tris[:, :3, 2] = np.clip(z + rng.uniform(-tilt, tilt, (n, 3)), -0.95, 0.95)
    tris[:, 3, :3] = rng.uniform(0, 1, (n, 3))
    tris[:, 3, 3] = rng.uniform(*alpha, n)
    return tris


def full_cover(z, alpha, color):
    """A triangle covering the whole tile at constant window depth."""
    tri = np.zeros((4, 4), np.float32)
    tri[:3, :3] = [[-3, -3, z], [5, -3, z], [-3, 5, z]]
    tri[3] = [*color, alpha]
    return tri


def render(device, kind, tris, k, tile=(24, 16), copies=2, shift=(0.031, -0.017), budget=None,
           max_contrib=None, background=(0.2, 0.3, 0.4)):
    cols = 2
    rows = -(-copies // cols)
    size = (cols * tile[0], rows * tile[1])
    deep = (D.KBuffer(device, size, k) if kind == "kbuffer"
            else D.LinkedLists(device, size, k, budget=budget if budget is not None else len(tris) * size[0] * size[1]))
    scene = DeepTriangles(device, deep, tris, tile, cols, rows, copies=copies, shift=shift,
                          background=background, write_contrib=True, write_frags=True, max_contrib=max_contrib)
    scene.build()
    scene.resolve()
    return deep, scene


def sample_index(deep, scene, copy, x, y):
    ox = (copy % scene.cols) * scene.tile[0]
    oy = (copy // scene.cols) * scene.tile[1]
    return (oy + y) * deep.width + ox + x


def clear_samples(deep, scene, ref):
    """(sample index, reference fragment list) of every sample of every copy that no
    edge makes ambiguous."""
    for c, (lists_, amb) in enumerate(ref):
        for y in range(scene.tile[1]):
            for x in range(scene.tile[0]):
                if not amb[y, x]:
                    yield sample_index(deep, scene, c, x, y), lists_[y, x]


KINDS = ["kbuffer", "lists"]


# ---------------------------------------------------------------- tests

@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("k", [4, 16])
def test_fragments_colours_and_contributors_match_reference(device, kind, k):
    tris = random_tris(28, seed=4, size=1.5)
    tris[5, 3, 3] = 0.002  # below 1/255: never recorded
    tile, copies, shift, bg = (24, 16), 2, (0.031, -0.017), np.array([0.2, 0.3, 0.4], np.float32)
    ref = reference(tris, tile, copies, shift, k)
    deep, scene = render(device, kind, tris, k, tile, copies, shift)
    try:
        frags = scene.read_frags()
        colors = scene.read_colors()
        header, lists = scene.read_contrib()
        cols = tris[:, 3, :3].astype(np.float32)
        max_depth = max(len(l) for lists_, _ in ref for l in lists_.ravel())
        assert max_depth > 4, "the scene must overflow K = 4 somewhere"
        checked = 0
        skipped = 0
        for y in range(tile[1]):
            for x in range(tile[0]):
                if any(amb[y, x] for _, amb in ref):
                    skipped += 1
                    continue
                checked += 1
                union = set()
                dropped = 0
                for c in range(copies):
                    full = ref[c][0][y, x]
                    want = full[:k]
                    dropped += max(0, len(full) - k)
                    got = frags[sample_index(deep, scene, c, x, y)]
                    n = len(want)
                    assert (got[:, 3] == n).all(), (kind, c, x, y)
                    assert list(got[:n, 1]) == [i for i, _, _ in want]
                    np.testing.assert_allclose(got[:n, 0].view(np.float32), [d for _, d, _ in want], atol=1e-6)
                    np.testing.assert_array_equal(got[:n, 2].view(np.float32), [a for _, _, a in want])
                    assert (got[n:, 0] == D.EMPTY).all()
                    rgb, t, contrib = composite(want, cols, bg)
                    np.testing.assert_allclose(colors[c, y, x, :3], rgb, atol=1e-5)
                    np.testing.assert_allclose(colors[c, y, x, 3], t, rtol=1e-5, atol=1e-7)
                    union |= {i - 1 for i in contrib}
                count = int(header[0, y, x, 0])
                assert count == len(union) and not count & 0x80000000
                assert sorted(lists[0, y, x, :count].tolist()) == sorted(union)
                if kind == "lists":
                    assert header[0, y, x, 2] == dropped
        assert skipped < 0.15 * tile[0] * tile[1] and checked > 300
    finally:
        scene.release()
        deep.release()


def test_kbuffer_keeps_the_k_nearest_sorted(device):
    """The raw k-buffer: per sample, the K smallest depth keys ascending, each with
    its own fragment's id and opacity; empty slots after."""
    k = 3
    tris = random_tris(24, seed=11, size=1.5, tilt=0.3)  # depth varies across each triangle
    tile, shift = (20, 20), (0.02, 0.0)
    ref = reference(tris, tile, 2, shift, k)
    deep, scene = render(device, "kbuffer", tris, k, tile, 2, shift)
    try:
        keys, ids, alphas = deep.read()
        overflowing = 0
        for s, full in clear_samples(deep, scene, ref):
            overflowing += len(full) > k
            want = full[:k]
            n = len(want)
            assert np.all(np.diff(keys[s, :n].astype(np.int64)) >= 0)
            assert ids[s, :n].tolist() == [i for i, _, _ in want]
            np.testing.assert_array_equal(alphas[s, :n], [a for _, _, a in want])
            assert (keys[s, n:] == D.EMPTY).all() and (ids[s, n:] == 0).all()
        assert overflowing > 20
    finally:
        scene.release()
        deep.release()


def test_lists_hold_every_fragment_and_flag_overflow(device):
    tris = random_tris(24, seed=5, size=1.5)
    tile, shift = (24, 16), (0.031, -0.017)
    ref = reference(tris, tile, 2, shift, 8)
    total = sum(len(l) for lists_, _ in ref for l in lists_.ravel())
    deep, scene = render(device, "lists", tris, 8, tile, 2, shift, budget=total + 7)
    try:
        heads, nodes, needed = deep.read()
        amb_count = sum(int(amb.sum()) for _, amb in ref)
        assert abs(needed - total) <= 4 * amb_count  # edge samples may go either way
        assert not deep.overflowed()
        for s, full in clear_samples(deep, scene, ref):
            node, seen = heads[s], []
            while node != D.EMPTY:
                seen.append(int(nodes[node, 1]))
                node = nodes[node, 3]
                assert len(seen) <= len(tris)
            assert sorted(seen) == sorted(i for i, _, _ in full)

        # Over budget: exactly `budget` nodes kept, each a real fragment, each linked once;
        # the counter says how many were needed.
        deep.grow(total // 3)
        scene.build()
        heads, nodes, needed = deep.read()
        assert deep.overflowed()
        assert abs(needed - total) <= 4 * amb_count and len(nodes) == total // 3
        linked = []
        for s in np.nonzero(heads != D.EMPTY)[0]:
            node = heads[s]
            while node != D.EMPTY:
                linked.append((int(s), int(node)))
                node = nodes[node, 3]
        assert sorted(n for _, n in linked) == list(range(total // 3))
        for s, n in linked:
            c = (s % deep.width) // tile[0] + scene.cols * ((s // deep.width) // tile[1])
            x, y = s % deep.width - (c % scene.cols) * tile[0], s // deep.width - (c // scene.cols) * tile[1]
            assert 0 <= x < tile[0] and 0 <= y < tile[1]
            frag = [f for f in ref[c][0][y, x] if f[0] == nodes[n, 1]]
            assert frag or ref[c][1][y, x], (s, n)
            if frag:
                assert np.float32(nodes[n, 2:3].view(np.float32)[0]) == frag[0][2]

        # Grown to what it needed, the next build is complete again.
        deep.grow(needed)
        scene.build()
        assert not deep.overflowed() and deep.read()[2] == needed
    finally:
        scene.release()
        deep.release()


@pytest.mark.parametrize("kind", KINDS)
def test_equal_depths_are_kept_and_ordered_by_id(device, kind):
    """Three full-cover triangles at one depth in front of two others, K = 4:
    the tie run is kept whole (ordered by id) and one of the two behind."""
    tris = np.stack([full_cover(0.5, 0.3, (1, 0, 0)), full_cover(-0.2, 0.3, (0, 1, 0)),
                     full_cover(-0.2, 0.3, (0, 0, 1)), full_cover(0.7, 0.3, (1, 1, 0)),
                     full_cover(-0.2, 0.3, (1, 0, 1))])
    deep, scene = render(device, kind, tris, 4, (8, 8), 2, (0.0, 0.0))
    try:
        frags = scene.read_frags()
        for c in range(2):
            got = frags[sample_index(deep, scene, c, 3, 5)]
            assert got[:, 1].tolist() == [2, 3, 5, 1]
            assert len(set(got[:3, 0].tolist())) == 1 and got[3, 0] > got[0, 0]
    finally:
        scene.release()
        deep.release()

    # K = 2 cuts the tie run: the k-buffer keeps two of the three tied fragments
    # (which two is up to the rasteriser), the lists' gather the two smallest ids.
    deep, scene = render(device, kind, tris, 2, (8, 8), 2, (0.0, 0.0))
    try:
        got = scene.read_frags()[:, :, 1]
        tiles = [sample_index(deep, scene, c, x, y) for c in range(2) for y in range(8) for x in range(8)]
        for s in tiles:
            assert got[s, 0] < got[s, 1] and {int(got[s, 0]), int(got[s, 1])} <= {2, 3, 5}
            if kind == "lists":
                assert got[s].tolist() == [2, 3]
    finally:
        scene.release()
        deep.release()


@pytest.mark.parametrize("kind", KINDS)
def test_early_termination_limits_contributors(device, kind):
    """Eight opaque-ish layers (alpha 0.95): transmittance 1.25e-4 after three,
    6.3e-6 after four, so exactly the four nearest contribute."""
    order = [5, 2, 7, 0, 3, 6, 1, 4]
    tris = np.stack([full_cover(-0.8 + 0.2 * order[i], 0.95, (i / 8, 1 - i / 8, 0.5)) for i in range(8)])
    deep, scene = render(device, kind, tris, 8, (8, 8), 2, (0.0, 0.0), background=(1, 1, 1))
    try:
        header, lists = scene.read_contrib()
        nearest = sorted(range(8), key=lambda i: order[i])[:4]
        assert (header[..., 0] == 4).all()
        for y in range(8):
            for x in range(8):
                assert sorted(lists[0, y, x, :4].tolist()) == sorted(nearest)
        frags = [(i + 1, order[i], np.float32(0.95)) for i in sorted(range(8), key=lambda i: order[i])]
        rgb, t, contrib = composite(frags, tris[:, 3, :3], np.ones(3, np.float32))
        assert len(contrib) == 4
        colors = scene.read_colors()
        np.testing.assert_allclose(colors[:, :, :, :3], np.broadcast_to(rgb, colors[..., :3].shape), atol=1e-5)
    finally:
        scene.release()
        deep.release()


@pytest.mark.parametrize("kind", KINDS)
def test_64_contributors_each_listed_once(device, kind):
    """K = 64 faint layers (no early termination: 0.985^64 = 0.38) in each copy,
    the minus copy shifted: the pixel's list holds the union of both copies'
    64 (more than 64 in all), each once, through the hash."""
    rng = np.random.default_rng(2)
    n = 110
    tris = random_tris(n, seed=9, alpha=(0.01, 0.02), size=1.6)
    tris[:58] = [full_cover(z, 0.015, rng.uniform(0, 1, 3)) for z in rng.uniform(-0.9, 0.9, 58)]
    tile, shift = (16, 16), (0.05, 0.04)
    ref = reference(tris, tile, 2, shift, 64)
    deep, scene = render(device, kind, tris, 64, tile, 2, shift, max_contrib=128)
    try:
        header, lists = scene.read_contrib()
        big = 0
        for y in range(tile[1]):
            for x in range(tile[0]):
                if ref[0][1][y, x] or ref[1][1][y, x]:
                    continue
                union = set()
                for c in range(2):
                    union |= {i - 1 for i in composite(ref[c][0][y, x][:64], tris[:, 3, :3],
                                                       np.zeros(3, np.float32))[2]}
                count = int(header[0, y, x, 0])
                got = lists[0, y, x, :count].tolist()
                assert len(got) == len(set(got)) == len(union) and set(got) == union
                big += count > 64
        assert big > 50
    finally:
        scene.release()
        deep.release()
