"""What a run writes, checked by content: report.json against metrics.jsonl and the
checkpoint, the pictures panel by panel, the soup files against the parameters;
full-disk failures of each kind of output; the learning-rate schedules; the
fixed-point overflow flag; the held-out views of a multi-view job."""

from __future__ import annotations

import errno
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

from diffrast_cli import pipeline
from diffrast_cli.checkpoint import CHECKPOINT, PREVIOUS, job_dict, load_checkpoint
from diffrast_cli.config import JobConfig
from diffrast_cli.errors import OutputError
from diffrast_cli.io import pictures as P
from diffrast_cli.jobfile import load_job
from diffrast_cli.optim.schedule import lr_factor
from diffrast_cli.pipeline import run_job
from diffrast_cli.problem import Problem
from tests.conftest import write_target

ROOT = Path(__file__).resolve().parent.parent
QUICK = ["render.resolution=64", "scene.triangles=200", "output.log_every=10", "output.frames=3"]

SOUP_JOB = """\
name: outputs
seed: 3
target:
  image: target.png
render:
  resolution: 64
scene:
  triangles: 60
  init: {size: 0.3}
optimize:
  iterations: 40
output:
  log_every: 10
  frames: 5
  checkpoint_every: 20
"""
SIZE, TRIANGLES, ITERATIONS, FRAMES = 64, 60, 40, 5


def _png(path) -> np.ndarray:
    with Image.open(path) as im:
        assert im.format == "PNG"
        return np.asarray(im.convert("RGB"))


def _metrics(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _quick_job(*extra):
    return load_job(ROOT / "configs" / "quickstart.yaml", QUICK + list(extra))


def _no_temporary_files(folder: Path) -> None:
    assert [n for n in os.listdir(folder) if n.startswith(".")] == []


@pytest.fixture(scope="module")
def soup_run(tmp_path_factory):
    """One small soup run: (run folder, report, job, base folder). The target is at the render
    size, so the run sees exactly the PNG's pixels."""
    d = tmp_path_factory.mktemp("soup")
    write_target(d / "target.png", SIZE, SIZE, seed=5)
    (d / "job.yaml").write_text(SOUP_JOB)
    job, base = load_job(d / "job.yaml", [])
    report = run_job(job, base, d / "run", quiet=True)
    return d / "run", report, job, base


# ---------------------------------------------------------------- report / metrics / checkpoint

def test_report_agrees_with_metrics_and_checkpoint(soup_run):
    out, report, job, _ = soup_run
    on_disk = json.loads((out / "report.json").read_text())
    assert on_disk == json.loads(json.dumps(report))
    lines = _metrics(out / "metrics.jsonl")
    its = [r["iteration"] for r in lines]
    # one line per log step (frames fall on log steps here), none twice, none missing
    assert its == list(range(0, ITERATIONS + 1, 10))
    for r in lines:                                     # l2: loss is the MSE, PSNR = -10 log10(MSE)
        assert r["psnr"] == pytest.approx(-10 * math.log10(r["loss"]), rel=1e-9)
        assert r["elapsed_s"] >= 0
    assert [r["elapsed_s"] for r in lines] == sorted(r["elapsed_s"] for r in lines)
    last, first = lines[-1], lines[0]
    assert on_disk["iterations"] == on_disk["iterations_planned"] == last["iteration"] == ITERATIONS
    assert on_disk["final"]["loss"] == pytest.approx(last["loss"], rel=1e-6)
    assert on_disk["final"]["psnr"] == pytest.approx(last["psnr"], rel=1e-6)
    assert on_disk["final"]["mse"] == pytest.approx(last["loss"], rel=1e-6)
    assert on_disk["initial"]["loss"] == first["loss"] and on_disk["initial"]["psnr"] == first["psnr"]
    assert on_disk["final"]["psnr"] > on_disk["initial"]["psnr"]
    assert abs(on_disk["loop_seconds"] - last["elapsed_s"]) <= 1e-3       # the same loop clock
    assert on_disk["interrupted"] is None and on_disk["exit_code"] == 0 and on_disk["resumed_from"] is None
    assert on_disk["flags"] == {"overflow": False, "nonfinite": False}
    assert on_disk["triangles"] == TRIANGLES and on_disk["parameters"] == 12 * TRIANGLES
    assert on_disk["resolution"] == [SIZE, SIZE] and on_disk["seed"] == 3 and on_disk["samples"] == 1
    # outputs: exactly the files in the folder, nothing temporary
    assert sorted(os.listdir(out)) == sorted(on_disk["outputs"] + [PREVIOUS])
    assert set(on_disk["outputs"]) == {CHECKPOINT, "final.png", "comparison.png", "progress.png", "progress.gif",
                                       "curve.png", "metrics.jsonl", "report.json", "job.yaml", "soup.ply",
                                       "soup.obj"}
    # the final checkpoint: the last iteration, the same metrics, the frames
    ckpt, path = load_checkpoint(out)
    assert path.name == CHECKPOINT and ckpt.iteration == ITERATIONS
    assert ckpt.records == lines
    assert [f[0] for f in ckpt.frames] == [0, 10, 20, 30, 40]
    assert load_checkpoint(out)[0].job == job_dict(job)
    # job.yaml is the resolved job: it loads back to the same job
    again, _ = load_job(out / "job.yaml", [])
    assert job_dict(again) == job_dict(job)


def test_final_png_is_a_clean_render_of_the_final_parameters(soup_run, device):
    out, report, job, base = soup_run
    theta = load_checkpoint(out)[0].state["params"]
    problem = Problem(job, base, device=device)
    try:
        problem.estimator.upload(theta)
        m = problem.metrics(images=True)
    finally:
        problem.release()
    assert np.array_equal(_png(out / "final.png"), P.to_uint8(m["images"][0]))
    assert report["final"]["mse"] == pytest.approx(m["mse"], rel=1e-9)
    assert report["final"]["mae"] == pytest.approx(m["mae"], rel=1e-9)


def test_comparison_png_panels(soup_run):
    out = soup_run[0]
    pic = _png(out / "comparison.png")
    k = math.ceil(P.MIN_PANEL_H / SIZE)
    pw = ph = SIZE * k
    assert pic.shape == (P.LABEL_H + ph + P.SEP, 3 * pw + 4 * P.SEP, 3)

    def panel(i):
        x0 = P.SEP + i * (pw + P.SEP)
        return pic[P.LABEL_H:P.LABEL_H + ph, x0:x0 + pw]

    def up(a):
        return np.repeat(np.repeat(a, k, 0), k, 1)

    target, final = _png(out.parent / "target.png"), _png(out / "final.png")
    assert np.array_equal(panel(0), up(target))                 # target | ...
    assert np.array_equal(panel(1), up(final))                  # ... | result | ...
    err = np.abs(target / 255.0 - final / 255.0).mean(axis=2)   # ... | error heat map
    expected = up(P.to_uint8(P.error_colormap(err))).astype(int)
    assert np.abs(panel(2).astype(int) - expected).max() <= 8   # final.png is the result rounded to 8 bits
    assert panel(2).mean() > 10                                  # the fit is far from perfect: not black


def test_progress_pictures_hold_the_frames(soup_run):
    out = soup_run[0]
    with Image.open(out / "progress.gif") as im:
        assert im.format == "GIF" and im.n_frames == FRAMES
        assert im.size == (2 * SIZE, 2 * SIZE)                  # upscaled to MIN_TILE_H
        frames = []
        for i in range(im.n_frames):
            im.seek(i)
            frames.append(np.asarray(im.convert("RGB")).astype(int))
    # the last frame is the final render (away from the caption; GIF colours are quantised)
    final = np.repeat(np.repeat(_png(out / "final.png"), 2, 0), 2, 1).astype(int)
    assert np.abs(frames[-1][40:] - final[40:]).mean() < 6
    assert np.abs(frames[0][40:] - final[40:]).mean() > 10      # the first one is not
    grid = _png(out / "progress.png")
    t = 2 * SIZE
    assert grid.shape == (t + P.LABEL_H + 2 * P.SEP, FRAMES * (t + P.SEP) + P.SEP, 3)
    last_x = P.SEP + (FRAMES - 1) * (t + P.SEP)
    assert np.array_equal(grid[P.SEP:P.SEP + t:2, last_x:last_x + t:2], _png(out / "final.png"))


def test_curve_png_draws_loss_and_psnr(soup_run):
    pic = _png(soup_run[0] / "curve.png").astype(int)
    assert pic.shape == (400, 800, 3)
    red = (pic[..., 0] > 150) & (pic[..., 1] < 120) & (pic[..., 2] < 100)
    blue = (pic[..., 2] > 150) & (pic[..., 0] < 100)
    assert red[:, :400].sum() > 100 and blue[:, 400:].sum() > 100
    assert red[:, 400:].sum() == 0 and blue[:, :400].sum() == 0


def test_soup_files_hold_the_final_parameters(soup_run):
    out = soup_run[0]
    theta = load_checkpoint(out)[0].state["params"].astype(np.float64)
    n = TRIANGLES          # layout: positions (x, y per corner), depths (z per corner), colours
    xy = theta[:6 * n].reshape(n, 3, 2)
    z = theta[6 * n:9 * n].reshape(n, 3, 1)
    rgb = theta[9 * n:12 * n].reshape(n, 3)
    corners = np.concatenate([xy, z], axis=2)
    rgb8 = np.rint(np.clip(rgb, 0, 1) * 255)
    for name in ("soup.ply", "soup.obj"):
        m = trimesh.load(out / name, process=False)
        assert len(m.faces) == n and len(m.vertices) == 3 * n, name
        np.testing.assert_allclose(m.vertices[m.faces], corners, atol=1e-6, err_msg=name)
        if name == "soup.ply":
            got = m.visual.face_colors[:, :3].astype(float)
        else:
            got = m.visual.vertex_colors[m.faces[:, 0], :3].astype(float)
        assert np.abs(got - rgb8).max() <= 1, name


# ---------------------------------------------------------------- a full disk

needs_proc = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"),
                                reason="finds the file behind an fsync through /proc/self/fd (Linux)")


def _disk_full_at_fsync(monkeypatch, name: str, nth: int = 1) -> None:
    """ENOSPC when the ``nth`` temporary file of output ``name`` is synced (where a full disk
    surfaces for buffered writes); the ones before succeed."""
    real = os.fsync
    seen = []

    def fsync(fd):
        if os.path.basename(os.readlink(f"/proc/self/fd/{fd}")).startswith(f".{name}."):
            seen.append(fd)
            if len(seen) == nth:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)


def _disk_full_in_metrics(monkeypatch, at_iteration: int) -> None:
    """metrics.jsonl: the line of ``at_iteration`` gets half written, then ENOSPC."""
    real_open = open

    class Full:
        def __init__(self, fh):
            self.fh = fh

        def write(self, data):
            if json.loads(data)["iteration"] == at_iteration:
                self.fh.write(data[: len(data) // 2])
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return self.fh.write(data)

        def __getattr__(self, attr):
            return getattr(self.fh, attr)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

    def fake_open(path, *args, **kwargs):
        fh = real_open(path, *args, **kwargs)
        return Full(fh) if Path(path).name == "metrics.jsonl" else fh

    monkeypatch.setattr(pipeline, "open", fake_open, raising=False)


@needs_proc
@pytest.mark.parametrize("what", ["report.json", "metrics.jsonl", "checkpoint", "soup.ply", "comparison.png"])
def test_full_disk_is_an_output_error_and_keeps_earlier_outputs(tmp_path, monkeypatch, what):
    job, base = _quick_job("optimize.iterations=30", "output.checkpoint_every=10")
    out = tmp_path / "run"
    if what == "metrics.jsonl":
        _disk_full_in_metrics(monkeypatch, at_iteration=20)
    elif what == "checkpoint":
        _disk_full_at_fsync(monkeypatch, ".checkpoint.npz.new", nth=2)      # the one of iteration 20
    else:
        _disk_full_at_fsync(monkeypatch, what)
    with pytest.raises(OutputError) as err:
        run_job(job, base, out, quiet=True)
    msg = str(err.value)
    assert "disk full" in msg and (what.split(".")[0] in msg) and "\n" not in msg, msg
    _no_temporary_files(out)
    ckpt, path = load_checkpoint(out)                   # the last checkpoint is whole and loads
    if what in ("metrics.jsonl", "checkpoint"):
        assert path.name == CHECKPOINT and ckpt.iteration == 10
        assert not (out / PREVIOUS).exists() and not (out / "final.png").exists()
        if what == "metrics.jsonl":                     # whole lines only: the half-written one is gone
            assert [r["iteration"] for r in _metrics(out / "metrics.jsonl")] == [0, 10, 15]
    else:
        assert ckpt.iteration == 30
    assert not (out / "report.json").exists()           # a run that failed has no report
    if what in ("soup.ply", "comparison.png"):
        assert not (out / what).exists()
    # the run resumes from its checkpoint to the same result as an undisturbed run
    monkeypatch.undo()
    resumed = run_job(job, base, out, quiet=True, resume=True)
    clean = run_job(job, base, tmp_path / "clean", quiet=True)
    assert resumed["resumed_from"] == ckpt.iteration and resumed["final"] == clean["final"]
    strip = [{k: v for k, v in r.items() if k != "elapsed_s"} for r in _metrics(out / "metrics.jsonl")]
    assert strip == [{k: v for k, v in r.items() if k != "elapsed_s"} for r in _metrics(tmp_path / "clean" / "metrics.jsonl")]


@needs_proc
def test_full_disk_from_the_command_line_is_one_line_and_exit_code_2(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from diffrast_cli.cli import main
    _disk_full_at_fsync(monkeypatch, "report.json")
    out = tmp_path / "run"
    args = ["optimize", str(ROOT / "configs" / "quickstart.yaml"), "--out", str(out), "--quiet"]
    args += [f"--set={s}" for s in QUICK + ["optimize.iterations=20"]]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("diffrast: output error: ")
    assert str(out / "report.json") in lines[0] and "disk full" in lines[0]
    assert not (out / "report.json").exists() and (out / "final.png").is_file()
    _no_temporary_files(out)


# ---------------------------------------------------------------- learning-rate schedule

def test_lr_schedules_follow_their_formulas():
    # total 101: x = iteration / 100
    assert [lr_factor("constant", i, 101, 0.04) for i in (0, 50, 100)] == [1.0, 1.0, 1.0]
    # step: 1 for the first half, sqrt(final) for the third quarter, final after
    step = [lr_factor("step", i, 101, 0.04) for i in range(101)]
    assert step[:50] == [1.0] * 50
    assert step[50:75] == pytest.approx([0.2] * 25, rel=1e-12)
    assert step[75:] == pytest.approx([0.04] * 26, rel=1e-12)
    # cosine: 1 -> final, half way at the middle
    cos = [lr_factor("cosine", i, 101, 0.04) for i in (0, 25, 50, 75, 100)]
    assert cos == pytest.approx([1.0, 0.04 + 0.96 * (1 + math.sqrt(0.5)) / 2, 0.52,
                                 0.04 + 0.96 * (1 - math.sqrt(0.5)) / 2, 0.04], rel=1e-12)
    assert lr_factor("cosine", 0, 1, 0.5) == lr_factor("step", 0, 1, 0.5) == 1.0


def test_the_run_applies_the_step_schedule_per_iteration(tmp_path, steps):
    common = ["optimize.iterations=20", "optimize.lr_final=0.25", "output.checkpoint_every=10"]
    job, base = _quick_job("optimize.lr_schedule=step", *common)
    stepped = run_job(job, base, tmp_path / "step", quiet=True)
    # x = i / 19: i <= 9 is the first half (1), 10..14 the third quarter (sqrt 0.25), 15.. the rest (0.25)
    assert steps == [(i, 1.0) for i in range(10)] + [(i, 0.5) for i in range(10, 15)] + \
        [(i, 0.25) for i in range(15, 20)]
    steps.clear()
    job, base = _quick_job("optimize.lr_schedule=constant", *common)
    constant = run_job(job, base, tmp_path / "constant", quiet=True)
    assert steps == [(i, 1.0) for i in range(20)]
    # the same parameters while the factors agree (checkpoint of iteration 10), different after
    prev = [load_checkpoint_file(tmp_path / name / PREVIOUS) for name in ("step", "constant")]
    assert prev[0].iteration == prev[1].iteration == 10
    assert np.array_equal(prev[0].state["params"], prev[1].state["params"])
    final = [load_checkpoint(tmp_path / name)[0].state["params"] for name in ("step", "constant")]
    assert not np.array_equal(final[0], final[1])
    assert stepped["final"]["loss"] != constant["final"]["loss"]


def load_checkpoint_file(path: Path):
    from diffrast_cli.checkpoint import _read
    return _read(path)


def test_adam_applies_the_lr_scale(device):
    """Adam's first step moves every parameter with a clear gradient by lr * scale (m/sqrt(v) = sign)."""
    from tests.scenes import gradient_target, make_problem
    moves = {}
    for scale in (1.0, 0.25):
        problem = make_problem(device, gradient_target(32, 32), triangles=32, seed=1)
        try:
            est, layout = problem.estimator, problem.scene.layout
            theta0 = est.download()
            est.step(0, scale)
            grad, theta1 = est.gradient(), est.download()
            lr = np.concatenate([np.full(g.count, g.lr) for g in layout.groups])
            lo = np.concatenate([np.full(g.count, g.lo) for g in layout.groups])
            hi = np.concatenate([np.full(g.count, g.hi) for g in layout.groups])
        finally:
            problem.release()
        free = (np.abs(grad) > 1e-2) & (theta1 > lo) & (theta1 < hi)
        assert free.sum() > 20
        np.testing.assert_allclose(np.abs(theta1 - theta0)[free], (scale * lr)[free], rtol=1e-3)
        assert np.array_equal(np.sign(theta0 - theta1)[free], np.sign(grad)[free])
        moves[scale] = theta1 - theta0
    assert not np.array_equal(moves[1.0], moves[0.25])


# ---------------------------------------------------------------- fixed-point overflow

def test_overflow_flag_in_report_when_fixed_point_accumulators_wrap(tmp_path):
    # big triangles with a large colour eps: thousands of same-sign pixel differences per triangle;
    # at 2^24 per unit their sum passes 2^31, at the default scale it does not
    big = ["optimize.iterations=10", "optimize.atomics=fixed", "scene.init.size=1.0", "scene.colors.eps=0.5"]
    job, base = _quick_job(*big, "optimize.fixed_point_scale=16777216")
    report = run_job(job, base, tmp_path / "wrap", quiet=True)
    assert report["device"]["atomics"] == "fixed"
    assert report["flags"]["overflow"] is True and report["flags"]["nonfinite"] is False
    assert json.loads((tmp_path / "wrap" / "report.json").read_text())["flags"]["overflow"] is True
    assert load_checkpoint(tmp_path / "wrap")[0].flags["overflow"] is True
    job, base = _quick_job(*big)
    report = run_job(job, base, tmp_path / "fine", quiet=True)
    assert report["flags"] == {"overflow": False, "nonfinite": False}


# ---------------------------------------------------------------- held-out views

def test_holdout_views_of_a_multi_view_job(tmp_path, device):
    """8 orbit views, 3 held out: views floor((k + 0.5) * 8 / 3) = 1, 4, 6 are never trained on,
    are scored first, and are the ones comparison.png shows."""
    names = []
    for i in range(8):
        write_target(tmp_path / f"v{i}.png", 32, 32, seed=10 + i)
        names.append(f"v{i}.png")
    cfg = {"name": "views", "target": {"images": names}, "cameras": {"orbit": {"count": 8}, "holdout": 3},
           "render": {"resolution": 32}, "scene": {"kind": "mesh", "icosphere": {"subdivisions": 1}},
           "optimize": {"iterations": 4, "views_per_iteration": 2}, "output": {"log_every": 2, "frames": 2}}
    job = JobConfig.model_validate(cfg)
    held, train = [1, 4, 6], [0, 2, 3, 5, 7]
    problem = Problem(job, tmp_path, device=device)
    try:
        views = problem.views
        assert views.holdout == held and views.train == train
        assert problem.eval_cams[:3] == held
        shown = {int(c) for i in range(40) for c in views.slots(i, 2, job.seed)}
        assert shown == set(train)                         # every training view, never a held-out one
        m = problem.metrics()
        mse = {c: v["mse"] for c, v in zip(problem.eval_cams, m["views"])}
        assert set(held) <= set(mse)
        assert m["holdout_psnr"] == pytest.approx(-10 * math.log10(np.mean([mse[c] for c in held])), rel=1e-9)
        assert m["train_psnr"] == pytest.approx(
            -10 * math.log10(np.mean([v for c, v in mse.items() if c not in held])), rel=1e-9)
        where = {name: problem.scene.layout.slice(name) for name in ("positions", "colors")}
        faces = problem.scene.faces.copy()
    finally:
        problem.release()
    report = run_job(job, tmp_path, tmp_path / "run", quiet=True)
    assert report["views"] == {"cameras": 8, "train": 5, "holdout": 3, "per_iteration": 2}
    assert "holdout_psnr" in report["final"]
    assert all("holdout_psnr" in r for r in _metrics(tmp_path / "run" / "metrics.jsonl"))
    # comparison.png stacks the first three scored views: the held-out ones, in order
    pic = _png(tmp_path / "run" / "comparison.png")
    k = math.ceil(P.MIN_PANEL_H / (3 * 32))
    left = pic[P.LABEL_H:P.LABEL_H + 3 * 32 * k, P.SEP:P.SEP + 32 * k]
    stacked = np.concatenate([_png(tmp_path / f"v{c}.png") for c in held], axis=0)
    assert np.array_equal(left, np.repeat(np.repeat(stacked, k, 0), k, 1))
    # the exported mesh is the final parameters: welded vertices and vertex colours
    from diffrast_cli.io.meshes import load_mesh
    theta = load_checkpoint(tmp_path / "run")[0].state["params"]
    pos, rgb = theta[where["positions"]].reshape(-1, 3), theta[where["colors"]].reshape(-1, 3)
    assert not np.array_equal(rgb, np.full_like(rgb, rgb[0, 0]))       # trained: not one flat colour
    for name in ("mesh.obj", "mesh.glb"):
        m = load_mesh(tmp_path / "run" / name)                          # colours come back as 8 bits
        np.testing.assert_allclose(m.positions, pos, atol=1e-6, err_msg=name)
        np.testing.assert_array_equal(m.faces, faces, err_msg=name)
        np.testing.assert_allclose(m.vertex_colors, np.clip(rgb, 0, 1), atol=0.5 / 255 + 1e-6, err_msg=name)
