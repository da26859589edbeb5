"""The 3D shape task (docs/soft.md, "The suite"): the 642-vertex sphere of radius 0.5 deformed to
match the silhouettes of a bumpy target (same topology) from 24 azimuths of one elevation ring
at 64² (MSE on the silhouettes, a uniform Laplacian and a normal-consistency "flatten" term),
100 steps, every view each step. Scores: the mean IoU of the final hard silhouettes over the 24
views (threshold 0.4 of the grey 0.8) and the Chamfer distance to the target surface."""

from __future__ import annotations

import numpy as np

from ..config import JobConfig
from ..io.meshes import MeshData
from ..problem import Problem
from ..scene.cameras import perspective_camera
from ..scene.mesh.chamfer import chamfer_distance
from ..scene.mesh.config import MeshConfig
from ..scene.mesh.kind import TexturedMesh
from ..scene.mesh.reference import render_frozen
from ..sge.views import ViewSet
from . import instances
from .task import Task, grid_taus

DISTANCE, FOV_Y = 2.5, 30.0
LAPLACIAN, FLATTEN = 0.03, 0.001
SILHOUETTE = 0.4       # the grey of the silhouettes is 0.8 (the mesh kind's base colour)


def ring_cameras(inst, size: int) -> list:
    e = np.radians(inst.elevation)
    out = []
    for a in np.radians(inst.azimuths):
        eye = DISTANCE * np.array([np.cos(e) * np.sin(a), np.sin(e), np.cos(e) * np.cos(a)])
        out.append(perspective_camera(size, size, FOV_Y, eye, (0.0, 0.0, 0.0)))
    return out


class Shape3D(Task):
    name = "shape3d"
    log_tau = grid_taus(-4.0, -3.5, -4.0, -4.0, -3.5)
    primary = "iou"
    size, iterations = 64, 100
    quick_size, quick_iterations = 32, 30
    soft_kind = "soft_mesh"
    soft_aggregate = {"color": "zbuffer"}

    def instance(self, seed: int, quick: bool):
        return instances.shape3d(seed)

    def hard_job(self, inst, seed: int, quick: bool) -> dict:
        size, iterations = self.settings(quick)
        views = len(inst.azimuths)
        return {"name": "suite-shape3d", "seed": seed, "target": {"image": "<memory>"},
                "render": {"resolution": size, "background": [0.0, 0.0, 0.0], "projection": "perspective"},
                "scene": {"kind": "mesh", "icosphere": {"subdivisions": 3, "radius": 0.5},
                          "shading": {"model": "unlit"}, "colors": {"optimize": False},
                          "laplacian": {"weight": LAPLACIAN}, "normal_consistency": {"weight": FLATTEN}},
                "optimize": {"iterations": iterations, "samples": 1, "views_per_iteration": views}}

    def targets(self, device, inst, size: int) -> tuple[list, np.ndarray]:
        cams = ring_cameras(inst, size)
        mesh = MeshData(positions=inst.target, faces=inst.faces.astype(np.int32), uvs=None, normals=None,
                        texture=None, vertex_colors=None, name="target")
        frozen = {"optimize": False}
        scene = TexturedMesh(mesh, MeshConfig(mesh="target", shading={"model": "unlit"}, positions=frozen,
                                              colors=frozen), 1.0, cameras=len(cams))
        return cams, render_frozen(device, scene, cams, (size, size))

    def problem(self, device, job: JobConfig, inst, quick: bool) -> Problem:
        cams, images = self.targets(device, inst, self.settings(quick)[0])
        views = ViewSet(view_proj=np.stack([c.view_projection() for c in cams]),
                        eyes=np.stack([c.position for c in cams]), targets=images)
        return Problem(job, None, device=device, views=views, cameras=cams)

    def sge_eps(self, quick: bool) -> tuple[str, float]:
        size = self.settings(quick)[0]      # the mesh's default: half a pixel at the object
        return "scene.positions.eps", 0.5 * DISTANCE * 2.0 * np.tan(np.radians(FOV_Y) / 2.0) / size

    def meta_loss(self, score: dict) -> float:
        return 1.0 - score["iou"]

    def start(self, problem: Problem, inst):
        return problem.theta0.copy()

    def score(self, device, inst, thetas: list, quick: bool) -> list[dict]:
        hard = self.problem(device, JobConfig.model_validate(self.hard_job(inst, 0, quick)), inst, quick)
        try:
            lay, views = hard.scene.layout, hard.views
            want = views.targets[..., 0] > SILHOUETTE
            out = []
            for theta in thetas:
                hard.estimator.upload(theta)
                images = hard.estimator.evaluate(list(range(views.count)), images=True)["images"]
                ious = []
                for image, w in zip(images, want):
                    got = image[..., 0] > SILHOUETTE
                    ious.append((got & w).sum() / max((got | w).sum(), 1))
                pos = theta[lay.slice("positions")].reshape(-1, 3)
                out.append({"iou": float(np.mean(ious)),
                            "chamfer": chamfer_distance(pos, inst.faces, inst.target, inst.faces)})
            return out
        finally:
            hard.release()
