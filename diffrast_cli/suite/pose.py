"""The pose task (docs/soft.md, "The suite"): a vertex-coloured bumpy sphere (the project's stand-in
for a textured mesh: colour = 0.5 + 0.5 x the vertex direction, no two directions alike) seen at
64² by a camera whose distance, elevation, azimuth and fov (scene.pose) are recovered from one
target image, starting 15-35° away; 300 steps (angles: step 0.01, learning rate 0.04 rad). Instance k is target k mod 24 of the 24-target set
of seed k // 24. Scores: success (angular error below 5°), the angular error of the view
direction, the distance and fov errors, and the MSE of the final hard render."""

from __future__ import annotations

import numpy as np

from ..config import JobConfig
from ..io.meshes import MeshData
from ..problem import Problem
from . import instances
from .task import Task, grid_taus

TARGETS = 24
SUCCESS_DEGREES = 5.0
ANGLES = {"eps": 0.01, "lr": 0.04}     # radians (1.8 and 7 pixels' angle at 64²; the kind's defaults: 0.5 and 1)


class PoseTarget:
    """Target ``index`` of a pose instance set, with its mesh."""

    def __init__(self, seed: int):
        self.set = instances.pose(seed // TARGETS)
        self.index = seed % TARGETS
        s = self.set
        self.mesh = MeshData(positions=s.positions, faces=s.faces.astype(np.int32), uvs=None, normals=None,
                             texture=None, vertex_colors=s.colors, name="pose")

    def pose(self, which: str) -> dict:
        d, e, a = (self.set.target if which == "target" else self.set.start)[self.index]
        return {"distance": float(d), "elevation": float(e), "azimuth": float(a), "fov_y": self.set.fov_y}


class Pose(Task):
    name = "pose"
    log_tau = grid_taus(-3.5, -3.0, -3.5, -3.5, -3.0)
    primary = "success"
    instances = 24
    size, iterations = 64, 300
    quick_size, quick_iterations = 32, 80
    soft_kind = "soft_mesh"
    soft_aggregate = {"color": "zbuffer"}

    def instance(self, seed: int, quick: bool):
        return PoseTarget(seed)

    def hard_job(self, inst, seed: int, quick: bool, which: str = "start", optimize: bool = True) -> dict:
        size, iterations = self.settings(quick)
        return {"name": "suite-pose", "seed": seed, "target": {"image": "<memory>"},
                "render": {"resolution": size, "background": [0.0, 0.0, 0.0], "projection": "perspective",
                           "camera": {"position": [0.0, 0.0, 0.0], "look_at": [0.0, 0.0, -1.0],
                                      "fov_y": inst.set.fov_y}},
                "scene": {"kind": "mesh", "mesh": "<memory>", "shading": {"model": "unlit"},
                          "positions": {"optimize": False}, "colors": {"optimize": False},
                          "pose": {"start": inst.pose(which),
                                   "angles": {"optimize": optimize, **(ANGLES if optimize else {})},
                                   "fov": {"optimize": optimize}, "distance": {"optimize": optimize}}},
                "optimize": {"iterations": iterations, "samples": 1}}

    def target_image(self, device, inst, quick: bool) -> np.ndarray:
        return self.single_render(device, self.hard_job(inst, 0, quick, "target", optimize=False), quick,
                                  asset=inst.mesh)

    def problem(self, device, job: JobConfig, inst, quick: bool) -> Problem:
        return Problem(job, None, device=device, target=self.target_image(device, inst, quick), asset=inst.mesh)

    def sge_eps(self, quick: bool) -> tuple[str, float]:
        return "scene.pose.angles.eps", ANGLES["eps"]

    def meta_loss(self, score: dict) -> float:
        return score["angle_error"] / 90.0

    def start(self, problem: Problem, inst):
        return problem.theta0.copy()

    def score(self, device, inst, thetas: list, quick: bool) -> list[dict]:
        from ..scene.mesh.pose import values
        target = self.target_image(device, inst, quick)
        want = inst.pose("target")
        hard = Problem(JobConfig.model_validate(self.hard_job(inst, 0, quick)), None, device=device, target=target,
                       asset=inst.mesh)
        try:
            out = []
            for theta in thetas:
                hard.estimator.upload(theta)
                image = hard.estimator.color(0)
                got = values(theta, hard.scene.layout)
                angle = float(instances.angle_between(got["elevation"], got["azimuth"], want["elevation"],
                                                      want["azimuth"]))
                out.append({"success": float(angle < SUCCESS_DEGREES), "angle_error": angle,
                            "distance_error": abs(got["distance"] - want["distance"]),
                            "fov_error": abs(got["fov_y"] - want["fov_y"]),
                            "mse": float(((image - target) ** 2).mean())})
            return out
        finally:
            hard.release()
