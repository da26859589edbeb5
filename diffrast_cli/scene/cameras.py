"""Pinhole cameras with pixel intrinsics: orbits of views, NeRF-synthetic transforms.json.

Conventions (row-major float64 matrices, as in :mod:`.camera`):

- ``cam_to_world``: the camera looks down its -Z axis, +Y up, +X right (OpenGL /
  NeRF-synthetic / Blender). ``view()`` is its inverse.
- Intrinsics ``fx, fy, cx, cy`` are in pixels, with (cx, cy) measured from the
  image's top-left *corner* and v growing downward: a camera-space point
  (x, y, z), z < 0, lands at u = cx + fx * x / -z, v = cy - fy * y / -z.
  Pixel (i, j) covers [i, i+1) x [j, j+1), so its centre is (i + 0.5, j + 0.5).
- ``projection()`` maps that to NDC x = 2u/W - 1, y = 1 - 2v/H: image row 0
  (the top) is NDC y = +1, OpenGL depth in [-1, 1] from near to far. GL's
  framebuffer row 0 is the bottom, so readbacks and uploads flip rows (as
  the target upload in ``sge/estimator.py`` already does).
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError, InputError
from .camera import look_at as _look_at

IMAGE_SUFFIXES = ("", ".png", ".jpg", ".jpeg")
_GOLDEN_ANGLE = math.pi * (3.0 - math.sqrt(5.0))


@dataclass(eq=False)
class Camera:
    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    cam_to_world: np.ndarray
    near: float = 0.05
    far: float = 100.0
    name: str = ""

    def __post_init__(self):
        who = f"camera {self.name!r}" if self.name else "camera"
        for key in ("width", "height"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ConfigError(f"{who}: {key} must be a positive integer, got {v!r}")
            setattr(self, key, int(v))
        for key in ("fx", "fy", "cx", "cy", "near", "far"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not math.isfinite(v):
                raise ConfigError(f"{who}: {key} must be a finite number, got {v!r}")
            setattr(self, key, float(v))
        if self.fx <= 0 or self.fy <= 0:
            raise ConfigError(f"{who}: focal lengths must be positive, got fx={self.fx}, fy={self.fy}")
        if not 0 < self.near < self.far:
            raise ConfigError(f"{who}: need 0 < near < far, got near={self.near}, far={self.far}")
        m = np.array(self.cam_to_world, dtype=np.float64)
        if m.shape != (4, 4) or not np.all(np.isfinite(m)):
            raise ConfigError(f"{who}: cam_to_world must be a finite 4x4 matrix")
        if abs(np.linalg.det(m[:3, :3])) < 1e-12:
            raise ConfigError(f"{who}: cam_to_world is singular")
        self.cam_to_world = m

    def view(self) -> np.ndarray:
        """World -> camera (4x4). Exact transpose for a rigid cam_to_world, a general inverse otherwise."""
        m = self.cam_to_world
        r = m[:3, :3]
        if np.allclose(m[3], (0, 0, 0, 1), atol=0, rtol=0) and np.allclose(r.T @ r, np.eye(3), atol=1e-9):
            v = np.eye(4)
            v[:3, :3] = r.T
            v[:3, 3] = -r.T @ m[:3, 3]
            return v
        return np.linalg.inv(m)

    def projection(self) -> np.ndarray:
        """4x4 OpenGL projection from the intrinsics (see the module docstring)."""
        w, h, n, f = self.width, self.height, self.near, self.far
        p = np.zeros((4, 4))
        p[0, 0] = 2.0 * self.fx / w
        p[0, 2] = 1.0 - 2.0 * self.cx / w
        p[1, 1] = 2.0 * self.fy / h
        p[1, 2] = 2.0 * self.cy / h - 1.0
        p[2, 2] = (f + n) / (n - f)
        p[2, 3] = 2.0 * f * n / (n - f)
        p[3, 2] = -1.0
        return p

    def view_projection(self) -> np.ndarray:
        return self.projection() @ self.view()

    @property
    def position(self) -> np.ndarray:
        return self.cam_to_world[:3, 3].copy()

    def resized(self, width: int, height: int) -> "Camera":
        """The same camera for an image resampled to width x height (intrinsics scaled per axis)."""
        sx, sy = width / self.width, height / self.height
        return dataclasses.replace(self, width=width, height=height, fx=self.fx * sx, fy=self.fy * sy,
                                   cx=self.cx * sx, cy=self.cy * sy, cam_to_world=self.cam_to_world.copy())


# ---------------------------------------------------------------- construction

def _vec3(v, what: str) -> np.ndarray:
    try:
        a = np.array(v, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"{what}: expected 3 numbers, got {v!r}")
    if a.shape != (3,) or not np.all(np.isfinite(a)):
        raise ConfigError(f"{what}: expected 3 finite numbers, got {v!r}")
    return a


def _check_fov(fov_y_deg, what="fov_y_deg") -> float:
    if isinstance(fov_y_deg, bool) or not isinstance(fov_y_deg, (int, float)) or not 0 < fov_y_deg < 180:
        raise ConfigError(f"{what}: must be a number in (0, 180) degrees, got {fov_y_deg!r}")
    return float(fov_y_deg)


def _perpendicular(up: np.ndarray) -> np.ndarray:
    """A unit vector perpendicular to unit ``up``: world +Z made perpendicular (or +X if up is along Z)."""
    ref = np.array([0.0, 0.0, 1.0]) if abs(up[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    e = ref - (ref @ up) * up
    return e / np.linalg.norm(e)


def _safe_up(forward: np.ndarray, up: np.ndarray) -> np.ndarray:
    """``up``, or a replacement when the view direction is (nearly) parallel to it.

    Looking down along -up the image's up becomes -e (e = :func:`_perpendicular`),
    looking up along +up it becomes +e: for up = +Y, a camera straight above keeps
    +X to the right of the image, as does one straight below."""
    f = forward / np.linalg.norm(forward)
    u = up / np.linalg.norm(up)
    if np.linalg.norm(np.cross(f, u)) > 1e-6:
        return u
    return math.copysign(1.0, f @ u) * _perpendicular(u)


def _camera_at(width, height, fov_y_deg, eye, target, up, near, far, name="") -> Camera:
    fy = (height / 2.0) / math.tan(math.radians(fov_y_deg) / 2.0)
    view = _look_at(eye, target, _safe_up(target - eye, up))
    c2w = np.eye(4)
    c2w[:3, :3] = view[:3, :3].T
    c2w[:3, 3] = eye
    return Camera(width, height, fy, fy, width / 2.0, height / 2.0, c2w, near=near, far=far, name=name)


def perspective_camera(width, height, fov_y_deg, position, look_at, up=(0, 1, 0), near=0.05, far=100.0) -> Camera:
    """A centred, square-pixel camera: the intrinsics equivalent of
    ``camera.perspective(fov_y_deg, width/height, near, far) @ camera.look_at(position, look_at, up)``."""
    fov = _check_fov(fov_y_deg)
    eye, target, up = _vec3(position, "position"), _vec3(look_at, "look_at"), _vec3(up, "up")
    if np.linalg.norm(target - eye) < 1e-12:
        raise ConfigError("look_at: must differ from position")
    if np.linalg.norm(up) < 1e-12:
        raise ConfigError("up: must not be the zero vector")
    return _camera_at(width, height, fov, eye, target, up, near, far)


def orbit_cameras(n, *, width, height, fov_y_deg, distance, center=(0, 0, 0), hemisphere=False,
                  elevation_range=None, jitter=0.0, seed=0, up=(0, 1, 0), near=0.05, far=100.0) -> list[Camera]:
    """``n`` cameras at ``distance`` from ``center``, all looking at it, spread evenly
    (Fibonacci lattice, equal area per view) over the sphere, the upper hemisphere
    (the side ``up`` points to) or the band ``elevation_range = (lo, hi)`` degrees
    above the plane perpendicular to ``up``. Azimuth 0 is world +Z for up = +Y.

    ``jitter`` in [0, 1] turns each direction by a random angle of up to ``jitter``
    times the mean spacing sqrt(band area / n), in a random direction, then clamps it
    back into the band; the draw depends only on ``seed`` (no effect when jitter = 0)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigError(f"n: must be a positive integer, got {n!r}")
    fov = _check_fov(fov_y_deg)
    if isinstance(distance, bool) or not isinstance(distance, (int, float)) or not 0 < distance < math.inf:
        raise ConfigError(f"distance: must be a positive number, got {distance!r}")
    if isinstance(jitter, bool) or not isinstance(jitter, (int, float)) or not 0 <= jitter <= 1:
        raise ConfigError(f"jitter: must be a number in [0, 1], got {jitter!r}")
    center, up = _vec3(center, "center"), _vec3(up, "up")
    if np.linalg.norm(up) < 1e-12:
        raise ConfigError("up: must not be the zero vector")
    up = up / np.linalg.norm(up)
    lo, hi = (0.0 if hemisphere else -90.0), 90.0
    if elevation_range is not None:
        try:
            lo, hi = (float(x) for x in elevation_range)
        except (TypeError, ValueError):
            raise ConfigError(f"elevation_range: expected [low, high] in degrees, got {elevation_range!r}")
        if not -90 <= lo <= hi <= 90:
            raise ConfigError(f"elevation_range: need -90 <= low <= high <= 90, got {elevation_range!r}")
        if hemisphere and lo < 0:
            raise ConfigError(f"elevation_range: low must be >= 0 with hemisphere, got {elevation_range!r}")
    y_lo, y_hi = math.sin(math.radians(lo)), math.sin(math.radians(hi))

    e1 = _perpendicular(up)
    e2 = np.cross(up, e1)
    i = np.arange(n, dtype=np.float64)
    if y_hi - y_lo < 1e-12:  # a single ring: even azimuths
        y, phi = np.full(n, y_lo), 2.0 * math.pi * i / n
    else:
        y, phi = y_hi - (i + 0.5) * (y_hi - y_lo) / n, i * _GOLDEN_ANGLE
    r = np.sqrt(np.clip(1.0 - y * y, 0.0, None))
    dirs = y[:, None] * up + r[:, None] * (np.cos(phi)[:, None] * e1 + np.sin(phi)[:, None] * e2)

    if jitter > 0:
        spacing = math.sqrt(2.0 * math.pi * (y_hi - y_lo) / n)
        rng = np.random.default_rng(seed)
        g = rng.standard_normal((n, 3))
        angle = jitter * spacing * np.sqrt(rng.random(n))
        for k in range(n):
            d = dirs[k]
            t = g[k] - (g[k] @ d) * d
            if np.linalg.norm(t) < 1e-12:
                continue
            t /= np.linalg.norm(t)
            j = math.cos(angle[k]) * d + math.sin(angle[k]) * t
            yj = float(np.clip(j @ up, y_lo, y_hi))
            h = j - (j @ up) * up
            if np.linalg.norm(h) < 1e-12:
                h = d - (d @ up) * up
            if np.linalg.norm(h) < 1e-12:
                h = e1
            dirs[k] = yj * up + math.sqrt(max(0.0, 1.0 - yj * yj)) * h / np.linalg.norm(h)
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    return [_camera_at(width, height, fov, center + distance * d, center, up, near, far, name=f"orbit_{k:03d}")
            for k, d in enumerate(dirs)]


# ---------------------------------------------------------------- transforms.json

def _number(v, key: str, src: Path, positive=False) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or (positive and v <= 0):
        raise InputError(f"{src}: {key}: expected a {'positive ' if positive else ''}finite number, got {v!r}")
    return float(v)


def _size(v, key: str, src: Path) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 1 or v != int(v):
        raise InputError(f"{src}: {key}: expected a positive integer, got {v!r}")
    return int(v)


def _focal(fl, angle, extent: int, src: Path) -> float | None:
    """Focal length in pixels from (value, key) of fl_* or else camera_angle_* (radians); None if neither."""
    if fl[0] is not None:
        return _number(fl[0], fl[1], src, positive=True)
    if angle[0] is None:
        return None
    a = _number(angle[0], angle[1], src, positive=True)
    if a >= math.pi:
        raise InputError(f"{src}: {angle[1]}: must be below pi radians, got {a}")
    return 0.5 * extent / math.tan(0.5 * a)


def _matrix(v, key: str, src: Path) -> np.ndarray:
    ok = (isinstance(v, list) and len(v) == 4
          and all(isinstance(row, list) and len(row) == 4 for row in v)
          and all(not isinstance(x, bool) and isinstance(x, (int, float)) for row in v for x in row))
    if not ok:
        raise InputError(f"{src}: {key}: expected a 4x4 list of numbers")
    m = np.array(v, dtype=np.float64)
    if not np.all(np.isfinite(m)):
        raise InputError(f"{src}: {key}: matrix has non-finite entries")
    if abs(np.linalg.det(m[:3, :3])) < 1e-12:
        raise InputError(f"{src}: {key}: matrix is singular")
    return m


def _find_image(base: Path, file_path, key: str, src: Path) -> Path:
    if not isinstance(file_path, str) or not file_path:
        raise InputError(f"{src}: {key}: expected a non-empty string, got {file_path!r}")
    for suffix in IMAGE_SUFFIXES:
        p = base / (file_path + suffix)
        if p.is_file():
            return p
    raise InputError(f"{src}: {key}: image {base / file_path} not found (tried suffixes "
                     f"{', '.join(repr(s) for s in IMAGE_SUFFIXES)})")


def load_transforms(path, *, width=None, height=None, background=(1, 1, 1),
                    load_images=True) -> tuple[list[Camera], list[np.ndarray] | None]:
    """Cameras (and images) of a NeRF-synthetic / instant-ngp ``transforms.json``.

    Intrinsics: ``fl_x`` or ``camera_angle_x`` (horizontal fov, radians); ``fl_y`` or
    ``camera_angle_y``, else fy = fx; ``cx``/``cy`` default to the image centre; ``w``/``h``
    default to the image size. Each may also be given per frame (overriding the top level).
    Images: RGBA composited over ``background``, float32 HxWx3 in [0, 1], row 0 = top,
    Lanczos-resized to (width, height) when given (one of them alone keeps the aspect),
    the intrinsics scaled to match. With ``load_images=False`` image files are only
    opened (headers) when ``w``/``h`` are absent; the size is then needed.
    """
    from ..io.images import header_size, load_target, open_image

    src = Path(path)
    if not src.is_file():
        raise InputError(f"{src}: transforms file not found" if not src.exists() else f"{src}: not a file")
    try:
        data = json.loads(src.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{src}: invalid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})")
    except (OSError, UnicodeDecodeError, RecursionError, ValueError) as exc:
        raise InputError(f"{src}: cannot read ({' '.join(str(exc).split()) or exc.__class__.__name__})")
    if not isinstance(data, dict):
        raise InputError(f"{src}: expected a JSON object at the top level")
    if "frames" not in data:
        raise InputError(f"{src}: frames: missing")
    frames = data["frames"]
    if not isinstance(frames, list):
        raise InputError(f"{src}: frames: expected a list")
    if not frames:
        raise InputError(f"{src}: frames: no frames")
    for v, key in ((width, "width"), (height, "height")):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1):
            raise ConfigError(f"{key}: must be a positive integer, got {v!r}")

    base = src.parent
    intr_keys = ("fl_x", "fl_y", "cx", "cy", "w", "h", "camera_angle_x", "camera_angle_y")
    entries = []  # (camera kwargs without size-dependent bits, image path or None, native size)
    native = None
    for k, frame in enumerate(frames):
        fk = f"frames[{k}]"
        if not isinstance(frame, dict):
            raise InputError(f"{src}: {fk}: expected an object")
        for req in ("file_path", "transform_matrix"):
            if req not in frame:
                raise InputError(f"{src}: {fk}.{req}: missing")
        c2w = _matrix(frame["transform_matrix"], f"{fk}.transform_matrix", src)

        def get(key):
            if key in frame:
                return frame[key], f"{fk}.{key}"
            return data.get(key), key
        intr = {key: get(key) for key in intr_keys}

        img_path = None
        if load_images or intr["w"][0] is None or intr["h"][0] is None:
            img_path = _find_image(base, frame["file_path"], f"{fk}.file_path", src)
        elif not isinstance(frame["file_path"], str) or not frame["file_path"]:
            raise InputError(f"{src}: {fk}.file_path: expected a non-empty string, got {frame['file_path']!r}")
        json_size = [None if intr[key][0] is None else _size(intr[key][0], intr[key][1], src) for key in ("w", "h")]
        size = None
        if img_path is not None:
            size = header_size(img_path)
            if size is None:
                open_image(img_path)  # raises the precise InputError
                raise InputError(f"{img_path}: not an image pillow can read")
            if any(j is not None and j != s for j, s in zip(json_size, size)):
                raise InputError(f"{img_path}: image is {size[0]}x{size[1]} but {src} gives "
                                 f"w={json_size[0]}, h={json_size[1]}")
        if size is None:
            size = tuple(json_size)
        if native is None:
            native = size
        elif size != native:
            where = img_path if img_path is not None else f"{src}: {fk}"
            raise InputError(f"{where}: {fk} is {size[0]}x{size[1]}, but frames[0] is {native[0]}x{native[1]}; "
                             f"all frames must have the same size")
        w, h = size

        fx = _focal(intr["fl_x"], intr["camera_angle_x"], w, src)
        if fx is None:
            raise InputError(f"{src}: camera_angle_x: missing (and no fl_x)")
        fy = _focal(intr["fl_y"], intr["camera_angle_y"], h, src) or fx
        cx = w / 2.0 if intr["cx"][0] is None else _number(intr["cx"][0], intr["cx"][1], src)
        cy = h / 2.0 if intr["cy"][0] is None else _number(intr["cy"][0], intr["cy"][1], src)
        cam = Camera(w, h, fx, fy, cx, cy, c2w, name=frame["file_path"])
        entries.append((cam, img_path))

    nw, nh = native
    if width is None and height is None:
        out_w, out_h = nw, nh
    else:
        out_w = int(width) if width is not None else max(1, round(int(height) * nw / nh))
        out_h = int(height) if height is not None else max(1, round(int(width) * nh / nw))
    cameras = [cam if (out_w, out_h) == (nw, nh) else cam.resized(out_w, out_h) for cam, _ in entries]
    if not load_images:
        return cameras, None
    images = [load_target(p, (out_w, out_h), background) for _, p in entries]
    return cameras, images


def save_transforms(path, cameras, image_names) -> None:
    """Write ``transforms.json`` for ``cameras`` (the inverse of :func:`load_transforms`).

    ``image_names`` are the frames' ``file_path`` (relative to the json's folder; the
    images themselves are the caller's). Shared intrinsics go to the top level
    (``camera_angle_x`` of the first camera plus exact ``fl_x, fl_y, cx, cy, w, h``),
    differing ones into each frame. near/far are not stored."""
    cameras, image_names = list(cameras), list(image_names)
    if not cameras:
        raise ConfigError("cameras: no cameras to save")
    if len(cameras) != len(image_names):
        raise ConfigError(f"image_names: {len(image_names)} names for {len(cameras)} cameras")

    def intr(c):
        return {"fl_x": c.fx, "fl_y": c.fy, "cx": c.cx, "cy": c.cy, "w": c.width, "h": c.height}

    first = intr(cameras[0])
    shared = all(intr(c) == first for c in cameras)
    data = {"camera_angle_x": 2.0 * math.atan(0.5 * cameras[0].width / cameras[0].fx)}
    if shared:
        data.update(first)
    frames = []
    for c, name in zip(cameras, image_names):
        frame = {"file_path": str(name), "transform_matrix": [[float(x) for x in row] for row in c.cam_to_world]}
        if not shared:
            frame.update(intr(c))
        frames.append(frame)
    data["frames"] = frames
    from ..io.atomic import atomic_write_bytes, ensure_folder
    dst = Path(path)
    ensure_folder(dst.parent)
    atomic_write_bytes(dst, (json.dumps(data, indent=2) + "\n").encode("utf-8"))


def split_holdout(cameras, holdout: int) -> tuple[list[int], list[int]]:
    """(train indices, holdout indices): ``holdout`` views spread evenly through the list,
    index floor((k + 0.5) * n / holdout) for k < holdout (every (n/holdout)-th, centred)."""
    n = len(cameras)
    if isinstance(holdout, bool) or not isinstance(holdout, (int, np.integer)) or not 0 <= holdout < n:
        raise ConfigError(f"holdout: must be an integer in [0, {n - 1}] for {n} views, got {holdout!r}")
    held = [(2 * k + 1) * n // (2 * holdout) for k in range(holdout)]
    chosen = set(held)
    return [i for i in range(n) if i not in chosen], held
