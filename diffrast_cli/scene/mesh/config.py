"""The job's ``scene`` section for ``kind: mesh``."""

from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import Field, field_validator, model_validator

from ...errors import show_value
from ...schema import Bool, Float, Int, ParamGroupConfig, Strict, Vec3
from ..opacity import OpacityConfig
from .pose import PoseConfig
from ..material.config import DEFAULT_LIGHTS, check_map_sides, DisplacementConfig, LightConfig, MaterialConfig, check_light_setups

# The texture smoothness regulariser E = smoothness / SMOOTHNESS_REFERENCE_TEXELS * sum over texels of
# |t - right|^2 + |t - down|^2. A fixed normaliser, not the texture's texel count: the best weight
# measured on three texture jobs (256^2, 512^2 and 1024^2 textures) scaled with the texel count under
# a per-texel normaliser, and is about the same under this one (docs/design.md, "Texture quality").
SMOOTHNESS_REFERENCE_TEXELS = 512 * 512
SMOOTHNESS_DEFAULT = 0.001
TEXTURE_GRADIENT_DEFAULT = "analytic"

class TextureConfig(ParamGroupConfig):
    """The base-colour texture of a mesh: there is one when the mesh has one, or when a resolution or an RGB init is given."""

    resolution: Optional[Union[Int, tuple[Int, Int]]] = Field(
        None, description="texels: int (square) or [w, h]; null = the asset's texture size")
    init: Union[Literal["asset"], Vec3] = Field("asset", description='"asset" (its texture) or a constant RGB')
    uv_atlas: Literal["auto", "never"] = Field(
        "auto", description="a texture on a mesh without UVs: auto = generate a UV atlas with xatlas; never = refuse")
    gradient: Literal["sge", "analytic"] = Field(
        TEXTURE_GRADIENT_DEFAULT, description="texel gradients: sge = the stochastic estimator (texels perturbed); "
        "analytic = exact derivatives of the shading, visibility still by SGE")
    smoothness: Float = Field(SMOOTHNESS_DEFAULT, ge=0, description="weight of the texture smoothness regulariser "
                              "weight / 512^2 * sum |t - neighbour|^2 over 4-neighbours, wrapped (0 = off)")

    _texels = field_validator("resolution")(check_map_sides("texture"))


class ShadingConfig(Strict):
    model: Literal["unlit", "lambert", "pbr"] = Field(
        "lambert", description="pbr = glTF metallic-roughness with scene.material and scene.lights (docs/pbr.md)")
    light_dir: Vec3 = Field((0.3, 1.0, 0.6), description="direction towards the light, world space")

    @field_validator("light_dir")
    @classmethod
    def _direction(cls, v):
        n2 = sum(c * c for c in v)          # as the renderer normalises it: no overflow, no underflow
        if not 1e-30 < n2 < 1e300:
            raise ValueError(f"must be a direction (a non-zero vector of moderate length), got {show_value(list(v))}")
        return v
    ambient: Float = Field(0.3, ge=0, le=1)
    normals: Literal["smooth", "face"] = Field(
        "smooth", description="smooth: vertex normals of the clean geometry; face: of the perturbed triangles")


class LaplacianConfig(Strict):
    weight: Float = Field(0.0, ge=0, description="Laplacian smoothness weight (0 = off)")
    weights: Literal["uniform", "cotangent"] = "uniform"


class NormalConsistencyConfig(Strict):
    weight: Float = Field(0.0, ge=0, description="normal consistency weight: weight / pairs * sum over edges shared "
                          "by two triangles of (1 - n_f . n_g), unit face normals (0 = off)")


class IcosphereConfig(Strict):
    subdivisions: Int = Field(3, ge=0, le=8)
    radius: Float = Field(1.0, gt=0)
    center: Vec3 = (0.0, 0.0, 0.0)


class MeshConfig(Strict):
    kind: Literal["mesh"] = "mesh"
    mesh: Optional[str] = Field(None, description="OBJ / glTF / GLB / PLY file, relative to the job file")
    icosphere: Optional[IcosphereConfig] = None
    texture: TextureConfig = TextureConfig()
    shading: ShadingConfig = ShadingConfig()
    laplacian: LaplacianConfig = LaplacianConfig()
    normal_consistency: NormalConsistencyConfig = NormalConsistencyConfig()
    positions: ParamGroupConfig = ParamGroupConfig()
    colors: ParamGroupConfig = Field(ParamGroupConfig(), description="vertex colours")
    material: Optional[MaterialConfig] = Field(None, description="PBR maps (implies shading.model: pbr)")
    lights: list[list[LightConfig]] = Field(DEFAULT_LIGHTS, description="light setups of PBR shading; view i "
                                            "uses setup i mod (number of setups)")
    displacement: Optional[DisplacementConfig] = Field(None, description="refine each triangle on the fly and "
                                                       "displace it by scene.material.height")
    opacity: OpacityConfig = Field(OpacityConfig(), description="an opacity per triangle (unlit / lambert shading)")
    pose: Optional[PoseConfig] = Field(None, description="the object's pose (distance, elevation, azimuth, fov) "
                                       "as parameters, seen by render.camera (scene/mesh/pose.py)")

    _setups = field_validator("lights")(check_light_setups)

    @model_validator(mode="after")
    def _one_source(self):
        if (self.mesh is None) == (self.icosphere is None):
            raise ValueError("kind: mesh needs exactly one of mesh (a file) or icosphere")
        if self.material is not None or self.shading.model == "pbr":
            if "model" in self.shading.model_fields_set and self.shading.model != "pbr":
                raise ValueError(f"scene.material needs shading.model: pbr (or no shading.model), "
                                 f"got {self.shading.model}")
            if self.texture != TextureConfig():           # (a dumped job.yaml spells the defaults out)
                raise ValueError("scene.texture is the base colour of lambert/unlit shading; with PBR shading "
                                 "use scene.material.base_color")
            self.shading.model = "pbr"
            if self.material is None:
                self.material = MaterialConfig()
        height = self.material.height if self.material is not None else None
        if (height is not None) != (self.displacement is not None):
            raise ValueError("scene.displacement and scene.material.height go together (a height map displaces "
                             "the refined surface)")
        if self.opacity.enabled:
            self._check_opacity()
        if self.pose is not None:
            if self.shading.model == "pbr" or self.displacement is not None or self.opacity.enabled:
                raise ValueError("scene.pose: posed meshes are drawn unlit or lambert, without displacement or opacity")
            if self.shading.model == "lambert" and self.shading.normals == "smooth":
                raise ValueError("scene.pose: smooth normals come from the unposed mesh; use shading.normals: face")
        return self

    def _check_opacity(self):
        """Opacity composites several fragments per sample: the analytic texture gradient
        (which weighs each sample by its shading only) does not apply, and PBR is not supported."""
        if self.shading.model == "pbr":
            raise ValueError("scene.opacity: semi-transparent triangles need shading.model unlit or lambert, not pbr")
        if self.texture.gradient == "analytic":
            if "gradient" in self.texture.model_fields_set:
                raise ValueError("scene.texture.gradient: analytic texel gradients do not support scene.opacity; "
                                 "use sge")
            self.texture.gradient = "sge"


__all__ = ["Bool", "DisplacementConfig", "LightConfig", "MaterialConfig", "IcosphereConfig", "LaplacianConfig", "MeshConfig", "NormalConsistencyConfig", "ShadingConfig", "TextureConfig"]
