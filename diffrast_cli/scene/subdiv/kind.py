"""Catmull-Clark subdivision surfaces (``scene.kind: subdiv``; issue 13, docs/subdiv.md).

Parameters: the control points (3 per cage vertex), then the PBR maps of the material layer.
Contributors: the cage faces [0, F), then the maps' texels.

Before each R draw the cage is refined ``levels`` times on the GPU for every copy (one gather
pass per level, subdiv_refine.comp, from the copy's perturbed control points), and, when
shading or displacement needs them, the refined vertices' normals (subdiv_normals.comp).
R draws the final quads as triangles from those points (subdiv.vert); G reads them again and
adds each sample into its cage face; the control point gathers over every cage face whose
samples it moves (surface.RefinedSurface.control_faces: its stencil's faces, and with normals
one quad ring more).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import ConfigError
from ...gl import shaders
from ...gl.declared import BufferSpec
from ...gl.passes import barrier, groups_1d, set_uniforms
from ..base import SceneKind, SceneSetup
from ..params import MAP_GATHER, ParamGroup, ParamLayout, group_settings
from ..mesh.geometry import closed_orientation
from ..mesh.kind import DEFAULT_BASE_COLOR
from .cage import load_cage
from .surface import RefinedSurface

class SubdivSurface(SceneKind):
    kind = "subdiv"
    primitive_name = "triangles"
    vertex_shader = "subdiv.vert"
    shade_include = "subdiv_shade.glsl"
    depth_include = "subdiv_depth.glsl"
    size_keys = "scene.levels or the map resolutions"
    draw_order = False      # quad order; R reads corners by triangle id

    @classmethod
    def load_asset(cls, cfg, base):
        path = Path(cfg.cage).expanduser()
        return load_cage(path if path.is_absolute() or base is None else base / path)

    @classmethod
    def describe_inputs(cls, cfg, base) -> str:
        cage = cls.load_asset(cfg, base)
        kinds = sorted({len(f) for f in cage.faces})
        return (f"cage {len(cage.faces)} faces ({'/'.join(str(k) for k in kinds)}-gons), {len(cage.positions)} vertices, "
                f"{cfg.levels} levels -> {len(cage.faces) * 4 ** cfg.levels if kinds == [4] else 'about ' + str(cage.corners * 4 ** (cfg.levels - 1))} quads")

    @classmethod
    def create(cls, setup: SceneSetup) -> "SubdivSurface":
        cage = setup.asset if setup.asset is not None else cls.load_asset(setup.job.scene, setup.base)
        center = 0.5 * (cage.positions.min(axis=0) + cage.positions.max(axis=0))
        return cls(cage, setup.job.scene, setup.pixel_at(center), cull=setup.job.render.cull,
                   cameras=setup.views.count, base=setup.base)

    def __init__(self, cage, cfg, pixel_world: float, cull: str = "auto", cameras: int = 1, base=None):
        self.cage = cage
        self.cfg = cfg
        nverts = len(cage.positions)
        for a, b in cfg.creases:
            if max(a, b) >= nverts:
                raise ConfigError(f"scene.creases: vertex {max(a, b)} is not in cage {cage.name} ({nverts} vertices)")
        try:
            self.surface = RefinedSurface.build(cage, cfg.levels, cfg.creases)
        except ConfigError as exc:
            raise ConfigError(f"scene.cage: {cage.name}: {exc}") from None
        s = self.surface
        self.pbr = cfg.shading.model == "pbr"
        self.displace = cfg.displaced
        self.material = None
        if self.pbr:
            if s.corner_uv is None:
                raise ConfigError(f"scene.cage: {cage.name} has no texture coordinates (vt) on every face; PBR maps "
                                  "need them")
            from ..material.layer import MaterialLayer
            eps = {}
            if self.displace:      # <= a quarter pixel of displacement (as the mesh kind)
                eps["height"] = float(min(0.02, 0.25 * pixel_world / max(cfg.material.height.strength, 1e-12)))
            self.material = MaterialLayer(None, cfg.material, cfg.lights, cameras, base, default_eps=eps)
        self.smooth_normals = cfg.shading.model in ("lambert", "pbr") and cfg.shading.normals == "smooth"
        self.vertex_normals = self.smooth_normals or self.displace
        F = s.cage_mesh.faces
        self.cage_faces = F
        self.primitives = 2 * s.quad_count
        gather = s.control_faces(self.vertex_normals)
        groups = [ParamGroup("positions", 3 * nverts, 3, mapping=MAP_GATHER, gather=gather,
                             **group_settings(cfg.positions, 0.5 * pixel_world, 0.25 * pixel_world, (-1e4, 1e4)))]
        material_slots = 0
        if self.pbr:
            material_groups, material_slots = self.material.groups(F)
            groups += material_groups
        self.layout = ParamLayout(groups)
        self.geometry_contrib = not self.layout["positions"].frozen
        self.shared_contributors = F
        self.contributors = F + material_slots
        # A closed cage refines to a closed surface: back faces are hidden (the mesh kind's reasoning)
        self.cull = "back" if cull == "auto" and self._outward() else None
        self.starts, self.index, self.weights, self.levels = s.level_tables()

    def _outward(self) -> bool:
        """Whether the (closed) cage's faces wind counter-clockwise seen from outside: the mesh
        kind's test on the cage's faces split into fans."""
        fans = [(f[0], f[k], f[k + 1]) for f in self.cage.faces for k in range(1, len(f) - 1)]
        return closed_orientation(self.cage.positions, np.asarray(fans, np.int64)) > 0

    # -- parameters ---------------------------------------------------------------

    def initial_params(self, seed: int) -> np.ndarray:
        parts = [np.asarray(self.cage.positions, np.float32).reshape(-1)]
        if self.pbr:
            parts.append(self.material.initial_params())
        return self.layout.clip(np.concatenate(parts).astype(np.float32))

    def control_points(self, theta: np.ndarray) -> np.ndarray:
        return np.asarray(theta[self.layout.slice("positions")], np.float64).reshape(-1, 3)

    def refined_data(self, theta: np.ndarray, name: str = "refined"):
        """The refined (and displaced) surface at ``theta`` as MeshData, with the material."""
        height, strength, mid = None, 0.0, 0.5
        if self.displace:
            h = self.cfg.material.height
            height = theta[self.layout.slice("height")].reshape(self.material.maps["height"].shape[:2])
            strength, mid = h.strength, h.midlevel
        data = self.surface.mesh_data(self.control_points(theta), height, strength, mid, name=name)
        if self.pbr:
            from dataclasses import replace
            mat = self.material.material(theta, self.layout)
            data.material = replace(mat, height=None, height_strength=0.0) if self.displace else mat
        return data

    def metrics(self, theta: np.ndarray, reference=None) -> dict:
        """Chamfer distance of the refined (displaced) surface to the reference asset; map errors."""
        if reference is None:
            return {}
        from ..mesh.chamfer import chamfer_distance
        ours = self.refined_data(theta)
        out = {"chamfer": chamfer_distance(ours.positions, ours.faces, reference.positions, reference.faces)}
        if self.pbr:
            out.update(self.material.map_errors(theta, self.layout, reference.material))
        return out

    def export(self, theta: np.ndarray, out_dir) -> list:
        from .export import export_subdiv
        return export_subdiv(self, theta, out_dir)

    # -- GL ---------------------------------------------------------------------

    @property
    def shader_dirs(self) -> tuple:
        from ..material.layer import shader_dir
        return super().shader_dirs + (shader_dir(),)

    def _corner_tangents(self) -> np.ndarray:
        """(4Q, 4) tangents of the initial refined surface at every final halfedge (normal maps)."""
        s = self.surface
        if "normal" not in self.material.maps:
            return np.zeros((4 * s.quad_count, 4), np.float32)
        from ...io.tangents import corner_tangents
        data = s.mesh_data(self.cage.positions)
        t = corner_tangents(data.positions, data.faces, data.uvs)         # (2Q, 3, 4)
        out = np.empty((s.quad_count, 4, 4), np.float32)
        out[:, :3] = t[0::2]
        out[:, 3] = t[1::2, 2]
        return out.reshape(-1, 4)

    def resources(self) -> list:
        s = self.surface
        out = [BufferSpec("STENCIL_START", data=self.starts.tobytes()),
               BufferSpec("STENCIL_INDEX", data=self.index.tobytes()),
               BufferSpec("STENCIL_WEIGHT", data=self.weights.tobytes()),
               BufferSpec("LEVEL_VERT", data=s.final.vert.astype(np.uint32).tobytes()),
               BufferSpec("CAGE_FACE", data=s.cage_mesh.face.astype(np.uint32).tobytes()),
               BufferSpec("POINTS", size=16 * s.points_per_copy, per_copy=True)]
        if self.vertex_normals:
            start, quads = s.vertex_quads()
            out += [BufferSpec("VERTEX_QUAD_START", data=start.astype(np.uint32).tobytes()),
                    BufferSpec("VERTEX_QUADS", data=quads.astype(np.uint32).tobytes()),
                    BufferSpec("NORMALS", size=16 * s.vertices, per_copy=True)]
        if self.displace:
            out.append(BufferSpec("VERTEX_UV", data=s.vertex_uv().astype(np.float32).tobytes()))
        if self.pbr:
            out += [BufferSpec("CORNER_UV", data=s.corner_uv.astype(np.float32).tobytes()),
                    BufferSpec("CORNER_TANGENT", data=self._corner_tangents().tobytes())]
            out += self.material.resources()
        return out

    def defines(self) -> dict:
        s = self.surface
        d = {"SUBDIV_LEVELS": self.cfg.levels, "SUBDIV_STRIDE": s.points_per_copy,
             "SUBDIV_FINAL_OFFSET": s.final_offset, "SUBDIV_VERTICES": s.vertices,
             "BASE_COLOR": "vec3(%r, %r, %r)" % DEFAULT_BASE_COLOR, "SCENE_MAX_CONTRIB": 1, "ID_FROM_PRIMITIVE": 1}
        if self.vertex_normals:
            d["SUBDIV_NORMALS"] = 1
        if self.geometry_contrib:
            d["GEOMETRY_CONTRIB"] = 1
        if self.pbr:
            d.update(self.material.defines(), SCENE_MAX_CONTRIB=1 + self.material.max_contributors)
            if self.displace:
                h = self.cfg.material.height
                d.update(DISPLACE=1, DISPLACE_STRENGTH=repr(float(h.strength)), DISPLACE_MIDLEVEL=repr(float(h.midlevel)))
                if "height" in self.material.perturbed:     # the height texels of the sample's 3 corners
                    d["SCENE_MAX_CONTRIB"] += 12
        if self.smooth_normals:
            d["SMOOTH_NORMALS"] = 1
        if self.cfg.shading.model == "lambert":
            d["LAMBERT"] = 1
        return d

    def build(self, ctx, defines: dict, buffers: dict) -> None:
        super().build(ctx, defines, buffers)
        self.ctx = ctx
        light = np.asarray(self.cfg.shading.light_dir, np.float64)
        self._uniforms = dict(u_light_dir=tuple(float(x) for x in light / np.linalg.norm(light)),
                              u_ambient=float(self.cfg.shading.ambient))
        self.refine_prog = shaders.compute(ctx, "subdiv_refine.comp", defines, dirs=self.shader_dirs)
        self.normals_prog = (shaders.compute(ctx, "subdiv_normals.comp", defines, dirs=self.shader_dirs)
                             if self.vertex_normals else None)
        self.regularizers = []
        if self.pbr:
            for name, (w, h), channels, weight in self.material.smoothness():
                from ..mesh.config import SMOOTHNESS_REFERENCE_TEXELS
                prog = shaders.compute(ctx, "map_smoothness.comp", defines, dirs=self.shader_dirs)
                set_uniforms(prog, u_weight=weight / SMOOTHNESS_REFERENCE_TEXELS, u_group=self.layout.index(name),
                             u_size=(w, h), u_stride=channels)
                self.regularizers.append((prog, groups_1d(w * h)))

    def draw(self, instances: int) -> None:
        self.vao.render(vertices=3 * self.primitives, instances=instances)

    def shading_uniforms(self) -> dict:
        return self._uniforms

    def before_render(self, estimator, iteration: int, copies: int, clean: bool) -> None:
        # A clean render's copies are all unperturbed: refine one (slot 0), read by every view slot.
        n = 1 if clean else copies
        max_groups = estimator.device.max_groups_x
        set_uniforms(self.refine_prog, u_copies=n, u_iteration=iteration, u_clean=int(clean), u_seed=estimator.seed,
                     u_samples=estimator.samples)
        for row_base, rows, out_offset, in_offset in self.levels:
            set_uniforms(self.refine_prog, u_rows=rows, u_row_base=row_base, u_out_offset=out_offset,
                         u_in_offset=in_offset)
            self.refine_prog.run(*groups_1d(n * rows, max_groups))
            barrier(self.ctx)
        if self.normals_prog is not None:
            set_uniforms(self.normals_prog, u_copies=n, u_iteration=iteration, u_clean=int(clean),
                         u_seed=estimator.seed, u_samples=estimator.samples)
            self.normals_prog.run(*groups_1d(n * self.surface.vertices, max_groups))
            barrier(self.ctx)

    def post_step(self, estimator) -> list:
        return self.material.post_step(estimator) if self.pbr else []

    def add_regularizers(self, estimator) -> None:
        for prog, groups in self.regularizers:
            prog.run(*groups)
            barrier(self.ctx)

    def release(self) -> None:
        super().release()
        for prog in [getattr(self, "refine_prog", None), getattr(self, "normals_prog", None)] + \
                [p for p, _ in getattr(self, "regularizers", [])]:
            if prog is not None:
                prog.release()
