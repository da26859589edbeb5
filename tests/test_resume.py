"""Checkpoints, resume (bit-identical), interruption of a real child process,
and the non-finite policy."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from diffrast_cli.checkpoint import CHECKPOINT, PREVIOUS, load_checkpoint
from diffrast_cli.config import load_job
from diffrast_cli.errors import ConfigError, NumericalError
from diffrast_cli.pipeline import run_job

ROOT = Path(__file__).resolve().parent.parent
QUICK = ["render.resolution=64", "scene.triangles=200", "output.log_every=10", "output.frames=3"]


def _job(*extra):
    return load_job(ROOT / "configs" / "quickstart.yaml", QUICK + list(extra))


def _final_state(out: Path) -> np.ndarray:
    ckpt, _ = load_checkpoint(out)
    return ckpt.state["params"]


def test_resume_is_bit_identical_to_an_uninterrupted_run(tmp_path):
    job, base = _job("optimize.iterations=120", "output.checkpoint_every=50")
    full = run_job(job, base, tmp_path / "full", quiet=True)
    ckpt, _ = load_checkpoint(tmp_path / "full")
    assert ckpt.iteration == 120                            # a finished run's final checkpoint
    # The same run again; roll it back to its checkpoint of iteration 100 and resume from there.
    part = tmp_path / "part"
    run_job(job, base, part, quiet=True)
    os.replace(part / PREVIOUS, part / CHECKPOINT)
    assert load_checkpoint(part)[0].iteration == 100
    resumed = run_job(job, base, part, quiet=True, resume=True)
    assert resumed["resumed_from"] == 100 and resumed["iterations"] == 120
    assert np.array_equal(_final_state(tmp_path / "full"), _final_state(part))
    assert resumed["final"] == full["final"]


def test_resume_with_a_changed_job_is_refused_unless_forced(tmp_path):
    job, base = _job("optimize.iterations=20")
    run_job(job, base, tmp_path / "run", quiet=True)
    changed, _ = _job("optimize.iterations=30", "seed=4")
    with pytest.raises(ConfigError) as err:
        run_job(changed, base, tmp_path / "run", quiet=True, resume=True)
    assert "optimize.iterations (20 -> 30)" in str(err.value) and "seed (0 -> 4)" in str(err.value)
    report = run_job(changed, base, tmp_path / "run", quiet=True, resume=True, force=True)
    assert report["resumed_from"] == 20 and report["iterations"] == 30


def test_resume_without_checkpoint_and_with_a_damaged_one(tmp_path):
    job, base = _job("optimize.iterations=20", "output.checkpoint_every=10")
    with pytest.raises(ConfigError, match="no such run folder"):
        run_job(job, base, tmp_path / "nothing", quiet=True, resume=True)
    run_job(job, base, tmp_path / "run", quiet=True)
    (tmp_path / "run" / CHECKPOINT).write_bytes(b"garbage")
    ckpt, path = load_checkpoint(tmp_path / "run")            # falls back to the previous one
    assert path.name == PREVIOUS and ckpt.iteration == 10
    (tmp_path / "run" / PREVIOUS).write_bytes(b"garbage too")
    with pytest.raises(ConfigError, match="no usable checkpoint"):
        load_checkpoint(tmp_path / "run")


def _env():
    return dict(os.environ, PYTHONUNBUFFERED="1",
                PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))


def _spawn(args, cwd):
    env = _env()
    return subprocess.Popen([sys.executable, "-m", "diffrast_cli", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_checkpoint(path: Path, proc, timeout=60.0):
    t0 = time.time()
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.time() - t0 < timeout, "no checkpoint appeared"
        time.sleep(0.05)


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_after_the_iteration_with_checkpoint_and_resume_hint(tmp_path, sig, code):
    out = tmp_path / "run"
    args = ["optimize", str(ROOT / "configs" / "quickstart.yaml"), "--out", str(out), "--quiet"]
    sets = [f"--set={s}" for s in QUICK + ["optimize.iterations=100000", "output.checkpoint_every=20"]]
    proc = _spawn(args + sets, tmp_path)
    _wait_for_checkpoint(out / CHECKPOINT, proc)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr
    assert "--resume" in stderr and str(out) in stderr
    report = json.loads((out / "report.json").read_text())
    assert report["interrupted"] == signal.Signals(sig).name
    ckpt, _ = load_checkpoint(out)
    assert ckpt.iteration == report["iterations"] < 100000
    for name in ("final.png", "comparison.png", "curve.png", "soup.ply"):
        assert (out / name).is_file()


def test_killed_child_resumes_to_the_same_result(tmp_path):
    """SIGKILL a real run mid-way (no chance to clean up), resume it, and compare with
    an uninterrupted run of the same job."""
    sets = QUICK + ["optimize.iterations=200", "output.checkpoint_every=20"]
    out = tmp_path / "killed"
    args = ["optimize", str(ROOT / "configs" / "quickstart.yaml"), "--out", str(out), "--quiet"]
    proc = _spawn(args + [f"--set={s}" for s in sets], tmp_path)
    _wait_for_checkpoint(out / PREVIOUS, proc)               # at least two checkpoints written
    proc.kill()
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    ckpt, _ = load_checkpoint(out)
    assert 0 < ckpt.iteration < 200
    # The same command plus --resume (its --out names the same folder: allowed).
    resumed = subprocess.run([sys.executable, "-m", "diffrast_cli", *args, "--resume", str(out)]
                             + [f"--set={s}" for s in sets], cwd=tmp_path, env=_env(), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    job, base = _job(*sets[len(QUICK):])
    full = run_job(job, base, tmp_path / "full", quiet=True)
    report = json.loads((out / "report.json").read_text())
    assert report["resumed_from"] == ckpt.iteration
    assert report["final"] == full["final"]
    assert np.array_equal(_final_state(out), _final_state(tmp_path / "full"))


def _poison_colors_at(monkeypatch, at_iteration: int):
    """Make a colour parameter NaN before ``at_iteration`` (as a bug or bad data would)."""
    from diffrast_cli.sge.estimator import Estimator
    step = Estimator.step

    def poisoned(self, iteration, *args, **kwargs):
        if iteration == at_iteration:
            theta = self.download()
            theta[self.layout.slice("colors").start] = np.nan
            self.params.write(theta.tobytes())
        return step(self, iteration, *args, **kwargs)

    monkeypatch.setattr(Estimator, "step", poisoned)


def test_nonfinite_values_stop_with_group_and_iteration(tmp_path, monkeypatch):
    _poison_colors_at(monkeypatch, 25)
    job, base = _job("optimize.iterations=60", "output.checkpoint_every=20")
    with pytest.raises(NumericalError) as err:
        run_job(job, base, tmp_path / "nan", quiet=True)
    msg = str(err.value)
    assert "parameter" in msg and "colors" in msg and "iteration 25" in msg and "iteration 20)" in msg, msg
    ckpt, _ = load_checkpoint(tmp_path / "nan")                # the last good one is kept
    assert ckpt.iteration == 20 and np.isfinite(ckpt.state["params"]).all()


def _poison_gradient_at(monkeypatch, at_iteration: int):
    """Make one colour gradient infinite at ``at_iteration`` (what a too-small eps or a bad pixel does)."""
    from diffrast_cli.sge.estimator import Estimator
    estimate = Estimator.estimate

    def poisoned(self, iteration, *args, **kwargs):
        estimate(self, iteration, *args, **kwargs)
        if iteration == at_iteration:
            grad = self.gradient()
            grad[self.layout.slice("colors").start + 1] = np.inf
            self.grad.write(grad.tobytes())

    monkeypatch.setattr(Estimator, "estimate", poisoned)


def test_nonfinite_gradient_stops_naming_the_group(tmp_path, monkeypatch):
    _poison_gradient_at(monkeypatch, 7)
    job, base = _job("optimize.iterations=30")
    with pytest.raises(NumericalError, match=r"non-finite gradient in group colors at iteration 7; "
                                             r"stopped: no checkpoint was written yet"):
        run_job(job, base, tmp_path / "inf", quiet=True)


def test_nonfinite_gradients_can_be_skipped(tmp_path, monkeypatch):
    _poison_gradient_at(monkeypatch, 5)
    job, base = _job("optimize.iterations=30", "optimize.on_nonfinite=skip")
    report = run_job(job, base, tmp_path / "skip", quiet=True)
    assert report["flags"]["nonfinite"] is True
    assert np.isfinite(report["final"]["psnr"])
    assert np.isfinite(_final_state(tmp_path / "skip")).all()


def test_degenerate_triangles_and_zero_area_uv_charts_give_no_nonfinite(tmp_path):
    """Zero-area triangles (repeated vertices, collinear ones) and triangles whose three
    UVs coincide must not produce NaNs in G, the gradient, the Laplacian or Adam."""
    from diffrast_cli.gl.context import create_device
    from tests.mesh_scenes import grid_mesh, mesh_problem
    from tests.scenes import gradient_target
    mesh = grid_mesh(n=4)
    f = mesh.faces
    extra_faces = np.array([[0, 0, 1], [0, 1, 2]], np.int32)          # repeated index; collinear row
    mesh.faces = np.concatenate([f, extra_faces])
    mesh.uvs = np.concatenate([mesh.uvs, np.zeros((2, 3, 2), np.float32)])
    mesh.uvs[0] = 0.25                                                 # a zero-area UV chart
    dev = create_device()
    try:
        for normals in ("face", "smooth"):
            problem = mesh_problem(dev, tmp_path, mesh, gradient_target(32, 32), extra={
                "scene.shading.normals": normals, "scene.laplacian.weight": 1.0,
                "scene.laplacian.weights": "cotangent"})
            try:
                for i in range(20):
                    problem.estimator.step(i)
                flags = problem.estimator.flags()
                assert not flags["nonfinite"], flags
                assert np.isfinite(problem.estimator.download()).all()
            finally:
                problem.release()
    finally:
        dev.release()


def test_same_job_same_numbers(tmp_path):
    """Fixed-point atomics (the default) make a run reproducible on its device."""
    job, base = _job("optimize.iterations=40")
    a = run_job(job, base, tmp_path / "a", quiet=True)
    b = run_job(job, base, tmp_path / "b", quiet=True)
    assert a["device"]["atomics"] == "fixed"
    assert a["final"] == b["final"] and a["initial"] == b["initial"]
    assert (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()[-1].split('"elapsed_s"')[0] == \
        (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()[-1].split('"elapsed_s"')[0]
    assert (tmp_path / "a" / "soup.ply").read_bytes() == (tmp_path / "b" / "soup.ply").read_bytes()


def test_resume_usage_errors(run_cli, tmp_path):
    job = str(ROOT / "configs" / "quickstart.yaml")
    code, _, err = run_cli("optimize", job, "--resume", str(tmp_path / "a"), "--out", str(tmp_path / "b"))
    assert code == 2 and "--resume" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli("optimize", job, "--force", "--out", str(tmp_path / "b"))
    assert code == 2 and "--force" in err
    code, _, err = run_cli("optimize", job, "--resume", str(tmp_path / "missing"))
    assert code == 2 and "no such run folder" in err and "Traceback" not in err


def test_atomics_environment_variable_sets_what_auto_means(monkeypatch):
    from diffrast_cli.gl.context import FLOAT_ATOMICS_EXT, create_device
    probe = create_device(atomics="fixed")
    have_float = FLOAT_ATOMICS_EXT in probe.extensions
    probe.release()
    monkeypatch.setenv("DIFFRAST_ATOMICS", "float")
    if not have_float:          # a driver without float atomics: auto=float is a clear error
        with pytest.raises(Exception, match="float"):
            create_device(atomics="auto")
        return
    dev = create_device(atomics="auto")
    assert dev.atomics == "float"
    dev.release()
    dev = create_device(atomics="fixed")     # an explicit choice wins
    assert dev.atomics == "fixed"
    dev.release()
