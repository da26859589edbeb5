"""What a subdivision run writes (scene/subdiv/export.py): the cage with its faces and UVs kept
and its maps, the refined, displaced surface as GLB (Khronos glTF-Validator: no errors or
warnings); and the shipped assets are what assets/make_subdiv_assets.py makes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from diffrast_cli.config import JobConfig
from diffrast_cli.io.meshes import load_mesh
from diffrast_cli.scene.subdiv.cage import load_cage
from diffrast_cli.scene.subdiv.kind import SubdivSurface
from tests.subdiv_scenes import PYRAMID_F, PYRAMID_P, write_cage
from tests.test_gltf_validator import issues, validate  # noqa: F401  (the validator fixture)

REPO = Path(__file__).resolve().parents[1]


def _scene(tmp_path, material):
    path = write_cage(tmp_path / "cage.obj", PYRAMID_P, PYRAMID_F)
    job = JobConfig.model_validate({"name": "x", "target": {"image": "<memory>"},
                                    "scene": {"kind": "subdiv", "cage": path, "levels": 2, "material": material}})
    return SubdivSurface(load_cage(path), job.scene, 0.01)


def test_export_keeps_the_cage_and_writes_a_valid_refined_glb(tmp_path, validate):
    scene = _scene(tmp_path, {"base_color": {"resolution": 8}, "normal": {"resolution": 4},
                              "height": {"resolution": 8, "strength": 0.1}})
    theta = scene.initial_params(0)
    rng = np.random.default_rng(0)
    for name in ("base_color", "height"):
        s = scene.layout.slice(name)
        theta[s] = rng.uniform(0.1, 0.9, s.stop - s.start)
    theta[scene.layout.slice("positions")] += rng.normal(0, 0.05, 3 * len(PYRAMID_P)).astype(np.float32)
    paths = scene.export(theta, tmp_path / "out")
    names = [p.name for p in paths]
    assert names[0] == "cage.obj" and names[-1] == "refined.glb" and len(set(names)) == len(names)
    assert {"cage.mtl", "cage_basecolor.png", "cage_normal.png", "cage_height.png"} <= set(names), names
    assert all((tmp_path / "out" / n).is_file() for n in names)
    cage = load_cage(tmp_path / "out" / "cage.obj")
    assert cage.faces == PYRAMID_F                                  # a quad and four triangles, as given
    assert np.allclose(cage.positions, scene.control_points(theta), atol=1e-6)
    assert np.allclose(cage.uvs, scene.cage.uvs, atol=1e-6)
    mtl = (tmp_path / "out" / "cage.mtl").read_text()
    assert "map_Kd cage_basecolor.png" in mtl and "disp -mm" in mtl
    refined = load_mesh(tmp_path / "out" / "refined.glb")
    want = scene.refined_data(theta)
    assert len(refined.faces) == len(want.faces) == 2 * 4 * scene.surface.cage.corners
    assert refined.material.height is None and refined.material.normal is not None
    # the displaced surface: the same point set (the GLB may split vertices at UV seams)
    d = np.linalg.norm(refined.positions[:, None] - want.positions[None], axis=2).min(axis=1)
    assert d.max() < 1e-5
    report = validate([tmp_path / "out" / "refined.glb"])[0]
    assert report["issues"]["numErrors"] == 0 and report["issues"]["numWarnings"] == 0, issues(report)


def test_the_shipped_assets_are_what_their_script_makes(tmp_path):
    spec = importlib.util.spec_from_file_location("make_subdiv_assets", REPO / "assets" / "make_subdiv_assets.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    script.main(tmp_path)
    assert (tmp_path / "subdiv_start.obj").read_text() == (REPO / "assets" / "subdiv_start.obj").read_text()
    made, shipped = load_mesh(tmp_path / "subdiv_reference.glb"), load_mesh(REPO / "assets" / "subdiv_reference.glb")
    assert np.array_equal(made.positions, shipped.positions) and np.array_equal(made.faces, shipped.faces)
    assert np.array_equal(made.material.base_color, shipped.material.base_color)


def test_bad_cages_from_the_command_line_are_one_line_errors(tmp_path, run_cli):
    """A missing cage, a cage that is not OBJ, a bad face index, a non-manifold cage: exit 2, one
    line naming the file, no run folder."""
    target = tmp_path / "t.png"
    from PIL import Image
    Image.new("RGB", (16, 16), (200, 100, 50)).save(target)
    bad = {"missing.obj": None, "cage.ply": "ply\n", "index.obj": "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 7\n",
           "twice.obj": "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 2 3\nf 1 2 4\n"}
    expect = {"missing.obj": "missing.obj", "cage.ply": "a control cage is an OBJ file",
              "index.obj": "vertex index 7 out of range", "twice.obj": "used twice in the same direction"}
    for name, text in bad.items():
        if text is not None:
            (tmp_path / name).write_text(text)
        job = tmp_path / f"{name}.yaml"
        job.write_text(f"name: bad\ntarget: {{image: t.png}}\nrender: {{resolution: 16}}\n"
                       f"scene: {{kind: subdiv, cage: {name}, shading: {{model: lambert}}}}\noptimize: {{iterations: 2}}\n")
        code, out, err = run_cli("optimize", job, "--out", tmp_path / f"run_{name}")
        assert code == 2, (name, err)
        assert len(err.strip().splitlines()) == 1 and expect[name] in err, (name, err)
        assert not (tmp_path / f"run_{name}").exists()
