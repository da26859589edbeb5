"""The exported GLB of a PBR run, loaded back and drawn by diffrast, matches the in-memory render
(the maps go through 8-bit PNGs: sRGB base colour, roughness/metallic, normal)."""

from __future__ import annotations

import numpy as np

from diffrast_cli.io.meshes import load_mesh
from tests.pbr_scenes import pbr_grid, pbr_problem
from tests.test_gradients import released

W = 56
FROZEN = {f"scene.material.{m}.optimize": False for m in ("base_color", "roughness", "metallic", "normal")}


def test_exported_glb_renders_like_the_run(device, tmp_path):
    mesh = pbr_grid(side=8, n=5, bump=0.2)
    target = np.zeros((W, W, 3), np.float32)
    with released(pbr_problem(device, tmp_path, mesh, target, extra=FROZEN)) as p:
        before = p.metrics(images=True)["images"][0]
        written = p.scene.export(p.theta0, tmp_path / "out")
    glb = tmp_path / "out" / "mesh.glb"
    assert glb in written and (tmp_path / "out" / "gltf" / "mesh.gltf").exists()
    loaded = load_mesh(glb)
    assert loaded.material is not None and loaded.material.normal is not None
    with released(pbr_problem(device, tmp_path, loaded, target, extra=FROZEN)) as p:
        after = p.metrics(images=True)["images"][0]
    covered = before.sum(axis=2) > 0
    assert covered.mean() > 0.3 and np.ptp(before[covered]) > 0.2        # not vacuous
    err = np.abs(after - before)
    assert err.mean() < 3e-3 and err.max() < 0.05, (err.mean(), err.max())
    with released(pbr_problem(device, tmp_path, pbr_grid(side=8, n=5, bump=0.2, seed=2), target, extra=FROZEN)) as p:
        other = p.metrics(images=True)["images"][0]
    assert np.abs(other - before).mean() > 10 * err.mean()                # a different material shows
