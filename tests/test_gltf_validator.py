"""The GLB files diffrast writes (io.mesh_export.export_glb, also behind export_mesh and a
mesh job's output) against the Khronos glTF-Validator (npm package gltf-validator).

The validator is installed once, by the first test that needs it, into <repo>/.cache/
gltf-validator (git-ignored) with npm; the tests skip only where node (or, before that
install, npm) is missing. A failing install is an error naming the command.
"""

from __future__ import annotations

import copy
import json
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

from diffrast_cli.io.mesh_export import export_glb, export_mesh
from diffrast_cli.io.meshes import compute_vertex_normals, icosphere
from tests.mesh_scenes import grid_mesh

REPO = Path(__file__).resolve().parents[1]
VALIDATOR_VERSION = "2.0.0-dev.3.10"
PREFIX = REPO / ".cache" / "gltf-validator"
SCRIPT = Path(__file__).with_name("gltf_validate.js")
ERROR, WARNING = 0, 1


def _installed_version(prefix: Path) -> str | None:
    try:
        return json.loads((prefix / "node_modules" / "gltf-validator" / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


@pytest.fixture(scope="session")
def validate():
    """validate(paths) -> the validator's report (a dict) for each file."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not found on PATH: the Khronos glTF-Validator runs on Node.js")
    if _installed_version(PREFIX) != VALIDATOR_VERSION:
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip(f"npm not found on PATH, needed once to install gltf-validator into {PREFIX}")
        PREFIX.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix="gltf-validator.", dir=PREFIX.parent))
        cmd = [npm, "install", "--no-save", "--no-audit", "--no-fund", "--ignore-scripts",
               "--prefix", str(staging), f"gltf-validator@{VALIDATOR_VERSION}"]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired:
            shutil.rmtree(staging, ignore_errors=True)
            pytest.fail(f"`{' '.join(cmd)}` took more than 600 s", pytrace=False)
        if proc.returncode != 0 or _installed_version(staging) != VALIDATOR_VERSION:
            shutil.rmtree(staging, ignore_errors=True)
            pytest.fail(f"installing the glTF validator failed (exit {proc.returncode}): `{' '.join(cmd)}`\n"
                        f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}", pytrace=False)
        shutil.rmtree(PREFIX, ignore_errors=True)
        try:
            staging.rename(PREFIX)                     # whole, or not at all
        except OSError:                                # another session installed it meanwhile
            shutil.rmtree(staging, ignore_errors=True)
        assert _installed_version(PREFIX) == VALIDATOR_VERSION

    def run(paths) -> list[dict]:
        proc = subprocess.run([node, str(SCRIPT), str(PREFIX), *map(str, paths)],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, f"{SCRIPT.name} failed (exit {proc.returncode}): {proc.stderr[-2000:]}"
        reports = json.loads(proc.stdout)
        assert len(reports) == len(paths)
        for r in reports:
            assert r["validatorVersion"] == VALIDATOR_VERSION
        return reports

    return run


def issues(report: dict, worst: int = WARNING) -> list[str]:
    return [f"{m['code']} ({'error' if m['severity'] == ERROR else 'warning'}) at "
            f"{m.get('pointer', m.get('offset'))}: {m['message']}"
            for m in report["issues"]["messages"] if m["severity"] <= worst]


# -- the exports -----------------------------------------------------------------------

def _colors(n, seed=0):
    return np.random.default_rng(seed).uniform(0.0, 1.0, (n, 3)).astype(np.float32)


def _textured():
    mesh = grid_mesh(n=5)
    mesh.texture = np.random.default_rng(1).uniform(0, 1, (3, 5, 3)).astype(np.float32)  # 5 x 3, not square
    return mesh


def _textured_normals():
    mesh = _textured()
    mesh.normals = compute_vertex_normals(mesh.positions, mesh.faces)[mesh.faces]
    return mesh


def _vertex_colors():
    mesh = icosphere(2, 0.9)                  # with per-corner normals
    mesh.vertex_colors = _colors(len(mesh.positions))
    return mesh


def _textured_vertex_colors():
    mesh = _textured()
    mesh.vertex_colors = _colors(len(mesh.positions), 2)
    return mesh


def _uvs_without_texture():
    mesh = grid_mesh(n=4)
    mesh.texture = None
    return mesh


def _plain():
    mesh = icosphere(1, 0.9)
    mesh.normals = None
    return mesh


def _unit_sphere_with_normals():
    """A unit icosphere: its normals are its positions, byte for byte."""
    mesh = icosphere(2, 1.0)
    mesh.vertex_colors = _colors(len(mesh.positions), 3)
    return mesh


CASES = {   # name: (mesh, has texture image (W, H) or None, TEXCOORD sets)
    "textured": (_textured, (5, 3), 1),
    "textured_normals": (_textured_normals, (5, 3), 1),
    "vertex_colors": (_vertex_colors, None, 0),
    "textured_vertex_colors": (_textured_vertex_colors, (5, 3), 1),
    "uvs_without_texture": (_uvs_without_texture, None, 1),
    "plain": (_plain, None, 0),
    "unit_sphere_with_normals": (_unit_sphere_with_normals, None, 0),
}
@pytest.fixture(scope="module")
def reports(validate, tmp_path_factory):
    """Every case exported (the textured one through export_mesh, as a job's output is) and
    validated in one node run: {name: (mesh, report)}."""
    out = tmp_path_factory.mktemp("glb")
    meshes, paths = {}, []
    for name, (make, _, _) in CASES.items():
        meshes[name] = make()
        if name == "textured":
            path = export_mesh(meshes[name], out, stem=name)[-1]
            assert path.suffix == ".glb"
        else:
            path = export_glb(meshes[name], out, stem=name)
        paths.append(path)
    return {name: (meshes[name], r) for name, r in zip(CASES, validate(paths))}


@pytest.mark.parametrize("name", list(CASES))
def test_exported_glb_passes_the_khronos_validator(reports, name):
    mesh, report = reports[name]
    _, image, uv_sets = CASES[name]
    assert report["mimeType"] == "model/gltf-binary"
    found = issues(report)
    assert report["issues"]["numErrors"] == 0, f"{name}: " + "\n".join(found)
    assert report["issues"]["numWarnings"] == 0, f"{name}: " + "\n".join(found)
    info = report["info"]
    assert info["totalTriangleCount"] == len(mesh.faces)
    assert info["drawCallCount"] == 1
    assert info["maxUVs"] == uv_sets
    assert info["hasTextures"] == (image is not None)
    images = [r["image"] for r in info["resources"] if "image" in r]
    if image is not None:
        assert len(images) == 1 and (images[0]["width"], images[0]["height"]) == image
        assert images[0]["format"] == "rgb" and images[0]["bits"] == 8
    else:
        assert images == []


# -- the harness can fail: corrupted copies of a valid export ---------------------------

def _split_glb(data: bytes) -> tuple[dict, bytearray]:
    magic, version, length = struct.unpack("<4sII", data[:12])
    assert (magic, version, length) == (b"glTF", 2, len(data))
    n, kind = struct.unpack("<I4s", data[12:20])
    assert kind == b"JSON"
    tree = json.loads(data[20:20 + n])
    m, kind = struct.unpack("<I4s", data[20 + n:28 + n])
    assert kind == b"BIN\0"
    return tree, bytearray(data[28 + n:28 + n + m])


def _pack_glb(tree: dict, binary: bytes) -> bytes:
    text = json.dumps(tree).encode()
    text += b" " * (-len(text) % 4)
    binary = bytes(binary) + b"\0" * (-len(binary) % 4)
    body = struct.pack("<I4s", len(text), b"JSON") + text + struct.pack("<I4s", len(binary), b"BIN\0") + binary
    return struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body


def test_the_validator_rejects_corrupted_exports(validate, tmp_path):
    tree, binary = _split_glb(export_glb(_textured(), tmp_path, stem="ok").read_bytes())
    prim = tree["meshes"][0]["primitives"][0]
    position, indices = prim["attributes"]["POSITION"], prim["indices"]
    index_view = tree["bufferViews"][tree["accessors"][indices]["bufferView"]]
    image_view = tree["bufferViews"][tree["images"][0]["bufferView"]]
    cases = {}   # name: (bytes, expected codes, severity)
    cases["repacked"] = (_pack_glb(tree, binary), set(), None)     # control: the packing itself is fine
    t = copy.deepcopy(tree)
    t["accessors"][position]["max"][0] -= 0.5
    cases["position_max"] = (_pack_glb(t, binary), {"ACCESSOR_MAX_MISMATCH"}, ERROR)
    t = copy.deepcopy(tree)
    t["accessors"][indices]["count"] += 3
    cases["index_count"] = (_pack_glb(t, binary), {"ACCESSOR_TOO_LONG"}, ERROR)
    b = bytearray(binary)
    start = index_view.get("byteOffset", 0) + tree["accessors"][indices].get("byteOffset", 0)
    b[start:start + 4] = struct.pack("<I", 1000)                   # a corner past the last vertex
    cases["index_out_of_range"] = (_pack_glb(tree, b), {"ACCESSOR_INDEX_OOB"}, ERROR)
    cases["truncated"] = (_pack_glb(tree, binary)[:-16], {"GLB_UNEXPECTED_END_OF_CHUNK_DATA"}, ERROR)
    b = bytearray(binary)
    start = image_view.get("byteOffset", 0)
    b[start:start + 4] = b"JUNK"                                   # not a PNG any more
    cases["image"] = (_pack_glb(tree, b), {"IMAGE_UNRECOGNIZED_FORMAT"}, WARNING)
    paths = []
    for name, (data, _, _) in cases.items():
        paths.append(tmp_path / f"{name}.glb")
        paths[-1].write_bytes(data)
    for (name, (_, codes, severity)), report in zip(cases.items(), validate(paths)):
        found = {m["code"] for m in report["issues"]["messages"] if severity is not None and m["severity"] == severity}
        if severity is None:
            assert report["issues"]["numErrors"] == 0 and report["issues"]["numWarnings"] == 0, issues(report)
        elif severity == ERROR:
            assert report["issues"]["numErrors"] > 0 and codes <= found, (name, issues(report))
        else:
            assert report["issues"]["numWarnings"] > 0 and codes <= found, (name, issues(report))
