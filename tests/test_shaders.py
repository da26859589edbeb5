"""The shader loader (diffrast_cli/gl/shaders.py): compile errors name ``file:line`` of the
file the error is in (includes too), DIFFRAST_GLSL_DIR is honoured (and a bad one is a clear
error), and a shader edited in place is read again (no stale cache: tests here do not depend
on their order)."""

from __future__ import annotations

import re
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from diffrast_cli.errors import GLError
from diffrast_cli.gl import bindings as B
from diffrast_cli.gl import shaders
from diffrast_cli.gl.passes import barrier, groups_1d, set_uniforms
from diffrast_cli.sge import rng
from tests.conftest import REPO

GLSL = REPO / "glsl"


@pytest.fixture(autouse=True)
def shipped_shaders(monkeypatch):
    """Every test starts from the shipped glsl/, whatever the environment says."""
    monkeypatch.delenv("DIFFRAST_GLSL_DIR", raising=False)


@pytest.fixture
def glsl_copy(tmp_path, monkeypatch) -> Path:
    """A copy of glsl/ that the loader uses (DIFFRAST_GLSL_DIR)."""
    folder = tmp_path / "glsl"
    shutil.copytree(GLSL, folder)
    monkeypatch.setenv("DIFFRAST_GLSL_DIR", str(folder))
    return folder


def replace_line(path: Path, number: int, text: str) -> None:
    lines = path.read_text().splitlines()
    lines[number - 1] = text
    path.write_text("\n".join(lines) + "\n")


def assert_user_error(result, out: Path) -> str:
    """The CLI's one stderr line for bad input: exit code 2, no traceback, no output folder."""
    code, stdout, stderr = result
    assert code == 2 and len(stderr.splitlines()) == 1, (code, stdout, stderr[-2000:])
    assert "Traceback" not in stdout + stderr and not out.exists()
    return stderr.strip()


def compile_error(ctx, program: str) -> str:
    with pytest.raises(GLError) as info:
        shaders.compute(ctx, program, {"NUM_GROUPS": 2})
    msg = str(info.value)
    assert "\n" not in msg
    return msg


# ------------------------------------------------------------------ compile errors name file:line
@pytest.mark.parametrize("program, file, line", [
    ("adam.comp", "include/groups.glsl", 5),       # inside an include
    ("adam.comp", "include/groups.glsl", 1),       # an include's first line
    ("adam.comp", "adam.comp", 2),                 # right after #version and the injected defines
    ("adam.comp", "adam.comp", 31),                # after the includes
    ("perturb.comp", "include/rng.glsl", 18),      # the last line of the third include
    ("perturb.comp", "perturb.comp", 12),          # between includes and code
])
def test_compile_error_names_the_file_and_line(device, glsl_copy, program, file, line):
    replace_line(glsl_copy / file, line, "float broken = ;")
    msg = compile_error(device.ctx, program)
    assert re.match(rf"shader {re.escape(program)} \(compute\) does not compile: {re.escape(file)}:{line}\b.*error",
                    msg), msg


def test_compile_error_through_the_cli(run_cli, job_file, tmp_path):
    """A broken fragment shader: one line naming id.frag and the broken line, exit 2, no output folder."""
    folder = tmp_path / "glsl"
    shutil.copytree(GLSL, folder)
    lines = [t.strip() for t in (folder / "id.frag").read_text().splitlines()]
    n = lines.index("o_id = v_id;") + 1           # the line the soup's program compiles
    assert n > 1
    replace_line(folder / "id.frag", n, "    o_id = ;")
    out = tmp_path / "out"
    line = assert_user_error(run_cli("optimize", job_file, "--out", out, "-q", env={"DIFFRAST_GLSL_DIR": folder}),
                             out=out)
    # Mesa writes "id.frag:N: error ...", NVIDIA "id.frag:N : error ...": the file and line, then not a digit
    assert re.match(rf"diffrast: GL error: shader id\.frag \(fragment\) does not compile: id\.frag:{n}\D", line), line


def test_driver_logs_are_rewritten_to_file_and_line():
    src = shaders.ShaderSource("adam.comp", {"NUM_GROUPS": 2})
    assert src.files == ["adam.comp", "include/buffers.glsl", "include/groups.glsl"]
    mesa = "2:5(14): error: syntax error, unexpected ';'"
    assert src.explain(mesa) == "include/groups.glsl:5: error: syntax error, unexpected ';'"
    nvidia = "0(12) : error C1008: undefined variable \"x\""
    assert src.explain(nvidia) == "adam.comp:12 : error C1008: undefined variable \"x\""
    assert src.explain("7:3(1): error: x") == "7:3(1): error: x"          # no such source string: left alone


def test_line_directives_keep_every_line_number():
    """Each line of the preprocessed text maps back (through #line) to the same text in its file."""
    aliases = {"scene": "scene/soup/soup_shade.glsl", "visibility": "resolve.glsl", "scene_spread": "spread_none.glsl"}
    src = shaders.ShaderSource("gradient.comp", {"NUM_GROUPS": 2}, aliases=aliases)
    current, number = None, None
    checked = 0
    for text in src.text.splitlines():
        m = re.fullmatch(r"#line (\d+) (\d+)", text)
        if m:
            number, current = int(m.group(1)), src.files[int(m.group(2))]
            continue
        if current is not None:
            assert (GLSL / current).read_text().splitlines()[number - 1] == text, (current, number)
            number += 1
            checked += 1
    assert checked > 200 and len(src.files) > 8


# ------------------------------------------------------------------ DIFFRAST_GLSL_DIR
def run_perturb(ctx, params: np.ndarray, eps: float, seed=3, iteration=5, pair=1, sigma=1.0) -> np.ndarray:
    """perturb.comp over one parameter group: theta + sigma * s_i * eps, as the loader builds it now."""
    prog = shaders.compute(ctx, "perturb.comp", {"NUM_GROUPS": 1})
    count = len(params)
    group = struct.pack("<8I4f", 0, count, 1, 0, 0, 0, 0, 0, eps, 0.0, -1e9, 1e9)   # struct Group (std430)
    bufs = {B.SSBO_PARAMS: ctx.buffer(params.astype(np.float32).tobytes()), B.SSBO_GROUPS: ctx.buffer(group),
            B.SSBO_OUT: ctx.buffer(reserve=4 * count)}
    try:
        for binding, buf in bufs.items():
            buf.bind_to_storage_buffer(binding)
        set_uniforms(prog, u_count=count, u_seed=seed, u_iteration=iteration, u_pair=pair, u_sigma=sigma)
        prog.run(*groups_1d(count))
        barrier(ctx)
        return np.frombuffer(bufs[B.SSBO_OUT].read(), np.float32).copy()
    finally:
        for buf in bufs.values():
            buf.release()
        prog.release()


def test_glsl_dir_override_is_used(device, tmp_path, monkeypatch):
    params = np.linspace(-1.0, 1.0, 300, dtype=np.float32)
    monkeypatch.delenv("DIFFRAST_GLSL_DIR", raising=False)
    shipped = run_perturb(device.ctx, params, eps=0.25)
    signs = rng.param_signs(300, int(rng.pair_key(3, 5, 1)))
    np.testing.assert_array_equal(shipped, params + signs * np.float32(0.25))

    folder = tmp_path / "glsl"
    shutil.copytree(GLSL, folder)
    perturb = folder / "include" / "perturb.glsl"
    text = perturb.read_text()
    assert "return params[i] + sigma * param_sign(i, key) * eps;" in text
    perturb.write_text(text.replace("return params[i] + sigma", "return 1000.0 + params[i] + sigma"))
    monkeypatch.setenv("DIFFRAST_GLSL_DIR", str(folder))
    assert shaders.glsl_dir() == folder
    assert "return 1000.0 + params[i]" in shaders.ShaderSource("perturb.comp", {"NUM_GROUPS": 1}).text
    np.testing.assert_allclose(run_perturb(device.ctx, params, eps=0.25), shipped + 1000.0, rtol=0, atol=1e-4)

    monkeypatch.delenv("DIFFRAST_GLSL_DIR")                 # and back: the shipped shaders again
    np.testing.assert_array_equal(run_perturb(device.ctx, params, eps=0.25), shipped)


def test_shader_edited_in_place_is_read_again(device, glsl_copy):
    groups = glsl_copy / "include" / "groups.glsl"
    good = groups.read_text()
    replace_line(groups, 5, "float broken = ;")
    assert "include/groups.glsl:5" in compile_error(device.ctx, "adam.comp")
    groups.write_text(good)
    shaders.compute(device.ctx, "adam.comp", {"NUM_GROUPS": 2}).release()     # fixed: it builds
    replace_line(glsl_copy / "adam.comp", 31, "float broken = ;")
    assert "adam.comp:31" in compile_error(device.ctx, "adam.comp")


def test_missing_glsl_dir_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("DIFFRAST_GLSL_DIR", str(tmp_path / "nope"))
    with pytest.raises(GLError, match=rf"^DIFFRAST_GLSL_DIR={re.escape(str(tmp_path / 'nope'))}: no such shader folder$"):
        shaders.ShaderSource("adam.comp")
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("DIFFRAST_GLSL_DIR", str(tmp_path / "empty"))
    with pytest.raises(GLError, match=rf"^{re.escape(str(tmp_path / 'empty' / 'adam.comp'))}: cannot read shader "
                                      r"\(No such file or directory\)$"):
        shaders.ShaderSource("adam.comp")
    shutil.copytree(GLSL, tmp_path / "partial")
    (tmp_path / "partial" / "include" / "groups.glsl").unlink()
    monkeypatch.setenv("DIFFRAST_GLSL_DIR", str(tmp_path / "partial"))
    with pytest.raises(GLError, match=r'^adam.comp: #include "groups.glsl" not found under '):
        shaders.ShaderSource("adam.comp")


def test_missing_glsl_dir_through_the_cli(run_cli, job_file, tmp_path):
    out = tmp_path / "out"
    line = assert_user_error(run_cli("optimize", job_file, "--out", out, "-q",
                                     env={"DIFFRAST_GLSL_DIR": tmp_path / "nope"}), out=out)
    assert line == f"diffrast: GL error: DIFFRAST_GLSL_DIR={tmp_path / 'nope'}: no such shader folder"
