"""Semi-transparent triangles of the soup and mesh kinds (``scene.opacity``, scene/opacity.py):
the soup's clean render against a numpy compositing reference (2D orthographic mode), SGE
means against central finite differences for opacity, positions and colours (soup) and
opacity (mesh), resampling moving the opacity with its triangle, exports carrying it,
config errors, and an opacity-off job left exactly as it was."""

from __future__ import annotations

import numpy as np
import pytest

from diffrast_cli.config import JobConfig
from diffrast_cli.errors import ConfigError
from diffrast_cli.jobfile import validate_job
from diffrast_cli.problem import Problem
from tests.gradcheck import check_gradient
from tests.mesh_scenes import grid_mesh, mesh_problem
from tests.scenes import gradient_target, set_dotted

W = 40
N = 4
BACKGROUND = (0.1, 0.2, 0.3)
GROUPS = ("positions", "depths", "colors", "opacity")


def soup_problem(device, extra=None, triangles=N) -> Problem:
    cfg = {"name": "transparent", "target": {"image": "<memory>"},
           "render": {"resolution": [W, W], "background": list(BACKGROUND)},
           "scene": {"triangles": triangles, "opacity": {"enabled": True}}, "optimize": {"samples": 64}}
    set_dotted(cfg, extra)
    return Problem(JobConfig.model_validate(cfg), None, device=device, target=gradient_target(W, W))


def soup_theta():
    """Four overlapping triangles at depths 0.2..0.8 (triangle 0 nearest; up to 4 layers),
    no edge parallel to the pixel grid, opacities 0.35-0.7."""
    centres = np.array([[-0.15, -0.1], [0.15, -0.05], [0.0, 0.15], [0.05, 0.0]])
    radius = np.array([0.8, 0.75, 0.8, 0.45])
    angle = np.array([0.3, 1.1, 2.0, 0.7])[:, None] + 2 * np.pi / 3 * np.arange(3)[None, :]
    corners = centres[:, None, :] + radius[:, None, None] * np.stack([np.cos(angle), np.sin(angle)], axis=2)
    depths = np.repeat(np.array([0.2, 0.4, 0.6, 0.8])[:, None], 3, axis=1)
    colors = np.array([[0.9, 0.2, 0.4], [0.1, 0.8, 0.3], [0.3, 0.4, 0.95], [0.95, 0.9, 0.1]])
    alphas = np.array([0.55, 0.35, 0.7, 0.45])
    logits = np.log(alphas / (1 - alphas))
    return np.concatenate([corners.reshape(-1), depths.reshape(-1), colors.reshape(-1), logits]).astype(np.float32)


def reference_render(theta, n, size, order=None):
    """Front-to-back 'over' at pixel centres in ``order`` (default: by depth), over the
    background; row 0 = top. Also a mask of pixels within 0.01 px of an edge and the layers
    per pixel."""
    xy = theta[:6 * n].astype(np.float64).reshape(n, 3, 2)
    z = theta[6 * n:9 * n].astype(np.float64).reshape(n, 3).mean(axis=1)
    rgb = theta[9 * n:12 * n].astype(np.float64).reshape(n, 3)
    alpha = 1 / (1 + np.exp(-theta[12 * n:13 * n].astype(np.float64)))
    ys, xs = np.mgrid[0:size, 0:size]
    X, Y = (xs + 0.5) / size * 2 - 1, (ys + 0.5) / size * 2 - 1      # GL rows: y up
    color, t = np.zeros((size, size, 3)), np.ones((size, size))
    near_edge, layers = np.zeros((size, size), bool), np.zeros((size, size), int)
    for k in (np.argsort(z) if order is None else order):
        e = []
        for i in range(3):
            a, b = xy[k, i], xy[k, (i + 1) % 3]
            e.append(((b[0] - a[0]) * (Y - a[1]) - (b[1] - a[1]) * (X - a[0])) / np.hypot(*(b - a)))
        e = np.stack(e)
        inside = np.all(e > 0, axis=0) | np.all(e < 0, axis=0)
        near_edge |= np.any(np.abs(e) < 0.01 * 2 / size, axis=0)
        layers += inside
        color += np.where(inside, t * alpha[k], 0.0)[..., None] * rgb[k]
        t *= np.where(inside, 1 - alpha[k], 1.0)
    color += t[..., None] * np.asarray(BACKGROUND)
    return color[::-1], near_edge[::-1], layers[::-1]


def test_soup_render_matches_numpy_compositing(device):
    problem = soup_problem(device)
    try:
        assert problem.scene.visibility == "deep_id" and problem.estimator.visibility.name == "deep_id"
        theta = soup_theta()
        problem.estimator.upload(theta)
        img = problem.estimator.color(0)
        want, near_edge, layers = reference_render(theta, N, W)
        assert near_edge.mean() < 0.05
        assert (layers >= 2).mean() > 0.15 and (layers >= 4).mean() > 0.04
        np.testing.assert_allclose(img[~near_edge], want[~near_edge], atol=2e-5)
        # the depths decide the order: reversed depths composite back to front
        flipped = theta.copy()
        flipped[6 * N:9 * N] = 1.0 - flipped[6 * N:9 * N]
        problem.estimator.upload(flipped)
        img = problem.estimator.color(0)
        want_rev, _, _ = reference_render(theta, N, W, order=[3, 2, 1, 0])
        np.testing.assert_allclose(img[~near_edge], want_rev[~near_edge], atol=2e-5)
        assert np.abs(want_rev - want)[~near_edge].max() > 0.1
    finally:
        problem.release()


@pytest.mark.parametrize("group", ["opacity", "positions", "colors"])
def test_soup_gradient_matches_finite_differences(device, group):
    frozen = {f"scene.{g}.optimize": False for g in GROUPS if g != group}
    problem = soup_problem(device, {**frozen, "scene.positions.eps": 4.0 / W})
    try:
        results = check_gradient(problem, soup_theta(), (group,), estimates=64)
        print(results[group].summary())
    finally:
        problem.release()


def tilted_grid():
    mesh = grid_mesh(n=3, size=0.7, bump=0.3)
    mesh.texture, mesh.uvs = None, None
    a = 0.5
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    mesh.positions = (mesh.positions @ rx.T).astype(np.float32)
    return mesh


def test_mesh_opacity_gradient_matches_finite_differences(device, tmp_path):
    """A bumped, tilted grid (8 triangles): where it folds, a pixel sees two of them."""
    extra = {"scene.opacity.enabled": True, "scene.positions.optimize": False, "render.background": [0.9, 0.9, 0.2],
             "optimize.samples": 64}
    problem = mesh_problem(device, tmp_path, tilted_grid(), gradient_target(W, W), extra=extra)
    try:
        scene = problem.scene
        assert scene.visibility == "deep_id" and scene.cull is None and scene.fragment_shader == "mesh_deep.frag"
        theta = scene.initial_params(0)
        rng = np.random.default_rng(3)
        theta[scene.layout.slice("opacity")] = rng.uniform(-1.0, 1.5, scene.primitives)
        results = check_gradient(problem, theta, ("opacity",), estimates=48)
        print(results["opacity"].summary())
    finally:
        problem.release()


def test_resampling_moves_opacity_with_its_triangle(device):
    """A re-placed triangle takes its donor's colour and opacity (resample.comp), its
    Adam moments (opacity included) restart."""
    n = 300
    cfg = {"name": "rs", "seed": 3, "target": {"image": "<memory>"}, "render": {"resolution": [48, 40]},
           "scene": {"triangles": n, "init": {"size": 0.15}, "opacity": {"enabled": True},
                     "resample": {"every": 1000, "unseen": 20, "min_area": 3.0, "candidates": 3}}}
    problem = Problem(JobConfig.model_validate(cfg), None, device=device, target=gradient_target(48, 40))
    try:
        est, lay = problem.estimator, problem.scene.layout
        assert "opacity" in problem.scene.relayout().groups
        r = np.random.default_rng(7)
        theta = problem.theta0.copy()
        theta[lay.slice("opacity")] = r.uniform(-3, 3, n)          # distinct per triangle
        est.upload(theta)
        est.adam.moments.write(np.ones(2 * len(theta), np.float32).tobytes())
        it = 100
        est.declared.buffers["LAST_SEEN"].write(r.choice([it - 40, it], n).astype(np.uint32).tobytes())
        est.post_step[0].resample(it)
        got = est.state()
        new = got["params"]
        col0, col1 = (t[lay.slice("colors")].reshape(n, 3) for t in (theta, new))
        op0, op1 = theta[lay.slice("opacity")], new[lay.slice("opacity")]
        children = np.flatnonzero((col1 != col0).any(axis=1))
        assert len(children) > 5
        moments = got["moments"].reshape(-1, 2)
        for c in children:
            donor = np.flatnonzero((col0 == col1[c]).all(axis=1))
            assert len(donor) == 1 and op1[c] == op0[donor[0]] and op1[donor[0]] == op0[donor[0]]
            assert not moments[lay["opacity"].offset + c].any()
        untouched = np.setdiff1d(np.arange(n), children)
        assert np.array_equal(op1[untouched], op0[untouched])
    finally:
        problem.release()


def test_exports_carry_opacity(device, tmp_path):
    import trimesh
    problem = soup_problem(device)
    try:
        theta = soup_theta()
        paths = problem.scene.export(theta, tmp_path)
        ply = trimesh.load(paths[0], process=False)
        alpha = 1 / (1 + np.exp(-theta[12 * N:].astype(np.float64)))
        np.testing.assert_allclose(ply.visual.face_colors[:, 3], np.rint(alpha * 255), atol=1)
        assert problem.scene.metrics(theta)["mean_opacity"] == pytest.approx(alpha.mean())
    finally:
        problem.release()


JOB = {"name": "x", "target": {"image": "a.png"}}


@pytest.mark.parametrize("scene, message", [
    ({"opacity": {"enabled": True, "alpha": 0.5}}, r"scene\.opacity\.alpha: unknown key"),
    ({"opacity": {"enabled": True, "init": 1.0}}, r"scene\.opacity\.init: Input should be less than 1"),
    ({"opacity": {"enabled": "yes"}}, r"scene\.opacity\.enabled: Input should be a valid boolean"),
    ({"opacity": {"lr": 0.1}}, r"scene\.opacity: lr is set but opacity is off"),
    ({"opacity": {"enabled": True, "layers": 0}}, r"scene\.opacity\.layers: Input should be greater"),
    ({"kind": "mesh", "icosphere": {}, "opacity": {"enabled": True}, "shading": {"model": "pbr"}},
     r"scene\.opacity: .*pbr"),
    ({"kind": "mesh", "icosphere": {}, "opacity": {"enabled": True}, "texture": {"resolution": 8,
                                                                                "gradient": "analytic"}},
     r"scene\.texture\.gradient: .*opacity"),
])
def test_bad_opacity_config_is_one_line(scene, message):
    with pytest.raises(ConfigError, match=message) as info:
        validate_job({**JOB, "scene": scene})
    assert "\n" not in str(info.value)


def test_mesh_texture_gradient_defaults_to_sge_with_opacity():
    job = validate_job({**JOB, "scene": {"kind": "mesh", "icosphere": {}, "opacity": {"enabled": True},
                                         "texture": {"resolution": 8}}})
    assert job.scene.texture.gradient == "sge"
    again = validate_job({**JOB, **job.model_dump(mode="json", exclude_none=True)})   # a dumped job.yaml
    assert again.scene.texture.gradient == "sge"


def test_opacity_off_leaves_the_job_as_it_was(device):
    """Off (the default): the opaque layout, shaders and visibility, and the same gradient."""
    grads = []
    for extra in ({}, {"scene.opacity": {"enabled": False}}):
        cfg = {"name": "opaque", "target": {"image": "<memory>"}, "render": {"resolution": [W, W]},
               "scene": {"triangles": 6}, "optimize": {"samples": 4}}
        problem = Problem(JobConfig.model_validate(set_dotted(cfg, extra)), None, device=device,
                          target=gradient_target(W, W))
        try:
            scene = problem.scene
            assert [g.name for g in scene.layout.groups] == ["positions", "depths", "colors"]
            assert scene.layout.size == 12 * 6 and "GROUP_OPACITY" not in problem.estimator.defines
            assert scene.visibility == "opaque_id" and scene.fragment_shader == "id.frag"
            assert scene.visibility_options() == {} and scene.relayout() is None
            problem.estimator.upload(scene.initial_params(0))
            grads.append(problem.estimator.estimate_gradient(0))
        finally:
            problem.release()
    assert np.count_nonzero(grads[0]) > 10 and np.array_equal(grads[0], grads[1])
