"""Job schema of the PBR material layer: ``scene.material``, ``scene.lights``, ``scene.displacement``.

A mesh scene with a ``material`` section is shaded with glTF 2.0 metallic-roughness
(docs/pbr.md); each map is a parameter group of its own (resolution, eps, lr, bounds,
optimize, start/stop). ``lights`` is a list of light setups; view i of the job is lit
by setup i mod len(lights), so targets can be captured under several setups.
"""

from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import Field, field_validator, model_validator

from ...errors import show_value
from ...schema import Float, Int, ParamGroupConfig, Strict, Vec3

DEFAULT_MAP_SIDE = 256
MAP_SMOOTHNESS_DEFAULT = 0.001      # as scene.texture.smoothness (normalised by 512^2 texels)
# name -> (channels, default init, default eps, default lr, default bounds)
MAP_DEFAULTS = {
    "base_color": (3, (0.5, 0.5, 0.5), 0.05, 0.02, (0.0, 1.0)),
    "roughness": (1, 0.5, 0.05, 0.02, (0.05, 1.0)),
    "metallic": (1, 0.0, 0.05, 0.02, (0.0, 1.0)),
    "normal": (2, (0.0, 0.0, 1.0), 0.05, 0.02, (-4.0, 4.0)),   # stored as slopes (layer.py)
    "height": (1, 0.5, 0.05, 0.01, (0.0, 1.0)),
}
OPTIMIZED_MAPS = tuple(MAP_DEFAULTS)


def check_map_sides(what: str):
    """A validator of a ``what`` ("map", "texture") resolution: an int or [w, h], each side in [1, 16384]."""
    def check(v):
        sizes = (v,) if isinstance(v, int) else (v or ())
        if any(not 1 <= s <= 16384 for s in sizes):
            raise ValueError(f"{what} sides must be in [1, 16384], got {show_value(v)}")
        return v
    return check


class MapConfig(ParamGroupConfig):
    """One material map: its size, initial value and parameter-group settings."""

    resolution: Optional[Union[Int, tuple[Int, Int]]] = Field(
        None, description="texels: int (square) or [w, h]; null = the asset's map size, else 256")
    init: Union[Literal["asset"], Float, Vec3] = Field(
        "asset", description='"asset" (the asset\'s map, else the default constant) or a constant')
    gradient: Literal["analytic", "sge"] = Field(
        "analytic", description="analytic = exact derivatives of the shading (visibility still by SGE); "
        "sge = texels perturbed, each map's bilinear footprint its contributors (height: always sge)")
    smoothness: Float = Field(MAP_SMOOTHNESS_DEFAULT, ge=0, description="weight of the map's smoothness regulariser "
                              "weight / 512^2 * sum |t - neighbour|^2 over 4-neighbours and channels (0 = off)")

    levels: Int = Field(1, ge=1, le=12, description="coarse to fine: the map is optimised at this many resolutions, "
                        "halving from its own, coarsest first (needs gradient: analytic and level_every)")
    level_every: Int = Field(0, ge=0, le=100_000_000, description="iterations at each coarser resolution; the finest "
                             "runs to the end")

    _texels = field_validator("resolution")(check_map_sides("map"))

    @model_validator(mode="after")
    def _pyramid(self):
        if self.levels > 1 and self.gradient != "analytic":
            raise ValueError("levels > 1 needs gradient: analytic")
        if (self.levels > 1) != (self.level_every > 0):
            raise ValueError("levels > 1 and level_every > 0 go together (coarse to fine: iterations per coarser level)")
        return self


class HeightMapConfig(MapConfig):
    strength: Float = Field(0.05, ge=0, description="world units: displacement = strength * (h - midlevel)")
    midlevel: Float = Field(0.5, ge=0, le=1)
    gradient: Literal["sge"] = "sge"
    levels: Literal[1] = Field(1, description="the height map is one level (it moves geometry: SGE)")


class MaterialConfig(Strict):
    base_color: MapConfig = MapConfig()
    roughness: MapConfig = MapConfig()
    metallic: MapConfig = MapConfig()
    normal: Optional[MapConfig] = Field(None, description="a tangent-space normal map (null = none, unless the asset has one)")
    height: Optional[HeightMapConfig] = Field(None, description="a height map displacing the surface (needs displacement)")
    occlusion: Literal["asset", "none"] = Field("asset", description="the asset's occlusion map (fixed), or none")
    output: Literal["srgb", "linear"] = Field("srgb", description="colour compared with the targets: sRGB-encoded "
                                              "radiance (the default) or linear radiance")

    @model_validator(mode="after")
    def _inits(self):
        for name in ("base_color", "roughness", "metallic", "normal", "height"):
            cfg = getattr(self, name)
            if cfg is None or cfg.init == "asset":
                continue
            channels = 3 if name == "normal" else MAP_DEFAULTS[name][0]    # a normal is given as [x, y, z]
            if (channels == 1) != isinstance(cfg.init, float):
                want = "a number" if channels == 1 else "[r, g, b]" if name == "base_color" else "[x, y, z]"
                raise ValueError(f"{name}.init must be \"asset\" or {want}, got {show_value(cfg.init)}")
        return self


class LightConfig(Strict):
    type: Literal["directional", "point", "ambient", "environment"]
    direction: Optional[Vec3] = Field(None, description="directional: towards the light, world space")
    position: Optional[Vec3] = Field(None, description="point: world position")
    color: Vec3 = (1.0, 1.0, 1.0)
    intensity: Float = Field(1.0, ge=0, le=1e6)
    file: Optional[str] = Field(None, description="environment: equirectangular linear RGB (.hdr or .npy)")
    rotation: Float = Field(0.0, ge=-3600, le=3600, description="environment: degrees about +y")

    @model_validator(mode="after")
    def _keys(self):
        need = {"directional": "direction", "point": "position", "environment": "file"}.get(self.type)
        if need is not None and getattr(self, need) is None:
            raise ValueError(f"a {self.type} light needs {need}")
        for key in ("direction", "position", "file"):
            if key != need and getattr(self, key) is not None:
                raise ValueError(f"{key} is not a setting of a {self.type} light")
        if self.direction is not None and not 1e-30 < sum(c * c for c in self.direction) < 1e300:
            raise ValueError(f"direction must be a non-zero vector of moderate length, got {show_value(list(self.direction))}")
        if any(c < 0 or c > 1e6 for c in self.color):
            raise ValueError(f"color components must be in [0, 1e6], got {show_value(list(self.color))}")
        return self


DEFAULT_LIGHTS = [[LightConfig(type="directional", direction=(0.3, 1.0, 0.6), intensity=2.5),
                   LightConfig(type="ambient", intensity=0.3)]]


class DisplacementConfig(Strict):
    level: Int = Field(4, ge=1, le=64, description="each base triangle is split into level^2 triangles on the fly")


def check_light_setups(v):
    if not v:
        raise ValueError("needs at least one light setup")
    if any(len(setup) == 0 for setup in v):
        raise ValueError("a light setup needs at least one light")
    if len(v) > 64 or any(len(setup) > 16 for setup in v):
        raise ValueError("at most 64 light setups of at most 16 lights each")
    return v


__all__ = ["DEFAULT_LIGHTS", "DEFAULT_MAP_SIDE", "DisplacementConfig", "HeightMapConfig", "LightConfig", "MAP_DEFAULTS",
           "MapConfig", "MaterialConfig", "OPTIMIZED_MAPS", "check_light_setups", "check_map_sides"]
