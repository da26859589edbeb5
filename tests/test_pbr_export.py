"""io.pbr_export / io.pbr_import: PBR materials out to GLB, .gltf and OBJ + MTL, and back
through load_mesh; the Khronos glTF-Validator on the glTF files."""

from __future__ import annotations

import importlib.util
import json
import struct
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

from diffrast_cli.errors import InputError
from diffrast_cli.io.material import PbrMaterial, constant_material, linear_to_srgb
from diffrast_cli.io.meshes import load_mesh
from diffrast_cli.io.pbr_export import export_pbr_glb, export_pbr_gltf, export_pbr_obj
from tests.mesh_scenes import grid_mesh
from tests.test_gltf_validator import issues, validate  # noqa: F401  (the validator fixture)

H, W = 4, 6
REPO = Path(__file__).resolve().parents[1]


def _unit_normals(rng, shape):
    n = rng.normal(size=shape + (3,))
    n[..., 2] = np.abs(n[..., 2]) + 1.0
    return (n / np.linalg.norm(n, axis=-1, keepdims=True)).astype(np.float32)


def _material(seed=0, occlusion=True, height=True) -> PbrMaterial:
    rng = np.random.default_rng(seed)
    return PbrMaterial(base_color=rng.uniform(0, 1, (H, W, 3)).astype(np.float32),
                       roughness=rng.uniform(0.1, 1, (H, W)).astype(np.float32),
                       metallic=rng.uniform(0, 1, (H, W)).astype(np.float32),
                       normal=_unit_normals(rng, (H, W)),
                       occlusion=rng.uniform(0, 1, (H, W)).astype(np.float32) if occlusion else None,
                       height=rng.uniform(0, 1, (8, 8)).astype(np.float32) if height else None,
                       height_strength=0.125, height_midlevel=0.25, name="painted")


def _mesh(material=None):
    mesh = grid_mesh(n=5)
    mesh.texture = None
    mesh.material = _material() if material is None else material
    return mesh


def _glb_json(path) -> dict:
    data = path.read_bytes()
    (n,) = struct.unpack_from("<I", data, 12)
    return json.loads(data[20:20 + n])


def _check_maps(loaded: PbrMaterial, written: PbrMaterial):
    # 8-bit quantisation: 1/510 in the stored value; sRGB decoding stretches it up to ~2.4x near 1
    np.testing.assert_allclose(loaded.base_color, written.base_color, atol=6e-3)
    for key in ("roughness", "metallic", "occlusion"):
        if getattr(written, key) is None:
            assert getattr(loaded, key) is None, key
        else:
            np.testing.assert_allclose(getattr(loaded, key), getattr(written, key), atol=2.5e-3, err_msg=key)
    np.testing.assert_allclose(np.linalg.norm(loaded.normal, axis=-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(loaded.normal, written.normal, atol=1e-2)
    if written.height is not None:
        np.testing.assert_allclose(loaded.height, written.height, atol=1e-4)
        assert (loaded.height_strength, loaded.height_midlevel) == (written.height_strength, written.height_midlevel)


@pytest.mark.parametrize("kind", ["glb", "gltf"])
def test_round_trip_through_load_mesh(tmp_path, kind):
    mesh = _mesh()
    path = export_pbr_glb(mesh, tmp_path, "m") if kind == "glb" else export_pbr_gltf(mesh, tmp_path, "m")[0]
    loaded = load_mesh(path)
    np.testing.assert_allclose(loaded.positions, mesh.positions, atol=1e-6)
    np.testing.assert_array_equal(loaded.faces, mesh.faces)
    np.testing.assert_allclose(loaded.uvs, mesh.uvs, atol=1e-6)
    assert isinstance(loaded.material, PbrMaterial) and loaded.material.name == "painted"
    _check_maps(loaded.material, mesh.material)
    # the base colour also stays MeshData.texture, as stored (sRGB), as before
    np.testing.assert_allclose(loaded.texture, linear_to_srgb(mesh.material.base_color), atol=2.5e-3)


def test_glb_has_tangents_normals_and_shared_occlusion(tmp_path):
    mesh = _mesh()
    doc = _glb_json(export_pbr_glb(mesh, tmp_path, "m"))
    prim = doc["meshes"][0]["primitives"][0]
    assert {"POSITION", "NORMAL", "TEXCOORD_0", "TANGENT"} <= set(prim["attributes"])
    assert doc["accessors"][prim["attributes"]["TANGENT"]]["type"] == "VEC4"
    mat = doc["materials"][0]
    pbr = mat["pbrMetallicRoughness"]
    assert mat["occlusionTexture"]["index"] == pbr["metallicRoughnessTexture"]["index"]   # packed in R
    assert {"baseColorTexture", "metallicRoughnessTexture"} <= set(pbr) and "normalTexture" in mat
    height = mat["extras"]["diffrast_height"]
    assert height == {"image": 3, "strength": 0.125, "midlevel": 0.25} and len(doc["images"]) == 4
    assert len(doc["textures"]) == 3               # the height image is not a texture
    tm = trimesh.load(tmp_path / "m.glb", force="mesh", process=False)
    assert len(tm.faces) == len(mesh.faces)
    assert np.allclose(np.unique(tm.vertices, axis=0), np.unique(mesh.positions, axis=0), atol=1e-6)


def test_constant_maps_are_factors(tmp_path):
    mesh = _mesh(constant_material((0.2, 0.4, 0.6), roughness=0.3, metallic=1.0))
    doc = _glb_json(export_pbr_glb(mesh, tmp_path, "m"))
    pbr = doc["materials"][0]["pbrMetallicRoughness"]
    assert pbr == {"baseColorFactor": pytest.approx([0.2, 0.4, 0.6, 1.0]), "metallicFactor": 1.0,
                   "roughnessFactor": pytest.approx(0.3)}
    assert "images" not in doc and "textures" not in doc
    loaded = load_mesh(tmp_path / "m.glb").material
    assert loaded.base_color.shape == (1, 1, 3) and loaded.roughness.shape == (1, 1)
    np.testing.assert_allclose(loaded.base_color.ravel(), [0.2, 0.4, 0.6], atol=2.5e-3)   # trimesh: 8-bit factor
    np.testing.assert_allclose([loaded.roughness[0, 0], loaded.metallic[0, 0]], [0.3, 1.0], atol=1e-6)
    assert loaded.normal is None and loaded.occlusion is None and loaded.height is None


def test_one_constant_of_roughness_and_metallic_shares_the_image(tmp_path):
    mat = _material(occlusion=False, height=False)
    mat.metallic = np.full((1, 1), 0.75, np.float32)
    loaded = load_mesh(export_pbr_glb(_mesh(mat), tmp_path, "m")).material
    np.testing.assert_allclose(loaded.roughness, mat.roughness, atol=2.5e-3)
    np.testing.assert_allclose(loaded.metallic, np.full((H, W), 0.75), atol=2.5e-3)
    assert loaded.occlusion is None


def test_gltf_writes_files_beside_it(tmp_path):
    paths = export_pbr_gltf(_mesh(), tmp_path, "m")
    assert paths[0].name == "m.gltf" and all(p.is_file() for p in paths)
    names = {p.name for p in paths}
    assert {"m.bin", "m_basecolor.png", "m_metallic_roughness.png", "m_normal.png", "m_height.png"} <= names
    height = Image.open(tmp_path / "m_height.png")
    assert height.mode.startswith("I") and height.size == (8, 8)   # 16-bit grayscale
    assert Image.open(tmp_path / "m_basecolor.png").mode == "RGB"


def test_obj_and_mtl(tmp_path):
    mesh = _mesh()
    paths = export_pbr_obj(mesh, tmp_path, "m")
    assert [p.name for p in paths[:2]] == ["m.obj", "m.mtl"] and all(p.is_file() for p in paths)
    mtl = (tmp_path / "m.mtl").read_text().splitlines()
    for line in ("newmtl painted", "map_Kd m_basecolor.png", "map_Pr m_roughness.png", "map_Pm m_metallic.png",
                 "norm m_normal.png", "map_Bump -bm 1 m_normal.png"):
        assert line in mtl, line
    assert any(line.startswith("disp ") and line.endswith("m_height.png") for line in mtl)
    assert "mtllib m.mtl" in (tmp_path / "m.obj").read_text() and "usemtl painted" in (tmp_path / "m.obj").read_text()
    rough = np.asarray(Image.open(tmp_path / "m_roughness.png"), dtype=np.float64) / 255.0
    np.testing.assert_allclose(rough, mesh.material.roughness, atol=2.5e-3)
    loaded = load_mesh(paths[0])                   # the existing loader: geometry and map_Kd
    np.testing.assert_allclose(loaded.uvs, mesh.uvs, atol=1e-6)
    np.testing.assert_allclose(loaded.texture, linear_to_srgb(mesh.material.base_color), atol=2.5e-3)


def test_obj_constant_factors(tmp_path):
    export_pbr_obj(_mesh(constant_material((0.2, 0.4, 0.6), roughness=0.3, metallic=1.0)), tmp_path, "m")
    mtl = (tmp_path / "m.mtl").read_text().splitlines()
    assert "Pr 0.3" in mtl and "Pm 1" in mtl and not any(line.startswith("map_") for line in mtl)
    kd = [float(x) for x in next(line for line in mtl if line.startswith("Kd")).split()[1:]]
    np.testing.assert_allclose(kd, linear_to_srgb([0.2, 0.4, 0.6]), atol=1e-5)   # sRGB like map_Kd


def test_maps_without_uvs_are_refused(tmp_path):
    mesh = _mesh()
    mesh.uvs = None
    with pytest.raises(ValueError, match="need uvs"):
        export_pbr_glb(mesh, tmp_path, "m")


def test_oversized_normal_texture_is_an_input_error(tmp_path, monkeypatch):
    mat = constant_material()
    mat.normal = _unit_normals(np.random.default_rng(0), (H, W))       # the only image
    export_pbr_glb(_mesh(mat), tmp_path, "m")
    monkeypatch.setattr("diffrast_cli.io.images.MAX_IMAGE_PIXELS", 20)   # the 6x4 map exceeds it
    with pytest.raises(InputError, match="embedded texture image 0 is 6x4, more than the 20 pixels"):
        load_mesh(tmp_path / "m.glb")


def test_khronos_validator_reports_no_errors_or_warnings(validate, tmp_path):
    paths = [export_pbr_glb(_mesh(), tmp_path, "full"), export_pbr_gltf(_mesh(), tmp_path, "full")[0]]
    separate = _material(height=False)
    separate.occlusion = np.full((2, 2), 0.5, np.float32)          # a size of its own: not packed
    paths.append(export_pbr_glb(_mesh(separate), tmp_path, "separate"))
    paths.append(export_pbr_glb(_mesh(constant_material()), tmp_path, "constant"))
    for path, report in zip(paths, validate(paths)):
        found = issues(report)
        assert report["issues"]["numErrors"] == 0, f"{path.name}: " + "\n".join(found)
        assert report["issues"]["numWarnings"] == 0, f"{path.name}: " + "\n".join(found)
        assert report["info"]["totalTriangleCount"] == 32


def test_the_reference_asset_is_what_its_script_makes():
    spec = importlib.util.spec_from_file_location("make_pbr_assets", REPO / "assets" / "make_pbr_assets.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    made = script.pbr_reference()
    loaded = load_mesh(REPO / "assets" / "pbr_reference.glb")
    assert len(loaded.faces) == len(made.faces) and loaded.material.base_color.shape == (256, 256, 3)
    _check_maps(loaded.material, made.material)
    assert set(np.unique(loaded.material.metallic)) == {0.0, 1.0}
    for key in ("base_color", "roughness", "metallic", "normal"):   # constant along the polar rows
        a = loaded.material.map(key)
        assert np.ptp(a[:32], axis=(0, 1)).max() == 0 and np.ptp(a[-32:], axis=(0, 1)).max() == 0, key
