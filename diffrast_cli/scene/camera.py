"""Cameras: the matrix that takes scene coordinates to clip space."""

from __future__ import annotations

import math

import numpy as np


def orthographic_2d() -> np.ndarray:
    """2D mode: x, y in [-1, 1] cover the image (y up); depth z in [0, 1], 0 nearest."""
    m = np.eye(4, dtype=np.float64)
    m[2, 2] = 2.0
    m[2, 3] = -1.0
    return m


def look_at(eye, target, up) -> np.ndarray:
    eye, target, up = (np.asarray(v, dtype=np.float64) for v in (eye, target, up))
    f = target - eye
    f /= np.linalg.norm(f)
    s = np.cross(f, up)
    n = np.linalg.norm(s)
    if n < 1e-12:  # up parallel to the view direction: pick another up
        s = np.cross(f, np.array([0.0, 0.0, 1.0]) if abs(f[2]) < 0.9 else np.array([1.0, 0.0, 0.0]))
        n = np.linalg.norm(s)
    s /= n
    u = np.cross(s, f)
    m = np.eye(4)
    m[0, :3], m[1, :3], m[2, :3] = s, u, -f
    m[:3, 3] = -m[:3, :3] @ eye
    return m


def perspective(fov_y_deg: float, aspect: float, near: float, far: float) -> np.ndarray:
    f = 1.0 / math.tan(math.radians(fov_y_deg) / 2.0)
    m = np.zeros((4, 4))
    m[0, 0] = f / aspect
    m[1, 1] = f
    m[2, 2] = (far + near) / (near - far)
    m[2, 3] = 2.0 * far * near / (near - far)
    m[3, 2] = -1.0
    return m


def view_projection(render_cfg, size: tuple[int, int]) -> np.ndarray:
    """The scene -> clip matrix of a render config (row-major float64)."""
    if render_cfg.projection == "orthographic":
        return orthographic_2d()
    cam = render_cfg.camera
    w, h = size
    return perspective(cam.fov_y, w / h, cam.near, cam.far) @ look_at(cam.position, cam.look_at, cam.up)


def gl_matrix(m: np.ndarray) -> bytes:
    """Column-major float32 bytes for a GLSL mat4 uniform."""
    return np.asarray(m, dtype=np.float32).T.tobytes()
