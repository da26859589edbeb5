"""Map pyramids (scene/material/pyramid.py): level sizes, the stored layout, and collapsing."""

import numpy as np

from diffrast_cli.scene.material.pyramid import collapse, level_sizes, pyramid_params, sample_level


def test_level_sizes_halve_rounding_up():
    assert level_sizes(256, 128, 4) == [(256, 128), (128, 64), (64, 32), (32, 16)]
    assert level_sizes(5, 3, 4) == [(5, 3), (3, 2), (2, 1), (1, 1)]


def test_collapse_sums_the_levels_at_the_finest_texel_centres():
    rng = np.random.default_rng(0)
    fine = rng.uniform(0.2, 0.4, (8, 8, 2)).astype(np.float32)
    params = pyramid_params(fine, 3)
    assert params.size == 2 * (64 + 16 + 4) and not params[128:].any()
    np.testing.assert_allclose(collapse(params, 8, 8, 2, 3, -1, 1), fine, atol=1e-7)     # coarse levels 0
    params[128:128 + 32] = 0.25                                                          # level 1: constant
    np.testing.assert_allclose(collapse(params, 8, 8, 2, 3, -1, 1), fine + 0.25, atol=1e-6)
    np.testing.assert_allclose(collapse(params, 8, 8, 2, 3, 0.0, 0.5), np.minimum(fine + 0.25, 0.5), atol=1e-6)


def test_sample_level_is_bilinear_with_texel_centres_and_repeat():
    level = np.arange(4, dtype=np.float64).reshape(1, 4, 1)             # one row: 0 1 2 3
    uv = np.array([[0.125, 0.5], [0.25, 0.5], [0.0, 0.5]])              # a centre, between two, the wrap
    np.testing.assert_allclose(sample_level(level, uv)[:, 0], [0.0, 0.5, 1.5])


def test_coarse_to_fine_folds_each_level_into_the_next(device, tmp_path):
    """levels 3, level_every 5: the map starts in the coarsest level; after steps 5 and 10 the
    fold passes have moved it (bilinear at each finer level's texel centres, clamped to the
    bounds) into the finest level and zeroed the coarse ones."""
    from diffrast_cli.scene.material.layer import level_group
    from tests.pbr_scenes import pbr_grid, pbr_problem
    from tests.scenes import gradient_target
    from tests.test_gradients import released
    extra = {"scene.material.base_color": {"levels": 3, "level_every": 5, "resolution": 8},
             "scene.positions.optimize": False}
    with released(pbr_problem(device, tmp_path, pbr_grid(side=8), gradient_target(40, 40), extra=extra)) as p:
        layout = p.scene.layout
        assert [(layout[level_group("base_color", k)].start, layout[level_group("base_color", k)].stop)
                for k in range(3)] == [(10, None), (5, 10), (0, 5)]
        theta = p.theta0.copy()
        assert [bool(theta[layout.slice(level_group("base_color", k))].any()) for k in range(3)] == [False, False, True]
        coarsest = theta[layout.slice("base_color_level2")].reshape(2, 2, 3).astype(np.float64)
        est = p.estimator
        est.upload(theta)
        states = []
        for iteration in (5, 10):          # each fold on its own (two mirrored folds would cancel)
            for hook in est.post_step_hooks:
                hook(iteration)
            states.append(est.download())
        halfway, after = states

    def centres(n):
        col, row = np.meshgrid((np.arange(n) + 0.5) / n, (np.arange(n) + 0.5) / n)
        return np.stack([col.ravel(), 1.0 - row.ravel()], axis=1)
    middle = np.clip(sample_level(coarsest, centres(4)).reshape(4, 4, 3), 0, 1)
    np.testing.assert_allclose(halfway[layout.slice("base_color_level1")].reshape(4, 4, 3), middle, atol=1e-6)
    expected = np.clip(sample_level(middle, centres(8)).reshape(8, 8, 3), 0, 1)
    np.testing.assert_allclose(after[layout.slice("base_color")].reshape(8, 8, 3), expected, atol=1e-6)
    assert not after[layout.slice("base_color_level1")].any() and not after[layout.slice("base_color_level2")].any()
