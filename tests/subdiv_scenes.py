"""Small control cages and subdivision jobs the GL tests build (made here, written to tmp)."""

from __future__ import annotations

import numpy as np

from diffrast_cli.config import JobConfig
from diffrast_cli.problem import Problem
from diffrast_cli.scene.subdiv.cage import cage_obj_text
from tests.scenes import set_dotted

CUBE_P = np.array([(x, y, z) for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], float)
CUBE_F = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
# a pyramid: a quad base, four triangles (a triangle/quad mix)
PYRAMID_P = np.array([(-1, -0.6, -1), (1, -0.6, -1), (1, -0.6, 1), (-1, -0.6, 1), (0, 1.0, 0)], float)
PYRAMID_F = [(0, 1, 2, 3), (1, 0, 4), (2, 1, 4), (3, 2, 4), (0, 3, 4)]


def face_uvs(faces) -> np.ndarray:
    """Per-corner UVs: each face's corners on a circle in its own cell of a grid over [0, 1]^2."""
    n = int(np.ceil(np.sqrt(len(faces))))
    out = []
    for f, poly in enumerate(faces):
        cx, cy = (f % n + 0.5) / n, (f // n + 0.5) / n
        for k in range(len(poly)):
            a = 2 * np.pi * k / len(poly) + np.pi / 4
            out.append((cx + 0.4 / n * np.cos(a), cy + 0.4 / n * np.sin(a)))
    return np.asarray(out)


def write_cage(path, positions, faces, uvs=True) -> str:
    path.write_text(cage_obj_text(positions, faces, face_uvs(faces) if uvs else None))
    return str(path)


def subdiv_problem(device, tmp_path, cage_path, target, *, extra=None, camera=(0.6, 0.9, 4.2),
                   **estimator_options) -> Problem:
    """A single-view perspective subdivision job on the cage at ``cage_path`` against ``target``."""
    h, w = target.shape[:2]
    cfg = {
        "name": "subdivtest", "target": {"image": "<memory>"},
        "render": {"resolution": [w, h], "projection": "perspective",
                   "camera": {"position": list(camera), "fov_y": 40.0}},
        "scene": {"kind": "subdiv", "cage": cage_path, "levels": 2,
                  "shading": {"model": "lambert", "normals": "smooth", "light_dir": [0.3, 0.5, 1.0]}},
    }
    set_dotted(cfg, extra)
    return Problem(JobConfig.model_validate(cfg), tmp_path, device=device, target=target, **estimator_options)
