#!/usr/bin/env python3
"""Fit random 3D Gaussians to one image with gsplat (mirrors gsplat's examples/image_fitting.py).

Setting (as in the example): one pinhole camera, fov_x 90 deg, focal = W/2, principal point at the
centre, world-to-camera = translate z by +8; N means uniform in [-1,1]^3 (so depth 7..9), raw scales
U[0,1) (no exp activation), random unit quats, rgb and opacity logits through sigmoid (opacity
logits start at 1), Adam lr 0.01 on all five tensors, MSE on RGB, packed=False, black background.
--init fill widens the box in x/y to cover the whole view (x,y in [-8,8]) instead.

A comparison tool only (diffrast needs neither torch nor CUDA): the reference figures for
configs/splats_image.yaml at 512^2 (README, "Results"; docs/design.md, "Splats against gsplat").
Usage on a CUDA GPU with torch and gsplat (`pip install gsplat`; it compiles its CUDA code on first
use, ~70 s on an H200 with TORCH_CUDA_ARCH_LIST=9.0):
    python tools/gsplat_image_fit.py --image assets/portrait.png --size 512 --iterations 2000 \
        --count 100000 --init fill --out gsplat_512.json

Timing: the whole loop is timed with torch.cuda.synchronize(); steady-state it/s is measured from
iteration --steady-from (default 100) to the end. No per-iteration host syncs (the example prints
loss.item() every iteration; we do not).
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
from PIL import Image

import gsplat
from gsplat import rasterization


def load_image(path, size):
    img = Image.open(path).convert("RGB")
    if img.size != (size, size):
        img = img.resize((size, size), Image.LANCZOS)
    return torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0)  # [H, W, 3]


def init_gaussians(n, init, dev):
    bd = 2.0
    means = bd * (torch.rand(n, 3, device=dev) - 0.5)
    if init == "fill":  # cover the 90 deg view at depth 8: |x|,|y| <= 8
        means[:, :2] *= 8.0
    scales = torch.rand(n, 3, device=dev)
    rgbs = torch.rand(n, 3, device=dev)
    u, v, w = torch.rand(3, n, 1, device=dev)
    quats = torch.cat(
        [
            torch.sqrt(1.0 - u) * torch.sin(2.0 * math.pi * v),
            torch.sqrt(1.0 - u) * torch.cos(2.0 * math.pi * v),
            torch.sqrt(u) * torch.sin(2.0 * math.pi * w),
            torch.sqrt(u) * torch.cos(2.0 * math.pi * w),
        ],
        -1,
    )
    opacities = torch.ones(n, device=dev)
    params = [rgbs, means, scales, opacities, quats]
    for p in params:
        p.requires_grad_(True)
    return params


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image", required=True)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--iterations", type=int, default=1000)
    ap.add_argument("--count", type=int, default=100000)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steady-from", type=int, default=100)
    ap.add_argument("--init", choices=["example", "fill"], default="example")
    ap.add_argument("--out", required=True, help="JSON path; the final render is saved beside it as .png")
    a = ap.parse_args()

    dev = torch.device("cuda:0")
    torch.manual_seed(a.seed)
    gt = load_image(a.image, a.size).to(dev)
    H, W = gt.shape[:2]
    focal = 0.5 * W / math.tan(0.5 * (math.pi / 2.0))
    K = torch.tensor([[focal, 0, W / 2], [0, focal, H / 2], [0, 0, 1]], dtype=torch.float32, device=dev)
    viewmat = torch.eye(4, device=dev)
    viewmat[2, 3] = 8.0

    rgbs, means, scales, opacities, quats = params = init_gaussians(a.count, a.init, dev)
    opt = torch.optim.Adam(params, lr=a.lr)

    def render():
        out, _, _ = rasterization(
            means, quats / quats.norm(dim=-1, keepdim=True), scales,
            torch.sigmoid(opacities), torch.sigmoid(rgbs),
            viewmat[None], K[None], W, H, packed=False,
        )
        return out[0]  # [H, W, 3]

    steady_from = min(a.steady_from, max(a.iterations - 1, 0))
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    t0 = t_steady = time.perf_counter()
    for it in range(a.iterations):
        if it == steady_from:
            torch.cuda.synchronize()
            t_steady = time.perf_counter()
        loss = torch.nn.functional.mse_loss(render(), gt)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    torch.cuda.synchronize()
    t1 = time.perf_counter()

    with torch.no_grad():
        img = render().clamp(0.0, 1.0)
        mse = torch.mean((img - gt) ** 2).item()
    psnr = 10.0 * math.log10(1.0 / max(mse, 1e-12))

    out_dir = os.path.dirname(os.path.abspath(a.out))
    os.makedirs(out_dir, exist_ok=True)
    png = os.path.splitext(os.path.abspath(a.out))[0] + ".png"
    Image.fromarray((img.cpu().numpy() * 255.0 + 0.5).astype(np.uint8)).save(png)

    n_steady = a.iterations - steady_from
    res = {
        "impl": "gsplat",
        "gsplat_version": gsplat.__version__,
        "torch_version": torch.__version__,
        "device": torch.cuda.get_device_name(dev),
        "image": a.image,
        "size": a.size,
        "count": a.count,
        "iterations": a.iterations,
        "lr": a.lr,
        "seed": a.seed,
        "init": a.init,
        "total_s": t1 - t0,
        "it_per_s": a.iterations / (t1 - t0),
        "steady_from": steady_from,
        "steady_it_per_s": n_steady / (t1 - t_steady) if n_steady > 0 else None,
        "final_loss_last_iter": loss.item(),
        "final_mse": mse,
        "psnr": psnr,
        "peak_mem_mib": torch.cuda.max_memory_allocated(dev) / 2**20,
        "render_png": png,
    }
    with open(a.out, "w") as f:
        json.dump(res, f, indent=2)
    print(
        f"gsplat {gsplat.__version__} {a.size}^2 N={a.count} it={a.iterations} init={a.init}: "
        f"PSNR {psnr:.2f} dB, {res['it_per_s']:.1f} it/s total, "
        f"{res['steady_it_per_s'] or float('nan'):.1f} it/s steady ({steady_from}..end), "
        f"{res['total_s']:.2f} s, peak {res['peak_mem_mib']:.0f} MiB"
    )


if __name__ == "__main__":
    main()
