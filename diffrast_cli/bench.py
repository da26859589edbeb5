"""`diffrast bench`: standard problems, warm-up, it/s and per-pass GPU times."""

from __future__ import annotations

import contextlib
import math
import time

import click
import numpy as np

from .config import JobConfig
from .gl.context import create_device
from .optim.loop import Loop, Plan
from .problem import Problem

# Standard problems. The 100K soups use the initial triangle size that gives
# ~52x overdraw, the setting of the reference figures. The mesh problem is a
# 100K-triangle textured mesh (2048^2 texture, 12.7M parameters) seen in 4
# views of 1024^2 per iteration; mesh-8k-tex512-256 is its CPU-renderer-sized
# counterpart (8K triangles, 512^2 texture, one 256^2 view).
# The *-resample variants: scene.resample at the settings of configs/soup_100k_resample.yaml.
RESAMPLE = {"every": 25, "unseen": 50, "min_area": 0.25}
PROBLEMS = {
    "soup-2k-256": dict(kind="soup", triangles=2_000, resolution=256, size=0.1),
    "soup-100k-512": dict(kind="soup", triangles=100_000, resolution=512, size=0.0825),
    "soup-100k-1024": dict(kind="soup", triangles=100_000, resolution=1024, size=0.0825),
    "soup-2k-256-resample": dict(kind="soup", triangles=2_000, resolution=256, size=0.1, resample=RESAMPLE),
    "soup-100k-512-resample": dict(kind="soup", triangles=100_000, resolution=512, size=0.0825, resample=RESAMPLE),
    "mesh-8k-tex512-256": dict(kind="mesh", rows=45, texture=512, resolution=256, views=1),
    "mesh-100k-tex2048-1x1024": dict(kind="mesh", rows=158, texture=2048, resolution=1024, views=1),
    "mesh-100k-tex2048-4x1024": dict(kind="mesh", rows=158, texture=2048, resolution=1024, views=4),
    "mesh-4k-pbr256-256": dict(kind="mesh", rows=32, pbr=256, resolution=256, views=1),
    "mesh-50k-pbr1024-4x1024": dict(kind="mesh", rows=112, pbr=1024, resolution=1024, views=4),
    "subdiv-150-l2-pbr128-256": dict(kind="subdiv", side=5, levels=2, pbr=128, resolution=256, views=1),
    "subdiv-2k-l2-pbr1024-4x1024": dict(kind="subdiv", side=18, levels=2, pbr=1024, resolution=1024, views=4),
    "volume-32-128": dict(kind="volume", nodes=32, resolution=128, views=1),
    "volume-256-4x512": dict(kind="volume", nodes=256, resolution=512, views=4),
    "volume-256-4x512-sge": dict(kind="volume", nodes=256, resolution=512, views=4, gradient="sge"),
    "splats-20k-256": dict(kind="splats", count=20_000, resolution=256, fragments=16),
    "splats-500k-1024": dict(kind="splats", count=500_000, resolution=1024, fragments=16),
    "splats-500k-1024-kbuffer": dict(kind="splats", count=500_000, resolution=1024, fragments=16, structure="kbuffer"),
}
# The splat problems (issue 11): random splats in a thin box filling one perspective view (the
# setting of configs/splats_image.yaml), sized so that ~`fragments` of them cover a sample.
# The PBR problems (issue 10): the sphere with four random maps (base colour, roughness,
# metallic, normal; 8 parameters per texel, analytic gradients) under a directional,
# a point and an ambient light; mesh-50k-pbr1024-4x1024 is the GPU target problem.
# The subdivision problems (issue 13): a cube of side x side quads per face on the unit sphere
# (6 side^2 control faces; 18: 1,944) refined 2 levels (62,208 triangles), the four random maps,
# the PBR lights; subdiv-2k-l2-pbr1024-4x1024 is the GPU target problem.
# The volume problems (issue 14): a grid of nodes^3 on [-1, 1]^3 at density 0.5 (optical depth 1
# across: no ray terminates early, the slow case), exact gradients unless "sge";
# volume-256-4x512 is the GPU target problem (67M parameters).
PBR_LIGHTS = [[{"type": "directional", "direction": [0.4, 0.8, 0.5], "intensity": 2.5},
               {"type": "point", "position": [-2.0, 1.0, 2.5], "intensity": 10.0},
               {"type": "ambient", "intensity": 0.2}]]
PASSES = ("sort", "R", "G", "grad", "adam")


def synthetic_target(size: int) -> np.ndarray:
    """A smooth, structured test image (no file needed): gradients, disks, stripes."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    img = np.stack([x, y, 0.5 + 0.5 * np.sin(6.0 * (x + y))], axis=2)
    for cx, cy, r, col in ((0.3, 0.35, 0.18, (0.9, 0.2, 0.1)), (0.68, 0.6, 0.22, (0.1, 0.3, 0.8)),
                           (0.5, 0.8, 0.1, (0.95, 0.9, 0.2))):
        mask = (x - cx) ** 2 + (y - cy) ** 2 < r * r
        img[mask] = col
    return np.clip(img, 0, 1).astype(np.float32)


class PassTimer:
    """Per-pass times in ms. On a GPU: GL timer queries. On a software
    renderer, which defers its work until the next flush, timer queries miss
    the work, so each pass is timed on the wall clock between ctx.finish()."""

    def __init__(self, ctx, wall: bool):
        self.ctx = ctx
        self.wall = wall
        self.queries = {name: ctx.query(time=True) for name in PASSES}
        self.ms = {name: [] for name in PASSES}

    @contextlib.contextmanager
    def __call__(self, name):
        if self.wall:
            self.ctx.finish()
            t0 = time.perf_counter()
            yield
            self.ctx.finish()
            self.ms[name].append(1000.0 * (time.perf_counter() - t0))
        else:
            with self.queries[name]:
                yield
            self.ms[name].append(self.queries[name].elapsed / 1e6)


def _soup_problem(device, name: str, spec: dict, iterations: int, samples: int, **estimator_options) -> Problem:
    res = spec["resolution"]
    job = JobConfig.model_validate({
        "name": name, "target": {"image": "<synthetic>"}, "render": {"resolution": res},
        "scene": {"triangles": spec["triangles"], "init": {"size": spec["size"]}, "resample": spec.get("resample", {})},
        "optimize": {"iterations": iterations, "samples": samples},
    })
    return Problem(job, None, device=device, target=synthetic_target(res), **estimator_options)


def _random_material(m: int, rng):
    from .io.material import PbrMaterial
    normal = np.concatenate([rng.normal(0, 0.2, (m, m, 2)), np.ones((m, m, 1))], axis=2)
    return PbrMaterial(base_color=rng.random((m, m, 3), np.float32), roughness=rng.random((m, m), np.float32),
                       metallic=rng.random((m, m), np.float32),
                       normal=(normal / np.linalg.norm(normal, axis=2, keepdims=True)).astype(np.float32))


def _mesh_problem(device, name: str, spec: dict, iterations: int, samples: int, **estimator_options) -> Problem:
    from .io.meshes import lat_long_sphere
    res, n = spec["resolution"], spec["rows"]
    mesh = lat_long_sphere(n, 2 * n, name="bench_sphere")
    rng = np.random.default_rng(0)
    scene = {"kind": "mesh", "mesh": "<generated>"}
    if "pbr" in spec:
        mesh.material = _random_material(spec["pbr"], rng)
        scene.update(shading={"model": "pbr"}, material={"normal": {}}, lights=PBR_LIGHTS)
    else:
        mesh.texture = rng.random((spec["texture"], spec["texture"], 3)).astype(np.float32)
    return _orbit_problem(device, name, spec, scene, mesh, iterations, samples, **estimator_options)


def _subdiv_problem(device, name: str, spec: dict, iterations: int, samples: int, **estimator_options) -> Problem:
    """A sphere cage; its maps start flat at the map resolution (a cage OBJ carries no maps; the work
    per iteration is the same)."""
    from .scene.subdiv.cage import sphere_cage
    m = spec["pbr"]
    maps = {k: {"resolution": m} for k in ("base_color", "roughness", "metallic", "normal")}
    scene = {"kind": "subdiv", "cage": "<generated>", "levels": spec["levels"], "shading": {"model": "pbr"},
             "material": maps, "lights": PBR_LIGHTS}
    return _orbit_problem(device, name, spec, scene, sphere_cage(spec["side"]), iterations, samples,
                          **estimator_options)


def _volume_problem(device, name: str, spec: dict, iterations: int, samples: int, **estimator_options) -> Problem:
    scene = {"kind": "volume", "resolution": spec["nodes"], "init": {"density": 0.5},
             "gradient": spec.get("gradient", "analytic")}
    return _orbit_problem(device, name, spec, scene, None, iterations, samples, **estimator_options)


def _orbit_problem(device, name, spec, scene, asset, iterations, samples, **estimator_options) -> Problem:
    """The job of an object seen from 2 x views orbit cameras (views per iteration), the synthetic target."""
    from .scene.cameras import orbit_cameras
    from .sge.views import ViewSet
    res = spec["resolution"]
    cams = orbit_cameras(2 * spec["views"], width=res, height=res, fov_y_deg=40.0, distance=3.0)
    target = synthetic_target(res)
    views = ViewSet(view_proj=np.stack([c.view_projection() for c in cams]), eyes=np.stack([c.position for c in cams]),
                    targets=np.repeat(target[None], len(cams), axis=0))
    job = JobConfig.model_validate({
        "name": name, "target": {"image": "<synthetic>"}, "render": {"resolution": res},
        "scene": scene,
        "optimize": {"iterations": iterations, "samples": samples, "views_per_iteration": spec["views"]},
    })
    return Problem(job, None, device=device, asset=asset, views=views, cameras=cams, **estimator_options)


def _splat_problem(device, name: str, spec: dict, iterations: int, samples: int, **estimator_options) -> Problem:
    res, n = spec["resolution"], spec["count"]
    half = 4.0 * math.tan(math.radians(20.0))            # half the view's height at the box (distance 4)
    side = math.sqrt(spec["fragments"] * res * res / n)  # square side in pixels for that coverage
    sigma = max(0.3, (side / 2.0 - 1.0) / 3.0) * 2.0 * half / res
    job = JobConfig.model_validate({
        "name": name, "target": {"image": "<synthetic>"},
        "render": {"resolution": res, "projection": "perspective",
                   "camera": {"position": [0.0, 0.0, 4.0], "look_at": [0.0, 0.0, 0.0], "fov_y": 40.0}},
        "scene": {"kind": "splats", "count": n, "fragments": float(spec["fragments"]),
                  "structure": spec.get("structure", "default"),
                  "init": {"extent": [half, half, 0.2], "scale": sigma, "opacity": 0.5}},
        "optimize": {"iterations": iterations, "samples": samples},
    })
    return Problem(job, None, device=device, target=synthetic_target(res), **estimator_options)


BUILDERS = {"mesh": _mesh_problem, "soup": _soup_problem, "splats": _splat_problem, "subdiv": _subdiv_problem,
            "volume": _volume_problem}


def bench_problem(device, name: str, iterations: int, warmup: int, samples: int, aggregation=None) -> dict:
    spec = PROBLEMS[name]
    build = BUILDERS[spec["kind"]]
    problem = build(device, name, spec, warmup + iterations, samples, aggregate=aggregation)
    job = problem.job
    try:
        est, ctx = problem.estimator, device.ctx
        total = warmup + iterations
        opt = job.optimize
        loop = Loop(est, Plan(total=total, lr_schedule=opt.lr_schedule, lr_final=opt.lr_final), ctx.finish,
                    after_step=est.post_step_hooks)
        loop.run(0, warmup)                       # untimed warm-up
        ctx.finish()
        warm = loop.seconds
        loop.run(warmup, total)                   # timed: steps, then ctx.finish()
        seconds = loop.seconds - warm
        # Per-pass split: a separate, synchronised run with timer queries.
        timer = PassTimer(ctx, wall=device.is_software)
        for i in range(min(iterations, 50)):
            est.step(total + i, 1.0, timer=timer)
        passes = {k: float(np.median(v)) if v else 0.0 for k, v in timer.ms.items()}
        # Raster floor: the perturbed renders alone (clear + one draw of all copies).
        floor = PassTimer(ctx, wall=device.is_software)
        for i in range(20):
            with floor("R"):
                est.render(i, est.copies, clean=False)
        quality = problem.metrics()
    finally:
        problem.release()
    return {
        "problem": name, "triangles": problem.scene.primitives, "resolution": spec["resolution"],
        "views_per_iteration": job.optimize.views_per_iteration, "parameters": problem.scene.layout.size,
        "samples": samples, "iterations": iterations, "seconds": round(seconds, 4),
        "it_per_s": round(iterations / seconds, 2), "ms_per_it": round(1000 * seconds / iterations, 3),
        "pass_ms": {k: round(v, 4) for k, v in passes.items()}, "aggregation": est.aggregation,
        "raster_floor_ms": round(float(np.median(floor.ms["R"])), 4),
        "bytes_per_parameter": round(est.memory["total"] / problem.scene.layout.size, 1),
        "pass_timing": "wall clock between glFinish" if device.is_software else "GL timer queries", "psnr": round(quality["psnr"], 3),
    }


def run_bench(names, iterations: int, warmup: int, samples: int, device_index, atomics: str,
              progress: bool = True, aggregation: str | None = None) -> dict:
    device = create_device(device_index, atomics)
    try:
        info = device.describe()
        results = []
        if progress:
            click.echo(f"device {info['index']}: {info['renderer']} | GL {info['version']} | atomics {info['atomics']}")
            click.echo(f"{'problem':<26}{'params':>10}{'it/s':>10}{'ms/it':>9}" + "".join(f"{p + ' ms':>10}" for p in PASSES)
                       + f"{'R floor':>10}  G aggregation")
        for name in names:
            r = bench_problem(device, name, iterations, warmup, samples, aggregation)
            results.append(r)
            if progress:
                click.echo(f"{name:<26}{r['parameters']:>10}{r['it_per_s']:>10.1f}{r['ms_per_it']:>9.2f}"
                           + "".join(f"{r['pass_ms'][p]:>10.3f}" for p in PASSES) + f"{r['raster_floor_ms']:>10.3f}"
                           + f"  {r['aggregation']}  {r['bytes_per_parameter']} B/param")
    finally:
        device.release()
    return {"device": info, "results": results}
