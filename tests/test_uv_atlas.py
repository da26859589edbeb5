"""UV atlases for meshes without UVs (io.uv_atlas, scene/mesh/uvs.py): the atlas's quality and
determinism, the welded geometry kept, and jobs that generate one or refuse with one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from diffrast_cli.errors import ConfigError
from diffrast_cli.io.meshes import icosphere, lat_long_sphere
from diffrast_cli.io.uv_atlas import generate_uvs
from diffrast_cli.jobfile import load_job
from diffrast_cli.pipeline import run_job
from diffrast_cli.scene.mesh.config import MeshConfig
from diffrast_cli.scene.mesh.uvs import needs_atlas, with_uvs
from tests.test_gltf_validator import issues, validate  # noqa: F401 (validate: the validator fixture)

REPO = Path(__file__).resolve().parents[1]
BLOB = REPO / "assets" / "textured_blob.obj"


def _uv_coverage(uvs: np.ndarray, res: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """(count of triangles covering each texel centre, texels each triangle covers) of the
    UV triangles rasterised at ``res``², in numpy (edge functions, either winding)."""
    c = (np.arange(res) + 0.5) / res
    px, py = np.meshgrid(c, c)
    count = np.zeros((res, res), np.int32)
    per_tri = np.zeros(len(uvs), np.int64)
    for i, (a, b, d) in enumerate(uvs.astype(np.float64)):
        lo = np.floor(np.minimum(np.minimum(a, b), d) * res - 0.5).astype(int).clip(0, res - 1)
        hi = np.ceil(np.maximum(np.maximum(a, b), d) * res - 0.5).astype(int).clip(0, res - 1)
        x, y = px[lo[1]:hi[1] + 1, lo[0]:hi[0] + 1], py[lo[1]:hi[1] + 1, lo[0]:hi[0] + 1]

        def edge(p, q):
            return (q[0] - p[0]) * (y - p[1]) - (q[1] - p[1]) * (x - p[0])
        e0, e1, e2 = edge(a, b), edge(b, d), edge(d, a)
        inside = ((e0 >= 0) & (e1 >= 0) & (e2 >= 0)) | ((e0 <= 0) & (e1 <= 0) & (e2 <= 0))
        count[lo[1]:hi[1] + 1, lo[0]:hi[0] + 1] += inside
        per_tri[i] = inside.sum()
    return count, per_tri


def _areas(p: np.ndarray) -> np.ndarray:
    """Triangle areas of (F, 3, 2) or (F, 3, 3) corners."""
    e1, e2 = p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]
    if p.shape[-1] == 2:
        return 0.5 * np.abs(e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0])
    return 0.5 * np.linalg.norm(np.cross(e1, e2), axis=1)


@pytest.mark.parametrize("make", [lambda: icosphere(3), lambda: lat_long_sphere(12, 24)], ids=["ico", "latlong"])
def test_atlas_quality(make):
    mesh = make()
    uvs, charts = generate_uvs(mesh.positions, mesh.faces, resolution=256)
    assert uvs.shape == (len(mesh.faces), 3, 2) and uvs.dtype == np.float32
    assert charts > 1                                        # a closed sphere cannot flatten in one piece
    assert uvs.min() >= 0.0 and uvs.max() <= 1.0
    solid = _areas(mesh.positions[mesh.faces].astype(np.float64)) > 1e-12
    assert (_areas(uvs.astype(np.float64))[solid] > 1e-9).all()
    # each triangle's own: edge lengths in UV proportional to those in 3D (xatlas flattens with low distortion)
    corners = mesh.positions[mesh.faces].astype(np.float64)
    ratio = (np.linalg.norm(uvs - np.roll(uvs, 1, axis=1), axis=2)
             / np.linalg.norm(corners - np.roll(corners, 1, axis=1), axis=2))[solid]
    assert np.median(ratio.max(axis=1) / ratio.min(axis=1)) < 1.6
    count, per_tri = _uv_coverage(uvs)
    covered = (count > 0).sum()
    assert (count > 1).sum() < 0.01 * covered, "UV triangles overlap"
    assert covered > 0.3 * count.size                        # packed, not a speck in a corner


def test_overlap_check_can_fail():
    """The overlap measure sees a mapping that folds two triangles onto one another."""
    tri = np.array([[[0.1, 0.1], [0.9, 0.1], [0.1, 0.9]]] * 2, np.float32)
    count, per_tri = _uv_coverage(tri, 64)
    assert (count > 1).sum() == (count > 0).sum() > 0 and (per_tri > 0).all()


def test_atlas_is_deterministic_and_keeps_the_welded_geometry():
    mesh = icosphere(3)
    cfg = MeshConfig(icosphere={"subdivisions": 3}, texture={"resolution": 64})
    a, b = with_uvs(mesh, cfg, echo=False), with_uvs(icosphere(3), cfg, echo=False)
    assert np.array_equal(a.uvs, b.uvs)
    assert np.array_equal(a.positions, mesh.positions) and np.array_equal(a.faces, mesh.faces)
    assert mesh.uvs is None                                  # the caller's mesh is left as it was


def test_when_an_atlas_is_generated():
    ico = icosphere(1)
    assert needs_atlas(ico, MeshConfig(icosphere={}, texture={"resolution": 16}))
    assert needs_atlas(ico, MeshConfig(icosphere={}, texture={"init": [0.2, 0.3, 0.4]}))
    assert needs_atlas(ico, MeshConfig(icosphere={}, texture={"resolution": 16, "optimize": False}))
    assert not needs_atlas(ico, MeshConfig(icosphere={}))    # no texture asked for: vertex colours
    with_uv = with_uvs(ico, MeshConfig(icosphere={}, texture={"resolution": 16}), echo=False)
    assert not needs_atlas(with_uv, MeshConfig(icosphere={}, texture={"resolution": 16}))
    with pytest.raises(ConfigError, match=r"^scene\.texture\.uv_atlas: never, and mesh icosphere has no UV"):
        needs_atlas(ico, MeshConfig(icosphere={}, texture={"resolution": 16, "uv_atlas": "never"}))


def _job(tmp_path: Path, texture: str) -> Path:
    path = tmp_path / "job.yaml"
    path.write_text(f"""name: atlas
target: {{reference: {{mesh: {BLOB}}}}}
cameras: {{orbit: {{count: 6}}}}
render: {{resolution: 48}}
scene:
  kind: mesh
  icosphere: {{subdivisions: 2}}
  positions: {{optimize: false}}
  texture: {texture}
optimize: {{iterations: 60, views_per_iteration: 2}}
output: {{frames: 0}}
""")
    return path


def test_icosphere_texture_job_generates_an_atlas(tmp_path, capsys):
    job, base = load_job(_job(tmp_path, "{optimize: true, resolution: 64}"))
    report = run_job(job, base, tmp_path / "out", quiet=True)
    notes = [ln for ln in capsys.readouterr().err.splitlines() if "xatlas" in ln]
    assert len(notes) == 1 and "icosphere has no UV coordinates" in notes[0]
    assert report["final"]["loss"] < 0.8 * report["initial"]["loss"], (report["initial"], report["final"])
    for name in ("mesh.obj", "mesh.png", "mesh.glb"):
        assert (tmp_path / "out" / name).is_file()
    assert any(ln.startswith("vt ") for ln in (tmp_path / "out" / "mesh.obj").read_text().splitlines())


def test_icosphere_texture_glb_passes_the_validator(tmp_path, validate):
    job, base = load_job(_job(tmp_path, "{resolution: 32}"), ["optimize.iterations=2"])
    run_job(job, base, tmp_path / "out", quiet=True)
    glb = tmp_path / "out" / "mesh.glb"
    gltf = json.loads(glb.read_bytes()[20:20 + int.from_bytes(glb.read_bytes()[12:16], "little")])
    assert "TEXCOORD_0" in gltf["meshes"][0]["primitives"][0]["attributes"]
    report = validate([glb])[0]
    assert not issues(report), issues(report)


def test_never_refuses_in_one_line(run_cli, tmp_path):
    job = _job(tmp_path, "{resolution: 64, uv_atlas: never}")
    for cmd in ("validate", "optimize"):
        rc, out, err = run_cli(cmd, job, "--out", tmp_path / "o") if cmd == "optimize" else run_cli(cmd, job)
        lines = err.strip().splitlines()
        assert rc == 2 and len(lines) == 1, (rc, err)
        assert "scene.texture.uv_atlas" in lines[0] and "icosphere" in lines[0]
    assert not (tmp_path / "o" / "mesh.glb").exists()


@pytest.mark.parametrize("key,value", [("lr", "0.05"), ("eps", "0.1"), ("smoothness", "0.01")])
def test_texture_settings_without_a_texture_are_refused(run_cli, tmp_path, key, value):
    """Texture settings on a mesh that gets no texture (no resolution, init or image) are not ignored."""
    job = _job(tmp_path, "{%s: %s}" % (key, value))
    rc, out, err = run_cli("optimize", job, "--out", tmp_path / "o")
    lines = err.strip().splitlines()
    assert rc == 2 and len(lines) == 1, (rc, err)
    assert f"scene.texture.{key}" in lines[0] and "has no texture" in lines[0]
    assert not (tmp_path / "o").exists()
    rc, out, err = run_cli("optimize", _job(tmp_path, "{optimize: false}"), "--out", tmp_path / "p",
                           "--set", "optimize.iterations=2")
    assert rc == 0, err                           # settings that need no texture still run


def test_validate_reports_the_atlas(run_cli, tmp_path):
    rc, out, err = run_cli("validate", _job(tmp_path, "{resolution: 64}"))
    assert rc == 0, err
    assert "a UV atlas will be generated (xatlas)" in out


def test_a_crashing_xatlas_is_one_line(monkeypatch):
    """xatlas runs in a child process: its crash (SIGSEGV on some meshes) is an InputError."""
    from diffrast_cli.errors import InputError
    from diffrast_cli.io import uv_atlas
    monkeypatch.setattr(uv_atlas, "WORKER", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    mesh = icosphere(1)
    with pytest.raises(InputError, match=r"^xatlas could not build a UV atlas for the mesh \(killed by SIGSEGV\)"):
        generate_uvs(mesh.positions, mesh.faces)
