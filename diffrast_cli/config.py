"""Job schema (pydantic, unknown keys rejected), YAML loading and --set overrides."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal, Optional, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ConfigError

MAX_CONFIG_BYTES = 1 << 20   # a job file is small; refuse anything bigger


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


Vec3 = tuple[float, float, float]
Range = tuple[float, float]


class ParamGroupConfig(Strict):
    """Perturbation size, learning rate and bounds of one parameter group."""

    eps: Optional[float] = Field(None, gt=0, description="perturbation size; null = the group's default")
    lr: Optional[float] = Field(None, ge=0, description="Adam learning rate; null = default")
    bounds: Optional[Range] = None
    optimize: bool = True

    @field_validator("bounds")
    @classmethod
    def _ordered(cls, v):
        if v is not None and not v[0] < v[1]:
            raise ValueError("bounds must be [low, high] with low < high")
        return v


class SoupInit(Strict):
    """Random initialisation of a triangle soup."""

    center: Vec3 = (0.0, 0.0, 0.5)
    extent: Vec3 = (1.0, 1.0, 0.5)      # triangle centres uniform in center +- extent
    size: float = Field(0.1, gt=0)      # vertex offsets from the centre, uniform in +-size
    color: Range = (0.0, 1.0)


class SceneConfig(Strict):
    kind: Literal["soup"] = "soup"
    triangles: int = Field(2000, ge=1, le=50_000_000)
    init: SoupInit = SoupInit()
    positions: ParamGroupConfig = ParamGroupConfig()
    depths: ParamGroupConfig = ParamGroupConfig()
    colors: ParamGroupConfig = ParamGroupConfig()


class CameraConfig(Strict):
    position: Vec3 = (0.0, 0.0, 3.0)
    look_at: Vec3 = (0.0, 0.0, 0.0)
    up: Vec3 = (0.0, 1.0, 0.0)
    fov_y: float = Field(45.0, gt=0, lt=180, description="vertical field of view, degrees")
    near: float = Field(0.1, gt=0)
    far: float = Field(100.0, gt=0)

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
    background: Vec3 = (0.0, 0.0, 0.0)
    supersample: int = Field(1, ge=1, le=4, description="SS x SS subsamples per pixel (antialiasing)")

    @field_validator("resolution")
    @classmethod
    def _positive(cls, v):
        sizes = (v,) if isinstance(v, int) else v
        if any(s < 1 for s in sizes):
            raise ValueError("resolution must be positive")
        return v


class TargetConfig(Strict):
    image: str


class AdamConfig(Strict):
    beta1: float = Field(0.9, ge=0, lt=1)
    beta2: float = Field(0.999, ge=0, lt=1)
    eps: float = Field(1e-8, gt=0)


class OptimizeConfig(Strict):
    iterations: int = Field(1500, ge=1, le=100_000_000)
    estimator: Literal["per_pixel", "full_image"] = "per_pixel"
    samples: int = Field(1, ge=1, le=256, description="antithetic sign pairs per iteration")
    loss: Literal["l2", "l1"] = "l2"
    atomics: Literal["auto", "float", "fixed"] = "auto"
    fixed_point_scale: float = Field(65536.0, gt=0, le=2**24)
    lr_schedule: Literal["constant", "cosine", "step"] = "cosine"
    lr_final: float = Field(0.1, gt=0, le=1, description="final learning-rate factor of the schedule")
    adam: AdamConfig = AdamConfig()


class OutputConfig(Strict):
    log_every: int = Field(25, ge=1)
    frames: int = Field(10, ge=0, le=200, description="progress frames kept for the grid and GIF")


class JobConfig(Strict):
    name: str = Field("job", min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._-]+$")
    seed: int = Field(0, ge=0, le=2**32 - 1)
    target: TargetConfig
    render: RenderConfig = RenderConfig()
    scene: SceneConfig = SceneConfig()
    optimize: OptimizeConfig = OptimizeConfig()
    output: OutputConfig = OutputConfig()


# ---------------------------------------------------------------------------


def _format_error(path: str, err: dict) -> str:
    loc = ".".join(str(p) for p in err.get("loc", ()) if not str(p).startswith("function-"))
    msg = err.get("msg", "invalid")
    if err.get("type") == "extra_forbidden":
        msg = "unknown key"
    elif err.get("type") == "missing":
        msg = "required key is missing"
    where = f"{path}: {loc}" if loc else path
    return f"{where}: {msg}"


def _read_yaml(path: Path) -> dict:
    if not path.exists():
        raise ConfigError(f"{path}: job file not found")
    if not path.is_file():
        raise ConfigError(f"{path}: not a file")
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: job file is {size} bytes, more than the {MAX_CONFIG_BYTES} allowed")
        text = path.read_text(encoding="utf-8")
    except ConfigError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read job file ({exc.__class__.__name__}: {exc})")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{where}: invalid YAML ({problem})")
    except RecursionError:
        raise ConfigError(f"{path}: YAML nested too deeply")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a job file must be a mapping of keys, got {type(data).__name__}")
    return data


def _parse_value(text: str):
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def apply_override(data: dict, assignment: str) -> None:
    """Apply one ``dotted.key=value`` (value parsed as YAML) to a raw job mapping."""
    if "=" not in assignment:
        raise ConfigError(f"--set {assignment!r}: expected dotted.key=value")
    key, _, raw = assignment.partition("=")
    parts = key.strip().split(".")
    if not all(parts):
        raise ConfigError(f"--set {assignment!r}: empty key")
    node = data
    for i, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        elif not isinstance(child, dict):
            raise ConfigError(f"--set {key}: {'.'.join(parts[: i + 1])} is not a mapping")
        node = child
    node[parts[-1]] = _parse_value(raw)


PATH_KEYS = ("target.image",)


def _absolutize(data: dict, key: str) -> None:
    *parents, leaf = key.split(".")
    node = data
    for part in parents:
        node = node[part]
    if isinstance(node.get(leaf), str):
        node[leaf] = str(Path(node[leaf]).expanduser().resolve())


def load_job(path: str | Path, overrides: tuple[str, ...] | list[str] = ()) -> tuple[JobConfig, Path]:
    """Load, override and validate a job file. Returns the config and the job file's folder."""
    path = Path(path)
    data = _read_yaml(path)
    for assignment in overrides:
        apply_override(data, assignment)
        key = assignment.partition("=")[0].strip()
        if key in PATH_KEYS:  # paths given on the command line are relative to the working directory
            _absolutize(data, key)
    try:
        job = JobConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_error(str(path), exc.errors()[0]))
    return job, path.resolve().parent


def resolve_path(base: Path, value: str) -> Path:
    """A path from the job file, relative to the job file's folder."""
    p = Path(value).expanduser()
    return p if p.is_absolute() else (base / p)


def dump_job(job: JobConfig) -> str:
    return yaml.safe_dump(job.model_dump(mode="json"), sort_keys=False)
