"""Mesh parameters (shared vertices, texels) against central finite
differences, and the Laplacian regularizer against its closed form."""

import numpy as np
import pytest

from diffrast_cli.gl.context import create_device
from diffrast_cli.scene.mesh import edge_weights, laplacian_csr, laplacian_matrix
from tests.mesh_scenes import grid_mesh, mesh_problem
from tests.scenes import check_sge_against_fd, gradient_target

W = 48


def _modes():
    from diffrast_cli.sge.estimator import SUBGROUP_EXTENSIONS
    dev = create_device()
    have = all(e in dev.extensions for e in SUBGROUP_EXTENSIONS)
    dev.release()
    return ["direct", "shared"] + (["subgroup"] if have else [])


@pytest.mark.parametrize("aggregate", _modes())
@pytest.mark.parametrize("group", ["positions", "texture"])
def test_mesh_sge_mean_matches_finite_differences(device, tmp_path, aggregate, group):
    """One group perturbed at a time: with several, each group's estimate is the gradient of
    the loss smoothed by the others' perturbations (e.g. texels under a jittered geometry),
    which is what optimisation wants but not what a finite difference measures."""
    pixel = 3.0 * np.tan(np.radians(20.0)) * 2.0 / W       # world size of a pixel at the grid
    problem = mesh_problem(device, tmp_path, grid_mesh(), gradient_target(W, W), aggregate=aggregate, extra={
        "optimize.samples": 64, "render.supersample": 2,
        "scene.positions.eps": 2.0 * pixel, "scene.texture.eps": 0.05,
        "scene.positions.optimize": group == "positions", "scene.texture.optimize": group == "texture"})
    try:
        layout = problem.scene.layout
        mean = check_sge_against_fd(problem, problem.theta0.copy(), (group,), rel_tol=0.2)
        other = "texture" if group == "positions" else "positions"
        assert not mean[layout.slice(other)].any()   # frozen
    finally:
        problem.release()


def test_vertex_colors_gradient_matches_finite_differences(device, tmp_path):
    mesh = grid_mesh()
    mesh.texture, mesh.uvs = None, None
    mesh.vertex_colors = np.random.default_rng(1).uniform(0.2, 0.9, (len(mesh.positions), 3)).astype(np.float32)
    problem = mesh_problem(device, tmp_path, mesh, gradient_target(W, W), extra={
        "optimize.samples": 64, "scene.positions.optimize": False, "scene.colors.eps": 0.05})
    try:
        est, layout = problem.estimator, problem.scene.layout
        theta = problem.theta0.copy()
        s = layout.slice("colors")
        fd = np.zeros_like(theta)
        for i in range(s.start, s.stop):
            e = np.zeros_like(theta)
            e[i] = 0.05
            est.upload(theta + e)
            plus = est.evaluate()["mse"]
            est.upload(theta - e)
            fd[i] = (plus - est.evaluate()["mse"]) / 0.1
        est.upload(theta)
        mean = np.mean([est.estimate_gradient(k) for k in range(16)], axis=0)
        rel = np.linalg.norm(mean[s] - fd[s]) / np.linalg.norm(fd[s])
        assert np.abs(fd[s]).max() > 1e-3 and rel < 0.15, rel
        assert not mean[layout.slice("positions")].any()   # frozen
    finally:
        problem.release()


@pytest.mark.parametrize("kind", ["uniform", "cotangent"])
def test_laplacian_pass_is_the_exact_gradient(device, tmp_path, kind):
    """The GPU pass adds d/dp of weight/V * |L p|^2, computed here in numpy."""
    mesh = grid_mesh(n=5)
    weight = 0.7
    problem = mesh_problem(device, tmp_path, mesh, gradient_target(16, 16), extra={
        "scene.laplacian.weight": weight, "scene.laplacian.weights": kind})
    try:
        est = problem.estimator
        rng = np.random.default_rng(2)
        theta = problem.theta0.copy()
        s = problem.scene.layout.slice("positions")
        theta[s] += rng.normal(0, 0.05, s.stop - s.start).astype(np.float32)
        est.upload(theta)
        est.grad.clear()
        problem.scene.add_regularizers(est)
        got = est.gradient()[s].reshape(-1, 3)
        start, table = laplacian_csr(mesh.positions, mesh.faces, kind)
        lap = laplacian_matrix(start, table)
        p = theta[s].reshape(-1, 3).astype(np.float64)
        expected = 2.0 * weight / len(p) * lap.T @ (lap @ p)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-7)
        # and it is the gradient: a finite difference of the energy agrees
        energy = lambda q: weight / len(q) * np.sum((lap @ q) ** 2)
        e = np.zeros_like(p)
        e[7, 1] = 1e-4
        assert (energy(p + e) - energy(p - e)) / 2e-4 == pytest.approx(expected[7, 1], rel=1e-4)
    finally:
        problem.release()


def test_cotangent_weights_of_a_regular_grid():
    mesh = grid_mesh(n=3, bump=0.0)
    edges, w = edge_weights(mesh.positions, mesh.faces, "cotangent")
    # Axis-aligned edges of a right-triangle grid have cot weight 0.5 per adjacent triangle
    # (the diagonal's opposite angles are 90 degrees: weight 0).
    lengths = np.linalg.norm(mesh.positions[edges[:, 0]] - mesh.positions[edges[:, 1]], axis=1)
    diagonal = lengths > 1.2 * lengths.min()
    assert np.allclose(w[diagonal], 0.0, atol=1e-6)
    assert np.all(w[~diagonal] > 0.4)


def test_closed_mesh_orientation_and_culling_change_no_image(device, tmp_path):
    from diffrast_cli.io.meshes import icosphere
    from diffrast_cli.scene.mesh import closed_orientation
    sphere = icosphere(2, 0.9)
    outward, inward = sphere.faces, sphere.faces[:, ::-1].copy()
    assert closed_orientation(sphere.positions, outward) == 1
    assert closed_orientation(sphere.positions, inward) == -1
    assert closed_orientation(sphere.positions, outward[:-1]) == 0      # a hole
    grid = grid_mesh()
    assert closed_orientation(grid.positions, grid.faces) == 0          # open
    images = []
    for cull, faces, expected in (("none", outward, None), ("auto", outward, "back"), ("auto", inward, "front")):
        sphere.faces = faces
        problem = mesh_problem(device, tmp_path, sphere, gradient_target(40, 40), extra={"render.cull": cull})
        try:
            assert problem.scene.cull == expected
            images.append(problem.estimator.color())
        finally:
            problem.release()
    assert (images[0].sum(axis=2) > 0).mean() > 0.2     # the sphere is in view
    np.testing.assert_array_equal(images[1], images[0])
    # reversed corners interpolate in another order: equal up to float rounding
    np.testing.assert_allclose(images[2], images[0], atol=1e-5)
