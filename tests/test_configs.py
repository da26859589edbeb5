"""Every shipped job in configs/ validates and runs two iterations."""

import json
from pathlib import Path

import pytest

from diffrast_cli.config import load_job
from diffrast_cli.pipeline import run_job

CONFIGS = sorted((Path(__file__).resolve().parent.parent / "configs").glob("*.yaml"))


def test_there_are_configs():
    names = {p.stem for p in CONFIGS}
    assert {"quickstart", "soup_100k", "soup_full_image", "texture_recovery", "mesh_shape", "bake_lowpoly"} <= names


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_config_runs_two_iterations(path, tmp_path):
    job, base = load_job(path, ["optimize.iterations=2", "output.log_every=1", "output.frames=2"])
    report = run_job(job, base, tmp_path / "out", quiet=True, config_path=path)
    assert report["iterations"] == 2
    saved = json.loads((tmp_path / "out" / "report.json").read_text())
    assert saved["final"]["psnr"] == pytest.approx(report["final"]["psnr"])
    if job.scene.kind == "soup":
        assert saved["parameters"] == 12 * job.scene.triangles
        assets = ("soup.ply", "soup.obj")
    else:
        assert saved["parameters"] > 0
        assets = ("mesh.obj", "mesh.glb")
    for name in ("final.png", "comparison.png", "progress.png", "progress.gif", "curve.png",
                 "metrics.jsonl", "job.yaml") + assets:
        assert (tmp_path / "out" / name).is_file(), name
    lines = (tmp_path / "out" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(ln)["iteration"] for ln in lines] == [0, 1, 2]


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_validate_every_config(path, run_cli):
    code, out, err = run_cli("validate", path)
    assert code == 0, err
    assert out.startswith(f"{path}: ok") and "iterations" in out
