"""The live window (issue 15) under Xvfb: a fit with ``--window`` shows target | render | error,
and its last frame equals the offscreen render (the run's final.png next to the target); with no
display ``--window`` is a one-line error. The tests start their own Xvfb and skip where the
Xvfb binary is missing (Debian/Ubuntu: apt-get install xvfb)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import TINY_JOB, write_target


@pytest.fixture(scope="module")
def display():
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.skip("Xvfb not found (apt-get install xvfb)")
    for number in range(90, 100):
        if not os.path.exists(f"/tmp/.X11-unix/X{number}") and not os.path.exists(f"/tmp/.X{number}-lock"):
            break
    proc = subprocess.Popen([xvfb, f":{number}", "-screen", "0", "1280x720x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if os.path.exists(f"/tmp/.X11-unix/X{number}"):
            break
        time.sleep(0.05)
    yield f":{number}"
    proc.terminate()
    proc.wait(timeout=10)


def test_window_shows_what_the_offscreen_render_shows(tmp_path, display, monkeypatch):
    from PIL import Image

    from diffrast_cli.api import optimize
    from diffrast_cli.window import watch as watch_module
    monkeypatch.setenv("DISPLAY", display)
    write_target(tmp_path / "target.png")
    (tmp_path / "job.yaml").write_text(TINY_JOB.replace("iterations: 3", "iterations: 30"))
    seen = {}
    original = watch_module.WindowWatch.close

    def close_and_keep(self):           # the last frame and a screenshot, before the window goes
        if self.window is not None and not self.window.closed:
            self.refresh(self.problem.estimator)
            seen.update(frame=self.last, shot=self.window.screenshot(), refreshes=self.refreshes)
        original(self)

    monkeypatch.setattr(watch_module.WindowWatch, "close", close_and_keep)
    result = optimize(tmp_path / "job.yaml", out=tmp_path / "run", window=True)
    assert result.report["iterations"] == 30 and seen["refreshes"] >= 2
    final = np.asarray(Image.open(tmp_path / "run" / "final.png").convert("RGB"), np.float32) / 255.0
    target = np.asarray(Image.open(tmp_path / "target.png").convert("RGB"), np.float32) / 255.0
    frame = seen["frame"]
    w = target.shape[1]
    assert frame.shape == (32, 3 * w, 3)
    assert np.abs(frame[:, :w] - target).max() < 1.5 / 255            # left: the target
    assert np.abs(frame[:, w:2 * w] - final).max() < 1.5 / 255         # middle: the offscreen render
    # the screenshot is the frame scaled to the window: compare at the panels' centres
    shot = seen["shot"]
    sh, sw = shot.shape[:2]
    ys = ((np.arange(32) + 0.5) * sh / 32).astype(int)
    xs = ((np.arange(3 * w) + 0.5) * sw / (3 * w)).astype(int)
    assert np.abs(shot[np.ix_(ys, xs)] - np.clip(frame, 0, 1)).mean() < 2.0 / 255


def test_window_without_a_display_is_a_one_line_error(tmp_path, run_cli):
    write_target(tmp_path / "target.png")
    (tmp_path / "job.yaml").write_text(TINY_JOB)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["DISPLAY"] = ""
    code, out, err = run_cli("optimize", tmp_path / "job.yaml", "--window", "--out", tmp_path / "run", env=env)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--window: no display" in err
    assert not (tmp_path / "run").exists()


def test_view_shows_a_run_and_answers_its_keys(tmp_path, display, monkeypatch):
    from PIL import Image

    from diffrast_cli.api import optimize
    from diffrast_cli.window.view import Viewer, load_view_problem
    monkeypatch.setenv("DISPLAY", display)
    write_target(tmp_path / "target.png")
    (tmp_path / "job.yaml").write_text(TINY_JOB.replace("iterations: 3", "iterations: 20"))
    optimize(tmp_path / "job.yaml", out=tmp_path / "run")
    problem, theta = load_view_problem(tmp_path / "run", 256)
    try:
        viewer = Viewer(problem, theta, 256)
        final = np.asarray(Image.open(tmp_path / "run" / "final.png").convert("RGB"), np.float32) / 255.0
        color = viewer.frame()                                   # target view 0, colour
        assert np.abs(color - final).max() < 1.5 / 255
        viewer.on_key(viewer.window.glfw.KEY_I, viewer.window.glfw.PRESS)
        ids = viewer.frame()
        assert len(np.unique(ids.reshape(-1, 3), axis=0)) > 5 and not np.allclose(ids, color)
        viewer.on_key(viewer.window.glfw.KEY_E, viewer.window.glfw.PRESS)
        err = viewer.frame()
        target = problem.views.targets[0]
        assert np.allclose(err[..., 0], np.clip(np.abs(target - color).mean(axis=2) * 4.0, 0, 1), atol=2e-3)
        viewer.on_key(viewer.window.glfw.KEY_C, viewer.window.glfw.PRESS)
        viewer.run(frames=1)
        shot = viewer.window.screenshot()
        sh, sw = shot.shape[:2]
        ys = ((np.arange(32) + 0.5) * sh / 32).astype(int)
        assert np.abs(shot[np.ix_(ys, ys)] - color).mean() < 2.0 / 255
        viewer.on_key(viewer.window.glfw.KEY_Q, viewer.window.glfw.PRESS)
        assert not viewer.running
        viewer.close()
    finally:
        problem.release()


def test_view_of_a_mesh_asset_orbits_and_zooms(tmp_path, display, monkeypatch):
    from diffrast_cli.io.mesh_export import export_obj
    from diffrast_cli.window.view import Viewer, load_view_problem
    from tests.mesh_scenes import grid_mesh
    monkeypatch.setenv("DISPLAY", display)
    export_obj(grid_mesh(5), tmp_path, stem="grid")
    problem, theta = load_view_problem(tmp_path / "grid.obj", 96)
    try:
        viewer = Viewer(problem, theta, 192)
        viewer.view_index = None                                  # the free orbit
        first = viewer.frame()
        assert (np.abs(first - 0.15).max(axis=2) > 0.05).mean() > 0.05   # the grid is in view
        viewer.orbit(0.6, 0.2)
        turned = viewer.frame()
        viewer.zoom(5)
        closer = viewer.frame()
        covered = lambda img: (np.abs(img - np.array([0.15, 0.15, 0.18])).max(axis=2) > 0.02).mean()  # noqa: E731
        assert not np.allclose(first, turned) and covered(closer) > covered(turned)
        viewer.close()
    finally:
        problem.release()


def test_window_follows_a_run_through_its_stages(tmp_path, display, monkeypatch):
    """A volume grown coarse to fine (scene.grow) rebuilds its scene mid-run: the one window
    keeps showing it (no second window), and its last frame is the final grid's render."""
    from PIL import Image

    from diffrast_cli.api import load_job, optimize
    from diffrast_cli.window import live as live_module
    from diffrast_cli.window import watch as watch_module
    monkeypatch.setenv("DISPLAY", display)
    opened, seen = [], {}
    original_init, original_close = live_module.LiveWindow.__init__, watch_module.WindowWatch.close

    def counting_init(self, *args, **kwargs):
        opened.append(args[0])
        original_init(self, *args, **kwargs)

    def close_and_keep(self):
        if self.window is not None and not self.window.closed:
            self.refresh(self.problem.estimator)
            seen.update(frame=self.last, refreshes=self.refreshes)
        original_close(self)

    monkeypatch.setattr(live_module.LiveWindow, "__init__", counting_init)
    monkeypatch.setattr(watch_module.WindowWatch, "close", close_and_keep)
    config = Path(__file__).resolve().parent.parent / "configs" / "volume_smoke.yaml"
    job = load_job(config, ["render.resolution=24", "cameras.orbit.count=5", "cameras.holdout=1",
                            "scene.resolution=4", "optimize.iterations=6",
                            "scene.grow=[{iteration: 3, resolution: 6}]"])
    result = optimize(job, out=tmp_path / "run", window=True)
    assert result.report["parameters"] == 4 * 6 ** 3 and len(opened) == 1 and seen["refreshes"] >= 2
    final = np.asarray(Image.open(tmp_path / "run" / "final.png").convert("RGB"), np.float32) / 255.0
    w = final.shape[1]
    assert np.abs(seen["frame"][:, w:2 * w] - final).max() < 1.5 / 255
