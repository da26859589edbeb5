"""tests/splat_reference.py against facts that do not come from its own code: pixel-space sizes
of Gaussians seen by known cameras, hand-evaluated SH terms, compositing order, T-min, culling."""

from __future__ import annotations

import math

import numpy as np
import pytest

from diffrast_cli.io.splat_ply import SplatCloud
from diffrast_cli.scene.camera import look_at, perspective
from diffrast_cli.scene.cameras import perspective_camera
from tests.splat_reference import C0, C1, C2, C3, contributors, render_splats, sh_colour

WHITE = 0.5 / C0  # f_dc of colour 1


def cloud_of(pos, scale, opacity=None, rot=None, sh=None, k=1) -> SplatCloud:
    pos = np.atleast_2d(np.asarray(pos, np.float64))
    n = len(pos)
    scale = np.broadcast_to(np.asarray(scale, np.float64), (n, 3))
    if sh is None:
        sh = np.zeros((n, k, 3))
        sh[:, 0] = WHITE
    return SplatCloud(pos, np.log(scale), np.tile([1.0, 0, 0, 0], (n, 1)) if rot is None else rot,
                      np.full(n, 0.0) if opacity is None else np.broadcast_to(opacity, (n,)), sh)


def stored(cloud, i=0):
    """(scale, opacity, colour) of splat i as the float32 cloud holds them (isotropic scale)."""
    scale = math.exp(float(cloud.log_scales[i, 0]))
    o = 1 / (1 + math.exp(-float(cloud.opacity_logits[i])))
    return scale, o, 0.5 + C0 * cloud.sh[i, 0].astype(np.float64)


def logit(p):
    return math.log(p / (1 - p))


def camera(eye, target=(0, 0, 0), up=(0, 1, 0), fov=40.0, w=32, h=32, near=0.05, far=100.0):
    return perspective(fov, w / h, near, far) @ look_at(eye, target, up), np.asarray(eye, np.float64)


def pixel_uv(w, h):
    """(u, v) of every pixel centre, (H, W) each: column i -> i + 0.5, row j (top) -> H - j - 0.5."""
    u = np.arange(w) + 0.5
    v = h - np.arange(h) - 0.5
    return np.meshgrid(u, v)


def gaussian_alpha(du, dv, var_u, var_v, o):
    a = np.minimum(0.99, o * np.exp(-0.5 * (du ** 2 / var_u + dv ** 2 / var_v)))
    return np.where(a >= 1 / 255, a, 0.0)


def test_view_proj_matches_the_intrinsics_camera():
    vp, _ = camera((1, 2, 5), (0.5, 0, 0), w=40, h=30)
    cam = perspective_camera(40, 30, 40.0, (1, 2, 5), (0.5, 0, 0))
    np.testing.assert_allclose(vp, cam.view_projection(), atol=1e-12)


# --------------------------------------------------------------------------- sizes and positions

@pytest.mark.parametrize("ss", [1, 2])
def test_isotropic_splat_head_on_has_the_projected_sigma(ss):
    w = h = 48
    fov, dist, s, o = 40.0, 4.0, 0.2, 0.5
    vp, eye = camera((0, 0, dist), fov=fov, w=w, h=h)
    cloud = cloud_of([0, 0, 0], s, opacity=logit(o))
    img = render_splats(cloud, vp, eye, w, h, ss=ss)
    s, o, white = stored(cloud)
    focal = (h / 2) / math.tan(math.radians(fov / 2))
    var = (focal * s / dist) ** 2 + 0.3
    radius = math.ceil(3 * math.sqrt(var + math.sqrt(0.1)))
    assert radius < w / 2 - 1  # the footprint square is inside the picture
    u, v = pixel_uv(w, h)
    want = np.zeros((h, w))
    for a in range(ss):
        for b in range(ss):  # sub-cell centres
            du = u - 0.5 + (a + 0.5) / ss - w / 2
            dv = v - 0.5 + (b + 0.5) / ss - h / 2
            want += gaussian_alpha(du, dv, var, var, o) / ss ** 2
    np.testing.assert_allclose(img, want[..., None] * white, rtol=0, atol=1e-12)
    assert img[h // 2, w // 2, 0] > 0.4 and np.count_nonzero(img[..., 0]) > 100


def test_orthographic_anisotropic_pixel_sigma_and_the_footprint_square():
    w, h, s, o = 64, 40, 0.5, 0.99
    # world x, y in [-2, 2] fill the picture: W/4 and H/4 pixels per unit
    vp = np.array([[0.5, 0, 0, 0], [0, 0.5, 0, 0], [0, 0, -0.1, 0], [0, 0, 0, 1.0]])
    centre = np.array([0.015625, 0.025, 0.0])  # u = 32.25, v = 20.25: no sample on a square edge
    cloud = cloud_of(centre, s, opacity=logit(o))
    img = render_splats(cloud, vp, (0, 0, 10), w, h)[..., 0]
    s, o, white = stored(cloud)
    var_u, var_v = (s * w / 4) ** 2 + 0.3, (s * h / 4) ** 2 + 0.3
    m, det = (var_u + var_v) / 2, var_u * var_v
    r = math.ceil(3 * math.sqrt(m + math.sqrt(max(0.1, m * m - det))))
    assert r == 25
    u, v = pixel_uv(w, h)
    x, y = cloud.positions[0, :2].astype(np.float64)  # as stored (float32)
    du, dv = u - (x / 2 + 1) * w / 2, v - (y / 2 + 1) * h / 2
    gauss = gaussian_alpha(du, dv, var_u, var_v, o)
    want = np.where((abs(du) <= r) & (abs(dv) <= r), gauss, 0.0) * white[0]
    np.testing.assert_allclose(img, want, rtol=0, atol=1e-12)
    # the square, not the 1/255 threshold, removes these samples
    row = int(np.argmin(abs(dv[:, 0])))
    for col in (32 + 25, 32 + 26, 32 - 26):  # du = 25.25, 26.25, -25.75
        assert abs(du[row, col]) > r and gauss[row, col] >= 1 / 255 and img[row, col] == 0
    assert img[row, 32 + 24] == pytest.approx(gauss[row, 32 + 24] * white[0]) and img[row, 32 + 24] > 0


def test_rotation_about_the_view_axis_swaps_the_image_axes():
    w = h = 32
    vp, eye = camera((0, 0, 5), w=w, h=h)
    q90 = [math.cos(math.pi / 4), 0, 0, math.sin(math.pi / 4)]
    a = render_splats(cloud_of([0, 0, 0], [0.6, 0.15, 0.3], opacity=2.0), vp, eye, w, h)
    b = render_splats(cloud_of([0, 0, 0], [0.6, 0.15, 0.3], opacity=2.0, rot=[q90]), vp, eye, w, h)
    assert np.count_nonzero(a[h // 2 - 1]) > 2 * np.count_nonzero(a[:, w // 2 - 1])  # wide, not tall
    assert not np.allclose(a, a.transpose(1, 0, 2), atol=1e-3)
    np.testing.assert_allclose(b, a.transpose(1, 0, 2), rtol=0, atol=1e-9)


def test_quaternion_is_normalised_before_use():
    rng = np.random.default_rng(1)
    n = 12
    pos = rng.uniform(-1, 1, (n, 3))
    scale = rng.uniform(0.05, 0.4, (n, 3))
    q = rng.normal(size=(n, 4))
    sh = rng.normal(scale=0.5, size=(n, 4, 3))
    vp, eye = camera((0.5, 1, 5), w=40, h=30)
    opac = rng.normal(size=n)
    base = render_splats(cloud_of(pos, scale, opac, q, sh), vp, eye, 40, 30, background=(0.2, 0.3, 0.4))
    assert np.ptp(base) > 0.3
    for f in (3.7, -0.2, 1e-3):
        other = render_splats(cloud_of(pos, scale, opac, q * f, sh), vp, eye, 40, 30, background=(0.2, 0.3, 0.4))
        np.testing.assert_allclose(other, base, rtol=0, atol=1e-7)  # the cloud stores q * f in float32


# --------------------------------------------------------------------------- colour

def test_sh_terms_on_the_axes_and_a_diagonal():
    def one(k, value=0.1):
        sh = np.zeros((1, 16, 3))
        sh[0, k, 0] = value
        return sh

    def red(k, d):
        return sh_colour(one(k), np.asarray([d], np.float64) / np.linalg.norm(d))[0, 0] - 0.5

    x, y, z, diag = (1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 1)
    t = 1 / 3
    cases = {  # coefficient: {direction: value of its term per unit coefficient}
        0: {x: C0, z: C0}, 1: {y: -C1, x: 0}, 2: {z: C1, y: 0}, 3: {x: -C1, z: 0},
        4: {diag: C2[0] * t, x: 0}, 5: {diag: C2[1] * t}, 6: {z: 2 * C2[2], x: -C2[2], diag: 0},
        7: {diag: C2[3] * t}, 8: {x: C2[4], y: -C2[4], z: 0},
        9: {y: -C3[0], x: 0}, 10: {diag: C3[1] * t ** 1.5, x: 0}, 11: {y: -C3[2], z: 0},
        12: {z: 2 * C3[3], x: 0}, 13: {x: -C3[4], z: 0}, 14: {z: 0, diag: 0}, 15: {x: C3[6], y: 0},
    }
    for k, dirs in cases.items():
        for d, per_unit in dirs.items():
            assert red(k, d) == pytest.approx(0.1 * per_unit, abs=1e-15), (k, d)
    # z (xx - yy) of coefficient 14 on a direction where it does not vanish
    d = np.array([2.0, 1.0, 2.0]) / 3
    assert red(14, d) == pytest.approx(0.1 * C3[5] * d[2] * (d[0] ** 2 - d[1] ** 2))
    # clamp at 0, no upper clamp, degree 0 ignores the direction
    assert sh_colour(np.full((1, 1, 3), -5.0), [[0, 0, 1]])[0].tolist() == [0, 0, 0]
    assert sh_colour(np.full((1, 1, 3), 10.0), [[0, 0, 1]])[0, 0] == pytest.approx(0.5 + 10 * C0)


@pytest.mark.parametrize("eye, up, want", [
    ((0, 0, 4), (0, 1, 0), lambda a, b, c: 0.5 - C1 * b),   # d = -z
    ((4, 0, 0), (0, 1, 0), lambda a, b, c: 0.5 + C1 * c),   # d = -x
    ((0, 4, 0), (0, 0, 1), lambda a, b, c: 0.5 + C1 * a),   # d = -y
    ((0, -4, 0), (0, 0, 1), lambda a, b, c: 0.5 - C1 * a),  # d = +y
    ((4 / 3, 8 / 3, 8 / 3), (0, 1, 0), lambda a, b, c: 0.5 + C1 * (2 * a / 3 - 2 * b / 3 + c / 3)),
])
def test_degree_1_colour_follows_the_view_direction(eye, up, want):
    a, b, c = 0.25, -0.125, 0.375     # exact in float32
    sh = np.zeros((1, 4, 3))
    sh[0, 0] = [0.0, 0.5, 0.0]        # green: degree 0 only, colour 0.5 + 0.5 C0 from every side
    sh[0, 1:, 0] = [a, b, c]          # red: f1, f2, f3
    w = h = 16
    vp, e = camera(eye, up=up, w=w, h=h)
    img = render_splats(cloud_of([0, 0, 0], 1.0, opacity=3.0, sh=sh), vp, e, w, h)
    alpha = img[h // 2, w // 2, 1] / (0.5 + 0.5 * C0)
    assert 0.5 < alpha <= 0.99
    assert img[h // 2, w // 2, 0] / alpha == pytest.approx(want(a, b, c), abs=1e-9)
    assert img[h // 2, w // 2, 2] / alpha == pytest.approx(0.5, abs=1e-9)


# --------------------------------------------------------------------------- compositing

def coloured(pos, colours, scale, opacity):
    sh = np.zeros((len(pos), 1, 3))
    sh[:, 0] = (np.asarray(colours, np.float64) - 0.5) / C0
    return cloud_of(pos, scale, opacity=opacity, sh=sh)


def test_two_splats_composite_front_to_back():
    w = h = 16
    vp, eye = camera((0, 0, 5), w=w, h=h)
    red, blue, bg = np.array([1.0, 0, 0]), np.array([0, 0, 1.0]), np.array([0, 1.0, 0])
    near, far = [0, 0, 0.5], [0, 0, -0.5]
    centre = (h // 2, w // 2)
    a = render_splats(coloured([near, far], [red, blue], 2.0, 8.0), vp, eye, w, h, bg)[centre]
    b = render_splats(coloured([far, near], [red, blue], 2.0, 8.0), vp, eye, w, h, bg)[centre]
    t = 1 - 0.99  # both clamped at 0.99 near their centres
    np.testing.assert_allclose(a, 0.99 * red + t * 0.99 * blue + t * t * bg, atol=1e-12)
    np.testing.assert_allclose(b, 0.99 * blue + t * 0.99 * red + t * t * bg, atol=1e-12)
    # equal depth: the lower index is in front
    same = [[0, 0, 0], [0, 0, 0]]
    c = render_splats(coloured(same, [red, blue], 2.0, 8.0), vp, eye, w, h, bg)[centre]
    d = render_splats(coloured(same, [blue, red], 2.0, 8.0), vp, eye, w, h, bg)[centre]
    assert c[0] > 0.98 and c[2] < 0.01 and d[2] > 0.98 and d[0] < 0.01


def test_compositing_stops_after_the_fragment_that_takes_T_below_1e_4():
    w = h = 16
    vp, eye = camera((0, 0, 5), w=w, h=h)
    zs = [0.2, -0.6, 0.6, -0.2, 0.0]            # depth order: indices 2, 0, 4, 3, 1
    cols = np.eye(3)[[0, 1, 2, 0, 1]] * 0.9 + 0.05
    bg = (0.3, 0.3, 0.3)
    cloud = coloured([[0, 0, z] for z in zs], cols, 3.0, logit(0.98))  # alpha ~ 0.98: T 0.02, 4e-4, 8e-6
    centre = (h // 2, w // 2)
    who = contributors(cloud, vp, eye, w, h)
    assert who[centre[0]][centre[1]] == [0, 2, 4]
    img = render_splats(cloud, vp, eye, w, h, bg)
    nearest = [2, 0, 4]
    three = coloured([[0, 0, zs[i]] for i in nearest], cols[nearest], 3.0, logit(0.98))
    ref = render_splats(three, vp, eye, w, h, bg)
    np.testing.assert_allclose(img[centre], ref[centre], rtol=0, atol=1e-12)
    # without the stop the 4th splat would move the pixel by about T * alpha * (colour - bg) ~ 5e-6
    assert np.abs(8e-6 * 0.98 * (cols[3] - np.asarray(bg))).max() > 1e-6
    # where the alphas are small nobody stops: every splat contributes at the footprint's edge
    assert max(len(p) for row in who for p in row) == 5
    # contributors and covered pixels agree
    covered = np.any(np.abs(img - np.asarray(bg)) > 0, axis=2)
    assert covered.tolist() == [[bool(p) for p in row] for row in who]


@pytest.mark.parametrize("z, seen", [(0.0, True), (6.0, False), (4.99, False), (-200.0, False), (5.5, False)])
def test_culling_behind_the_camera_and_outside_near_far(z, seen):
    w = h = 16
    vp, eye = camera((0, 0, 5), w=w, h=h, near=0.05, far=100.0)
    bg = (0.1, 0.2, 0.3)
    cloud = cloud_of([0, 0, z], 0.5, opacity=3.0)
    img = render_splats(cloud, vp, eye, w, h, bg)
    who = contributors(cloud, vp, eye, w, h)
    if seen:
        assert img[h // 2, w // 2, 0] > 0.8 and who[h // 2][w // 2] == [0]
    else:  # behind the eye (6, 5.5), nearer than the near plane (4.99) or past the far plane (-200)
        assert np.array_equal(img, np.broadcast_to(bg, img.shape))
        assert all(p == [] for row in who for p in row)


# --------------------------------------------------------------------------- projection, the 3DGS way

def rodrigues(axis, angle):
    n = np.asarray(axis, np.float64) / np.linalg.norm(axis)
    k = np.array([[0, -n[2], n[1]], [n[2], 0, -n[0]], [-n[1], n[0], 0]])
    return np.eye(3) + math.sin(angle) * k + (1 - math.cos(angle)) * k @ k


def test_screen_covariance_matches_3dgs_camera_space_formula():
    """Σ2D from camera space as 3DGS writes it (t = V μ, J = [[fx/d, 0, fx tx/d], ...] with tx = t_x / d
    clamped to 1.3 tan(fov_x / 2), d = -t_z in OpenGL's looking-down -z), rotation from axis-angle."""
    from tests.splat_reference import project
    w, h, fov = 48, 32, 50.0
    eye, target = np.array([1.0, 2.0, 6.0]), np.array([0.2, 0.1, 0.0])
    view = look_at(eye, target, (0, 1, 0))
    vp = perspective(fov, w / h, 0.05, 100.0) @ view
    rng = np.random.default_rng(7)
    n = 40
    axes, angles = rng.normal(size=(n, 3)), rng.uniform(-3, 3, n)
    q = np.concatenate([np.cos(angles / 2)[:, None],
                        np.sin(angles / 2)[:, None] * axes / np.linalg.norm(axes, axis=1, keepdims=True)], 1)
    pos = rng.uniform(-4, 4, (n, 3))  # many off-screen: the clamp matters for them
    scales = rng.uniform(0.05, 0.5, (n, 3))
    cloud = cloud_of(pos, scales, rot=q)
    pr = project(cloud, vp, eye, w, h)
    fy = (h / 2) / math.tan(math.radians(fov / 2))
    fx = fy  # square pixels
    lim_x, lim_y = 1.3 * (w / 2) / fx, 1.3 * (h / 2) / fy
    clamped = 0
    for i in np.nonzero(pr["visible"])[0]:
        mu = cloud.positions[i].astype(np.float64)
        t = view[:3, :3] @ mu + view[:3, 3]
        d = -t[2]
        tx, ty = t[0] / d, t[1] / d
        clamped += abs(tx) > lim_x or abs(ty) > lim_y
        tx, ty = np.clip(tx, -lim_x, lim_x), np.clip(ty, -lim_y, lim_y)
        j_cam = np.array([[fx / d, 0, fx * tx / d], [0, fy / d, fy * ty / d]])
        jac = j_cam @ view[:3, :3]
        rot = rodrigues(axes[i], angles[i])
        s = np.exp(cloud.log_scales[i].astype(np.float64))
        cov = jac @ rot @ np.diag(s ** 2) @ rot.T @ jac.T + 0.3 * np.eye(2)
        np.testing.assert_allclose(pr["cov2d"][i], cov, rtol=1e-5, atol=1e-9)  # q is stored as float32
        np.testing.assert_allclose(pr["uv"][i], [w / 2 + fx * t[0] / d, h / 2 + fy * t[1] / d], atol=1e-9)
    assert clamped >= 3 and pr["visible"].sum() >= 20


@pytest.mark.parametrize("degrees, sign", [(30, 1), (-30, -1), (120, -1)])
def test_rotation_about_the_view_axis_tilts_the_ellipse_the_right_way(degrees, sign):
    # a rotation by +30 degrees about +z (the axis towards the eye) turns local x towards +y: up-right
    w = h = 32
    vp, eye = camera((0, 0, 5), w=w, h=h)
    a = math.radians(degrees)
    q = [[math.cos(a / 2), 0, 0, math.sin(a / 2)]]
    img = render_splats(cloud_of([0, 0, 0], [0.6, 0.1, 0.1], opacity=2.0, rot=q), vp, eye, w, h)[..., 0]
    u, v = pixel_uv(w, h)
    cov_uv = np.sum(img * (u - w / 2) * (v - h / 2)) / img.sum()
    assert sign * cov_uv > 1.0


def test_a_negated_view_projection_is_culled():
    # -VP is the same projective map (same NDC) but every w < 0: the document culls w <= 0
    w = h = 16
    vp, eye = camera((0, 0, 5), w=w, h=h)
    cloud = cloud_of([[0, 0, 0], [0.3, 0.2, 1]], 0.5, opacity=3.0)
    assert render_splats(cloud, vp, eye, w, h).max() > 0.5
    assert render_splats(cloud, -vp, eye, w, h, background=(0.5, 0.5, 0.5)).tolist() == \
        np.full((h, w, 3), 0.5).tolist()
