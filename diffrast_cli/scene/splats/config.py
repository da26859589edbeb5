"""The job's ``scene`` section for ``kind: splats`` (3D Gaussian splats, docs/splats.md)."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, model_validator

from ...schema import Bool, Float, Int, ParamGroupConfig, Range, Strict, Vec3


class SplatInit(Strict):
    """Where the splats start. ``random``: means uniform in center +- extent; ``points``: the
    points of a point-cloud PLY (colours from it when it has them); ``mesh``: points sampled on
    a mesh's surface; ``ply``: a 3DGS PLY as it is (e.g. an earlier result)."""

    kind: Literal["random", "points", "mesh", "ply"] = "random"
    file: Optional[str] = Field(None, description="the PLY or mesh file of points / mesh / ply")
    center: Vec3 = (0.0, 0.0, 0.0)
    extent: Vec3 = (1.0, 1.0, 1.0)
    scale: Optional[Float] = Field(None, gt=0, description="initial standard deviation (world units); "
                                   "null = the mean spacing of the splats, (volume / count)^(1/3) / 2")
    opacity: Float = Field(0.1, gt=0, lt=1, description="initial opacity (3DGS: 0.1)")
    color: Range = (0.0, 1.0)
    random_rotations: Bool = Field(True, description="uniformly random orientations (else identity)")

    @model_validator(mode="after")
    def _file(self):
        if self.kind != "random" and not self.file:
            raise ValueError(f"init.kind {self.kind} needs init.file")
        return self


class SplatsConfig(Strict):
    kind: Literal["splats"] = "splats"
    count: Int = Field(10_000, ge=1, le=20_000_000, description="number of splats (with init.kind points/mesh: "
                       "sampled from the file; ply: the file's own count is used)")
    sh_degree: Int = Field(0, ge=0, le=3, description="spherical-harmonic degree of the colour")
    init: SplatInit = SplatInit()
    layers: Int = Field(32, ge=1, le=256, description="fragments composited per sample (the nearest)")
    fragments: Float = Field(0.0, ge=0, description="fragments per sample of the first node budget "
                             "(0: 4x what the initial splats need, at least min(layers, 16), at most 64); it grows at log steps "
                             "when a frame needed more")
    contributors: Int = Field(128, ge=1, le=4096, description="contributors (splats) kept per pixel")
    structure: Literal["default", "lists", "kbuffer"] = "default"
    positions: ParamGroupConfig = ParamGroupConfig()
    scales: ParamGroupConfig = ParamGroupConfig()
    rotations: ParamGroupConfig = ParamGroupConfig()
    opacity: ParamGroupConfig = ParamGroupConfig()
    sh_dc: ParamGroupConfig = ParamGroupConfig()
    sh_rest: ParamGroupConfig = ParamGroupConfig()
