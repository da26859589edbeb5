"""Targets rendered by diffrast itself from a reference mesh (``target.reference``): the
config that draws the asset as the job sees it, and frozen renders of any scene kind (the
mesh kind's ``reference_targets`` puts them together)."""

from __future__ import annotations

import numpy as np

from ...sge.estimator import Estimator
from ...sge.views import ViewSet
from ..material.config import HeightMapConfig, MaterialConfig
from .config import MeshConfig, ShadingConfig


def reference_config(job, ref) -> MeshConfig:
    """The mesh config that draws the reference asset ``ref`` as the job sees it: the job's
    shading, lights and displacement; the asset's own maps (fixed) under PBR shading."""
    frozen = {"optimize": False}
    shading = getattr(job.scene, "shading", None)
    shading = shading if isinstance(shading, ShadingConfig) else ShadingConfig()
    if shading.model != "pbr":
        return MeshConfig(mesh="reference", shading=shading, positions=frozen, colors=frozen, texture=frozen)
    own = ref.material
    job_height = job.scene.material.height
    height = None
    if job_height is not None and own is not None and own.height is not None:
        height = HeightMapConfig(optimize=False, strength=own.height_strength, midlevel=own.height_midlevel)
    material = MaterialConfig(base_color=frozen, roughness=frozen, metallic=frozen,
                              normal=frozen if own is not None and own.normal is not None else None,
                              height=height, output=job.scene.material.output)
    return MeshConfig(mesh="reference", shading=shading, positions=frozen, material=material,
                      lights=job.scene.lights, displacement=job.scene.displacement if height is not None else None)


def render_frozen(device, scene, cams: list, size, supersample: int = 1, background=(0.0, 0.0, 0.0),
                  adam_cfg=None) -> np.ndarray:
    """Images (N, H, W, 3) of a scene kind at its initial parameters, seen by ``cams``
    (scene.cameras.Camera) at ``size``: targets rendered by diffrast itself."""
    blank = ViewSet(view_proj=np.stack([c.view_projection() for c in cams]),
                    eyes=np.stack([c.position for c in cams]),
                    targets=np.zeros((len(cams), size[1], size[0], 3), np.float32))
    if adam_cfg is None:
        from ...config import AdamConfig
        adam_cfg = AdamConfig()
    est = Estimator(device, scene, blank, views_per_iteration=min(len(cams), 8),
                    supersample=supersample, background=background, adam_cfg=adam_cfg)
    try:
        est.upload(scene.initial_params(0))
        images = est.evaluate(list(range(len(cams))), images=True)["images"]
    finally:
        est.release()
    return np.stack(images).astype(np.float32)
