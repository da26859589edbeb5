"""Small scenes and targets the GL tests build (made here, no files needed)."""

from __future__ import annotations

import numpy as np

from diffrast_cli.config import JobConfig
from diffrast_cli.problem import Problem


def gradient_target(w: int, h: int) -> np.ndarray:
    """A smooth target: the loss is smooth in colours and area-like in positions."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.stack([x / w, y / h, 0.3 + 0.4 * (x + y) / (w + h)], axis=2).astype(np.float32)


def shapes_target(size: int) -> np.ndarray:
    """Flat shapes on a two-tone background: something a soup can fit well."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    img = np.zeros((size, size, 3), np.float32)
    img[:] = (0.15, 0.2, 0.35)
    img[y > 0.6] = (0.35, 0.3, 0.15)
    img[(x - 0.35) ** 2 + (y - 0.4) ** 2 < 0.04] = (0.9, 0.3, 0.2)
    img[(np.abs(x - 0.7) < 0.15) & (np.abs(y - 0.35) < 0.2)] = (0.2, 0.8, 0.3)
    img[(y > 0.7) & (y < 0.9) & (np.abs(x - 0.5) < (0.9 - y))] = (0.95, 0.9, 0.4)
    return img


def make_problem(device, target, *, triangles=8, seed=0, samples=1, estimator="per_pixel",
                 supersample=1, extra=None, **estimator_options) -> Problem:
    h, w = target.shape[:2]
    cfg = {
        "name": "test", "seed": seed, "target": {"image": "<memory>"},
        "render": {"resolution": [w, h], "supersample": supersample},
        "scene": {"triangles": triangles},
        "optimize": {"samples": samples, "estimator": estimator},
    }
    set_dotted(cfg, extra)
    return Problem(JobConfig.model_validate(cfg), None, device=device, target=target, **estimator_options)


def set_dotted(cfg: dict, values: dict | None) -> dict:
    """Set {"a.b.c": v} entries into a nested job mapping."""
    for key, value in (values or {}).items():
        node = cfg
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return cfg
