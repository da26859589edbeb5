"""Voxel volumes (``scene.kind: volume``; issue 14, docs/volume.md): a dense grid of density and
RGB nodes, ray-marched (emission-absorption) inside the box R rasterises.

Before each R draw every node of every copy is perturbed once into a per-copy 3D texture
(volume_nodes.comp); the ray marches of G and the clean pass read it.

Parameters: log density (1 per node: the node's density is exp(theta), per world unit), then
colour (3 per node); both groups name the node as their
contributor (MAP_DIRECT from 0), so one accumulator slot per node serves its 4 parameters.
G's hook (volume_spread.glsl) records each pixel's f+ - f- and depth; after G, volume_gather.comp
adds to every node the differences of the pixels whose rays can have read it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import ConfigError, InputError
from ...gl import shaders
from ...gl import bindings as B
from ...gl.declared import BufferSpec, TextureSpec
from ...gl.passes import barrier, groups_1d, set_uniforms
from ..base import SceneKind, SceneSetup
from ..params import MAP_ANALYTIC, MAP_DIRECT, ParamGroup, ParamLayout, group_settings
from .config import VolumeConfig
from .grid import GridSpec, resample, trilinear

DENSITY_FLOOR = 1e-3                              # the density of an "empty" node (and of density 0 in files)
LOG_DENSITY_BOUNDS = (float(np.log(1e-4)), float(np.log(1e4)))
# The perturbed nodes the marches read: half floats (RGBA16F, volume_nodes.comp's image
# format): half the bytes of a march's reads (docs/design.md, "Voxel volumes").
NODE_DTYPE, NODE_FORMAT = "f2", "rgba16f"
# The gather's work group: a brick of nodes (x, y, z) for one pair (volume_gather.comp).
GATHER_BRICK = (8, 8, 4)
MAX_GROUPS_Z = 65535                              # GL's guaranteed dispatch size per dimension


def load_npz(path) -> tuple:
    """(density (z, y, x), color (z, y, x, 3), lo, hi) of a volume.npz, float64."""
    try:
        with np.load(path) as data:
            density, color, lo, hi = (np.asarray(data[k], np.float64) for k in ("density", "color", "lo", "hi"))
    except (OSError, KeyError, ValueError) as exc:
        raise InputError(f"{path}: not a volume.npz (density, color, lo, hi): {exc}") from None
    if density.ndim != 3 or color.shape != density.shape + (3,) or lo.shape != (3,) or hi.shape != (3,):
        raise InputError(f"{path}: density must be (z, y, x), color (z, y, x, 3), lo and hi 3 numbers; got "
                         f"{density.shape}, {color.shape}")
    if not (np.all(np.isfinite(density)) and np.all(np.isfinite(color)) and np.all(hi > lo)):
        raise InputError(f"{path}: non-finite values or an empty box")
    return density, color, lo, hi


class VoxelVolume(SceneKind):
    kind = "volume"
    primitive_name = "box_triangles"   # what R draws: the grid box's 12 triangles (report.json key)
    vertex_shader = "volume.vert"
    shade_include = "volume_shade.glsl"
    depth_include = "volume_depth.glsl"
    spread_include = "volume_spread.glsl"
    size_keys = "scene.resolution"
    cull = "front"          # back faces of the box: each pixel once, a camera inside included
    draw_order = False

    @classmethod
    def describe_inputs(cls, cfg, base) -> str:
        nx, ny, nz = cfg.sides
        return f"volume {nx}x{ny}x{nz} nodes ({4 * nx * ny * nz:,} parameters)"

    @classmethod
    def create(cls, setup: SceneSetup) -> "VoxelVolume":
        if setup.job.render.supersample != 1:
            raise ConfigError("render.supersample: scene.kind volume marches one ray per pixel; use 1")
        cfg, opt = setup.job.scene, setup.job.optimize
        sides = [cfg.sides] + [VolumeConfig(resolution=g.resolution).sides for g in cfg.grow]
        depth = max(-(-s[2] // GATHER_BRICK[2]) for s in sides)
        if cfg.gradient == "sge" and depth * opt.samples * opt.views_per_iteration > MAX_GROUPS_Z:
            raise ConfigError(f"scene.resolution: {depth} bricks deep x optimize.samples x views_per_iteration "
                              f"exceeds one gather dispatch ({MAX_GROUPS_Z} work groups); use fewer samples or views")
        return cls(setup.job.scene, setup.views.view_proj, background=setup.job.render.background,
                   seed=setup.job.seed, base=setup.base, size=setup.size)

    @classmethod
    def stages(cls, job) -> list:
        """scene.grow: the grid at each step's resolution from its iteration on."""
        total = job.optimize.iterations
        out = []
        for step in job.scene.grow:
            if step.iteration >= total:
                raise ConfigError(f"scene.grow: iteration {step.iteration} is not before the run's end "
                                  f"(optimize.iterations {total})")
            scene = job.scene.model_copy(update={"resolution": step.resolution, "grow": [], "init_file": None})
            out.append((step.iteration, job.model_copy(update={"scene": scene})))
        return out

    def carry_over(self, previous: "VoxelVolume", params: np.ndarray, moments: np.ndarray) -> tuple:
        """Every group's parameters and Adam moments (m, v) sampled trilinearly at this grid's
        nodes from the previous grid (log densities interpolated as logs), then clipped to
        the groups' bounds."""
        src, dst = previous.spec, self.spec
        new_params = np.empty(self.layout.size, np.float32)
        new_moments = np.empty((self.layout.size, 2), np.float32)
        old_moments = np.asarray(moments, np.float64).reshape(-1, 2)
        for name, width in (("density", 1), ("color", 3)):
            old, new = previous.layout.slice(name), self.layout.slice(name)
            new_params[new] = resample(src, np.asarray(params[old], np.float64).reshape(-1, width), dst).ravel()
            for k in range(2):
                m = old_moments[old, k].reshape(-1, width)
                new_moments[new, k] = resample(src, m, dst).ravel()
        new_moments[:, 1] = np.maximum(new_moments[:, 1], 0.0)
        return self.layout.clip(new_params), new_moments.ravel()

    @classmethod
    def describe_reference(cls, path) -> str:
        density, _, _, _ = load_npz(path)
        nz, ny, nx = density.shape
        return f"volume {nx}x{ny}x{nz} nodes"

    @classmethod
    def reference_targets(cls, device, job, path, cams: list, size, base=None) -> tuple:
        """The reference grid drawn clean (jitter 0.5) with the job's step and termination when the
        job is a volume job, each view's ray marched at the reference's own resolution."""
        from ..mesh.reference import render_frozen
        density, color, lo, hi = load_npz(path)
        own = job.scene if job.scene.kind == "volume" else VolumeConfig()
        cfg = VolumeConfig(resolution=list(density.shape[::-1]), bounds=(tuple(lo), tuple(hi)), step=own.step,
                           termination=own.termination, init_file=str(path), jitter=False,
                           density={"optimize": False}, color={"optimize": False})
        scene = cls(cfg, np.stack([c.view_projection() for c in cams]), background=job.render.background)
        images = render_frozen(device, scene, cams, size, 1, job.render.background, job.optimize.adam)
        return images, (scene.spec, density, color)

    def __init__(self, cfg, view_proj, background=(0.0, 0.0, 0.0), seed: int = 0, base=None, size=(1, 1)):
        """``view_proj``: (N, 4, 4) view-projection matrices of the job's cameras (the rays);
        ``size``: the render size (w, h) (G's per-pixel ray records)."""
        self.cfg = cfg
        self.view_proj = np.asarray(view_proj, np.float64)
        self.background = tuple(float(c) for c in background)
        self.seed = int(seed) & 0xFFFFFFFF
        self.size = (int(size[0]), int(size[1]))
        self.spec = GridSpec(cfg.sides, np.asarray(cfg.bounds[0], np.float64), np.asarray(cfg.bounds[1], np.float64),
                             cfg.step, cfg.termination)
        n = self.spec.nodes
        self.primitives = 12
        self.base = base
        self.analytic = cfg.gradient == "analytic"
        if self.analytic:       # one exact slot per parameter: log densities [0, n), colours [n, 4n)
            mapping, color_base, self.contributors = MAP_ANALYTIC, n, 4 * n
            self.spread_include = ""
        else:                   # one accumulator per node for its 4 parameters
            mapping, color_base, self.contributors = MAP_DIRECT, 0, n
        groups = [ParamGroup("density", n, 1, mapping=mapping,
                             **group_settings(cfg.density, 0.25, 0.05, LOG_DENSITY_BOUNDS)),
                  ParamGroup("color", 3 * n, 3, mapping=mapping, contrib_base=color_base,
                             **group_settings(cfg.color, 0.05, 0.02, (0.0, 1.0)))]
        self.layout = ParamLayout(groups)
        self.shared_contributors = 0 if self.analytic else n

    # -- parameters -----------------------------------------------------------------

    def initial_params(self, seed: int) -> np.ndarray:
        n = self.spec.nodes
        if self.cfg.init_file is not None:
            density, color = self._from_file()
        else:
            density = np.full(n, self.cfg.init.density)
            color = np.broadcast_to(np.asarray(self.cfg.init.color, np.float64), (n, 3))
        log_density = np.log(np.maximum(density.ravel(), DENSITY_FLOOR))
        return self.layout.clip(np.concatenate([log_density, color.ravel()]).astype(np.float32))

    def _from_file(self):
        path = Path(self.cfg.init_file).expanduser()
        path = path if path.is_absolute() or self.base is None else Path(self.base) / path
        density, color, lo, hi = load_npz(path)
        src = GridSpec(density.shape[::-1], lo, hi)
        return (resample(src, density.reshape(-1, 1), self.spec)[:, 0],
                resample(src, color.reshape(-1, 3), self.spec))

    def grids(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(density (nz, ny, nx), color (nz, ny, nx, 3)) at theta (densities: exp of the parameters)."""
        nx, ny, nz = self.spec.sides
        d = np.exp(np.asarray(theta[self.layout.slice("density")], np.float64)).astype(np.float32).reshape(nz, ny, nx)
        c = np.asarray(theta[self.layout.slice("color")], np.float32).reshape(nz, ny, nx, 3)
        return d, c

    def metrics(self, theta: np.ndarray, reference=None) -> dict:
        """Mean and max density; against a reference grid (target.reference.volume) the RMSE of the
        density and of the colour where the reference's density is above 10% of its max, both
        sampled at the reference's nodes."""
        d, c = self.grids(theta)
        out = {"mean_density": float(d.mean()), "max_density": float(d.max())}
        if reference is not None:
            spec, rd, rc = reference
            at = spec.node_positions()
            ours_d = trilinear(self.spec, d.reshape(-1, 1).astype(np.float64), at)[:, 0]
            ours_c = trilinear(self.spec, c.reshape(-1, 3).astype(np.float64), at)
            out["rmse_density"] = float(np.sqrt(np.mean((ours_d - rd.ravel()) ** 2)))
            dense = rd.ravel() > 0.1 * rd.max()
            if dense.any():
                out["rmse_color"] = float(np.sqrt(np.mean((ours_c[dense] - rc.reshape(-1, 3)[dense]) ** 2)))
        return out

    def export(self, theta: np.ndarray, out_dir) -> list:
        from .export import export_volume
        return export_volume(self, theta, out_dir)

    # -- GL ---------------------------------------------------------------------------

    def resources(self) -> list:
        inv = np.stack([np.linalg.inv(vp) for vp in self.view_proj]).astype(np.float32)
        # mat4 columns in GLSL: numpy rows of the transpose
        out = [BufferSpec("INV_VIEW_PROJ", data=np.ascontiguousarray(inv.transpose(0, 2, 1)).tobytes()),
               TextureSpec("COPY_NODES", size=tuple(self.spec.sides), dtype=NODE_DTYPE,
                           per_copy=not self.analytic, filter="linear")]
        if not self.analytic:   # G records (diff, depth) per pair and pixel (volume_spread.glsl)
            out.append(BufferSpec("RAYS", size=4 * self.size[0] * self.size[1], per_copy=True))
        return out

    def defines(self) -> dict:
        nx, ny, nz = self.spec.sides
        vec = lambda v: "vec3(%r, %r, %r)" % tuple(float(x) for x in v)       # noqa: E731
        d = {"GRID_NX": nx, "GRID_NY": ny, "GRID_NZ": nz, "GRID_NODES": nx * ny * nz, "GRID_LO": vec(self.spec.lo), "GRID_HI": vec(self.spec.hi),
             "GRID_STEP": repr(self.spec.step), "GRID_TERMINATION": repr(float(self.cfg.termination)),
             "GRID_BACKGROUND": vec(self.background), "SCENE_MAX_CONTRIB": 1, "ID_FROM_PRIMITIVE": 1,
             "NODE_FORMAT": NODE_FORMAT}
        if not self.analytic:
            # the estimator's marches: the texture unit interpolates (the exact backward weighs
            # the 8 nodes itself, and measured faster with the forward doing the same)
            d["GRID_HW_FILTER"] = 1
            d.update(zip(("GATHER_X", "GATHER_Y", "GATHER_Z"), GATHER_BRICK))
        if self.cfg.jitter:
            d["GRID_JITTER"] = 1
        if self.analytic:
            d.update(VOLUME_ANALYTIC=1, SCENE_ANALYTIC=1, ANALYTIC_GAIN="4.0")
        return d

    def build(self, ctx, defines: dict, buffers: dict) -> None:
        super().build(ctx, defines, buffers)
        self.ctx = ctx
        self.nodes_prog = shaders.compute(ctx, "volume_nodes.comp", defines, dirs=self.shader_dirs)
        self.nodes_tex = buffers["COPY_NODES"]
        self.rays = buffers.get("RAYS")
        self.gather_prog = None

    def before_render(self, estimator, iteration: int, copies: int, clean: bool) -> None:
        # every node of every copy perturbed once; a clean render's copies are all slot 0's, and
        # with exact gradients nothing is perturbed: one copy serves all
        n = 1 if clean or self.analytic else copies
        set_uniforms(self.nodes_prog, u_copies=n, u_iteration=iteration, u_clean=int(clean), u_seed=estimator.seed,
                     u_samples=estimator.samples)
        self.nodes_tex.bind_to_image(B.IMG_SCENE, read=False, write=True)
        self.nodes_prog.run(*groups_1d(n * self.spec.nodes, estimator.device.max_groups_x))
        if self.rays is not None and not clean:
            estimator.zero(self.rays)           # pixels without a difference record none
        barrier(self.ctx)

    def after_gradient(self, estimator, iteration: int) -> None:
        # the estimator's path: every node's sum of the differences of the rays that read it
        if self.rays is None:
            return
        if self.gather_prog is None:
            self.gather_prog = shaders.compute(self.ctx, "volume_gather.comp", estimator.defines,
                                               extensions=estimator.extensions, dirs=self.shader_dirs)
        set_uniforms(self.gather_prog, u_pairs=estimator.pairs, u_contributors=estimator.contributors,
                     u_samples=estimator.samples, **estimator.visibility.uniforms())
        (nx, ny, nz), (bx, by, bz) = self.spec.sides, GATHER_BRICK
        self.gather_prog.run(-(-nx // bx), -(-ny // by), -(-nz // bz) * estimator.pairs)
        barrier(self.ctx)

    def release(self) -> None:
        super().release()
        for name in ("nodes_prog", "gather_prog"):
            prog = getattr(self, name, None)
            if prog is not None:
                prog.release()
                setattr(self, name, None)

    def draw(self, instances: int) -> None:
        self.vao.render(vertices=36, instances=instances)

    def shading_uniforms(self) -> dict:
        return {"u_volume_seed": self.seed}

    def iteration_uniforms(self, iteration: int) -> dict:
        return {"u_volume_iteration": int(iteration)}


__all__ = ["VoxelVolume"]
