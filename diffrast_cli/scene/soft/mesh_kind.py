"""The soft rasterizer over an indexed mesh (``scene: {kind: soft_mesh}``; docs/soft.md): the mesh
kind's inputs, parameters (shared vertex positions gathered from their triangles, vertex colours
or a texture), shading, regularizers and export, drawn like the soft soup: a plain draw of 3
vertices per face (soft_mesh.vert fetches the face's shared vertices), each triangle grown by the
band and recording its coverage in the deep id buffer (soft.frag); G shades each fragment as the
mesh does (barycentrics extend past the edges) and combines them (soft_composite.glsl).
Gradients: SGE. Nothing is culled (back faces' edges add coverage too)."""

from __future__ import annotations

from ..mesh.kind import TexturedMesh
from .softness import Softness, describe


class SoftMesh(TexturedMesh):
    kind = "soft_mesh"
    vertex_shader = "soft_mesh.vert"
    shade_include = "soft_mesh_shade.glsl"
    vertex_contributors = True     # a sample shows several neighbouring triangles

    @classmethod
    def create(cls, setup) -> "SoftMesh":
        scene = super().create(setup)
        scene.soften(setup.size, setup.job.optimize.iterations)
        return scene

    def soften(self, size: tuple[int, int], iterations: int) -> None:
        """Draw through the soft rasterizer at ``size`` over ``iterations`` steps (after __init__)."""
        self.visibility = "deep_id"
        self.fragment_shader = "soft.frag"
        self.cull = None
        self.softness = Softness(self.cfg.coverage, self.cfg.aggregate, size, iterations)

    @property
    def shader_dirs(self) -> tuple:
        from ..material.layer import shader_dir
        from ..registry import get_kind
        return (get_kind("soft").shader_path(), get_kind("mesh").shader_path(), shader_dir())

    def defines(self) -> dict:
        d = {**super().defines(), **self.softness.defines()}
        d.pop("ID_FROM_PRIMITIVE", None)          # soft.frag takes the id from soft_mesh.vert
        return d

    def visibility_options(self) -> dict:
        layers = int(self.cfg.coverage.layers)
        return {"layers": layers, "fragments": float(min(256, max(layers, 16)))}

    def build(self, ctx, defines: dict, buffers: dict) -> None:
        super().build(ctx, defines, buffers)
        self.vao.release()                         # a plain draw, 3 vertices per face
        self.vao = ctx.vertex_array(self.program, [])

    def draw(self, instances: int) -> None:
        self.vao.render(vertices=3 * self.primitives, instances=instances)

    def shading_uniforms(self) -> dict:
        return {**super().shading_uniforms(), **self.softness.shading_uniforms()}

    def iteration_uniforms(self, iteration: int) -> dict:
        return self.softness.iteration_uniforms(iteration)

    @classmethod
    def describe_inputs(cls, cfg, base) -> str:
        return super().describe_inputs(cfg, base) + ", soft rasterizer: " + \
            describe(cfg.coverage, cfg.aggregate)
