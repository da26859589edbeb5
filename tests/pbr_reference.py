"""The numpy reference of docs/pbr.md (float64, vectorised over N points); the GLSL is tested against it.

Readings of the document where it leaves a choice (the GLSL must make the same):

* The perceptual roughness is clamped to [0.045, 1] once, and that clamped r is used
  everywhere in shading: alpha = r^2 in D and Vis, the DFG approximation k, and the
  environment's specular level lookup Spec(R, r).
* NV = max(dot(N, V), 1e-4) is used in Vis and in k; R = reflect(-V, N) = 2 dot(N, V) N - V
  uses the unclamped dot.
* V = normalize(eye - p). Ng, T and n_t of the shading normal are normalised first;
  a tangent handedness w < 0 means -1, anything else +1.
* occlusion = None means ao = 1; ao scales ambient and environment terms only.
* Environment rotation: d is rotated by -rotation degrees about +y, right-handed
  (a positive rotation turns +x towards -z), before the (u, v) lookup.
"""

from __future__ import annotations

import numpy as np

from diffrast_cli.scene.material.environment import irradiance_at, specular_at

MIN_ROUGHNESS = 0.045
MIN_NV = 1e-4


def _normalize(v):
    v = np.asarray(v, np.float64)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _dot(a, b):
    return np.sum(a * b, axis=-1)


def clamp_roughness(roughness):
    return np.clip(np.asarray(roughness, np.float64), MIN_ROUGHNESS, 1.0)


def material_colors(base, metallic):
    """(c_diff, f0), each (N, 3)."""
    base = np.asarray(base, np.float64)
    m = np.asarray(metallic, np.float64)[..., None]
    return base * (1 - m), 0.04 * (1 - m) + base * m


def ggx_d(nh, alpha):
    a2 = alpha * alpha
    return a2 / (np.pi * (nh * nh * (a2 - 1) + 1) ** 2)


def smith_vis(nl, nv, alpha):
    """Height-correlated Smith visibility G2 / (4 NL NV) as docs/pbr.md writes it."""
    a2 = alpha * alpha
    return 0.5 / (nl * np.sqrt(nv * nv * (1 - a2) + a2) + nv * np.sqrt(nl * nl * (1 - a2) + a2))


def brdf_terms(base, roughness, metallic, normal, view, light_dir):
    """Every intermediate of the BRDF for unit N, V, L (N, 3): a dict of (N,) / (N, 3) arrays.

    Keys: nl (unclamped), nv (clamped to 1e-4), nh, vh, alpha, F (N, 3), D, Vis, c_diff, f0,
    diffuse = (1 - F) c_diff / pi, specular = F D Vis, brdf = diffuse + specular (all (N, 3))."""
    n, v, l = _normalize(normal), _normalize(view), _normalize(light_dir)
    alpha = clamp_roughness(roughness) ** 2
    c_diff, f0 = material_colors(base, metallic)
    nl = _dot(n, l)
    nv = np.maximum(_dot(n, v), MIN_NV)
    h = _normalize(l + v)
    nh = np.maximum(_dot(n, h), 0.0)
    vh = np.maximum(_dot(v, h), 0.0)
    f = f0 + (1 - f0) * ((1 - vh) ** 5)[..., None]
    d = ggx_d(nh, alpha)
    vis = smith_vis(np.maximum(nl, 0.0), nv, alpha)
    diffuse = (1 - f) * c_diff / np.pi
    specular = f * (d * vis)[..., None]
    return dict(nl=nl, nv=nv, nh=nh, vh=vh, alpha=alpha, F=f, D=d, Vis=vis, c_diff=c_diff, f0=f0,
                diffuse=diffuse, specular=specular, brdf=diffuse + specular)


def shade_light(base, roughness, metallic, normal, view, light_dir, radiance):
    """Radiance (N, 3) towards V from one light of radiance E (N, 3) arriving from L; 0 where NL <= 0."""
    t = brdf_terms(base, roughness, metallic, normal, view, light_dir)
    nl = t["nl"]
    lit = nl > 0
    out = np.asarray(radiance, np.float64) * (np.where(lit, nl, 0.0))[..., None] * t["brdf"]
    return np.where(lit[..., None], out, 0.0)


def dfg_approx(roughness, nv):
    """Karis' analytic split-sum DFG term k = (k.x, k.y), (N, 2); roughness and NV are used as given."""
    r = np.asarray(roughness, np.float64)[..., None]
    nv = np.asarray(nv, np.float64)
    c0 = np.array([-1.0, -0.0275, -0.572, 0.022])
    c1 = np.array([1.0, 0.0425, 1.04, -0.04])
    q = r * c0 + c1
    a004 = np.minimum(q[..., 0] * q[..., 0], np.exp2(-9.28 * nv)) * q[..., 0] + q[..., 1]
    return np.array([-1.04, 1.04]) * a004[..., None] + q[..., 2:4]


def light_at(light: dict, points):
    """(L (N, 3), E (N, 3)) of a directional or point light at the points."""
    p = np.asarray(points, np.float64)
    color = np.asarray(light.get("color", (1.0, 1.0, 1.0)), np.float64) * float(light.get("intensity", 1.0))
    if light["type"] == "directional":
        l = np.broadcast_to(_normalize(np.asarray(light["direction"], np.float64)), p.shape)
        return l, np.broadcast_to(color, p.shape)
    if light["type"] == "point":
        to_light = np.asarray(light["position"], np.float64) - p
        dist2 = np.maximum(_dot(to_light, to_light), 1e-8)
        return _normalize(to_light), color / dist2[..., None]
    raise ValueError(f"not a direct light: {light['type']!r}")


def shade(points, base, roughness, metallic, normal, eye, lights, occlusion=None, env=None):
    """Linear radiance (N, 3) towards the eye at the points, summed over the lights (docs/pbr.md).

    ``env``: the Environment of the (one) environment light, from prefilter_environment."""
    p = np.asarray(points, np.float64)
    n = _normalize(normal)
    v = _normalize(np.asarray(eye, np.float64) - p)
    base = np.asarray(base, np.float64)
    metallic = np.asarray(metallic, np.float64)
    r = clamp_roughness(roughness)
    ao = np.ones(len(p)) if occlusion is None else np.asarray(occlusion, np.float64)
    c_diff, f0 = material_colors(base, metallic)
    nv = np.maximum(_dot(n, v), MIN_NV)
    out = np.zeros(p.shape)
    for light in lights:
        kind = light["type"]
        if kind in ("directional", "point"):
            l, e = light_at(light, p)
            out += shade_light(base, r, metallic, n, v, l, e)
            continue
        k = dfg_approx(r, nv)
        spec_scale = f0 * k[:, :1] + k[:, 1:]
        if kind == "ambient":
            a = np.asarray(light.get("color", (1.0, 1.0, 1.0)), np.float64) * float(light.get("intensity", 1.0))
            out += ao[:, None] * a * (c_diff + spec_scale)
        elif kind == "environment":
            if env is None:
                raise ValueError("an environment light needs env (prefilter_environment of its image)")
            rot = float(light.get("rotation", 0.0))
            refl = 2 * _dot(n, v)[:, None] * n - v
            irr = irradiance_at(env, n, rot)
            spec = specular_at(env, refl, r, rot)
            out += ao[:, None] * float(light.get("intensity", 1.0)) * (c_diff * irr + spec * spec_scale)
        else:
            raise ValueError(f"unknown light type {kind!r}")
    return out


def shading_normal(ng, tangent, n_t):
    """N = normalize(T n_t.x + B n_t.y + Ng n_t.z) with T Gram-Schmidt against Ng, B = w cross(Ng, T)."""
    ng = _normalize(ng)
    tangent = np.asarray(tangent, np.float64)
    n_t = _normalize(n_t)
    t = _normalize(tangent[..., :3] - ng * _dot(ng, tangent[..., :3])[..., None])
    w = np.where(tangent[..., 3] < 0, -1.0, 1.0)[..., None]
    b = w * np.cross(ng, t)
    return _normalize(t * n_t[..., :1] + b * n_t[..., 1:2] + ng * n_t[..., 2:3])


def srgb_encode(x):
    """The sRGB transfer function of docs/pbr.md's Output: below 0 clamped to 0, above 1 not clamped."""
    x = np.maximum(np.asarray(x, np.float64), 0.0)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)
