"""The job's ``scene`` section for ``kind: volume`` (voxel grids of density and colour)."""

from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import Field, field_validator

from ...schema import Bool, Float, Int, ParamGroupConfig, Strict, Vec3


class VolumeInit(Strict):
    density: Float = Field(0.0, ge=0, description="initial density of every node (per world unit); 0 = empty "
                           "(stored as the floor 1e-3)")
    color: Vec3 = Field((0.5, 0.5, 0.5), description="initial RGB of every node")


class GrowStep(Strict):
    iteration: Int = Field(..., ge=1, description="the iteration the grid is resampled at")
    resolution: Union[Int, tuple[Int, Int, Int]] = Field(..., description="the grid's nodes per axis from then on")

    @field_validator("resolution")
    @classmethod
    def _sides(cls, v):
        return _check_sides(v)


def _check_sides(v):
    sides = (v, v, v) if isinstance(v, int) else tuple(v)
    if any(not 2 <= s <= 1024 for s in sides):
        raise ValueError(f"every side must be 2..1024 nodes, got {list(sides)}")
    return v


class VolumeConfig(Strict):
    kind: Literal["volume"] = "volume"
    resolution: Union[Int, tuple[Int, Int, Int]] = Field(
        64, description="grid nodes per axis: int (cube) or [x, y, z]; 2..1024 each")
    bounds: tuple[Vec3, Vec3] = Field(((-1.0, -1.0, -1.0), (1.0, 1.0, 1.0)),
                                      description="the grid's box [min corner, max corner], world units")
    step: Float = Field(0.5, gt=0.05, le=2.0, description="ray-marching step, in voxels (the smallest side)")
    jitter: Bool = Field(True, description="a random offset of each ray's samples per iteration and pixel "
                                           "(the same for the two copies of a pair)")
    gradient: Literal["analytic", "sge"] = Field(
        "analytic", description="analytic = exact derivatives of the ray march (G marches each pixel's ray "
        "backwards); sge = the estimator, each pixel's f+ - f- spread over the nodes its ray read")
    termination: Float = Field(1e-3, ge=0, lt=1, description="a ray stops once its transmittance falls below this")
    density: ParamGroupConfig = Field(ParamGroupConfig(), description="log density per node (density per world "
                                      "unit = exp(value); defaults eps 0.25, lr 0.05, bounds [ln 1e-4, ln 1e4])")
    color: ParamGroupConfig = Field(ParamGroupConfig(), description="RGB per node (defaults eps 0.05, lr 0.02)")
    init: VolumeInit = VolumeInit()
    init_file: Optional[str] = Field(None, description="a volume.npz (as runs write) to start from, resampled to "
                                     "scene.resolution (trilinear), relative to the job file")
    grow: list[GrowStep] = Field([], description="coarse to fine: at each step's iteration the grid (parameters "
                                 "and Adam's moments) is resampled trilinearly to the step's resolution; "
                                 "scene.resolution is the first")

    @field_validator("resolution")
    @classmethod
    def _sides(cls, v):
        return _check_sides(v)

    @field_validator("grow")
    @classmethod
    def _increasing(cls, v):
        its = [g.iteration for g in v]
        if any(b <= a for a, b in zip(its, its[1:])):
            raise ValueError(f"the steps' iterations must increase, got {its}")
        return v

    @field_validator("bounds")
    @classmethod
    def _box(cls, v):
        lo, hi = v
        if any(not b > a for a, b in zip(lo, hi)):
            raise ValueError(f"the max corner must exceed the min corner on every axis, got {[list(lo), list(hi)]}")
        return v

    @property
    def sides(self) -> tuple[int, int, int]:
        r = self.resolution
        return (r, r, r) if isinstance(r, int) else tuple(r)


__all__ = ["GrowStep", "VolumeConfig", "VolumeInit"]
