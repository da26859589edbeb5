"""``diffrast view RUN_DIR|ASSET``: an orbit viewer of a run's result (its job and last
checkpoint) or of a mesh file, drawn by diffrast's own renderer.

Mouse: drag to orbit, wheel to zoom. Keys: C colour, I id buffer (each primitive its own hashed
colour), E error against the target (on a target view), N / P the next / previous target view's
camera, O back to the free orbit, Q or Esc to quit.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from .live import LiveWindow, require_display
from .watch import ERROR_GAIN

MODES = ("color", "ids", "error")


def load_view_problem(path, size: int, device=None):
    """(Problem, theta) of a run folder (job.yaml + checkpoint.npz) or a mesh asset file."""
    from ..config import JobConfig
    from ..problem import Problem
    path = Path(path)
    if path.is_dir():
        from ..checkpoint import load_checkpoint
        from ..jobfile import load_job
        if not (path / "job.yaml").is_file():
            raise ConfigError(f"{path}: not a run folder (no job.yaml)")
        job, base = load_job(path / "job.yaml")
        ckpt, _ = load_checkpoint(path)
        problem = Problem(job, base, device_index=device)
        return problem, ckpt.state["params"]
    if not path.is_file():
        raise ConfigError(f"{path}: no such run folder or asset file")
    from ..io.meshes import load_mesh
    mesh = load_mesh(path)
    lo, hi = mesh.positions.min(axis=0), mesh.positions.max(axis=0)
    center, radius = 0.5 * (lo + hi), max(float(np.linalg.norm(hi - lo)) * 0.5, 1e-6)
    scene = {"kind": "mesh", "mesh": str(path.resolve())}
    scene["shading"] = {"model": "pbr"} if mesh.material is not None else {"model": "lambert"}
    if mesh.material is not None:
        scene["material"] = {k: {"optimize": False} for k in ("base_color", "roughness", "metallic")}
    eye = center + np.array([0.0, 0.35, 1.0]) * radius * 2.6
    job = JobConfig.model_validate({
        "name": path.stem, "target": {"image": "<memory>"},
        "render": {"resolution": size, "projection": "perspective", "background": [0.15, 0.15, 0.18],
                   "camera": {"position": [float(x) for x in eye], "look_at": [float(x) for x in center],
                              "fov_y": 40.0, "near": radius * 0.01, "far": radius * 100.0}},
        "scene": scene})
    problem = Problem(job, path.parent, device_index=device, target=np.zeros((size, size, 3), np.float32))
    return problem, problem.scene.initial_params(0)


def id_colors(ids: np.ndarray) -> np.ndarray:
    """A stable colour per id (0, the background, black)."""
    h = (ids.astype(np.uint64) * np.uint64(2654435761)) & np.uint64(0xFFFFFF)
    rgb = np.stack([(h >> np.uint64(s)) & np.uint64(255) for s in (16, 8, 0)], axis=-1).astype(np.float32) / 255.0
    return np.where(ids[..., None] == 0, 0.0, 0.25 + 0.75 * rgb)


class Viewer:
    def __init__(self, problem, theta, window_size: int = 640):
        require_display("diffrast view")
        self.problem = problem
        self.est = problem.estimator
        self.est.upload(np.asarray(theta, np.float32))
        self.table = problem.views.camera_table().copy()
        vp0 = problem.views.eyes[0]
        # orbit around the point the first camera looks at (its ray through the centre at the mean depth)
        self.center = self._look_point()
        offset = np.asarray(vp0, np.float64) - self.center
        self.dist = float(np.linalg.norm(offset)) or 1.0
        self.az = math.atan2(offset[0], offset[2])
        self.el = math.asin(max(-1.0, min(1.0, offset[1] / self.dist)))
        self.mode = "color"
        self.view_index = 0          # a target view's camera, or None: the free orbit
        self.running = True
        self._drag = None
        w, h = problem.size
        s = window_size / max(w, h)
        self.window = LiveWindow(f"diffrast view: {problem.job.name}", (max(1, int(w * s)), max(1, int(h * s))),
                                 restore=problem.device.activate)
        glfw = self.window.glfw
        glfw.set_key_callback(self.window.win, lambda win, key, sc, action, mods: self.on_key(key, action))
        glfw.set_mouse_button_callback(self.window.win, self._on_button)
        glfw.set_cursor_pos_callback(self.window.win, self._on_cursor)
        glfw.set_scroll_callback(self.window.win, lambda win, dx, dy: self.zoom(dy))

    def _look_point(self) -> np.ndarray:
        scene = self.problem.scene
        mesh = getattr(scene, "mesh", None)
        if mesh is not None:
            return 0.5 * (mesh.positions.min(axis=0) + mesh.positions.max(axis=0)).astype(np.float64)
        return np.zeros(3)

    # -- input ---------------------------------------------------------------------

    def on_key(self, key, action) -> None:
        glfw = self.window.glfw
        if action != glfw.PRESS:
            return
        n = self.problem.views.count
        if key in (glfw.KEY_Q, glfw.KEY_ESCAPE):
            self.running = False
        elif key == glfw.KEY_C:
            self.mode = "color"
        elif key == glfw.KEY_I:
            self.mode = "ids"
        elif key == glfw.KEY_E:
            self.mode = "error"
        elif key in (glfw.KEY_N, glfw.KEY_P):
            step = 1 if key == glfw.KEY_N else -1
            self.view_index = (0 if self.view_index is None else (self.view_index + step)) % n
        elif key == glfw.KEY_O:
            self.view_index = None

    def _on_button(self, win, button, action, mods) -> None:
        glfw = self.window.glfw
        if button == glfw.MOUSE_BUTTON_LEFT:
            self._drag = glfw.get_cursor_pos(win) if action == glfw.PRESS else None

    def _on_cursor(self, win, x, y) -> None:
        if self._drag is not None:
            dx, dy = x - self._drag[0], y - self._drag[1]
            self._drag = (x, y)
            self.orbit(-dx * 0.01, dy * 0.01)

    def orbit(self, d_az: float, d_el: float) -> None:
        self.view_index = None
        self.az += d_az
        self.el = max(-1.5, min(1.5, self.el + d_el))

    def zoom(self, steps: float) -> None:
        self.view_index = None
        self.dist *= 0.9 ** steps

    # -- drawing ---------------------------------------------------------------------

    def orbit_view_proj(self) -> tuple[np.ndarray, np.ndarray]:
        from ..scene.cameras import perspective_camera
        w, h = self.problem.size
        eye = self.center + self.dist * np.array([math.cos(self.el) * math.sin(self.az), math.sin(self.el),
                                                  math.cos(self.el) * math.cos(self.az)])
        cam = perspective_camera(w, h, 40.0, eye, self.center, near=self.dist * 0.01, far=self.dist * 100.0)
        return cam.view_projection(), cam.position

    def frame(self) -> np.ndarray:
        """The image of the current mode and camera (h, w, 3), row 0 = top."""
        est = self.est
        table = self.table.copy()
        cam = self.view_index if self.view_index is not None else 0
        if self.view_index is None:             # the orbit camera in slot 0 of the camera table
            vp, eye = self.orbit_view_proj()
            table[0, :16] = vp.T.reshape(16)
            table[0, 16:19] = eye
        est.cameras.write(table.astype(np.float32).tobytes())
        img = est.color(cam)
        if self.mode == "ids" and hasattr(est.visibility, "target") and hasattr(est.visibility.target, "texture"):
            img = id_colors(self._ids())
        elif self.mode == "error" and self.view_index is not None:
            target = self.problem.views.targets[cam]
            img = np.repeat(np.clip(np.abs(target - img).mean(axis=2, keepdims=True) * ERROR_GAIN, 0, 1), 3, axis=2)
        return img

    def _ids(self) -> np.ndarray:
        tex = self.est.visibility.target.texture
        w, h = self.problem.size
        ss = self.est.visibility.ss
        data = np.frombuffer(tex.read(), np.uint32).reshape(tex.size[1], tex.size[0])
        return data[:h * ss:ss, :w * ss:ss][::-1]

    def run(self, frames: int | None = None) -> None:
        glfw = self.window.glfw
        shown = 0
        while self.running and not self.window.closed and (frames is None or shown < frames):
            self.window.show(self.frame())
            shown += 1
            glfw.wait_events_timeout(0.03)

    def close(self) -> None:
        self.window.close()
