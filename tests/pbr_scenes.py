"""Small PBR scenes the GL tests build: the bumped grid with random maps, under a few lights."""

from __future__ import annotations

import numpy as np

from diffrast_cli.config import JobConfig
from diffrast_cli.io.material import PbrMaterial
from diffrast_cli.problem import Problem
from tests.mesh_scenes import grid_mesh
from tests.scenes import set_dotted

LIGHTS = [[{"type": "directional", "direction": [0.3, 0.5, 1.0], "intensity": 2.0},
           {"type": "point", "position": [0.6, -0.4, 1.5], "color": [1.0, 0.9, 0.8], "intensity": 1.5},
           {"type": "ambient", "color": [0.6, 0.7, 1.0], "intensity": 0.2}]]


def random_material(side: int = 4, seed: int = 1) -> PbrMaterial:
    rng = np.random.default_rng(seed)
    n = rng.normal(0.0, 0.35, size=(side, side, 3))
    n[:, :, 2] = 1.0
    n /= np.linalg.norm(n, axis=2, keepdims=True)
    return PbrMaterial(base_color=rng.uniform(0.15, 0.85, (side, side, 3)).astype(np.float32),
                       roughness=rng.uniform(0.25, 0.8, (side, side)).astype(np.float32),
                       metallic=rng.uniform(0.1, 0.9, (side, side)).astype(np.float32),
                       normal=n.astype(np.float32))


def pbr_grid(side: int = 4, seed: int = 1, **grid):
    mesh = grid_mesh(**grid)
    mesh.material = random_material(side, seed)
    return mesh


def pbr_problem(device, tmp_path, mesh, target, *, extra=None, lights=None, **estimator_options) -> Problem:
    """A single-view perspective job on ``mesh`` (a MeshData with a material, handed in) against ``target``."""
    h, w = target.shape[:2]
    cfg = {
        "name": "pbrtest", "target": {"image": "<memory>"},
        "render": {"resolution": [w, h], "projection": "perspective",
                   "camera": {"position": [0.0, 0.0, 3.0], "fov_y": 40.0}},
        "scene": {"kind": "mesh", "mesh": "<memory>", "shading": {"model": "pbr", "normals": "face"},
                  "material": {"normal": {}}, "lights": lights or LIGHTS},
    }
    set_dotted(cfg, extra)
    return Problem(JobConfig.model_validate(cfg), tmp_path, device=device, target=target, asset=mesh,
                   **estimator_options)
