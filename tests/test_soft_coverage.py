"""The soft rasterizer's CDF families and t-conorms (glsl/scene/soft/soft_coverage.glsl,
issue 12) on the renderer: values against the numpy reference (tests/soft_reference.py),
and every exact derivative the GLSL returns against central differences of that reference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from diffrast_cli.gl import bindings as B
from diffrast_cli.gl import shaders
from diffrast_cli.gl.passes import barrier, groups_1d, set_uniforms
from tests.soft_reference import CONORMS, FAMILIES, aggregate, cdf, conorm, signed_distance

ROOT = Path(__file__).resolve().parents[1]
MLP_WEIGHTS = np.random.default_rng(7).normal(0.0, 1.0, 56)


@pytest.fixture(scope="module")
def evaluate(device):
    ctx = device.ctx
    # the shader folder the renderer uses (DIFFRAST_GLSL_DIR when set: the mutation check)
    prog = shaders.compute(ctx, "soft_eval.comp", {}, dirs=(ROOT / "tests" / "glsl", shaders.glsl_dir() / "scene" / "soft"))

    def run(mode: int, kind: int, p: float, points: np.ndarray, tri=None) -> np.ndarray:
        pts = np.zeros((len(points), 2), np.float32)
        pts[:, :points.shape[1]] = points
        inp = ctx.buffer(pts.tobytes())
        out = ctx.buffer(reserve=16 * (2 * len(points) + 1))
        if tri is not None:
            prog["u_tri"].value = [tuple(float(c) for c in v) for v in tri]
        inp.bind_to_storage_buffer(B.SSBO_PARAMS)
        out.bind_to_storage_buffer(B.SSBO_GRAD)
        set_uniforms(prog, u_mode=mode, u_kind=kind, u_p=float(p), u_count=len(points))
        if "u_soft_mlp" in prog:
            prog["u_soft_mlp"].value = [float(v) for v in MLP_WEIGHTS]
        prog.run(*groups_1d(len(points)))
        barrier(ctx)
        res = np.frombuffer(out.read(), np.float32).reshape(-1, 4).astype(np.float64)
        inp.release()
        out.release()
        return res[:len(points)] if mode in (0, 1) else res

    yield run
    prog.release()


def central(f, x, h=1e-5):
    return (f(x + h) - f(x - h)) / (2.0 * h)


SHAPES = {"gamma": (0.7, 2.0, 5.0)}
KINKS = {"uniform": (-1.0, 1.0), "hermite": (-1.0, 1.0), "exponential": (0.0,), "exponential_rev": (0.0,),
         "gamma": (0.0,), "hard": (0.0,)}


@pytest.mark.parametrize("family", list(FAMILIES))
def test_cdf_values_and_derivatives(evaluate, family):
    x = np.linspace(-6.0, 6.0, 241) + 0.0137         # off the grid of kinks
    for k in KINKS.get(family, ()):
        x = x[np.abs(x - k) > 1e-3]
    for p in SHAPES.get(family, (2.0,)):
        got = evaluate(0, FAMILIES[family], p, x[:, None])
        ref = cdf(family, x, p, MLP_WEIGHTS)
        tol = 2e-5 if family == "gamma" else 2e-6
        np.testing.assert_allclose(got[:, 0], ref, atol=tol, err_msg=f"{family} p={p}: F")
        slope = central(lambda v: cdf(family, v, p, MLP_WEIGHTS), x)
        np.testing.assert_allclose(got[:, 1], slope, atol=2e-5, rtol=1e-4, err_msg=f"{family} p={p}: dF/dx")
        assert got[:, 0].min() >= 0.0 and got[:, 0].max() <= 1.0
        if family != "mlp":          # a CDF; the MLP is one only where training made it so
            assert np.all(np.diff(got[:, 0]) >= -1e-6)


PARAMS = {"hamacher": (0.0, 0.5, 1.0, 3.0), "yager": (1.0, 1.5, 3.0), "dombi": (0.5, 2.0)}


@pytest.mark.parametrize("kind", list(CONORMS))
def test_conorm_values_and_derivatives(evaluate, kind):
    g = np.linspace(0.02, 0.97, 20) + 0.0011
    a, b = (v.ravel() for v in np.meshgrid(g, g))
    keep = np.abs(a - b) > 1e-3                            # max: off its kink at a = b
    a, b = a[keep], b[keep]
    for p in PARAMS.get(kind, (2.0,)):
        ref = conorm(kind, a, b, p)
        sel = np.abs(ref - 1.0) > 1e-3 if kind == "yager" else np.ones_like(a, bool)   # off Yager's clamp
        got = evaluate(1, CONORMS[kind], p, np.stack([a, b], axis=1))
        np.testing.assert_allclose(got[:, 0], ref, atol=3e-6, err_msg=f"{kind} p={p}: S")
        da = central(lambda v: conorm(kind, v, b, p), a)
        db = central(lambda v: conorm(kind, a, v, p), b)
        np.testing.assert_allclose(got[sel, 1], da[sel], atol=5e-5, rtol=1e-3, err_msg=f"{kind} p={p}: dS/da")
        np.testing.assert_allclose(got[sel, 2], db[sel], atol=5e-5, rtol=1e-3, err_msg=f"{kind} p={p}: dS/db")
        # a t-conorm: commutative, 0 its identity
        swapped = evaluate(1, CONORMS[kind], p, np.stack([b, a], axis=1))
        np.testing.assert_allclose(swapped[:, 0], got[:, 0], atol=1e-6)
        ident = evaluate(1, CONORMS[kind], p, np.stack([a, np.zeros_like(a)], axis=1))
        np.testing.assert_allclose(ident[:, 0], a, atol=1e-6, err_msg=f"{kind} p={p}: S(a, 0) = a")


TRIANGLES = {"ccw": [[-0.5, -0.4], [0.6, -0.3], [0.1, 0.7]], "cw": [[-0.5, -0.4], [0.1, 0.7], [0.6, -0.3]],
             "thin": [[-0.8, 0.0], [0.8, 0.05], [0.0, 0.1]]}


@pytest.mark.parametrize("name", list(TRIANGLES))
def test_signed_distance_and_its_vertex_derivatives(evaluate, name):
    """The signed distance to the nearest edge (either winding, inside positive) against the
    numpy reference; its derivatives with respect to each vertex against central differences."""
    tri = np.array(TRIANGLES[name], np.float64)
    rng = np.random.default_rng(5)
    pts = rng.uniform(-1.0, 1.0, (400, 2))
    got = evaluate(2, 0, 0.0, pts, tri)
    d, grads = got[0::2][:len(pts), 0], np.concatenate([got[0::2][:len(pts), 1:], got[1::2][:len(pts), :3]], 1)
    ref = signed_distance(pts, tri)
    np.testing.assert_allclose(d, ref, atol=2e-6)
    assert (ref > 0).sum() >= 3 and (ref < 0).sum() > 20
    h = 1e-6
    fd = np.zeros((len(pts), 6))
    for k in range(6):
        up, down = tri.copy(), tri.copy()
        up.flat[k] += h
        down.flat[k] -= h
        fd[:, k] = (signed_distance(pts, up) - signed_distance(pts, down)) / (2 * h)
    # off ties between two edges (where the nearest edge switches) and the edges themselves
    smooth = np.abs(fd).max(axis=1) < 10.0
    assert smooth.sum() > 300
    np.testing.assert_allclose(grads[smooth], fd[smooth], atol=2e-4)


@pytest.mark.parametrize("kind", list(CONORMS))
def test_aggregate_over_a_pixel_and_its_derivatives(evaluate, kind):
    """A pixel's n coverages folded by each t-conorm: the value against the reference fold, and
    dA/dc_k (prefixes forward, the chain backwards) against central differences."""
    rng = np.random.default_rng(11)
    for n in (1, 2, 7):
        cov = rng.uniform(0.05, 0.6, n)
        p = PARAMS.get(kind, (2.0,))[-1]
        got = evaluate(3, CONORMS[kind], p, cov[:, None])
        assert got[0, 0] == pytest.approx(aggregate(kind, cov, p), abs=3e-6)
        h = 1e-6
        for k in range(n):
            up, down = cov.copy(), cov.copy()
            up[k] += h
            down[k] -= h
            fd = (aggregate(kind, up, p) - aggregate(kind, down, p)) / (2 * h)
            assert got[1 + k, 0] == pytest.approx(fd, abs=5e-5, rel=1e-3), (kind, n, k)
