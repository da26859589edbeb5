"""Benchmark the deep id buffer: fixed k-buffer vs per-sample linked lists.

For each problem T@R (T semi-transparent triangles, R x R pixels per copy, one
antithetic pair = 2 tiled copies, so the target is 2R x R samples) and each
average depth complexity D (fragments per sample; triangle size calibrated
from the lists' node counter), builds both structures with the test kind of
the harness tests/kinds/deep_tris and times, per iteration:

  clear    -- emptying the structure (compute pass)
  raster   -- R: the k-buffer's two raster passes, or the lists' one
  resolve  -- the G-shaped pass: gather, sort, composite front to back with
              early termination, de-duplicated contributors of both copies

with GL timer queries on a hardware renderer and wall clock + glFinish on a
CPU renderer (llvmpipe executes at flush; its timer queries time nothing
useful). Medians over --reps iterations after --warmup. Needs moderngl and
numpy only (run from the repository root):

  python tools/bench_deep_ids.py                       # CPU-sized defaults
  python tools/bench_deep_ids.py --gpu --json out.json # 2K@256 and 100K@1024, D 8 and 32, K 8/16/32/64
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from diffrast_cli.errors import DiffrastError  # noqa: E402
from diffrast_cli.gl.context import create_device  # noqa: E402
from diffrast_cli.sge import deep_ids as D  # noqa: E402
from tests.kinds.deep_tris import DeepTriangles  # noqa: E402


def make_tris(count: int, size_px: float, res: int, alpha: tuple[float, float], order: str, seed: int):
    """Near-equilateral triangles of about size_px^2 * sqrt(3)/4 pixels, random
    centres over the view, random depth and orientation."""
    rng = np.random.default_rng(seed)
    r = size_px / np.sqrt(3) * 2.0 / res  # circumradius in NDC
    centre = rng.uniform(-1.0, 1.0, (count, 2))
    phase = rng.uniform(0, 2 * np.pi, count)
    tris = np.zeros((count, 4, 4), np.float32)
    for j in range(3):
        ang = phase + j * 2 * np.pi / 3 + rng.uniform(-0.25, 0.25, count)
        rad = r * rng.uniform(0.8, 1.2, count)
        tris[:, j, 0] = centre[:, 0] + rad * np.cos(ang)
        tris[:, j, 1] = centre[:, 1] + rad * np.sin(ang)
    z = rng.uniform(-0.9, 0.9, count)
    tris[:, :3, 2] = (z[:, None] + rng.uniform(-0.05, 0.05, (count, 3))).clip(-0.99, 0.99)
    tris[:, 3, :3] = rng.uniform(0, 1, (count, 3))
    tris[:, 3, 3] = rng.uniform(*alpha, count)
    if order == "front":
        tris = tris[np.argsort(tris[:, :3, 2].mean(1))]
    elif order == "back":
        tris = tris[np.argsort(-tris[:, :3, 2].mean(1))]
    return tris


def measured_depth(dev, tris, res) -> float:
    """Mean fragments per sample: the lists' counter counts every fragment even
    past the budget, so a 1-node pool suffices."""
    deep = D.LinkedLists(dev, (2 * res, res), 1, budget=1)
    scene = DeepTriangles(dev, deep, tris, (res, res), 2, 1, copies=2, shift=(0.5 / res, 0.0))
    try:
        scene.build()
        return deep.needed() / deep.samples
    finally:
        scene.release()
        deep.release()


def calibrated_tris(dev, count, res, depth, alpha, order, seed):
    size = np.sqrt(depth * res * res / count / (np.sqrt(3) / 4))
    for _ in range(3):
        tris = make_tris(count, size, res, alpha, order, seed)
        got = measured_depth(dev, tris, res)
        if abs(got / depth - 1) < 0.03:
            break
        size *= np.sqrt(depth / max(got, 1e-6))
    return tris, got


class Timer:
    def __init__(self, dev):
        self.ctx = dev.ctx
        self.gpu = not dev.is_software
        self.query = self.ctx.query(time=True) if self.gpu else None

    def __call__(self, fn) -> float:
        """Milliseconds fn's GL work takes."""
        if self.gpu:
            with self.query:
                fn()
            self.ctx.finish()
            return self.query.elapsed / 1e6
        self.ctx.finish()
        t0 = time.perf_counter()
        fn()
        self.ctx.finish()
        return (time.perf_counter() - t0) * 1e3


def bench_one(dev, kind, k, tris, res, budget_nodes, reps, warmup, max_contrib):
    deep = (D.KBuffer(dev, (2 * res, res), k) if kind == "kbuffer"
            else D.LinkedLists(dev, (2 * res, res), k, budget=budget_nodes))
    scene = DeepTriangles(dev, deep, tris, (res, res), 2, 1, copies=2, shift=(0.5 / res, 0.0),
                          max_contrib=max_contrib)
    scene.build()  # binds the buffers and sets the raster state once
    timer = Timer(dev)
    times = {"clear": [], "raster": [], "resolve": []}
    try:
        for it in range(warmup + reps):
            t_clear = timer(deep.clear)
            t_raster = timer(lambda: deep.draw(scene.program, scene.draw))  # every raster pass
            t_resolve = timer(scene.resolve)
            if it >= warmup:
                times["clear"].append(t_clear)
                times["raster"].append(t_raster)
                times["resolve"].append(t_resolve)
        header, _ = scene.read_contrib()
        colors = scene.read_colors().copy()
        row = {k_: statistics.median(v) for k_, v in times.items()}
        row["total"] = row["clear"] + row["raster"] + row["resolve"]
        row["contributors_per_pixel"] = float((header[..., 0] & 0x7FFFFFFF).mean())
        row["contributor_list_full"] = int((header[..., 0] >> 31).sum())
        row["bytes_per_sample"] = float(deep.bytes_per_sample)
        row["megabytes"] = deep.bytes_per_sample * deep.samples / 2**20
        if kind == "lists":
            row["nodes_needed"] = deep.needed()
            row["overflow"] = deep.overflowed()
            row["fragments_beyond_k"] = float(header[..., 2].mean() / 2)
        return row, colors
    finally:
        scene.release()
        deep.release()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--problems", default="2000@128,2000@256",
                    help="comma-separated T@R: T triangles, R x R pixels per copy")
    ap.add_argument("--depths", default="8,32", help="average fragments per sample")
    ap.add_argument("--k", default="8,32", help="K values (k-buffer slots; lists composite the K nearest)")
    ap.add_argument("--kinds", default="kbuffer,lists")
    ap.add_argument("--alpha", default="0.05,0.35", help="opacity range low,high")
    ap.add_argument("--order", default="random", choices=["random", "front", "back"],
                    help="draw order of the triangles")
    ap.add_argument("--list-slack", type=float, default=1.1, help="node budget = slack x fragments")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--gpu", action="store_true",
                    help="GPU preset: 2000@256,100000@1024, depths 8,32, K 8,16,32,64, 20 reps")
    ap.add_argument("--device", default=None, help="EGL device index")
    ap.add_argument("--json", default=None, help="write the rows to this file")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.gpu:
        args.problems, args.k, args.reps, args.warmup = "2000@256,100000@1024", "8,16,32,64", 20, 3

    dev = create_device(args.device)
    info = {"renderer": dev.renderer, "version": dev.version, "timing": "gl timer query" if not dev.is_software
            else "wall clock + glFinish"}
    print(f"# {dev.renderer} | {dev.version} | timing: {info['timing']}")
    alpha = tuple(float(x) for x in args.alpha.split(","))
    rows = []
    hdr = (f"{'problem':>12} {'D':>4} {'D meas':>6} {'kind':>8} {'K':>3} {'B/sample':>8} {'MB':>7} "
           f"{'clear':>7} {'raster':>8} {'resolve':>8} {'total':>8} {'contrib':>7} {'note'}")
    print(hdr)
    for prob in args.problems.split(","):
        count, res = (int(x) for x in prob.split("@"))
        for depth in (float(x) for x in args.depths.split(",")):
            tris, got = calibrated_tris(dev, count, res, depth, alpha, args.order, args.seed)
            fragments = got * 2 * res * res
            for k in (int(x) for x in args.k.split(",")):
                ref_colors = None
                for kind in args.kinds.split(","):
                    row = {"problem": prob, "triangles": count, "resolution": res, "depth_target": depth,
                           "depth_measured": round(got, 2), "kind": kind, "k": k, "order": args.order}
                    try:
                        r, colors = bench_one(dev, kind, k, tris, res, int(args.list_slack * fragments) + 1024,
                                              args.reps, args.warmup, 2 * k)
                        row.update(r)
                        if ref_colors is None:
                            ref_colors = colors
                        else:
                            row["max_colour_diff_vs_first_kind"] = float(np.abs(colors - ref_colors).max())
                    except DiffrastError as exc:
                        row["skipped"] = str(exc)
                    rows.append(row)
                    if "skipped" in row:
                        print(f"{prob:>12} {depth:>4.0f} {got:>6.1f} {kind:>8} {k:>3} skipped: {row['skipped']}")
                        continue
                    note = []
                    if row.get("overflow"):
                        note.append("OVERFLOW")
                    if "max_colour_diff_vs_first_kind" in row:
                        note.append(f"dcol={row['max_colour_diff_vs_first_kind']:.1e}")
                    print(f"{prob:>12} {depth:>4.0f} {got:>6.1f} {kind:>8} {k:>3} {row['bytes_per_sample']:>8.0f} "
                          f"{row['megabytes']:>7.1f} {row['clear']:>7.2f} {row['raster']:>8.2f} "
                          f"{row['resolve']:>8.2f} {row['total']:>8.2f} {row['contributors_per_pixel']:>7.1f} "
                          f"{' '.join(note)}", flush=True)
    print("# times in ms per iteration (medians); contrib: distinct contributors per pixel (both copies)")
    if args.json:
        Path(args.json).write_text(json.dumps({"device": info, "args": vars(args), "rows": rows}, indent=1))
    dev.release()


if __name__ == "__main__":
    main()
