"""Targets rendered from a reference asset (``target.reference``): the captures' own
supersampling (``target.reference.supersample``) antialiases them without changing the fit's
render settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from diffrast_cli.config import JobConfig
from diffrast_cli.problem import Problem
from tests.test_gradients import released

ROOT = Path(__file__).resolve().parents[1]


def targets(device, reference: dict, supersample: int = 1) -> np.ndarray:
    job = JobConfig.model_validate({
        "name": "ref", "target": {"reference": {"mesh": str(ROOT / "assets" / "textured_blob.obj"), **reference}},
        "cameras": {"orbit": {"count": 2, "fov_y": 40, "distance": 3.2}, "holdout": 0},
        "render": {"resolution": 32, "background": [1.0, 1.0, 1.0], "supersample": supersample},
        "scene": {"kind": "splats", "count": 8}, "optimize": {"iterations": 1}})
    with released(Problem(job, ROOT, device=device)) as problem:
        return problem.views.targets.copy()


def test_reference_captures_are_antialiased_by_their_own_supersampling(device):
    aliased = targets(device, {})
    smooth = targets(device, {"supersample": 4})
    # the same picture ...
    assert np.abs(smooth - aliased).mean() < 0.05
    # ... whose silhouette pixels now mix object and white background
    def mixed(img):
        return int(((img.min(axis=-1) > 0.9) & (img.min(axis=-1) < 0.995)).sum())
    assert mixed(smooth) > mixed(aliased) + 5
    # null follows render.supersample; set, it does not touch the fit's own sampling
    assert np.array_equal(targets(device, {}, supersample=2), targets(device, {"supersample": 2}))
    assert np.array_equal(targets(device, {"supersample": 4}, supersample=2), smooth)


def test_reference_supersample_out_of_range_is_refused():
    with pytest.raises(ValueError, match="supersample"):
        JobConfig.model_validate({"target": {"reference": {"mesh": "r.glb", "supersample": 5}}})
