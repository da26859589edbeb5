"""The memory estimate and check (sge/memory.py), free device memory (gl/device_memory.py),
atomic outputs (io/atomic.py)."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import numpy as np
import pytest

from diffrast_cli.gl import device_memory as D
from diffrast_cli.io import atomic as A
from diffrast_cli.sge import memory as M
from diffrast_cli.errors import LimitError, OutputError
from diffrast_cli.gl import bindings as B
from diffrast_cli.gl.context import create_device
from diffrast_cli.io import export as E
from diffrast_cli.io import pictures as P

GL_MAX_TEXTURE_SIZE = 0x0D33


# -- memory estimate -----------------------------------------------------------

SMALL = dict(parameters=100, pairs=2, contributors=50, views=3, width=20, height=10, supersample=2, copies=4,
             tile_cols=2, tile_rows=2, extra_bytes=1000, primitives=30)


def test_estimate_matches_hand_computed_sizes():
    est = M.estimate_job_memory(**SMALL)
    expected = {
        "parameters": 4 * 100,
        "gradient": 4 * 100,
        "adam_moments": 8 * 100,
        "accumulators": 4 * 2 * 50,
        "targets": 3 * 20 * 10 * 4 * 2,           # RGBA float16 per view
        "id_target": (2 * 20 * 2) * (2 * 10 * 2) * (4 + 4),  # R32UI id + depth, tiled and supersampled
        "colors": 2 * 20 * 10 * 16,               # RGBA float32, half as many layers as copies
        "partials": 8 * (2 * 2) * 4,              # 16x8 work groups: ceil(20/16) * ceil(10/8) per copy
        "sort": 4 * 30 + 4 * B.SORT_BUCKETS,
        "scene": 1000,
    }
    assert {k: v for k, v in est.items() if k != "total"} == expected
    assert est["total"] == sum(expected.values())
    assert all(isinstance(v, int) for v in est.values())
    # extra render targets beside the ids add their bytes per tiled pixel
    more = M.estimate_job_memory(**SMALL, attachment_bytes=8)
    assert more["id_target"] - est["id_target"] == 80 * 40 * 8


def test_estimate_mirrors_what_the_estimator_allocates(device):
    """Sizes of the real buffers and textures of a small soup job match the estimate."""
    from tests.scenes import gradient_target, make_problem

    problem = make_problem(device, gradient_target(24, 16), triangles=10, samples=2, supersample=2)
    try:
        est = problem.estimator
        tgt = est.target_ids
        guess = M.estimate_job_memory(
            parameters=est.count, pairs=est.pairs, contributors=est.contributors, views=est.views.count,
            width=est.size[0], height=est.size[1], supersample=tgt.ss, copies=est.copies,
            tile_cols=tgt.cols, tile_rows=tgt.rows, primitives=problem.scene.primitives)
        assert guess["parameters"] == est.params.size
        assert guess["gradient"] == est.grad.size
        assert guess["adam_moments"] == est.adam.moments.size
        assert guess["accumulators"] == est.accum.size
        assert guess["partials"] == est.partials.size
        assert guess["sort"] == est.order.order.size + est.order.buckets.size
        t = est.targets
        assert guess["targets"] == t.width * t.height * t.layers * t.components * 2
        c = est.colors
        assert guess["colors"] == c.width * c.height * c.layers * c.components * 4
        assert guess["id_target"] == tgt.texture.width * tgt.texture.height * 8
    finally:
        problem.release()


# -- memory check --------------------------------------------------------------

def test_check_memory_refuses_with_the_numbers(monkeypatch, device):
    est = M.estimate_job_memory(parameters=10_000_000, pairs=1, contributors=3_000_000, views=1, width=512,
                                height=512, supersample=1, copies=2, tile_cols=2, tile_rows=1)
    monkeypatch.setattr(M, "available_memory", lambda dev: 64 * 2**20)
    with pytest.raises(LimitError) as info:
        M.check_memory(device, est, size_keys="scene.triangles")
    msg = str(info.value)
    assert "\n" not in msg
    assert M.format_bytes(est["total"]) in msg            # what the job needs
    assert "adam moments 76.3 MiB" in msg                  # its biggest items
    assert "64.0 MiB is available" in msg and "57.6 MiB" in msg  # what there is, and 90% of it
    assert "lower scene.triangles" in msg
    assert ("system memory" if device.is_software else "GPU memory") in msg


def test_check_memory_passes_when_it_fits_or_is_unknown(monkeypatch, device):
    est = M.estimate_job_memory(**SMALL)
    monkeypatch.setattr(M, "available_memory", lambda dev: est["total"] * 2)
    M.check_memory(device, est)
    monkeypatch.setattr(M, "available_memory", lambda dev: None)
    M.check_memory(device, {"total": 10**18})
    monkeypatch.setattr(M, "available_memory", lambda dev: est["total"])
    with pytest.raises(LimitError):  # needs more than 90% of it
        M.check_memory(device, est)
    M.check_memory(device, est, fraction=1.0)


def test_format_bytes():
    assert M.format_bytes(512) == "512 B"
    assert M.format_bytes(1536) == "1.5 KiB"
    assert M.format_bytes(3 * 2**20) == "3.0 MiB"
    assert M.format_bytes(5 * 2**30 // 2) == "2.50 GiB"


# -- free memory -----------------------------------------------------------------

def _meminfo_available() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    pytest.skip("no MemAvailable in /proc/meminfo")


def test_available_memory_on_the_cpu_renderer(device):
    if not device.is_software:
        pytest.skip("this machine's EGL device is not a CPU renderer")
    avail = device.available_memory()
    assert isinstance(avail, int) and avail > 0
    expected = _meminfo_available()
    group = D._cgroup_available()
    if group is not None:
        expected = min(expected, group)
    assert abs(avail - expected) < 0.1 * expected + 256 * 2**20


def test_gl_query_through_egl_proc_address(device):
    """The ctypes glGetIntegerv path (used for the NVX/ATI queries) reads the right context."""
    assert D._gl_get_integers(device, GL_MAX_TEXTURE_SIZE) == [device.max_texture_size]
    with pytest.raises(RuntimeError):  # an enum the driver rejects is an error, not a number
        D._gl_get_integers(device, 0x1234)
    device.ctx.buffer(reserve=64).release()  # the context is still current for moderngl
    # with another context current, the query leaves that one current
    egl = D._egl()
    other = create_device()
    try:
        current = egl.eglGetCurrentContext()
        assert D._gl_get_integers(device, GL_MAX_TEXTURE_SIZE) == [device.max_texture_size]
        assert egl.eglGetCurrentContext() == current
        other.ctx.buffer(reserve=64).release()
    finally:
        other.release()
    device.ctx.__enter__()  # the module's device is current again for the tests after this one


def test_available_memory_never_raises(monkeypatch):
    class Fake:
        is_software = False
        extensions = {D.NVX_MEMINFO_EXT}
        ctx = None  # no context: the query fails

    assert D.available_memory(Fake()) is None
    Fake.extensions = set()
    assert D.available_memory(Fake()) is None  # no memory-info extension: unknown

    def boom(*a, **k):
        raise OSError("no /proc")

    monkeypatch.setattr(D, "_meminfo_available", boom)
    monkeypatch.setattr(D, "_cgroup_available", lambda: None)
    Fake.is_software = True
    assert D.available_memory(Fake()) is None
    monkeypatch.setattr(D, "_meminfo_available", lambda: None)
    monkeypatch.setattr(D, "_cgroup_available", lambda: 5 * 2**20)
    assert D.available_memory(Fake()) == 5 * 2**20  # no MemAvailable: the cgroup's room
    monkeypatch.setattr(D, "_meminfo_available", lambda: 8 * 2**20)
    assert D.available_memory(Fake()) == 5 * 2**20  # the smaller of the two
    Fake.is_software = False
    monkeypatch.setattr(D, "_gl_get_integers", lambda dev, pname, count=1: [2048, 0, 0, 0])
    Fake.extensions = {D.NVX_MEMINFO_EXT}
    assert D.available_memory(Fake()) == 2048 * 1024
    Fake.extensions = {D.ATI_MEMINFO_EXT}
    assert D.available_memory(Fake()) == 2048 * 1024


# -- atomic outputs --------------------------------------------------------------

def _img(h=16, w=24):
    return np.random.default_rng(0).random((h, w, 3), dtype=np.float32)


def test_atomic_write_bytes_replaces_with_0644_and_no_temp(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"old")
    os.chmod(path, 0o600)
    A.atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert os.listdir(tmp_path) == ["a.bin"]


@pytest.mark.parametrize("where", ["write", "replace"])
def test_disk_full_keeps_the_previous_picture(tmp_path, monkeypatch, where):
    path = tmp_path / "final.png"
    P.save_png(path, _img())
    before = path.read_bytes()

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    if where == "replace":
        monkeypatch.setattr(A.os, "replace", full)
    else:  # pillow's write of the temporary file fails
        monkeypatch.setattr(P.Image.Image, "save", full)
    with pytest.raises(OutputError) as info:
        P.save_png(path, 1.0 - _img())
    msg = str(info.value)
    assert "disk full" in msg and str(path) in msg and "intact" in msg
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["final.png"]


def test_every_picture_writer_is_atomic(tmp_path, monkeypatch):
    frames = [(0, _img()), (10, 1.0 - _img())]
    writers = {
        "final.png": lambda p: P.save_png(p, _img()),
        "comparison.png": lambda p: P.side_by_side(_img(), 1.0 - _img(), p),
        "progress.png": lambda p: P.progress_grid(frames, p),
        "progress.gif": lambda p: P.progress_gif(frames, p),
        "curve.png": lambda p: P.loss_curve([{"iteration": 0, "loss": 1.0, "psnr": 10.0},
                                             {"iteration": 5, "loss": 0.5, "psnr": 12.0}], p),
    }
    for name, write in writers.items():
        (tmp_path / name).write_bytes(b"previous " + name.encode())
    real_replace = os.replace

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(A.os, "replace", full)
    for name, write in writers.items():
        with pytest.raises(OutputError, match="disk full"):
            write(tmp_path / name)
        assert (tmp_path / name).read_bytes() == b"previous " + name.encode()
    assert sorted(os.listdir(tmp_path)) == sorted(writers)
    monkeypatch.setattr(A.os, "replace", real_replace)
    for name, write in writers.items():
        write(tmp_path / name)
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644
        assert not (tmp_path / name).read_bytes().startswith(b"previous")
    assert sorted(os.listdir(tmp_path)) == sorted(writers)


def test_soup_export_disk_full_keeps_previous_files(tmp_path, monkeypatch):
    pos = np.random.default_rng(1).random((4, 3, 3)).astype(np.float32)
    col = np.full((4, 3), 0.5, np.float32)
    paths = E.export_soup(pos, col, tmp_path)
    before = {p.name: p.read_bytes() for p in paths}

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(A.os, "fsync", full)  # a full disk may surface only when the data is flushed
    with pytest.raises(OutputError, match="disk full"):
        E.export_soup(pos * 2, col, tmp_path)
    assert {p.name: p.read_bytes() for p in paths} == before
    assert sorted(os.listdir(tmp_path)) == sorted(before)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through chmod 0500 (test_write_under_a_file and "
                                               "test_unwritable_folder cover root)")
def test_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    old = folder / "final.png"
    P.save_png(old, _img())
    before = old.read_bytes()
    folder.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="permission denied") as info:
            P.save_png(old, 1.0 - _img())
        assert "intact" in str(info.value)
        with pytest.raises(OutputError, match="permission denied"):
            P.save_png(folder / "new.png", _img())
    finally:
        folder.chmod(0o755)
    assert old.read_bytes() == before
    assert sorted(os.listdir(folder)) == ["final.png"]


def test_write_under_a_file(tmp_path):
    """A real OS refusal that holds for root too (ENOTDIR): one message naming the file, nothing written."""
    (tmp_path / "file").write_bytes(b"x")
    path = tmp_path / "file" / "final.png"
    with pytest.raises(OutputError) as info:
        P.save_png(path, _img())
    assert str(info.value) == f"{path}: cannot write (a parent is not a folder: Not a directory); nothing was written"
    with pytest.raises(OutputError, match=r"file/out: cannot create the output folder \(a parent is not a folder"):
        A.ensure_folder(tmp_path / "file" / "out")
    assert os.listdir(tmp_path) == ["file"] and (tmp_path / "file").read_bytes() == b"x"


def test_unwritable_folder(tmp_path, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    old = folder / "final.png"
    P.save_png(old, _img())
    before = old.read_bytes()

    # a folder that refuses new files (any user: the temporary file's creation is refused)
    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(A.tempfile, "mkstemp", denied)
    with pytest.raises(OutputError) as info:
        P.save_png(old, 1.0 - _img())
    assert str(info.value) == f"{old}: cannot write (permission denied); the previous file is intact"
    with pytest.raises(OutputError) as info:
        A.atomic_write_bytes(folder / "new.bin", b"x")
    assert str(info.value) == f"{folder / 'new.bin'}: cannot write (permission denied); nothing was written"
    assert old.read_bytes() == before
    assert sorted(os.listdir(folder)) == ["final.png"]


def test_read_only_filesystem_message(tmp_path, monkeypatch):
    def erofs(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(A.tempfile, "mkstemp", erofs)
    with pytest.raises(OutputError, match="read-only file system"):
        A.atomic_write_bytes(tmp_path / "x.bin", b"x")


def test_failure_that_is_not_an_oserror_is_passed_through_and_cleaned_up(tmp_path):
    with pytest.raises(ValueError):
        with A.atomic_path(tmp_path / "x.png") as tmp:
            tmp.write_bytes(b"partial")
            raise ValueError("encoder failed")
    assert os.listdir(tmp_path) == []


def test_output_folder_that_is_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    expected = f"{tmp_path / 'file'}: cannot create the output folder (a file of that name exists: File exists)"
    with pytest.raises(OutputError) as info:
        A.ensure_folder(tmp_path / "file")
    assert str(info.value) == expected
    pos = np.zeros((1, 3, 3), np.float32)
    with pytest.raises(OutputError) as info:
        E.export_soup(pos, np.zeros((1, 3), np.float32), tmp_path / "file")
    assert str(info.value) == expected
    assert (tmp_path / "file").read_text() == "x"
