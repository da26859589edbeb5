"""The job schema (pydantic, unknown keys rejected, no silent type coercion).

The ``scene`` section is a union of the scene kinds' config models,
discriminated by ``kind`` (default ``soup``), built from the kind registry
(scene/registry.py) and rebuilt when a kind registers. Reading job files,
--set overrides and error messages live in :mod:`diffrast_cli.jobfile`.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal, Optional, Union

from pydantic import BaseModel, BeforeValidator, Field, field_validator, model_validator
from pydantic.fields import FieldInfo

from .errors import show_value as _show
from .scene import registry
from .schema import Bool, Float, Int, ParamGroupConfig, Range, Strict, Vec3

# No OpenGL driver allows a texture side above this; the device's own
# GL_MAX_TEXTURE_SIZE is checked when the job starts.
MAX_RESOLUTION = 32768

__all__ = ["Bool", "Float", "Int", "MAX_RESOLUTION", "ParamGroupConfig", "Range", "Strict", "Vec3",
           "JobConfig", "scene_config_type"]


def _default_kind(value):
    """A scene section without ``kind`` is the default kind's."""
    if isinstance(value, dict) and "kind" not in value:
        return {"kind": registry.DEFAULT_KIND, **value}
    return value


def scene_config_type():
    """The type of the ``scene`` section: the registered kinds' models, discriminated by ``kind``."""
    models = tuple(spec.config for spec in registry.kinds().values())
    union = Union[models] if len(models) > 1 else models[0]
    return Annotated[union, Field(discriminator="kind"), BeforeValidator(_default_kind)]


def _default_scene():
    return registry.get_kind(registry.DEFAULT_KIND).config()


class CameraConfig(Strict):
    position: Vec3 = (0.0, 0.0, 3.0)
    look_at: Vec3 = (0.0, 0.0, 0.0)
    up: Vec3 = (0.0, 1.0, 0.0)
    fov_y: Float = Field(45.0, gt=0, lt=180, description="vertical field of view, degrees")
    near: Float = Field(0.1, gt=0)
    far: Float = Field(100.0, gt=0)

    @model_validator(mode="after")
    def _near_far(self):
        if self.far <= self.near:
            raise ValueError("far must be greater than near")
        if math.dist(self.position, self.look_at) == 0:
            raise ValueError("position and look_at must differ")
        return self


class RenderConfig(Strict):
    resolution: Union[int, tuple[int, int]] = Field(256, description="int: longer side, aspect from the target; or [w, h]")
    projection: Literal["orthographic", "perspective"] = "orthographic"
    camera: CameraConfig = CameraConfig()
    background: Vec3 = Field((0.0, 0.0, 0.0), description="RGB in [0, 1] (targets are in [0, 1])")
    supersample: Int = Field(1, ge=1, le=4, description="SS x SS subsamples per pixel (antialiasing)")
    cull: Literal["auto", "none", "back"] = Field(
        "auto", description="auto: cull back faces of closed, consistently oriented meshes (faster; clean renders unchanged)")

    @field_validator("background")
    @classmethod
    def _background(cls, v):
        if not all(0.0 <= c <= 1.0 for c in v):
            raise ValueError(f"each colour component must be in [0, 1], got {_show(list(v))}")
        return v

    @field_validator("resolution", mode="before")
    @classmethod
    def _resolution(cls, v):
        def is_int(x):
            return isinstance(x, int) and not isinstance(x, bool)

        if is_int(v):
            sizes = (v,)
        elif isinstance(v, (list, tuple)) and len(v) == 2 and all(is_int(s) for s in v):
            sizes = v = tuple(v)
        else:
            raise ValueError(f"must be an integer (the longer side) or [width, height] of integers, got {_show(v)}")
        if any(s < 1 for s in sizes):
            raise ValueError(f"must be positive, got {_show(list(v) if isinstance(v, tuple) else v)}")
        if any(s > MAX_RESOLUTION for s in sizes):
            raise ValueError(f"{_show(max(sizes))} is larger than {MAX_RESOLUTION}, the largest texture side any "
                             f"OpenGL driver allows")
        return v


class ReferenceConfig(Strict):
    """A reference asset rendered by diffrast with the job's cameras: exactly one of ``mesh`` (drawn
    by the mesh kind) or ``volume`` (a volume.npz, drawn by the volume kind); the key names the kind
    whose :meth:`~diffrast_cli.scene.base.SceneKind.reference_targets` renders it."""

    mesh: Optional[str] = Field(None, description="reference mesh asset (OBJ / glTF / GLB / PLY)")
    volume: Optional[str] = Field(None, description="reference voxel grid (volume.npz: density, color, lo, hi)")
    supersample: Optional[Int] = Field(None, ge=1, le=4, description="SS x SS subsamples per pixel of the "
                                       "captured images (antialiased like a camera's pixels); null: "
                                       "render.supersample")

    @model_validator(mode="after")
    def _one_asset(self):
        if (self.mesh is None) == (self.volume is None):
            raise ValueError("give exactly one of mesh or volume")
        return self

    @property
    def kind(self) -> str:
        """The scene kind that renders the asset."""
        return "mesh" if self.mesh is not None else "volume"

    @property
    def path(self) -> str:
        return self.mesh if self.mesh is not None else self.volume


class TargetConfig(Strict):
    """Exactly one of: one image, a list of images (one per orbit camera), a
    NeRF-synthetic transforms.json, or a reference asset."""

    image: Optional[str] = None
    images: Optional[list[str]] = None
    transforms: Optional[str] = None
    reference: Optional[ReferenceConfig] = None

    @model_validator(mode="after")
    def _one(self):
        given = [k for k in ("image", "images", "transforms", "reference") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of image, images, transforms or reference"
                             + (f" (got {', '.join(given)})" if given else ""))
        if self.images is not None and not self.images:
            raise ValueError("images is empty")
        return self


class OrbitConfig(Strict):
    count: Int = Field(24, ge=1, le=4096)
    fov_y: Float = Field(40.0, gt=0, lt=180)
    distance: Float = Field(3.0, gt=0)
    center: Vec3 = (0.0, 0.0, 0.0)
    hemisphere: Bool = False
    jitter: Float = Field(0.0, ge=0, le=1)


class CamerasConfig(Strict):
    orbit: Optional[OrbitConfig] = Field(None, description="an orbit rig (needed by target.images / reference)")
    holdout: Int = Field(0, ge=0, description="cameras kept out of training and scored at log steps")
    near: Float = Field(0.05, gt=0)
    far: Float = Field(100.0, gt=0)

    @model_validator(mode="after")
    def _near_far(self):
        if self.far <= self.near:
            raise ValueError(f"far must be greater than near (near {_show(self.near)}, far {_show(self.far)})")
        return self


class AdamConfig(Strict):
    beta1: Float = Field(0.9, ge=0, lt=1)
    beta2: Float = Field(0.999, ge=0, lt=1)
    eps: Float = Field(1e-8, gt=0)


class OptimizeConfig(Strict):
    iterations: Int = Field(1500, ge=1, le=100_000_000)
    estimator: Literal["per_pixel", "full_image"] = "per_pixel"
    samples: Int = Field(1, ge=1, le=256, description="antithetic sign pairs per view and iteration")
    views_per_iteration: Int = Field(1, ge=1, le=64, description="cameras rendered per iteration")
    loss: Literal["l2", "l1"] = "l2"
    atomics: Literal["auto", "float", "fixed"] = Field(
        "auto", description="auto = fixed: integer atomics, bit-reproducible; float: GL_NV_shader_atomic_float")
    on_nonfinite: Literal["stop", "skip"] = Field(
        "stop", description="a non-finite gradient/parameter: stop (keep the last good checkpoint) or skip the update")
    fixed_point_scale: Float = Field(65536.0, gt=0, le=2**24)
    lr_schedule: Literal["constant", "cosine", "step"] = "cosine"
    lr_final: Float = Field(0.1, gt=0, le=1, description="final learning-rate factor of the schedule")
    restarts: list[Int] = Field([], max_length=1000, description="warm restarts: at each of these iterations Adam's "
                                "moments are zeroed and the learning-rate schedule starts over (past the end: none)")
    adam: AdamConfig = AdamConfig()

    @field_validator("restarts")
    @classmethod
    def _increasing(cls, v):
        if any(b <= a for a, b in zip(v, v[1:])) or any(r < 1 for r in v):
            raise ValueError(f"must be increasing iterations >= 1, got {_show(v)}")
        return v


class OutputConfig(Strict):
    log_every: Int = Field(25, ge=1)
    checkpoint_every: Int = Field(500, ge=0, description="iterations between checkpoints (rounded to log_every); "
                                                          "0 = only at the end and on interruption")
    frames: Int = Field(10, ge=0, le=200, description="progress frames kept for the grid and GIF")


class JobConfig(Strict):
    name: str = Field("job", min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._-]+$")
    seed: Int = Field(0, ge=0, le=2**32 - 1)
    target: TargetConfig
    cameras: CamerasConfig = CamerasConfig()
    render: RenderConfig = RenderConfig()
    scene: scene_config_type() = Field(default_factory=_default_scene)
    optimize: OptimizeConfig = OptimizeConfig()
    output: OutputConfig = OutputConfig()

    @field_validator("name")
    @classmethod
    def _folder_name(cls, v):
        if v in (".", ".."):                       # runs/.. would be the working directory itself
            raise ValueError(f"{_show(v)} cannot name the output folder runs/<name>")
        return v

    @model_validator(mode="after")
    def _views(self):
        t, orbit = self.target, self.cameras.orbit
        if (t.images is not None or t.reference is not None) and orbit is None:
            raise ValueError(f"cameras.orbit: target.{'images' if t.images is not None else 'reference'} "
                             f"needs an orbit rig of cameras")
        if t.images is not None and len(t.images) != orbit.count:
            raise ValueError(f"cameras.orbit.count: {orbit.count} cameras for {len(t.images)} target.images")
        if (t.transforms is not None or t.image is not None) and orbit is not None:
            raise ValueError("cameras.orbit: only for target.images or target.reference")
        if orbit is not None and self.cameras.holdout >= orbit.count:
            raise ValueError(f"cameras.holdout: {self.cameras.holdout} held out of {orbit.count} orbit cameras "
                             f"leaves none to train on")
        for key, group in _param_groups(self.scene, "scene"):
            if group.optimize and group.start >= self.optimize.iterations:
                raise ValueError(f"{key}.start: {group.start} is not below optimize.iterations "
                                 f"({self.optimize.iterations}): the group would never be optimised")
        return self


def _param_groups(model, key):
    """(dotted key, ParamGroupConfig) of every parameter group in a config section, any depth."""
    if isinstance(model, ParamGroupConfig):
        yield key, model
    if isinstance(model, BaseModel):
        for name in type(model).model_fields:
            yield from _param_groups(getattr(model, name), f"{key}.{name}")


def _rebuild_scene_section() -> None:
    """Make JobConfig.scene the union of the kinds registered now."""
    JobConfig.model_fields["scene"] = FieldInfo.from_annotated_attribute(
        scene_config_type(), Field(default_factory=_default_scene))
    JobConfig.model_rebuild(force=True)


registry.on_change(_rebuild_scene_section)
