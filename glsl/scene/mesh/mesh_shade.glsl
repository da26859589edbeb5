// G-side code of meshes (#include <scene>). R wrote only triangle ids; the
// sample's perspective-correct barycentrics are recomputed here from the
// copy's perturbed triangle and the sample's position (homogeneous edge
// functions), so R writes 4 bytes per fragment. Base colour: the texture
// (bilinear, through the per-corner UVs), the vertex colours, or a
// constant; unlit or Lambert (directional light + ambient, two-sided).
// Contributors of a sample: its triangle (when geometry or vertex colours
// are optimised) and the 4 texels of its bilinear footprint (when the
// texture is optimised by SGE). With TEXTURE_ANALYTIC the texels are not
// perturbed: the plus copy's samples record their footprint and shading
// factor, and scene_analytic adds the exact derivative of the pixel's loss
// into one slot per texel channel. Needs contributors.glsl, and
// resolve.glsl's texel_ndc (declared below).

#include "mesh_common.glsl"
#ifdef PBR
#include "material.glsl"
layout(std430, binding = SSBO_SCENE_CORNER_TANGENT) readonly buffer CornerTangent { vec4 corner_tangent[]; };
#endif

layout(std430, binding = SSBO_SCENE_CORNER_UV) readonly buffer CornerUV { vec2 corner_uv[]; };
layout(std430, binding = SSBO_SCENE_NORMALS) readonly buffer Normals { vec4 normals[]; };
uniform vec3 u_light_dir;   // unit, towards the light, world space
uniform float u_ambient;

vec2 texel_ndc(ivec2 texel);

#include "mesh_perturbed.glsl"
#ifdef DISPLACE
#include "mesh_displace.glsl"
#endif

#include "barycentrics.glsl"

#ifdef HAS_TEXTURE
// Texel grid position of the UV at barycentrics w (v = 0 is the bottom row of
// the image; row 0 of the texture parameters is its top row). Wraps (repeat).
vec2 texel_position(uint tri, vec3 w) {
    vec2 uv = w.x * corner_uv[tri * 3u] + w.y * corner_uv[tri * 3u + 1u] + w.z * corner_uv[tri * 3u + 2u];
    return vec2(uv.x * float(TEX_W) - 0.5, (1.0 - uv.y) * float(TEX_H) - 0.5);
}

uint texel_index(ivec2 t) {
    // Repeat. GLSL leaves % undefined for negative operands (llvmpipe takes the unsigned
    // remainder: -1 % 5 == 0), so wrap through floor.
    ivec2 size = ivec2(TEX_W, TEX_H);
    t -= size * ivec2(floor(vec2(t) / vec2(size)));
    return uint(t.y * TEX_W + t.x);
}

vec3 texel_color(ivec2 t, uint key, float sigma) {
    Group g = groups[GROUP_TEXTURE];
    uint i = g.offset + texel_index(t) * 3u;
#ifdef TEXTURE_ANALYTIC
    return vec3(params[i], params[i + 1u], params[i + 2u]);
#else
    return vec3(perturbed(i, g.eps, key, sigma), perturbed(i + 1u, g.eps, key, sigma),
                perturbed(i + 2u, g.eps, key, sigma));
#endif
}
#endif

#ifdef TEXTURE_ANALYTIC
// The plus copy's samples of the pixel G is working on: bilinear footprint and shading factor.
ivec2 g_an_texel[NSUB];
vec2 g_an_frac[NSUB];
float g_an_shade[NSUB];
int g_an_count = 0;

void record_sample(ivec2 i0, vec2 fr, float shade, float sigma) {
    if (sigma <= 0.0 || g_an_count >= NSUB) return;    // only G's plus copy (the clean pass has sigma 0)
    g_an_texel[g_an_count] = i0;
    g_an_frac[g_an_count] = fr;
    g_an_shade[g_an_count] = shade;
    ++g_an_count;
}

#ifdef G_PASS
void add_texel(uint pair, uint c, vec3 d) {
    accumulate_exact(pair, c, d.r);
    accumulate_exact(pair, c + 1u, d.g);
    accumulate_exact(pair, c + 2u, d.b);
}

// d loss / d texel channel = dl * shade * (bilinear weight) / NSUB for each recorded sample.
void scene_analytic(uint pair, vec3 dl) {
    uint base = groups[GROUP_TEXTURE].contrib_base;
    for (int s = 0; s < g_an_count; ++s) {
        vec3 d = dl * (g_an_shade[s] / float(NSUB));
        if (d == vec3(0.0)) continue;
        ivec2 i0 = g_an_texel[s];
        vec2 fr = g_an_frac[s];
        add_texel(pair, base + 3u * texel_index(i0), d * ((1.0 - fr.x) * (1.0 - fr.y)));
        if (fr.x > 0.0) add_texel(pair, base + 3u * texel_index(i0 + ivec2(1, 0)), d * (fr.x * (1.0 - fr.y)));
        if (fr.y > 0.0) add_texel(pair, base + 3u * texel_index(i0 + ivec2(0, 1)), d * ((1.0 - fr.x) * fr.y));
        if (fr.x > 0.0 && fr.y > 0.0) add_texel(pair, base + 3u * texel_index(i0 + ivec2(1, 1)), d * (fr.x * fr.y));
    }
}
#endif
#endif

#ifdef HAS_VERTEX_COLORS
vec3 vertex_color(uint v, uint key, float sigma) {
    Group g = groups[GROUP_COLORS];
    uint i = g.offset + v * 3u;
    return vec3(perturbed(i, g.eps, key, sigma), perturbed(i + 1u, g.eps, key, sigma),
                perturbed(i + 2u, g.eps, key, sigma));
}
#endif

#ifdef PBR
// A PBR sample of base triangle tri at base weights b: point p, geometric normal ng (any
// length; turned to the eye here), the interpolated tangent, the material at the UV.
vec3 pbr_sample(uint tri, vec3 b, vec3 p, vec3 ng, uint cam, uint key, float sigma) {
    vec2 uv = b.x * corner_uv[tri * 3u] + b.y * corner_uv[tri * 3u + 1u] + b.z * corner_uv[tri * 3u + 2u];
    vec4 tg = b.x * corner_tangent[tri * 3u] + b.y * corner_tangent[tri * 3u + 1u] + b.z * corner_tangent[tri * 3u + 2u];
    tg.w = corner_tangent[tri * 3u].w;
    return surface_color(uv, ng, tg, p, cam, key, sigma);
}

#ifdef DISPLACE
// A sample of sub-triangle id - 1 (mesh_displace.glsl): its displaced corners, the sample's
// weights on them, its base triangle's contributor and the height texels of its corners.
vec3 displaced_sample(uint id, ivec2 texel, uint cam, uint key, float sigma) {
    uint prim = id - 1u;
    uint tri = prim / uint(DISPLACE_TRIS);
    mat3 corners = sub_triangle(prim - tri * uint(DISPLACE_TRIS));
    vec3 p0 = perturbed_position(faces[tri * 3u], key, sigma);
    vec3 p1 = perturbed_position(faces[tri * 3u + 1u], key, sigma);
    vec3 p2 = perturbed_position(faces[tri * 3u + 2u], key, sigma);
    vec3 q0 = displaced_point(tri, corners[0], p0, p1, p2, key, sigma);
    vec3 q1 = displaced_point(tri, corners[1], p0, p1, p2, key, sigma);
    vec3 q2 = displaced_point(tri, corners[2], p0, p1, p2, key, sigma);
    vec3 w = barycentrics(cameras[cam].view_proj, q0, q1, q2, texel_ndc(texel));
#ifdef GEOMETRY_CONTRIB
    add_contributor(tri);
#endif
#ifdef MAP_HEIGHT_PERTURB
    for (int c = 0; c < 3; ++c) add_map_contributors(GROUP_HEIGHT, height_footprint(base_uv(tri, corners[c])));
#endif
    return pbr_sample(tri, corners * w, w.x * q0 + w.y * q1 + w.z * q2, cross(q1 - q0, q2 - q0), cam, key, sigma);
}
#endif

#if defined(MATERIAL_ANALYTIC) && defined(G_PASS)
void scene_analytic(uint pair, vec3 dl) {
    material_analytic(pair, dl);
}
#endif
#endif

// The unnormalised surface normal at weights w: the smooth vertex normals (of the clean
// geometry) or the copy's face normal.
vec3 surface_normal(uint v0, uint v1, uint v2, vec3 p0, vec3 p1, vec3 p2, vec3 w) {
#ifdef SMOOTH_NORMALS
    return w.x * normals[v0].xyz + w.y * normals[v1].xyz + w.z * normals[v2].xyz;
#else
    return cross(p1 - p0, p2 - p0);
#endif
}

vec3 scene_sample(uint id, ivec2 texel, uint cam, uint key, float sigma) {
#ifdef DISPLACE
    return displaced_sample(id, texel, cam, key, sigma);
#endif
    uint tri = id - 1u;
    uint v0 = faces[tri * 3u], v1 = faces[tri * 3u + 1u], v2 = faces[tri * 3u + 2u];
    vec3 p0 = perturbed_position(v0, key, sigma);
    vec3 p1 = perturbed_position(v1, key, sigma);
    vec3 p2 = perturbed_position(v2, key, sigma);
    vec3 w = barycentrics(cameras[cam].view_proj, p0, p1, p2, texel_ndc(texel));
#if defined(GEOMETRY_CONTRIB) && defined(VERTEX_CONTRIB)
    add_contributor(v0);          // the vertices are the contributors (TexturedMesh.vertex_contributors)
    add_contributor(v1);
    add_contributor(v2);
#elif defined(GEOMETRY_CONTRIB)
    add_contributor(tri);
#endif
#ifdef POSE_CONTRIB
    add_contributor(uint(POSE_CONTRIB));
#endif
#ifdef PBR
    return pbr_sample(tri, w, w.x * p0 + w.y * p1 + w.z * p2, surface_normal(v0, v1, v2, p0, p1, p2, w), cam, key,
                      sigma);
#else
#if defined(HAS_TEXTURE)
    vec2 f = texel_position(tri, w);
    ivec2 i0 = ivec2(floor(f));
    vec2 fr = f - floor(f);
    vec3 base = mix(mix(texel_color(i0, key, sigma), texel_color(i0 + ivec2(1, 0), key, sigma), fr.x),
                    mix(texel_color(i0 + ivec2(0, 1), key, sigma), texel_color(i0 + ivec2(1, 1), key, sigma), fr.x),
                    fr.y);
#ifdef TEXTURE_CONTRIB
    add_contributor(uint(TEXEL_CONTRIB_BASE) + texel_index(i0));
    add_contributor(uint(TEXEL_CONTRIB_BASE) + texel_index(i0 + ivec2(1, 0)));
    add_contributor(uint(TEXEL_CONTRIB_BASE) + texel_index(i0 + ivec2(0, 1)));
    add_contributor(uint(TEXEL_CONTRIB_BASE) + texel_index(i0 + ivec2(1, 1)));
#endif
#elif defined(HAS_VERTEX_COLORS)
    vec3 base = w.x * vertex_color(v0, key, sigma) + w.y * vertex_color(v1, key, sigma)
              + w.z * vertex_color(v2, key, sigma);
#else
    vec3 base = vec3(BASE_COLOR);
#endif
    float shade = 1.0;
#ifdef LAMBERT
    vec3 n = normalize(surface_normal(v0, v1, v2, p0, p1, p2, w) + vec3(0.0, 0.0, 1e-20));
    if (dot(n, cameras[cam].eye.xyz - p0) < 0.0) n = -n;  // two-sided
    shade = u_ambient + (1.0 - u_ambient) * max(dot(n, u_light_dir), 0.0);
#endif
#ifdef TEXTURE_ANALYTIC
    record_sample(i0, fr, shade, sigma);
#endif
    return base * shade;
#endif
}
