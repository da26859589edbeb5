"""The suite's outputs (``diffrast suite --out DIR``): suite.json (every run with its curve and
the summary), suite.md (the tables) and one convergence plot per task, <task>.png: the primary
score of each method against the iteration, averaged over the instances. Drawn with pillow."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ..io.atomic import atomic_write_bytes

COLORS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
          (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]


def mean_curves(runs: list, task: str, metric: str) -> dict:
    """method -> (iterations, mean of ``metric`` over the task's instances)."""
    out = {}
    for method in dict.fromkeys(r["method"] for r in runs if r["task"] == task):
        curves = [r["curve"] for r in runs if r["task"] == task and r["method"] == method]
        its = [c["iteration"] for c in curves[0]]
        out[method] = (its, np.mean([[c[metric] for c in curve] for curve in curves], axis=0))
    return out


def plot_curves(curves: dict, title: str, metric: str, size=(640, 400)) -> Image.Image:
    w, h = size
    left, right, top, bottom = 56, 150, 28, 36
    img = Image.new("RGB", size, "white")
    d = ImageDraw.Draw(img)
    xs = [x for its, _ in curves.values() for x in its]
    ys = [float(y) for _, v in curves.values() for y in v]
    x0, x1 = min(xs), max(max(xs), min(xs) + 1)
    y0, y1 = min(ys), max(ys)
    if y1 - y0 < 1e-9:
        y0, y1 = y0 - 0.5, y1 + 0.5

    def at(x, y):
        return (left + (x - x0) / (x1 - x0) * (w - left - right), h - bottom - (y - y0) / (y1 - y0) * (h - top - bottom))

    d.rectangle([left, top, w - right, h - bottom], outline=(0, 0, 0))
    for k in range(5):
        y = y0 + k / 4 * (y1 - y0)
        px = at(x0, y)
        d.line([px, (px[0] - 4, px[1])], fill=(0, 0, 0))
        d.text((4, px[1] - 6), f"{y:.3g}", fill=(0, 0, 0))
        x = x0 + k / 4 * (x1 - x0)
        px = at(x, y0)
        d.text((px[0] - 8, h - bottom + 6), f"{x:.0f}", fill=(0, 0, 0))
    d.text((left, 8), f"{title}: {metric} (mean over instances) vs iteration", fill=(0, 0, 0))
    for i, (method, (its, values)) in enumerate(curves.items()):
        color = COLORS[i % len(COLORS)]
        d.line([at(x, float(y)) for x, y in zip(its, values)], fill=color, width=2)
        ly = top + 6 + 16 * i
        d.line([(w - right + 8, ly + 6), (w - right + 28, ly + 6)], fill=color, width=3)
        d.text((w - right + 32, ly), method, fill=(0, 0, 0))
    return img


def write_outputs(result: dict, table: str, out_dir) -> list:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [atomic_write_bytes(out / "suite.json", (json.dumps(result, indent=2) + "\n").encode()),
             atomic_write_bytes(out / "suite.md", (table + "\n").encode())]
    for s in {s["task"]: s for s in result["summary"]}.values():
        img = plot_curves(mean_curves(result["runs"], s["task"], s["metric"]), s["task"], s["metric"])
        path = out / f"{s['task']}.png"
        img.save(path)
        paths.append(path)
    return paths
