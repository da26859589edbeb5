"""Run folders that are safe to use (issue 8, item 7): resume from the folder alone with the
printed hint, a lock against a second run, default folders that never overwrite, --overwrite
that replaces only a finished run, Ctrl-C before the loop, names that would leave runs/,
the same outputs every time, a damaged checkpoint."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from diffrast_cli import pipeline
from diffrast_cli.checkpoint import CHECKPOINT, PREVIOUS, load_checkpoint
from diffrast_cli.cli import main
from diffrast_cli.errors import OutputError
from diffrast_cli.jobfile import load_job
from diffrast_cli.pipeline import run_job
from diffrast_cli.runfolder import LOCK, FolderLock
from tests.conftest import write_target

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "configs" / "quickstart.yaml"
QUICK = ["render.resolution=64", "scene.triangles=200", "output.log_every=10", "output.frames=3"]


def _env():
    env = dict(os.environ, PYTHONUNBUFFERED="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env.pop("DIFFRAST_DEBUG", None)
    return env


def _cli(args, cwd, **kw):
    return subprocess.run([sys.executable, "-m", "diffrast_cli", *map(str, args)], cwd=cwd, env=_env(),
                          capture_output=True, text=True, timeout=300, **kw)


def _spawn(args, cwd):
    return subprocess.Popen([sys.executable, "-m", "diffrast_cli", *map(str, args)], cwd=cwd, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(path: Path, proc, timeout=120.0):
    t0 = time.time()
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.time() - t0 < timeout, f"{path} did not appear"
        time.sleep(0.05)


def _one_line(result, code=2) -> str:
    assert result.returncode == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def _snapshot(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# ---------------------------------------------------------------- --resume RUN_DIR alone

def test_the_printed_resume_hint_works_verbatim_with_the_saved_overrides(tmp_path):
    """The run had a job file and --set overrides (a target path relative to the working
    directory among them); the hint names only the folder, and run from elsewhere it ends
    exactly where an uninterrupted run of the same job ends."""
    work = tmp_path / "work"
    work.mkdir()
    write_target(work / "alt.png", 48, 40, seed=3)
    sets = QUICK + ["target.image=alt.png", "seed=5", "optimize.iterations=1200", "output.checkpoint_every=20"]
    out = work / "my run"                                     # a space: the hint quotes the folder
    proc = _spawn(["optimize", QUICKSTART, "--out", out, "--quiet", *[f"--set={s}" for s in sets]], work)
    _wait_for(out / CHECKPOINT, proc)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    hint = re.search(r"Resume with: (.*)$", stderr.strip()).group(1)
    assert hint == f"diffrast optimize --resume {shlex.quote(str(out))}"
    stopped = json.loads((out / "report.json").read_text())["iterations"]
    assert 0 < stopped < 1200
    argv = shlex.split(hint)
    assert argv[0] == "diffrast"
    resumed = _cli(argv[1:], cwd=tmp_path)                    # another working directory
    assert resumed.returncode == 0, resumed.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["resumed_from"] == stopped and report["iterations"] == 1200 and report["seed"] == 5
    assert report["resolution"] == [64, 53]                   # alt.png's aspect: its own target
    job, base = load_job(QUICKSTART, [s if not s.startswith("target.image") else
                                      f"target.image={work / 'alt.png'}" for s in sets])
    full = run_job(job, base, tmp_path / "full", quiet=True)
    assert report["final"] == full["final"]
    assert np.array_equal(load_checkpoint(out)[0].state["params"], load_checkpoint(tmp_path / "full")[0].state["params"])


def test_resume_of_a_folder_without_job_yaml_says_what_to_give(tmp_path):
    (tmp_path / "run").mkdir()
    line = _one_line(_cli(["optimize", "--resume", tmp_path / "run"], tmp_path))
    assert line.startswith(f"diffrast: config error: --resume {tmp_path / 'run'}: ") and "job.yaml" in line
    line = _one_line(_cli(["optimize"], tmp_path))
    assert "usage error" in line and "JOB_FILE" in line


# ---------------------------------------------------------------- the lock

def test_a_second_run_into_a_busy_folder_is_refused_naming_the_first(tmp_path):
    out = tmp_path / "run"
    sets = [f"--set={s}" for s in QUICK + ["optimize.iterations=100000", "output.checkpoint_every=20"]]
    first = _spawn(["optimize", QUICKSTART, "--out", out, "--quiet", *sets], tmp_path)
    try:
        _wait_for(out / CHECKPOINT, first)
        assert (out / LOCK).read_text().strip() == str(first.pid)
        for args in (["optimize", QUICKSTART, "--out", out, "--quiet", *sets],
                     ["optimize", QUICKSTART, "--out", out, "--quiet", "--overwrite", *sets],
                     ["optimize", "--resume", out, "--quiet"]):
            line = _one_line(_cli(args, tmp_path))
            assert line == (f"diffrast: output error: {out}: in use by another diffrast run (PID {first.pid}); "
                            f"wait for it to end or choose another folder")
        assert first.poll() is None                            # the first run goes on, undisturbed
    finally:
        first.kill()
        first.communicate(timeout=60)
    # the dead run's lock is stale: a resume takes it over (and the folder resumes)
    ckpt, _ = load_checkpoint(out)
    resumed = _cli(["optimize", "--resume", out, "--quiet", "--force",
                    f"--set=optimize.iterations={ckpt.iteration + 10}"], tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads((out / "report.json").read_text())["resumed_from"] == ckpt.iteration
    assert not (out / LOCK).exists()                           # released at exit


def test_a_stale_lock_file_is_taken_over_and_removed(tmp_path, job_file):
    out = tmp_path / "run"
    out.mkdir()
    (out / LOCK).write_text("999999999\n")                     # no process holds it
    job, base = load_job(job_file)
    report = run_job(job, base, out, quiet=True)
    assert report["iterations"] == 3 and not (out / LOCK).exists()


def test_the_lock_is_exclusive_within_one_process_too(tmp_path):
    assert FolderLock(tmp_path).holder() is None
    held = FolderLock(tmp_path).acquire()
    try:
        assert FolderLock(tmp_path).holder() == str(os.getpid())
        with pytest.raises(OutputError, match=rf"in use by another diffrast run \(PID {os.getpid()}\)"):
            FolderLock(tmp_path).acquire()
    finally:
        held.release()
    FolderLock(tmp_path).acquire().release()
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------- default folders, --overwrite

def test_default_folders_are_never_overwritten(tmp_path, job_file):
    first = _cli(["optimize", job_file, "--quiet"], tmp_path)
    assert first.returncode == 0, first.stderr
    before = _snapshot(tmp_path / "runs" / "tiny")
    for n in (2, 3):
        again = _cli(["optimize", job_file, "--quiet", "--set", "seed=4"], tmp_path)
        assert again.returncode == 0, again.stderr
        assert again.stdout.strip().endswith(f"-> runs/tiny-{n}")
    assert sorted(os.listdir(tmp_path / "runs")) == ["tiny", "tiny-2", "tiny-3"]
    assert _snapshot(tmp_path / "runs" / "tiny") == before
    assert json.loads((tmp_path / "runs" / "tiny-3" / "report.json").read_text())["seed"] == 4


def test_an_explicit_folder_holding_a_run_is_refused_unless_overwrite(tmp_path, job_file):
    out = tmp_path / "out"
    assert _cli(["optimize", job_file, "--out", out, "-q"], tmp_path).returncode == 0
    (out / "stale.txt").write_text("from before")              # something only the old run has
    before = _snapshot(out)
    line = _one_line(_cli(["optimize", job_file, "--out", out, "-q", "--set", "seed=9"], tmp_path))
    assert line == (f"diffrast: output error: {out}: holds a run already; choose another --out, resume it "
                    f"with --resume {out}, or replace it with --overwrite")
    assert _snapshot(out) == before
    ok = _cli(["optimize", job_file, "--out", out, "-q", "--set", "seed=9", "--overwrite"], tmp_path)
    assert ok.returncode == 0, ok.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["seed"] == 9 and report["out_dir"] == str(out)
    assert sorted(os.listdir(out)) == sorted(report["outputs"])       # the new run's files only
    assert sorted(os.listdir(tmp_path)) == ["job.yaml", "out", "target.png"]   # no staging folder left


def test_leftovers_of_a_killed_replacement_are_tidied(tmp_path, job_file):
    """What SIGKILL leaves while --overwrite replaces a run: a half-built replacement is
    removed by the next run into the folder; an old run parked between the two renames of
    the swap (the folder itself missing) is put back, and then refused as a run as usual."""
    out = tmp_path / "out"
    assert _cli(["optimize", job_file, "--out", out, "-q"], tmp_path).returncode == 0
    before = _snapshot(out)
    stale = tmp_path / ".out.new-ab12cd34"
    stale.mkdir()
    (stale / "report.json").write_text("{}")
    other = tmp_path / ".out.new-x.new-zz99zz99"          # the staging of a folder named "out.new-x"
    other.mkdir()
    ok = _cli(["optimize", job_file, "--out", out, "-q", "--overwrite", "--set", "seed=3"], tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert not stale.exists() and other.is_dir()
    assert json.loads((out / "report.json").read_text())["seed"] == 3
    # Killed between the renames: the old run sits in .out.old-*/run and out is gone.
    parked = tmp_path / ".out.old-ef56gh78"
    parked.mkdir()
    os.replace(out, parked / "run")
    result = _cli(["optimize", job_file, "--out", out, "-q"], tmp_path)
    note, line = result.stderr.strip().splitlines()         # what was put back, then the usual refusal
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert note == f"diffrast: note: {out}: put back the previous run, left aside by a run that was killed while replacing it"
    assert "holds a run already" in line
    assert not parked.exists() and json.loads((out / "report.json").read_text())["seed"] == 3
    assert before != _snapshot(out)                         # it is the seed-3 run that came back


def test_a_failing_overwrite_leaves_the_old_run_intact(tmp_path, job_file, monkeypatch):
    out = tmp_path / "out"
    job, base = load_job(job_file)
    run_job(job, base, out, quiet=True)
    before = _snapshot(out)

    def disk_full(*args, **kwargs):
        raise OutputError(f"{out}/curve.png: cannot write (disk full); nothing was written")

    monkeypatch.setattr(pipeline.pictures, "loss_curve", disk_full)
    again, _ = load_job(job_file, ["seed=2"])
    with pytest.raises(OutputError, match="disk full"):
        run_job(again, base, out, quiet=True, overwrite=True)
    assert _snapshot(out) == before
    assert sorted(os.listdir(tmp_path)) == ["job.yaml", "out", "target.png"]


def test_a_folder_of_other_files_is_refused_even_with_overwrite(tmp_path, job_file):
    out = tmp_path / "photos"
    out.mkdir()
    (out / "final.png").write_bytes(b"mine")
    for extra in ([], ["--overwrite"]):
        line = _one_line(_cli(["optimize", job_file, "--out", out, "-q", *extra], tmp_path))
        assert line == (f"diffrast: output error: {out}: the folder holds other files (not a diffrast run); "
                        f"choose a new or empty folder")
    assert os.listdir(out) == ["final.png"] and (out / "final.png").read_bytes() == b"mine"


def test_an_empty_existing_folder_is_used(tmp_path, job_file):
    out = tmp_path / "empty"
    out.mkdir()
    assert _cli(["optimize", job_file, "--out", out, "-q"], tmp_path).returncode == 0
    assert (out / "report.json").is_file()


# ---------------------------------------------------------------- Ctrl-C before the loop

@pytest.mark.parametrize("when", ["setup", "after the folder is claimed"])
@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_before_the_loop_exits_with_its_code_and_writes_nothing(tmp_path, job_file, monkeypatch,
                                                                         when, sig, code):
    """The signal is real (sent to this process) while the job is set up (the GL context and
    shaders), or while job.yaml is written into the claimed folder."""
    real_problem, real_write = pipeline.Problem, pipeline.atomic_write_bytes

    def _raise_signal():
        os.kill(os.getpid(), sig)
        time.sleep(5)                                          # the handler interrupts the sleep
        raise AssertionError("the signal did not interrupt the set-up")

    def problem(*args, **kwargs):
        p = real_problem(*args, **kwargs)
        if when == "setup":
            p.release()
            _raise_signal()
        return p

    def write(path, data):
        if when != "setup" and Path(path).name == "job.yaml":
            real_write(path, data)
            _raise_signal()
        return real_write(path, data)

    monkeypatch.setattr(pipeline, "Problem", problem)
    monkeypatch.setattr(pipeline, "atomic_write_bytes", write)
    before = signal.getsignal(sig)
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["optimize", str(job_file), "--out", str(out), "-q"])
    assert result.exit_code == code, result.output
    assert result.stderr.strip() == (f"diffrast: {signal.Signals(sig).name}: interrupted before the optimization "
                                     f"started; nothing was written")
    assert "Aborted" not in result.output
    assert not out.exists()
    assert signal.getsignal(sig) is before


# ---------------------------------------------------------------- names that leave runs/

@pytest.mark.parametrize("name", ["..", ".", "../elsewhere", "a/b", "/tmp/x"])
def test_names_that_would_leave_runs_are_refused(tmp_path, job_file, name):
    line = _one_line(_cli(["optimize", job_file, "--set", f"name={name}", "-q"], tmp_path))
    assert line.startswith("diffrast: config error: --set name: "), line
    job_file.write_text(job_file.read_text().replace("name: tiny", f"name: '{name}'"))
    line = _one_line(_cli(["optimize", job_file, "-q"], tmp_path))
    assert line.startswith(f"diffrast: config error: {job_file}: name: "), line
    assert sorted(os.listdir(tmp_path)) == ["job.yaml", "target.png"]
    assert not (tmp_path.parent / "elsewhere").exists()


# ---------------------------------------------------------------- report.json outputs

def test_report_outputs_are_the_same_files_every_time(tmp_path, job_file):
    job, base = load_job(job_file)
    out = tmp_path / "run"
    first = run_job(job, base, out, quiet=True)
    assert "report.json" in first["outputs"] and sorted(os.listdir(out)) == first["outputs"]
    second = run_job(job, base, out, quiet=True, overwrite=True)
    assert second["outputs"] == first["outputs"] == sorted(os.listdir(out))
    elsewhere = run_job(job, base, tmp_path / "other", quiet=True)
    assert elsewhere["outputs"] == first["outputs"]


# ---------------------------------------------------------------- a damaged checkpoint

def test_a_damaged_checkpoint_is_one_line_naming_the_file_and_what_to_do(tmp_path, job_file):
    out = tmp_path / "run"
    job, base = load_job(job_file)
    run_job(job, base, out, quiet=True)
    (out / CHECKPOINT).write_bytes(b"PK\x03\x04 not really a zip")
    line = _one_line(_cli(["optimize", "--resume", out, "-q"], tmp_path))
    assert line == (f"diffrast: config error: --resume {out}: no usable checkpoint: {out / CHECKPOINT} is damaged "
                    f"or truncated (not a readable .npz archive); start the run again (--out {out} --overwrite) "
                    f"or restore the file from a backup")
    assert "pickle" not in line
    # with the previous one there, it resumes from that (and says nothing)
    run_job(job, base, tmp_path / "two", quiet=True)
    os.replace(tmp_path / "two" / CHECKPOINT, tmp_path / "two" / PREVIOUS)
    (tmp_path / "two" / CHECKPOINT).write_bytes(b"garbage")
    assert load_checkpoint(tmp_path / "two")[1].name == PREVIOUS
