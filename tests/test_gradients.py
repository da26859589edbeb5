"""SGE means against central finite differences (tests/gradcheck.py) for every parameter
kind and estimator mode: soup positions, depths and colours in 2D and perspective, the
full-image estimator, L1, supersampling, mesh vertices (face, smooth and unlit shading),
texels, vertex colours, several views and several sign pairs per iteration."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

from diffrast_cli.errors import LimitError
from diffrast_cli.scene import cameras as camlib
from diffrast_cli.sge.views import ViewSet
from tests.gradcheck import check_gradient, loss_of
from tests.mesh_scenes import grid_mesh, mesh_problem
from tests.scenes import gradient_target, make_problem

W = 48
COLORS = np.array([[0.8, 0.2, 0.5], [0.1, 0.7, 0.3], [0.5, 0.5, 0.9], [0.9, 0.8, 0.1]])


@contextlib.contextmanager
def released(problem):
    try:
        yield problem
    finally:
        problem.release()


def quadrant_soup():
    """Four non-overlapping triangles, one per quadrant, distinct colours: (N, 3, 2) corners."""
    centers = np.array([[-0.5, -0.5], [0.5, -0.45], [-0.45, 0.5], [0.5, 0.5]])
    offsets = np.array([[-0.35, -0.3], [0.38, -0.25], [-0.05, 0.4]])
    return centers[:, None, :] + offsets[None]


def soup_theta(xy, z, colors):
    return np.concatenate([np.ravel(xy), np.ravel(z), np.ravel(colors)]).astype(np.float32)


def soup_job(groups, *, pos_eps=4.0 / W, depth_eps=None, **extra):
    """Job overrides perturbing only ``groups`` of the soup."""
    cfg = {"scene.positions.eps": pos_eps, "scene.colors.eps": 0.05}
    if depth_eps is not None:
        cfg["scene.depths.eps"] = depth_eps
    for g in ("positions", "depths", "colors"):
        if g not in groups:
            cfg[f"scene.{g}.optimize"] = False
    cfg.update(extra)
    return cfg


# -- the triangle soup in 2D ---------------------------------------------------


@pytest.mark.parametrize("loss", ["l2", "l1"])
@pytest.mark.parametrize("group", ["positions", "colors"])
def test_soup_2d(device, group, loss):
    problem = make_problem(device, gradient_target(W, W), triangles=4, samples=64,
                           extra=soup_job((group,), **{"optimize.loss": loss}))
    with released(problem):
        check_gradient(problem, soup_theta(quadrant_soup(), np.full(12, 0.5), COLORS), (group,), estimates=64)


def test_soup_2d_depths_of_interpenetrating_triangles(device):
    """In 2D, depth only orders triangles; where two interpenetrate, the visible boundary is
    their intersection line, which moves continuously with every corner depth."""
    xy = np.array([[[-0.9, -0.9], [0.9, -0.85], [0.0, -0.1]], [[-0.85, -0.15], [0.85, -0.2], [0.05, -0.95]],
                   [[-0.9, 0.1], [0.9, 0.15], [0.0, 0.9]], [[-0.85, 0.85], [0.85, 0.8], [0.05, 0.05]]])
    # Each pair crosses inside its overlap (30-45% of it in front), along a line slanted
    # against the pixel grid (an axis-aligned line flips whole pixel rows at once).
    z = np.array([[0.25, 0.55, 0.7], [0.55, 0.25, 0.6], [0.3, 0.45, 0.7], [0.45, 0.2, 0.7]])
    problem = make_problem(device, gradient_target(W, W), triangles=4, samples=64,
                           extra=soup_job(("depths",), depth_eps=0.06))
    with released(problem):
        check_gradient(problem, soup_theta(xy, z, COLORS), ("depths",), estimates=64)


def test_soup_2d_positions_and_colors_together(device):
    """Two groups perturbed at once: each sees the other's perturbation as noise."""
    problem = make_problem(device, gradient_target(W, W), triangles=4, samples=64,
                           extra=soup_job(("positions", "colors")))
    with released(problem):
        check_gradient(problem, soup_theta(quadrant_soup(), np.full(12, 0.5), COLORS), ("positions", "colors"),
                       estimates=128)


def test_soup_2d_supersampled(device):
    """2x2 subsamples per pixel: the loss is taken on the resolved pixel, the contributors are
    the union of the subsamples' triangles."""
    problem = make_problem(device, gradient_target(32, 32), triangles=4, samples=64, supersample=2,
                           extra=soup_job(("positions",), pos_eps=3.0 / 32))
    with released(problem):
        check_gradient(problem, soup_theta(quadrant_soup(), np.full(12, 0.5), COLORS), ("positions",),
                       estimates=64)


def test_full_image_estimator_is_unbiased_too(device):
    """Every parameter receives the whole image's difference: noisy but unbiased."""
    problem = make_problem(device, gradient_target(32, 32), triangles=2, samples=64, estimator="full_image",
                           extra=soup_job(("colors",)))
    with released(problem):
        check_gradient(problem, soup_theta(quadrant_soup()[:2], np.full(6, 0.5), COLORS[:2]), ("colors",),
                       estimates=128)


def test_one_sign_pair_per_estimate_is_unbiased(device):
    """Single-pair estimates are individually noisy; their mean is the gradient."""
    problem = make_problem(device, gradient_target(W, W), triangles=4, samples=1, extra=soup_job(("positions",)))
    with released(problem):
        check_gradient(problem, soup_theta(quadrant_soup(), np.full(12, 0.5), COLORS), ("positions",),
                       estimates=4096)


# -- the triangle soup in perspective ------------------------------------------


def test_soup_perspective_positions_and_depths(device):
    """x, y, z are world points seen by a perspective camera: z changes the projection."""
    pixel = 2 * 3.0 * np.tan(np.radians(22.5)) / W
    xy = quadrant_soup() * 1.1
    z = np.array([[0.4, -0.3, 0.1], [-0.4, 0.3, 0.0], [0.3, 0.3, -0.5], [-0.2, 0.5, 0.2]])
    problem = make_problem(device, gradient_target(W, W), triangles=4, samples=64, extra=soup_job(
        ("positions", "depths"), pos_eps=2 * pixel, depth_eps=0.3, **{"render.projection": "perspective"}))
    with released(problem):
        check_gradient(problem, soup_theta(xy, z, COLORS), ("positions", "depths"), estimates=128)


# -- meshes -----------------------------------------------------------------------


def tilted_grid(**kw):
    """The bumped grid turned against the pixel grid: axis-aligned edges would make whole
    rows of pixels flip together, a coarse quantisation FD and SGE see differently."""
    mesh = grid_mesh(**kw)
    a, b = np.radians(23.0), np.radians(15.0)
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    mesh.positions = (mesh.positions @ (rx @ rz).T).astype(np.float32)
    return mesh


def _mesh_extra(group, shading=None, **extra):
    pixel = 3.0 * np.tan(np.radians(20.0)) * 2.0 / W       # world size of a pixel at the grid
    cfg = {"optimize.samples": 64, "scene.positions.eps": 1.5 * pixel, "scene.colors.eps": 0.05}
    if group == "texture":      # texture settings on a mesh without a texture are a config error
        cfg["scene.texture.eps"] = 0.05
        cfg["scene.texture.gradient"] = "sge"    # the estimator's texels; the analytic ones have their own test
    for g in ("positions", "texture", "colors"):
        cfg[f"scene.{g}.optimize"] = g == group
    if shading:
        cfg["scene.shading"] = shading
    cfg.update(extra)
    return cfg


def frozen_normals_loss(problem):
    """The loss with smooth vertex normals held at those of the clean geometry at the point
    of expansion: SGE treats them as constants within an iteration (docs/design.md)."""
    scene, loss = problem.scene, loss_of(problem)

    def frozen(theta):
        scene.normals_frozen = True         # keep the normals buffer as computed at theta0
        try:
            return loss(theta)
        finally:
            scene.normals_frozen = False
    return frozen


@pytest.mark.parametrize("shading", [
    {"model": "lambert", "normals": "face", "light_dir": [0.3, 0.5, 1.0]},
    {"model": "lambert", "normals": "smooth", "light_dir": [0.3, 0.5, 1.0]},
    {"model": "unlit"},
], ids=["face", "smooth", "unlit"])
def test_mesh_vertex_positions(device, tmp_path, shading):
    problem = mesh_problem(device, tmp_path, tilted_grid(bump=0.3), gradient_target(W, W),
                           extra=_mesh_extra("positions", shading))
    with released(problem):
        theta = problem.theta0.copy()
        loss = None
        if shading.get("normals") == "smooth":
            problem.estimator.upload(theta)
            problem.estimator.evaluate()              # normals of theta0 computed once
            loss = frozen_normals_loss(problem)
        check_gradient(problem, theta, ("positions",), estimates=64, loss=loss)


def test_mesh_texels(device, tmp_path):
    problem = mesh_problem(device, tmp_path, grid_mesh(), gradient_target(W, W),
                           extra=_mesh_extra("texture"))
    with released(problem):
        check_gradient(problem, problem.theta0.copy(), ("texture",), estimates=48)


@pytest.mark.parametrize("supersample", [1, 2])
def test_mesh_texels_analytic(device, tmp_path, supersample):
    """scene.texture.gradient = analytic: exact derivatives of the shading for texels (G's
    scene_analytic, MAP_ANALYTIC), against central differences; with the geometry fixed they
    do not depend on the sign draws."""
    problem = mesh_problem(device, tmp_path, grid_mesh(), gradient_target(W, W),
                           extra=_mesh_extra("texture", **{"scene.texture.gradient": "analytic",
                                                           "render.supersample": supersample}))
    with released(problem):
        est = problem.estimator
        s = problem.scene.layout.slice("texture")
        a, b = est.estimate_gradient(0)[s], est.estimate_gradient(1)[s]
        assert np.abs(a).max() > 0
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6 * np.abs(a).max())
        check_gradient(problem, problem.theta0.copy(), ("texture",), estimates=4)


def test_analytic_texels_over_the_buffer_limit_name_the_sge_option(device, tmp_path):
    """Analytic texels need 3 accumulator slots per texel: past the device's storage-buffer
    limit the error says how to fit (llvmpipe: 128 MiB; a 2048^2 texture with 3 sign pairs needs
    151 MB analytic, 50 MB by SGE)."""
    need = 4 * 3 * 3 * 2048 * 2048
    if device.max_ssbo_bytes >= need:
        pytest.skip("this device holds the analytic accumulators of a 2048^2 texture and 3 pairs")
    extra = _mesh_extra("texture", **{"scene.texture.gradient": "analytic", "scene.texture.resolution": 2048,
                                      "optimize.samples": 3})
    with pytest.raises(LimitError, match=r"accumulators.*scene\.texture\.gradient: sge"):
        mesh_problem(device, tmp_path, grid_mesh(), gradient_target(W, W), extra=extra)


def test_mesh_vertex_colors(device, tmp_path):
    mesh = grid_mesh()
    mesh.texture, mesh.uvs = None, None
    mesh.vertex_colors = np.random.default_rng(1).uniform(0.2, 0.9, (len(mesh.positions), 3)).astype(np.float32)
    problem = mesh_problem(device, tmp_path, mesh, gradient_target(W, W), extra=_mesh_extra("colors"))
    with released(problem):
        check_gradient(problem, problem.theta0.copy(), ("colors",), estimates=48)


@pytest.mark.parametrize("group", ["positions", "texture"])
def test_mesh_several_views_and_sign_pairs(device, tmp_path, group):
    """Three orbit views per iteration, four sign pairs each: the estimate of the mean loss
    over the views (each view's target differs)."""
    size = 40
    cams = [camlib.perspective_camera(size, size, 40.0, eye, (0.0, 0.0, 0.0))
            for eye in ((0.0, 0.0, 3.0), (1.2, 0.6, 2.7), (-0.9, -0.8, 2.7))]   # none edge-on
    targets = np.stack([np.roll(gradient_target(size, size), 7 * k, axis=1) for k in range(3)])
    views = ViewSet(view_proj=np.stack([c.view_projection() for c in cams]),
                    eyes=np.stack([c.position for c in cams]), targets=targets)
    pixel = 3.0 * np.tan(np.radians(20.0)) * 2.0 / size
    extra = _mesh_extra(group, {"model": "lambert", "normals": "face"}, **{
        "optimize.samples": 4, "optimize.views_per_iteration": 3, "scene.positions.eps": 1.5 * pixel})
    problem = mesh_problem(device, tmp_path, tilted_grid(bump=0.3), targets[0], extra=extra, views=views, cameras=cams)
    with released(problem):
        assert problem.estimator.pairs == 12
        check_gradient(problem, problem.theta0.copy(), (group,), estimates=320)
