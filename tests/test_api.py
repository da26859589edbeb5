"""The Python API (``import diffrast``): the README's example script as it is, load_job with
overrides, in-memory runs, array targets against file targets, the callback, render."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

try:
    import diffrast
except ImportError:       # an editable install made before pyproject mapped `diffrast`: the same package
    import diffrast_cli.api as diffrast

from diffrast_cli.checkpoint import job_dict
from diffrast_cli.jobfile import load_job as load_job_file
from diffrast_cli.pipeline import run_job
from tests.conftest import write_target

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "docs" / "api_example.py"


def test_the_readme_example_script_runs(tmp_path):
    """docs/api_example.py, the script the README shows, run as a user runs it."""
    readme = (ROOT / "README.md").read_text()
    assert EXAMPLE.read_text().strip() in readme                     # the README shows this very file
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    probe = subprocess.run([sys.executable, "-c", "import diffrast"], cwd=tmp_path, env=env, capture_output=True)
    if probe.returncode != 0:   # a dev install that predates the mapping: a one-line alias, as pip install . gives
        (tmp_path / "shim").mkdir()
        (tmp_path / "shim" / "diffrast.py").write_text(
            "import sys, diffrast_cli.api as api\nsys.modules[__name__] = api\n")
        env["PYTHONPATH"] += os.pathsep + str(tmp_path / "shim")
    proc = subprocess.run([sys.executable, str(EXAMPLE)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "stopped by the callback at iteration 200" in out and "render at iteration 100: (64, 64, 3)" in out
    assert "wrote checkpoint.npz, comparison.png" in out and "refused: " in out and "holds a run already" in out
    assert sorted(os.listdir(tmp_path)) == sorted(["shim"] if probe.returncode else [])   # nothing left behind


def test_diffrast_is_the_api_package():
    import diffrast_cli.api as api
    assert diffrast.optimize is api.optimize and diffrast.Result is api.Result
    from diffrast_cli.errors import ConfigError, DiffrastError
    assert diffrast.ConfigError is ConfigError and issubclass(diffrast.OutputError, DiffrastError)


def test_load_job_from_a_file_a_mapping_and_a_job(tmp_path, job_file, monkeypatch):
    job = diffrast.load_job(job_file, ["seed=3", "optimize.iterations=7"])
    same, _ = load_job_file(job_file, ["seed=3", "optimize.iterations=7"])
    assert job_dict(job) == job_dict(same)
    assert diffrast.load_job(job_file, {"seed": 3, "optimize.iterations": 7}) == job
    monkeypatch.chdir(tmp_path)                                        # mapping paths: from the working dir
    mapped = diffrast.load_job({"target": {"image": "target.png"}, "scene": {"triangles": 50}},
                               {"render.resolution": [32, 24]})
    assert mapped.target.image == str(tmp_path / "target.png") and mapped.render.resolution == (32, 24)
    assert diffrast.load_job(mapped, ["seed=1"]).seed == 1
    assert diffrast.load_job({}).target.image == "<array>"


@pytest.mark.parametrize("source,overrides,message", [
    ("file", ["optimize.itrations=5"], "--set optimize.itrations: unknown key (did you mean 'iterations'?)"),
    ("file", {"name": ".."}, "--set name: '..' cannot name the output folder runs/<name>"),
    ("dict", None, "<dict>: optimize.samples: Input should be greater than or equal to 1, got 0"),
])
def test_load_job_errors_are_the_command_lines_one_liners(job_file, source, overrides, message):
    src = job_file if source == "file" else {"optimize": {"samples": 0}}
    with pytest.raises(diffrast.ConfigError) as err:
        diffrast.load_job(src, overrides)
    assert str(err.value) == message


def test_an_in_memory_run_with_an_array_target_equals_the_file_run(tmp_path, job_file, monkeypatch):
    """out=None writes nothing; the target given as the PNG's pixels gives the numbers of the file run."""
    write_target(tmp_path / "t.png", 40, 30, seed=2)
    job = diffrast.load_job(job_file, [f"target.image={tmp_path / 't.png'}", "optimize.iterations=12",
                                       "output.log_every=4"])
    by_file = run_job(job, tmp_path, tmp_path / "run", quiet=True)
    monkeypatch.chdir(tmp_path)
    before = sorted(os.listdir(tmp_path))
    pixels = np.asarray(Image.open(tmp_path / "t.png"))                # uint8, HxWx3
    steps = []
    result = diffrast.optimize(job, targets=pixels, callback=steps.append)
    assert sorted(os.listdir(tmp_path)) == before and result.out is None
    assert result.report["final"] == by_file["final"] and result.report["initial"] == by_file["initial"]
    assert result.report["outputs"] == [] and result.report["out_dir"] is None
    assert [s.iteration for s in steps] == [0, 4, 8, 12]
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [(s.loss, s.psnr) for s in steps] == [(r["loss"], r["psnr"]) for r in rows]
    with pytest.raises(RuntimeError, match="only available during the callback"):
        steps[-1].image()
    theta = np.load(tmp_path / "run" / "checkpoint.npz")["state_params"]
    assert np.array_equal(result.theta, theta)
    assert set(result.parameters) == {"positions", "depths", "colors"}
    assert np.array_equal(result.parameters["colors"].ravel(), theta[-3 * 50:])     # colours: the last group
    assert result.parameters["positions"].shape == (50, 6)


def test_the_callback_stops_the_run_and_sees_the_clean_render(job_file):
    job = diffrast.load_job(job_file, ["optimize.iterations=40", "output.log_every=5", "output.frames=0"])
    seen = {}

    def callback(step):
        if step.iteration == 10:
            seen["image"] = step.image()
            seen["again"] = step.image()
        if step.iteration == 15:
            raise StopIteration

    result = diffrast.optimize(job, callback=callback)
    assert result.report["iterations"] == 15 and result.report["interrupted"] == "callback"
    assert seen["image"] is seen["again"] and seen["image"].shape == (32, 32, 3)
    assert seen["image"].dtype == np.float32
    stopped = diffrast.optimize(job, callback=lambda step: step.iteration < 10)
    assert stopped.report["iterations"] == 10
    # the render of iteration 10 is the final render of a run stopped there
    assert np.array_equal(diffrast.render(stopped), seen["image"])


def test_render_of_a_job_is_its_initial_state_and_views_are_checked(job_file):
    job = diffrast.load_job(job_file, ["optimize.iterations=5"])
    start = diffrast.render(job)
    result = diffrast.optimize(job)
    assert start.shape == (32, 32, 3) and not np.array_equal(start, diffrast.render(result))
    with pytest.raises(diffrast.ConfigError, match=r"view: 1 is not a camera of this job \(0..0\)"):
        diffrast.render(job, view=1)


def test_array_targets_are_checked(job_file):
    job = diffrast.load_job(job_file)
    with pytest.raises(diffrast.InputError, match=r"targets: expected an HxWx3 or HxWx4 image, got shape \(4, 4, 2\)"):
        diffrast.optimize(job, targets=np.zeros((4, 4, 2)))
    with pytest.raises(diffrast.ConfigError, match=r'target.image: "<array>" needs targets='):
        diffrast.optimize(diffrast.load_job({}))
    # RGBA is composited on the background and resized like a file to render.resolution
    rgba = np.zeros((64, 64, 4), np.float32)
    rgba[..., 0] = rgba[..., 3] = 1.0
    img = diffrast.render(diffrast.load_job({"render": {"resolution": 16, "background": [0, 0, 1]}}), targets=rgba)
    assert img.shape == (16, 16, 3)
