"""The `diffrast` command as a user runs it (subprocesses): bad input gives ONE line on
stderr, exit code 2, no traceback and no output folder; a tiny real run writes its outputs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from tests.conftest import TINY_JOB, write_target


def assert_user_error(result, *needles, out=None):
    code, stdout, stderr = result
    lines = stderr.splitlines()
    assert code == 2, (code, stdout, stderr)
    assert len(lines) == 1 and lines[0].strip(), stderr
    assert lines[0].startswith("diffrast: "), stderr
    assert "Traceback" not in stdout + stderr
    for n in needles:
        assert str(n) in lines[0], lines[0]
    if out is not None:
        assert not out.exists(), f"{out} was left behind"
    return lines[0]


@pytest.fixture
def optimize(run_cli, job_file, tmp_path):
    """optimize(*extra, job=job_file, env=None) runs `diffrast optimize JOB --out tmp/out --quiet ...`."""
    out = tmp_path / "out"

    def run(*extra, job=None, env=None, cwd=None):
        result = run_cli("optimize", job or job_file, "--out", out, "--quiet", *extra, env=env, cwd=cwd)
        return result, out

    return run


def _fail(optimize, *needles, extra=(), job=None, env=None):
    result, out = optimize(*extra, job=job, env=env)
    return assert_user_error(result, *needles, out=out)


# ---------------------------------------------------------------- the job file
def test_missing_config(optimize, tmp_path):
    _fail(optimize, "config error", "nope.yaml", "not found", job=tmp_path / "nope.yaml")


def test_config_is_a_directory(optimize, tmp_path):
    (tmp_path / "d.yaml").mkdir()
    _fail(optimize, "config error", "d.yaml", "not a file", job=tmp_path / "d.yaml")


# Paths that cannot be read for reasons that hold for root too (chmod 0 does not stop root).
# Each: (make the path from tmp_path, what the line says after the path).
LONG = "j" * 300


def _fifo(tmp_path, name):
    os.mkfifo(tmp_path / name)
    return tmp_path / name


UNREADABLE = {
    "proc-mem": (lambda tmp, suffix: Path("/proc/self/mem"), "cannot read {what} (Input/output error)"),   # EIO
    "name-too-long": (lambda tmp, suffix: tmp / (LONG + suffix), "cannot read {what} (File name too long)"),
    "under-a-file": (lambda tmp, suffix: tmp / "target.png" / ("x" + suffix), "{what} not found"),     # ENOTDIR
    "fifo": (lambda tmp, suffix: _fifo(tmp, "pipe" + suffix), "not a file"),
}
needs_proc = pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux /proc/self/mem")


@pytest.mark.parametrize("cause", [pytest.param(c, marks=needs_proc) if c == "proc-mem" else c for c in UNREADABLE])
def test_unreadable_config(optimize, tmp_path, cause):
    make, tail = UNREADABLE[cause]
    path = make(tmp_path, ".yaml")
    line = _fail(optimize, "config error", job=path)
    assert line == f"diffrast: config error: {path}: {tail.format(what='job file')}", line


def test_invalid_yaml(optimize, job_file):
    job_file.write_text(TINY_JOB + "render: [unclosed\n")
    _fail(optimize, "config error", f"{job_file}:", "invalid YAML")


def test_yaml_not_a_mapping(optimize, job_file):
    job_file.write_text("- just\n- a list\n")
    _fail(optimize, "config error", "job.yaml", "mapping")


def test_empty_config(optimize, job_file):
    job_file.write_text("")
    _fail(optimize, "config error", "job.yaml", "empty")


def test_alias_bomb_config(optimize, job_file):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi"))
    job_file.write_text(TINY_JOB + bomb)
    _fail(optimize, "config error", "job.yaml", "aliases")


def test_unknown_key(optimize, job_file):
    job_file.write_text(TINY_JOB.replace("render:\n", "render:\n  camera: {fov: 30}\n"))
    _fail(optimize, "config error", f"{job_file}: render.camera.fov: unknown key", "fov_y")


def test_wrong_type(optimize, job_file):
    job_file.write_text(TINY_JOB.replace("iterations: 3", "iterations: lots"))
    _fail(optimize, "config error", f"{job_file}: optimize.iterations:", "integer")


@pytest.mark.parametrize("value", ["0", "-4", "[32,0]"])
def test_non_positive_resolution(optimize, value):
    _fail(optimize, "config error", "render.resolution", "positive", extra=("--set", f"render.resolution={value}"))


def test_non_positive_triangles_in_file(optimize, job_file):
    job_file.write_text(TINY_JOB.replace("triangles: 50", "triangles: 0"))
    _fail(optimize, "config error", f"{job_file}: scene.triangles:", "greater than or equal to 1")


def test_unknown_estimator(optimize, job_file):
    job_file.write_text(TINY_JOB.replace("iterations: 3", "iterations: 3\n  estimator: magic"))
    _fail(optimize, "config error", f"{job_file}: optimize.estimator:", "per_pixel", "'magic'")


# ---------------------------------------------------------------- sizes and GL limits
def test_resolution_beyond_any_gl_limit(optimize):
    _fail(optimize, "render.resolution", "32768", extra=("--set", "render.resolution=100000"))


def test_resolution_beyond_the_device_texture_limit(optimize):
    # 16385 x 2 (supersample) = 32770 texels: more than any driver's GL_MAX_TEXTURE_SIZE
    line = _fail(optimize, "limit error", "render.resolution", "allows",
                 extra=("--set", "render.resolution=[16385,1]", "--set", "render.supersample=2"))
    assert "16385" in line


def test_target_too_large_for_the_device(optimize):
    # Checked against GL limits before the image is decoded or resized: the plus and
    # minus copies of 20000^2 need a 40000-texel target, more than any driver allows.
    _fail(optimize, "limit error", "render.resolution", "allows", extra=("--set", "render.resolution=[20000,20000]"))


def test_too_many_triangles_for_the_device(optimize):
    _fail(optimize, "limit error", "MiB", "scene.triangles", extra=("--set", "scene.triangles=50000000"))


# ---------------------------------------------------------------- the target image
def test_missing_image(optimize):
    _fail(optimize, "input error", "missing.png", "not found", extra=("--set", "target.image=missing.png"))


def test_truncated_image(optimize, tmp_path):
    good = (tmp_path / "target.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(good[: len(good) // 2])
    _fail(optimize, "input error", "cut.png", "corrupt", extra=("--set", f"target.image={tmp_path / 'cut.png'}"))


@pytest.mark.parametrize("content, tail", [(b"", "not an image pillow can read (empty file)"),
                                           (b"this is not a picture\n", "not an image pillow can read"),
                                           (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "not an image pillow can read")])
def test_not_an_image(optimize, tmp_path, content, tail):
    (tmp_path / "bad.png").write_bytes(content)
    line = _fail(optimize, "input error", extra=("--set", f"target.image={tmp_path / 'bad.png'}"))
    assert line == f"diffrast: input error: {tmp_path / 'bad.png'}: {tail}"


def test_image_is_a_directory(optimize, tmp_path):
    (tmp_path / "dir.png").mkdir()
    _fail(optimize, "input error", "dir.png", "not a file", extra=("--set", f"target.image={tmp_path / 'dir.png'}"))


@pytest.mark.parametrize("cause", [pytest.param(c, marks=needs_proc) if c == "proc-mem" else c for c in UNREADABLE])
def test_unreadable_image(optimize, tmp_path, cause):
    make, tail = UNREADABLE[cause]
    path = make(tmp_path, ".png")
    line = _fail(optimize, "input error", extra=("--set", f"target.image={path}"))
    shown = Path(f"/proc/{line.split('/proc/')[1].split('/')[0]}/mem") if cause == "proc-mem" else path  # resolved
    assert line == f"diffrast: input error: {shown}: {tail.format(what='image')}", line


# ---------------------------------------------------------------- --set
@pytest.mark.parametrize("assignment,needles", [
    ("seed", ["--set seed:", "KEY=VALUE"]),
    ("optimize.bogus=1", ["--set optimize.bogus: unknown key"]),
    ("seed=abc", ["--set seed:", "integer"]),
    ("seed.x=1", ["--set seed.x:", "not a section"]),
    ("optimize.estimator=magic", ["--set optimize.estimator:", "per_pixel"]),
    ("optimize.lr_schedule=linear", ["--set optimize.lr_schedule: Input should be 'constant', 'cosine' or 'step', "
                                     "got 'linear'"]),
    ("name=..", ["--set name: '..' cannot name the output folder"]),
])
def test_bad_set(optimize, assignment, needles):
    _fail(optimize, "config error", *needles, extra=("--set", assignment))


def test_set_under_a_scalar_of_the_file(optimize, job_file):
    job_file.write_text(TINY_JOB.replace("  resolution: 32\n", "  resolution: 32\n  camera: 3\n"))
    _fail(optimize, "config error", "--set render.camera.fov_y:", "render.camera is not a mapping",
          extra=("--set", "render.camera.fov_y=30"))


# ---------------------------------------------------------------- no GL
@pytest.mark.parametrize("env, needle", [({"__EGL_VENDOR_LIBRARY_FILENAMES": "/nonexistent.json"},
                                          "GL error: no EGL device found"),
                                         ({"DIFFRAST_DEVICE": "99"}, "GL error: EGL device 99 does not exist")],
                         ids=["no-egl-vendor", "no-such-device"])
def test_no_gl(optimize, env, needle):
    _fail(optimize, needle, env=env)


@pytest.mark.parametrize("device,needle", [("99", "99"), ("abc", "'abc'")])
def test_bad_device_option(optimize, device, needle):
    _fail(optimize, "GL error", needle, extra=("--device", device))


# ---------------------------------------------------------------- other commands and usage
def test_output_path_is_a_file(run_cli, job_file, tmp_path):
    (tmp_path / "taken").write_text("x")
    line = assert_user_error(run_cli("optimize", job_file, "--out", tmp_path / "taken", "-q"), "output error", "taken")
    assert (tmp_path / "taken").read_text() == "x", line
    assert line == f"diffrast: output error: {tmp_path / 'taken'}: exists and is not a folder"


def test_output_folder_under_a_file(run_cli, job_file, tmp_path):
    """A folder that cannot be created, as root too (ENOTDIR): one line, exit 2, nothing written."""
    (tmp_path / "taken").write_text("x")
    out = tmp_path / "taken" / "run"
    line = assert_user_error(run_cli("optimize", job_file, "--out", out, "-q"), out=out)
    assert line == f"diffrast: output error: {out}: cannot write the output folder (Not a directory)"
    assert (tmp_path / "taken").read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job.yaml", "taken", "target.png"]


def test_validate_bad_input(run_cli, job_file):
    assert_user_error(run_cli("validate", job_file, "--set", "target.image=nope.png"), "input error", "nope.png")
    assert_user_error(run_cli("validate", job_file, "--set", "optimize.samples=-1"), "--set optimize.samples")


def test_usage_error_is_one_line(run_cli):
    assert_user_error(run_cli("optimize"), "usage error", "JOB_FILE")
    assert_user_error(run_cli("bench", "--iterations", "0"), "usage error", "--iterations")


# ---------------------------------------------------------------- the target loader, in process
def test_image_with_too_many_pixels_is_refused_before_decoding(tmp_path):
    from PIL import Image

    from diffrast_cli.errors import InputError
    from diffrast_cli.io.images import MAX_IMAGE_PIXELS, load_target

    Image.new("1", (9000, 9000)).save(tmp_path / "huge.png")
    with pytest.raises(InputError, match=rf"huge.png: image is 9000x9000, more than the {MAX_IMAGE_PIXELS}"):
        load_target(tmp_path / "huge.png", 32)


def test_unreadable_image_in_process(tmp_path, monkeypatch):
    from diffrast_cli.errors import InputError
    from diffrast_cli.io import images

    write_target(tmp_path / "t.png")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(images, "open", denied, raising=False)
    with pytest.raises(InputError, match=r"t.png: cannot read image \(Permission denied\)"):
        images.load_target(tmp_path / "t.png", 32)


# ---------------------------------------------------------------- good runs
def test_validate_quickstart_exits_0(run_cli):
    code, stdout, stderr = run_cli("validate", "configs/quickstart.yaml")
    assert code == 0, stderr
    assert stdout == ("configs/quickstart.yaml: ok (quickstart: target 256x256, soup 2000 triangles, "
                      "1500 iterations)\n") and stderr == ""


def test_tiny_optimize_run_writes_everything(run_cli, job_file, tmp_path):
    write_target(tmp_path / "alt.png", 40, 30, seed=3)
    out = tmp_path / "run"
    code, stdout, stderr = run_cli(
        "optimize", job_file, "--out", out, "--quiet",
        "--set", "seed=7", "--set", "target.image=alt.png", "--set", "scene.triangles=60",
        "--set", "render.resolution=[32,24]", "--set", "optimize.iterations=4",
        "--set", "optimize.estimator=per_pixel", "--set", "optimize.samples=2",
        cwd=tmp_path)
    assert code == 0, stderr
    assert "Traceback" not in stdout + stderr
    assert len(stdout.strip().splitlines()) == 1 and "PSNR" in stdout
    for name in ("report.json", "final.png", "comparison.png", "curve.png", "metrics.jsonl",
                 "soup.ply", "soup.obj", "job.yaml"):
        assert (out / name).is_file(), name
    report = json.loads((out / "report.json").read_text())
    assert report["seconds"] > 0 and report["it_per_s"] > 0
    assert report["iterations"] == 4 and report["estimator"] == "per_pixel" and report["samples"] == 2
    assert report["parameters"] == 60 * 12 and report["resolution"] == [32, 24]
    assert isinstance(report["final"]["psnr"], float) and isinstance(report["final"]["loss"], float)
    assert report["device"]["renderer"]
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [m["iteration"] for m in metrics] == [0, 1, 2, 3, 4]                  # log_every: 1
    assert metrics[-1]["psnr"] == pytest.approx(report["final"]["psnr"])
    job = yaml.safe_load((out / "job.yaml").read_text())
    assert job["seed"] == 7 and job["scene"]["triangles"] == 60 and job["render"]["resolution"] == [32, 24]
    assert job["optimize"]["iterations"] == 4 and job["optimize"]["samples"] == 2
    assert job["target"]["image"] == str((tmp_path / "alt.png").resolve())
    # the written job runs as it is, from anywhere
    code, stdout, stderr = run_cli("validate", out / "job.yaml")
    assert code == 0 and "32x24" in stdout, stderr
