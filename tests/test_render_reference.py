"""Clean renders (``Estimator.color``: R, then resolve.comp) against a numpy reference renderer.

The reference below is written from the documented conventions, not from diffrast's code: it
imports nothing of diffrast's raster or shading code (only the test scene builders, and the
loaded mesh's faces and UVs, which are input data). What it implements, and where it is written
down:

Image and samples (README "Job file", scene/camera.py, scene/cameras.py, include/resolve.glsl)
  * W x H pixels, image row 0 = top. NDC x = -1 is the left edge of column 0 and NDC y = +1 the
    top edge of row 0 (pixel (i, j) covers [i, i+1) x [j, j+1), centre (i + 0.5, j + 0.5)).
  * Supersampling SS: the render has (W*SS) x (H*SS) samples at their centres; the pixel is the
    plain mean of its SS x SS samples; a sample showing nothing has ``render.background``.
2D soup (README, scene/soup.py, scene/camera.orthographic_2d)
  * theta = corner x, y (6 per triangle), corner depths z (3 per triangle), flat RGB (3 per
    triangle). x, y in [-1, 1] over the image (y up), z in [0, 1] with 0 nearest: clip =
    (x, y, 2z - 1, 1); parts outside 0 <= z <= 1 are clipped away.
Perspective (README ``render.camera``)
  * clip = P @ V, the standard OpenGL pair: V = gluLookAt(position, look_at, up) (camera looks
    down -Z, +Y up), P = gluPerspective(fov_y, W / H, near, far).
Visibility (GL)
  * a sample is covered by a triangle when it is inside the projected triangle (either winding;
    soups and open meshes are not culled); its depth is NDC z interpolated linearly in screen
    space; the nearest triangle wins, test "<" against the cleared depth 1, triangles drawn in
    index order (an equal depth keeps the earlier one).
  * Which triangle owns a sample exactly on an edge is GL's fill rule (and vertices are snapped to
    8 subpixel bits), so the reference marks a sample *ambiguous* when it lies within EDGE_BAND
    framebuffer pixels of an edge, of a clip plane or of the line where two depths cross. Only
    pixels with ambiguous samples may differ, by at most (ambiguous samples / SS^2) times the
    largest colour jump, and at most MAX_BAD_FRACTION of the pixels.
Meshes (glsl/mesh_shade.glsl, include/mesh_common.glsl, vertex_normals.comp, io/meshes.py)
  * barycentrics are perspective-correct: screen-space barycentrics divided by each corner's
    clip w, renormalised. UVs and vertex colours are interpolated with them.
  * texture: parameters are (TH, TW, 3), row 0 = the top of the image; UV v = 0 is the bottom.
    The texel grid position of (u, v) is (u * TW - 0.5, (1 - v) * TH - 0.5): texel centres at
    (i + 0.5) / TW. Bilinear filtering of the 4 neighbouring texels, with indices WRAPPED
    (repeat, as mesh_shade.glsl's comment says), not clamped: near u = 0 the footprint reaches
    the last column. The scenes below use UVs beyond [0, 1] so that the wrap is visible.
    DISAGREEMENT: on the CPU renderer the wrap is wrong for texture sides that are not powers of
    two (texel_index uses % on negative ints, undefined in GLSL); see
    test_texture_wrap_non_power_of_two. The other mesh tests use an 8 x 4 texture.
  * unlit: the base colour. Lambert: base * (ambient + (1 - ambient) * max(n . l, 0)), with
    l = light_dir / |light_dir| and n the unit face normal cross(p1 - p0, p2 - p0) (normals:
    face), or (normals: smooth) the barycentric mix of the vertex normals, renormalised. A vertex
    normal is the AREA-weighted sum of the normals of its triangles, normalised
    (vertex_normals.comp: the sum of the unnormalised cross products, whose length is twice the
    area). Two-sided: n is flipped when it faces away from the camera, n . (eye - p0) < 0.

Every scene also checks that it can tell the documented convention from a plausible other one
(the image upside down, z = 1 nearest, z < 0 drawn, clamp instead of wrap, texture rows
flipped, affine instead of perspective-correct interpolation, angle-weighted or face normals,
|n . l| instead of max(n . l, 0), one-sided lighting): the reference with the other convention
must disagree with the render at many pixels. The light directions are not unit vectors, so a
renderer that skipped normalising them would fail too.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.mesh_scenes import grid_mesh, mesh_problem
from tests.scenes import make_problem

EDGE_BAND = 1.0 / 32.0     # framebuffer pixels (8 subpixel bits move an edge by <= 1/512)
MAX_BAD_FRACTION = 0.005   # of the pixels, at most that many may differ (each only where ambiguous)
SOUP_TOL = 1e-5            # flat float32 colours, a float32 mean of SS^2 samples
MESH_TOL = 1e-4            # float32 barycentrics (homogeneous edge functions), bilinear, shading


# -- numpy reference -------------------------------------------------------------------------------


def ref_look_at(eye, target, up) -> np.ndarray:
    """gluLookAt: world -> camera, the camera at ``eye`` looking down its -Z towards ``target``."""
    eye, target, up = (np.asarray(v, np.float64) for v in (eye, target, up))
    back = eye - target
    back /= np.linalg.norm(back)
    right = np.cross(up, back)
    right /= np.linalg.norm(right)
    true_up = np.cross(back, right)
    rot = np.stack([right, true_up, back])
    m = np.eye(4)
    m[:3, :3] = rot
    m[:3, 3] = -rot @ eye
    return m


def ref_perspective(fov_y_deg, aspect, near, far) -> np.ndarray:
    """gluPerspective: camera space -> clip, NDC z = -1 at the near plane, +1 at the far one."""
    f = 1.0 / math.tan(math.radians(fov_y_deg) / 2.0)
    return np.array([[f / aspect, 0, 0, 0],
                     [0, f, 0, 0],
                     [0, 0, (far + near) / (near - far), 2 * far * near / (near - far)],
                     [0, 0, -1, 0]], np.float64)


def ref_view_proj(camera: dict, w: int, h: int) -> np.ndarray:
    return ref_perspective(camera["fov_y"], w / h, camera["near"], camera["far"]) @ \
        ref_look_at(camera["position"], camera["look_at"], camera["up"])


def to_clip(points: np.ndarray, view_proj: np.ndarray) -> np.ndarray:
    p = np.asarray(points, np.float64)
    return np.concatenate([p, np.ones(p.shape[:-1] + (1,))], axis=-1) @ view_proj.T


def _plane_gradient(v: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Gradient (d/dX, d/dY) of the affine function taking the values z at the 2D points v."""
    m = np.c_[v, np.ones(3)]
    return np.linalg.solve(m, z)[:2]


class Raster:
    """Visibility of triangles (NDC corners, in draw order) on the (H*SS) x (W*SS) sample grid.

    Arrays are per sample, flattened from (H*SS, W*SS) with row 0 = top: ``tri`` (-1: none),
    ``lam`` (screen-space barycentrics), ``ambiguous`` (see the module docstring)."""

    def __init__(self, ndc: np.ndarray, w: int, h: int, ss: int):
        self.w, self.h, self.ss = w, h, ss
        fw, fh = w * ss, h * ss
        xs = np.arange(fw) + 0.5
        ys = (np.arange(fh) + 0.5)[::-1]          # window y grows upwards; row 0 = top
        X, Y = np.meshgrid(xs, ys)
        P = np.stack([X.ravel(), Y.ravel()], axis=1)
        n = len(P)
        self.tri = np.full(n, -1)
        self.lam = np.zeros((n, 3))
        self.ambiguous = np.zeros(n, bool)
        self.depth_complexity = np.zeros(n, int)  # how many triangles cover a sample
        depth = np.full(n, np.inf)
        grad = np.zeros((n, 2))                   # depth gradient (per pixel) of the sample's winner
        scale = np.array([fw / 2.0, fh / 2.0])
        for t, corners in enumerate(np.asarray(ndc, np.float64)):
            v = (corners[:, :2] + 1.0) * scale    # window coordinates
            z = corners[:, 2]
            area2 = (v[1, 0] - v[0, 0]) * (v[2, 1] - v[0, 1]) - (v[1, 1] - v[0, 1]) * (v[2, 0] - v[0, 0])
            if area2 == 0.0:
                continue
            lam = np.empty((n, 3))
            dist = np.empty((n, 3))               # signed distance to each edge, > 0 inside
            for k in range(3):
                a, b = v[(k + 1) % 3], v[(k + 2) % 3]
                e = (b[0] - a[0]) * (P[:, 1] - a[1]) - (b[1] - a[1]) * (P[:, 0] - a[0])
                lam[:, k] = e / area2
                dist[:, k] = e * np.sign(area2) / np.hypot(*(b - a))
            zs = lam @ z
            g = _plane_gradient(v, z)
            gn = max(np.hypot(*g), 1e-300)
            # clip planes z = -1 and z = +1 (also the depth test against the cleared 1) as edges
            dist = np.c_[dist, (zs + 1.0) / gn, (1.0 - zs) / gn]
            inner = dist.min(axis=1)
            covered = inner > 0.0
            edge = np.abs(inner) < EDGE_BAND
            # where this triangle's depth crosses the current winner's
            dgn = np.maximum(np.hypot(*(g[None] - grad).T), 1e-300)
            tie = (covered | edge) & np.isfinite(depth) & (np.abs(zs - depth) < EDGE_BAND * dgn + 1e-6)
            self.ambiguous |= edge | tie
            self.depth_complexity += covered
            wins = covered & (zs < depth)
            depth[wins], grad[wins], self.tri[wins], self.lam[wins] = zs[wins], g, t, lam[wins]
        self.depth = depth

    def resolve(self, sample_colors: np.ndarray) -> np.ndarray:
        """(samples, 3) -> (H, W, 3): the mean of each pixel's SS x SS samples."""
        h, w, ss = self.h, self.w, self.ss
        return sample_colors.reshape(h, ss, w, ss, 3).mean(axis=(1, 3))

    def ambiguous_per_pixel(self) -> np.ndarray:
        h, w, ss = self.h, self.w, self.ss
        return self.ambiguous.reshape(h, ss, w, ss).sum(axis=(1, 3))

    def covered(self) -> np.ndarray:
        return self.tri >= 0


def assert_matches(gl: np.ndarray, ref: np.ndarray, raster: Raster, tol: float, jump: float, what: str):
    """Equal within ``tol`` except at a few pixels with ambiguous samples (module docstring)."""
    assert gl.shape == ref.shape, f"{what}: shape {gl.shape} != {ref.shape}"
    assert np.isfinite(gl).all(), f"{what}: non-finite pixels"
    diff = np.abs(gl - ref).max(axis=2)
    bad = diff > tol
    n_amb = raster.ambiguous_per_pixel()
    allowed = n_amb * jump / raster.ss ** 2 + tol
    unexplained = np.argwhere(bad & (diff > allowed))
    assert len(unexplained) == 0, (
        f"{what}: {len(unexplained)} pixels off the reference (max |diff| {diff.max():.3g}); first (row, col): "
        + "; ".join(f"{tuple(rc)} gl {np.round(gl[tuple(rc)], 5)} ref {np.round(ref[tuple(rc)], 5)}"
                    for rc in unexplained[:4]))
    limit = max(1, int(MAX_BAD_FRACTION * diff.size))
    assert bad.sum() <= limit, f"{what}: {bad.sum()} pixels differ at edges (at most {limit} allowed)"


def assert_differs(gl: np.ndarray, alt: np.ndarray, what: str, tol: float, min_pixels: int = 8):
    """The reference under another convention must be told apart from the render."""
    n = int((np.abs(gl - alt).max(axis=2) > 10 * tol).sum())
    assert n >= min_pixels, f"the scene cannot tell {what}: only {n} pixels differ"


# -- soups -----------------------------------------------------------------------------------------

W, H = 40, 28     # not square: x and y, width and height cannot be swapped unnoticed
BACKGROUND = (0.15, 0.35, 0.6)


def soup_theta(xy: np.ndarray, z: np.ndarray, colors: np.ndarray) -> np.ndarray:
    """The soup parameter vector: corner x, y (6 per triangle), corner z (3), RGB (3)."""
    return np.concatenate([np.ravel(xy), np.ravel(z), np.ravel(colors)]).astype(np.float32)


def soup_2d_scene(seed: int = 0):
    """Random triangles (some crossing the image border, depths varying across each) and
    hand-placed occluders: a later triangle behind an earlier one and one in front of it, and a
    triangle whose near corner goes below z = 0 (clipped)."""
    rng = np.random.default_rng(seed)
    n = 14
    centre = rng.uniform(-0.85, 0.85, (n, 1, 2))
    xy = centre + rng.uniform(-0.5, 0.5, (n, 3, 2))
    z = rng.uniform(0.05, 0.95, (n, 1)) + rng.uniform(-0.04, 0.04, (n, 3))
    colors = rng.uniform(0.0, 1.0, (n, 3))
    hand_xy = np.array([[[-0.9, -0.9], [0.2, -0.9], [-0.9, 0.6]],     # drawn first, in the middle
                        [[-0.6, -0.7], [0.5, -0.4], [-0.3, 0.4]],     # drawn later, behind it
                        [[-0.7, -0.2], [0.0, -0.95], [0.1, 0.1]],     # drawn later, in front of it
                        [[0.3, 0.3], [1.1, 0.2], [0.6, 1.1]]])        # near corner clipped (z < 0)
    hand_z = np.array([[0.5, 0.5, 0.5], [0.7, 0.65, 0.72], [0.3, 0.32, 0.28], [-0.4, 0.2, 0.1]])
    hand_c = np.array([[0.9, 0.1, 0.1], [0.1, 0.9, 0.1], [0.95, 0.9, 0.2], [0.6, 0.2, 0.8]])
    return np.concatenate([hand_xy, xy]), np.concatenate([hand_z, z]), np.concatenate([hand_c, colors])


def render_soup_reference(ndc: np.ndarray, colors: np.ndarray, ss: int, flip: bool = False):
    raster = Raster(ndc, W, H, ss)
    samples = np.where(raster.covered()[:, None], np.asarray(colors, np.float64)[raster.tri],
                       np.asarray(BACKGROUND, np.float64))
    img = raster.resolve(samples)
    return (img[::-1] if flip else img), raster


def colour_jump(colors) -> float:
    every = np.vstack([colors, BACKGROUND])
    return float(np.abs(every[:, None] - every[None]).max())


def check_soup(device, xy, z, colors, ndc, ss: int, extra: dict, what: str):
    target = np.random.default_rng(5).uniform(0, 1, (H, W, 3)).astype(np.float32)
    problem = make_problem(device, target, triangles=len(colors), supersample=ss,
                           extra={"render.background": list(BACKGROUND), **extra})
    try:
        est = problem.estimator
        est.upload(soup_theta(xy, z, colors))
        out = est.evaluate(images=True)
        gl = out["images"][0]
    finally:
        problem.release()
    ref, raster = render_soup_reference(ndc, colors, ss)
    # the scene is not vacuous: background, overlaps and most triangles are seen
    assert 0.1 < raster.covered().mean() < 0.95
    assert (raster.depth_complexity >= 2).mean() > 0.1
    assert len(np.unique(raster.tri[raster.tri >= 0])) >= 0.7 * len(colors)
    assert_matches(gl, ref, raster, SOUP_TOL, colour_jump(colors), what)
    # the loss partial sums of the same pass agree with the image read back (float16 target)
    t16 = target.astype(np.float16).astype(np.float64)
    assert out["mse"] == pytest.approx(np.mean((gl - t16) ** 2), rel=1e-4)
    assert out["mae"] == pytest.approx(np.mean(np.abs(gl - t16)), rel=1e-4)
    return gl, ref, raster


@pytest.mark.parametrize("ss", [1, 2, 3])
def test_soup_2d_matches_reference(device, ss):
    xy, z, colors = soup_2d_scene()
    # 2D mode: NDC is (x, y, 2z - 1), straight from the documented convention
    ndc = np.concatenate([xy, 2.0 * z[..., None] - 1.0], axis=2)
    gl, ref, raster = check_soup(device, xy, z, colors, ndc, ss, {}, f"2D soup, SS {ss}")
    # the hand-placed occluders decide what is seen, by depth and not by draw order
    tri = raster.tri.reshape(H * ss, W * ss)
    assert (tri == 0).any() and (tri == 2).any()
    assert (raster.depth_complexity >= 3).any()
    # and the reference with another convention would not pass
    assert_differs(gl, render_soup_reference(ndc, colors, ss, flip=True)[0], "the image upside down", SOUP_TOL)
    assert_differs(gl, render_soup_reference(ndc * [1, 1, -1], colors, ss)[0], "z = 1 nearest", SOUP_TOL)
    unclipped = ndc.copy()
    unclipped[3, :, 2] = np.maximum(unclipped[3, :, 2], -1.0)     # its part at z < 0 drawn after all
    assert_differs(gl, render_soup_reference(unclipped, colors, ss)[0], "z < 0 clipped from drawn", SOUP_TOL)


def test_soup_2d_occlusion_is_by_depth_not_order(device):
    """Three full-overlap triangles drawn back to front, then front to back: the same image."""
    xy = np.array([[[-0.8, -0.8], [0.8, -0.7], [0.0, 0.9]],
                   [[-0.9, 0.5], [0.6, 0.8], [-0.2, -0.9]],
                   [[0.9, -0.2], [-0.5, 0.95], [-0.6, -0.95]]])
    z = np.array([[0.8, 0.8, 0.8], [0.5, 0.45, 0.55], [0.2, 0.25, 0.15]])
    colors = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    images = []
    for order in ([0, 1, 2], [2, 1, 0]):
        ndc = np.concatenate([xy[order], 2.0 * z[order][..., None] - 1.0], axis=2)
        problem = make_problem(device, np.zeros((H, W, 3), np.float32), triangles=3,
                               extra={"render.background": list(BACKGROUND)})
        try:
            problem.estimator.upload(soup_theta(xy[order], z[order], colors[order]))
            gl = problem.estimator.color()
        finally:
            problem.release()
        ref, raster = render_soup_reference(ndc, colors[order], 1)
        assert_matches(gl, ref, raster, SOUP_TOL, 1.0, f"occlusion, order {order}")
        images.append(gl)
    same = np.abs(images[0] - images[1]).max(axis=2) <= SOUP_TOL
    assert same.mean() > 0.99
    assert (np.abs(images[0] - colors[2]).max(axis=2) < SOUP_TOL).mean() > 0.2   # the front one is seen


PERSPECTIVE_CAMERA = {"position": [0.9, 0.6, 2.6], "look_at": [0.1, -0.15, 0.0], "up": [0.1, 1.0, 0.0],
                      "fov_y": 55.0, "near": 0.5, "far": 12.0}


@pytest.mark.parametrize("ss", [1, 2])
def test_soup_perspective_matches_reference(device, ss):
    rng = np.random.default_rng(0)
    n = 16
    pts = rng.uniform(-0.7, 0.7, (n, 1, 3)) + rng.uniform(-1, 1, (n, 3, 3)) * [1.2, 1.2, 0.4]
    colors = rng.uniform(0.0, 1.0, (n, 3))
    vp = ref_view_proj(PERSPECTIVE_CAMERA, W, H)
    clip = to_clip(pts, vp)
    assert (clip[..., 3] > PERSPECTIVE_CAMERA["near"]).all()          # nothing crosses the near plane
    ndc = clip[..., :3] / clip[..., 3:]
    extra = {"render.projection": "perspective", "render.camera": PERSPECTIVE_CAMERA}
    gl, ref, raster = check_soup(device, pts[..., :2], pts[..., 2], colors, ndc, ss, extra,
                                 f"perspective soup, SS {ss}")
    # the depth test sees perspective depth: with z from another camera distance the picture changes
    other = to_clip(pts, ref_view_proj({**PERSPECTIVE_CAMERA, "fov_y": 50.0}, W, H))
    assert_differs(gl, render_soup_reference(other[..., :3] / other[..., 3:], colors, ss)[0],
                   "fov_y 50 from 55", SOUP_TOL)
    flat = ndc.copy()
    flat[..., 2] = -flat[..., 2]
    assert_differs(gl, render_soup_reference(flat, colors, ss)[0], "the depth order reversed", SOUP_TOL)


# -- meshes ----------------------------------------------------------------------------------------

MW, MH = 44, 36
MESH_CAMERA = {"position": [0.9, -1.4, 2.3], "look_at": [0.0, 0.0, 0.0], "up": [0.0, 1.0, 0.0],
               "fov_y": 48.0, "near": 0.1, "far": 100.0}
TEX_W, TEX_H = 8, 4     # powers of two: see test_texture_wrap_non_power_of_two


def _grid(vertex_colors: bool, tex_size=(TEX_W, TEX_H)):
    mesh = grid_mesh(n=5, size=0.9, bump=0.25, seed=3)
    if vertex_colors:
        mesh.texture, mesh.uvs = None, None
        mesh.vertex_colors = np.full((len(mesh.positions), 3), 0.5, np.float32)
    else:
        mesh.uvs = (mesh.uvs * 1.3 - 0.15).astype(np.float32)    # beyond [0, 1]: the wrap is seen
        mesh.texture = np.full((tex_size[1], tex_size[0], 3), 0.5, np.float32)
    return mesh


def shade_mesh_reference(raster: Raster, clip: np.ndarray, pos: np.ndarray, faces: np.ndarray, *, uvs=None,
                         texture=None, vertex_colors=None, model="unlit", normals="face", light=(0, 0, 1),
                         ambient=0.0, eye=(0, 0, 0), wrap=True, perspective_correct=True, weighting="area",
                         two_sided=True, back_lit="zero") -> np.ndarray:
    """Sample colours (S, 3) of a mesh seen through ``raster`` (module docstring); the keyword
    options after ``eye`` select other conventions, to show that the scenes tell them apart."""
    hit = raster.covered()
    tri = raster.tri[hit]
    w = raster.lam[hit]
    if perspective_correct:
        w = w / clip[faces[tri], 3]
        w /= w.sum(axis=1, keepdims=True)
    if texture is not None:
        uv = np.einsum("sk,skc->sc", w, uvs[tri].astype(np.float64))
        th, tw = texture.shape[:2]
        fx, fy = uv[:, 0] * tw - 0.5, (1.0 - uv[:, 1]) * th - 0.5
        x0, y0 = np.floor(fx).astype(int), np.floor(fy).astype(int)
        ax, ay = (fx - x0)[:, None], (fy - y0)[:, None]

        def at(x, y):
            if wrap:
                return texture[np.mod(y, th), np.mod(x, tw)]
            return texture[np.clip(y, 0, th - 1), np.clip(x, 0, tw - 1)]

        base = (at(x0, y0) * (1 - ax) + at(x0 + 1, y0) * ax) * (1 - ay) \
            + (at(x0, y0 + 1) * (1 - ax) + at(x0 + 1, y0 + 1) * ax) * ay
    else:
        base = np.einsum("sk,skc->sc", w, vertex_colors[faces[tri]])
    if model == "lambert":
        p = pos[faces]                                                   # (F, 3, 3)
        face_n = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])          # length: twice the area
        if normals == "face":
            n = face_n[tri]
        else:
            if weighting == "area":
                contrib = face_n
            else:                                                        # angle-weighted unit normals
                unit = face_n / np.linalg.norm(face_n, axis=1, keepdims=True)
                contrib = np.zeros((len(faces), 3, 3))
                for k in range(3):
                    a = p[:, (k + 1) % 3] - p[:, k]
                    b = p[:, (k + 2) % 3] - p[:, k]
                    cos = np.einsum("ij,ij->i", a, b) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
                    contrib[:, k] = unit * np.arccos(np.clip(cos, -1, 1))[:, None]
            vn = np.zeros_like(pos)
            for k in range(3):
                np.add.at(vn, faces[:, k], contrib if contrib.ndim == 2 else contrib[:, k])
            vn /= np.linalg.norm(vn, axis=1, keepdims=True)
            n = np.einsum("sk,skc->sc", w, vn[faces[tri]])
        n = n / np.linalg.norm(n, axis=1, keepdims=True)
        if two_sided:
            away = np.einsum("sc,sc->s", n, np.asarray(eye, np.float64) - p[tri, 0]) < 0
            n[away] = -n[away]
        l = np.asarray(light, np.float64) / np.linalg.norm(light)
        ndl = n @ l
        ndl = np.maximum(ndl, 0.0) if back_lit == "zero" else np.abs(ndl)
        base = base * (ambient + (1.0 - ambient) * ndl)[:, None]
    return base


MESH_CASES = {
    # name: (vertex colours?, shading, supersample, camera overrides)
    "texture-unlit": (False, {"model": "unlit"}, 1, {}),
    "texture-lambert-face": (False, {"model": "lambert", "normals": "face",
                                     "light_dir": [1.0, -0.5, 0.2], "ambient": 0.2}, 2, {}),
    "texture-lambert-smooth": (False, {"model": "lambert", "normals": "smooth",
                                       "light_dir": [-0.3, 1.0, 0.25], "ambient": 0.35}, 1, {}),
    "vertex-colors-lambert-smooth": (True, {"model": "lambert", "normals": "smooth",
                                            "light_dir": [2.0, 0.5, 0.3], "ambient": 0.1}, 2, {}),
    "back-side-lambert-face": (False, {"model": "lambert", "normals": "face",
                                       "light_dir": [-0.4, 1.0, -0.3], "ambient": 0.25}, 1,
                               {"position": [-0.8, 1.1, -2.4]}),
}


def render_mesh_case(device, tmp_path, vcol: bool, shading: dict, ss: int, camera: dict,
                     tex_size=(TEX_W, TEX_H)):
    """Render the jittered grid (random texture or vertex colours) with diffrast; returns the
    image, the reference raster and ``reference(**other_conventions)`` -> (H, W, 3)."""
    mesh = _grid(vcol, tex_size)
    problem = mesh_problem(device, tmp_path, mesh, np.zeros((MH, MW, 3), np.float32), extra={
        "render.camera": camera, "render.supersample": ss, "render.background": list(BACKGROUND),
        "scene.shading": {"light_dir": [0.3, 0.5, 1.0], **shading}})
    rng = np.random.default_rng(7)
    try:
        scene, layout = problem.scene, problem.scene.layout
        faces = np.asarray(scene.faces, np.int64)
        uvs = None if vcol else np.asarray(scene.mesh.uvs, np.float64)
        # irregular triangles: areas and angles differ, so the normal weighting matters
        pos = np.asarray(scene.mesh.positions, np.float64).copy()
        pos += rng.uniform(-1, 1, pos.shape) * [0.12, 0.12, 0.15]
        pos = pos.astype(np.float32)
        theta = problem.theta0.copy()
        theta[layout.slice("positions")] = pos.ravel()
        texture = colors = None
        if vcol:
            colors = rng.uniform(0.05, 0.95, (len(pos), 3)).astype(np.float32)
            theta[layout.slice("colors")] = colors.ravel()
        else:
            texture = rng.uniform(0.05, 0.95, (tex_size[1], tex_size[0], 3)).astype(np.float32)  # row 0 = top
            assert layout["texture"].count == texture.size
            theta[layout.slice("texture")] = texture.ravel()
        problem.estimator.upload(theta)
        gl = problem.estimator.color()
    finally:
        problem.release()

    pos = pos.astype(np.float64)
    clip = to_clip(pos, ref_view_proj(camera, MW, MH))
    assert (clip[:, 3] > camera["near"]).all()
    raster = Raster((clip[:, :3] / clip[:, 3:])[faces], MW, MH, ss)
    assert 0.3 < raster.covered().mean() < 0.95
    kw = dict(uvs=uvs, texture=None if vcol else texture.astype(np.float64),
              vertex_colors=None if not vcol else colors.astype(np.float64), model=shading["model"],
              normals=shading.get("normals", "face"), light=shading.get("light_dir"),
              ambient=shading.get("ambient", 0.0), eye=camera["position"])

    def reference(**other):
        samples = np.tile(np.asarray(BACKGROUND, np.float64), (len(raster.tri), 1))
        samples[raster.covered()] = shade_mesh_reference(raster, clip, pos, faces, **{**kw, **other})
        return raster.resolve(samples)

    return gl, raster, reference, kw


@pytest.mark.parametrize("case", list(MESH_CASES))
def test_mesh_matches_reference(device, tmp_path, case):
    vcol, shading, ss, cam_over = MESH_CASES[case]
    gl, raster, reference, kw = render_mesh_case(device, tmp_path, vcol, shading, ss, {**MESH_CAMERA, **cam_over})
    assert_matches(gl, reference(), raster, MESH_TOL, 1.0, case)
    # the scene tells the documented conventions from others
    assert_differs(gl, reference(perspective_correct=False), "affine from perspective-correct", MESH_TOL)
    if not vcol:
        assert_differs(gl, reference(wrap=False), "clamp from wrap", MESH_TOL)
        assert_differs(gl, reference(texture=kw["texture"][::-1]), "texture row 0 at the bottom", MESH_TOL)
    if shading["model"] == "lambert":
        assert_differs(gl, reference(model="unlit"), "lit from unlit", MESH_TOL)
        assert_differs(gl, reference(back_lit="abs"), "max(n.l, 0) from |n.l|", MESH_TOL)
        if shading["normals"] == "smooth":
            assert_differs(gl, reference(weighting="angle"), "angle- from area-weighted normals", MESH_TOL)
            assert_differs(gl, reference(normals="face"), "smooth from face normals", MESH_TOL)
        if case.startswith("back"):
            assert_differs(gl, reference(two_sided=False), "two-sided from one-sided lighting", MESH_TOL)


def test_texture_wrap_non_power_of_two(device, tmp_path):
    """The documented wrap for a 5 x 3 texture, UVs beyond [0, 1] (negative texel indices).

    texel_index() in glsl/mesh_shade.glsl once wrapped with ((t % size) + size) % size; GLSL leaves
    % undefined for negative operands and llvmpipe takes the unsigned remainder (texel -1 of a
    5-wide texture read column 0, not 4). Power-of-two sizes came out right by luck."""
    gl, raster, reference, kw = render_mesh_case(device, tmp_path, False, {"model": "unlit"}, 1, MESH_CAMERA,
                                                 tex_size=(5, 3))
    assert_differs(gl, reference(wrap=False), "clamp from wrap", MESH_TOL)
    assert_matches(gl, reference(), raster, MESH_TOL, 1.0, "non-power-of-two texture, wrapped")
