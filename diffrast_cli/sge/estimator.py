"""The GPU-resident SGE loop: sort, R (all perturbed copies), G, per-parameter pass, Adam.

The Estimator wires the parts, one module each: the visibility strategy
(visibility.py: R's targets and how G reads them), G (g_pass.py), the
per-parameter pass (param_pass.py), Adam (optim/adam.py), the depth order
(ordering.py), clean renders and flags (evaluation.py), the memory check
(memory.py), the scene kind's declared buffers (gl/declared.py), and, for
kinds whose layout changes, the per-element state and compaction
(relayout.py) and the kind's post-step passes (``post_step_hooks``).

One iteration issues a fixed, small number of GL calls and moves no
per-parameter data between CPU and GPU (the camera indices of the
iteration's views are the only upload). Readbacks (loss, flags, images,
parameters) happen only when the caller asks, at log intervals.
"""

from __future__ import annotations

import contextlib

import moderngl
import numpy as np

from ..errors import LimitError
from ..gl import bindings as B
from ..gl import shaders
from ..gl.context import FLOAT_ATOMICS_EXT
from ..gl.declared import DeclaredResources
from ..gl.passes import barrier, set_uniforms
from ..gl.zero import BufferZero
from ..optim.adam import AdamPass
from ..scene.params import MAP_ANALYTIC
from .aggregation import SUBGROUP_EXTENSIONS, aggregation_defines, choose_aggregation
from .evaluation import CleanPass, read_flags, target_array
from .g_pass import GPass
from .memory import check_memory, estimate_job_memory
from .ordering import DepthOrder
from .param_pass import ParamGradPass
from .relayout import Relayout
from .targets import enable_tile_clipping
from .visibility import make_visibility

__all__ = ["Estimator", "SUBGROUP_EXTENSIONS", "choose_aggregation"]


def _no_timer(name):
    return contextlib.nullcontext()


class Estimator:
    """Per-pixel (or full-image) stochastic gradient estimation for one scene and its views."""

    def __init__(self, device, scene, views, *, seed: int = 0, samples: int = 1, views_per_iteration: int = 1,
                 estimator: str = "per_pixel", loss: str = "l2", supersample: int = 1,
                 background=(0.0, 0.0, 0.0), fixed_scale: float = B.FIXED_SCALE_DEFAULT, adam_cfg=None,
                 aggregate: bool | None = None, sort_every: int | None = None):
        self.device = device
        self.ctx = device.ctx
        self.scene = scene
        self.views = views
        self.layout = scene.layout
        self.seed = int(seed) & 0xFFFFFFFF
        self.samples = int(samples)
        self.views_per_iteration = int(views_per_iteration)
        self.pairs = self.samples * self.views_per_iteration
        self.copies = 2 * self.pairs
        self.full_image = estimator == "full_image"
        self.size = views.size
        w, h = self.size
        self.count = self.layout.size
        # full_image: slot 0 holds the image's f+ - f-; analytic groups keep their own slots
        analytic = any(g.mapping == MAP_ANALYTIC for g in self.layout.groups)
        self.contributors = 1 if self.full_image and not analytic else scene.contributors
        self._check_limits()
        self._parts = []
        self._perturb = None
        self._slots = None
        self.relayout = None
        self.post_step = []
        try:
            self._setup(device, scene, views, loss, supersample, background, fixed_scale, adam_cfg, aggregate,
                        sort_every)
        except BaseException:
            self.release()
            raise

    def _setup(self, device, scene, views, loss, supersample, background, fixed_scale, adam_cfg, aggregate,
               sort_every) -> None:
        ctx, (w, h) = self.ctx, self.size
        self.visibility = make_visibility(scene.visibility, device, self.size, self.copies, supersample,
                                          scene.visibility_options())
        self._parts.append(self.visibility)
        vis = self.visibility
        declared = scene.resources()
        self.memory = estimate_job_memory(
            parameters=self.count, pairs=self.pairs, contributors=self.contributors, views=views.count,
            width=w, height=h, supersample=int(supersample), copies=self.copies, tile_cols=vis.cols,
            tile_rows=vis.rows, primitives=scene.primitives,
            extra_bytes=scene.buffer_bytes() + DeclaredResources.nbytes(declared, self.copies) + self.layout.gather_table().nbytes,
            attachment_bytes=vis.memory_bytes_per_texel - 8)
        check_memory(device, self.memory, size_keys=scene.size_keys)
        self.declared = DeclaredResources(ctx, declared, self.copies)
        self._parts.append(self.declared)

        defines = dict(self.layout.defines())
        defines.update(scene.defines())
        defines.update(self.declared.defines())
        defines.update(vis.defines())
        relayout_spec = scene.relayout()
        if relayout_spec is not None:
            defines.update(Relayout.defines())
        defines["SS"] = int(supersample)
        defines["FIXED_SCALE"] = repr(float(fixed_scale))
        extensions = ()
        if device.atomics == "float":
            defines["ATOMICS_FLOAT"] = 1
            extensions = (FLOAT_ATOMICS_EXT,)
        if self.full_image:
            defines["FULL_IMAGE"] = 1
        if not any(g.mapping != MAP_ANALYTIC and not g.frozen for g in self.layout.groups):
            defines["G_PLUS_ONLY"] = 1      # every optimised group exact: the minus copy is the plus copy
        if loss == "l1":
            defines["LOSS_L1"] = 1
        aliases = {"scene": scene.shade_include, "visibility": vis.include, "scene_spread": "spread_none.glsl"}
        g_defines = dict(defines)
        if scene.spread_include:
            g_defines["SCENE_SPREAD"] = 1
            aliases["scene_spread"] = scene.spread_include
            self.aggregation = "direct"       # the kind's hook adds straight into the accumulators
        else:
            self.aggregation = choose_aggregation(device, aggregate, scene)
        agg_defines, agg_extensions = aggregation_defines(self.aggregation, scene.shared_contributors)
        g_defines.update(agg_defines)
        self._defines = defines
        self.defines = defines            # what every program is built with (a kind's passes too)
        self.extensions = extensions
        dirs = scene.shader_dirs

        # Programs and buffers.
        scene.build(ctx, defines, {**self.declared.buffers, **self.declared.textures})
        self.zero = BufferZero(device)
        self._parts.append(self.zero)
        self.g = GPass(ctx, self.size, self.pairs, self.contributors, g_defines, aliases,
                       extensions + agg_extensions, dirs, self.zero)
        self._parts.append(self.g)
        self.param_pass = ParamGradPass(device, self.layout, self.pairs, self.contributors, self.size, self.seed,
                                        defines, extensions)
        self._parts.append(self.param_pass)
        self.clean = CleanPass(ctx, self.size, self.copies, defines, aliases, extensions, dirs)
        self._parts.append(self.clean)
        self.params = ctx.buffer(reserve=4 * self.count)
        if relayout_spec is not None:
            self.relayout = Relayout(device, self.layout, relayout_spec, defines)
            self._parts.append(self.relayout)
        flags = self.relayout.group_flags() if self.relayout is not None else None
        self.groups = ctx.buffer(self.layout.table(flags).tobytes())
        self.stats = ctx.buffer(reserve=4 * B.STAT_COUNT)
        self.stats.clear()
        self.cameras = ctx.buffer(views.camera_table().tobytes())
        self.view_slots = ctx.buffer(reserve=4 * max(self.copies, self.views_per_iteration))
        self.targets = target_array(ctx, views)
        self.adam = AdamPass(device, self.count, defines, adam_cfg)
        self._parts.append(self.adam)
        # Front-to-back order pays on GPUs with overdraw; it needs one camera.
        auto_sort = 0 if (device.is_software or views.count > 1 or not scene.draw_order) else 8
        self.sort_every = auto_sort if sort_every is None else int(sort_every)
        self.order = DepthOrder(device, scene.primitives, defines, scene.depth_include, dirs)
        self._parts.append(self.order)

        # Uniforms that never change.
        common = dict(u_seed=self.seed, u_samples=self.samples, u_size=self.size,
                      u_background=tuple(float(c) for c in background), u_contributors=self.contributors,
                      **vis.uniforms())
        for prog in (scene.program, self.g.prog, self.clean.prog):
            set_uniforms(prog, **common, **scene.shading_uniforms())
        self._set_iteration_uniforms(0)
        self._bind()
        self.post_step = list(scene.post_step(self))
        self._parts.extend(self.post_step)

    # -- parts kept under their former names (tests, diagnostics) ------------

    accum = property(lambda self: self.g.accum)
    grad = property(lambda self: self.param_pass.grad)
    partials = property(lambda self: self.clean.partials)
    colors = property(lambda self: self.clean.colors)
    target_ids = property(lambda self: getattr(self.visibility, "target", None))

    # -- setup --------------------------------------------------------------

    def _check_limits(self) -> None:
        limit = self.device.max_ssbo_bytes
        needs = {"parameters": 4 * self.count, "Adam moments": 8 * self.count,
                 "accumulators": 4 * self.pairs * self.contributors}
        for what, nbytes in needs.items():
            if nbytes > limit:
                raise LimitError(f"the {what} need {nbytes / 2**20:.1f} MiB in one storage buffer; this device "
                                 f"allows {limit / 2**20:.1f} MiB (lower {self.scene.size_keys} or optimize.samples)")

    def _bind(self) -> None:
        """Bind everything to its fixed binding point (once: nothing else rebinds them)."""
        self.params.bind_to_storage_buffer(B.SSBO_PARAMS)
        self.groups.bind_to_storage_buffer(B.SSBO_GROUPS)
        self.g.bind()
        self.param_pass.bind()
        self.adam.bind(B.SSBO_ADAM)
        self.order.bind()
        self.stats.bind_to_storage_buffer(B.SSBO_STATS)
        self.clean.bind()
        self.cameras.bind_to_storage_buffer(B.SSBO_CAMERAS)
        self.view_slots.bind_to_storage_buffer(B.SSBO_VIEWS)
        self.declared.bind()
        if self.relayout is not None:
            self.relayout.bind()
        self.visibility.bind()
        self.targets.use(location=B.TEX_TARGET)
        ctx = self.ctx
        if self.scene.cull:
            ctx.enable_only(moderngl.DEPTH_TEST | moderngl.CULL_FACE)
            ctx.cull_face = self.scene.cull
        else:
            ctx.enable_only(moderngl.DEPTH_TEST)
        ctx.depth_func = "<"
        enable_tile_clipping(ctx)

    def set_slots(self, cams) -> None:
        """The camera of each view slot of the next pass (uploaded only when it changes)."""
        cams = np.ascontiguousarray(cams, dtype=np.uint32)
        if self._slots is None or not np.array_equal(cams, self._slots):
            self.view_slots.write(cams.tobytes())
            self._slots = cams

    # -- parameters ---------------------------------------------------------

    def upload(self, theta: np.ndarray) -> None:
        self.params.write(np.ascontiguousarray(theta, dtype=np.float32).tobytes())
        self.scene.on_params_changed(self)

    def download(self) -> np.ndarray:
        return np.frombuffer(self.params.read(), dtype=np.float32).copy()

    @property
    def post_step_hooks(self) -> tuple:
        """The kind's post-step passes as the loop's ``after_step`` hooks (none: no GL call)."""
        return tuple(p.run for p in self.post_step)

    def state(self) -> dict:
        """Everything the loop carries between iterations (for checkpoints)."""
        state = {"params": self.download(),
                 "moments": np.frombuffer(self.adam.moments.read(), dtype=np.float32).copy(),
                 "order": np.frombuffer(self.order.order.read(), dtype=np.uint32).copy()}
        if self.relayout is not None:
            state.update(self.relayout.state())
        state.update({f"scene_{k}": v for k, v in self.declared.state().items()})
        return state

    def restore(self, state: dict) -> None:
        """Continue from :meth:`state` (shapes are checked)."""
        expected = {"params": (self.count, np.float32), "moments": (2 * self.count, np.float32),
                    "order": (self.scene.primitives, np.uint32)}
        for name, (size, dtype) in expected.items():
            value = state.get(name)
            if value is None or value.size != size:
                raise ValueError(f"checkpoint {name}: expected {size} values, got "
                                 f"{None if value is None else value.size}")
        self.upload(state["params"])
        self.adam.moments.write(np.ascontiguousarray(state["moments"], dtype=np.float32).tobytes())
        self.order.order.write(np.ascontiguousarray(state["order"], dtype=np.uint32).tobytes())
        if self.relayout is not None:
            self.relayout.restore(state)
        self.declared.restore({k[len("scene_"):]: v for k, v in state.items() if k.startswith("scene_")})

    # -- the loop -----------------------------------------------------------

    def render(self, iteration: int, copies: int, clean: bool) -> None:
        """R: draw ``copies`` copies of the scene, perturbed (plus/minus per pair) or clean (one per slot)."""
        self.scene.before_render(self, iteration, copies, clean)
        if not clean:            # clean renders show the last step's settings
            self._set_iteration_uniforms(iteration)
        self.visibility.clear()
        set_uniforms(self.scene.program, u_iteration=iteration, u_clean=int(clean))
        self.visibility.draw(self.scene.program, lambda: self.scene.draw(copies))

    def _set_iteration_uniforms(self, iteration: int) -> None:
        annealed = self.scene.iteration_uniforms(iteration)
        if annealed:
            for prog in (self.scene.program, self.g.prog, self.clean.prog):
                set_uniforms(prog, **annealed)

    def estimate(self, iteration: int, timer=None) -> None:
        """R, G and the per-parameter pass: the SGE gradient lands in SSBO_GRAD."""
        t = timer or _no_timer
        self.set_slots(self.views.slots(iteration, self.views_per_iteration, self.seed))
        if self.sort_every and iteration % self.sort_every == 0:
            with t("sort"):
                self.order.update()
        with t("R"):
            self.render(iteration, self.copies, clean=False)
        with t("G"):
            self.g.run(iteration)
            self.scene.after_gradient(self, iteration)
        with t("grad"):
            self.param_pass.run(iteration)
            self.scene.add_regularizers(self)

    def step(self, iteration: int, lr_scale: float = 1.0, timer=None) -> None:
        """One optimisation step. ``iteration`` is 0-based; ``timer(name)`` wraps each pass if given."""
        self.estimate(iteration, timer)
        with (timer or _no_timer)("adam"):
            self.adam.step(iteration + 1, lr_scale)

    # -- readbacks (log intervals only) -------------------------------------

    def evaluate(self, cams=None, images: bool = False) -> dict:
        """Clean renders of cameras ``cams`` (default: camera 0): per-view and mean mse/mae/psnr,
        and the colour images (row 0 = top) if ``images``."""
        out = self.clean.evaluate(self, [0] if cams is None else list(cams), images)
        self._slots = None  # the next step rewrites its slots
        return out

    def color(self, cam: int = 0) -> np.ndarray:
        """A clean render of camera ``cam`` as HxWx3 float32, row 0 = top."""
        return self.evaluate([cam], images=True)["images"][0]

    def flags(self, clear: bool = True) -> dict:
        """GPU-side flags since the last clear (evaluation.read_flags); the visibility
        strategy acts on its own (e.g. grows its buffers)."""
        out = read_flags(self.stats, self.layout, clear)
        self.visibility.on_flags(out)
        return out

    def gradient(self) -> np.ndarray:
        """The last estimated gradient (tests and diagnostics)."""
        return np.frombuffer(self.grad.read(), dtype=np.float32).copy()

    def estimate_gradient(self, iteration: int) -> np.ndarray:
        """One SGE estimate without the update (tests and diagnostics)."""
        self.estimate(iteration)
        return self.gradient()

    def perturbed_params(self, iteration: int, pair: int, sigma: float) -> np.ndarray:
        """P materialised: theta + sigma * s * eps for every parameter (perturb.comp)."""
        if self._perturb is None:
            self._perturb = shaders.compute(self.ctx, "perturb.comp", self._defines)
            self._scratch = self.ctx.buffer(reserve=4 * self.count)
        self._scratch.bind_to_storage_buffer(B.SSBO_OUT)
        set_uniforms(self._perturb, u_count=self.count, u_seed=self.seed, u_iteration=iteration,
                     u_pair=pair, u_sigma=sigma)
        self._perturb.run(*self.param_pass.groups)
        barrier(self.ctx)
        return np.frombuffer(self._scratch.read(), dtype=np.float32).copy()

    def release(self) -> None:
        if self._perturb is not None:
            self._perturb.release()
            self._scratch.release()
            self._perturb = None
        for name in ("params", "groups", "stats", "cameras", "view_slots", "targets"):
            obj = self.__dict__.pop(name, None)
            if obj is not None:
                obj.release()
        for part in reversed(self._parts):
            part.release()
        self._parts = []
        self.scene.release()
