"""Voxel volumes (issue 14) on the CPU renderer: the ray marcher against the numpy reference
(scene/volume/grid.py), the SGE means of log densities and colours against central finite
differences (which also checks that G's spreading adds a pixel's difference once per node),
export, and one-line errors."""

from __future__ import annotations

import numpy as np
import pytest

from diffrast_cli.config import JobConfig
from diffrast_cli.errors import ConfigError, InputError
from diffrast_cli.problem import Problem
from diffrast_cli.scene.volume import grid
from tests.gradcheck import check_gradient
from tests.scenes import gradient_target, set_dotted
from tests.test_gradients import released

W = 24


def volume_problem(device, tmp_path, target, *, extra=None, **options) -> Problem:
    h, w = target.shape[:2]
    cfg = {"name": "voltest", "target": {"image": "<memory>"},
           "render": {"resolution": [w, h], "projection": "perspective", "background": [0.1, 0.2, 0.3],
                      "camera": {"position": [0.9, 0.7, 2.6], "fov_y": 45.0}},
           "scene": {"kind": "volume", "resolution": 5, "step": 0.5, "jitter": False,
                     "bounds": [[-0.8, -0.7, -0.6], [0.8, 0.7, 0.6]]}}
    set_dotted(cfg, extra)
    return Problem(JobConfig.model_validate(cfg), tmp_path, device=device, target=target, **options)


def _random_grid(problem, seed=0, lo=0.3, hi=2.5):
    """theta with log densities of densities in [lo, hi] and random colours."""
    scene = problem.scene
    rng = np.random.default_rng(seed)
    theta = problem.theta0.copy()
    n = scene.spec.nodes
    theta[scene.layout.slice("density")] = np.log(rng.uniform(lo, hi, n))
    theta[scene.layout.slice("color")] = rng.uniform(0.05, 0.95, 3 * n)
    return theta


@pytest.mark.parametrize("gradient", ["analytic", "sge"])
def test_render_matches_the_numpy_ray_marcher(device, tmp_path, gradient):
    """Exact gradients weigh the 8 nodes in the shader; the estimator's marches let the texture
    unit interpolate (GRID_HW_FILTER). Both read half-float nodes."""
    with released(volume_problem(device, tmp_path, gradient_target(W, W), extra={"scene.gradient": gradient})) as problem:
        theta = _random_grid(problem)
        problem.estimator.upload(theta)
        ours = problem.estimator.color(0)
        d, c = problem.scene.grids(theta)
        want = grid.render(problem.scene.spec, d.ravel().astype(np.float64), c.reshape(-1, 3).astype(np.float64),
                           problem.views.view_proj[0], (W, W), (0.1, 0.2, 0.3))
    inside = np.abs(want - np.array([0.1, 0.2, 0.3])).max(axis=2) > 1e-3
    assert inside.mean() > 0.3                                   # the box fills much of the view
    err = np.abs(ours - want).max(axis=2)
    assert np.quantile(err, 0.98) < 2e-3 and err.max() < 0.05, (np.quantile(err, 0.98), err.max())


def test_termination_and_empty_grid(device, tmp_path):
    """An empty grid shows the background; a dense one stops its rays (the colour of the front)."""
    with released(volume_problem(device, tmp_path, gradient_target(W, W), extra={"scene.resolution": 4})) as problem:
        est, scene = problem.estimator, problem.scene
        est.upload(problem.theta0)
        empty = est.color(0)
        assert np.abs(empty - np.array([0.1, 0.2, 0.3])).max() < 0.01
        theta = problem.theta0.copy()
        theta[scene.layout.slice("density")] = np.log(200.0)
        theta[scene.layout.slice("color")] = np.tile([0.9, 0.1, 0.4], scene.spec.nodes)
        est.upload(theta)
        dense = est.color(0)
        covered = np.abs(dense - np.array([0.1, 0.2, 0.3])).max(axis=2) > 0.05
        assert covered.mean() > 0.3
        assert np.abs(dense[covered] - np.array([0.9, 0.1, 0.4])).max() < 0.01


@pytest.mark.parametrize("group", ["density", "color"])
def test_sge_matches_finite_differences(device, tmp_path, group):
    other = "color" if group == "density" else "density"
    extra = {f"scene.{other}.optimize": False, "optimize.samples": 32, "scene.resolution": 4, "scene.gradient": "sge"}
    with released(volume_problem(device, tmp_path, gradient_target(W, W), extra=extra)) as problem:
        theta = _random_grid(problem, seed=1, lo=0.2, hi=1.5)
        # a node's colour counts only where light from it reaches the camera: the back nodes' are ~0
        check_gradient(problem, theta, (group,), estimates=72 if group == "density" else 96,
                       min_significant=0.2 if group == "density" else 0.1)


@pytest.mark.parametrize("group", ["density", "color"])
def test_exact_gradients_match_finite_differences(device, tmp_path, group):
    """scene.gradient: analytic (the default): G marches each pixel's ray backwards."""
    with released(volume_problem(device, tmp_path, gradient_target(W, W), extra={"scene.resolution": 4})) as problem:
        assert problem.scene.analytic
        theta = _random_grid(problem, seed=1, lo=0.2, hi=1.5)
        check_gradient(problem, theta, (group,), estimates=2, min_significant=0.2 if group == "density" else 0.1,
                       scale_tol=0.03)


def test_export_writes_the_grid_and_a_coloured_surface(device, tmp_path):
    from diffrast_cli.io.meshes import load_mesh
    with released(volume_problem(device, tmp_path, gradient_target(W, W), extra={"scene.resolution": 12})) as problem:
        scene = problem.scene
        theta = problem.theta0.copy()
        p = scene.spec.node_positions()
        ball = np.exp(-8 * np.sum(p * p, axis=1)) * 20.0
        theta[scene.layout.slice("density")] = np.log(np.maximum(ball, 1e-3))
        theta[scene.layout.slice("color")] = np.clip(0.5 + 0.5 * p, 0, 1).ravel()
        paths = scene.export(theta, tmp_path / "out")
    assert [x.name for x in paths] == ["volume.npz", "volume.glb"]
    with np.load(paths[0]) as data:
        assert data["density"].shape == (12, 12, 12) and data["color"].shape == (12, 12, 12, 3)
        assert np.allclose(data["density"].ravel(), np.maximum(ball, 1e-3), rtol=1e-5)
    mesh = load_mesh(paths[1])
    r = np.linalg.norm(mesh.positions, axis=1)                  # the level set of a radial ball: a sphere
    want = np.sqrt(np.log(2.0) / 8)                              # density at half its peak
    assert abs(r.mean() - want) < 0.05 and r.std() < 0.03
    assert mesh.vertex_colors is not None
    assert np.abs(mesh.vertex_colors - np.clip(0.5 + 0.5 * mesh.positions, 0, 1)).max() < 0.1


def test_bad_settings_are_one_line_errors(device, tmp_path):
    with pytest.raises(ConfigError, match="render.supersample: scene.kind volume marches one ray per pixel"):
        volume_problem(device, tmp_path, gradient_target(W, W), extra={"render.supersample": 2})
    bad = tmp_path / "bad.npz"
    np.savez(bad, density=np.zeros((3, 3)), color=np.zeros((3, 3, 3)), lo=np.zeros(3), hi=np.ones(3))
    with pytest.raises(InputError, match="bad.npz: density must be"):
        volume_problem(device, tmp_path, gradient_target(W, W), extra={"scene.init_file": str(bad)})
    with pytest.raises(Exception, match="max corner must exceed"):
        volume_problem(device, tmp_path, gradient_target(W, W), extra={"scene.bounds": [[0, 0, 0], [1, 0, 1]]})


def test_jittered_sge_matches_finite_differences_of_the_jitter_averaged_loss(device, tmp_path):
    """With jitter the estimate is of the loss averaged over the sample offsets; the plus and
    minus copies share the offsets (antithetic), so at a fine step it still matches the clean
    loss's finite differences."""
    extra = {"scene.color.optimize": False, "optimize.samples": 32, "scene.resolution": 4, "scene.jitter": True,
             "scene.step": 0.25, "scene.gradient": "sge"}
    with released(volume_problem(device, tmp_path, gradient_target(W, W), extra=extra)) as problem:
        theta = _random_grid(problem, seed=1, lo=0.2, hi=1.5)
        check_gradient(problem, theta, ("density",), estimates=64, scale_tol=0.08)


def test_copies_share_their_jitter(device, tmp_path):
    """The two copies of a pair march the same sample offsets: with a tiny perturbation f+ - f-
    is tiny too, so the estimates stay as small as without jitter (offsets drawn per copy would
    make each difference the offsets' noise, divided by 2 eps)."""
    rms = {}
    for jitter in (False, True):
        extra = {"scene.color.optimize": False, "scene.density.eps": 1e-3, "scene.resolution": 4,
                 "scene.jitter": jitter, "scene.gradient": "sge"}
        with released(volume_problem(device, tmp_path, gradient_target(W, W), extra=extra)) as problem:
            est = problem.estimator
            est.upload(_random_grid(problem, seed=1, lo=0.2, hi=1.5))
            g = np.array([est.estimate_gradient(k) for k in range(4)])
            rms[jitter] = float(np.sqrt(np.mean(g[:, problem.scene.layout.slice("density")] ** 2)))
    assert rms[False] > 0 and rms[True] < 3 * rms[False], rms


def _gather_reference(problem, rays, pairs):
    """Per pair and node, the sum of the recorded differences of the pixels whose centres lie
    in the projection of the node's cells' box and whose last sample is at least as deep as
    the box's nearest corner (volume_gather.comp's rule), in numpy."""
    scene, spec = problem.scene, problem.scene.spec
    w, h = scene.size
    vp = problem.views.view_proj[0]
    n = np.asarray(spec.sides)
    to_world = (spec.hi - spec.lo) / (n - 1)
    rec = rays.reshape(pairs, h, w, 2)
    out = np.zeros((pairs, spec.nodes))
    for iz in range(n[2]):
        for iy in range(n[1]):
            for ix in range(n[0]):
                node = np.array([ix, iy, iz])
                lo = spec.lo + np.maximum(node - 1, 0) * to_world
                hi = spec.lo + np.minimum(node + 1, n - 1) * to_world
                corners = np.array([[(lo, hi)[k & 1][0], (lo, hi)[(k >> 1) & 1][1], (lo, hi)[k >> 2][2], 1.0]
                                    for k in range(8)])
                clip = corners @ vp.T
                px = (clip[:, :2] / clip[:, 3:] + 1.0) * 0.5 * np.array([w, h]) - 0.5
                x0, y0 = np.maximum(np.ceil(px.min(0) - 1e-3), 0).astype(int)
                x1, y1 = np.minimum(np.floor(px.max(0) + 1e-3), [w - 1, h - 1]).astype(int)
                block = rec[:, y0:y1 + 1, x0:x1 + 1]
                reach = block[..., 1] >= clip[:, 2].min()
                out[:, ix + n[0] * (iy + n[1] * iz)] = np.where(reach, block[..., 0], 0.0).sum(axis=(1, 2))
    return out


@pytest.mark.parametrize("cache,dense", [(None, False), (None, True), (1, True)])
def test_gather_sums_the_pixels_that_reach_each_node(device, tmp_path, monkeypatch, cache, dense):
    """G's records (difference, depth of the last sample) gathered per node as the numpy rule
    says, from the shared-memory rows (running sums where a whole row reaches the node, pixel
    by pixel where it does not) and, with a one-pixel cache, from the buffer. Light nodes let
    every ray through (whole rows); dense ones stop most rays early, so nodes behind get
    nothing and rows are mixed."""
    from diffrast_cli.scene.volume.kind import VoxelVolume
    if cache is not None:
        defines = VoxelVolume.defines
        monkeypatch.setattr(VoxelVolume, "defines", lambda self: {**defines(self), "GATHER_CACHE": cache})
    extra = {"scene.color.optimize": False, "optimize.samples": 2, "scene.gradient": "sge"}
    with released(volume_problem(device, tmp_path, gradient_target(W, W), extra=extra)) as problem:
        est, scene = problem.estimator, problem.scene
        theta = _random_grid(problem, seed=3, lo=0.5, hi=40.0) if dense else _random_grid(problem, seed=3)
        est.upload(theta)
        est.estimate(5)
        rays = np.frombuffer(scene.rays.read(), np.float32).astype(np.float64)
        raw = np.frombuffer(est.g.accum.read(), np.float32 if est.device.atomics == "float" else np.int32)
        got = raw.reshape(est.pairs, -1)[:, :scene.spec.nodes].astype(np.float64)
        if est.device.atomics != "float":
            got = got / float(est._defines["FIXED_SCALE"])
        want = _gather_reference(problem, rays, est.pairs)
    assert np.count_nonzero(rays[0::2]) > 0.3 * W * W
    if dense:
        assert (want == 0).mean() > 0.05 and (want != 0).mean() > 0.3     # some nodes are out of every ray's reach
    close = np.isclose(got, want, rtol=1e-3, atol=1e-4)
    assert close.mean() > 0.98, (close.mean(), np.abs(got - want).max())


def test_too_many_gather_groups_is_a_one_line_error(device, tmp_path):
    """The gather dispatches bricks deep x pairs work groups along z: a run that would pass
    GL's 65535 is refused before anything is allocated."""
    extra = {"scene.gradient": "sge", "scene.resolution": [4, 4, 1024], "optimize.samples": 256}
    with pytest.raises(ConfigError, match="exceeds one gather dispatch"):
        volume_problem(device, tmp_path, gradient_target(W, W), extra=extra)
