"""Mesh estimates under every aggregation mode, cotangent weights, culling of clean renders.
(Estimates against finite differences: test_gradients.py; the Laplacian pass and culling
of perturbed renders against independent references: test_references.py.)"""

import numpy as np

from diffrast_cli.gl.context import create_device
from diffrast_cli.scene.mesh import edge_weights
from tests.mesh_scenes import grid_mesh, mesh_problem
from tests.scenes import gradient_target

W = 48


def _modes():
    from diffrast_cli.sge.estimator import SUBGROUP_EXTENSIONS
    dev = create_device()
    have = all(e in dev.extensions for e in SUBGROUP_EXTENSIONS)
    dev.release()
    return ["direct", "shared"] + (["subgroup"] if have else [])


def test_mesh_aggregation_is_exact(device, tmp_path):
    """Triangle and texel contributors: direct, work-group and (where the driver has it)
    subgroup aggregation change only the order of additions."""
    grads = []
    for aggregate in _modes():
        problem = mesh_problem(device, tmp_path, grid_mesh(n=4, texture=8), gradient_target(W, W),
                               aggregate=aggregate, extra={"optimize.samples": 2})
        try:
            grads.append(np.array([problem.estimator.estimate_gradient(k) for k in range(2)]))
        finally:
            problem.release()
    layout_size = grads[0].shape[1]
    assert np.count_nonzero(grads[0]) > 0.3 * layout_size * 2
    for other in grads[1:]:
        np.testing.assert_allclose(grads[0], other, rtol=1e-4, atol=1e-5 * np.abs(grads[0]).max())


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
