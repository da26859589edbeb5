"""The normal-consistency regulariser (scene.normal_consistency.weight,
glsl/scene/mesh/normal_consistency.comp) against a reference built here from its definition:

  E(p) = weight / P * sum over pairs (f, g) of triangles sharing an edge of (1 - n_f . n_g)

n the unit counter-clockwise face normals of the current positions, P the number of such
pairs (edges held by exactly two triangles; boundary edges add nothing). The reference
gradient is central differences of that energy in float64 (no code shared with the pass).
"""

import numpy as np
import pytest

from diffrast_cli.io.meshes import icosphere
from tests.gradcheck import check_gradient, loss_of
from tests.mesh_scenes import mesh_problem, regularizer_gradient
from tests.scenes import gradient_target
from tests.test_gradients import W, _mesh_extra, released, tilted_grid

WEIGHT = 0.8


def pairs(faces) -> list:
    """Triangle pairs sharing an edge, from a dictionary of edges (each edge with exactly two triangles)."""
    owners = {}
    for t, tri in enumerate(np.asarray(faces).tolist()):
        for k in range(3):
            a, b = tri[k], tri[(k + 1) % 3]
            owners.setdefault((min(a, b), max(a, b)), []).append(t)
    return [tuple(ts) for ts in owners.values() if len(ts) == 2]


def energy(positions, faces, weight=WEIGHT) -> float:
    p = np.asarray(positions, np.float64)[np.asarray(faces)]
    n = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    n /= np.linalg.norm(n, axis=1, keepdims=True)
    pr = pairs(faces)
    return weight / len(pr) * sum(1.0 - n[f] @ n[g] for f, g in pr)


def energy_gradient(positions, faces, weight=WEIGHT, h=1e-6) -> np.ndarray:
    p = np.asarray(positions, np.float64)
    out = np.zeros_like(p)
    for i in range(p.shape[0]):
        for c in range(3):
            e = np.zeros_like(p)
            e[i, c] = h
            out[i, c] = (energy(p + e, faces, weight) - energy(p - e, faces, weight)) / (2 * h)
    return out


def test_reference_of_a_known_configuration():
    """Two triangles folded along their shared edge by 90 degrees: E = weight * (1 - cos 90) = weight;
    flat: 0; the gradient turns the fold back (towards flat)."""
    flat = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]], np.float64)
    faces = np.array([[0, 1, 2], [1, 3, 2]])
    assert pairs(faces) == [(0, 1)]
    assert energy(flat, faces) == pytest.approx(0.0, abs=1e-12)
    folded = flat.copy()
    folded[3] = [0.5, 0.5, np.sqrt(0.5)]        # the second triangle turned up 90 degrees about the diagonal 1-2
    assert energy(folded, faces) == pytest.approx(WEIGHT)
    g = energy_gradient(folded, faces)
    assert g[3, 0] + g[3, 1] < 0                 # turning the raised vertex out, towards (1, 1, 0), flattens


MESHES = {"tilted_grid": lambda: tilted_grid(n=4, bump=0.3), "icosphere": lambda: icosphere(1, 0.8)}


@pytest.mark.parametrize("shape", sorted(MESHES))
def test_pass_matches_the_definition(device, tmp_path, shape):
    """An open grid (boundary edges add nothing) and a closed icosphere, positions jittered."""
    mesh = MESHES[shape]()
    if mesh.texture is None:
        mesh.uvs = None
    problem = mesh_problem(device, tmp_path, mesh, gradient_target(16, 16),
                           extra={"scene.normal_consistency.weight": WEIGHT, "scene.texture.smoothness": 0.0})
    with released(problem):
        assert problem.scene.nc_pairs == len(pairs(mesh.faces))
        s = problem.scene.layout.slice("positions")
        theta = problem.theta0.copy()
        theta[s] += np.random.default_rng(2).normal(0, 0.05, s.stop - s.start).astype(np.float32)
        got = regularizer_gradient(problem, theta)
        p = theta[s].reshape(-1, 3).astype(np.float64)
        want = energy_gradient(p, problem.scene.faces)
        assert np.abs(want).max() > 1e-3
        np.testing.assert_allclose(got[s].reshape(-1, 3), want, rtol=1e-3, atol=1e-4 * np.abs(want).max())
        assert not got[s.stop:].any()               # only the positions get a regularizer gradient


def test_off_by_default_adds_nothing(device, tmp_path):
    problem = mesh_problem(device, tmp_path, tilted_grid(n=4, bump=0.3), gradient_target(16, 16),
                           extra={"scene.texture.smoothness": 0.0})   # the texture's default regulariser off
    with released(problem):
        assert problem.scene.regularizers == []
        assert not problem.scene.normal_consistency


def test_sge_with_normal_consistency_matches_finite_differences(device, tmp_path):
    """The optimiser's gradient (SGE of the image loss + the analytic pass) against central
    differences of image loss + E, vertex positions of a tilted bumped grid (face normals)."""
    weight = 0.02
    problem = mesh_problem(device, tmp_path, tilted_grid(bump=0.3), gradient_target(W, W),
                           extra=_mesh_extra("positions", {"model": "lambert", "normals": "face",
                                                           "light_dir": [0.3, 0.5, 1.0]},
                                             **{"scene.normal_consistency.weight": weight}))
    with released(problem):
        image_loss = loss_of(problem)
        faces = problem.scene.faces
        s = problem.scene.layout.slice("positions")
        theta = problem.theta0.copy()

        def loss(th):
            return image_loss(th) + energy(th[s].reshape(-1, 3), faces, weight)

        results = check_gradient(problem, theta, ("positions",), estimates=64, loss=loss)
        # the regulariser is a visible part of the gradient checked (not lost in the image term)
        reg = energy_gradient(theta[s].reshape(-1, 3), faces, weight).reshape(-1)
        assert np.linalg.norm(reg) > 0.1 * np.linalg.norm(results["positions"].fd)
