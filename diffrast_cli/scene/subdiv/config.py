"""The job's ``scene`` section for ``kind: subdiv`` (Catmull-Clark subdivision surfaces)."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, field_validator, model_validator

from ...schema import Int, ParamGroupConfig, Strict
from ..material.config import DEFAULT_LIGHTS, LightConfig, MaterialConfig, check_light_setups
from ..mesh.config import ShadingConfig

LEVELS_DEFAULT = 2


class SubdivConfig(Strict):
    kind: Literal["subdiv"] = "subdiv"
    cage: str = Field(..., description="OBJ file of the control cage (triangles, quads, n-gons; vt for maps), "
                      "relative to the job file")
    levels: Int = Field(LEVELS_DEFAULT, ge=1, le=5, description="Catmull-Clark levels refined on the GPU every "
                        "iteration (each level: 4x the quads)")
    creases: list[tuple[Int, Int]] = Field([], description="sharp edges: pairs of cage vertex indices (0-based, "
                                           "as the OBJ lists them)")
    positions: ParamGroupConfig = Field(ParamGroupConfig(), description="the control points")
    shading: ShadingConfig = Field(ShadingConfig(model="pbr"), description="pbr (default; scene.material), lambert or "
                                   "unlit; normals smooth = vertex normals of each copy's refined surface")
    material: Optional[MaterialConfig] = Field(None, description="PBR maps on the refined surface; material.height "
                                               "displaces its vertices along their normals")
    lights: list[list[LightConfig]] = Field(DEFAULT_LIGHTS, description="light setups of PBR shading; view i uses "
                                            "setup i mod (number of setups)")

    _setups = field_validator("lights")(check_light_setups)

    @field_validator("creases")
    @classmethod
    def _pairs(cls, v):
        for a, b in v:
            if a < 0 or b < 0 or a == b:
                raise ValueError(f"a crease is two different vertex indices >= 0, got [{a}, {b}]")
        return v

    @model_validator(mode="after")
    def _material(self):
        if self.shading.model == "pbr":
            if self.material is None:
                self.material = MaterialConfig()
        elif self.material is not None:
            raise ValueError(f"scene.material needs shading.model: pbr, got {self.shading.model}")
        return self

    @property
    def displaced(self) -> bool:
        return self.material is not None and self.material.height is not None


__all__ = ["LEVELS_DEFAULT", "SubdivConfig"]
