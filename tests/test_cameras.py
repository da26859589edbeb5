"""Unit tests of diffrast_cli.scene.cameras (pure numpy + pillow, no GL)."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from diffrast_cli.errors import ConfigError, InputError
from diffrast_cli.scene import camera as legacy
from diffrast_cli.scene.cameras import (Camera, load_transforms, orbit_cameras, perspective_camera,
                                        save_transforms, split_holdout)


def pixels(cam: Camera, points) -> np.ndarray:
    """(N, 3): u, v (pixels from the top-left corner, v down) and NDC depth, through the GL matrices."""
    p = np.atleast_2d(np.asarray(points, dtype=np.float64))
    clip = np.c_[p, np.ones(len(p))] @ cam.view_projection().T
    ndc = clip[:, :3] / clip[:, 3:4]
    return np.c_[(ndc[:, 0] + 1) / 2 * cam.width, (1 - ndc[:, 1]) / 2 * cam.height, ndc[:, 2]]


def rot_y(deg: float) -> np.ndarray:
    a = math.radians(deg)
    m = np.eye(4)
    m[0, 0], m[0, 2], m[2, 0], m[2, 2] = math.cos(a), math.sin(a), -math.sin(a), math.cos(a)
    return m


def one_line(exc_info) -> str:
    msg = str(exc_info.value)
    assert msg and "\n" not in msg
    return msg


# ---------------------------------------------------------------- projection

def test_projection_known_points_off_centre_non_square():
    cam = Camera(200, 100, fx=150.0, fy=80.0, cx=60.5, cy=30.25, cam_to_world=np.eye(4), near=0.5, far=10.0)
    got = pixels(cam, [[0, 0, -2], [1, 0.5, -2], [-0.4, -1, -4]])
    np.testing.assert_allclose(got[:, :2], [[60.5, 30.25], [135.5, 10.25], [45.5, 50.25]], atol=1e-9)
    # depth: near -> -1, far -> +1
    np.testing.assert_allclose(pixels(cam, [[0, 0, -0.5], [0, 0, -10]])[:, 2], [-1, 1], atol=1e-12)


def test_projection_with_pose_matches_pinhole_formula():
    c2w = rot_y(30.0)
    c2w[:3, 3] = [1.0, -2.0, 3.0]
    cam = Camera(64, 48, fx=50.0, fy=55.0, cx=30.0, cy=20.0, cam_to_world=c2w)
    rng = np.random.default_rng(1)
    local = np.c_[rng.uniform(-1, 1, (20, 2)), rng.uniform(-5, -1, 20)]
    world = (np.c_[local, np.ones(20)] @ c2w.T)[:, :3]
    u = 30.0 + 50.0 * local[:, 0] / -local[:, 2]
    v = 20.0 - 55.0 * local[:, 1] / -local[:, 2]
    np.testing.assert_allclose(pixels(cam, world)[:, :2], np.c_[u, v], atol=1e-9)
    np.testing.assert_allclose(cam.view() @ c2w, np.eye(4), atol=1e-12)
    np.testing.assert_allclose(cam.position, [1, -2, 3])


def test_top_row_is_ndc_plus_one():
    cam = Camera(10, 10, 10.0, 10.0, 5.0, 5.0, np.eye(4))
    # a point above the axis lands in the top half (small v), i.e. NDC y > 0
    u, v, _ = pixels(cam, [0, 0.3, -1])[0]
    assert v < 5.0 and u == pytest.approx(5.0)
    clip = cam.view_projection() @ [0, 0.3, -1, 1]
    assert clip[1] / clip[3] > 0


def test_non_rigid_cam_to_world_uses_general_inverse():
    c2w = np.diag([2.0, 2.0, 2.0, 1.0])
    cam = Camera(8, 8, 8.0, 8.0, 4.0, 4.0, c2w)
    np.testing.assert_allclose(cam.view() @ c2w, np.eye(4), atol=1e-12)


@pytest.mark.parametrize("w,h,fov,pos,target,up", [
    (256, 256, 45.0, (0, 0, 3), (0, 0, 0), (0, 1, 0)),
    (320, 240, 60.0, (1, 2, 3), (0.1, -0.2, 0.3), (0, 1, 0)),
    (100, 300, 20.0, (-4, 1, -2), (0, 0, 0), (0, 0, 1)),
    (640, 360, 90.0, (0, 5, 0.3), (0, 0, 0), (0, 1, 0)),
])
def test_perspective_camera_equals_legacy_matrices(w, h, fov, pos, target, up):
    cam = perspective_camera(w, h, fov, pos, target, up, near=0.1, far=50.0)
    ref = legacy.perspective(fov, w / h, 0.1, 50.0) @ legacy.look_at(pos, target, up)
    np.testing.assert_allclose(cam.view_projection(), ref, atol=1e-12)
    assert cam.fx == pytest.approx(cam.fy) and (cam.cx, cam.cy) == (w / 2, h / 2)


def test_resized_scales_intrinsics():
    c2w = rot_y(-20.0)
    c2w[:3, 3] = [0.5, 0.2, 2.0]
    cam = Camera(200, 100, 150.0, 80.0, 60.0, 40.0, c2w, name="a")
    small = cam.resized(50, 40)
    assert (small.width, small.height, small.name) == (50, 40, "a")
    pts = [[0.1, 0.2, 0.0], [-0.3, 0.1, -0.5]]
    np.testing.assert_allclose(pixels(small, pts)[:, :2], pixels(cam, pts)[:, :2] * [50 / 200, 40 / 100], atol=1e-9)
    np.testing.assert_array_equal(small.cam_to_world, cam.cam_to_world)


@pytest.mark.parametrize("kwargs,needle", [
    (dict(fx=0.0), "focal"),
    (dict(width=0), "width"),
    (dict(near=1.0, far=0.5), "near"),
    (dict(cam_to_world=np.eye(3)), "4x4"),
    (dict(cam_to_world=np.full((4, 4), np.nan)), "4x4"),
    (dict(cam_to_world=np.zeros((4, 4))), "singular"),
])
def test_camera_validation(kwargs, needle):
    args = dict(width=8, height=8, fx=8.0, fy=8.0, cx=4.0, cy=4.0, cam_to_world=np.eye(4), name="c")
    args.update(kwargs)
    with pytest.raises(ConfigError) as info:
        Camera(**args)
    assert needle in one_line(info)


def test_perspective_camera_bad_values():
    with pytest.raises(ConfigError, match="look_at"):
        perspective_camera(8, 8, 45, (1, 1, 1), (1, 1, 1))
    with pytest.raises(ConfigError, match="fov_y"):
        perspective_camera(8, 8, 180, (0, 0, 1), (0, 0, 0))


# ---------------------------------------------------------------- orbits

def _assert_looks_at(cam: Camera, center):
    u, v, _ = pixels(cam, center)[0]
    assert u == pytest.approx(cam.width / 2, abs=1e-7) and v == pytest.approx(cam.height / 2, abs=1e-7)
    r = cam.cam_to_world[:3, :3]
    np.testing.assert_allclose(r.T @ r, np.eye(3), atol=1e-10)
    assert np.linalg.det(r) == pytest.approx(1.0)
    # the centre is in front of the camera
    assert (cam.view() @ np.r_[center, 1.0])[2] < 0


def _dirs(cams, center):
    d = np.array([c.position - center for c in cams])
    return d / np.linalg.norm(d, axis=1, keepdims=True)


def _min_angle(d):
    cos = np.clip(d @ d.T, -1, 1)
    np.fill_diagonal(cos, -1)
    return float(np.arccos(cos.max()))


@pytest.mark.parametrize("hemisphere", [False, True])
def test_orbit_count_distance_center_spread(hemisphere):
    center = np.array([0.5, -1.0, 2.0])
    n = 60
    cams = orbit_cameras(n, width=64, height=48, fov_y_deg=40, distance=3.0, center=center, hemisphere=hemisphere)
    assert len(cams) == n and len({c.name for c in cams}) == n
    for c in cams:
        assert np.linalg.norm(c.position - center) == pytest.approx(3.0)
        _assert_looks_at(c, center)
        assert (c.width, c.height) == (64, 48)
    d = _dirs(cams, center)
    if hemisphere:
        assert np.all(d[:, 1] >= 0)
    area = (2 if hemisphere else 4) * math.pi
    assert _min_angle(d) > 0.6 * math.sqrt(area / n)
    # evenly spread: the mean direction is near the axis' centre (sphere) or straight up (hemisphere)
    mean = d.mean(axis=0)
    if hemisphere:
        assert mean[1] == pytest.approx(0.5, abs=0.02) and abs(mean[0]) < 0.02 and abs(mean[2]) < 0.02
    else:
        assert np.linalg.norm(mean) < 0.02


def test_orbit_elevation_range():
    cams = orbit_cameras(30, width=16, height=16, fov_y_deg=50, distance=2.0, elevation_range=(10, 40))
    elev = np.degrees(np.arcsin(_dirs(cams, np.zeros(3))[:, 1]))
    assert elev.min() >= 10 - 1e-9 and elev.max() <= 40 + 1e-9
    with pytest.raises(ConfigError, match="elevation_range"):
        orbit_cameras(3, width=8, height=8, fov_y_deg=50, distance=2.0, elevation_range=(-10, 40), hemisphere=True)
    with pytest.raises(ConfigError, match="elevation_range"):
        orbit_cameras(3, width=8, height=8, fov_y_deg=50, distance=2.0, elevation_range=(50, 40))


def test_orbit_ring_is_even():
    cams = orbit_cameras(8, width=16, height=16, fov_y_deg=50, distance=2.0, elevation_range=(0, 0))
    d = _dirs(cams, np.zeros(3))
    np.testing.assert_allclose(d[:, 1], 0, atol=1e-12)
    assert _min_angle(d) == pytest.approx(2 * math.pi / 8)


def test_orbit_deterministic_and_jitter():
    kw = dict(width=32, height=32, fov_y_deg=45, distance=2.5, hemisphere=True)

    def dirs(**extra):
        return _dirs(orbit_cameras(40, **kw, **extra), np.zeros(3))

    base = dirs()
    np.testing.assert_array_equal(base, dirs(seed=7))               # no jitter: seed is irrelevant
    a, b, c = dirs(jitter=0.5, seed=1), dirs(jitter=0.5, seed=1), dirs(jitter=0.5, seed=2)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c) and not np.allclose(a, base)
    spacing = math.sqrt(2 * math.pi / 40)
    moved = np.arccos(np.clip(np.sum(a * base, axis=1), -1, 1))
    assert moved.max() <= 0.5 * spacing + 1e-9 and moved.mean() > 0.05 * spacing
    assert np.all(a[:, 1] >= 0)                                      # still on the upper side
    for cam in orbit_cameras(40, **kw, jitter=1.0, seed=3):
        _assert_looks_at(cam, np.zeros(3))


def test_orbit_jitter_on_full_sphere_bounded():
    base = _dirs(orbit_cameras(50, width=8, height=8, fov_y_deg=45, distance=1.0), np.zeros(3))
    j = _dirs(orbit_cameras(50, width=8, height=8, fov_y_deg=45, distance=1.0, jitter=1.0, seed=5), np.zeros(3))
    moved = np.arccos(np.clip(np.sum(j * base, axis=1), -1, 1))
    assert moved.max() <= math.sqrt(4 * math.pi / 50) + 1e-9


def test_camera_straight_above_and_below():
    top = orbit_cameras(1, width=20, height=10, fov_y_deg=45, distance=4.0, center=(1, 2, 3), elevation_range=(90, 90))
    assert len(top) == 1
    np.testing.assert_allclose(top[0].position, [1, 6, 3], atol=1e-12)
    for cam, target in [(top[0], (1, 2, 3)),
                        (perspective_camera(20, 10, 45, (0, 5, 0), (0, 0, 0)), (0, 0, 0)),
                        (perspective_camera(20, 10, 45, (0, 5, 1e-9), (0, 0, 0)), (0, 0, 0)),   # nearly parallel
                        (perspective_camera(20, 10, 45, (0, -5, 0), (0, 0, 0)), (0, 0, 0))]:
        assert np.all(np.isfinite(cam.view_projection()))
        _assert_looks_at(cam, np.array(target, dtype=float))
        # world +X stays to the right in the image, looking down or up
        np.testing.assert_allclose(cam.cam_to_world[:3, 0], [1, 0, 0], atol=1e-6)
    # a lattice with a camera at the pole (hemisphere of 1 view is at 30 deg; jitter can reach the pole)
    for cam in orbit_cameras(5, width=8, height=8, fov_y_deg=45, distance=1.0, elevation_range=(89.999, 90),
                             jitter=1.0, seed=0):
        _assert_looks_at(cam, np.zeros(3))


def test_orbit_other_up_axis():
    cams = orbit_cameras(20, width=8, height=8, fov_y_deg=45, distance=2.0, hemisphere=True, up=(0, 0, 1))
    d = _dirs(cams, np.zeros(3))
    assert np.all(d[:, 2] >= 0)
    for c in cams:
        _assert_looks_at(c, np.zeros(3))


@pytest.mark.parametrize("kwargs,expected", [
    (dict(n=0), "n: must be a positive integer, got 0"),
    (dict(distance=0.0), "distance: must be a positive number, got 0.0"),
    (dict(jitter=1.5), "jitter: must be a number in [0, 1], got 1.5"),
    (dict(fov_y_deg=0), "fov_y_deg: must be a number in (0, 180) degrees, got 0"),
    (dict(up=(0, 0, 0)), "up: must not be the zero vector"),
    (dict(center=(0, 0)), "center: expected 3 finite numbers, got (0, 0)"),
])
def test_orbit_bad_values(kwargs, expected):
    args = dict(n=4, width=8, height=8, fov_y_deg=45, distance=2.0)
    args.update(kwargs)
    n = args.pop("n")
    with pytest.raises(ConfigError) as info:
        orbit_cameras(n, **args)
    assert one_line(info) == expected


# ---------------------------------------------------------------- transforms.json

W, H = 8, 6
ANGLE_X = 0.69


def _rgba(seed: int, w=W, h=H) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
    img[0, 0, 3], img[0, 1, 3], img[0, 2, 3] = 0, 255, 128
    return img


def _pose(k: int) -> list:
    m = rot_y(40.0 * k)
    m[:3, 3] = m[:3, :3] @ [0, 0, 4.0]
    return m.tolist()


def make_dataset(root: Path, n=3, **top) -> Path:
    """root/transforms.json + RGBA PNGs in root/train; odd frames name their file without the extension."""
    (root / "train").mkdir(parents=True, exist_ok=True)
    frames = []
    for k in range(n):
        Image.fromarray(_rgba(k), mode="RGBA").save(root / "train" / f"r_{k}.png")
        frames.append({"file_path": f"./train/r_{k}" + ("" if k % 2 else ".png"), "transform_matrix": _pose(k)})
    data = {"camera_angle_x": ANGLE_X, **top, "frames": frames}
    path = root / "transforms.json"
    path.write_text(json.dumps(data))
    return path


def test_load_transforms_cameras_and_compositing(tmp_path):
    path = make_dataset(tmp_path)
    cams, imgs = load_transforms(path, background=(0.2, 0.4, 0.6))
    assert len(cams) == len(imgs) == 3
    fx = 0.5 * W / math.tan(ANGLE_X / 2)
    for k, (cam, img) in enumerate(zip(cams, imgs)):
        assert (cam.width, cam.height, cam.cx, cam.cy) == (W, H, W / 2, H / 2)
        assert cam.fx == pytest.approx(fx) and cam.fy == pytest.approx(fx)
        np.testing.assert_allclose(cam.cam_to_world, _pose(k))
        assert img.shape == (H, W, 3) and img.dtype == np.float32
        src = _rgba(k).astype(np.float64) / 255
        expect = src[..., :3] * src[..., 3:] + np.array([0.2, 0.4, 0.6]) * (1 - src[..., 3:])
        np.testing.assert_allclose(img, expect, atol=1e-5)
        np.testing.assert_allclose(img[0, 0], [0.2, 0.4, 0.6], atol=1e-6)       # transparent -> background
        np.testing.assert_allclose(img[0, 1], src[0, 1, :3], atol=1e-6)          # opaque -> colour; row 0 = top
    assert cams[1].name == "./train/r_1"


def test_load_transforms_explicit_intrinsics_and_no_images(tmp_path):
    path = make_dataset(tmp_path, fl_x=7.0, fl_y=9.0, cx=3.5, cy=2.25, w=W, h=H)
    cams, imgs = load_transforms(path, load_images=False)
    assert imgs is None
    assert [(c.fx, c.fy, c.cx, c.cy) for c in cams] == [(7.0, 9.0, 3.5, 2.25)] * 3
    # with w/h in the JSON, image files are not needed when images are not loaded
    for p in (tmp_path / "train").iterdir():
        p.unlink()
    cams2, _ = load_transforms(path, load_images=False)
    assert len(cams2) == 3


def test_load_transforms_resize(tmp_path):
    path = make_dataset(tmp_path, n=2, cx=3.0, cy=2.0)
    cams, imgs = load_transforms(path, width=16, height=9)
    native, _ = load_transforms(path, load_images=False)
    assert imgs[0].shape == (9, 16, 3) and 0 <= imgs[0].min() and imgs[0].max() <= 1
    c, c0 = cams[0], native[0]
    assert (c.fx, c.fy, c.cx, c.cy) == pytest.approx((c0.fx * 2, c0.fy * 1.5, 6.0, 3.0))
    pts = [[0.1, 0.2, 0.3], [-0.5, 0.1, 0.0]]
    np.testing.assert_allclose(pixels(c, pts)[:, :2], pixels(c0, pts)[:, :2] * [2, 1.5], atol=1e-9)
    # one side only keeps the aspect
    cams, imgs = load_transforms(path, width=4)
    assert imgs[1].shape == (3, 4, 3) and (cams[1].width, cams[1].height) == (4, 3)


def test_load_transforms_resize_constant_image(tmp_path):
    (tmp_path / "a.png").parent.mkdir(exist_ok=True)
    Image.fromarray(np.full((20, 30, 4), (255, 0, 0, 255), np.uint8), mode="RGBA").save(tmp_path / "a.png")
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"camera_angle_x": 1.0, "frames": [{"file_path": "a", "transform_matrix": _pose(0)}]}))
    _, imgs = load_transforms(path, width=12, height=8)
    np.testing.assert_allclose(imgs[0], np.broadcast_to([1, 0, 0], (8, 12, 3)), atol=1e-4)


def _edit(path: Path, fn) -> Path:
    data = json.loads(path.read_text())
    fn(data)
    path.write_text(json.dumps(data))
    return path


def _load_err(path, **kw) -> str:
    with pytest.raises(InputError) as info:
        load_transforms(path, **kw)
    return one_line(info)


def test_load_transforms_file_errors(tmp_path):
    assert _load_err(tmp_path / "nope.json") == f"{tmp_path / 'nope.json'}: transforms file not found"
    bad = tmp_path / "bad.json"
    bad.write_text("{frames: [")
    msg = _load_err(bad)
    assert msg.startswith(f"{bad}: invalid JSON"), msg
    for text, tail in [("[1, 2]", "expected a JSON object at the top level"),
                       ('{"camera_angle_x": 0.5}', "frames: missing"),
                       ('{"camera_angle_x": 0.5, "frames": []}', "frames: no frames")]:
        bad.write_text(text)
        assert _load_err(bad) == f"{bad}: {tail}"


@pytest.mark.parametrize("edit,needle", [
    (lambda d: d["frames"][2].pop("transform_matrix"), "frames[2].transform_matrix: missing"),
    (lambda d: d["frames"][1].pop("file_path"), "frames[1].file_path: missing"),
    (lambda d: d["frames"][1].__setitem__("transform_matrix", d["frames"][1]["transform_matrix"][:3]),
     "frames[1].transform_matrix: expected a 4x4"),
    (lambda d: d["frames"][0]["transform_matrix"][0].__setitem__(0, "1"), "frames[0].transform_matrix: expected a 4x4"),
    (lambda d: d["frames"][0]["transform_matrix"][1].__setitem__(2, float("nan")),
     "frames[0].transform_matrix: matrix has non-finite"),
    (lambda d: d["frames"][0]["transform_matrix"][1].__setitem__(2, float("inf")),
     "frames[0].transform_matrix: matrix has non-finite"),
    (lambda d: d["frames"][2].__setitem__("transform_matrix", [[0] * 4] * 4), "frames[2].transform_matrix: matrix is singular"),
    (lambda d: d["frames"].__setitem__(1, 5), "frames[1]: expected an object"),
    (lambda d: d.pop("camera_angle_x"), "camera_angle_x: missing"),
    (lambda d: d.__setitem__("camera_angle_x", -1), "camera_angle_x: expected a positive"),
    (lambda d: d.__setitem__("camera_angle_x", 4.0), "camera_angle_x: must be below pi"),
    (lambda d: d.__setitem__("fl_x", "big"), "fl_x: expected a positive"),
    (lambda d: d["frames"][1].__setitem__("cx", None) or d["frames"][1].__setitem__("cy", True), "frames[1].cy"),
    (lambda d: d.__setitem__("w", 9), "gives w=9"),
    (lambda d: d.__setitem__("frames", {}), "frames: expected a list"),
])
def test_load_transforms_key_errors(tmp_path, edit, needle):
    path = _edit(make_dataset(tmp_path), edit)
    msg = _load_err(path)
    assert needle in msg and str(tmp_path) in msg


def test_load_transforms_image_errors(tmp_path):
    path = make_dataset(tmp_path)
    (tmp_path / "train" / "r_1.png").unlink()
    msg = _load_err(path)
    assert "frames[1].file_path" in msg and "r_1" in msg and "not found" in msg
    # missing images are also reported when only the sizes are needed (no w/h in the JSON)
    assert "frames[1].file_path" in _load_err(path, load_images=False)

    path = make_dataset(tmp_path / "corrupt")
    bad = tmp_path / "corrupt" / "train" / "r_2.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    assert _load_err(path).startswith(f"{bad}: corrupt or truncated image (")
    good = (tmp_path / "corrupt" / "train" / "r_0.png").read_bytes()
    bad.write_bytes(good[: len(good) // 2])                                              # truncated
    assert _load_err(path) == f"{bad}: corrupt or truncated image (image file is truncated)"

    path = make_dataset(tmp_path / "sizes")
    Image.fromarray(_rgba(0, w=W + 1), mode="RGBA").save(tmp_path / "sizes" / "train" / "r_1.png")
    msg = _load_err(path)
    assert "r_1.png" in msg and "same size" in msg


def test_load_transforms_jpeg_suffix(tmp_path):
    Image.fromarray(_rgba(0)[..., :3]).save(tmp_path / "view.jpeg")
    path = tmp_path / "transforms.json"
    path.write_text(json.dumps({"camera_angle_x": 0.5, "frames": [{"file_path": "view", "transform_matrix": _pose(0)}]}))
    cams, imgs = load_transforms(path)
    assert imgs[0].shape == (H, W, 3) and cams[0].width == W


def test_bad_target_size_is_config_error(tmp_path):
    with pytest.raises(ConfigError, match="width"):
        load_transforms(make_dataset(tmp_path), width=0)


def _same(a: Camera, b: Camera):
    assert (a.width, a.height) == (b.width, b.height)
    assert (a.fx, a.fy, a.cx, a.cy) == (b.fx, b.fy, b.cx, b.cy)
    np.testing.assert_array_equal(a.cam_to_world, b.cam_to_world)


def test_save_load_round_trip(tmp_path):
    cams = orbit_cameras(5, width=W, height=H, fov_y_deg=40, distance=3.0, jitter=0.3, seed=4)
    names = [f"views/v{k}" for k in range(5)]
    (tmp_path / "views").mkdir()
    for k in range(5):
        Image.fromarray(_rgba(k), mode="RGBA").save(tmp_path / "views" / f"v{k}.png")
    save_transforms(tmp_path / "transforms.json", cams, names)
    data = json.loads((tmp_path / "transforms.json").read_text())
    assert data["camera_angle_x"] == pytest.approx(2 * math.atan(W / 2 / cams[0].fx))
    loaded, imgs = load_transforms(tmp_path / "transforms.json", background=(0, 0, 0))
    assert len(imgs) == 5 and [c.name for c in loaded] == names
    for a, b in zip(cams, loaded):
        _same(a, b)


def test_save_load_round_trip_per_frame_intrinsics(tmp_path):
    cams = [Camera(W, H, 7.0 + k, 6.0, 3.0 + 0.5 * k, 2.5, np.array(_pose(k))) for k in range(3)]
    save_transforms(tmp_path / "sub" / "t.json", cams, ["a.png", "b.png", "c.png"])
    loaded, imgs = load_transforms(tmp_path / "sub" / "t.json", load_images=False)
    assert imgs is None
    for a, b in zip(cams, loaded):
        _same(a, b)


def test_save_transforms_bad_args(tmp_path):
    cams = orbit_cameras(2, width=4, height=4, fov_y_deg=40, distance=1.0)
    with pytest.raises(ConfigError, match=r"^image_names: 1 names for 2 cameras$"):
        save_transforms(tmp_path / "t.json", cams, ["a"])
    with pytest.raises(ConfigError, match=r"^cameras: no cameras to save$"):
        save_transforms(tmp_path / "t.json", [], [])
    assert not (tmp_path / "t.json").exists()


# ---------------------------------------------------------------- holdout

@pytest.mark.parametrize("n,k", [(10, 3), (100, 10), (7, 6), (5, 1), (4, 0), (200, 199)])
def test_split_holdout(n, k):
    train, held = split_holdout(list(range(n)), k)
    assert len(held) == k and len(set(held)) == k
    assert sorted(train + held) == list(range(n)) and not set(train) & set(held)
    assert train == sorted(train) and held == sorted(held)
    assert split_holdout(list(range(n)), k) == (train, held)
    if k >= 2:
        gaps = np.diff(held)
        assert gaps.max() - gaps.min() <= 1          # evenly spread
    if (n, k) == (100, 10):
        assert held == list(range(5, 100, 10))


@pytest.mark.parametrize("k", [5, 6, -1, 1.5, True])
def test_split_holdout_bad(k):
    with pytest.raises(ConfigError, match="holdout"):
        split_holdout(list(range(5)), k)


def test_every_pair_of_orbit_views_differs():
    cams = orbit_cameras(12, width=8, height=8, fov_y_deg=45, distance=1.0)
    for a, b in itertools.combinations(cams, 2):
        assert not np.allclose(a.position, b.position)
