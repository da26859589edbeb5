"""Mesh loading (diffrast_cli.io.meshes): formats, welding, conventions, errors, generated assets."""

from __future__ import annotations

import base64
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

from diffrast_cli.errors import InputError
from diffrast_cli.io import meshes
from diffrast_cli.io.meshes import MeshData, compute_vertex_normals, icosphere, load_mesh, weld

REPO = Path(__file__).resolve().parents[1]
ASSETS = REPO / "assets"


def make_meshes_module():
    spec = importlib.util.spec_from_file_location("make_meshes", ASSETS / "make_meshes.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def texture_u8(h=4, w=8, seed=0) -> np.ndarray:
    return (np.random.default_rng(seed).random((h, w, 3)) * 255).astype(np.uint8)


def sample(tex: np.ndarray, uv) -> np.ndarray:
    """Nearest texel at OpenGL uv (v = 0 bottom) of a row-0-top texture."""
    h, w = tex.shape[:2]
    uv = np.asarray(uv, dtype=np.float64)
    col = np.clip((uv[..., 0] * w).astype(int), 0, w - 1)
    row = np.clip(((1.0 - uv[..., 1]) * h).astype(int), 0, h - 1)
    return tex[row, col]


QUAD_OBJ = """mtllib {mtl}
v 0 0 0
v 1 0 0
v 1 1 0
v 0 1 0
vt 0.1 0.1
vt 0.9 0.1
vt 0.9 0.9
vt 0.1 0.9
vn 0 0 1
usemtl m
f 1/1/1 2/2/1 3/3/1 4/4/1
"""


def write_quad(folder: Path, texture="tex.png", mtl_dir: str = "", map_line=None, image=None) -> Path:
    (folder / mtl_dir).mkdir(parents=True, exist_ok=True)
    mtl = Path(mtl_dir) / "quad.mtl"
    (folder / mtl).write_text(f"newmtl m\nKd 0.8 0.8 0.8\n{map_line or 'map_Kd ' + texture}\n")
    if image is not None:
        Image.fromarray(image).save(folder / mtl_dir / texture)
    obj = folder / "quad.obj"
    obj.write_text(QUAD_OBJ.format(mtl=mtl.as_posix()))
    return obj


def expect_error(path, match, **kw):
    with pytest.raises(InputError) as info:
        load_mesh(path, **kw)
    msg = str(info.value)
    assert str(path) in msg and "\n" not in msg
    assert match in msg, msg
    return msg


# ------------------------------------------------------------------------------ formats
def test_obj_mtl_png_quad(tmp_path):
    tex = texture_u8()
    m = load_mesh(write_quad(tmp_path, image=tex), need_uvs=True)
    assert m.name == "quad" and m.positions.dtype == np.float32 and m.faces.dtype == np.int32
    assert m.positions.shape == (4, 3) and m.faces.shape == (2, 3)          # quad -> 2 triangles
    assert m.uvs.shape == (2, 3, 2) and m.normals.shape == (2, 3, 3) and m.vertex_colors is None
    np.testing.assert_array_equal(m.texture, tex / np.float32(255))        # row 0 = top, as stored
    # OBJ vt is OpenGL: each corner's uv is the one written for that position, not flipped
    want = {(0, 0): (0.1, 0.1), (1, 0): (0.9, 0.1), (1, 1): (0.9, 0.9), (0, 1): (0.1, 0.9)}
    for f, uv in zip(m.faces, m.uvs):
        for vi, c in zip(f, uv):
            np.testing.assert_allclose(c, want[tuple(m.positions[vi, :2].astype(int))], atol=1e-7)
    np.testing.assert_allclose(m.normals, np.broadcast_to([0, 0, 1], (2, 3, 3)))
    # counter-clockwise seen from +z (the normal's side)
    p = m.positions[m.faces]
    assert (np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])[:, 2] > 0).all()


def test_obj_texture_resolved_relative_to_mtl(tmp_path):
    tex = texture_u8(seed=1)
    obj = write_quad(tmp_path, mtl_dir="materials", image=tex)
    np.testing.assert_array_equal(load_mesh(obj).texture, tex / np.float32(255))
    obj = write_quad(tmp_path / "b", map_line="map_Kd -s 1 1 1 tex.png", image=tex)
    np.testing.assert_array_equal(load_mesh(obj).texture, tex / np.float32(255))


def test_texture_modes_alpha_dropped(tmp_path):
    rgba = np.dstack([texture_u8(seed=2), np.full((4, 8), 7, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "tex.png")
    m = load_mesh(write_quad(tmp_path))
    np.testing.assert_array_equal(m.texture, rgba[:, :, :3] / np.float32(255))
    Image.fromarray(rgba[:, :, 0], "L").save(tmp_path / "tex.png")
    m = load_mesh(write_quad(tmp_path))
    assert m.texture.shape == (4, 8, 3) and np.allclose(m.texture[..., 1], rgba[:, :, 0] / 255)


def test_kd_without_texture_becomes_vertex_colors(tmp_path):
    (tmp_path / "c.mtl").write_text("newmtl red\nKd 1 0.25 0\n")
    (tmp_path / "c.obj").write_text("mtllib c.mtl\nv 0 0 0\nv 1 0 0\nv 0 1 0\nusemtl red\nf 1 2 3\n")
    m = load_mesh(tmp_path / "c.obj")
    assert m.texture is None and m.uvs is None
    np.testing.assert_allclose(m.vertex_colors, np.broadcast_to([1, 0.25, 0], (3, 3)), atol=1e-6)


def quad_trimesh(texture=None, uv=True, factor=None):
    v = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], float)
    f = np.array([[0, 1, 2], [0, 2, 3]])
    mat = trimesh.visual.material.PBRMaterial(
        baseColorTexture=None if texture is None else Image.fromarray(texture), baseColorFactor=factor)
    uvs = np.array([[0.1, 0.2], [0.9, 0.2], [0.9, 0.7], [0.1, 0.7]]) if uv else None
    return trimesh.Trimesh(v, f, visual=trimesh.visual.TextureVisuals(uv=uvs, material=mat), process=False)


def test_glb_embedded_texture_v_convention(tmp_path):
    tex = texture_u8(8, 8, seed=3)
    path = tmp_path / "q.glb"
    path.write_bytes(trimesh.exchange.gltf.export_glb(trimesh.Scene(quad_trimesh(tex))))
    m = load_mesh(path, need_uvs=True)
    np.testing.assert_array_equal(m.texture, tex / np.float32(255))
    # trimesh's uv (the same OpenGL convention as OBJ) comes back per corner, not flipped
    for f, uv in zip(m.faces, m.uvs):
        for vi, c in zip(f, uv):
            x, y = m.positions[vi, :2]
            np.testing.assert_allclose(c, [0.9 if x else 0.1, 0.7 if y else 0.2], atol=1e-6)


def gltf_quad(folder: Path, image_uri="tex.png", buffer_uri=None) -> Path:
    pos = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0]], np.float32)
    uv = np.array([[0.1, 0.8], [0.9, 0.8], [0.9, 0.3]], np.float32)      # glTF: v down
    blob = np.arange(3, dtype=np.uint32).tobytes() + pos.tobytes() + uv.tobytes()
    uri = buffer_uri or "data:application/octet-stream;base64," + base64.b64encode(blob).decode()
    tree = {"asset": {"version": "2.0"}, "scene": 0, "scenes": [{"nodes": [0]}], "nodes": [{"mesh": 0}],
            "meshes": [{"primitives": [{"attributes": {"POSITION": 1, "TEXCOORD_0": 2}, "indices": 0,
                                        "material": 0}]}],
            "materials": [{"pbrMetallicRoughness": {"baseColorTexture": {"index": 0}}}],
            "textures": [{"source": 0}], "images": [{"uri": image_uri}],
            "buffers": [{"byteLength": len(blob), "uri": uri}],
            "bufferViews": [{"buffer": 0, "byteOffset": 0, "byteLength": 12},
                            {"buffer": 0, "byteOffset": 12, "byteLength": 36},
                            {"buffer": 0, "byteOffset": 48, "byteLength": 24}],
            "accessors": [{"bufferView": 0, "componentType": 5125, "count": 3, "type": "SCALAR"},
                          {"bufferView": 1, "componentType": 5126, "count": 3, "type": "VEC3",
                           "min": [0, 0, 0], "max": [1, 1, 0]},
                          {"bufferView": 2, "componentType": 5126, "count": 3, "type": "VEC2"}]}
    path = folder / "q.gltf"
    path.write_text(json.dumps(tree))
    return path


def test_gltf_external_texture(tmp_path):
    tex = texture_u8(seed=4)
    Image.fromarray(tex).save(tmp_path / "tex.png")
    m = load_mesh(gltf_quad(tmp_path))
    np.testing.assert_array_equal(m.texture, tex / np.float32(255))
    np.testing.assert_allclose(m.uvs[0], [[0.1, 0.2], [0.9, 0.2], [0.9, 0.7]], atol=1e-6)   # 1 - v
    # a percent-encoded uri outside the glTF's folder (trimesh alone drops both silently)
    Image.fromarray(tex).save(tmp_path / "my tex.png")
    (tmp_path / "sub").mkdir()
    m = load_mesh(gltf_quad(tmp_path / "sub", image_uri="../my%20tex.png"))
    np.testing.assert_array_equal(m.texture, tex / np.float32(255))


def test_glb_base_color_factor(tmp_path):
    path = tmp_path / "f.glb"
    path.write_bytes(trimesh.exchange.gltf.export_glb(trimesh.Scene(quad_trimesh(uv=False, factor=[0.2, 0.4, 0.6, 1]))))
    m = load_mesh(path)
    assert m.texture is None and m.uvs is None
    np.testing.assert_allclose(m.vertex_colors, np.broadcast_to([0.2, 0.4, 0.6], (4, 3)), atol=1 / 255)


def test_ply_vertex_colors(tmp_path):
    colors = np.array([[255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 128], [10, 20, 30, 255]], np.uint8)
    mesh = trimesh.Trimesh(quad_trimesh().vertices, quad_trimesh().faces, vertex_colors=colors, process=False)
    for enc in ("binary", "ascii"):
        path = tmp_path / f"c_{enc}.ply"
        path.write_bytes(trimesh.exchange.ply.export_ply(mesh, encoding=enc))
        m = load_mesh(path)
        assert m.faces.shape == (2, 3) and m.uvs is None and m.texture is None
        np.testing.assert_allclose(m.vertex_colors, colors[:, :3] / 255.0, atol=1e-6)


def test_cube_of_quads(tmp_path):
    v = "".join(f"v {x} {y} {z}\n" for x in (0, 1) for y in (0, 1) for z in (0, 1))
    quads = [(1, 2, 4, 3), (5, 7, 8, 6), (1, 5, 6, 2), (3, 4, 8, 7), (1, 3, 7, 5), (2, 6, 8, 4)]
    (tmp_path / "cube.obj").write_text(v + "".join("f %d %d %d %d\n" % q for q in quads))
    m = load_mesh(tmp_path / "cube.obj")
    assert m.positions.shape == (8, 3) and m.faces.shape == (12, 3) and m.normals is None
    p = m.positions.astype(np.float64)[m.faces]
    volume = np.einsum("ij,ij->i", p[:, 0], np.cross(p[:, 1], p[:, 2])).sum() / 6
    assert volume == pytest.approx(1.0)                     # closed, outward, every quad split in 2


def test_two_object_scene_flattened(tmp_path):
    scene = trimesh.Scene()
    a, b = quad_trimesh(uv=False), quad_trimesh(uv=False)
    a.vertex_normals = np.tile([0.0, 0.0, 1.0], (4, 1))
    b.vertex_normals = np.tile([0.0, 0.0, 1.0], (4, 1))
    ta = trimesh.transformations.translation_matrix([5, 0, 0])
    tb = np.diag([2.0, 1.0, 0.5, 1.0]) @ trimesh.transformations.rotation_matrix(np.pi / 2, [1, 0, 0])
    scene.add_geometry(a, node_name="a", transform=ta)
    scene.add_geometry(b, node_name="b", transform=tb)
    path = tmp_path / "scene.glb"
    path.write_bytes(trimesh.exchange.gltf.export_glb(scene, include_normals=True))
    m = load_mesh(path)
    assert m.faces.shape == (4, 3) and m.positions.shape == (8, 3)
    want = np.concatenate([trimesh.transform_points(a.vertices, ta), trimesh.transform_points(b.vertices, tb)])
    got = {tuple(np.round(p, 5)) for p in m.positions}
    assert got == {tuple(np.round(p, 5)) for p in want}
    # normals: inverse transpose, unit; the rotated quad (z -> -y) faces -y
    for f, n in zip(m.faces, m.normals):
        p = m.positions[f].astype(np.float64)
        geo = np.cross(p[1] - p[0], p[2] - p[0])
        np.testing.assert_allclose(n, np.broadcast_to(geo / np.linalg.norm(geo), (3, 3)), atol=1e-6)
    assert {tuple(np.round(n[0], 6)) for n in m.normals} == {(0.0, 0.0, 1.0), (0.0, -1.0, 0.0)}


def test_mirrored_node_keeps_outward_winding(tmp_path):
    v = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], float)
    f = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]])
    scene = trimesh.Scene()
    scene.add_geometry(trimesh.Trimesh(v, f, process=False), transform=np.diag([-1.0, 1, 1, 1]))
    path = tmp_path / "mirror.glb"
    path.write_bytes(trimesh.exchange.gltf.export_glb(scene))
    m = load_mesh(path)
    p = m.positions.astype(np.float64)[m.faces]
    assert np.einsum("ij,ij->i", p[:, 0], np.cross(p[:, 1], p[:, 2])).sum() / 6 == pytest.approx(1 / 6)


def test_shared_texture_ok_different_textures_refused(tmp_path):
    tex = texture_u8(seed=5)
    Image.fromarray(tex).save(tmp_path / "a.png")
    Image.fromarray(255 - tex).save(tmp_path / "b.png")
    (tmp_path / "m.mtl").write_text("newmtl one\nmap_Kd a.png\nnewmtl two\nmap_Kd a.png\nnewmtl three\nmap_Kd b.png\n")
    body = "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nvt 0 0\nvt 1 0\nvt 0 1\n"
    (tmp_path / "ok.obj").write_text("mtllib m.mtl\n" + body + "usemtl one\nf 1/1 2/2 3/3\nusemtl two\nf 1/1 2/2 4/3\n")
    m = load_mesh(tmp_path / "ok.obj")
    assert m.faces.shape == (2, 3) and m.positions.shape == (4, 3)
    (tmp_path / "two.obj").write_text("mtllib m.mtl\n" + body + "usemtl one\nf 1/1 2/2 3/3\n"
                                      "usemtl three\nf 1/1 2/2 4/3\n")
    expect_error(tmp_path / "two.obj", "has 2 different textures; one texture per asset is supported")


# ------------------------------------------------------------------------------ welding, helpers
def test_blob_welded_across_the_uv_seam():
    path = ASSETS / "textured_blob.obj"
    m = load_mesh(path, need_uvs=True)
    assert len(np.unique(m.positions, axis=0)) == len(m.positions) == 2 + 47 * 96
    assert m.faces.shape == (9024, 3)
    raw = trimesh.load_scene(path, process=False)
    assert sum(len(g.vertices) for g in raw.geometry.values()) > len(m.positions)   # trimesh splits the seam
    e = np.sort(m.faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
    _, counts = np.unique(e, axis=0, return_counts=True)
    assert (counts == 2).all()                              # closed: no seam left open
    assert m.uvs.min() >= 0 and m.uvs.max() <= 1 and {0.0, 1.0} <= set(m.uvs[..., 0].ravel().tolist())


def test_weld():
    pos = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 0, 1e-9], [-0.0, 0, 0], [5, 5, 5]], np.float32)
    faces = np.array([[0, 1, 2], [4, 2, 3]])
    p, f = weld(pos, faces)
    assert p.shape == (3, 3) and f.tolist() == [[0, 1, 2], [0, 2, 1]]   # unreferenced [5,5,5] dropped
    p, f = weld(pos, faces, tol=0)
    assert p.shape == (4, 3)


def test_icosphere_and_normals():
    for s in (0, 1, 3):
        m = icosphere(s, radius=2.0)
        assert m.faces.shape == (20 * 4 ** s, 3) and len(m.positions) == 10 * 4 ** s + 2
        np.testing.assert_allclose(np.linalg.norm(m.positions, axis=1), 2.0, rtol=1e-6)
        p = m.positions.astype(np.float64)[m.faces]
        assert (np.einsum("ij,ij->i", np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), p.mean(1)) > 0).all()
        n = compute_vertex_normals(m.positions, m.faces)
        np.testing.assert_allclose(n, m.positions / 2.0, atol=0.05 if s == 0 else 0.02)
        np.testing.assert_allclose(np.linalg.norm(n, axis=1), 1.0, rtol=1e-6)
    with pytest.raises(ValueError, match="subdivisions must be an integer"):
        icosphere(-1)


# ------------------------------------------------------------------------------ errors
def test_error_missing_unsupported_empty(tmp_path):
    expect_error(tmp_path / "nope.obj", "not found")
    (tmp_path / "d.obj").mkdir()
    expect_error(tmp_path / "d.obj", "not a file")
    (tmp_path / "m.fbx").write_text("x")
    expect_error(tmp_path / "m.fbx", "unsupported mesh format")
    (tmp_path / "e.obj").write_text("")
    expect_error(tmp_path / "e.obj", "empty file")


@pytest.mark.parametrize("name, data, match", [
    ("garbage.obj", bytes(range(256)) * 8, "binary data"),
    ("latin.obj", "# caf\xe9\nv 0 0 0\n".encode("latin-1"), "no triangles"),
    ("points.obj", b"v 0 0 0\nv 1 0 0\nv 0 1 0\n", "no triangles"),
    ("nan.obj", b"v 0 nan 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n", "NaN or infinite"),
    ("inf.obj", b"v 0 inf 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n", "NaN or infinite"),
    ("index.obj", b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n", "vertex that does not exist"),
    ("degenerate.obj", b"v 0 0 0\nv 1 0 0\nf 1 2 2\n", "degenerate"),
    ("bad.glb", b"glTF\x02\x00\x00\x00garbage", "not a GLB file"),
    ("badjson.glb", b"glTF\x02\x00\x00\x00\x20\x00\x00\x00\x05\x00\x00\x00JSON{{{{{", "not a valid glTF"),
    ("bad.gltf", b"{not json", "not a valid glTF"),
    ("trunc.ply", b"ply\nformat binary_little_endian 1.0\nelement vertex 3\nproperty float x\n"
                  b"property float y\nproperty float z\nelement face 1\nproperty list uchar int vertex_indices\n"
                  b"end_header\n\x00\x00", "cannot read the mesh"),
    ("notply.ply", b"hello", "not a PLY file"),
    ("faces_only.obj", b"f 1 2 3\n", "no triangles"),
    ("zero.ply", b"ply\nformat ascii 1.0\nelement vertex 0\nproperty float x\nproperty float y\n"
                 b"property float z\nelement face 0\nproperty list uchar int vertex_indices\nend_header\n",
     "no triangles"),
    ("huge.ply", b"ply\nformat ascii 1.0\nelement vertex 100000000\nproperty float x\nend_header\n",
     "100000000 vertices, more than the 60000000 allowed"),
    ("nomesh.gltf", b'{"asset": {"version": "2.0"}, "nodes": [{"mesh": 3}]}', "malformed glTF"),
])
def test_error_bad_files(tmp_path, name, data, match):
    (tmp_path / name).write_bytes(data)
    expect_error(tmp_path / name, match)


def test_error_ply_face_index_out_of_range(tmp_path):
    (tmp_path / "i.ply").write_text("ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\n"
                                    "property float z\nelement face 1\nproperty list uchar int vertex_indices\n"
                                    "end_header\n0 0 0\n1 0 0\n0 1 0\n3 0 1 7\n")
    expect_error(tmp_path / "i.ply", "face indices outside")


def test_error_no_uvs(tmp_path):
    (tmp_path / "n.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    assert load_mesh(tmp_path / "n.obj").uvs is None
    expect_error(tmp_path / "n.obj", "has no UV coordinates; a texture needs them", need_uvs=True)


def test_error_missing_texture_and_mtl(tmp_path):
    obj = write_quad(tmp_path, texture="missing.png")
    msg = expect_error(obj, "missing.png")
    assert "not found" in msg and "quad.mtl" in msg
    (tmp_path / "quad.mtl").unlink()
    expect_error(obj, "material library quad.mtl not found")
    obj = write_quad(tmp_path / "c")
    (tmp_path / "c" / "tex.png").write_bytes(b"not a png")
    expect_error(obj, f"texture {tmp_path / 'c' / 'tex.png'}: not an image pillow can read")


def test_error_gltf_textures_and_buffers(tmp_path):
    expect_error(gltf_quad(tmp_path), "texture tex.png not found")
    (tmp_path / "tex.png").write_bytes(b"junk")
    expect_error(gltf_quad(tmp_path), "not an image")
    expect_error(gltf_quad(tmp_path, buffer_uri="gone.bin"), "buffer file gone.bin not found")
    # an embedded (bufferView) image that cannot be decoded: trimesh alone would drop it silently
    png = Image.fromarray(texture_u8())
    path = tmp_path / "q.glb"
    data = trimesh.exchange.gltf.export_glb(trimesh.Scene(quad_trimesh(np.asarray(png))))
    start = data.index(b"\x89PNG")
    path.write_bytes(data[:start] + b"\x00" * 16 + data[start + 16:])
    expect_error(path, "embedded texture image 0 cannot be decoded")


def test_error_too_many_faces(tmp_path, monkeypatch):
    monkeypatch.setattr(meshes, "MAX_FACES", 1)
    (tmp_path / "two.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\nf 1 3 2\n")
    expect_error(tmp_path / "two.obj", "more than the 1")
    (tmp_path / "quad.obj").write_text("v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nf 1 2 3 4\n")
    expect_error(tmp_path / "quad.obj", "2 triangles, more than the 1 allowed")


# ------------------------------------------------------------------------------ generated assets
def test_make_meshes_deterministic_and_shipped():
    mm = make_meshes_module()
    for fn in (mm.textured_blob, mm.target_shape, mm.lowpoly_start):
        a, b = fn(), fn()
        assert isinstance(a, MeshData)
        for key in ("positions", "faces", "uvs", "normals", "texture", "vertex_colors"):
            x, y = getattr(a, key), getattr(b, key)
            assert (x is None and y is None) or np.array_equal(x, y), (fn.__name__, key)
    blob = mm.textured_blob()
    shipped = load_mesh(ASSETS / "textured_blob.obj", need_uvs=True)
    np.testing.assert_allclose(shipped.positions, blob.positions, atol=1e-6)
    np.testing.assert_array_equal(shipped.faces, blob.faces)
    np.testing.assert_allclose(shipped.uvs, blob.uvs, atol=1e-6)
    np.testing.assert_allclose(shipped.texture, blob.texture, atol=0.5 / 255 + 1e-6)
    assert 256 <= blob.texture.shape[0] == blob.texture.shape[1]
    target = load_mesh(ASSETS / "target_shape.obj")
    assert 4000 <= len(target.faces) <= 6000 and target.texture is None
    assert np.linalg.norm(target.positions, axis=1).max() <= 1.0
    dense = load_mesh(ASSETS / "dense_reference.glb", need_uvs=True)
    low = load_mesh(ASSETS / "lowpoly_start.obj", need_uvs=True)
    assert 40_000 <= len(dense.faces) <= 80_000 and dense.texture.shape == (512, 512, 3)
    assert 0.07 <= len(low.faces) / len(dense.faces) <= 0.13
    total = sum(p.stat().st_size for p in ASSETS.glob("*") if p.stem in
                ("textured_blob", "target_shape", "dense_reference", "lowpoly_start"))
    assert total < 6 * 1024 * 1024
