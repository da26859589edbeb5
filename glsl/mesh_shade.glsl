// G-side code of meshes (#include <scene>): base colour from the texture
// (bilinear, through the per-corner UVs interpolated with the pixel's
// barycentrics), the vertex colours, or a constant; unlit or Lambert
// (directional light + ambient, two-sided). Contributors of a sample: its
// triangle (when geometry or vertex colours are optimised) and the 4 texels
// of its bilinear footprint (when the texture is optimised).

#include "mesh_common.glsl"

#define SCENE_MAX_CONTRIB 5

vec3 perturbed_position(uint v, uint key, float sigma) {
    Group g = groups[GROUP_POSITIONS];
    uint i = g.offset + v * 3u;
    return vec3(perturbed(i, g.eps, key, sigma), perturbed(i + 1u, g.eps, key, sigma),
                perturbed(i + 2u, g.eps, key, sigma));
}

layout(binding = TEX_BARY) uniform sampler2D u_bary;
layout(std430, binding = SSBO_CORNER_UV) readonly buffer CornerUV { vec2 corner_uv[]; };
layout(std430, binding = SSBO_NORMALS) readonly buffer Normals { vec4 normals[]; };
uniform vec3 u_light_dir;   // unit, towards the light, world space
uniform float u_ambient;

vec3 corner_weights(ivec2 texel) {
    vec2 b = texelFetch(u_bary, texel, 0).rg;
    return vec3(1.0 - b.x - b.y, b.x, b.y);
}

#ifdef HAS_TEXTURE
// Texel grid position of a UV (v = 0 is the bottom row of the image; row 0 of
// the texture parameters is its top row). Wraps (repeat).
vec2 texel_position(uint tri, vec3 w) {
    vec2 uv = w.x * corner_uv[tri * 3u] + w.y * corner_uv[tri * 3u + 1u] + w.z * corner_uv[tri * 3u + 2u];
    return vec2(uv.x * float(TEX_W) - 0.5, (1.0 - uv.y) * float(TEX_H) - 0.5);
}

uint texel_index(ivec2 t) {
    ivec2 size = ivec2(TEX_W, TEX_H);
    t = ((t % size) + size) % size;
    return uint(t.y * TEX_W + t.x);
}

vec3 texel_color(ivec2 t, uint key, float sigma) {
    Group g = groups[GROUP_TEXTURE];
    uint i = g.offset + texel_index(t) * 3u;
    return vec3(perturbed(i, g.eps, key, sigma), perturbed(i + 1u, g.eps, key, sigma),
                perturbed(i + 2u, g.eps, key, sigma));
}
#endif

#ifdef HAS_VERTEX_COLORS
vec3 vertex_color(uint v, uint key, float sigma) {
    Group g = groups[GROUP_COLORS];
    uint i = g.offset + v * 3u;
    return vec3(perturbed(i, g.eps, key, sigma), perturbed(i + 1u, g.eps, key, sigma),
                perturbed(i + 2u, g.eps, key, sigma));
}
#endif

vec3 scene_shade(uint id, ivec2 texel, uint cam, uint key, float sigma) {
    uint tri = id - 1u;
    vec3 w = corner_weights(texel);
    uint v0 = faces[tri * 3u], v1 = faces[tri * 3u + 1u], v2 = faces[tri * 3u + 2u];
#if defined(HAS_TEXTURE)
    vec2 f = texel_position(tri, w);
    ivec2 i0 = ivec2(floor(f));
    vec2 fr = f - floor(f);
    vec3 base = mix(mix(texel_color(i0, key, sigma), texel_color(i0 + ivec2(1, 0), key, sigma), fr.x),
                    mix(texel_color(i0 + ivec2(0, 1), key, sigma), texel_color(i0 + ivec2(1, 1), key, sigma), fr.x),
                    fr.y);
#elif defined(HAS_VERTEX_COLORS)
    vec3 base = w.x * vertex_color(v0, key, sigma) + w.y * vertex_color(v1, key, sigma)
              + w.z * vertex_color(v2, key, sigma);
#else
    vec3 base = vec3(BASE_COLOR);
#endif
#ifdef LAMBERT
#ifdef SMOOTH_NORMALS
    vec3 n = w.x * normals[v0].xyz + w.y * normals[v1].xyz + w.z * normals[v2].xyz;
#else
    vec3 p0 = perturbed_position(v0, key, sigma);
    vec3 n = cross(perturbed_position(v1, key, sigma) - p0, perturbed_position(v2, key, sigma) - p0);
#endif
    n = normalize(n + vec3(0.0, 0.0, 1e-20));
    if (dot(n, cameras[cam].eye.xyz - vertex_position(v0)) < 0.0) n = -n;  // two-sided
    base *= u_ambient + (1.0 - u_ambient) * max(dot(n, u_light_dir), 0.0);
#endif
    return base;
}

int scene_contributors(uint id, ivec2 texel, out uint c[SCENE_MAX_CONTRIB]) {
    int n = 0;
#ifdef GEOMETRY_CONTRIB
    c[n++] = id - 1u;
#endif
#if defined(HAS_TEXTURE) && defined(TEXTURE_CONTRIB)
    vec2 f = texel_position(id - 1u, corner_weights(texel));
    ivec2 i0 = ivec2(floor(f));
    c[n++] = uint(TRI_COUNT) + texel_index(i0);
    c[n++] = uint(TRI_COUNT) + texel_index(i0 + ivec2(1, 0));
    c[n++] = uint(TRI_COUNT) + texel_index(i0 + ivec2(0, 1));
    c[n++] = uint(TRI_COUNT) + texel_index(i0 + ivec2(1, 1));
#endif
    return n;
}
