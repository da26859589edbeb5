// glTF 2.0 metallic-roughness shading, exactly as docs/pbr.md defines it
// (the numpy reference tests/pbr_reference.py implements the same document).
// Lights come from the scene's LIGHTS buffer; each camera has a range of
// lights (its light setup) in LIGHT_RANGE. Environment maps (irradiance and
// GGX-prefiltered radiance, equirectangular, RGB float triples) live in ENV
// and are sampled bilinearly here, not by texture units, so the lookup is the
// reference's to the last bit of its formula and smooth in the direction.
// Needs buffers.glsl (cameras).

#define PBR_PI 3.14159265358979
#define LIGHT_DIRECTIONAL 0.0
#define LIGHT_POINT 1.0
#define LIGHT_AMBIENT 2.0
#define LIGHT_ENVIRONMENT 3.0

struct Light { vec4 a; vec4 b; };    // a = (type, x, y, z); b = (E.rgb, rotation in radians)
layout(std430, binding = SSBO_SCENE_LIGHTS) readonly buffer Lights { Light lights[]; };
layout(std430, binding = SSBO_SCENE_LIGHT_RANGE) readonly buffer LightRange { uvec2 light_range[]; };
#ifdef HAS_ENV
layout(std430, binding = SSBO_SCENE_ENV) readonly buffer Env { float env[]; };

vec3 env_texel(uint off, int w, int h, int x, int y) {
    x -= w * int(floor(float(x) / float(w)));        // repeat in u (GLSL % is undefined for negatives)
    y = clamp(y, 0, h - 1);                           // clamp in v
    uint i = off + 3u * uint(y * w + x);
    return vec3(env[i], env[i + 1u], env[i + 2u]);
}

vec3 env_bilinear(uint off, int w, int h, vec2 uv) {
    vec2 f = uv * vec2(w, h) - 0.5;
    ivec2 i0 = ivec2(floor(f));
    vec2 fr = f - floor(f);
    return mix(mix(env_texel(off, w, h, i0.x, i0.y), env_texel(off, w, h, i0.x + 1, i0.y), fr.x),
               mix(env_texel(off, w, h, i0.x, i0.y + 1), env_texel(off, w, h, i0.x + 1, i0.y + 1), fr.x), fr.y);
}

// Equirectangular (u, v) of the world direction d for a map turned by `rot` radians about +y.
vec2 env_uv(vec3 d, float rot) {
    float c = cos(rot), s = sin(rot);
    vec3 q = vec3(c * d.x - s * d.z, d.y, s * d.x + c * d.z);    // d turned by -rot about +y
    return vec2(0.5 + atan(q.x, -q.z) / (2.0 * PBR_PI), acos(clamp(q.y, -1.0, 1.0)) / PBR_PI);
}

vec3 env_specular(uint off, float r, vec2 uv) {
    float l = clamp(r, 0.0, 1.0) * float(ENV_LEVELS - 1);
    int l0 = min(int(floor(l)), ENV_LEVELS - 2);
    uint level = uint(3 * ENV_SPEC_W * ENV_SPEC_H);
    vec3 a = env_bilinear(off + uint(l0) * level, ENV_SPEC_W, ENV_SPEC_H, uv);
    vec3 b = env_bilinear(off + uint(l0 + 1) * level, ENV_SPEC_W, ENV_SPEC_H, uv);
    return mix(a, b, l - float(l0));
}
#endif

// Karis' analytic approximation of the split-sum DFG term (docs/pbr.md).
vec2 dfg_approx(float r, float nv) {
    const vec4 c0 = vec4(-1.0, -0.0275, -0.572, 0.022);
    const vec4 c1 = vec4(1.0, 0.0425, 1.04, -0.04);
    vec4 q = r * c0 + c1;
    float a004 = min(q.x * q.x, exp2(-9.28 * nv)) * q.x + q.y;
    return vec2(-1.04, 1.04) * a004 + q.zw;
}

// (diffuse + specular BRDF) * NL for one light direction L.
vec3 brdf_cos(vec3 c_diff, vec3 f0, float alpha, vec3 N, vec3 V, vec3 L, float nv) {
    float nl = dot(N, L);
    if (nl <= 0.0) return vec3(0.0);
    vec3 H = normalize(L + V);
    float nh = max(dot(N, H), 0.0);
    float vh = max(dot(V, H), 0.0);
    vec3 F = f0 + (1.0 - f0) * pow(1.0 - vh, 5.0);
    float a2 = alpha * alpha;
    float d = nh * nh * (a2 - 1.0) + 1.0;
    float D = a2 / (PBR_PI * d * d);
    float vis = 0.5 / (nl * sqrt(nv * nv * (1.0 - a2) + a2) + nv * sqrt(nl * nl * (1.0 - a2) + a2));
    return nl * ((1.0 - F) * c_diff / PBR_PI + F * (D * vis));
}

// Linear radiance towards the eye of camera `cam` from point p with shading normal N.
vec3 shade_pbr(vec3 base, float rough, float metal, float ao, vec3 N, vec3 p, uint cam) {
    vec3 V = normalize(cameras[cam].eye.xyz - p);
    float nv = max(dot(N, V), 1e-4);
    vec3 c_diff = base * (1.0 - metal);
    vec3 f0 = 0.04 * (1.0 - metal) + base * metal;
    float r = clamp(rough, 0.045, 1.0);
    float alpha = r * r;
    vec2 k = dfg_approx(r, nv);
    vec3 spec_ibl = f0 * k.x + k.y;
    vec3 out_rad = vec3(0.0);
    uvec2 range = light_range[cam];
    for (uint j = range.x; j < range.x + range.y; ++j) {
        Light li = lights[j];
        vec3 E = li.b.rgb;
        if (li.a.x == LIGHT_DIRECTIONAL) {
            out_rad += E * brdf_cos(c_diff, f0, alpha, N, V, li.a.yzw, nv);
        } else if (li.a.x == LIGHT_POINT) {
            vec3 dl = li.a.yzw - p;
            float d2 = max(dot(dl, dl), 1e-8);
            out_rad += (E / d2) * brdf_cos(c_diff, f0, alpha, N, V, dl * inversesqrt(d2), nv);
        } else if (li.a.x == LIGHT_AMBIENT) {
            out_rad += ao * E * (c_diff + spec_ibl);
        }
#ifdef HAS_ENV
        else {
            uint irr = uint(li.a.y), spec = uint(li.a.z);
            vec3 R = reflect(-V, N);
            vec3 diffuse = env_bilinear(irr, ENV_IRR_W, ENV_IRR_H, env_uv(N, li.b.w));
            vec3 specular = env_specular(spec, r, env_uv(R, li.b.w));
            out_rad += ao * E * (c_diff * diffuse + specular * spec_ibl);
        }
#endif
    }
    return out_rad;
}

vec3 encode_output(vec3 x) {
#ifdef OUTPUT_LINEAR
    return x;
#else
    x = max(x, vec3(0.0));
    return mix(12.92 * x, 1.055 * pow(x, vec3(1.0 / 2.4)) - 0.055, greaterThan(x, vec3(0.0031308)));
#endif
}
