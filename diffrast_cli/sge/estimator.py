"""The GPU-resident SGE loop: R (both perturbed copies), G, per-parameter pass, Adam.

One iteration issues a fixed, small number of GL calls and moves no
per-parameter data between CPU and GPU. Readbacks (loss, flags, images,
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
from ..gl.passes import barrier, groups_1d, set_uniforms
from ..optim.adam import AdamPass
from ..scene.camera import gl_matrix
from .ordering import DepthOrder
from .targets import TiledIdTarget

GL_CLIP_DISTANCE0 = 0x3000


def _no_timer(name):
    return contextlib.nullcontext()


class Estimator:
    """Per-pixel (or full-image) stochastic gradient estimation for one scene and target."""

    def __init__(self, device, scene, target_rgb: np.ndarray, view_proj: np.ndarray, *,
                 seed: int = 0, samples: int = 1, estimator: str = "per_pixel", loss: str = "l2",
                 supersample: int = 1, background=(0.0, 0.0, 0.0), fixed_scale: float = B.FIXED_SCALE_DEFAULT,
                 adam_cfg=None, aggregate: bool | None = None, sort_every: int | None = None):
        self.device = device
        self.ctx = ctx = device.ctx
        self.scene = scene
        self.layout = scene.layout
        self.seed = int(seed) & 0xFFFFFFFF
        self.pairs = int(samples)
        self.full_image = estimator == "full_image"
        h, w = target_rgb.shape[:2]
        self.size = (w, h)
        self.count = self.layout.size
        self.contributors = 1 if self.full_image else scene.contributors
        self._check_limits()

        defines = dict(self.layout.defines())
        defines["SS"] = int(supersample)
        defines["FIXED_SCALE"] = repr(float(fixed_scale))
        extensions = ()
        if device.atomics == "float":
            defines["ATOMICS_FLOAT"] = 1
            extensions = (FLOAT_ATOMICS_EXT,)
        if self.full_image:
            defines["FULL_IMAGE"] = 1
        # Work-group aggregation of G's atomics pays on GPUs (contended atomics)
        # and costs on CPU renderers (slow shared atomics and barriers).
        self.aggregate = (not device.is_software) if aggregate is None else bool(aggregate)
        if self.aggregate:
            defines["AGGREGATE"] = 1
        if loss == "l1":
            defines["LOSS_L1"] = 1
        aliases = {"scene": scene.shade_include}
        self._defines = defines
        self._perturb = None

        # Programs.
        scene.build(ctx, defines)
        self.g_prog = shaders.compute(ctx, "gradient.comp", defines, aliases, extensions)
        self.pg_prog = shaders.compute(ctx, "param_grad.comp", defines, aliases, extensions)
        self.resolve_prog = shaders.compute(ctx, "resolve.comp", defines, aliases, extensions)

        # Buffers.
        self.params = ctx.buffer(reserve=4 * self.count)
        self.groups = ctx.buffer(self.layout.table().tobytes())
        self.accum = ctx.buffer(reserve=4 * self.pairs * self.contributors)
        self.grad = ctx.buffer(reserve=4 * self.count)
        self.stats = ctx.buffer(reserve=4 * B.STAT_COUNT)
        self.stats.clear()
        self.adam = AdamPass(device, self.count, defines, adam_cfg)
        # Front-to-back order pays on GPUs with overdraw; CPU renderers gain little.
        self.sort_every = (0 if device.is_software else 8) if sort_every is None else int(sort_every)
        self.order = DepthOrder(device, scene.primitives, defines, scene.depth_include, gl_matrix(view_proj))
        self.target_ids = TiledIdTarget(device, self.size, 2 * self.pairs, supersample)
        self.wg = ((w + B.WG_2D_X - 1) // B.WG_2D_X, (h + B.WG_2D_Y - 1) // B.WG_2D_Y)
        self.partials = ctx.buffer(reserve=8 * self.wg[0] * self.wg[1])
        self.target_tex = ctx.texture((w, h), 3, np.ascontiguousarray(target_rgb[::-1]).astype("f4").tobytes(), dtype="f4")
        self.target_tex.filter = (moderngl.NEAREST, moderngl.NEAREST)
        self.color_tex = ctx.texture((w, h), 4, dtype="f4")
        self.pg_groups = groups_1d(self.count, device.max_groups_x)

        # Uniforms that never change.
        tiles = self.target_ids.uniforms()
        set_uniforms(scene.program, u_view_proj=gl_matrix(view_proj), u_seed=self.seed, **tiles)
        common = dict(u_seed=self.seed, u_size=self.size, u_background=tuple(float(c) for c in background),
                      u_contributors=self.contributors, **tiles)
        set_uniforms(self.g_prog, **common)
        set_uniforms(self.resolve_prog, **common)
        set_uniforms(self.pg_prog, u_seed=self.seed, u_count=self.count, u_pairs=self.pairs,
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
                                 f"allows {limit / 2**20:.1f} MiB (lower scene.triangles or optimize.samples)")

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
        self.target_ids.texture.use(location=B.TEX_IDS)
        self.target_tex.use(location=B.TEX_TARGET)
        self.color_tex.bind_to_image(B.IMG_COLOR, read=False, write=True)
        ctx = self.ctx
        ctx.enable_only(moderngl.DEPTH_TEST)
        ctx.depth_func = "<"
        for i in range(4):
            ctx.enable_direct(GL_CLIP_DISTANCE0 + i)

    # -- parameters ---------------------------------------------------------

    def upload(self, theta: np.ndarray) -> None:
        self.params.write(np.ascontiguousarray(theta, dtype=np.float32).tobytes())

    def download(self) -> np.ndarray:
        return np.frombuffer(self.params.read(), dtype=np.float32).copy()

    # -- the loop -----------------------------------------------------------

    def render(self, iteration: int, copies: int, sigma_scale: float) -> None:
        """R: draw ``copies`` copies of the scene (perturbed, or clean with sigma_scale 0)."""
        self.target_ids.clear()
        set_uniforms(self.scene.program, u_iteration=iteration, u_sigma_scale=sigma_scale, u_copy_base=0)
        self.scene.draw(copies)

    def estimate(self, iteration: int, timer=None) -> None:
        """R, G and the per-parameter pass: the SGE gradient lands in SSBO_GRAD."""
        t = timer or _no_timer
        ctx = self.ctx
        if self.sort_every and iteration % self.sort_every == 0:
            with t("sort"):
                self.order.update()
        with t("R"):
            self.render(iteration, 2 * self.pairs, 1.0)
        with t("G"):
            self.accum.clear()
            set_uniforms(self.g_prog, u_iteration=iteration)
            self.g_prog.run(self.wg[0], self.wg[1], self.pairs)
            barrier(ctx)
        with t("grad"):
            set_uniforms(self.pg_prog, u_iteration=iteration)
            self.pg_prog.run(*self.pg_groups)
            barrier(ctx)

    def step(self, iteration: int, lr_scale: float = 1.0, timer=None) -> None:
        """One optimisation step. ``iteration`` is 0-based; ``timer(name)`` wraps each pass if given."""
        self.estimate(iteration, timer)
        with (timer or _no_timer)("adam"):
            self.adam.step(iteration + 1, lr_scale)

    # -- readbacks (log intervals only) -------------------------------------

    def evaluate(self) -> dict:
        """Clean render of the current parameters: mse, mae, psnr (reads back a few floats)."""
        self.render(0, 1, 0.0)
        self.resolve_prog.run(self.wg[0], self.wg[1], 1)
        barrier(self.ctx)
        sums = np.frombuffer(self.partials.read(), dtype=np.float32).reshape(-1, 2).astype(np.float64).sum(axis=0)
        n = 3.0 * self.size[0] * self.size[1]
        mse, mae = float(sums[0] / n), float(sums[1] / n)
        psnr = float("inf") if mse <= 0 else float(10.0 * np.log10(1.0 / mse))
        return {"mse": mse, "mae": mae, "psnr": psnr}

    def color(self) -> np.ndarray:
        """The last clean render (after :meth:`evaluate`) as HxWx3 float32, row 0 = top."""
        w, h = self.size
        img = np.frombuffer(self.color_tex.read(), dtype=np.float32).reshape(h, w, 4)[::-1, :, :3]
        return np.ascontiguousarray(img)

    def flags(self, clear: bool = True) -> dict:
        """GPU-side flags (fixed-point overflow, non-finite gradients), optionally cleared."""
        v = np.frombuffer(self.stats.read(), dtype=np.uint32)
        out = {"overflow": bool(v[B.STAT_OVERFLOW]), "nonfinite": bool(v[B.STAT_NONFINITE])}
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
        for obj in (self.params, self.groups, self.accum, self.grad, self.stats, self.partials,
                    self.target_tex, self.color_tex, self.g_prog, self.pg_prog, self.resolve_prog):
            obj.release()
        self.adam.release()
        self.order.release()
        self.target_ids.release()
        self.scene.release()
