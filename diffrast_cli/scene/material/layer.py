"""The PBR material layer of a surface kind: map parameter groups, GPU resources, defines, export.

A surface kind (the mesh kind; later subdivision surfaces) owns the geometry and
calls this layer for its material: :meth:`MaterialLayer.groups` are appended to
the kind's layout, :meth:`defines` and :meth:`resources` to the kind's, and the
kind's G-side GLSL includes ``material.glsl`` (this layer's shaders, in
glsl/scene/material/) and shades each sample with ``fetch_material`` and
``material_color``. Maps optimised analytically take one accumulator slot per
texel channel, maps optimised by SGE one contributor per texel.
"""

from __future__ import annotations

import numpy as np

from ...errors import ConfigError
from ...gl import shaders
from ...gl.declared import BufferSpec
from ...gl.passes import barrier, groups_1d, set_uniforms
from ...io.material import PbrMaterial, srgb_to_linear
from ..params import MAP_ANALYTIC, MAP_DIRECT, ParamGroup, group_settings
from .config import DEFAULT_MAP_SIDE, MAP_DEFAULTS, MapConfig
from .lights import pack_lights
from .pyramid import PyramidFold, collapse, level_sizes, pyramid_params

SHADER_FOLDER = ("scene", "material")


def shader_dir():
    return shaders.glsl_dir().joinpath(*SHADER_FOLDER)


# Normal maps are optimised as slopes: texel (s, t) is the tangent-space normal normalize(s, t, 1)
# (docs/pbr.md). Two numbers per texel, every value a valid normal that tilts less than 90 degrees,
# no renormalisation, and a step of Adam moves the normal's direction, never only its length.
MIN_NORMAL_Z = 0.05      # normals closer to the tangent plane are clamped to this z


def level_group(name: str, k: int) -> str:
    """The parameter group of level k of map ``name`` (level 0, the finest, is the map's own name)."""
    return name if k == 0 else f"{name}_level{k}"


def normals_to_slopes(n: np.ndarray) -> np.ndarray:
    """(H, W, 3) tangent-space normals -> (H, W, 2) slopes (x / z, y / z), z clamped to >= MIN_NORMAL_Z."""
    n = np.asarray(n, np.float64)
    z = np.maximum(n[:, :, 2:3], MIN_NORMAL_Z * np.linalg.norm(n, axis=2, keepdims=True) + 1e-12)
    return (n[:, :, :2] / z).astype(np.float32)


def slopes_to_normals(s: np.ndarray) -> np.ndarray:
    """(H, W, 2) slopes -> (H, W, 3) unit tangent-space normals."""
    s = np.asarray(s, np.float64)
    n = np.concatenate([s, np.ones(s.shape[:2] + (1,))], axis=2)
    return (n / np.linalg.norm(n, axis=2, keepdims=True)).astype(np.float32)


def resize_map(a: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(H, W, C) -> (h, w, C) float32, bilinear-antialiased (PIL, per channel)."""
    from PIL import Image
    w, h = size
    if a.shape[1] == w and a.shape[0] == h:
        return np.asarray(a, np.float32)
    if a.shape[0] == 1 and a.shape[1] == 1:
        return np.broadcast_to(a, (h, w, a.shape[2])).astype(np.float32)
    return np.stack([np.asarray(Image.fromarray(np.ascontiguousarray(a[:, :, c], np.float32), mode="F")
                                .resize((w, h), Image.Resampling.BILINEAR)) for c in range(a.shape[2])], axis=2)


class MaterialLayer:
    def __init__(self, material: PbrMaterial | None, cfg, lights, cameras: int, base=None, texture=None,
                 default_eps: dict | None = None):
        """``material``: the asset's PbrMaterial (or None); ``cfg``: scene.material; ``lights``:
        scene.lights; ``cameras``: the job's view count; ``texture``: an sRGB base-colour
        texture of a non-PBR asset, used as the base colour's initial value; ``default_eps``:
        perturbation sizes replacing MAP_DEFAULTS' (e.g. the height map's, from the pixel size)."""
        self.cfg = cfg
        self.default_eps = default_eps or {}
        self.maps: dict[str, np.ndarray] = {}
        self.settings: dict[str, MapConfig] = {}
        for name in MAP_DEFAULTS:
            mcfg = getattr(cfg, name)
            asset = material.map(name) if material is not None else None
            if name == "base_color" and asset is None and texture is not None:
                asset = srgb_to_linear(texture).astype(np.float32)
            if mcfg is None and name == "normal" and asset is not None:
                mcfg = MapConfig()
            if mcfg is None:
                continue
            self.settings[name] = mcfg
            self.maps[name] = self._initial(name, mcfg, asset)
        self.occlusion = None
        if cfg.occlusion == "asset" and material is not None and material.occlusion is not None:
            self.occlusion = np.clip(np.asarray(material.occlusion, np.float32), 0.0, 1.0)
        self.lights = pack_lights(lights, cameras, base)
        self.analytic: set[str] = set()
        self.perturbed: set[str] = set()
        self.bounds: dict[str, tuple[float, float]] = {}     # each map's value bounds (set by groups())

    @staticmethod
    def _initial(name: str, mcfg, asset) -> np.ndarray:
        channels, default, _, _, _ = MAP_DEFAULTS[name]
        channels = 3 if name == "normal" else channels      # given (asset, init) as normals, stored as slopes
        real = asset is not None and asset.shape[0] * asset.shape[1] > 1
        res = mcfg.resolution
        if res is not None:
            size = (res, res) if isinstance(res, int) else tuple(res)
        elif mcfg.init == "asset" and real:
            size = (asset.shape[1], asset.shape[0])
        else:
            size = (DEFAULT_MAP_SIDE, DEFAULT_MAP_SIDE) if mcfg.optimize else (1, 1)
        if mcfg.init == "asset" and asset is not None:
            if asset.shape[2] != channels:
                raise ConfigError(f"scene.material.{name}: the asset's map has {asset.shape[2]} channels, "
                                  f"expected {channels}")
            out = resize_map(np.asarray(asset, np.float32), size)
        else:
            value = default if mcfg.init == "asset" else mcfg.init
            out = np.broadcast_to(np.asarray(value, np.float32).reshape(1, 1, channels), (size[1], size[0], channels))
        out = np.array(out, np.float32)
        if name == "normal":
            out = normals_to_slopes(out)
        return out.astype(np.float32)

    # -- parameters ------------------------------------------------------------

    def groups(self, contrib_base: int) -> tuple[list[ParamGroup], int]:
        """The map groups, numbering their contributors from ``contrib_base``; and how many they take."""
        out, n = [], 0
        for name, a in self.maps.items():
            h, w, c = a.shape
            _, _, eps, lr, bounds = MAP_DEFAULTS[name]
            eps = self.default_eps.get(name, eps)
            s = group_settings(self.settings[name], eps, lr, bounds)
            frozen = s["eps"] == 0.0 or s["lr"] == 0.0
            analytic = self.settings[name].gradient == "analytic" and not frozen
            self.bounds[name] = (s["lo"], s["hi"])
            levels = self.levels(name)
            every = self.settings[name].level_every
            for k, (lw, lh) in enumerate(level_sizes(w, h, levels)):   # one group per level, finest first
                texels = lw * lh
                slots = 0 if frozen else (c * texels if analytic else texels)
                start = s["start"] + (levels - 1 - k) * every             # coarsest first
                if s["stop"] is not None and start >= s["stop"]:
                    raise ConfigError(f"scene.material.{name}: level {k} would start at iteration {start}, "
                                      f"after the map's stop ({s['stop']}); lower level_every")
                stop = s["stop"]
                if every > 0 and k > 0:          # a coarse level stops as the next finer one starts
                    stop = start + every if stop is None else min(stop, start + every)
                out.append(ParamGroup(level_group(name, k), c * texels, c, **{**s, "start": start, "stop": stop},
                                      contrib_base=contrib_base + n, mapping=MAP_ANALYTIC if analytic else MAP_DIRECT))
                n += slots
            (self.analytic if analytic else self.perturbed if not frozen else set()).add(name)
        return out, n

    def levels(self, name: str) -> int:
        return self.settings[name].levels

    def initial_params(self) -> np.ndarray:
        parts = []
        for name, a in self.maps.items():
            levels, coarsest = self.levels(name), None
            if levels > 1:                       # coarse to fine: the map starts in the coarsest level
                coarsest = resize_map(a, level_sizes(a.shape[1], a.shape[0], levels)[-1])
            parts.append(pyramid_params(a, levels, coarsest))
        return np.concatenate(parts)

    def finest(self, theta: np.ndarray, layout, name: str) -> np.ndarray:
        """Map ``name`` at ``theta`` as (H, W, C) at its resolution (a pyramid collapsed, pyramid.py)."""
        h, w, c = self.maps[name].shape
        first, last = layout[name], layout[level_group(name, self.levels(name) - 1)]
        params = theta[first.offset:last.offset + last.count]
        if self.levels(name) == 1:
            return params.reshape(h, w, c).copy()
        return collapse(params, w, h, c, self.levels(name), *self.bounds[name])

    def material(self, theta: np.ndarray, layout) -> PbrMaterial:
        """The optimised material (for export): the maps read back from ``theta``."""
        maps = {}
        for name in self.maps:
            m = self.finest(theta, layout, name)
            maps[name] = m[:, :, 0] if m.shape[2] == 1 else slopes_to_normals(m) if name == "normal" else m
        h = self.settings.get("height")
        return PbrMaterial(base_color=maps["base_color"], roughness=maps["roughness"], metallic=maps["metallic"],
                           normal=maps.get("normal"), occlusion=self.occlusion, height=maps.get("height"),
                           height_strength=float(h.strength) if h is not None else 0.0,
                           height_midlevel=float(h.midlevel) if h is not None else 0.5)

    def map_errors(self, theta: np.ndarray, layout, reference: PbrMaterial | None) -> dict:
        """RMSE of each map against the reference material's (resampled to this map's size)."""
        if reference is None:
            return {}
        out = {}
        for name, a in self.maps.items():
            ref = reference.map(name)
            if ref is None:
                continue
            ours = self.finest(theta, layout, name)
            ref = resize_map(np.asarray(ref, np.float32), (a.shape[1], a.shape[0]))
            if name == "normal":              # compared as unit normals
                ours, ref = slopes_to_normals(ours), slopes_to_normals(normals_to_slopes(ref))
            out[f"rmse_{name}"] = float(np.sqrt(np.mean((ours.astype(np.float64) - ref) ** 2)))
        return out

    def smoothness(self) -> list:
        """(group name, (w, h), channels, weight) of each optimised map with a smoothness weight."""
        return [(name, (a.shape[1], a.shape[0]), a.shape[2], self.settings[name].smoothness)
                for name, a in self.maps.items()
                if self.settings[name].smoothness > 0 and name in self.analytic | self.perturbed]

    def post_step(self, estimator) -> list:
        """The coarse-to-fine folds of maps with ``level_every`` (pyramid.PyramidFold)."""
        folds = []
        for name, a in self.maps.items():
            cfg = self.settings[name]
            if self.levels(name) > 1 and name in self.analytic:
                h, w, c = a.shape
                folds.append(PyramidFold(estimator, [level_group(name, k) for k in range(self.levels(name))],
                                         level_sizes(w, h, self.levels(name)), c, self.bounds[name], (shader_dir(),)))
        return folds

    @property
    def max_contributors(self) -> int:
        """Contributors one surface sample adds (4 per SGE map, without height)."""
        return 4 * len(self.perturbed - {"height"})

    # -- GPU -------------------------------------------------------------------

    def defines(self) -> dict:
        d = {"PBR": 1}
        for name, a in self.maps.items():
            key = name.upper()
            d[f"HAS_MAP_{key}"] = 1
            d[f"MAP_{key}_W"], d[f"MAP_{key}_H"] = a.shape[1], a.shape[0]
            if self.levels(name) > 1:
                d[f"MAP_{key}_LEVELS"] = self.levels(name)
            if name in self.analytic:
                d[f"MAP_{key}_ANALYTIC"] = 1
            elif name in self.perturbed:
                d[f"MAP_{key}_PERTURB"] = 1
        if self.analytic:
            d.update(MATERIAL_ANALYTIC=1, SCENE_ANALYTIC=1)
        if self.occlusion is not None:
            d.update(HAS_OCCLUSION=1, OCC_W=self.occlusion.shape[1], OCC_H=self.occlusion.shape[0])
        if self.cfg.output == "linear":
            d["OUTPUT_LINEAR"] = 1
        d.update(self.lights.defines())
        return d

    def resources(self) -> list:
        out = self.lights.resources()
        if self.occlusion is not None:
            out.append(BufferSpec("OCCLUSION", data=np.ascontiguousarray(self.occlusion, np.float32).tobytes()))
        return out


__all__ = ["MaterialLayer", "level_group", "normals_to_slopes", "resize_map", "shader_dir", "slopes_to_normals"]
