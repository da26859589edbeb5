"""The texture-recovery benchmark asset (assets/make_texture_benchmark.py, issue 9): deterministic,
shipped as generated, high-frequency, and the job that uses it."""

import functools
import importlib.util
import sys
from pathlib import Path

import numpy as np

from diffrast_cli.io.meshes import load_mesh
from diffrast_cli.jobfile import load_job

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"


@functools.lru_cache(maxsize=1)
def generator():
    sys.path.insert(0, str(ASSETS))      # it imports make_meshes next to it
    try:
        spec = importlib.util.spec_from_file_location("make_texture_benchmark", ASSETS / "make_texture_benchmark.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod
    finally:
        sys.path.remove(str(ASSETS))


def test_texture_is_deterministic_and_shipped():
    gen = generator()
    tex = gen.benchmark_texture()
    assert tex.shape == (512, 512, 3) and tex.dtype == np.float32
    np.testing.assert_array_equal(tex, gen.benchmark_texture())
    assert np.abs(tex - gen.benchmark_texture(seed=10)).mean() > 0.05      # the seed matters
    shipped = load_mesh(ASSETS / "benchmark_blob.obj", need_uvs=True)
    np.testing.assert_allclose(shipped.texture, tex, atol=0.5 / 255 + 1e-6)
    blob = load_mesh(ASSETS / "textured_blob.obj", need_uvs=True)      # same geometry and UVs
    np.testing.assert_array_equal(shipped.faces, blob.faces)
    np.testing.assert_allclose(shipped.positions, blob.positions, atol=1e-6)
    np.testing.assert_allclose(shipped.uvs, blob.uvs, atol=1e-6)
    assert (ASSETS / "benchmark_blob.png").stat().st_size < 512 * 1024


def test_texture_is_high_frequency():
    """Energy at every scale down to the texel: the mean absolute difference between
    neighbouring texels is far above an 8-bit step, and a 2x box blur loses a visible part
    of the signal; sharp edges (strokes, shapes) give single-texel jumps of > 0.5."""
    tex = generator().benchmark_texture().astype(np.float64)
    dx = np.abs(np.diff(tex, axis=1))
    assert dx.mean() > 4 / 255
    assert (dx.max(axis=2) > 0.5).mean() > 0.003
    blur = tex.reshape(256, 2, 256, 2, 3).mean(axis=(1, 3)).repeat(2, 0).repeat(2, 1)
    assert np.sqrt(np.mean((tex - blur) ** 2)) > 0.02


def test_benchmark_job():
    job, base = load_job(ROOT / "configs" / "texture_benchmark.yaml")
    assert job.cameras.orbit.count == 40 and job.cameras.holdout == 8
    assert job.optimize.iterations == 1000 and job.optimize.views_per_iteration == 2
    assert job.render.resolution == 256 and job.scene.texture.resolution == 512
    assert job.scene.texture.init == (0.5, 0.5, 0.5) and not job.scene.positions.optimize
    assert (base / job.target.reference.mesh).resolve() == ASSETS / "benchmark_blob.obj"
