"""Environment prefiltering and lookups (diffrast_cli.scene.material.environment) against docs/pbr.md."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from diffrast_cli.io.hdr import load_environment_image
from diffrast_cli.scene.material.environment import (
    direction_to_uv, irradiance_at, prefilter_environment, procedural_sky, resample_equirect, rotate_y,
    row_solid_angles, sample_bilinear, specular_at, texel_directions, uv_to_direction, Environment)

ROOT = Path(__file__).resolve().parent.parent


def test_constant_environment_gives_the_constant_everywhere():
    color = np.array([0.7, 1.3, 0.2], np.float32)
    env = prefilter_environment(np.broadcast_to(color, (32, 64, 3)), levels=4, spec_size=(32, 16),
                                irr_size=(16, 8), samples=32)
    assert env.irradiance.shape == (8, 16, 3) and env.specular.shape == (4, 16, 32, 3)
    np.testing.assert_allclose(env.irradiance, np.broadcast_to(color, env.irradiance.shape), rtol=1e-6)
    np.testing.assert_allclose(env.specular, np.broadcast_to(color, env.specular.shape), rtol=1e-6)
    d = np.random.default_rng(1).normal(size=(50, 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    np.testing.assert_allclose(irradiance_at(env, d, 30.0), np.broadcast_to(color, (50, 3)), rtol=1e-6)
    np.testing.assert_allclose(specular_at(env, d, np.linspace(0, 1, 50), 30.0), np.broadcast_to(color, (50, 3)),
                               rtol=1e-6)


def test_a_single_bright_direction_gives_a_clamped_cosine_irradiance():
    w, h = 128, 64
    img = np.zeros((h, w, 3))
    j, i = 20, 90                                     # one texel; its power = radiance * solid angle
    power = 2.0
    img[j, i] = power / row_solid_angles(w, h)[j]
    s = texel_directions(w, h)[j, i]
    env = prefilter_environment(img, levels=1, irr_size=(32, 16))
    n = texel_directions(32, 16).reshape(-1, 3)
    expected = np.maximum(n @ s, 0) / np.pi * power
    got = env.irradiance.reshape(-1, 3)
    assert np.allclose(got[:, 0], expected, atol=0.02 * power / np.pi)
    assert np.allclose(got[:, 0], got[:, 1])


def test_roughness_zero_level_is_the_source_resampled():
    img = procedural_sky(256, 128)
    env = prefilter_environment(img, levels=3, spec_size=(64, 32), irr_size=(8, 4), samples=16)
    np.testing.assert_allclose(env.specular[0], resample_equirect(img, (64, 32)), rtol=1e-6)
    same = prefilter_environment(img, levels=1, spec_size=(256, 128), irr_size=(8, 4))
    np.testing.assert_allclose(same.specular[0], img, rtol=1e-6)
    # a 4x reduction averages 4x4 blocks weighted by solid angle: the total power is kept
    small = env.specular[0]
    kept = (small * row_solid_angles(64, 32)[:, None, None]).sum((0, 1))
    total = (img * row_solid_angles(256, 128)[:, None, None]).sum((0, 1))
    np.testing.assert_allclose(kept, total, rtol=1e-5)


def test_rougher_levels_are_blurrier_and_keep_the_power_roughly():
    img = procedural_sky(256, 128)
    env = prefilter_environment(img, levels=5, spec_size=(64, 32), irr_size=(8, 4), samples=64)
    omega = row_solid_angles(64, 32)[:, None, None]
    peaks = env.specular.max(axis=(1, 2, 3))
    assert np.all(np.diff(peaks) < 0)
    power = (env.specular * omega).sum(axis=(1, 2, 3))
    np.testing.assert_allclose(power, power[0], rtol=0.25)


def test_lookup_convention():
    h, w = 8, 16
    tex = np.zeros((h, w, 3))
    tex[..., 0] = np.arange(w)[None, :]                 # column index
    tex[..., 1] = np.arange(h)[:, None]                 # row index
    env = Environment(irradiance=tex, specular=tex[None])
    up, minus_z, plus_x = np.array([[0.0, 1, 0]]), np.array([[0.0, 0, -1]]), np.array([[1.0, 0, 0]])
    assert irradiance_at(env, up)[0, 1] == 0                       # +y reads the top row
    assert irradiance_at(env, -up)[0, 1] == h - 1                  # -y the bottom row (clamped)
    assert irradiance_at(env, minus_z)[0, 0] == pytest.approx(w / 2 - 0.5)   # u = 0.5: between columns w/2-1, w/2
    assert irradiance_at(env, minus_z)[0, 1] == pytest.approx(h / 2 - 0.5)   # the horizon: v = 0.5
    assert direction_to_uv(plus_x)[0][0] == pytest.approx(0.75)
    # rotation by +90 degrees about +y: -z now shows what +x showed
    np.testing.assert_allclose(irradiance_at(env, minus_z, 90.0), irradiance_at(env, plus_x), atol=1e-9)
    np.testing.assert_allclose(rotate_y(plus_x, 90.0), minus_z, atol=1e-12)
    np.testing.assert_allclose(specular_at(env, minus_z, np.array([0.3])), irradiance_at(env, minus_z))


def test_bilinear_uses_texel_centres_repeat_u_and_clamp_v():
    tex = np.arange(4 * 8, dtype=np.float64).reshape(4, 8, 1)
    u = (np.arange(8) + 0.5) / 8
    np.testing.assert_allclose(sample_bilinear(tex, u, np.full(8, 1.5 / 4))[:, 0], tex[1, :, 0])
    assert sample_bilinear(tex, np.array([0.0]), np.array([0.5 / 4]))[0, 0] == pytest.approx((0 + 7) / 2)
    assert sample_bilinear(tex, np.array([1.0]), np.array([0.5 / 4]))[0, 0] == pytest.approx((0 + 7) / 2)
    assert sample_bilinear(tex, np.array([0.5 / 8]), np.array([0.0]))[0, 0] == 0        # clamped at the top
    assert sample_bilinear(tex, np.array([0.5 / 8]), np.array([1.0]))[0, 0] == 24       # and the bottom


def test_directions_and_uv_are_inverse():
    d = np.random.default_rng(2).normal(size=(100, 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    np.testing.assert_allclose(uv_to_direction(*direction_to_uv(d)), d, atol=1e-12)
    assert row_solid_angles(64, 32).sum() * 64 == pytest.approx(4 * np.pi)


def test_specular_interpolates_linearly_between_levels():
    spec = np.stack([np.full((4, 8, 3), float(k)) for k in range(5)])   # level k holds the value k
    env = Environment(irradiance=spec[0], specular=spec)
    r = np.array([0.0, 0.125, 0.5, 0.9, 1.0])
    got = specular_at(env, np.tile([[0.0, 0, -1]], (5, 1)), r)[:, 0]
    np.testing.assert_allclose(got, r * 4)


def test_sun_disk_delivers_its_irradiance():
    with_sun = procedural_sky(256, 128, sun_dir=(0, 1, 0), sun_irradiance=3.0, sun_color=(1, 1, 1))
    without = procedural_sky(256, 128, sun_dir=(0, 1, 0), sun_irradiance=0.0)
    sun = (with_sun - without).astype(np.float64)
    cos_up = texel_directions(256, 128)[..., 1]
    e = (sun[..., 0] * np.maximum(cos_up, 0) * row_solid_angles(256, 128)[:, None]).sum()
    assert e == pytest.approx(3.0, rel=1e-4)


def test_prefiltering_a_512x256_image_is_fast_and_the_sky_asset_matches():
    sky = load_environment_image(ROOT / "assets" / "sky.hdr")
    assert sky.shape == (256, 512, 3)
    fresh = procedural_sky(512, 256)
    assert np.all(np.abs(sky - fresh) <= fresh.max(axis=-1, keepdims=True) / 128)
    start = time.perf_counter()
    env = prefilter_environment(sky)
    assert time.perf_counter() - start < 2.5               # the budget is 2 s; a little slack for loaded machines
    assert env.specular.shape == (6, 64, 128, 3) and env.irradiance.shape == (16, 32, 3)
    assert np.isfinite(env.specular).all() and (env.specular >= 0).all()


def test_specular_levels_match_the_ggx_integral():
    """Level k at a texel = int L(l) D(h) max(n.l, 0) dl / int D(h) max(n.l, 0) dl with N = V = R,
    summed here by brute force over every texel of the source."""
    img = procedural_sky(256, 128, sun_radius_deg=8.0)
    env = prefilter_environment(img, levels=6, spec_size=(64, 32), irr_size=(8, 4))
    src = img.reshape(-1, 3).astype(np.float64)
    src_dirs = texel_directions(256, 128).reshape(-1, 3)
    omega = np.repeat(row_solid_angles(256, 128), 256)
    out_dirs = texel_directions(64, 32)
    for k in range(1, 6):
        a2 = (k / 5) ** 4
        for j, i in [(8, 10), (10, 40), (16, 5), (20, 50), (4, 33), (12, 45)]:
            n = out_dirs[j, i]
            h = src_dirs + n
            h /= np.linalg.norm(h, axis=1, keepdims=True)
            d = a2 / (np.pi * ((h @ n) ** 2 * (a2 - 1) + 1) ** 2)
            weight = d * np.maximum(src_dirs @ n, 0) * omega
            expected = weight @ src / weight.sum()
            tolerance = 0.08 if k == 1 else 0.01         # level 1 is importance-sampled, the rest summed directly
            assert np.abs(env.specular[k, j, i] - expected).max() <= tolerance * expected.max(), (k, j, i)
