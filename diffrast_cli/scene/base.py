"""What every scene kind provides to the estimator and the loop (the plug-in interface).

A scene kind owns its parameter layout, the R program (vertex pulling with
the perturbation fused in), the G-side GLSL (``shade_include`` defines
`vec3 scene_sample(uint id, ivec2 texel, uint cam, uint key, float sigma)`,
which shades a sample and calls `add_contributor(c)` for each parameter
owner it depends on; ``depth_include`` defines `scene_depth` for the
front-to-back sort), the GPU buffers those read (declared by
:meth:`SceneKind.resources`, bound by the core), and what a run reports and
writes (:meth:`metrics`, :meth:`export`). Shader names are looked up in the
kind's shader folder (its :class:`~.registry.KindSpec`) first, then in glsl/.

G hook: a kind whose ``spread_include`` names a GLSL file spreads each
pixel's f+ - f- itself. The file defines
`void scene_spread(uint pair, ivec2 px, uint cam, uint key, float diff)`,
called by G once per pixel and pair with a non-zero difference; it adds into
the contributor accumulators with `accumulate(pair, c, value)` (any number
of contributors, any weights). The visibility strategy still resolves the
pixel's colours for f+ and f-.

Visibility: ``visibility`` names the strategy (sge/visibility.py). With
``"deep_id"`` (semi-transparent primitives) R's fragment stage calls
`deep_emit(id + 1, alpha)` (``fragment_shader = "deep_id.frag"`` does it for a
flat ``v_alpha``), G composites every sample's fragments front to back with
``scene_sample`` as each fragment's colour, and :meth:`visibility_options`
tunes the strategy. A kind whose ``shade_include`` defines ``SCENE_COMPOSITE``
combines a sample's fragments itself (``scene_composite``; the fragments through
the accessors of ``glsl/include/deep_fragments.glsl``).

The estimator and the loop call only what is here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..gl import shaders


@dataclass
class SceneSetup:
    """What a kind is built from (see :meth:`SceneKind.create`)."""

    job: object                 # the validated job (JobConfig); job.scene is the kind's config
    base: Path | None           # the job file's folder (relative input paths)
    views: object               # sge.views.ViewSet: cameras and targets
    cameras: list | None        # scene.cameras.Camera of each view (multi-view jobs), else None
    size: tuple[int, int]       # render size (w, h)
    asset: object = None        # what load_asset returned, or the caller's asset

    def pixel_at(self, center) -> float:
        """World size of one pixel at ``center``, median over the training cameras."""
        if not self.cameras:
            return 2.0 / max(self.size)
        sizes = [np.linalg.norm(self.cameras[i].position - np.asarray(center)) / self.cameras[i].fy
                 for i in self.views.train]
        return float(np.median(sizes))


class SceneKind:
    kind: str = ""                  # the registry name (scene.kind)
    primitive_name: str = "primitives"  # what reports call what R draws ("triangles")
    vertex_shader: str = ""
    fragment_shader: str = "id.frag"
    shade_include: str = ""
    depth_include: str = ""
    spread_include: str = ""        # the G hook (see the module notes); "" = G spreads over the contributors
    visibility: str = "opaque_id"   # the visibility strategy (sge/visibility.py): "opaque_id" or "deep_id"
    layout = None                   # ParamLayout
    contributors: int = 0           # accumulator slots per pair
    shared_contributors: int = 0    # contributors [0, this) are shared by neighbouring pixels (primitives)
    primitives: int = 0             # what R draws (and the sort orders)
    size_keys: str = "the scene size"  # the job keys to lower when it does not fit
    cull: str | None = None         # face culling R may use without changing any image: "back", "front" or None
    draw_order: bool = True         # R draws primitives through order[] (the core may keep it front to back)
    program = None
    vao = None

    # -- from the job ---------------------------------------------------------

    @classmethod
    def load_asset(cls, cfg, base: Path | None):
        """Read the input files the kind's config names (None: the kind reads none)."""
        return None

    @classmethod
    def describe_inputs(cls, cfg, base: Path | None) -> str:
        """Load the kind's input files (as a run would) and summarise them in a few words."""
        return cls.kind

    @classmethod
    def describe_reference(cls, path) -> str:
        """Load a reference asset of this kind (``target.reference.<kind>``) and say what it is."""
        raise NotImplementedError(f"scene kind {cls.kind!r} renders no reference assets")

    @classmethod
    def reference_targets(cls, device, job, path, cams: list, size, base=None) -> tuple:
        """(images (N, H, W, 3), the loaded reference) of the reference asset at ``path`` seen by
        ``cams`` (scene.cameras.Camera) with the job's render settings: targets rendered by diffrast."""
        raise NotImplementedError(f"scene kind {cls.kind!r} renders no reference assets")

    @classmethod
    def stages(cls, job) -> list:
        """Later layouts of the scene within one run (e.g. a grid grown coarse to fine):
        ``(iteration, job)`` pairs, iterations increasing; at each the run builds the scene
        from that job and moves the optimiser's state over with :meth:`carry_over`. []
        (the default): one layout for the whole run. Bad schedules raise ConfigError."""
        return []

    def carry_over(self, previous: "SceneKind", params: np.ndarray, moments: np.ndarray) -> tuple:
        """(params, moments) of this scene from ``previous``'s (a stage change, :meth:`stages`);
        ``moments`` holds Adam's (m, v) per parameter, interleaved."""
        raise NotImplementedError(f"scene kind {self.kind!r} has no stages to carry its state into")

    @classmethod
    def create(cls, setup: SceneSetup) -> "SceneKind":
        raise NotImplementedError(f"scene kind {cls.kind!r} does not implement create()")

    @property
    def shader_dirs(self) -> tuple:
        from .registry import get_kind
        return (get_kind(self.kind).shader_path(),)

    # -- GPU ------------------------------------------------------------------

    def defines(self) -> dict:
        """Extra GLSL defines of this scene kind; SCENE_MAX_CONTRIB (contributors of one
        sample) is required."""
        return {"SCENE_MAX_CONTRIB": 1}

    def visibility_options(self) -> dict:
        """Options of the visibility strategy (``deep_id``: structure, layers, fragments,
        contributors; sge/deep_ids.py). ``opaque_id`` takes none."""
        return {}

    def resources(self) -> list:
        """The kind's own GPU buffers and textures (gl.declared.BufferSpec / TextureSpec):
        the core allocates them, binds them at points of its reserved range, and defines
        SSBO_SCENE_<NAME> / TEX_SCENE_<NAME> in every shader."""
        return []

    def build(self, ctx, defines: dict, buffers: dict) -> None:
        """Compile the kind's programs; ``buffers``: the declared resources (buffers and
        textures) by name."""
        self.program = shaders.program(ctx, self.vertex_shader, self.fragment_shader, defines=defines,
                                       dirs=self.shader_dirs)
        self.vao = ctx.vertex_array(self.program, [])

    def draw(self, instances: int) -> None:
        """Draw every primitive once per copy (instanced); uniforms are set by the caller."""
        self.vao.render(vertices=3 * self.primitives, instances=instances)

    def buffer_bytes(self) -> int:
        """GPU memory the kind allocates itself, beside its declared resources (memory estimate)."""
        return 0

    def shading_uniforms(self) -> dict:
        """Uniforms of the scene's G-side code (set on G and the resolve pass)."""
        return {}

    def iteration_uniforms(self, iteration: int) -> dict:
        """Uniforms that change with the iteration (annealed settings), set on R, G and the
        resolve pass before each R draw; {} (the default) sets nothing."""
        return {}

    def on_params_changed(self, estimator) -> None:
        """Parameters were replaced from the CPU (upload)."""

    def before_render(self, estimator, iteration: int, copies: int, clean: bool) -> None:
        """Work before each R draw of ``copies`` copies, perturbed for ``iteration``
        (``clean``: unperturbed view slots), e.g. normals of the clean geometry or
        per-copy projections; the uniforms of copies.glsl are the caller's values."""

    def after_gradient(self, estimator, iteration: int) -> None:
        """Work between G and the per-parameter pass, e.g. chaining what the kind's
        ``scene_analytic`` added per pair into its analytic slots (accumulate.glsl)."""

    def add_regularizers(self, estimator) -> None:
        """Add analytic regularizer gradients into SSBO_GRAD (after the SGE gradient)."""

    # -- layouts that change (sge/relayout.py) --------------------------------

    def relayout(self):
        """A sge.relayout.RelayoutSpec if post-step passes re-place, split or remove primitives
        (the core then keeps per-element Adam births and a live count), else None."""
        return None

    def post_step(self, estimator) -> list:
        """GPU passes run after each optimisation step, built once the estimator is set up:
        objects with ``run(iteration)`` (iteration = steps done; GPU work only, nothing read
        back) and ``release()``. State they carry between iterations lives in declared
        buffers marked ``persistent`` / ``element_words`` (checkpointed by the core).
        An empty list (the default) adds no GL call to an iteration."""
        return []

    # -- results --------------------------------------------------------------

    def initial_params(self, seed: int) -> np.ndarray:
        raise NotImplementedError

    def metrics(self, theta: np.ndarray, reference=None) -> dict:
        """Asset metrics the report adds (e.g. Chamfer distance to a reference mesh)."""
        return {}

    def export(self, theta, out_dir) -> list:
        """Write the optimised asset into ``out_dir``; returns the paths."""
        raise NotImplementedError

    def release(self) -> None:
        if self.program is not None:
            self.vao.release()
            self.program.release()
            self.program = None
