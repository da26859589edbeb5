"""Small meshes and mesh jobs the GL tests build (made here, written to tmp)."""

from __future__ import annotations

import numpy as np

from diffrast_cli.config import JobConfig
from diffrast_cli.io.meshes import MeshData
from diffrast_cli.io.mesh_export import export_obj
from diffrast_cli.problem import Problem
from tests.scenes import set_dotted


def grid_mesh(n: int = 3, size: float = 0.8, texture: int = 4, bump: float = 0.15, seed: int = 0) -> MeshData:
    """An n x n vertex grid in the xy plane (z bumped), UVs over [0, 1]^2, a random texture."""
    xs = np.linspace(-size, size, n)
    x, y = np.meshgrid(xs, xs)
    z = bump * np.cos(2.0 * x) * np.cos(2.5 * y)
    pos = np.stack([x, y, z], axis=-1).reshape(-1, 3).astype(np.float32)
    faces = []
    for j in range(n - 1):
        for i in range(n - 1):
            a, b, c, d = j * n + i, j * n + i + 1, (j + 1) * n + i, (j + 1) * n + i + 1
            faces += [[a, b, d], [a, d, c]]
    faces = np.asarray(faces, np.int32)
    uv_vertex = ((pos[:, :2] / size) * 0.5 + 0.5).astype(np.float32)
    rng = np.random.default_rng(seed)
    tex = rng.uniform(0.2, 0.9, size=(texture, texture, 3)).astype(np.float32)
    return MeshData(positions=pos, faces=faces, uvs=uv_vertex[faces], normals=None, texture=tex,
                    vertex_colors=None, name="grid")


def mesh_problem(device, tmp_path, mesh: MeshData, target, *, extra=None, **estimator_options) -> Problem:
    """A single-view perspective job on ``mesh`` (written to tmp_path as OBJ) against ``target``."""
    export_obj(mesh, tmp_path, stem="m")
    h, w = target.shape[:2]
    cfg = {
        "name": "meshtest", "target": {"image": "<memory>"},
        "render": {"resolution": [w, h], "projection": "perspective",
                   "camera": {"position": [0.0, 0.0, 3.0], "fov_y": 40.0}},
        "scene": {"kind": "mesh", "mesh": str(tmp_path / "m.obj"),
                  "shading": {"model": "lambert", "normals": "face", "light_dir": [0.3, 0.5, 1.0]}},
    }
    set_dotted(cfg, extra)
    return Problem(JobConfig.model_validate(cfg), tmp_path, device=device, target=target, **estimator_options)


def regularizer_gradient(problem: Problem, theta: np.ndarray) -> np.ndarray:
    """The gradient the scene's analytic regularizer passes alone add at ``theta``."""
    est = problem.estimator
    est.upload(theta)
    est.grad.clear()
    problem.scene.add_regularizers(est)
    return est.gradient()
