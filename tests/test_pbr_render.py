"""The GLSL PBR shading (glsl/scene/material/pbr.glsl, material.glsl through mesh_shade.glsl) against
the numpy reference tests/pbr_reference.py, pixel by pixel (docs/pbr.md).

A flat quad (the plane z = 0 over [-1, 1]^2, two triangles) is rendered on the device by a
perspective camera from an oblique position; every pixel centre's camera ray is intersected with
the plane in numpy (through the inverse of the job's view-projection), and the reference is
evaluated there: the point, the UV and tangent interpolated from the corners of the triangle it
lies in, the material maps sampled bilinearly (repeat, row 0 = top), the face normal turned to
the eye. Pixels within a pixel of the quad's silhouette or of its diagonal are left out.

Measured on llvmpipe (float32), max |GL - reference|: direct lights 2e-7 .. 4e-6 (small maps
2.6e-6, normal maps <= 4.4e-6), a metallic highlight peaking at ~2: 1.8e-5 (float32, relative);
so ATOL = 2e-5, scaled by the peak where colours pass 1. Environment: 2.8e-5 on the smooth sky,
1.2e-3 with the sun's lobe in view (peak 2.8), all of it a ~2e-5 offset of the map lookup's v
(llvmpipe's acos): see test_environment. Each case also checks that a deliberately wrong
reference (roughness + 0.1, flipped handedness, wrong rotation sign, ...) is far outside it.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

from diffrast_cli.io.material import PbrMaterial
from diffrast_cli.io.mesh_data import MeshData
from diffrast_cli.io.tangents import corner_tangents
from diffrast_cli.scene.material.lights import load_environment
from tests import pbr_reference as ref
from tests.pbr_scenes import pbr_problem

REPO = Path(__file__).resolve().parents[1]
SKY = REPO / "assets" / "sky.hdr"
W = H = 56
ATOL = 2e-5                  # measured max |error| <= 4e-6 on [0, 1] colours (see the module docstring)
WRONG = 20 * ATOL            # a wrong reference must miss by at least this much somewhere
EYE = (1.2, -1.8, 2.2)

QUAD = np.array([[-1, -1, 0], [1, -1, 0], [1, 1, 0], [-1, 1, 0]], np.float64)
FACES = np.array([[0, 1, 2], [0, 2, 3]], np.int64)

DIRECT = [{"type": "directional", "direction": [0.3, 0.5, 1.0], "intensity": 2.0},
          {"type": "point", "position": [0.6, -0.4, 1.5], "color": [1.0, 0.9, 0.8], "intensity": 1.5},
          {"type": "ambient", "color": [0.6, 0.7, 1.0], "intensity": 0.2}]


@functools.lru_cache(maxsize=None)
def sky_environment():
    return load_environment(SKY)


def quad_uvs(kind: str) -> np.ndarray:
    """(4, 2) vertex UVs: identity, rotated by 90 degrees, or mirrored in u (handedness -1)."""
    uv = QUAD[:, :2] * 0.5 + 0.5
    if kind == "rotated":
        uv = np.stack([uv[:, 1], 1.0 - uv[:, 0]], axis=1)
    elif kind == "mirrored":
        uv = np.stack([1.0 - uv[:, 0], uv[:, 1]], axis=1)
    return uv


def quad_mesh(material: PbrMaterial, uv_kind: str = "plain") -> MeshData:
    corner_uv = quad_uvs(uv_kind)[FACES]
    return MeshData(positions=QUAD.astype(np.float32), faces=FACES.astype(np.int32),
                    uvs=corner_uv.astype(np.float32), normals=None, texture=None, vertex_colors=None,
                    name="quad", material=material)


def sample_map(tex: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """Bilinear lookup of an (h, w, C) map at uv (N, 2): repeat, texel centres (i + 0.5) / w, row 0 = v 1."""
    tex = np.asarray(tex, np.float64)
    if tex.ndim == 2:
        tex = tex[:, :, None]
    h, w = tex.shape[:2]
    x = uv[:, 0] * w - 0.5
    y = (1.0 - uv[:, 1]) * h - 0.5
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    i0, j0 = np.mod(x0.astype(int), w), np.mod(y0.astype(int), h)
    i1, j1 = np.mod(i0 + 1, w), np.mod(j0 + 1, h)
    top = tex[j0, i0] * (1 - fx) + tex[j0, i1] * fx
    bottom = tex[j1, i0] * (1 - fx) + tex[j1, i1] * fx
    return top * (1 - fy) + bottom * fy


class Render:
    """The device's clean render of the quad and the surface at each pixel centre."""

    def __init__(self, device, tmp_path, mesh, lights, extra=None):
        cfg = {"render.camera.position": list(EYE), "scene.shading.normals": "face"}
        cfg.update(extra or {})
        problem = pbr_problem(device, tmp_path, mesh, np.zeros((H, W, 3), np.float32), extra=cfg,
                              lights=[lights])
        try:
            self.image = problem.metrics(images=True)["images"][0].astype(np.float64)
            self.view_proj = np.asarray(problem.views.view_proj[0], np.float64)
            self.eye = np.asarray(problem.views.eyes[0], np.float64)
        finally:
            problem.release()
        self.mesh = mesh
        self._surface()

    def _surface(self):
        inv = np.linalg.inv(self.view_proj)
        y, x = np.mgrid[0:H, 0:W]
        ndc = np.stack([(x + 0.5) / W * 2 - 1, 1 - (y + 0.5) / H * 2], axis=-1).reshape(-1, 2)

        def unproject(z):
            c = np.concatenate([ndc, np.full((len(ndc), 1), z), np.ones((len(ndc), 1))], axis=1) @ inv.T
            return c[:, :3] / c[:, 3:]

        near, far = unproject(-1.0), unproject(1.0)
        d = far - near
        t = -near[:, 2] / d[:, 2]
        p = near + t[:, None] * d
        p[:, 2] = 0.0
        self.points = p
        # one pixel in world units at each point (the distance to the next pixel's point, either way)
        grid = p.reshape(H, W, 3)
        dx = np.linalg.norm(np.diff(grid, axis=1), axis=2)
        dy = np.linalg.norm(np.diff(grid, axis=0), axis=2)
        step = np.zeros((H, W))
        step[:, :-1] = np.maximum(step[:, :-1], dx)
        step[:, 1:] = np.maximum(step[:, 1:], dx)
        step[:-1] = np.maximum(step[:-1], dy)
        step[1:] = np.maximum(step[1:], dy)
        step = step.reshape(-1)
        margin = 1.5 * step
        inside = (np.abs(p[:, 0]) < 1 - margin) & (np.abs(p[:, 1]) < 1 - margin) & (t > 0)
        diag = np.abs(p[:, 0] - p[:, 1]) / np.sqrt(2)          # the quad's diagonal (0 -> 2) splits the triangles
        self.covered = (np.abs(p[:, 0]) < 1) & (np.abs(p[:, 1]) < 1) & (t > 0)
        self.mask = inside & (diag > margin)
        # the triangle each point lies in and its barycentrics (in xy)
        tri = np.where(p[:, 0] >= p[:, 1], 0, 1)
        corners = QUAD[FACES[tri]][:, :, :2]                     # (N, 3, 2)
        a, b, c = corners[:, 0], corners[:, 1], corners[:, 2]
        v0, v1, v2 = b - a, c - a, p[:, :2] - a
        den = v0[:, 0] * v1[:, 1] - v1[:, 0] * v0[:, 1]
        wb = (v2[:, 0] * v1[:, 1] - v1[:, 0] * v2[:, 1]) / den
        wc = (v0[:, 0] * v2[:, 1] - v2[:, 0] * v0[:, 1]) / den
        bary = np.stack([1 - wb - wc, wb, wc], axis=1)
        uvs = np.asarray(self.mesh.uvs, np.float64)[tri]           # (N, 3, 2)
        self.uv = np.einsum("nk,nkc->nc", bary, uvs)
        tangents = corner_tangents(self.mesh.positions, self.mesh.faces, self.mesh.uvs).astype(np.float64)[tri]
        tg = np.einsum("nk,nkc->nc", bary, tangents)
        tg[:, 3] = tangents[:, 0, 3]                              # the first corner's handedness, as the GLSL
        self.tangent = tg
        ng = np.tile([0.0, 0.0, 1.0], (len(p), 1))
        ng[np.sum(ng * (self.eye - p), axis=1) < 0] *= -1.0     # two-sided: turned towards the eye
        self.ng = ng

    def reference(self, lights, *, roughness_delta=0.0, flip_handedness=False, env=None, output="srgb",
                  material=None):
        """The reference colour (N, 3) at every pixel's surface point (all pixels; use .mask)."""
        m = material or self.mesh.material
        base = sample_map(m.base_color, self.uv)
        rough = sample_map(m.roughness, self.uv)[:, 0] + roughness_delta
        metal = sample_map(m.metallic, self.uv)[:, 0]
        occ = None if m.occlusion is None else sample_map(m.occlusion, self.uv)[:, 0]
        n = self.ng
        if m.normal is not None:
            tg = self.tangent.copy()
            if flip_handedness:
                tg[:, 3] *= -1.0
            n = ref.shading_normal(self.ng, tg, sample_map(m.normal, self.uv))
        radiance = ref.shade(self.points, base, rough, metal, n, self.eye, lights, occlusion=occ, env=env)
        return ref.srgb_encode(radiance) if output == "srgb" else radiance

    def error(self, expected) -> np.ndarray:
        got = self.image.reshape(-1, 3)[self.mask]
        return np.abs(got - np.asarray(expected).reshape(-1, 3)[self.mask])

    def check(self, expected, *wrong, atol=ATOL, spread=0.05) -> float:
        """Asserts the render matches ``expected`` and misses each of ``wrong``; the max error."""
        assert self.mask.sum() > 0.25 * W * H, "too few interior pixels"
        got = self.image.reshape(-1, 3)[self.mask]
        assert np.ptp(got, axis=0).max() > spread, "colour range too small to test anything"
        err = self.error(expected)
        assert err.max() <= atol, f"max |GL - reference| = {err.max():.3g} > {atol}"
        for other in wrong:
            miss = self.error(other).max()
            assert miss > WRONG, f"a wrong reference is only {miss:.3g} away: the test is vacuous"
        return float(err.max())


def constant_material(base, roughness, metallic, normal=None, occlusion=None) -> PbrMaterial:
    return PbrMaterial(base_color=np.asarray(base, np.float32).reshape(1, 1, 3),
                       roughness=np.full((1, 1), roughness, np.float32),
                       metallic=np.full((1, 1), metallic, np.float32),
                       normal=None if normal is None else (np.asarray(normal, np.float32)
                                                           / np.linalg.norm(normal)).reshape(1, 1, 3),
                       occlusion=None if occlusion is None else np.full((1, 1), occlusion, np.float32))


NO_NORMAL_MAP = {"scene.material.normal": None}


def test_geometry_and_conventions(device, tmp_path):
    """The unprojection agrees with the rasteriser: covered pixels are exactly where the ray hits the quad."""
    r = Render(device, tmp_path, quad_mesh(constant_material((0.7, 0.4, 0.2), 0.6, 0.0)), DIRECT, NO_NORMAL_MAP)
    drawn = r.image.reshape(-1, 3).sum(axis=1) > 0
    assert drawn.sum() > 0.3 * W * H
    assert np.mean(drawn == r.covered) > 0.99
    assert not np.any(drawn & ~r.covered & r.mask) and not np.any(~drawn & r.mask)


def test_direct_lights_dielectric(device, tmp_path):
    """(a) directional + point + ambient, a rough dielectric."""
    mesh = quad_mesh(constant_material((0.7, 0.4, 0.2), 0.6, 0.0))
    r = Render(device, tmp_path, mesh, DIRECT, NO_NORMAL_MAP)
    r.check(r.reference(DIRECT), r.reference(DIRECT, roughness_delta=0.1))


def test_direct_lights_small_maps(device, tmp_path):
    """(a') the same lights with small maps (2x3, 3x2, 2x2, occlusion 2x2): bilinear, repeat, row 0 = top."""
    rng = np.random.default_rng(3)
    mat = PbrMaterial(base_color=rng.uniform(0.1, 0.9, (2, 3, 3)).astype(np.float32),
                      roughness=rng.uniform(0.2, 0.9, (3, 2)).astype(np.float32),
                      metallic=rng.uniform(0.0, 1.0, (2, 2)).astype(np.float32),
                      occlusion=rng.uniform(0.3, 1.0, (2, 2)).astype(np.float32))
    r = Render(device, tmp_path, quad_mesh(mat), DIRECT, NO_NORMAL_MAP)
    flipped = PbrMaterial(base_color=mat.base_color[::-1], roughness=mat.roughness, metallic=mat.metallic,
                          occlusion=mat.occlusion)
    r.check(r.reference(DIRECT), r.reference(DIRECT, roughness_delta=0.1), r.reference(DIRECT, material=flipped))


def test_metallic_highlight(device, tmp_path):
    """(b) a smooth-ish metal (r = 0.3) under a point light close to the surface: a highlight in view."""
    lights = [{"type": "point", "position": [-0.4, 0.4, 0.5], "intensity": 0.25},
              {"type": "ambient", "intensity": 0.05}]
    r = Render(device, tmp_path, quad_mesh(constant_material((0.9, 0.6, 0.3), 0.3, 1.0)), lights, NO_NORMAL_MAP)
    expected = r.reference(lights)
    peak = expected[r.mask].max()
    assert peak > 2 * np.median(expected[r.mask]), "no highlight in view"
    r.check(expected, r.reference(lights, roughness_delta=0.1), atol=ATOL * max(1.0, peak))


@pytest.mark.parametrize("rotation", [30.0, 165.0])
def test_environment(device, tmp_path, rotation):
    """(c) an environment light (assets/sky.hdr), ambient occlusion 0.8; at 165 degrees the sun's
    reflection is in view. llvmpipe's float32 acos/atan put the lookup ~2e-5 off in v (fitted:
    the error is a uv offset to within 4e-6), so the tolerance scales with the map's gradient:
    5e-5 on the smooth sky, 1e-3 relative where the sun's lobe is in view."""
    lights = [{"type": "environment", "file": str(SKY), "intensity": 1.0, "rotation": rotation}]
    env = sky_environment()
    mesh = quad_mesh(constant_material((0.5, 0.6, 0.7), 0.35, 0.8, occlusion=0.8))
    r = Render(device, tmp_path, mesh, lights, NO_NORMAL_MAP)
    expected = r.reference(lights, env=env)
    wrong = [r.reference(lights, env=env, roughness_delta=0.1)]
    if rotation == 30.0:
        r.check(expected, *wrong, atol=5e-5, spread=0.03)
    else:
        peak = expected[r.mask].max()
        assert peak > 1.5, "the sun's reflection is not in view"
        wrong.append(r.reference([dict(lights[0], rotation=-rotation)], env=env))
        r.check(expected, *wrong, atol=1e-3 * peak)


@pytest.mark.parametrize("uv_kind", ["plain", "rotated", "mirrored"])
def test_normal_map(device, tmp_path, uv_kind):
    """(d) a constant tilted tangent-space normal through the corner tangents (handedness matters)."""
    lights = DIRECT[:1] + [{"type": "point", "position": [0.2, 0.6, 1.0], "intensity": 1.0}, DIRECT[2]]
    mesh = quad_mesh(constant_material((0.6, 0.6, 0.6), 0.4, 0.3, normal=(0.3, -0.2, 1.0)), uv_kind)
    r = Render(device, tmp_path, mesh, lights)
    expected = r.reference(lights)
    assert np.all(np.abs(r.tangent[r.mask, 3]) == 1.0)
    assert np.all(r.tangent[r.mask, 3] == (-1.0 if uv_kind == "mirrored" else 1.0))
    flat = r.reference(lights, material=constant_material((0.6, 0.6, 0.6), 0.4, 0.3))
    r.check(expected, r.reference(lights, flip_handedness=True), flat)


def test_normal_map_from_below(device, tmp_path):
    """(d') the same seen from below the plane: the face normal and the bitangent are turned."""
    lights = [{"type": "directional", "direction": [0.3, -0.5, -1.0], "intensity": 2.0},
              {"type": "point", "position": [-0.3, 0.4, -0.6], "intensity": 0.5},
              {"type": "ambient", "intensity": 0.2}]
    mesh = quad_mesh(constant_material((0.6, 0.6, 0.6), 0.4, 0.3, normal=(0.3, -0.2, 1.0)), "mirrored")
    r = Render(device, tmp_path, mesh, lights, {"render.camera.position": [1.2, -1.8, -2.2]})
    assert np.all(r.ng[r.mask, 2] == -1.0)
    r.check(r.reference(lights), r.reference(lights, flip_handedness=True))


def test_output_linear(device, tmp_path):
    """(e) scene.material.output: linear returns the radiance; srgb (the default) its encoding."""
    mesh = quad_mesh(constant_material((0.7, 0.4, 0.2), 0.5, 0.2))
    lin = Render(device, tmp_path, mesh, DIRECT, {**NO_NORMAL_MAP, "scene.material.output": "linear"})
    expected = lin.reference(DIRECT, output="linear")
    lin.check(expected, lin.reference(DIRECT, output="srgb"), lin.reference(DIRECT, output="linear",
                                                                            roughness_delta=0.1))
    srgb = Render(device, tmp_path, mesh, DIRECT, NO_NORMAL_MAP)
    srgb.check(srgb.reference(DIRECT), expected)
    np.testing.assert_allclose(srgb.image.reshape(-1, 3)[srgb.mask], ref.srgb_encode(lin.image.reshape(-1, 3)[lin.mask]),
                               atol=ATOL)


@pytest.mark.parametrize("light", ["ambient", "environment"])
def test_low_roughness_clamp(device, tmp_path, light):
    """Roughness 0.02 (bounds lowered to [0, 1] so the parameter keeps it): the split-sum terms must
    use the clamped r = 0.045, like the direct lights' alpha."""
    lights = ([{"type": "ambient", "intensity": 1.0}] if light == "ambient" else
              [{"type": "environment", "file": str(SKY), "intensity": 1.0, "rotation": 30.0}])
    env = sky_environment() if light == "environment" else None
    mesh = quad_mesh(constant_material((0.5, 0.5, 0.5), 0.02, 1.0))
    r = Render(device, tmp_path, mesh, lights, {**NO_NORMAL_MAP, "scene.material.roughness.bounds": [0.0, 1.0]})
    r.check(r.reference(lights, env=env), atol=1e-4, spread=0.0)
