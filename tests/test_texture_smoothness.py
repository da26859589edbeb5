"""The texture smoothness regulariser (scene.texture.smoothness, glsl/scene/material/map_smoothness.comp)
against a reference built here from its definition:

  E(t) = weight / N * sum_{x, y} |t[y, x] - t[y, x+1]|^2 + |t[y, x] - t[y+1, x]|^2

over the (H, W, 3) texture, N = 512^2 whatever the texture's size, indices wrapped (the
renderer samples with repeat).
"""

import numpy as np
import pytest

from tests.gradcheck import check_gradient, loss_of
from tests.mesh_scenes import grid_mesh, mesh_problem, regularizer_gradient
from tests.scenes import gradient_target
from tests.test_gradients import W, _mesh_extra, released

N_REF = 512 * 512            # the definition's normaliser, written here independently of the code
WEIGHT = 0.6 * N_REF / 20    # a gradient of order 0.1 on the 5 x 4 test texture


def energy(tex, weight=WEIGHT) -> float:
    t = np.asarray(tex, np.float64)
    dx = t - np.roll(t, -1, axis=1)
    dy = t - np.roll(t, -1, axis=0)
    return weight / N_REF * float(np.sum(dx ** 2) + np.sum(dy ** 2))


def energy_gradient(tex, weight=WEIGHT) -> np.ndarray:
    t = np.asarray(tex, np.float64)
    nb = np.roll(t, 1, 0) + np.roll(t, -1, 0) + np.roll(t, 1, 1) + np.roll(t, -1, 1)
    return 2.0 * weight / N_REF * (4.0 * t - nb)


def test_reference_gradient_is_the_gradient_of_its_energy():
    t = np.random.default_rng(0).uniform(0, 1, (4, 5, 3))
    g = energy_gradient(t)
    for y, x, c in ((0, 0, 0), (3, 4, 2), (1, 2, 1), (0, 4, 1)):   # corners exercise the wrap
        e = np.zeros_like(t)
        e[y, x, c] = 1e-6
        fd = (energy(t + e) - energy(t - e)) / 2e-6
        assert fd == pytest.approx(g[y, x, c], rel=1e-6, abs=1e-9)
    assert energy(np.full((4, 5, 3), 0.3)) == 0.0 and np.abs(g).max() > 1e-2


def _problem(device, tmp_path, weight, tex=(5, 4)):
    mesh = grid_mesh()
    extra = _mesh_extra("texture", **{"scene.texture.smoothness": weight,
                                      "scene.texture.resolution": list(tex)})
    return mesh_problem(device, tmp_path, mesh, gradient_target(W, W), extra=extra)


def _texture(problem, theta):
    tw, th = problem.scene.tex_size
    return theta[problem.scene.layout.slice("texture")].reshape(th, tw, 3)


def test_pass_matches_the_definition(device, tmp_path):
    """A non-square texture (5 wide, 4 high) so that swapped axes or a missing wrap show."""
    problem = _problem(device, tmp_path, WEIGHT)
    with released(problem):
        s = problem.scene.layout.slice("texture")
        theta = problem.theta0.copy()
        theta[s] = np.random.default_rng(3).uniform(0, 1, s.stop - s.start).astype(np.float32)
        got = regularizer_gradient(problem, theta)
        want = energy_gradient(_texture(problem, theta))
        assert np.abs(want).max() > 1e-2
        np.testing.assert_allclose(_texture(problem, got), want, rtol=1e-4, atol=1e-6 * np.abs(want).max())
        assert not got[:s.start].any() and not got[s.stop:].any()


def test_zero_weight_adds_nothing(device, tmp_path):
    problem = _problem(device, tmp_path, 0.0)
    with released(problem):
        assert problem.scene.regularizers == []
        theta = problem.theta0.copy()
        s = problem.scene.layout.slice("texture")
        theta[s] = np.random.default_rng(3).uniform(0, 1, s.stop - s.start).astype(np.float32)
        assert not regularizer_gradient(problem, theta).any()


def test_sge_with_smoothness_matches_finite_differences(device, tmp_path):
    """The optimiser's gradient (SGE of the image loss + the analytic pass) against central
    differences of image loss + E, on the 4 x 4 texture of grid_mesh."""
    weight = 0.02 * N_REF / 16
    problem = _problem(device, tmp_path, weight, tex=(4, 4))
    with released(problem):
        image_loss = loss_of(problem)
        theta = problem.theta0.copy()
        s = problem.scene.layout.slice("texture")
        theta[s] = np.random.default_rng(5).uniform(0.2, 0.8, s.stop - s.start).astype(np.float32)

        def loss(th):
            return image_loss(th) + energy(_texture(problem, th), weight)

        check_gradient(problem, theta, ("texture",), estimates=48, loss=loss)
