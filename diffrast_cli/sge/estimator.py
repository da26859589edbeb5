"""The GPU-resident SGE loop: sort, R (all perturbed copies), G, per-parameter pass, Adam.

One iteration issues a fixed, small number of GL calls and moves no
per-parameter data between CPU and GPU (the camera indices of the
iteration's views are the only upload). Readbacks (loss, flags, images,
parameters) happen only when the caller asks, at log intervals.
"""

from __future__ import annotations

import contextlib

import moderngl
import numpy as np

from ..errors import GLError, LimitError
from ..gl import bindings as B
from ..gl import shaders
from ..gl.context import FLOAT_ATOMICS_EXT
from ..gl.passes import barrier, groups_1d, set_uniforms
from ..optim.adam import AdamPass
from . import rng
from .ordering import DepthOrder
from ..resources import check_memory, estimate_job_memory
from .targets import TiledIdTarget, tile_layout

GL_CLIP_DISTANCE0 = 0x3000


SUBGROUP_EXTENSIONS = ("GL_KHR_shader_subgroup", "GL_NV_shader_subgroup_partitioned")
SUBGROUP_GLSL_EXTENSIONS = ("GL_KHR_shader_subgroup_basic", "GL_KHR_shader_subgroup_ballot",
                            "GL_KHR_shader_subgroup_arithmetic", "GL_NV_shader_subgroup_partitioned")


def _no_timer(name):
    return contextlib.nullcontext()


def choose_aggregation(device, aggregate=None, scene=None) -> str:
    """How G merges additions to the same contributor before its global atomics.

    direct: none (CPU renderers: their shared atomics and barriers cost more than
    they save); shared: per work group, in a shared-memory hash table of
    primitives (GPUs; best when all contributors are primitives: H100, 100K soup
    at 1024^2, G 0.135 ms vs 0.30 subgrouped); subgroup: within a warp, by
    partitioning lanes on the contributor (GPUs with
    GL_NV_shader_subgroup_partitioned, when there are texel contributors: H100,
    textured mesh, G 18.6 ms vs 24.1 shared). ``aggregate``: None for this
    automatic choice, True for shared, False for direct, or a mode name.
    """
    if aggregate is None:
        if device.is_software:
            return "direct"
        texels = scene is not None and scene.contributors > scene.shared_contributors
        have = all(e in device.extensions for e in SUBGROUP_EXTENSIONS)
        return "subgroup" if texels and have else "shared"
    if isinstance(aggregate, bool):
        return "shared" if aggregate else "direct"
    if aggregate not in ("direct", "shared", "subgroup"):
        raise ValueError(f"unknown aggregation {aggregate!r}")
    if aggregate == "subgroup" and not all(e in device.extensions for e in SUBGROUP_EXTENSIONS):
        raise GLError(f"subgroup aggregation needs {' and '.join(SUBGROUP_EXTENSIONS)}")
    return aggregate


class Estimator:
    """Per-pixel (or full-image) stochastic gradient estimation for one scene and its views."""

    def __init__(self, device, scene, views, *, seed: int = 0, samples: int = 1, views_per_iteration: int = 1,
                 estimator: str = "per_pixel", loss: str = "l2", supersample: int = 1,
                 background=(0.0, 0.0, 0.0), fixed_scale: float = B.FIXED_SCALE_DEFAULT, adam_cfg=None,
                 aggregate: bool | None = None, sort_every: int | None = None):
        self.device = device
        self.ctx = ctx = device.ctx
        self.scene = scene
        self.views = views
        self.layout = scene.layout
        self.seed = int(seed) & 0xFFFFFFFF
        self.samples = int(samples)
        self.views_per_iteration = int(views_per_iteration)
        self.pairs = self.samples * self.views_per_iteration
        self.full_image = estimator == "full_image"
        self.size = views.size
        w, h = self.size
        self.count = self.layout.size
        self.contributors = 1 if self.full_image else scene.contributors
        self._check_limits()
        cols, rows = tile_layout(device, self.size, 2 * self.pairs, supersample)
        self.memory = estimate_job_memory(
            parameters=self.count, pairs=self.pairs, contributors=self.contributors, views=views.count,
            width=w, height=h, supersample=int(supersample), copies=2 * self.pairs, tile_cols=cols, tile_rows=rows,
            primitives=scene.primitives, extra_bytes=scene.buffer_bytes())
        check_memory(device, self.memory, size_keys=scene.size_keys)

        defines = dict(self.layout.defines())
        defines.update(scene.defines())
        defines["SS"] = int(supersample)
        defines["FIXED_SCALE"] = repr(float(fixed_scale))
        extensions = ()
        if device.atomics == "float":
            defines["ATOMICS_FLOAT"] = 1
            extensions = (FLOAT_ATOMICS_EXT,)
        if self.full_image:
            defines["FULL_IMAGE"] = 1
        if loss == "l1":
            defines["LOSS_L1"] = 1
        self.aggregation = choose_aggregation(device, aggregate, scene)
        g_extensions = extensions
        if self.aggregation == "shared":
            defines["AGGREGATE"] = 1
            defines["AGG_SHARED_BELOW"] = scene.shared_contributors
        elif self.aggregation == "subgroup":
            defines["SUBGROUP_AGGREGATE"] = 1
            g_extensions = extensions + SUBGROUP_GLSL_EXTENSIONS
        aliases = {"scene": scene.shade_include}
        self._defines = defines
        self._perturb = None

        # Programs.
        scene.build(ctx, defines)
        self.g_prog = shaders.compute(ctx, "gradient.comp", defines, aliases, g_extensions)
        self.pg_prog = shaders.compute(ctx, "param_grad.comp", defines, aliases, extensions)
        self.resolve_prog = shaders.compute(ctx, "resolve.comp", defines, aliases, extensions)

        # Buffers.
        self.params = ctx.buffer(reserve=4 * self.count)
        self.groups = ctx.buffer(self.layout.table().tobytes())
        self.accum = ctx.buffer(reserve=4 * self.pairs * self.contributors)
        self.grad = ctx.buffer(reserve=4 * self.count)
        self.stats = ctx.buffer(reserve=4 * B.STAT_COUNT)
        self.stats.clear()
        self.cameras = ctx.buffer(views.camera_table().tobytes())
        self.adam = AdamPass(device, self.count, defines, adam_cfg)
        # Front-to-back order pays on GPUs with overdraw; it needs one camera.
        auto_sort = 0 if (device.is_software or views.count > 1) else 8
        self.sort_every = auto_sort if sort_every is None else int(sort_every)
        self.order = DepthOrder(device, scene.primitives, defines, scene.depth_include)
        self.copies = 2 * self.pairs
        self.target_ids = TiledIdTarget(device, self.size, self.copies, supersample)
        self.view_slots = ctx.buffer(reserve=4 * max(self.copies, self.views_per_iteration))
        self.pair_keys = ctx.buffer(reserve=4 * self.pairs)
        self._slots = None
        self.wg = ((w + B.WG_2D_X - 1) // B.WG_2D_X, (h + B.WG_2D_Y - 1) // B.WG_2D_Y)
        self.partials = ctx.buffer(reserve=8 * self.wg[0] * self.wg[1] * self.copies)
        self.targets = ctx.texture_array((w, h, views.count), 4, views.target_layers().tobytes(), dtype="f2")
        self.targets.filter = (moderngl.NEAREST, moderngl.NEAREST)
        self.colors = ctx.texture_array((w, h, self.copies), 4, dtype="f4")
        self.pg_groups = groups_1d(self.count, device.max_groups_x)

        # Uniforms that never change.
        tiles = self.target_ids.uniforms()
        common = dict(u_seed=self.seed, u_samples=self.samples, u_size=self.size,
                      u_background=tuple(float(c) for c in background), u_contributors=self.contributors, **tiles)
        for prog in (scene.program, self.g_prog, self.resolve_prog):
            set_uniforms(prog, **common, **scene.shading_uniforms())
        set_uniforms(self.pg_prog, u_count=self.count, u_pairs=self.pairs,
                     u_contributors=self.contributors, u_norm=1.0 / (3.0 * w * h))
        self._bind()

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
        self.accum.bind_to_storage_buffer(B.SSBO_ACCUM)
        self.grad.bind_to_storage_buffer(B.SSBO_GRAD)
        self.adam.bind(B.SSBO_ADAM)
        self.order.bind()
        self.stats.bind_to_storage_buffer(B.SSBO_STATS)
        self.partials.bind_to_storage_buffer(B.SSBO_PARTIALS)
        self.cameras.bind_to_storage_buffer(B.SSBO_CAMERAS)
        self.view_slots.bind_to_storage_buffer(B.SSBO_VIEWS)
        self.pair_keys.bind_to_storage_buffer(B.SSBO_KEYS)
        # Bindings only some scene kinds use get a small placeholder; the scene rebinds its own.
        self._placeholder = self.ctx.buffer(reserve=64)
        self._placeholder.clear()
        for binding in (B.SSBO_FACES, B.SSBO_CORNER_UV, B.SSBO_ADJ_START, B.SSBO_ADJ_LIST, B.SSBO_NORMALS,
                        B.SSBO_NBR_START, B.SSBO_NBR_LIST, B.SSBO_LAPLACE):
            self._placeholder.bind_to_storage_buffer(binding)
        self.scene.bind_buffers()
        self.target_ids.texture.use(location=B.TEX_IDS)
        self.targets.use(location=B.TEX_TARGET)
        self.colors.bind_to_image(B.IMG_COLOR, read=False, write=True)
        ctx = self.ctx
        if self.scene.cull:
            ctx.enable_only(moderngl.DEPTH_TEST | moderngl.CULL_FACE)
            ctx.cull_face = self.scene.cull
        else:
            ctx.enable_only(moderngl.DEPTH_TEST)
        ctx.depth_func = "<"
        for i in range(4):
            ctx.enable_direct(GL_CLIP_DISTANCE0 + i)

    def _set_slots(self, cams) -> None:
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

    def state(self) -> dict:
        """Everything the loop carries between iterations (for checkpoints)."""
        return {"params": self.download(),
                "moments": np.frombuffer(self.adam.moments.read(), dtype=np.float32).copy(),
                "order": np.frombuffer(self.order.order.read(), dtype=np.uint32).copy()}

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

    # -- the loop -----------------------------------------------------------

    def render(self, iteration: int, copies: int, clean: bool) -> None:
        """R: draw ``copies`` copies of the scene, perturbed (plus/minus per pair) or clean (one per slot)."""
        self.target_ids.clear()
        set_uniforms(self.scene.program, u_iteration=iteration, u_clean=int(clean))
        self.scene.draw(copies)

    def estimate(self, iteration: int, timer=None) -> None:
        """R, G and the per-parameter pass: the SGE gradient lands in SSBO_GRAD."""
        t = timer or _no_timer
        ctx = self.ctx
        self._set_slots(self.views.slots(iteration, self.views_per_iteration, self.seed))
        if self.sort_every and iteration % self.sort_every == 0:
            with t("sort"):
                self.order.update()
        with t("R"):
            self.scene.before_render(self)
            self.render(iteration, self.copies, clean=False)
        with t("G"):
            self.accum.clear()
            set_uniforms(self.g_prog, u_iteration=iteration)
            self.g_prog.run(self.wg[0], self.wg[1], self.pairs)
            barrier(ctx)
        with t("grad"):
            self.pair_keys.write(rng.pair_keys_bytes(self.seed, iteration, self.pairs))
            self.pg_prog.run(*self.pg_groups)
            barrier(ctx)
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
        cams = [0] if cams is None else list(cams)
        w, h = self.size
        n_px = 3.0 * w * h
        per_view, colors = [], []
        self.scene.before_render(self)
        for start in range(0, len(cams), self.copies):
            batch = cams[start:start + self.copies]
            self._set_slots(np.asarray(batch + [0] * (self.copies - len(batch))))
            self.render(0, len(batch), clean=True)
            self.resolve_prog.run(self.wg[0], self.wg[1], len(batch))
            barrier(self.ctx)
            nwg = self.wg[0] * self.wg[1]
            sums = np.frombuffer(self.partials.read(size=8 * nwg * len(batch)), dtype=np.float32)
            sums = sums.reshape(len(batch), nwg, 2).astype(np.float64).sum(axis=1)
            for mse, mae in sums / n_px:
                per_view.append({"mse": float(mse), "mae": float(mae), "psnr": _psnr(mse)})
            if images:
                data = np.frombuffer(self.colors.read(), dtype=np.float32).reshape(self.copies, h, w, 4)
                colors.extend(np.ascontiguousarray(data[i, ::-1, :, :3]) for i in range(len(batch)))
        mse = float(np.mean([v["mse"] for v in per_view]))
        out = {"mse": mse, "mae": float(np.mean([v["mae"] for v in per_view])), "psnr": _psnr(mse),
               "views": per_view}
        if images:
            out["images"] = colors
        self._slots = None  # the next step rewrites its slots
        return out

    def color(self, cam: int = 0) -> np.ndarray:
        """A clean render of camera ``cam`` as HxWx3 float32, row 0 = top."""
        return self.evaluate([cam], images=True)["images"][0]

    def flags(self, clear: bool = True) -> dict:
        """GPU-side flags since the last clear: fixed-point overflow, and the groups (by
        name) with non-finite gradients or parameters, non-finite pixel losses, and the
        first Adam step that saw one."""
        v = np.frombuffer(self.stats.read(), dtype=np.uint32)
        names = [g.name for g in self.layout.groups]

        def groups(mask):
            return [n for i, n in enumerate(names) if mask >> min(i, 31) & 1]

        out = {"overflow": bool(v[B.STAT_OVERFLOW]),
               "nonfinite": bool(v[B.STAT_NONFINITE] or v[B.STAT_NONFINITE_PARAM] or v[B.STAT_NONFINITE_LOSS]),
               "nonfinite_gradient": groups(int(v[B.STAT_NONFINITE])),
               "nonfinite_parameter": groups(int(v[B.STAT_NONFINITE_PARAM])),
               "nonfinite_loss": bool(v[B.STAT_NONFINITE_LOSS]),
               "first_bad_step": int(v[B.STAT_FIRST_BAD]) or None}
        if clear and v.any():
            self.stats.clear()
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
        self._perturb.run(*self.pg_groups)
        barrier(self.ctx)
        return np.frombuffer(self._scratch.read(), dtype=np.float32).copy()

    def release(self) -> None:
        if self._perturb is not None:
            self._perturb.release()
            self._scratch.release()
        for obj in (self.params, self.groups, self.accum, self.grad, self.stats, self.partials, self.cameras,
                    self.view_slots, self.pair_keys, self.targets, self.colors, self._placeholder, self.g_prog, self.pg_prog, self.resolve_prog):
            obj.release()
        self.adam.release()
        self.order.release()
        self.target_ids.release()
        self.scene.release()


def _psnr(mse: float) -> float:
    return float("inf") if mse <= 0 else float(10.0 * np.log10(1.0 / mse))
