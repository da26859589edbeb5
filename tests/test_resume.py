"""Checkpoints, resume (bit-identical), interruption of a real child process,
and the non-finite policy."""

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from diffrast_cli.checkpoint import CHECKPOINT, PREVIOUS, load_checkpoint
from diffrast_cli.jobfile import load_job
from diffrast_cli.errors import ConfigError, NumericalError, OutputError
from diffrast_cli.pipeline import run_job

ROOT = Path(__file__).resolve().parent.parent
QUICK = ["render.resolution=64", "scene.triangles=200", "output.log_every=10", "output.frames=3"]


def _job(*extra):
    return load_job(ROOT / "configs" / "quickstart.yaml", QUICK + list(extra))


def _final_state(out: Path) -> np.ndarray:
    ckpt, _ = load_checkpoint(out)
    return ckpt.state["params"]


def _metrics(out: Path) -> list[dict]:
    """metrics.jsonl without the timings."""
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k != "elapsed_s"} for r in rows]


def test_resume_is_bit_identical_to_an_uninterrupted_run(tmp_path, steps):
    job, base = _job("optimize.iterations=30", "output.checkpoint_every=10")
    full = run_job(job, base, tmp_path / "full", quiet=True)
    full_steps = list(steps)
    assert [i for i, _ in full_steps] == list(range(30))
    ckpt, _ = load_checkpoint(tmp_path / "full")
    assert ckpt.iteration == 30                             # a finished run's final checkpoint
    # The same run again; roll it back to its checkpoint of iteration 20 and resume from there.
    part = tmp_path / "part"
    run_job(job, base, part, quiet=True)
    os.replace(part / PREVIOUS, part / CHECKPOINT)
    ckpt, _ = load_checkpoint(part)
    assert ckpt.iteration == 20 and [r["iteration"] for r in ckpt.records] == [0, 10, 15, 20]
    steps.clear()
    resumed = run_job(job, base, part, quiet=True, resume=True)
    # it continues with iteration 20 (not 0, not 21) and the same learning rates
    assert steps == full_steps[20:]
    assert resumed["resumed_from"] == 20 and resumed["iterations"] == 30
    assert json.loads((part / "report.json").read_text())["resumed_from"] == 20
    # metrics.jsonl: the checkpoint's lines, then the new ones, each iteration once, as in the full run
    rows = _metrics(part)
    assert [r["iteration"] for r in rows] == [0, 10, 15, 20, 30]
    assert rows == _metrics(tmp_path / "full")
    assert rows[len(ckpt.records)]["iteration"] > ckpt.iteration
    assert np.array_equal(_final_state(tmp_path / "full"), _final_state(part))
    assert resumed["final"] == full["final"] and resumed["initial"] == full["initial"]
    with Image.open(part / "progress.gif") as im:            # frames 0 and 15 from the checkpoint, 30 new
        assert im.n_frames == 3


@pytest.mark.parametrize("restart", [15, 20], ids=["before the checkpoint", "at the checkpoint"])
def test_resume_with_group_windows_and_warm_restarts_is_bit_identical(tmp_path, restart):
    """A group starting late, one stopping early and a warm restart: the group table, Adam's
    step origin and (restart at the resumed iteration) the cleared moments come back as in an
    uninterrupted run."""
    job, base = _job("optimize.iterations=30", "output.checkpoint_every=10", "scene.colors.start=5",
                     "scene.positions.stop=25", f"optimize.restarts=[{restart}]")
    full = run_job(job, base, tmp_path / "full", quiet=True)
    part = tmp_path / "part"
    run_job(job, base, part, quiet=True)
    os.replace(part / PREVIOUS, part / CHECKPOINT)
    assert load_checkpoint(part)[0].iteration == 20
    resumed = run_job(job, base, part, quiet=True, resume=True)
    assert np.array_equal(_final_state(tmp_path / "full"), _final_state(part))
    assert resumed["final"] == full["final"] and _metrics(part) == _metrics(tmp_path / "full")


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
    its = [r["iteration"] for r in _metrics(out)]
    assert its[-1] == report["iterations"] and its == sorted(set(its))
    for name in ("final.png", "comparison.png", "curve.png", "soup.ply"):
        assert (out / name).is_file()


class _Exited(BaseException):
    """What the patched os._exit raises instead of ending the test process."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code


def _stop_handler():
    handler = signal.getsignal(signal.SIGINT)
    return getattr(handler, "__self__", None)


@pytest.mark.parametrize("second", ["during the iteration", "during the checkpoint"])
def test_a_second_ctrl_c_exits_at_once_keeping_the_last_checkpoint(tmp_path, monkeypatch, second):
    """README: the first Ctrl-C stops after the iteration (checkpoint + outputs); a second one exits
    at once (130) and the last checkpoint stays intact. Signals are sent to this process; os._exit
    is replaced by an exception so that the test survives it."""
    from diffrast_cli.sge.estimator import Estimator
    exits = []

    def fake_exit(code):
        exits.append(code)
        raise _Exited(code)

    monkeypatch.setattr(os, "_exit", fake_exit)
    step = Estimator.step

    def interrupted(self, iteration, *args, **kwargs):
        step(self, iteration, *args, **kwargs)
        if iteration == 25:
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(10_000_000):          # let the handler run (it records the first signal)
                if _stop_handler().received is not None:
                    break
            assert _stop_handler().received == signal.SIGINT and not exits
            if second == "during the iteration":
                os.kill(os.getpid(), signal.SIGINT)
                for _ in range(10_000_000):
                    if exits:
                        break

    real_write = Path.write_bytes

    def write_bytes(self, data):
        if second == "during the checkpoint" and self.name.startswith(f"..{CHECKPOINT}.new."):
            h = _stop_handler()
            if h is not None and h.received is not None:   # the checkpoint of the graceful stop
                real_write(self, bytes(memoryview(data)[: len(data) // 2]))
                os.kill(os.getpid(), signal.SIGINT)
                for _ in range(10_000_000):
                    if exits:
                        break
        return real_write(self, data)

    monkeypatch.setattr(Estimator, "step", interrupted)
    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    job, base = _job("optimize.iterations=100", "output.checkpoint_every=10")
    out = tmp_path / "run"
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(_Exited):
        run_job(job, base, out, quiet=True)
    assert exits == [130]
    # nothing of a graceful stop: no report, no pictures; the checkpoint of iteration 20 is whole
    assert not (out / "report.json").exists() and not (out / "final.png").exists()
    ckpt, path = load_checkpoint(out)
    assert path.name == CHECKPOINT and ckpt.iteration == 20
    assert load_checkpoint(out)[0].state["params"].shape == _final_state(out).shape
    assert signal.getsignal(signal.SIGINT) is before                          # handlers restored
    monkeypatch.undo()
    report = run_job(job, base, out, quiet=True, resume=True)
    assert report["resumed_from"] == 20 and report["iterations"] == 100


def _fail_checkpoint_write(monkeypatch, nth: int, how: str):
    """The ``nth`` checkpoint write fails half way through writing its temporary file."""
    real_write = Path.write_bytes
    seen = []

    def write_bytes(self, data):
        if self.name.startswith(f"..{CHECKPOINT}.new."):
            seen.append(self)
            if len(seen) == nth:
                real_write(self, bytes(memoryview(data)[: len(data) // 2]))
                if how == "disk full":
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                raise RuntimeError("simulated crash while writing")
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)


@pytest.mark.parametrize("how", ["disk full", "crash"])
def test_a_checkpoint_write_failing_half_way_keeps_the_previous_checkpoint(tmp_path, monkeypatch, how):
    job, base = _job("optimize.iterations=40", "output.checkpoint_every=10")
    out = tmp_path / "run"
    _fail_checkpoint_write(monkeypatch, nth=3, how=how)          # the one of iteration 30
    with pytest.raises(OutputError if how == "disk full" else RuntimeError) as err:
        run_job(job, base, out, quiet=True)
    if how == "disk full":
        assert "disk full" in str(err.value) and CHECKPOINT in str(err.value)
    assert [n for n in os.listdir(out) if n.startswith(".")] == []      # no partial file left
    ckpt, path = load_checkpoint(out)
    assert path.name == CHECKPOINT and ckpt.iteration == 20
    assert load_checkpoint(out)[0].iteration == 20 and _read_file(out / PREVIOUS).iteration == 10


def _read_file(path):
    from diffrast_cli.checkpoint import _read
    return _read(path)


def test_a_checkpoint_rename_failing_keeps_a_usable_checkpoint(tmp_path, monkeypatch):
    """The new checkpoint is complete but cannot be moved into place (after the old one became
    checkpoint.prev.npz): the run stops with an OutputError and the folder still resumes."""
    import diffrast_cli.checkpoint as C
    real_replace = os.replace
    count = []

    def replace(src, dst):
        if Path(dst).name == CHECKPOINT and Path(src).name == f".{CHECKPOINT}.new":
            count.append(dst)
            if len(count) == 2:                                   # the checkpoint of iteration 20
                raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real_replace(src, dst)

    monkeypatch.setattr(C.os, "replace", replace)
    job, base = _job("optimize.iterations=30", "output.checkpoint_every=10")
    out = tmp_path / "run"
    with pytest.raises(OutputError, match="checkpoint"):
        run_job(job, base, out, quiet=True)
    ckpt, path = load_checkpoint(out)                              # falls back to the previous one
    assert ckpt.iteration == 10
    monkeypatch.undo()
    report = run_job(job, base, out, quiet=True, resume=True)
    assert report["resumed_from"] == 10 and report["iterations"] == 30


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
    # every log step once, with the numbers of the uninterrupted run (none lost, none repeated)
    assert _metrics(out) == _metrics(tmp_path / "full")


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
                "scene.laplacian.weights": "cotangent", "scene.normal_consistency.weight": 1.0})
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
