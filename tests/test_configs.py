"""Every shipped job in configs/ validates and runs two iterations."""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from diffrast_cli.jobfile import load_job, resolve_path
from diffrast_cli.io.meshes import load_mesh
from diffrast_cli.pipeline import run_job
from diffrast_cli.scene.subdiv.cage import load_cage

CONFIGS = sorted((Path(__file__).resolve().parent.parent / "configs").glob("*.yaml"))


def test_there_are_configs():
    names = {p.stem for p in CONFIGS}
    assert {"quickstart", "soup_100k", "soup_full_image", "texture_recovery", "mesh_shape", "bake_lowpoly"} <= names


def _job_triangles(job, base: Path) -> int:
    if job.scene.kind == "soup":
        return job.scene.triangles
    if job.scene.icosphere is not None:
        return 20 * 4 ** job.scene.icosphere.subdivisions
    return len(load_mesh(resolve_path(base, job.scene.mesh)).faces)


# groups a config starts late (optimize.iterations=2 would leave them never optimised: refused)
LATE_GROUPS = {"subdiv_pbr": ["scene.material.height.start=1"]}


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_config_runs_two_iterations(path, tmp_path):
    job, base = load_job(path, ["optimize.iterations=2", "output.log_every=1", "output.frames=2"]
                         + LATE_GROUPS.get(path.stem, []))
    out = tmp_path / "out"
    report = run_job(job, base, out, quiet=True, config_path=path)
    assert report["iterations"] == 2 and report["job"] == path.stem == job.name
    saved = json.loads((out / "report.json").read_text())
    primitives = {"splats": "splats", "volume": "box_triangles"}.get(job.scene.kind, "triangles")
    for key in ("iterations", "parameters", primitives, "resolution", "seed", "estimator"):
        assert saved[key] == report[key], key
    assert saved["final"]["psnr"] == pytest.approx(report["final"]["psnr"])
    if job.scene.kind == "splats":
        assert saved["splats"] == job.scene.count
        per_splat = 14 + 3 * ((job.scene.sh_degree + 1) ** 2 - 1)
        assert saved["parameters"] == per_splat * job.scene.count
        assets = ("splats.ply",)
        assert f"element vertex {job.scene.count}\n".encode() in (out / "splats.ply").read_bytes()[:2000]
    elif job.scene.kind == "soup":
        assert saved["triangles"] == _job_triangles(job, base)
        per_triangle = 13 if job.scene.opacity.enabled else 12      # + the opacity logit (scene.opacity)
        assert saved["parameters"] == per_triangle * job.scene.triangles
        assets = ("soup.ply", "soup.obj")
        assert f"element face {job.scene.triangles}\n".encode() in (out / "soup.ply").read_bytes()[:1000]
    elif job.scene.kind == "volume":
        nx, ny, nz = job.scene.sides
        assert saved["parameters"] == 4 * nx * ny * nz
        with np.load(out / "volume.npz") as grid:
            assert grid["density"].shape == (nz, ny, nx)
        assets = ("volume.npz",)          # (volume.glb only once the grid has a surface)
    elif job.scene.kind == "subdiv":
        cage = load_cage(resolve_path(base, job.scene.cage))
        assert saved["triangles"] == 2 * 4 ** job.scene.levels * len(cage.faces)       # (a quad cage)
        assert load_cage(out / "cage.obj").faces == cage.faces
        assert len(load_mesh(out / "refined.glb").faces) == saved["triangles"]
        assets = ("cage.obj", "cage.mtl", "refined.glb")
    else:
        assert saved["triangles"] == _job_triangles(job, base)
        exported = load_mesh(out / "mesh.obj")                  # the optimised mesh loads back, same size
        assert len(exported.faces) == saved["triangles"]
        assert saved["parameters"] >= 3 * len(exported.positions) * job.scene.positions.optimize
        assets = ("mesh.obj", "mesh.glb")
    names = ("final.png", "comparison.png", "progress.png", "progress.gif", "curve.png", "metrics.jsonl",
             "job.yaml") + assets
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert set(names) <= set(saved["outputs"]) and sorted(saved["outputs"]) == files
    with Image.open(out / "final.png") as img:
        assert list(img.size) == saved["resolution"]
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(ln)["iteration"] for ln in lines] == [0, 1, 2]
    assert load_job(out / "job.yaml")[0] == job                   # the written job is the job that ran


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_validate_every_config(path, run_cli):
    code, out, err = run_cli("validate", path)
    assert code == 0, err
    job, _ = load_job(path)
    assert out.startswith(f"{path}: ok ({job.name}: ") and out.endswith(f", {job.optimize.iterations} iterations)\n")
    kind = job.scene.kind
    said = {"soup": "soup", "splats": f"{getattr(job.scene, 'count', 0)} splats", "subdiv": "cage",
            "volume": "nodes"}.get(kind, "mesh")
    assert said in out and err == ""
