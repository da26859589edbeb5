"""Mesh export (diffrast_cli.io.mesh_export): OBJ/MTL/PNG and GLB round trips, the UV v convention."""

from __future__ import annotations

import errno
import importlib.util
import io
import json
import os
import stat
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from diffrast_cli.errors import OutputError
from diffrast_cli.io.mesh_export import export_glb, export_mesh, export_obj
from diffrast_cli.io.meshes import MeshData, compute_vertex_normals, icosphere, load_mesh

ASSETS = Path(__file__).resolve().parents[1] / "assets"


@pytest.fixture(scope="module")
def blob() -> MeshData:
    spec = importlib.util.spec_from_file_location("make_meshes", ASSETS / "make_meshes.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mesh = mod.textured_blob()
    # an asymmetric texture so that a flipped v or a flipped row order cannot go unnoticed
    h, w = 32, 64
    tex = np.zeros((h, w, 3), np.float32)
    tex[..., 0] = np.arange(w)[None, :] / (w - 1)
    tex[..., 1] = np.arange(h)[:, None] / (h - 1)          # green grows downwards (row 0 = top)
    tex[: h // 4, :, 2] = 1.0                              # a blue band at the top of the image
    mesh.texture = tex
    return mesh


def texture_png_u8(tex: np.ndarray) -> np.ndarray:
    return np.rint(np.clip(tex, 0, 1) * 255).astype(np.uint8)


def sample(tex: np.ndarray, uv) -> np.ndarray:
    """Nearest texel at OpenGL uv (v = 0 bottom) of a row-0-top texture."""
    h, w = tex.shape[:2]
    uv = np.asarray(uv, dtype=np.float64)
    col = np.clip(np.floor(uv[..., 0] * w).astype(int), 0, w - 1)
    row = np.clip(np.floor((1.0 - uv[..., 1]) * h).astype(int), 0, h - 1)
    return tex[row, col]


def assert_same_mesh(a: MeshData, b: MeshData, tex_atol=1 / 255 + 1e-6):
    assert a.positions.shape == b.positions.shape and a.faces.shape == b.faces.shape
    # the same vertices in the same order, the same faces in the same order
    np.testing.assert_allclose(b.positions, a.positions, atol=1e-6)
    np.testing.assert_array_equal(b.faces, a.faces)
    assert len(np.unique(b.positions, axis=0)) == len(b.positions)
    for key in ("uvs", "normals"):
        x, y = getattr(a, key), getattr(b, key)
        assert (x is None) == (y is None), key
        if x is not None:
            np.testing.assert_allclose(y, x, atol=1e-5, err_msg=key)
    assert (a.texture is None) == (b.texture is None)
    if a.texture is not None:
        assert b.texture.shape == a.texture.shape and b.texture.dtype == np.float32
        np.testing.assert_allclose(b.texture, a.texture, atol=tex_atol)
        # the colour each corner sees is the same before and after
        np.testing.assert_allclose(sample(b.texture, b.uvs), sample(a.texture, a.uvs), atol=tex_atol)


def glb_json(path: Path) -> dict:
    return glb_parts(path)[0]


def glb_parts(path: Path) -> tuple[dict, bytes]:
    """(JSON chunk, BIN chunk) of a GLB file, read by hand (not through trimesh)."""
    data = path.read_bytes()
    magic, version, length = struct.unpack_from("<4sII", data, 0)
    assert magic == b"glTF" and version == 2 and length == len(data)
    n, kind = struct.unpack_from("<I4s", data, 12)
    assert kind == b"JSON"
    tree = json.loads(data[20:20 + n])
    m, kind = struct.unpack_from("<I4s", data, 20 + n)
    assert kind == b"BIN\0"
    return tree, data[28 + n:28 + n + m]


def glb_view(tree: dict, blob: bytes, index: int) -> bytes:
    view = tree["bufferViews"][index]
    start = view.get("byteOffset", 0)
    return blob[start:start + view["byteLength"]]


def glb_accessor(tree: dict, blob: bytes, index: int) -> np.ndarray:
    acc = tree["accessors"][index]
    dtype = np.dtype({5126: "<f4", 5125: "<u4", 5123: "<u2", 5121: "u1"}[acc["componentType"]])
    width = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}[acc["type"]]
    view = tree["bufferViews"][acc["bufferView"]]
    assert view.get("byteStride", dtype.itemsize * width) == dtype.itemsize * width    # tightly packed
    data = glb_view(tree, blob, acc["bufferView"])
    return np.frombuffer(data, dtype, count=acc["count"] * width, offset=acc.get("byteOffset", 0)) \
        .reshape(acc["count"], width)


def obj_corners(text: str, key: str, width: int) -> np.ndarray:
    """The ``key`` (vt or vn) value of every face corner of an OBJ text, (F, 3, width)."""
    values = np.array([[float(x) for x in line.split()[1:1 + width]] for line in text.splitlines()
                       if line.startswith(key + " ")])
    slot = {"vt": 1, "vn": 2}[key]
    idx = np.array([[int(c.split("/")[slot]) - 1 for c in line.split()[1:]] for line in text.splitlines()
                    if line.startswith("f ")])
    return values[idx]


def test_obj_round_trip_and_v_convention(tmp_path, blob):
    paths = export_obj(blob, tmp_path, "blob")
    assert [p.name for p in paths] == ["blob.obj", "blob.mtl", "blob.png"]
    back = load_mesh(paths[0], need_uvs=True)
    assert_same_mesh(blob, back)
    # OBJ vt carries MeshData's uv unchanged (both OpenGL, v = 0 at the bottom), corner by corner
    text = paths[0].read_text()
    np.testing.assert_array_equal(obj_corners(text, "vt", 2).astype(np.float32), blob.uvs)
    # ... and the PNG is the texture with row 0 at the top (no flip)
    with Image.open(paths[2]) as im:
        np.testing.assert_array_equal(np.asarray(im.convert("RGB")), texture_png_u8(blob.texture))
    north = 0                                              # lat_long_sphere's vertex 0: the +y pole
    assert back.positions[north, 0] == 0 and back.positions[north, 2] == 0 and back.positions[north, 1] > 0
    assert np.allclose(back.uvs[back.faces == north][:, 1], 1.0)
    # ... and sees the top rows of the image (the blue band)
    assert (sample(back.texture, back.uvs[back.faces == north])[:, 2] == 1.0).all()
    assert "map_Kd blob.png" in paths[1].read_text()


def test_glb_round_trip_and_v_convention(tmp_path, blob):
    path = export_glb(blob, tmp_path, "blob")
    assert path.name == "blob.glb"
    back = load_mesh(path, need_uvs=True)
    assert_same_mesh(blob, back)
    tree = glb_json(path)
    prim = tree["meshes"][0]["primitives"][0]
    # glTF stores 1 - v (its v = 0 is the top of the image), read from the file itself
    tree, binary = glb_parts(path)
    faces = glb_accessor(tree, binary, prim["indices"]).reshape(-1, 3)
    uv = glb_accessor(tree, binary, prim["attributes"]["TEXCOORD_0"])[faces]
    xyz = glb_accessor(tree, binary, prim["attributes"]["POSITION"])[faces]
    np.testing.assert_array_equal(xyz, blob.positions[blob.faces])        # the same corners, in order
    np.testing.assert_array_equal(uv[..., 0], blob.uvs[..., 0])
    np.testing.assert_allclose(uv[..., 1], 1.0 - blob.uvs[..., 1].astype(np.float64), atol=6e-8)
    assert np.abs(uv[..., 1] - blob.uvs[..., 1]).max() > 0.9          # not v itself
    # the embedded image is the texture with row 0 at the top: glTF v = 0 (the north pole) is the blue band
    image = tree["images"][tree["textures"][0]["source"]]
    with Image.open(io.BytesIO(glb_view(tree, binary, image["bufferView"]))) as im:
        embedded = np.asarray(im.convert("RGB"))
    np.testing.assert_array_equal(embedded, texture_png_u8(blob.texture))
    pole = uv[blob.faces == 0]
    assert np.all(pole[:, 1] == 0.0)
    h, w = embedded.shape[:2]
    rows = np.floor(pole[:, 1] * h).astype(int)
    cols = np.floor(pole[:, 0] * w).astype(int).clip(0, w - 1)
    assert (embedded[rows, cols, 2] == 255).all()
    mat = tree["materials"][prim["material"]]["pbrMetallicRoughness"]
    assert "baseColorTexture" in mat and mat.get("metallicFactor") == 0.0
    assert tree["images"][0]["mimeType"] == "image/png" and "NORMAL" in prim["attributes"]
    north = 0
    assert (sample(back.texture, back.uvs[back.faces == north])[:, 2] == 1.0).all()


def test_export_mesh_writes_both_atomically(tmp_path, blob):
    out = tmp_path / "new" / "folder"
    paths = export_mesh(blob, out, "m")
    assert [p.name for p in paths] == ["m.obj", "m.mtl", "m.png", "m.glb"]
    assert sorted(os.listdir(out)) == sorted(p.name for p in paths)         # no temporary files left
    for p in paths:
        assert stat.S_IMODE(p.stat().st_mode) == 0o644
    obj, glb = load_mesh(paths[0]), load_mesh(paths[3])
    np.testing.assert_array_equal(obj.texture, glb.texture)
    np.testing.assert_allclose(obj.uvs, glb.uvs, atol=1e-6)


def test_vertex_colors_round_trip(tmp_path):
    ico = icosphere(2)
    ico.vertex_colors = (0.5 + 0.5 * ico.positions).astype(np.float32)
    ico.normals = None
    paths = export_obj(ico, tmp_path, "ico")
    assert [p.name for p in paths] == ["ico.obj"]
    for path in (paths[0], export_glb(ico, tmp_path, "ico")):
        back = load_mesh(path)
        assert_same_mesh(ico, back)
        assert back.uvs is None and back.texture is None
        np.testing.assert_allclose(back.vertex_colors, ico.vertex_colors, atol=0.5 / 255 + 1e-6)


def test_untextured_uvs_and_plain_geometry(tmp_path):
    ico = icosphere(1)
    p = ico.positions.astype(np.float64)[ico.faces]
    ico.uvs = (0.5 + 0.5 * p[..., :2]).astype(np.float32)    # uvs but no texture (a bake target)
    ico.normals = compute_vertex_normals(ico.positions, ico.faces)[ico.faces]
    for path in (export_obj(ico, tmp_path, "a")[0], export_glb(ico, tmp_path, "a")):
        back = load_mesh(path, need_uvs=True)
        assert_same_mesh(ico, back)
    bare = MeshData(ico.positions, ico.faces, None, None, None, None, "bare")
    for path in (export_obj(bare, tmp_path, "b")[0], export_glb(bare, tmp_path, "b")):
        back = load_mesh(path)
        assert_same_mesh(bare, back)
        assert back.normals is None and back.vertex_colors is None


def test_output_errors(tmp_path, blob):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="file"):
        export_obj(blob, tmp_path / "file")
    with pytest.raises(ValueError):
        export_glb(MeshData(np.zeros((3, 3), np.float32), np.array([[0, 1, 5]]), None, None, None, None, "x"),
                   tmp_path)


def _disk_full_for(monkeypatch, name: str) -> None:
    """ENOSPC when the temporary file of output ``name`` is synced (where a full disk surfaces)."""
    real = os.fsync

    def fsync(fd):
        if os.path.basename(os.readlink(f"/proc/self/fd/{fd}")).startswith(f".{name}."):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"),
                    reason="finds the file behind an fsync through /proc/self/fd (Linux)")
def test_full_disk_during_mesh_export(tmp_path, blob, monkeypatch):
    out = tmp_path / "new"
    # the texture cannot be written: an OutputError, and no OBJ that names a missing file
    _disk_full_for(monkeypatch, "m.png")
    with pytest.raises(OutputError, match="disk full") as err:
        export_mesh(blob, out, "m")
    assert "m.png" in str(err.value) and "\n" not in str(err.value)
    assert not (out / "m.obj").exists() and not (out / "m.png").exists()
    assert [n for n in os.listdir(out) if n.startswith(".")] == []
    monkeypatch.undo()
    paths = export_mesh(blob, out, "m")
    before = {p.name: p.read_bytes() for p in paths}
    # a later export that fails on the GLB keeps the previous GLB whole
    other = MeshData(blob.positions * 2, blob.faces, blob.uvs, blob.normals, 1.0 - blob.texture, None, "other")
    _disk_full_for(monkeypatch, "m.glb")
    with pytest.raises(OutputError, match="disk full"):
        export_mesh(other, out, "m")
    assert (out / "m.glb").read_bytes() == before["m.glb"]
    assert sorted(os.listdir(out)) == sorted(before)
    monkeypatch.undo()
    assert_same_mesh(blob, load_mesh(out / "m.glb", need_uvs=True))
