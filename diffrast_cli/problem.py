"""A job made concrete: device, views (cameras + targets), scene and estimator.

Everything that can fail on user input (files, sizes, limits) fails here,
before the output folder exists.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .config import JobConfig
from .errors import ConfigError
from .gl.context import create_device
from .io.images import header_size, load_target, target_size
from .jobfile import resolve_path
from .scene import cameras as camlib
from .scene.base import SceneSetup
from .scene.camera import view_projection
from .scene.registry import get_kind
from .sge.estimator import Estimator
from .sge.targets import tile_layout
from .sge.views import ViewSet


def _render_size(resolution, aspect_from=None) -> tuple[int, int]:
    if isinstance(resolution, int):
        return target_size(resolution, aspect_from) if aspect_from else (resolution, resolution)
    return int(resolution[0]), int(resolution[1])


def _orbit(job: JobConfig, size) -> list:
    o, c = job.cameras.orbit, job.cameras
    return camlib.orbit_cameras(o.count, width=size[0], height=size[1], fov_y_deg=o.fov_y, distance=o.distance,
                                center=o.center, hemisphere=o.hemisphere, jitter=o.jitter, seed=job.seed,
                                near=c.near, far=c.far)


def _viewset(cams: list, targets: np.ndarray, holdout: int) -> ViewSet:
    if holdout >= len(cams):
        raise ConfigError(f"cameras.holdout: {holdout} held out of {len(cams)} cameras leaves none to train on")
    train, held = camlib.split_holdout(cams, holdout) if holdout else (list(range(len(cams))), [])
    return ViewSet(view_proj=np.stack([c.view_projection() for c in cams]),
                   eyes=np.stack([c.position for c in cams]), targets=targets,
                   train=list(train), holdout=list(held), names=[c.name or f"view{i:03d}" for i, c in enumerate(cams)])


def check_inputs(job: JobConfig, base: Path) -> str:
    """Load every input file a job names (images, transforms, meshes) without GL;
    returns a one-line summary. Errors are the same one-line errors a run gives."""
    t, parts = job.target, []
    if t.image is not None:
        img = load_target(resolve_path(base, t.image), job.render.resolution, job.render.background)
        parts.append(f"target {img.shape[1]}x{img.shape[0]}")
    elif t.images is not None:
        size = _render_size(job.render.resolution)
        for p in t.images:
            load_target(resolve_path(base, p), list(size), job.render.background)
        parts.append(f"{len(t.images)} target images at {size[0]}x{size[1]}")
    elif t.transforms is not None:
        cams, _ = camlib.load_transforms(resolve_path(base, t.transforms), load_images=True)
        parts.append(f"{len(cams)} views from {Path(t.transforms).name}")
    else:
        what = get_kind(t.reference.kind).factory.describe_reference(resolve_path(base, t.reference.path))
        parts.append(f"reference {what}, {job.cameras.orbit.count} orbit views")
    parts.append(get_kind(job.scene.kind).factory.describe_inputs(job.scene, base))
    return ", ".join(parts)


def pixel_at_object(views: ViewSet, cams: list | None, center: np.ndarray, size) -> float:
    """World size of one pixel at the object, median over the training cameras."""
    return SceneSetup(None, None, views, cams, tuple(size)).pixel_at(center)


class Problem:
    def __init__(self, job: JobConfig, base_dir: Path | None, device=None, device_index=None, target=None,
                 asset=None, views: ViewSet | None = None, cameras: list | None = None, mesh=None,
                 **estimator_options):
        """``target`` (an image array), ``asset`` (what the scene kind would load, e.g. a
        MeshData; ``mesh`` is the same) and ``views`` (with ``cameras``) replace what the
        job would load from files (tests, bench)."""
        self.job = job
        self.base = base_dir
        self.owns_device = device is None
        self.device = device or create_device(device_index, job.optimize.atomics)
        self.estimator = None
        try:
            self._setup(target, asset if asset is not None else mesh, views, cameras, estimator_options)
        except BaseException:
            self.release()
            raise

    # -- setup --------------------------------------------------------------

    def _setup(self, target, asset, views, cameras, estimator_options) -> None:
        job, opt = self.job, self.job.optimize
        copies = 2 * opt.samples * opt.views_per_iteration
        self.cams = cameras
        self.reference = None
        self.kind = get_kind(job.scene.kind)
        if asset is None:       # input files first: their errors come before the targets'
            asset = self.kind.factory.load_asset(job.scene, self.base)
        t = job.target
        if views is not None:
            tile_layout(self.device, views.size, copies, job.render.supersample)
            self.views = views
        elif target is not None or t.image is not None:
            path = None if target is not None else resolve_path(self.base, t.image)
            probe = target.shape[1::-1] if target is not None else header_size(path)
            if probe is not None:  # check the size against the device before decoding/resizing
                tile_layout(self.device, target_size(job.render.resolution, probe), copies, job.render.supersample)
            if target is None:
                target = load_target(path, job.render.resolution, job.render.background)
            target = np.asarray(target, np.float32)
            size = (target.shape[1], target.shape[0])
            cam = job.render.camera
            eye = cam.position if job.render.projection == "perspective" else (0.0, 0.0, -1.0)
            self.views = ViewSet.single(view_projection(job.render, size), target, eye)
            if opt.views_per_iteration > 1:
                raise ConfigError("optimize.views_per_iteration: a single target image has one view")
        else:
            self.views = self._multi_view(copies)
        self.size = self.views.size
        self.target = self.views.targets[self.views.eval_views()[0]]
        self.scene = self.kind.factory.create(SceneSetup(job, self.base, self.views, self.cams, self.size, asset))
        self.eval_cams = self.views.eval_views()
        self.estimator = Estimator(
            self.device, self.scene, self.views, seed=job.seed, samples=opt.samples,
            views_per_iteration=opt.views_per_iteration, estimator=opt.estimator, loss=opt.loss,
            supersample=job.render.supersample, background=job.render.background,
            fixed_scale=opt.fixed_point_scale, adam_cfg=opt.adam, **estimator_options)
        self.theta0 = self.scene.initial_params(job.seed)
        self.estimator.upload(self.theta0)

    def _multi_view(self, copies: int) -> ViewSet:
        job, t = self.job, self.job.target
        holdout = job.cameras.holdout
        if t.transforms is not None:
            path = resolve_path(self.base, t.transforms)
            cams, _ = camlib.load_transforms(path, load_images=False)
            size = _render_size(job.render.resolution, (cams[0].width, cams[0].height))
            tile_layout(self.device, size, copies, job.render.supersample)
            cams, images = camlib.load_transforms(path, width=size[0], height=size[1],
                                                  background=job.render.background)
            self.cams = cams
            return _viewset(cams, np.stack(images).astype(np.float32), holdout)
        size = _render_size(job.render.resolution)
        tile_layout(self.device, size, copies, job.render.supersample)
        cams = _orbit(job, size)
        self.cams = cams
        if t.images is not None:
            images = [load_target(resolve_path(self.base, p), list(size), job.render.background) for p in t.images]
            return _viewset(cams, np.stack(images), holdout)
        return _viewset(cams, self._render_reference(cams, size), holdout)

    def _render_reference(self, cams: list, size) -> np.ndarray:
        """Targets rendered by diffrast itself: the reference asset, same cameras and settings."""
        ref = self.job.target.reference
        images, self.reference = get_kind(ref.kind).factory.reference_targets(
            self.device, self.job, resolve_path(self.base, ref.path), cams, size, self.base)
        return images

    # -- use ----------------------------------------------------------------

    def metrics(self, images: bool = False) -> dict:
        m = self.estimator.evaluate(self.eval_cams, images=images)
        m["loss"] = m["mae"] if self.job.optimize.loss == "l1" else m["mse"]
        held = set(self.views.holdout)
        for name, pick in (("holdout", lambda c: c in held), ("train", lambda c: c not in held)):
            mses = [v["mse"] for c, v in zip(self.eval_cams, m["views"]) if pick(c)]
            if mses and held:
                mse = float(np.mean(mses))
                m[f"{name}_psnr"] = float("inf") if mse <= 0 else float(10 * np.log10(1 / mse))
        return m

    def scene_metrics(self, theta: np.ndarray) -> dict:
        """The scene kind's asset metrics at ``theta`` (e.g. Chamfer distance to the reference)."""
        return self.scene.metrics(theta, self.reference)

    def chamfer(self, theta: np.ndarray) -> float | None:
        """The Chamfer distance among :meth:`scene_metrics`, or None."""
        return self.scene_metrics(theta).get("chamfer")

    def release(self) -> None:
        if self.estimator is not None:
            self.estimator.release()
            self.estimator = None
        if self.owns_device and getattr(self, "device", None) is not None:
            self.device.release()
            self.device = None
