"""Textures a scene kind declares (gl/declared.py TextureSpec): allocated, given a unit
of the scene's range, defined as TEX_SCENE_<NAME>, bound, and read in GLSL by R's
clean pass and by G. The kind here is the test kind quads (tests/kinds/quads) with
its shade include replaced by one that multiplies each quad's colour by the texel
of a declared 3x1 texture that the quad's id picks."""

from __future__ import annotations

from typing import Literal

import moderngl
import numpy as np
import pytest

from diffrast_cli.config import JobConfig
from diffrast_cli.errors import LimitError
from diffrast_cli.gl import bindings as B
from diffrast_cli.gl.declared import BufferSpec, DeclaredResources, TextureSpec
from diffrast_cli.problem import Problem
from diffrast_cli.scene import registry
from tests.gradcheck import check_gradient
from tests.kinds.quads import SPEC as QUADS, Quads, QuadsConfig
from tests.scenes import gradient_target
from tests.test_scene_kinds import W, quads_theta

TINT = np.array([[1.0, 0.5, 0.25, 1.0], [0.2, 1.0, 0.6, 1.0], [0.7, 0.3, 1.0, 1.0]], np.float32)   # texel q: quad q

TINTED_SHADE = """// The quads' flat colour times texel q of the declared texture TINT (quad q).
layout(binding = TEX_SCENE_TINT) uniform sampler2D scene_tint;

vec3 scene_sample(uint id, ivec2 texel, uint cam, uint key, float sigma) {
    Group gc = groups[GROUP_COLORS];
    uint i = gc.offset + (id - 1u) * 3u;
    add_contributor(id - 1u);
    vec3 color = vec3(perturbed(i, gc.eps, key, sigma), perturbed(i + 1u, gc.eps, key, sigma),
                      perturbed(i + 2u, gc.eps, key, sigma));
    return color * texelFetch(scene_tint, ivec2(int(id) - 1, 0), 0).rgb;
}
"""


class TintedQuadsConfig(QuadsConfig):
    kind: Literal["tinted_quads"] = "tinted_quads"


class TintedQuads(Quads):
    kind = "tinted_quads"
    shade_include = "tinted_shade.glsl"

    def resources(self) -> list:
        return super().resources() + [TextureSpec("TINT", size=(3, 1), components=4, data=TINT.tobytes())]

    @property
    def shader_dirs(self) -> tuple:
        return (registry.get_kind(self.kind).shader_path(), QUADS.shader_path())   # own include, then the quads'


@pytest.fixture
def tinted(tmp_path):
    (tmp_path / "tinted_shade.glsl").write_text(TINTED_SHADE)
    registry.register_kind(registry.KindSpec(name="tinted_quads", config=TintedQuadsConfig, factory=TintedQuads,
                                             shader_dir=tmp_path))
    registry.register_kind(QUADS)
    yield
    registry.unregister_kind("tinted_quads")
    registry.unregister_kind("quads")


def _problem(device, kind: str, extra: dict | None = None) -> Problem:
    cfg = {"name": kind, "target": {"image": "<memory>"}, "render": {"resolution": [W, W]},
           "scene": {"kind": kind, "quads": 3}, "optimize": {"samples": 64, **(extra or {})}}
    return Problem(JobConfig.model_validate(cfg), None, device=device, target=gradient_target(W, W))


def _render(device, kind: str) -> np.ndarray:
    problem = _problem(device, kind)
    try:
        problem.estimator.upload(quads_theta())
        return problem.estimator.color(0)
    finally:
        problem.release()


def test_declared_texture_is_read_by_the_kinds_shader(device, tinted):
    problem = _problem(device, "tinted_quads")
    try:
        declared = problem.estimator.declared
        assert declared.defines() == {"SSBO_SCENE_DEPTHS": B.SSBO_SCENE_FIRST, "TEX_SCENE_TINT": B.TEX_SCENE_FIRST}
        tex = declared.textures["TINT"]
        assert tex.size == (3, 1) and tex.components == 4 and tex.filter == (moderngl.NEAREST, moderngl.NEAREST)
        assert np.array_equal(np.frombuffer(tex.read(), np.float32).reshape(3, 4), TINT)
    finally:
        problem.release()
    plain, tinted_img = _render(device, "quads"), _render(device, "tinted_quads")
    centres = quads_theta()[:24].reshape(3, 4, 2).mean(axis=1)               # clip space, y up
    for q, (x, y) in enumerate(centres):
        row, col = int((1 - y) / 2 * W), int((x + 1) / 2 * W)
        assert np.any(plain[row, col] > 0.05)
        assert np.allclose(tinted_img[row, col], plain[row, col] * TINT[q, :3], atol=1e-5), q
    background = np.all(plain == plain[0, 0], axis=2)
    assert background.any() and np.array_equal(tinted_img[background], plain[background])


def test_declared_texture_enters_the_gradient(device, tinted):
    """G reads the texture too: the colour gradient of the tinted quads matches finite differences."""
    problem = _problem(device, "tinted_quads", {"iterations": 1})
    try:
        check_gradient(problem, quads_theta(), ("colors",), estimates=64)
    finally:
        problem.release()


def test_texture_specs_units_filter_and_size(device):
    ctx = device.ctx
    data = np.arange(2 * 2 * 3, dtype=np.uint8).tobytes()
    specs = [TextureSpec("A", (2, 2), components=3, dtype="f1", data=data, filter="linear"),
             TextureSpec("B", (4, 1), components=1)]
    assert DeclaredResources.nbytes(specs) == 12 + 16
    res = DeclaredResources(ctx, specs)
    try:
        assert res.defines() == {"TEX_SCENE_A": B.TEX_SCENE_FIRST, "TEX_SCENE_B": B.TEX_SCENE_FIRST + 1}
        assert res.textures["A"].filter == (moderngl.LINEAR, moderngl.LINEAR)
        assert res.textures["A"].read() == data
    finally:
        res.release()
    with pytest.raises(ValueError, match="upper-case"):
        DeclaredResources(ctx, [TextureSpec("tint", (1, 1))])
    with pytest.raises(ValueError, match="declared twice"):
        DeclaredResources(ctx, [TextureSpec("T", (1, 1)), TextureSpec("T", (1, 1))])
    units = int(ctx.info["GL_MAX_COMBINED_TEXTURE_IMAGE_UNITS"])
    with pytest.raises(LimitError, match="textures"):
        DeclaredResources(ctx, [TextureSpec(f"T{i}", (1, 1)) for i in range(units - B.TEX_SCENE_FIRST + 1)])


def test_per_copy_buffers_are_sized_for_every_copy(device):
    """A per-copy BufferSpec gets size x copies bytes (estimate and allocation agree); a plain
    one its size; a per-copy spec with data is refused."""
    specs = [BufferSpec("EACH", size=48, per_copy=True), BufferSpec("ONCE", size=48)]
    assert DeclaredResources.nbytes(specs, copies=6) == 6 * 48 + 48
    res = DeclaredResources(device.ctx, specs, copies=6)
    try:
        assert res.buffers["EACH"].size == 6 * 48 and res.buffers["ONCE"].size == 48
    finally:
        res.release()
    with pytest.raises(ValueError, match="per_copy"):
        DeclaredResources(device.ctx, [BufferSpec("BAD", data=b"\0" * 8, per_copy=True)], copies=2)


def test_per_copy_3d_textures_stack_the_copies_along_depth(device):
    """A per-copy 3D TextureSpec is one (w, h, d x copies) texture, clamped at its edges (what
    the memory estimate counts); one deeper than the device allows is a LimitError naming it;
    per-copy specs must be 3D without data."""
    ctx = device.ctx
    spec = TextureSpec("NODES", (3, 2, 5), dtype="f2", filter="linear", per_copy=True)
    assert DeclaredResources.nbytes([spec], copies=4) == 3 * 2 * 20 * 4 * 2
    res = DeclaredResources(ctx, [spec], copies=4)
    try:
        tex = res.textures["NODES"]
        assert tex.size == (3, 2, 20) and tex.dtype == "f2"
        assert not (tex.repeat_x or tex.repeat_y or tex.repeat_z)
    finally:
        res.release()
    side = int(ctx.info["GL_MAX_3D_TEXTURE_SIZE"])
    with pytest.raises(LimitError, match="texture DEEP needs"):
        DeclaredResources(ctx, [TextureSpec("DEEP", (2, 2, side // 2 + 1), per_copy=True)], copies=2)
    with pytest.raises(ValueError, match="per_copy textures are 3D"):
        TextureSpec("FLAT", (2, 2), per_copy=True)
