"""Task instances of the suite (diffrast_cli/suite/instances.py, issue 12): deterministic from
the seed, different across seeds, and what each task's definition says they are."""

from __future__ import annotations

import numpy as np
import pytest

from diffrast_cli.suite import instances as inst


def arrays(obj) -> list:
    return [v for v in vars(obj).values() if isinstance(v, np.ndarray)]


@pytest.mark.parametrize("make", [inst.shape2d, inst.shape3d, inst.pose])
def test_instances_are_deterministic_and_differ_by_seed(make):
    a, b, c = make(3), make(3), make(4)
    for x, y, z in zip(arrays(a), arrays(b), arrays(c)):
        assert np.array_equal(x, y)
    assert any(not np.array_equal(x, z) for x, z in zip(arrays(a), arrays(c)))


def test_shape2d_is_800_small_triangles_and_a_binary_target():
    s = inst.shape2d(0)
    assert s.triangles.shape == (800, 3, 2) and np.abs(s.triangles).max() <= 1.0
    edges = np.linalg.norm(s.triangles - np.roll(s.triangles, 1, axis=1), axis=2)
    assert np.allclose(edges, edges[0, 0], rtol=1e-4)           # one template, rotated
    angles = np.arctan2(*(s.triangles[:, 0] - s.triangles.mean(axis=1)).T[::-1])
    assert np.std(angles) > 1.0                                   # rotated at random
    assert s.target.shape == (256, 256) and s.target.dtype == bool
    assert 0.1 < s.target.mean() < 0.8
    # the centres cover the view evenly (scrambled Halton): every 4 x 4 cell gets some
    centres = s.triangles.mean(axis=1)
    cells = np.floor((centres + 1.0) / 2.0 * 4).clip(0, 3).astype(int)
    counts = np.bincount(cells[:, 0] * 4 + cells[:, 1], minlength=16)
    assert counts.min() >= 800 / 16 * 0.6


def test_scrambled_halton_is_a_low_discrepancy_permutation_of_the_radical_inverse():
    rng = np.random.default_rng(0)
    x = inst.scrambled_halton(243, 3, rng)
    assert np.all((x >= 0) & (x < 1)) and len(np.unique(np.round(x, 9))) == 243
    assert np.array_equal(np.bincount(np.floor(x * 27 + 1e-9).astype(int), minlength=27), np.full(27, 9))


def test_shape3d_sphere_and_target_share_the_topology():
    s = inst.shape3d(1)
    assert s.positions.shape == (642, 3) and s.target.shape == (642, 3)
    assert np.allclose(np.linalg.norm(s.positions, axis=1), 0.5, atol=1e-5)
    r = np.linalg.norm(s.target, axis=1)
    assert r.min() >= 0.3 - 1e-6 and r.max() <= 0.95 + 1e-6 and r.std() > 0.01
    assert s.faces.max() == 641 and len(s.azimuths) == 24 and s.elevation in (-60, -30, 0, 30, 60)


def test_pose_starts_15_to_35_degrees_away():
    p = inst.pose(2)
    err = inst.angle_between(p.start[:, 1], p.start[:, 2], p.target[:, 1], p.target[:, 2])
    assert np.all((err > 14.5) & (err < 35.5)), err
    assert np.all((p.target[:, 0] >= 2.5) & (p.target[:, 0] <= 4.0))
    assert np.all((p.start[:, 0] >= 2.0) & (p.start[:, 0] <= 10.0)) and p.fov_y == 20.0
