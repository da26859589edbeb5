"""What every scene kind provides to the estimator (the plug-in interface).

A scene kind owns its parameter layout, the R program (vertex pulling with
the perturbation fused in), the G-side GLSL (``shade_include`` defines
`vec3 scene_sample(uint id, ivec2 texel, uint cam, uint key, float sigma)`,
which shades a sample and calls `add_contributor(c)` for each parameter
owner it depends on; ``depth_include`` defines `scene_depth` for the
front-to-back sort) and any buffers those read. The estimator and the loop
call only what is here.
"""

from __future__ import annotations

from ..gl import shaders


class SceneKind:
    vertex_shader: str = ""
    fragment_shader: str = "id.frag"
    shade_include: str = ""
    depth_include: str = ""
    layout = None                   # ParamLayout
    contributors: int = 0           # accumulator slots per pair
    shared_contributors: int = 0    # contributors [0, this) are shared by neighbouring pixels (primitives)
    primitives: int = 0             # what R draws (and the sort orders)
    size_keys: str = "the scene size"  # the job keys to lower when it does not fit
    cull: str | None = None         # face culling R may use without changing any image: "back", "front" or None
    program = None
    vao = None

    def defines(self) -> dict:
        """Extra GLSL defines of this scene kind; SCENE_MAX_CONTRIB (contributors of one
        sample) is required."""
        return {"SCENE_MAX_CONTRIB": 1}

    def build(self, ctx, defines: dict) -> None:
        self.program = shaders.program(ctx, self.vertex_shader, self.fragment_shader, defines=defines)
        self.vao = ctx.vertex_array(self.program, [])

    def draw(self, instances: int) -> None:
        """Draw every primitive once per copy (instanced); uniforms are set by the caller."""
        self.vao.render(vertices=3 * self.primitives, instances=instances)

    def buffer_bytes(self) -> int:
        """GPU memory of the scene's own buffers (for the memory estimate)."""
        return 0

    def shading_uniforms(self) -> dict:
        """Uniforms of the scene's G-side code (set on G and the resolve pass)."""
        return {}

    def bind_buffers(self) -> None:
        """Bind the scene's own storage buffers (called once)."""

    def on_params_changed(self, estimator) -> None:
        """Parameters were replaced from the CPU (upload)."""

    def before_render(self, estimator) -> None:
        """Per-iteration work before R (e.g. normals of the clean geometry)."""

    def add_regularizers(self, estimator) -> None:
        """Add analytic regularizer gradients into SSBO_GRAD (after the SGE gradient)."""

    def export(self, theta, out_dir) -> list:
        """Write the optimised asset into ``out_dir``; returns the paths."""
        raise NotImplementedError

    def release(self) -> None:
        if self.program is not None:
            self.vao.release()
            self.program.release()
            self.program = None
