"""The numpy PBR reference (tests/pbr_reference.py) against facts derived independently of docs/pbr.md's formulas."""

from __future__ import annotations

import numpy as np
import pytest

from diffrast_cli.scene.material.environment import prefilter_environment
from tests.pbr_reference import (
    brdf_terms, dfg_approx, ggx_d, shade, shade_light, shading_normal, srgb_encode)

Z = np.array([[0.0, 0.0, 1.0]])


def _unit(v):
    v = np.asarray(v, np.float64)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _random_setup(n, seed, upper=True):
    rng = np.random.default_rng(seed)
    normal = _unit(rng.normal(size=(n, 3)))
    view, light = _unit(rng.normal(size=(n, 3))), _unit(rng.normal(size=(n, 3)))
    if upper:        # both in the upper hemisphere of the normal
        view = np.where((np.sum(view * normal, 1) < 0.05)[:, None], _unit(view + 2 * normal), view)
        light = np.where((np.sum(light * normal, 1) < 0.05)[:, None], _unit(light + 2 * normal), light)
    base = rng.uniform(0, 1, (n, 3))
    return base, rng.uniform(0, 1, n), rng.uniform(0, 1, n), normal, view, light


def test_head_on_directional_light_on_a_rough_white_dielectric():
    """N = V = L: F = f0 = 0.04, D = 1 / (pi alpha^2), Vis = 1/4, so E (0.96 / pi + 0.04 / (4 pi alpha^2))."""
    e = np.array([[2.0, 1.0, 0.5]])
    out = shade_light(np.ones((1, 3)), np.array([1.0]), np.array([0.0]), Z, Z, Z, e)
    np.testing.assert_allclose(out, e * (0.96 / np.pi + 0.04 / (4 * np.pi)), rtol=1e-12)
    r = 0.5                                          # alpha = 0.25
    out = shade_light(np.ones((1, 3)) * 0.5, np.array([r]), np.array([0.0]), Z, Z, Z, e)
    np.testing.assert_allclose(out, e * (0.96 * 0.5 / np.pi + 0.04 / (4 * np.pi * 0.25 ** 2)), rtol=1e-12)


def test_through_shade_with_directional_and_point_lights():
    p = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    n = np.tile(Z, (2, 1))
    base, rough, metal = np.full((2, 3), 0.8), np.full(2, 0.6), np.zeros(2)
    sun = {"type": "directional", "direction": [0, 0, 5], "color": [1, 1, 1], "intensity": 3.0}
    lamp = {"type": "point", "position": [0, 0, 2], "color": [1, 0.5, 0.25], "intensity": 8.0}
    eye = np.array([0.0, 0.0, 4.0])
    both = shade(p, base, rough, metal, n, eye, [sun, lamp])
    alone = shade(p, base, rough, metal, n, eye, [sun]) + shade(p, base, rough, metal, n, eye, [lamp])
    np.testing.assert_allclose(both, alone)
    # the point light straight above p[0] at distance 2: E = color * 8 / 4, L = +z
    v = _unit(eye - p[:1])
    expected = shade_light(base[:1], rough[:1], metal[:1], Z, v, Z, np.array([[2.0, 1.0, 0.5]]))
    np.testing.assert_allclose(shade(p[:1], base[:1], rough[:1], metal[:1], Z, eye, [lamp]), expected)
    # occlusion leaves direct light alone
    np.testing.assert_allclose(shade(p, base, rough, metal, n, eye, [sun, lamp], occlusion=np.zeros(2)), both)


def test_light_from_below_contributes_nothing():
    base, rough, metal, n, v, l = _random_setup(200, 3)
    out = shade_light(base, rough, metal, n, v, -l, np.ones((200, 3)))
    assert np.all(out == 0)


def test_ambient_furnace():
    """A white dielectric under a uniform white environment reflects about 1 (diffuse 1 + a little specular)."""
    nv = np.linspace(0.05, 1, 20)
    for r in (0.2, 0.5, 1.0):
        n = np.tile(Z, (20, 1))
        v = np.stack([np.sqrt(1 - nv ** 2), np.zeros(20), nv], 1)
        # the eye is a point: put the points at -v so that normalize(eye - p) = v
        out = shade(-v, np.ones((20, 3)), np.full(20, r), np.zeros(20), n, np.zeros(3),
                    [{"type": "ambient", "color": [1, 1, 1], "intensity": 1.0}])
        k = dfg_approx(np.full(20, r), nv)
        np.testing.assert_allclose(out, np.repeat((1 + 0.04 * k[:, 0] + k[:, 1])[:, None], 3, 1), rtol=1e-12)
        assert np.all(out >= 1.0) and np.all(out[nv >= 0.5] < 1.1)
    half = shade(-v, np.ones((20, 3)), np.full(20, 0.5), np.zeros(20), n, np.zeros(3),
                 [{"type": "ambient", "color": [1, 1, 1], "intensity": 1.0}], occlusion=np.full(20, 0.5))
    np.testing.assert_allclose(half, 0.5 * shade(-v, np.ones((20, 3)), np.full(20, 0.5), np.zeros(20), n,
                                                 np.zeros(3), [{"type": "ambient", "intensity": 1.0}]))


def test_karis_dfg_worked_values():
    """Karis' constants worked by hand: r = 0, NV = 1: q = c1, a004 = 2^-9.28 + 0.0425;
    r = 1: q = (0, 0.015, 0.468, -0.018) and q.x = 0 makes k independent of NV."""
    a004 = 2 ** -9.28 + 0.0425
    k = dfg_approx(np.array([0.0, 1.0, 1.0]), np.array([1.0, 1.0, 0.2]))
    np.testing.assert_allclose(k[0], [1.04 - 1.04 * a004, 1.04 * a004 - 0.04], rtol=1e-12)
    np.testing.assert_allclose(k[1:], [[1.04 * -0.015 + 0.468, 1.04 * 0.015 - 0.018]] * 2, rtol=1e-12)
    r, nv = np.meshgrid(np.linspace(0, 1, 11), np.linspace(0.01, 1, 12))
    k = dfg_approx(r.ravel(), nv.ravel())
    assert k.shape == (132, 2) and np.all(k[:, 0] >= 0) and np.all(k[:, 1] > -0.01) and np.all(k.sum(1) <= 1.0 + 1e-12)


@pytest.mark.parametrize("r", [0.045, 0.1, 0.3, 0.7, 1.0])
def test_ggx_d_integrates_to_one(r):
    """Integral of D(h) (n.h) over the hemisphere = 2 pi int_0^1 D(mu) mu dmu (log grid in 1 - mu)."""
    alpha = r * r
    s = np.concatenate([[0.0], np.logspace(-14, 0, 20001)])
    mu = 1 - s
    f = ggx_d(mu, alpha) * mu
    assert 2 * np.pi * np.sum((f[1:] + f[:-1]) / 2 * np.diff(s)) == pytest.approx(1.0, rel=1e-5)


def test_visibility_is_smiths_height_correlated_g2():
    base, rough, metal, n, v, l = _random_setup(500, 4)
    t = brdf_terms(base, rough, metal, n, v, l)
    a2 = t["alpha"] ** 2

    def lam(x):
        return (np.sqrt(1 + a2 * (1 - x * x) / (x * x)) - 1) / 2

    nl, nv = t["nl"], t["nv"]
    g2 = 1 / (1 + lam(nl) + lam(nv))
    np.testing.assert_allclose(t["Vis"], g2 / (4 * nl * nv), rtol=1e-10)


def test_metals_have_no_diffuse():
    base, rough, _, n, v, l = _random_setup(100, 5)
    t = brdf_terms(base, rough, np.ones(100), n, v, l)
    assert np.all(t["diffuse"] == 0) and np.all(t["c_diff"] == 0)
    np.testing.assert_allclose(t["f0"], base)
    out = shade_light(base, rough, np.ones(100), n, v, l, np.ones((100, 3)))
    np.testing.assert_allclose(out, t["nl"][:, None] * t["F"] * (t["D"] * t["Vis"])[:, None])


def test_reciprocity():
    base, rough, metal, n, v, l = _random_setup(500, 6)
    there = brdf_terms(base, rough, metal, n, v, l)["brdf"]
    back = brdf_terms(base, rough, metal, n, l, v)["brdf"]
    np.testing.assert_allclose(there, back, rtol=1e-10)


def test_roughness_is_clamped_inside_the_brdf():
    base, _, metal, n, v, l = _random_setup(50, 7)
    zero = brdf_terms(base, np.zeros(50), metal, n, v, l)
    floor = brdf_terms(base, np.full(50, 0.045), metal, n, v, l)
    np.testing.assert_array_equal(zero["brdf"], floor["brdf"])
    assert np.allclose(zero["alpha"], 0.045 ** 2)


def test_a_constant_environment_is_an_ambient_light():
    color = np.array([0.6, 0.9, 1.2])
    env = prefilter_environment(np.broadcast_to(color, (16, 32, 3)), levels=3, spec_size=(16, 8), irr_size=(8, 4),
                                samples=8)
    base, rough, metal, n, _, _ = _random_setup(100, 8)
    p = np.random.default_rng(9).normal(size=(100, 3))
    eye = np.array([0.5, 3.0, 9.0])
    ao = np.linspace(0, 1, 100)
    a = shade(p, base, rough, metal, n, eye, [{"type": "environment", "file": "x.hdr", "intensity": 2.0,
                                               "rotation": 40.0}], occlusion=ao, env=env)
    b = shade(p, base, rough, metal, n, eye, [{"type": "ambient", "color": color, "intensity": 2.0}], occlusion=ao)
    np.testing.assert_allclose(a, b, rtol=1e-6)


def test_shading_normal_mikktspace():
    ng = np.tile([[0.0, 0.0, 2.0]], (4, 1))                  # not unit: normalised
    tangent = np.array([[1.0, 0.0, 0.5, 1.0]] * 3 + [[1.0, 0.0, 0.5, -1.0]])   # not orthogonal to Ng: Gram-Schmidt
    n_t = np.array([[0.0, 0.0, 1.0], [2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.0]])
    out = shading_normal(ng, tangent, n_t)
    np.testing.assert_allclose(out, [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, -1, 0]], atol=1e-12)
    tilted = shading_normal(ng[:1], tangent[:1], np.array([[1.0, 0.0, 1.0]]))
    np.testing.assert_allclose(tilted, [[np.sqrt(0.5), 0, np.sqrt(0.5)]], atol=1e-12)


def test_srgb_encode():
    x = np.array([-1.0, 0.0, 0.0031308, 0.5, 1.0, 2.0])
    y = srgb_encode(x)
    assert y[0] == 0 and y[1] == 0 and y[4] == pytest.approx(1.0)
    assert y[2] == pytest.approx(12.92 * 0.0031308)
    assert y[2] == pytest.approx(1.055 * 0.0031308 ** (1 / 2.4) - 0.055, abs=1e-6)   # the two pieces meet
    assert y[3] == pytest.approx(0.7353569830524495, rel=1e-12)
    assert y[5] > 1.0                                                                   # not clamped above 1


def test_environment_rotation_is_a_turn_of_the_image():
    """rotation = 90 degrees shows the image turned by a quarter: -z then shows what +x showed (u = 0.75),
    the same as the image rolled left by a quarter of its width with rotation 0."""
    from diffrast_cli.scene.material.environment import procedural_sky
    img = procedural_sky(128, 64, sun_dir=(0.6, 0.5, 0.3), sun_radius_deg=6.0)
    sizes = dict(levels=3, spec_size=(32, 16), irr_size=(16, 8), samples=16)
    env = prefilter_environment(img, **sizes)
    rolled = prefilter_environment(np.roll(img, -32, axis=1), **sizes)
    base, rough, metal, n, _, _ = _random_setup(200, 10)
    n = _unit(n * [1, 0.5, 1])                       # keep normals and reflections off the poles
    p = -n * 2.0                                      # eye at the origin looks along the normal: R = N
    a = shade(p, base, rough, metal, n, np.zeros(3), [{"type": "environment", "intensity": 1.5, "rotation": 90.0}],
              env=env)
    b = shade(p, base, rough, metal, n, np.zeros(3), [{"type": "environment", "intensity": 1.5, "rotation": 0.0}],
              env=rolled)
    np.testing.assert_allclose(a, b, rtol=1e-5)
    unturned = shade(p, base, rough, metal, n, np.zeros(3), [{"type": "environment", "intensity": 1.5}], env=env)
    assert np.abs(unturned - a).max() > 0.1 * np.abs(a).max()
