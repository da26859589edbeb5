"""Coarse-to-fine volumes (scene.grow, issue 14): the run rebuilds the grid at each step's
resolution and carries parameters and Adam's moments over by trilinear resampling
(SceneKind.stages / carry_over, pipeline._Run.next_stage); a checkpoint taken at a growth
step resumes to the same result; schedules past the run's end are one-line errors."""

import os
from pathlib import Path

import numpy as np
import pytest

from diffrast_cli.checkpoint import CHECKPOINT, PREVIOUS, load_checkpoint
from diffrast_cli.errors import ConfigError
from diffrast_cli.jobfile import load_job
from diffrast_cli.pipeline import run_job
from diffrast_cli.scene.volume.grid import GridSpec
from diffrast_cli.scene.volume.kind import VoxelVolume
from diffrast_cli.scene.volume.config import VolumeConfig

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["render.resolution=24", "cameras.orbit.count=5", "cameras.holdout=1", "scene.resolution=4",
         "output.log_every=2", "output.checkpoint_every=4", "optimize.iterations=8",
         "scene.grow=[{iteration: 4, resolution: 7}]"]


def _job(*extra):
    return load_job(ROOT / "configs" / "volume_smoke.yaml", SMALL + list(extra))


def test_carry_over_resamples_parameters_and_moments():
    """A field linear in space (log density, colour, m, v) is resampled exactly by the
    trilinear weights; values outside a group's bounds are clipped, v stays >= 0."""
    coarse = VoxelVolume(VolumeConfig(resolution=3), np.eye(4)[None])
    fine = VoxelVolume(VolumeConfig(resolution=5), np.eye(4)[None])
    pos = coarse.spec.node_positions()                      # (27, 3) world, x fastest
    fpos = fine.spec.node_positions()
    lin = lambda p, a: a[0] + p @ np.array(a[1:])            # noqa: E731
    params = np.concatenate([lin(pos, (0.5, 1.0, -0.5, 0.25)),
                             np.stack([lin(pos, (0.5, 0.1 * c, 0.2, -0.1)) for c in range(3)], 1).ravel()])
    m = np.linspace(-1, 1, params.size)
    v = np.abs(np.linspace(0.1, 2, params.size))
    moments = np.stack([m, v], 1).ravel()
    p2, mo2 = fine.carry_over(coarse, params.astype(np.float32), moments.astype(np.float32))
    assert p2.shape == (fine.layout.size,) and mo2.shape == (2 * fine.layout.size,)
    dens = fine.layout.slice("density")
    assert np.allclose(p2[dens], lin(fpos, (0.5, 1.0, -0.5, 0.25)), atol=1e-5)
    col = p2[fine.layout.slice("color")].reshape(-1, 3)
    want = np.clip(np.stack([lin(fpos, (0.5, 0.1 * c, 0.2, -0.1)) for c in range(3)], 1), 0, 1)
    assert np.allclose(col, want, atol=1e-5)
    mo2 = mo2.reshape(-1, 2)
    # the fine grid's corner nodes are the coarse grid's corner nodes: moments copied there
    assert np.isclose(mo2[0, 0], m[0]) and np.isclose(mo2[0, 1], v[0])
    assert (mo2[:, 1] >= 0).all() and mo2[:, 1].max() <= v.max() + 1e-6


def test_grown_run_resumes_from_the_growth_step_to_the_same_result(tmp_path):
    job, base = _job()
    full = run_job(job, base, tmp_path / "full", quiet=True)
    assert full["parameters"] == 4 * 7 ** 3 and full["iterations"] == 8
    ckpt, _ = load_checkpoint(tmp_path / "full")
    assert ckpt.state["params"].size == 4 * 7 ** 3
    rows = [r["iteration"] for r in ckpt.records]
    assert 4 in rows                                           # a log line at the growth step
    with np.load(tmp_path / "full" / "volume.npz") as grid:
        assert grid["density"].shape == (7, 7, 7)
    # roll a second run back to its checkpoint of iteration 4 (taken before the grid grew)
    part = tmp_path / "part"
    run_job(job, base, part, quiet=True)
    os.replace(part / PREVIOUS, part / CHECKPOINT)
    back, _ = load_checkpoint(part)
    assert back.iteration == 4 and back.state["params"].size == 4 * 4 ** 3
    resumed = run_job(job, base, part, quiet=True, resume=True)
    assert resumed["resumed_from"] == 4 and resumed["parameters"] == 4 * 7 ** 3
    ckpt2, _ = load_checkpoint(part)
    assert np.array_equal(ckpt.state["params"], ckpt2.state["params"])
    assert np.array_equal(ckpt.state["moments"], ckpt2.state["moments"])


def test_growth_past_the_end_is_a_one_line_error(tmp_path):
    job, base = _job("scene.grow=[{iteration: 8, resolution: 7}]")
    with pytest.raises(ConfigError, match=r"scene.grow: iteration 8 is not before the run's end"):
        run_job(job, base, tmp_path / "run", quiet=True)
    assert not (tmp_path / "run").exists()
