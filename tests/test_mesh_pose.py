"""``scene.pose`` (scene/mesh/pose.py): a mesh posed by (distance, elevation, azimuth, fov) in front
of the job's camera renders as the unposed mesh seen by a camera placed there; the SGE mean of
the pose parameters matches central differences; a pose outside a single-view perspective job
is a one-line error."""

from __future__ import annotations

import math

import numpy as np
import pytest

from diffrast_cli.errors import ConfigError
from tests.gradcheck import check_gradient
from tests.mesh_scenes import grid_mesh, mesh_problem
from tests.scenes import gradient_target
from tests.test_gradients import released

W = 40
POSE = {"distance": 2.6, "elevation": 25.0, "azimuth": -40.0, "fov_y": 34.0}
UNLIT = {"scene.shading.model": "unlit", "scene.positions.optimize": False, "scene.texture.optimize": False,
         "render.camera.position": [0.0, 0.0, 0.0], "render.camera.look_at": [0.0, 0.0, -1.0],
         "render.camera.fov_y": 40.0}


def test_posed_mesh_renders_as_seen_from_the_pose_camera(device, tmp_path):
    mesh = grid_mesh(4, size=0.6, bump=0.2, texture=8)
    with released(mesh_problem(device, tmp_path, mesh, np.zeros((W, W, 3), np.float32),
                               extra={**UNLIT, "scene.pose.start": POSE})) as problem:
        posed = problem.estimator.color(0)
        assert problem.scene.metrics(problem.theta0)["pose_azimuth"] == pytest.approx(-40.0)
    e, a = math.radians(POSE["elevation"]), math.radians(POSE["azimuth"])
    eye = POSE["distance"] * np.array([math.cos(e) * math.sin(a), math.sin(e), math.cos(e) * math.cos(a)])
    plain = {k: v for k, v in UNLIT.items() if not k.startswith("render.camera")}
    plain.update({"render.camera.position": [float(x) for x in eye], "render.camera.look_at": [0.0, 0.0, 0.0],
                  "render.camera.fov_y": POSE["fov_y"]})
    with released(mesh_problem(device, tmp_path / "plain", mesh, np.zeros((W, W, 3), np.float32),
                               extra=plain)) as problem:
        seen = problem.estimator.color(0)
    assert (seen.sum(axis=2) > 0.1).mean() > 0.2                 # the grid fills a good part of the view
    assert np.abs(posed - seen).max() < 2e-2 and np.abs(posed - seen).mean() < 1e-3
    with released(mesh_problem(device, tmp_path / "other", mesh, np.zeros((W, W, 3), np.float32),
                               extra={**UNLIT, "scene.pose.start": {**POSE, "azimuth": -30.0}})) as problem:
        assert np.abs(problem.estimator.color(0) - seen).mean() > 1e-2   # another pose is another picture


@pytest.mark.parametrize("group", ["angles", "fov", "distance"])
def test_pose_sge_matches_finite_differences(device, tmp_path, group):
    mesh = grid_mesh(4, size=0.6, bump=0.2, texture=8)
    # 4 x 4 samples per pixel: the loss is smooth at the step's scale (one pixel of the silhouette
    # moves at once otherwise)
    extra = {**UNLIT, "scene.pose.start": POSE, "optimize.samples": 64, "render.supersample": 4}
    extra.update({f"scene.pose.{g}.optimize": g == group for g in ("angles", "fov", "distance")})
    with released(mesh_problem(device, tmp_path, mesh, gradient_target(W, W), extra=extra)) as problem:
        check_gradient(problem, problem.theta0.copy(), (f"pose_{group}",), estimates=64)


def test_pose_needs_a_single_view_perspective_job(device, tmp_path):
    mesh = grid_mesh(3)
    with pytest.raises(ConfigError, match="scene.pose: the pose is seen by the one render.camera"):
        mesh_problem(device, tmp_path, mesh, np.zeros((W, W, 3), np.float32),
                     extra={"render.projection": "orthographic", "scene.pose.start": POSE})
