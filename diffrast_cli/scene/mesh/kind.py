"""Indexed triangle meshes with an optional base-colour texture.

Parameter groups (back to back):
  positions  3 per shared (welded) vertex          -> gathered from the triangles (CSR)
  colors     3 per vertex (vertex colours, if any)   -> gathered from the triangles
  texture    3 per texel, row 0 = top of the image   -> the texel is its own contributor
  opacity    1 logit per triangle (scene.opacity)    -> the triangle is its contributor
Contributors: triangles [0, F), then texels [F, F + W*H).

With scene.opacity the mesh is semi-transparent (scene/opacity.py): R records every
fragment in the deep id buffer (mesh_deep.frag: the copy's perturbed opacity of
gl_PrimitiveID), nothing is culled, and G composites front to back.

A pixel's contributors are its triangle (geometry and vertex colours) and
the 4 texels of its bilinear footprint. Accumulating per triangle and
gathering per vertex keeps G at one atomic per triangle instead of one per
shared vertex coordinate.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import ConfigError
from ...gl import shaders
from ...gl.declared import BufferSpec
from ...gl.passes import barrier, groups_1d, set_uniforms
from .. import opacity as op
from ..base import SceneKind, SceneSetup
from ..params import MAP_ANALYTIC, MAP_DIRECT, MAP_GATHER, ParamGroup, ParamLayout, group_settings
from . import pose as posing
from .config import SMOOTHNESS_REFERENCE_TEXELS
from .geometry import closed_orientation, face_adjacency, laplacian_csr, vertex_triangles
from .uvs import needs_atlas, texture_size, texture_wanted, with_uvs

DEFAULT_BASE_COLOR = (0.8, 0.8, 0.8)


class TexturedMesh(SceneKind):
    kind = "mesh"
    primitive_name = "triangles"
    vertex_shader = "mesh.vert"
    shade_include = "mesh_shade.glsl"
    depth_include = "mesh_depth.glsl"
    size_keys = "the mesh size or scene.texture.resolution"
    # Contributors of geometry and vertex colours: each sample's triangle, gathered per vertex
    # (one pixel, one triangle: a vertex gets the pixel once). A kind whose samples composite
    # several neighbouring triangles numbers the vertices instead (a pixel adds to each vertex
    # once however many of its triangles it shows): mesh_shade.glsl's VERTEX_CONTRIB.
    vertex_contributors = False

    @classmethod
    def load_asset(cls, cfg, base):
        """The mesh file (or generated icosphere) of the config, as io.meshes.MeshData."""
        from ...io import meshes
        if cfg.icosphere is not None:
            ico = cfg.icosphere
            mesh = meshes.icosphere(ico.subdivisions, ico.radius)
            mesh.positions = (mesh.positions + np.asarray(ico.center, np.float32)).astype(np.float32)
            return mesh
        path = Path(cfg.mesh).expanduser()
        return meshes.load_mesh(path if path.is_absolute() or base is None else base / path)

    @classmethod
    def describe_inputs(cls, cfg, base) -> str:
        mesh = cls.load_asset(cfg, base)
        atlas = ", no UVs: a UV atlas will be generated (xatlas)" if needs_atlas(mesh, cfg) else ""
        return f"mesh {len(mesh.faces)} triangles" + (", textured" if mesh.texture is not None else "") + atlas

    @classmethod
    def describe_reference(cls, path) -> str:
        from ...io import meshes
        return f"{len(meshes.load_mesh(path).faces)} triangles"

    @classmethod
    def reference_targets(cls, device, job, path, cams: list, size, base=None) -> tuple:
        """The mesh at ``path`` drawn frozen as the job sees it (reference.reference_config), with
        ``target.reference.supersample`` (else ``render.supersample``) subsamples per pixel axis."""
        from ...io import meshes
        from .reference import reference_config, render_frozen
        ref = meshes.load_mesh(path)
        ss = job.target.reference.supersample or job.render.supersample
        scene = cls(ref, reference_config(job, ref), 1.0, cull=job.render.cull, cameras=len(cams), base=base)
        return render_frozen(device, scene, cams, size, ss, job.render.background, job.optimize.adam), ref

    @classmethod
    def create(cls, setup: SceneSetup) -> "TexturedMesh":
        mesh = setup.asset if setup.asset is not None else cls.load_asset(setup.job.scene, setup.base)
        mesh = with_uvs(mesh, setup.job.scene)
        center = 0.5 * (mesh.positions.min(axis=0) + mesh.positions.max(axis=0))
        pose_camera = None
        if setup.job.scene.pose is not None:
            pose_camera = posing.PoseCamera(setup.job.render, setup.size[1], setup.views.count > 1)
        return cls(mesh, setup.job.scene, setup.pixel_at(center), cull=setup.job.render.cull,
                   cameras=setup.views.count, base=setup.base, pose_camera=pose_camera)

    def __init__(self, mesh, cfg, pixel_world: float, cull: str = "auto", cameras: int = 1, base=None,
                 pose_camera=None):
        """``mesh``: io.meshes.MeshData; ``cfg``: the mesh scene config; ``pixel_world``:
        the size of a pixel at the object (world units), for default perturbation sizes;
        ``cameras``: the job's view count (PBR light setups); ``base``: the job's folder;
        ``pose_camera``: with scene.pose, the job's camera (pose.PoseCamera)."""
        self.mesh = mesh
        self.cfg = cfg
        self.pose_camera = pose_camera
        self.pbr = cfg.shading.model == "pbr"
        self.material = None
        self.displace = cfg.displacement is not None
        if self.displace:
            self.vertex_shader = "mesh_displaced.vert"
            self.sub_triangles = cfg.displacement.level ** 2
        if self.pbr:
            from ..material.layer import MaterialLayer
            eps = {}
            if cfg.material.height is not None:      # <= a quarter pixel of displacement (SGE smooths the shading of
                # small displaced facets: larger steps measured a gradient 0.3-0.9x central differences)
                eps["height"] = float(min(0.02, 0.25 * pixel_world / max(cfg.material.height.strength, 1e-12)))
            self.material = MaterialLayer(mesh.material, cfg.material, cfg.lights, cameras, base, texture=mesh.texture,
                                          default_eps=eps)
            if mesh.uvs is None:
                raise ConfigError(f"scene.material: mesh {mesh.name} has no UV coordinates; PBR maps need them")
        self.vertices = len(mesh.positions)
        self.faces = np.ascontiguousarray(mesh.faces, dtype=np.uint32)
        self.primitives = len(self.faces)
        tex_cfg = cfg.texture
        self.texture0 = None if self.pbr else self._initial_texture(mesh, tex_cfg)
        self.has_texture = self.texture0 is not None
        colors_wanted = cfg.colors.optimize and not self.has_texture
        self.has_colors = (mesh.vertex_colors is not None or colors_wanted) and not self.pbr
        V, F = self.vertices, self.primitives
        self.adj_start, self.adj_list = vertex_triangles(self.faces, V)
        # a vertex gathers its triangles, or is its own contributor
        per_vertex = dict(mapping=MAP_DIRECT) if self.vertex_contributors else \
            dict(mapping=MAP_GATHER, gather=(self.adj_start, self.adj_list))
        shared = V if self.vertex_contributors else F
        groups = [ParamGroup("positions", 3 * V, 3, **group_settings(cfg.positions, 0.5 * pixel_world, 0.25 * pixel_world,
                                                                (-1e4, 1e4)), **per_vertex)]
        if self.has_colors:
            groups.append(ParamGroup("colors", 3 * V, 3, **group_settings(cfg.colors, 0.05, 0.02, (0.0, 1.0)),
                                     **per_vertex))
        # Texels: SGE contributors (one accumulator per texel), or with texture.gradient = analytic
        # one slot per texel channel that G's scene_analytic fills with exact derivatives.
        self.texture_analytic = False
        if self.has_texture:
            th, tw = self.texture0.shape[:2]
            self.tex_size = (tw, th)
            tex_settings = group_settings(tex_cfg, 0.05, 0.02, (0.0, 1.0))
            self.texture_analytic = tex_cfg.gradient == "analytic" and tex_settings["lr"] != 0.0
            groups.append(ParamGroup("texture", 3 * tw * th, 3, **tex_settings, contrib_base=shared,
                                     mapping=MAP_ANALYTIC if self.texture_analytic else MAP_DIRECT))
        material_slots = 0
        if self.pbr:
            material_groups, material_slots = self.material.groups(shared)
            groups += material_groups
        self.transparent = cfg.opacity.enabled
        if self.transparent:      # (the config rejects PBR and analytic texels with opacity)
            groups.append(op.opacity_group(cfg.opacity, F))
            self.visibility = "deep_id"
            self.fragment_shader = "mesh_deep.frag"
        self.posed = pose_camera is not None
        texels = self.tex_size[0] * self.tex_size[1] if self.has_texture else 0
        # the pose's one contributor (every sample of the object) after the others' largest count
        self.pose_contributor = shared + (3 * texels if self.texture_analytic else texels) + material_slots
        if self.posed:
            groups += posing.pose_groups(cfg.pose, pose_camera, self.pose_contributor)
        self.layout = ParamLayout(groups)
        self.geometry_contrib = any(g.name in ("positions", "colors", "opacity") and not g.frozen for g in groups)
        self.texture_optimized = self.has_texture and not self.layout["texture"].frozen
        self.texture_analytic = self.texture_analytic and self.texture_optimized
        self.texture_contrib = self.texture_optimized and not self.texture_analytic
        self.shared_contributors = shared
        self.contributors = shared + (3 * texels if self.texture_analytic else texels) + material_slots
        if self.posed:
            self.contributors = self.pose_contributor + 1
        if self.texture_analytic:      # analytic texels take 3 accumulator slots each, SGE ones 1
            self.size_keys = "the mesh size, scene.texture.resolution (or set scene.texture.gradient: sge)"
        self.optimize_positions = not self.layout["positions"].frozen
        lap = cfg.laplacian
        self.laplacian = lap.weight > 0 and self.optimize_positions
        if self.laplacian:
            self.nbr_start, self.nbr_table = laplacian_csr(mesh.positions, self.faces, lap.weights)
        self.normal_consistency = cfg.normal_consistency.weight > 0 and self.optimize_positions
        if self.normal_consistency:
            self.face_adj, self.nc_pairs = face_adjacency(self.faces)
        self.texture_smoothness = self.texture_optimized and tex_cfg.smoothness > 0
        orientation = closed_orientation(mesh.positions, self.faces) if cull == "auto" else 1
        if self.transparent:          # back faces show through front faces
            orientation = 0
        # Back faces of a closed mesh are hidden by front faces: culling them changes no clean
        # image and saves raster work. A perturbed copy differs only where the perturbation
        # folds the surface so that a back face shows (tests/test_references.py measures it).
        self.cull = None if cull == "none" or orientation == 0 else ("back" if orientation > 0 else "front")
        self.smooth_normals = cfg.shading.model in ("lambert", "pbr") and cfg.shading.normals == "smooth"
        self.normals_frozen = False     # tests: keep the NORMALS buffer as last computed (SGE holds it fixed)
        # R draws the faces as an index buffer (a shared vertex is transformed once per copy where
        # the post-transform cache holds it) and takes triangle ids from gl_PrimitiveID, so it
        # draws in face order, not through order[].
        self.draw_order = False
        self._normals_done = False

    @staticmethod
    def _initial_texture(mesh, tex_cfg):
        if not texture_wanted(mesh, tex_cfg):
            given = [k for k in ("eps", "lr", "bounds", "smoothness") if k in tex_cfg.model_fields_set
                     and not (k == "smoothness" and tex_cfg.smoothness == 0)]   # "off" is harmless
            if given:      # settings of a texture that will not exist: say so rather than ignore them
                raise ConfigError(f"scene.texture.{given[0]}: mesh {mesh.name} has no texture; add one with "
                                  f"scene.texture.resolution or scene.texture.init")
            return None
        if mesh.uvs is None:       # create() generates an atlas first (uvs.with_uvs); a mesh handed in directly
            raise ConfigError(f"scene.texture: mesh {mesh.name} has no UV coordinates; a texture needs them")
        if tex_cfg.init != "asset" or mesh.texture is None:
            w, h = texture_size(mesh, tex_cfg)
            color = DEFAULT_BASE_COLOR if tex_cfg.init == "asset" else tex_cfg.init
            return np.broadcast_to(np.asarray(color, np.float32), (h, w, 3)).copy()
        tex = np.asarray(mesh.texture, np.float32)
        if tex_cfg.resolution is not None:
            from PIL import Image
            res = tex_cfg.resolution
            w, h = (res, res) if isinstance(res, int) else res
            tex = np.stack([np.asarray(Image.fromarray(tex[:, :, c], mode="F").resize((w, h), Image.Resampling.LANCZOS))
                            for c in range(3)], axis=2).astype(np.float32)
        return np.clip(tex, 0.0, 1.0)

    # -- parameters ---------------------------------------------------------

    def initial_params(self, seed: int) -> np.ndarray:
        parts = [np.asarray(self.mesh.positions, np.float32).reshape(-1)]
        if self.has_colors:
            vc = self.mesh.vertex_colors
            vc = np.broadcast_to(np.float32(DEFAULT_BASE_COLOR), (self.vertices, 3)) if vc is None else vc
            parts.append(np.asarray(vc, np.float32).reshape(-1))
        if self.has_texture:
            parts.append(self.texture0.reshape(-1))
        if self.pbr:
            parts.append(self.material.initial_params())
        if self.transparent:
            parts.append(op.initial_logits(self.cfg.opacity, self.primitives))
        if self.posed:
            parts.append(posing.initial(self.cfg.pose, self.pose_camera))
        return self.layout.clip(np.concatenate(parts).astype(np.float32))

    def mesh_data(self, theta: np.ndarray):
        """The optimised asset as MeshData (for export)."""
        from dataclasses import replace
        # Normals of the input no longer fit moved vertices: exporters recompute them.
        out = replace(self.mesh, positions=theta[self.layout.slice("positions")].reshape(-1, 3).copy(),
                      normals=None if self.optimize_positions else self.mesh.normals)
        if self.has_colors:
            out = replace(out, vertex_colors=theta[self.layout.slice("colors")].reshape(-1, 3).copy())
        if self.has_texture:
            tw, th = self.tex_size
            out = replace(out, texture=theta[self.layout.slice("texture")].reshape(th, tw, 3).copy())
        if self.pbr:
            out = replace(out, material=self.material.material(theta, self.layout), texture=None)
        return out

    def export(self, theta: np.ndarray, out_dir) -> list:
        """mesh.obj (+ .mtl, PNGs) and mesh.glb; with PBR shading also gltf/mesh.gltf (+ .bin, PNGs),
        and with displacement displaced.glb (the refined, displaced surface; mesh.* hold the
        base mesh with its height map)."""
        if self.pbr:
            from ...io.pbr_export import export_pbr_glb, export_pbr_gltf, export_pbr_obj
            data = self.mesh_data(theta)
            paths = (export_pbr_obj(data, out_dir, "mesh") + [export_pbr_glb(data, out_dir, "mesh")]
                     + export_pbr_gltf(data, Path(out_dir) / "gltf", "mesh"))
            if self.displace:     # the dense displaced surface with the maps (no height: it is applied)
                from dataclasses import replace
                dense = self.displaced_data(theta)
                dense.material = replace(data.material, height=None, height_strength=0.0)
                paths.append(export_pbr_glb(dense, out_dir, "displaced"))
            return paths
        from ...io.mesh_export import export_mesh
        paths = export_mesh(self.mesh_data(theta), out_dir, stem="mesh")
        if self.transparent:      # glTF / OBJ have no per-face opacity: a sidecar, one line per face
            from ...io.atomic import atomic_write_bytes
            text = "".join(f"{a:.6f}\n" for a in op.alphas(theta, self.layout))
            paths.append(atomic_write_bytes(Path(out_dir) / "mesh_opacity.txt", text.encode("ascii")))
        return paths

    def metrics(self, theta: np.ndarray, reference=None) -> dict:
        """Chamfer distance of the optimised surface to the reference asset (reference targets only);
        the mean opacity of a semi-transparent mesh; the pose (``pose_distance``, ``pose_elevation``,
        ``pose_azimuth``, ``pose_fov_y``; degrees) of a posed one."""
        if self.posed:
            pose = {f"pose_{k}": v for k, v in posing.values(theta, self.layout).items()}
            return {**pose, **self._metrics(theta, reference)}
        if self.transparent:
            return {"mean_opacity": float(op.alphas(theta, self.layout).mean()), **self._metrics(theta, reference)}
        return self._metrics(theta, reference)

    def _metrics(self, theta: np.ndarray, reference) -> dict:
        if reference is None:
            return {}
        from .chamfer import chamfer_distance
        pos = theta[self.layout.slice("positions")].reshape(-1, 3)
        if not self.displace:
            out = {"chamfer": chamfer_distance(pos, self.faces, reference.positions, reference.faces)}
        else:                     # the displaced surfaces (the reference's own height map, if it has one)
            ours = self.displaced_data(theta)
            ref = reference
            own = reference.material
            if own is not None and own.height is not None and reference.uvs is not None:
                from .displacement import displaced_mesh
                ref = displaced_mesh(reference.positions, reference.faces, reference.uvs, own.height,
                                     own.height_strength, own.height_midlevel, self.cfg.displacement.level)
            out = {"chamfer": chamfer_distance(ours.positions, ours.faces, ref.positions, ref.faces)}
        if self.pbr:
            out.update(self.material.map_errors(theta, self.layout, reference.material))
        return out

    def displaced_data(self, theta: np.ndarray):
        """The refined, displaced surface at ``theta`` (scene/mesh/displacement.py) as MeshData."""
        from .displacement import displaced_mesh
        h = self.cfg.material.height
        height = theta[self.layout.slice("height")].reshape(self.material.maps["height"].shape[:2])
        pos = theta[self.layout.slice("positions")].reshape(-1, 3)
        return displaced_mesh(pos, self.faces, self.mesh.uvs, height, h.strength, h.midlevel,
                              self.cfg.displacement.level, name=f"{self.mesh.name}_displaced")

    # -- GL -----------------------------------------------------------------

    @property
    def shader_dirs(self) -> tuple:
        """The kind's folder and the material layer's (mesh_shade.glsl includes material.glsl
        under #ifdef PBR; includes are resolved before the preprocessor runs)."""
        from ..material.layer import shader_dir
        return super().shader_dirs + (shader_dir(),)

    def _corner_tangents(self) -> np.ndarray:
        """(F, 3, 4) float32 tangents (w = handedness) of the initial geometry, for normal maps."""
        if "normal" not in self.material.maps:
            return np.zeros((self.primitives, 3, 4), np.float32)
        from ...io.tangents import corner_tangents
        return np.ascontiguousarray(corner_tangents(self.mesh.positions, self.faces, self.mesh.uvs, self.mesh.normals),
                                    np.float32)

    def resources(self) -> list:
        uvs = self.mesh.uvs if self.mesh.uvs is not None else np.zeros((self.primitives, 3, 2), np.float32)
        out = [BufferSpec("FACES", data=self.faces.tobytes()),
               BufferSpec("CORNER_UV", data=np.ascontiguousarray(uvs, np.float32).tobytes()),
               BufferSpec("NORMALS", size=16 * self.vertices)]
        if self.pbr:
            out.append(BufferSpec("CORNER_TANGENT", data=self._corner_tangents().tobytes()))
            out += self.material.resources()
        if self.laplacian:
            out += [BufferSpec("NBR_START", data=self.nbr_start.tobytes()),
                    BufferSpec("NBR_LIST", data=self.nbr_table.tobytes()),
                    BufferSpec("LAPLACE", size=16 * self.vertices)]
        if self.normal_consistency:
            out += [BufferSpec("FACE_ADJ", data=self.face_adj.tobytes()),
                    BufferSpec("FACE_NORMALS", size=16 * self.primitives),
                    BufferSpec("FACE_DCDE", size=16 * self.primitives)]
        return out

    def visibility_options(self) -> dict:
        return op.visibility_options(self.cfg.opacity) if self.transparent else {}

    def defines(self) -> dict:
        d = {"TRI_COUNT": self.primitives, "BASE_COLOR": "vec3(%r, %r, %r)" % DEFAULT_BASE_COLOR,
             "SCENE_MAX_CONTRIB": 5,   # its triangle + the 4 texels of its bilinear footprint
             "TEXEL_CONTRIB_BASE": self.shared_contributors}
        if self.vertex_contributors:
            d.update(VERTEX_CONTRIB=1, SCENE_MAX_CONTRIB=7)
        if self.posed:
            d.update(posing.defines(self.pose_camera, self.pose_contributor), SCENE_MAX_CONTRIB=d["SCENE_MAX_CONTRIB"] + 1)
        shading = self.cfg.shading
        if self.pbr:
            d.update(self.material.defines(), SCENE_MAX_CONTRIB=1 + self.material.max_contributors)
            if self.displace:
                h = self.cfg.material.height
                d.update(DISPLACE=1, DISPLACE_LEVEL=self.cfg.displacement.level, DISPLACE_STRENGTH=repr(float(h.strength)),
                         DISPLACE_MIDLEVEL=repr(float(h.midlevel)))
                if "height" in self.material.perturbed:   # the height texels of the sample's 3 corners
                    d["SCENE_MAX_CONTRIB"] += 12
            if shading.normals == "smooth":
                d["SMOOTH_NORMALS"] = 1
        if shading.model == "lambert":
            d["LAMBERT"] = 1
            if shading.normals == "smooth":
                d["SMOOTH_NORMALS"] = 1
        if self.has_texture:
            d.update(HAS_TEXTURE=1, TEX_W=self.tex_size[0], TEX_H=self.tex_size[1])
        if self.has_colors:
            d["HAS_VERTEX_COLORS"] = 1
        if self.geometry_contrib:
            d["GEOMETRY_CONTRIB"] = 1
        if self.texture_contrib:
            d["TEXTURE_CONTRIB"] = 1
        if self.texture_analytic:
            d.update(TEXTURE_ANALYTIC=1, SCENE_ANALYTIC=1)
        d["ID_FROM_PRIMITIVE"] = 1
        return d

    def build(self, ctx, defines: dict, buffers: dict) -> None:
        super().build(ctx, defines, buffers)
        if not self.displace:      # displaced: a plain draw of 3 vertices per sub-triangle (draw())
            self.vao.release()
            self.vao = ctx.vertex_array(self.program, [], index_buffer=buffers["FACES"], index_element_size=4)
        self.ctx = ctx
        shading = self.cfg.shading
        light = np.asarray(shading.light_dir, np.float64)
        light = light / max(np.linalg.norm(light), 1e-12)
        self._uniforms = dict(u_light_dir=tuple(float(x) for x in light), u_ambient=float(shading.ambient))
        if self.posed:
            self._uniforms.update(posing.uniforms(self.pose_camera))
        self.normals_prog = shaders.compute(ctx, "vertex_normals.comp", defines, dirs=self.shader_dirs)
        set_uniforms(self.normals_prog, u_vertices=self.vertices)
        self.vgroups = groups_1d(self.vertices)
        self.regularizers = []             # (program, work groups): analytic gradients added after G
        if self.laplacian:
            for k in range(2):
                prog = shaders.compute(ctx, "laplacian.comp", {**defines, "LAPLACE_PASS": k}, dirs=self.shader_dirs)
                set_uniforms(prog, u_vertices=self.vertices, u_weight=self.cfg.laplacian.weight / self.vertices)
                self.regularizers.append((prog, self.vgroups))
        if self.normal_consistency:
            weight = self.cfg.normal_consistency.weight / max(self.nc_pairs, 1)
            for k, count, groups in ((0, self.primitives, groups_1d(self.primitives)),
                                     (1, self.primitives, groups_1d(self.primitives)), (2, self.vertices, self.vgroups)):
                prog = shaders.compute(ctx, "normal_consistency.comp", {**defines, "NC_PASS": k}, dirs=self.shader_dirs)
                set_uniforms(prog, u_count=count, u_weight=weight)
                self.regularizers.append((prog, groups))
        smooth = []                     # (group, (w, h), channels, weight) of each smoothed map
        if self.texture_smoothness:
            smooth.append(("texture", self.tex_size, 3, self.cfg.texture.smoothness))
        if self.pbr:
            smooth += self.material.smoothness()
        for name, (w, h), channels, weight in smooth:
            prog = shaders.compute(ctx, "map_smoothness.comp", defines, dirs=self.shader_dirs)
            set_uniforms(prog, u_weight=weight / SMOOTHNESS_REFERENCE_TEXELS, u_group=self.layout.index(name),
                         u_size=(w, h), u_stride=channels)
            self.regularizers.append((prog, groups_1d(w * h)))

    def post_step(self, estimator) -> list:
        return self.material.post_step(estimator) if self.pbr else []

    def draw(self, instances: int) -> None:
        if self.displace:
            self.vao.render(vertices=3 * self.primitives * self.sub_triangles, instances=instances)
        else:
            super().draw(instances)

    def shading_uniforms(self) -> dict:
        return self._uniforms

    def on_params_changed(self, estimator) -> None:
        self._normals_done = False

    def before_render(self, estimator, iteration: int, copies: int, clean: bool) -> None:
        needed = self.smooth_normals or self.displace                  # the NORMALS buffer is read
        if needed and not self.normals_frozen and (self.optimize_positions or not self._normals_done):
            self.normals_prog.run(*self.vgroups)
            barrier(self.ctx)
            self._normals_done = True

    def add_regularizers(self, estimator) -> None:
        for prog, groups in self.regularizers:
            prog.run(*groups)
            barrier(self.ctx)

    def release(self) -> None:
        super().release()
        for prog in [getattr(self, "normals_prog", None)] + [p for p, _ in getattr(self, "regularizers", [])]:
            if prog is not None:
                prog.release()

