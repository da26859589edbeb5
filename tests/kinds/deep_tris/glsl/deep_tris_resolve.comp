#version 430
// The deep-id harness's G-shaped pass: per output pixel and pair, gather
// and composite the plus and minus copies front to back over the
// background, and collect the contributors of both copies de-duplicated
// (contributors.glsl, hashed). Writes both colours (rgb, transmittance) and
// the contributor count; with DEEP_WRITE_CONTRIB the list itself, with
// DEEP_WRITE_FRAGS every copy sample's gathered fragments (for tests).
// One sample per pixel (SS = 1).
layout(local_size_x = WG_2D_X, local_size_y = WG_2D_Y) in;

#include "tiles.glsl"
#include "contributors.glsl"
#include "deep_ids.glsl"
#include "deep_composite.glsl"

layout(std430, binding = SSBO_DEEP_TRIS) readonly buffer DeepTris { vec4 deep_tris[]; };
layout(std430, binding = SSBO_DEEP_OUT_COLOR) buffer OutColor { vec4 out_color[]; };
layout(std430, binding = SSBO_DEEP_OUT_CONTRIB) buffer OutContrib { uint out_contrib[]; };
#ifdef DEEP_WRITE_FRAGS
layout(std430, binding = SSBO_DEEP_OUT_FRAGS) buffer OutFrags { uvec4 out_frags[]; };
#endif

#ifdef DEEP_WRITE_CONTRIB
#define OUT_STRIDE (MAX_CONTRIB + 3)
#else
#define OUT_STRIDE 3
#endif

uniform ivec2 u_size;       // output pixels (= tile size)
uniform vec3 u_background;

vec3 deep_fragment_color(uint id, uint s) {
    add_contributor(id - 1u);
    return deep_tris[(id - 1u) * 4u + 3u].rgb;
}

void main() {
    ivec2 px = ivec2(gl_GlobalInvocationID.xy);
    if (px.x >= u_size.x || px.y >= u_size.y) return;
    uint pair = gl_GlobalInvocationID.z;
    uint pixel = uint(px.y * u_size.x + px.x);
    uint npix = uint(u_size.x * u_size.y);
    g_collect = true;
    g_ncontrib = 0;
    uint dropped = 0u;
    for (int k = 0; k < 2; ++k) {
        int copy = int(2u * pair) + k;
        uint s = deep_sample_of(tile_origin(copy) + px);
        vec4 ct = deep_composite(s);
        out_color[uint(copy) * npix + pixel] = vec4(ct.rgb + ct.a * u_background, ct.a);
        dropped += g_deep_dropped;
#ifdef DEEP_WRITE_FRAGS
        for (int i = 0; i < DEEP_MAX; ++i) {
            out_frags[s * uint(DEEP_MAX) + uint(i)] = i < g_deep_n
                ? uvec4(g_deep_key[i], g_deep_id[i], floatBitsToUint(g_deep_alpha[i]), uint(g_deep_n))
                : uvec4(DEEP_EMPTY, 0u, 0u, uint(g_deep_n));
        }
#endif
    }
    uint base = (pair * npix + pixel) * uint(OUT_STRIDE);
    uint digest = 0u;
    for (int j = 0; j < g_ncontrib; ++j) digest += g_contrib[j] * 2654435761u;
    out_contrib[base] = uint(g_ncontrib) | (g_contrib_full ? 0x80000000u : 0u);
    out_contrib[base + 1u] = digest;
    out_contrib[base + 2u] = dropped;
#ifdef DEEP_WRITE_CONTRIB
    for (int j = 0; j < g_ncontrib; ++j) out_contrib[base + 3u + uint(j)] = g_contrib[j];
#endif
}
