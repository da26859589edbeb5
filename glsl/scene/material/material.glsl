// The PBR material of a surface sample (docs/pbr.md): maps sampled from the
// parameter buffer (bilinear, repeat, row 0 = top), the shading frame, and
// the exact derivatives of analytic maps. Map NAME (BASE_COLOR, ROUGHNESS,
// METALLIC, NORMAL) is there with HAS_MAP_NAME, sized MAP_NAME_W x MAP_NAME_H,
// stored in group GROUP_NAME; MAP_NAME_PERTURB: optimised by SGE (perturbed,
// its bilinear footprint the sample's contributors); MAP_NAME_ANALYTIC:
// optimised with exact derivatives (not perturbed; scene_analytic fills one
// accumulator slot per texel channel). Neither: fixed.
// Needs buffers.glsl, perturb.glsl, contributors.glsl (and accumulate.glsl in G).

#include "pbr.glsl"
#include "maps.glsl"

#ifdef HAS_OCCLUSION
layout(std430, binding = SSBO_SCENE_OCCLUSION) readonly buffer Occlusion { float occlusion[]; };
#endif

void add_map_contributors(uint group, Footprint fp) {
    uint b = groups[group].contrib_base;
    add_contributor(b + fp.texel.x);
    add_contributor(b + fp.texel.y);
    add_contributor(b + fp.texel.z);
    add_contributor(b + fp.texel.w);
}

#ifdef MAP_BASE_COLOR_PERTURB
#define BASE_COLOR_PERTURB true
#else
#define BASE_COLOR_PERTURB false
#endif
#ifdef MAP_ROUGHNESS_PERTURB
#define ROUGHNESS_PERTURB true
#else
#define ROUGHNESS_PERTURB false
#endif
#ifdef MAP_METALLIC_PERTURB
#define METALLIC_PERTURB true
#else
#define METALLIC_PERTURB false
#endif
#ifdef MAP_NORMAL_PERTURB
#define NORMAL_PERTURB true
#else
#define NORMAL_PERTURB false
#endif

#ifndef MAP_BASE_COLOR_LEVELS
#define MAP_BASE_COLOR_LEVELS 1
#endif
#ifndef MAP_ROUGHNESS_LEVELS
#define MAP_ROUGHNESS_LEVELS 1
#endif
#ifndef MAP_METALLIC_LEVELS
#define MAP_METALLIC_LEVELS 1
#endif
#ifndef MAP_NORMAL_LEVELS
#define MAP_NORMAL_LEVELS 1
#endif

struct Material { vec3 base; float rough; float metal; vec3 nt; float ao; };

// The material at uv for the copy (key, sigma); adds the footprints of SGE maps as contributors.
// Pyramid maps (MAP_NAME_LEVELS > 1, analytic, coarse to fine) sum their levels: one of them
// holds the map at any time (scene/material/pyramid.py), the others are 0.
Material fetch_material(vec2 uv, uint key, float sigma) {
    Material m;
    m.base = pyramid_sample3(GROUP_BASE_COLOR, ivec2(MAP_BASE_COLOR_W, MAP_BASE_COLOR_H), MAP_BASE_COLOR_LEVELS, uv,
                             BASE_COLOR_PERTURB, key, sigma);
#ifdef MAP_BASE_COLOR_PERTURB
    add_map_contributors(GROUP_BASE_COLOR, map_footprint(uv, ivec2(MAP_BASE_COLOR_W, MAP_BASE_COLOR_H)));
#endif
    m.rough = pyramid_sample1(GROUP_ROUGHNESS, ivec2(MAP_ROUGHNESS_W, MAP_ROUGHNESS_H), MAP_ROUGHNESS_LEVELS, uv,
                              ROUGHNESS_PERTURB, key, sigma);
#ifdef MAP_ROUGHNESS_PERTURB
    add_map_contributors(GROUP_ROUGHNESS, map_footprint(uv, ivec2(MAP_ROUGHNESS_W, MAP_ROUGHNESS_H)));
#endif
    m.metal = pyramid_sample1(GROUP_METALLIC, ivec2(MAP_METALLIC_W, MAP_METALLIC_H), MAP_METALLIC_LEVELS, uv,
                              METALLIC_PERTURB, key, sigma);
#ifdef MAP_METALLIC_PERTURB
    add_map_contributors(GROUP_METALLIC, map_footprint(uv, ivec2(MAP_METALLIC_W, MAP_METALLIC_H)));
#endif
#ifdef HAS_MAP_NORMAL
    vec2 slopes = pyramid_sample2(GROUP_NORMAL, ivec2(MAP_NORMAL_W, MAP_NORMAL_H), MAP_NORMAL_LEVELS, uv,
                                  NORMAL_PERTURB, key, sigma);
    m.nt = vec3(slopes, 1.0);   // slopes (docs/pbr.md)
#ifdef MAP_NORMAL_PERTURB
    add_map_contributors(GROUP_NORMAL, map_footprint(uv, ivec2(MAP_NORMAL_W, MAP_NORMAL_H)));
#endif
#else
    m.nt = vec3(0.0, 0.0, 1.0);
#endif
#ifdef HAS_OCCLUSION
    Footprint fp = map_footprint(uv, ivec2(OCC_W, OCC_H));
    m.ao = dot(fp.weight, vec4(occlusion[fp.texel.x], occlusion[fp.texel.y], occlusion[fp.texel.z], occlusion[fp.texel.w]));
#else
    m.ao = 1.0;
#endif
    return m;
}

// Shading normal from the unit geometric normal ng, the vertex tangent t (xyz, w = handedness)
// and the tangent-space normal nt = (slope s, slope t, 1) of the normal map (docs/pbr.md).
vec3 shading_normal(vec3 ng, vec4 t, vec3 nt) {
#ifdef HAS_MAP_NORMAL
    vec3 T = t.xyz - ng * dot(ng, t.xyz);
    float lt = length(T);
    if (!(lt > 1e-12)) return ng;
    T /= lt;
    vec3 B = (t.w < 0.0 ? -1.0 : 1.0) * cross(ng, T);
    return normalize(T * nt.x + B * nt.y + ng * nt.z);
#else
    return ng;
#endif
}

// The colour compared with the target (encoded radiance) of material m at point p.
vec3 material_color(Material m, vec3 ng, vec4 t, vec3 p, uint cam) {
    return encode_output(shade_pbr(m.base, m.rough, m.metal, m.ao, shading_normal(ng, t, m.nt), p, cam));
}

#ifdef MATERIAL_ANALYTIC
void record_material_sample(vec2 uv, vec3 ng, vec4 t, vec3 p, uint cam, uint key, float sigma);
#endif

// The colour of a surface sample at uv, point p, geometric normal ng (any length; turned to the
// eye here, two-sided) and interpolated tangent tg; records it for scene_analytic.
vec3 surface_color(vec2 uv, vec3 ng, vec4 tg, vec3 p, uint cam, uint key, float sigma) {
    ng = normalize(ng + vec3(0.0, 0.0, 1e-20));
    if (dot(ng, cameras[cam].eye.xyz - p) < 0.0) ng = -ng;
    Material m = fetch_material(uv, key, sigma);
#ifdef MATERIAL_ANALYTIC
    record_material_sample(uv, ng, tg, p, cam, key, sigma);
#endif
    return material_color(m, ng, tg, p, cam);
}

#ifdef MATERIAL_ANALYTIC
// What G's plus copy saw at each sample of the current pixel, for scene_analytic.
vec2 g_pb_uv[NSUB];
vec3 g_pb_ng[NSUB];
vec4 g_pb_t[NSUB];
vec3 g_pb_p[NSUB];
uint g_pb_cam, g_pb_key;
int g_pb_count = 0;

void record_material_sample(vec2 uv, vec3 ng, vec4 t, vec3 p, uint cam, uint key, float sigma) {
    if (sigma <= 0.0 || g_pb_count >= NSUB) return;    // only G's plus copy (the clean pass has sigma 0)
    g_pb_uv[g_pb_count] = uv;
    g_pb_ng[g_pb_count] = ng;
    g_pb_t[g_pb_count] = t;
    g_pb_p[g_pb_count] = p;
    g_pb_cam = cam;
    g_pb_key = key;
    ++g_pb_count;
}

#ifdef G_PASS
#define PBR_H 1e-3

// Adds g * (bilinear weight) into channel c of each texel of the footprint (analytic slots).
void add_map_gradient(uint pair, uint group, Footprint fp, uint c, float g) {
    if (g == 0.0) return;
    uint b = groups[group].contrib_base + c;
    uint s = groups[group].stride;
    if (fp.weight.x != 0.0) accumulate_exact(pair, b + fp.texel.x * s, g * fp.weight.x);
    if (fp.weight.y != 0.0) accumulate_exact(pair, b + fp.texel.y * s, g * fp.weight.y);
    if (fp.weight.z != 0.0) accumulate_exact(pair, b + fp.texel.z * s, g * fp.weight.z);
    if (fp.weight.w != 0.0) accumulate_exact(pair, b + fp.texel.w * s, g * fp.weight.w);
}

// Adds g * (bilinear weight) into channel c of the footprint of uv on every level of a map.
// Unrolled, not looped (maps.glsl, PYRAMID_LEVELS). A level outside its window (lr 0) gets nothing.
#define PYRAMID_GRADIENT(k) \
    if (groups[group + uint(k)].lr != 0.0) add_map_gradient(pair, group + uint(k), map_footprint(uv, level_size(size, k)), c, g)

void pyramid_gradient(uint pair, uint group, ivec2 size, int levels, vec2 uv, uint c, float g) {
    if (levels == 1) {
        add_map_gradient(pair, group, map_footprint(uv, size), c, g);
        return;
    }
    PYRAMID_GRADIENT(0);
    PYRAMID_LEVELS(PYRAMID_GRADIENT);
}

// (colour of a - colour of b) / 2h: the central difference of materials a = m + h e, b = m - h e.
vec3 colour_slope(Material a, Material b, vec3 ng, vec4 tg, vec3 p, uint cam) {
    return (material_color(a, ng, tg, p, cam) - material_color(b, ng, tg, p, cam)) / (2.0 * PBR_H);
}

// d loss / d texel channel of every analytic map: dl . d colour / d channel (central differences
// of the shading in the material value, exact up to O(h^2)) * bilinear weight / NSUB.
void material_analytic(uint pair, vec3 dl) {
    bool collect = g_collect;
    g_collect = false;                      // re-fetching adds no contributors
    vec3 w = dl / float(NSUB);
    for (int s = 0; s < g_pb_count; ++s) {
        vec2 uv = g_pb_uv[s];
        vec3 ng = g_pb_ng[s], p = g_pb_p[s];
        vec4 tg = g_pb_t[s];
        uint cam = g_pb_cam;
        Material m = fetch_material(uv, g_pb_key, 1.0);
        Material a = m, b = m;
#ifdef MAP_BASE_COLOR_ANALYTIC
        a.base = m.base + PBR_H; b.base = m.base - PBR_H;   // a channel of base colour moves only its own channel
        vec3 d = w * colour_slope(a, b, ng, tg, p, cam);
        for (uint c = 0u; c < 3u; ++c) {
            pyramid_gradient(pair, GROUP_BASE_COLOR, ivec2(MAP_BASE_COLOR_W, MAP_BASE_COLOR_H), MAP_BASE_COLOR_LEVELS,
                             uv, c, d[c]);
        }
        a.base = m.base; b.base = m.base;
#endif
#ifdef MAP_ROUGHNESS_ANALYTIC
        a.rough = m.rough + PBR_H; b.rough = m.rough - PBR_H;
        float gr = dot(w, colour_slope(a, b, ng, tg, p, cam));
        pyramid_gradient(pair, GROUP_ROUGHNESS, ivec2(MAP_ROUGHNESS_W, MAP_ROUGHNESS_H), MAP_ROUGHNESS_LEVELS, uv, 0u, gr);
        a.rough = m.rough; b.rough = m.rough;
#endif
#ifdef MAP_METALLIC_ANALYTIC
        a.metal = m.metal + PBR_H; b.metal = m.metal - PBR_H;
        float gm = dot(w, colour_slope(a, b, ng, tg, p, cam));
        pyramid_gradient(pair, GROUP_METALLIC, ivec2(MAP_METALLIC_W, MAP_METALLIC_H), MAP_METALLIC_LEVELS, uv, 0u, gm);
        a.metal = m.metal; b.metal = m.metal;
#endif
#ifdef MAP_NORMAL_ANALYTIC
        for (uint c = 0u; c < 2u; ++c) {
            vec3 e = c == 0u ? vec3(PBR_H, 0.0, 0.0) : vec3(0.0, PBR_H, 0.0);   // no dynamic lvalue index
            a.nt = m.nt + e; b.nt = m.nt - e;
            pyramid_gradient(pair, GROUP_NORMAL, ivec2(MAP_NORMAL_W, MAP_NORMAL_H), MAP_NORMAL_LEVELS, uv, c,
                             dot(w, colour_slope(a, b, ng, tg, p, cam)));
        }
#endif
    }
    g_collect = collect;
}
#endif
#endif
