"""The subdivision scene kind (issue 13) on the CPU renderer: the GPU refinement against the
numpy one (every level's stencil gathers, the fused perturbation, the vertex normals), its
render against the mesh kind drawing the same refined triangles, and the SGE mean of the
control points against central finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from diffrast_cli.errors import ConfigError
from diffrast_cli.scene.mesh.config import MeshConfig
from diffrast_cli.scene.mesh.kind import TexturedMesh
from diffrast_cli.sge.estimator import Estimator
from tests.gradcheck import check_gradient
from tests.scenes import gradient_target
from tests.subdiv_scenes import CUBE_F, CUBE_P, PYRAMID_F, PYRAMID_P, subdiv_problem, write_cage
from tests.test_gradients import released

W = 48
CAGES = {"cube": (CUBE_P, CUBE_F, []), "cube_crease": (CUBE_P, CUBE_F, [[0, 1], [1, 3], [3, 2], [2, 0]]),
         "pyramid": (PYRAMID_P, PYRAMID_F, [[0, 4]])}


def _mesh_kind_image(device, problem, data, cfg):
    """The mesh kind's clean image of MeshData ``data`` (config ``cfg``) from the problem's view 0."""
    ref = TexturedMesh(data, cfg, 1.0, cull="none")
    est = Estimator(device, ref, problem.views, adam_cfg=problem.job.optimize.adam)
    try:
        est.upload(ref.initial_params(0))
        return est.color(0)
    finally:
        est.release()


def _points(est, name, stride, copy=0):
    raw = np.frombuffer(est.declared.buffers[name].read(), np.float32).reshape(-1, 4)[:, :3]
    return raw[copy * stride:(copy + 1) * stride]


@pytest.mark.parametrize("name", list(CAGES))
def test_gpu_refinement_matches_numpy(device, tmp_path, name):
    """Clean and perturbed copies: the final level's points equal the numpy refinement of the
    (perturbed) control points, and the vertex normals the numpy normals."""
    pos, faces, creases = CAGES[name]
    cage = write_cage(tmp_path / "cage.obj", pos, faces)
    extra = {"scene.creases": creases, "scene.levels": 2}
    with released(subdiv_problem(device, tmp_path, cage, gradient_target(W, W), extra=extra)) as problem:
        est, scene = problem.estimator, problem.scene
        s = scene.surface
        theta = problem.theta0.copy()
        theta[scene.layout.slice("positions")] += np.random.default_rng(0).normal(0, 0.05, 3 * len(pos))
        est.upload(theta)
        est.color(0)                                   # a clean render: slot 0
        got = _points(est, "POINTS", s.points_per_copy)[s.final_offset:]
        want = s.points(scene.control_points(theta))
        assert np.abs(got - want).max() < 1e-5
        n_got = _points(est, "NORMALS", s.vertices)
        assert np.abs(n_got - s.vertex_normals(want)).max() < 1e-4
        est.render(3, est.copies, clean=False)         # copy 1: the minus copy of pair 0
        perturbed = est.perturbed_params(3, 0, -1.0)
        got = _points(est, "POINTS", s.points_per_copy, copy=1)[s.final_offset:]
        assert np.abs(got - s.points(scene.control_points(perturbed))).max() < 1e-5
        assert np.abs(got - want).max() > 1e-3        # (the copy is perturbed)


def test_render_matches_the_mesh_kind_on_the_refined_triangles(device, tmp_path):
    """Face normals, Lambert: the subdivision kind's image is the mesh kind's image of the numpy
    refined triangles."""
    cage = write_cage(tmp_path / "cage.obj", PYRAMID_P, PYRAMID_F)
    extra = {"scene.shading.normals": "face", "scene.levels": 2}
    with released(subdiv_problem(device, tmp_path, cage, gradient_target(W, W), extra=extra,
                                 camera=(0.5, 0.8, 2.2))) as problem:
        scene = problem.scene
        ours = problem.estimator.color(0)
        data = scene.surface.mesh_data(scene.cage.positions)
        want = _mesh_kind_image(device, problem, data, MeshConfig(mesh="x", shading=problem.job.scene.shading,
                                                                  positions={"optimize": False}))
    mismatch = np.abs(ours - want).max(axis=2) > 1e-3
    assert (want.sum(axis=2) > 0).mean() > 0.2                  # the object fills the view
    assert mismatch.mean() < 0.01, f"{mismatch.mean():.3%} of the pixels differ"


def test_control_point_sge_matches_finite_differences(device, tmp_path):
    """Every control point moves a large part of the surface: steps of a fraction of a pixel keep
    the simultaneous perturbation of all of them from bending the estimate (scale 1.2 at 0.02)."""
    cage = write_cage(tmp_path / "cage.obj", CUBE_P * 0.8, CUBE_F)
    extra = {"optimize.samples": 64, "render.supersample": 4, "scene.positions.eps": 0.005}
    with released(subdiv_problem(device, tmp_path, cage, gradient_target(W, W), extra=extra)) as problem:
        check_gradient(problem, problem.theta0.copy(), ("positions",), estimates=128)


def test_bad_cages_and_creases_are_one_line_errors(device, tmp_path):
    cage = write_cage(tmp_path / "cage.obj", CUBE_P, CUBE_F)
    with pytest.raises(ConfigError, match="scene.creases: vertex 9 is not in cage"):
        subdiv_problem(device, tmp_path, cage, gradient_target(W, W), extra={"scene.creases": [[0, 9]]})
    with pytest.raises(ConfigError, match="scene.cage: cage: crease 0-7 is not an edge"):
        subdiv_problem(device, tmp_path, cage, gradient_target(W, W), extra={"scene.creases": [[0, 7]]})
    bad = write_cage(tmp_path / "bad.obj", CUBE_P, CUBE_F[:5] + [CUBE_F[0]])
    with pytest.raises(ConfigError, match="used twice in the same direction"):
        subdiv_problem(device, tmp_path, bad, gradient_target(W, W))
    no_uv = write_cage(tmp_path / "nouv.obj", CUBE_P, CUBE_F, uvs=False)
    with pytest.raises(ConfigError, match="no texture coordinates"):
        subdiv_problem(device, tmp_path, no_uv, gradient_target(W, W), extra={"scene.shading.model": "pbr"})


@pytest.mark.parametrize("maps", ["height", "normal"])
def test_pbr_render_matches_the_mesh_kind(device, tmp_path, maps):
    """PBR maps and a height map (or a normal map) on the refined surface: the image is the mesh
    kind's image of the numpy refined (displaced) triangles with the same maps (face normals; the
    tangents of the initial refined surface, as the mesh kind computes them)."""
    from dataclasses import replace

    from diffrast_cli.scene.material.config import MaterialConfig
    from tests.pbr_scenes import LIGHTS
    cage = write_cage(tmp_path / "cage.obj", CUBE_P * 0.7, CUBE_F)
    material = {"base_color": {"resolution": 8}, "roughness": {"resolution": 8}}
    material.update({"height": {"resolution": 16, "strength": 0.15}} if maps == "height" else {"normal": {"resolution": 8}})
    extra = {"scene.shading": {"model": "pbr", "normals": "face"}, "scene.lights": LIGHTS, "scene.material": material}
    rng = np.random.default_rng(2)
    with released(subdiv_problem(device, tmp_path, cage, gradient_target(W, W), extra=extra,
                                 camera=(0.5, 0.8, 2.6))) as problem:
        scene, layout = problem.scene, problem.scene.layout
        theta = problem.theta0.copy()
        for name in ("base_color", "roughness", maps):
            s = layout.slice(name)
            theta[s] = rng.uniform(0.2, 0.9, s.stop - s.start) if name != "normal" else rng.normal(0, 0.4, s.stop - s.start)
        problem.estimator.upload(theta)
        ours = problem.estimator.color(0)
        data = scene.refined_data(theta)
        assert data.material.height is None and len(data.positions) == scene.surface.vertices
        frozen = {"optimize": False}
        cfg = MeshConfig(mesh="x", shading=problem.job.scene.shading, positions=frozen, lights=LIGHTS,
                         material=MaterialConfig(base_color=frozen, roughness=frozen, metallic=frozen,
                                                 normal=frozen if maps == "normal" else None))
        want = _mesh_kind_image(device, problem, replace(data), cfg)
    mismatch = np.abs(ours - want).max(axis=2) > 2e-3
    assert (want.sum(axis=2) > 0).mean() > 0.2
    assert mismatch.mean() < 0.01, f"{mismatch.mean():.3%} of the pixels differ"
