"""Targets rendered by diffrast itself from a reference mesh (``target.reference``):
the reference asset drawn by the mesh kind, frozen, with the job's cameras."""

from __future__ import annotations

import numpy as np

from ...io import meshes
from ...sge.estimator import Estimator
from ...sge.views import ViewSet
from .config import MeshConfig, ShadingConfig
from .kind import TexturedMesh


def render_reference(device, job, path, cams: list, size) -> tuple[np.ndarray, object]:
    """(images (N, H, W, 3), the reference MeshData) of the mesh at ``path`` seen by ``cams``.
    Shading: the job's scene shading when its kind has one, else the mesh kind's default."""
    ref = meshes.load_mesh(path)
    frozen = {"optimize": False}
    shading = getattr(job.scene, "shading", None)
    shading = shading if isinstance(shading, ShadingConfig) else ShadingConfig()
    cfg = MeshConfig(mesh="reference", shading=shading, positions=frozen, colors=frozen, texture=frozen)
    scene = TexturedMesh(ref, cfg, 1.0, cull=job.render.cull)
    blank = ViewSet(view_proj=np.stack([c.view_projection() for c in cams]),
                    eyes=np.stack([c.position for c in cams]),
                    targets=np.zeros((len(cams), size[1], size[0], 3), np.float32))
    est = Estimator(device, scene, blank, views_per_iteration=min(len(cams), 8),
                    supersample=job.render.supersample, background=job.render.background,
                    adam_cfg=job.optimize.adam)
    try:
        est.upload(scene.initial_params(0))
        images = est.evaluate(list(range(len(cams))), images=True)["images"]
    finally:
        est.release()
    return np.stack(images).astype(np.float32), ref
