"""diffrast's texture-recovery benchmark (configs/texture_benchmark.yaml) run with nvdiffrast
(exact gradients, CUDA), so diffrast's figures can be compared on the same task.

Same mesh, UVs, texture and cameras as diffrast (loaded/built with diffrast's own code:
diffrast_cli.io.meshes.load_mesh, diffrast_cli.scene.cameras.orbit_cameras/split_holdout with the
job's arguments), same shading: base = bilinear texture (wrap, no mipmaps), smooth area-weighted
vertex normals of the clean mesh, two-sided Lambert with the job's light direction and ambient,
white background. nvdiffrast's image row 0 is the bottom (OpenGL), diffrast's is the top: images are
flipped only where they are compared with diffrast. Targets: nvdiffrast renders (with antialias) of
the true 512^2 texture. Optimisation: Adam on a grey texture, 2 random training views per
iteration, L2 (mean squared error) loss, texture clamped to [0, 1] after each step (diffrast's
bounds), the full pipeline (rasterize, interpolate, texture, shade, antialias) run every iteration.

Usage (a CUDA GPU with torch and nvdiffrast installed, e.g. `pip install --no-build-isolation
nvdiffrast` from its source): python tools/nvdiffrast_texture_benchmark.py --out DIR [--check-diffrast].
A comparison tool only: diffrast itself needs neither torch nor CUDA. Measured figures:
docs/design.md, "Texture quality (issue 9)".
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from diffrast_cli.api.jobs import load_job                      # noqa: E402
from diffrast_cli.io import meshes                              # noqa: E402
from diffrast_cli.scene.cameras import orbit_cameras, split_holdout  # noqa: E402

import nvdiffrast.torch as dr                                   # noqa: E402

CONFIG = ROOT / "configs" / "texture_benchmark.yaml"
DEV = torch.device("cuda")


def psnr(mse: float) -> float:
    return float("inf") if mse <= 0 else 10.0 * math.log10(1.0 / mse)


class Bench:
    def __init__(self, resolution: int, glctx):
        job = load_job(str(CONFIG), {"render.resolution": resolution})
        self.job = job
        o, c = job.cameras.orbit, job.cameras
        self.cams = orbit_cameras(o.count, width=resolution, height=resolution, fov_y_deg=o.fov_y,
                                  distance=o.distance, center=o.center, hemisphere=o.hemisphere,
                                  jitter=o.jitter, seed=job.seed, near=c.near, far=c.far)
        self.train, self.held = split_holdout(self.cams, c.holdout)
        self.res = resolution
        self.glctx = glctx
        mesh = meshes.load_mesh(str(ROOT / "assets" / "benchmark_blob.obj"))
        P = mesh.positions.astype(np.float64)
        F = mesh.faces.astype(np.int64)
        fn = np.cross(P[F[:, 1]] - P[F[:, 0]], P[F[:, 2]] - P[F[:, 0]])   # area-weighted, as vertex_normals.comp
        N = np.zeros_like(P)
        for k in range(3):
            np.add.at(N, F[:, k], fn)
        N /= np.maximum(np.linalg.norm(N, axis=1, keepdims=True), 1e-30)
        f32 = lambda a: torch.tensor(np.ascontiguousarray(a), dtype=torch.float32, device=DEV)
        self.pos = f32(P)
        self.tri = torch.tensor(F, dtype=torch.int32, device=DEV)
        self.tri_first = torch.tensor(F[:, 0], dtype=torch.int64, device=DEV)
        self.normals = f32(N)
        uv = mesh.uvs.reshape(-1, 2).astype(np.float64).copy()
        uv[:, 1] = 1.0 - uv[:, 1]          # diffrast: row 0 of the texture = top of the image = v 1
        self.uv = f32(uv)
        self.uv_tri = torch.arange(3 * len(F), dtype=torch.int32, device=DEV).reshape(-1, 3)
        self.true_tex = f32(mesh.texture)[None]            # [1, 512, 512, 3], rows top-first
        vp = np.stack([cam.view_projection() for cam in self.cams])  # row-major, clip = VP @ [p, 1]
        ph = torch.cat([self.pos, torch.ones_like(self.pos[:, :1])], 1)
        self.clip = torch.einsum("vj,nij->nvi", ph, f32(vp)).contiguous()   # [40, V, 4]
        self.eyes = f32(np.stack([cam.position for cam in self.cams]))
        sh = job.scene.shading
        light = np.asarray(sh.light_dir, np.float64)
        self.light = f32(light / np.linalg.norm(light))
        self.ambient = float(sh.ambient)
        self.background = f32(np.asarray(job.render.background, np.float64))

    def render(self, tex: torch.Tensor, views, antialias: bool = True) -> torch.Tensor:
        """[B, H, W, 3] images (row 0 = bottom, nvdiffrast's order) of `views` with texture `tex` [1, h, w, 3]."""
        views = torch.as_tensor(views, dtype=torch.int64, device=DEV)
        clip = self.clip[views].contiguous()
        B = clip.shape[0]
        rast, _ = dr.rasterize(self.glctx, clip, self.tri, (self.res, self.res))
        uv, _ = dr.interpolate(self.uv[None].expand(B, -1, -1).contiguous(), rast, self.uv_tri)
        base = dr.texture(tex, uv, filter_mode="linear", boundary_mode="wrap")
        n, _ = dr.interpolate(self.normals[None].expand(B, -1, -1).contiguous(), rast, self.tri)
        n = torch.nn.functional.normalize(n + torch.tensor([0.0, 0.0, 1e-20], device=DEV), dim=-1)
        tid = rast[..., 3].long()
        hit = tid > 0
        p0 = self.pos[self.tri_first[(tid - 1).clamp(min=0)]]            # the triangle's first vertex
        facing = ((self.eyes[views][:, None, None, :] - p0) * n).sum(-1, keepdim=True)
        n = torch.where(facing < 0, -n, n)                              # two-sided
        shade = self.ambient + (1.0 - self.ambient) * (n * self.light).sum(-1, keepdim=True).clamp(min=0.0)
        color = torch.where(hit[..., None], base * shade, self.background.expand_as(base))
        if antialias:
            color = dr.antialias(color.contiguous(), rast, clip, self.tri)
        return color

    @torch.no_grad()
    def targets(self) -> torch.Tensor:
        return torch.cat([self.render(self.true_tex, [v]) for v in range(len(self.cams))])

    @torch.no_grad()
    def scores(self, tex, targets) -> dict:
        mse = torch.stack([((self.render(tex, [v]) - targets[v:v + 1]) ** 2).mean() for v in range(len(self.cams))])
        mse = mse.cpu().numpy()
        return {"holdout_psnr": psnr(float(mse[self.held].mean())), "train_psnr": psnr(float(mse[self.train].mean())),
                "all_psnr": psnr(float(mse.mean()))}


def optimise(b: Bench, targets, tex_res: int, lr: float, schedule: str, iterations: int, per_iter: int,
             seed: int) -> dict:
    tex = torch.full((1, tex_res, tex_res, 3), 0.5, device=DEV, requires_grad=True)
    opt = torch.optim.Adam([tex], lr=lr, betas=(0.9, 0.999), eps=1e-8)
    g = torch.Generator().manual_seed(seed)
    train = torch.tensor(b.train)
    picks = torch.stack([train[torch.randperm(len(train), generator=g)[:per_iter]] for _ in range(iterations)])
    picks = picks.to(DEV)
    factor = lambda i: (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(i / max(iterations - 1, 1), 1.0)))
                        if schedule == "cosine" else 1.0)
    # warm-up (kernels, allocator) on a throwaway texture, not counted
    warm = tex.detach().clone().requires_grad_(True)
    for _ in range(3):
        ((b.render(warm, picks[0]) - targets[picks[0]]) ** 2).mean().backward()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for i in range(iterations):
        for group in opt.param_groups:
            group["lr"] = lr * factor(i)
        v = picks[i]
        loss = ((b.render(tex, v) - targets[v]) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            tex.clamp_(0.0, 1.0)
    torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    out = {"tex_res": tex_res, "lr": lr, "schedule": schedule, "iterations": iterations,
           "it_per_s": iterations / dt, "seconds": dt, "final_loss": float(loss.detach())}
    out.update(b.scores(tex.detach(), targets))
    return out


def check_against_diffrast(b: Bench, view: int) -> dict:
    """nvdiffrast's reference render of `view` vs diffrast's (diffrast: supersample 1, no AA)."""
    from diffrast_cli.api.run import render
    job = load_job(str(CONFIG), {"render.resolution": b.res, "scene.texture.init": "asset",
                                 "scene.texture.resolution": None})
    t0 = time.perf_counter()
    ref = render(job, view=view)
    t_d = time.perf_counter() - t0
    out = {"view": view, "resolution": b.res, "diffrast_render_s": t_d}
    with torch.no_grad():
        for aa in (False, True):
            img = torch.flip(b.render(b.true_tex, [view], antialias=aa)[0], dims=[0]).cpu().numpy()
            mse = float(np.mean((img - ref) ** 2))
            d = np.abs(img - ref).max(-1)
            out["psnr_aa" if aa else "psnr_noaa"] = psnr(mse)
            out[("max_abs_aa" if aa else "max_abs_noaa")] = float(d.max())
            out[("frac_px_diff_gt_0.01_aa" if aa else "frac_px_diff_gt_0.01_noaa")] = float((d > 0.01).mean())
            # no row flip: should be much worse if the flip convention were wrong
            if not aa:
                raw = b.render(b.true_tex, [view], antialias=False)[0].cpu().numpy()
                out["psnr_noaa_without_flip"] = psnr(float(np.mean((raw - ref) ** 2)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    ap.add_argument("--variants", default="256:512,512:1024", help="render:texture resolutions")
    ap.add_argument("--runs", default="0.01:constant,0.03:constant,0.01:cosine,0.02:cosine,0.03:cosine")
    ap.add_argument("--iterations", type=int, default=None)
    ap.add_argument("--check-diffrast", action="store_true")
    ap.add_argument("--check-views", default="5,22")
    a = ap.parse_args()
    out_dir = Path(a.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    glctx = dr.RasterizeCudaContext()
    results = {"tool": "nvdiffrast " + getattr(dr, "__version__", getattr(sys.modules["nvdiffrast"], "__version__", "?")),
               "torch": torch.__version__, "gpu": torch.cuda.get_device_name(0), "variants": [], "checks": []}

    def save():
        (out_dir / "nvdiffrast_texture_benchmark.json").write_text(json.dumps(results, indent=2) + "\n")

    for spec in a.variants.split(","):
        r, t = (int(x) for x in spec.split(":"))
        b = Bench(r, glctx)
        job = b.job
        iters = a.iterations or job.optimize.iterations
        if a.check_diffrast:
            for v in (int(x) for x in a.check_views.split(",")):
                try:
                    c = check_against_diffrast(b, v)
                except Exception as exc:     # report and go on: the benchmark itself does not need diffrast's GL
                    c = {"view": v, "resolution": r, "error": f"{type(exc).__name__}: {exc}"}
                results["checks"].append(c)
                print(json.dumps(c), flush=True)
                save()
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        targets = b.targets()
        torch.cuda.synchronize()
        var = {"render_res": r, "tex_res": t, "views": len(b.cams), "holdout_views": b.held,
               "targets_s": time.perf_counter() - t0, "runs": []}
        results["variants"].append(var)
        for run in a.runs.split(","):
            lr, sched = run.split(":")
            res = optimise(b, targets, t, float(lr), sched, iters, job.optimize.views_per_iteration, job.seed)
            var["runs"].append(res)
            print(json.dumps({"render_res": r, **res}), flush=True)
            save()
    save()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
