"""Mesh jobs converge on assets the project makes: texture recovery on held-out
views, a sphere deformed into a target shape, and a transforms.json target."""

import json

import pytest


from diffrast_cli.jobfile import load_job
from diffrast_cli.pipeline import run_job
from diffrast_cli.scene.cameras import save_transforms
from diffrast_cli.io.pictures import save_png
from pathlib import Path

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def _run(tmp_path, config, *overrides):
    job, base = load_job(CONFIGS / config, list(overrides))
    return run_job(job, base, tmp_path / "out", quiet=True)


def test_texture_recovery_on_held_out_views(tmp_path):
    report = _run(tmp_path, "texture_recovery.yaml", "render.resolution=128", "optimize.iterations=300",
                  "cameras.orbit.count=20", "cameras.holdout=4", "output.frames=0")
    assert report["views"]["holdout"] == 4
    assert report["initial"]["psnr"] < 25.0
    assert report["final"]["holdout_psnr"] >= 30.0, report["final"]
    for name in ("mesh.obj", "mesh.mtl", "mesh.png", "mesh.glb"):
        assert (tmp_path / "out" / name).is_file()


def test_mesh_shape_lowers_chamfer_five_fold(tmp_path):
    report = _run(tmp_path, "mesh_shape.yaml", "render.resolution=96", "optimize.iterations=400",
                  "scene.icosphere.subdivisions=2", "output.frames=0")
    c0, c1 = report["initial"]["chamfer"], report["final"]["chamfer"]
    assert c1 * 5 <= c0, (c0, c1)
    assert report["final"]["psnr"] > report["initial"]["psnr"] + 8


def test_transforms_json_target(tmp_path):
    """Render a reference to images + transforms.json, then fit a blank texture to them."""
    src = _run(tmp_path, "texture_recovery.yaml", "render.resolution=64", "optimize.iterations=1",
               "cameras.orbit.count=8", "cameras.holdout=0", "output.frames=0")
    assert src["views"]["cameras"] == 8
    # Rebuild the reference views through the public pieces: cameras + rendered targets.
    from diffrast_cli.problem import Problem
    job, base = load_job(CONFIGS / "texture_recovery.yaml", ["render.resolution=64", "cameras.orbit.count=8"])
    problem = Problem(job, base)
    try:
        names = []
        for i, img in enumerate(problem.views.targets):
            names.append(f"r_{i}")
            save_png(tmp_path / f"r_{i}.png", img)
        save_transforms(tmp_path / "transforms.json", problem.cams, names)
    finally:
        problem.release()
    data = json.loads((tmp_path / "transforms.json").read_text())
    assert len(data["frames"]) == 8
    job_file = tmp_path / "nerf.yaml"
    job_file.write_text(
        f"name: nerf\ntarget: {{transforms: transforms.json}}\ncameras: {{holdout: 2}}\n"
        f"render: {{resolution: 64, background: [1, 1, 1]}}\n"
        f"scene: {{kind: mesh, mesh: {(CONFIGS.parent / 'assets' / 'textured_blob.obj').as_posix()}, "
        f"positions: {{optimize: false}}, texture: {{init: [0.5, 0.5, 0.5]}}}}\n"
        f"optimize: {{iterations: 250, views_per_iteration: 2}}\noutput: {{frames: 0}}\n")
    job, base = load_job(job_file)
    report = run_job(job, base, tmp_path / "nerf_out", quiet=True)
    assert report["views"] == {"cameras": 8, "train": 6, "holdout": 2, "per_iteration": 2}
    # 6 training views at 64^2 cover the texture only partly: the seen views fit
    # closely, held-out ones gain less.
    assert report["final"]["train_psnr"] > report["initial"]["psnr"] + 10, report
    assert report["final"]["holdout_psnr"] > report["initial"]["psnr"] + 2, report


@pytest.mark.slow
def test_bake_lowers_chamfer_and_raises_held_out_psnr(tmp_path):
    """bake_lowpoly's recipe, small (96 px, 128^2 texture, 16 views, 300 iterations): geometry
    (with the config's Laplacian) until 200, then a warm restart for the texture alone. The
    dense reference's Chamfer falls and held-out PSNR rises (~20 s on 2 shared CPU cores; the
    Chamfer and the reference set-up are a good part of it)."""
    report = _run(tmp_path, "bake_lowpoly.yaml", "render.resolution=96", "scene.texture.resolution=128",
                  "cameras.orbit.count=16", "cameras.holdout=2", "optimize.iterations=300",
                  "scene.positions.stop=200", "optimize.restarts=[200]", "scene.positions.lr=0.002",
                  "output.frames=0", "output.checkpoint_every=0")
    c0, c1 = report["initial"]["chamfer"], report["final"]["chamfer"]
    assert c1 < 0.85 * c0, (c0, c1)
    first = json.loads((tmp_path / "out" / "metrics.jsonl").read_text().splitlines()[0])
    assert report["final"]["holdout_psnr"] > first["holdout_psnr"] + 1.5, (first, report["final"])
