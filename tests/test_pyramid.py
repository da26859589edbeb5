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
