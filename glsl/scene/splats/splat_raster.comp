#version 430
// R for 3D Gaussian splats in a compute shader (the default with the lists
// structure): one thread per splat of a copy walks the samples of its closed
// square |d| <= r (docs/splats.md) in the copy's tile and records each one
// whose alpha = min(0.99, o exp(power)) >= DEEP_ALPHA_MIN, at the depth of its
// mean, like splat.vert + splat.frag do through the raster pipeline (kept for
// the k-buffer): on GPUs whose graphics stages run on a few SMs (H100/H200)
// this runs on all of them. Two walks: count, reserve the nodes with one
// atomic, record.
#define DEEP_COMPUTE_EMIT
layout(local_size_x = WG_1D) in;
#include "buffers.glsl"
#include "groups.glsl"
#include "tiles.glsl"
#include "deep_ids.glsl"
#include "splat_projected.glsl"

uniform uint u_copies;

float splat_alpha(vec3 conic, float o, float r, vec2 d) {
    if (abs(d.x) > r || abs(d.y) > r) return 0.0;   // the closed square, as splat.frag tests it
    float power = -0.5 * (conic.x * d.x * d.x + conic.z * d.y * d.y) - conic.y * d.x * d.y;
    return power > 0.0 ? 0.0 : min(0.99, o * exp(power));
}

void main() {
    uint i = global_index_1d();
    if (i >= u_copies * uint(SPLAT_COUNT)) return;
    int copy = int(i / uint(SPLAT_COUNT));
    uint s = i - uint(copy) * uint(SPLAT_COUNT);
    SplatCopy p = splat_copies[i];
    float o = p.color_opacity.w;
    if (!(o > 0.0)) return;
    vec3 conic = p.conic_radius.xyz;
    float r = p.conic_radius.w;
    vec2 mean = (p.clip.xy / p.clip.w * 0.5 + 0.5) * vec2(float(RENDER_W), float(RENDER_H));  // output pixels
    // samples of the tile whose centres (t + 0.5) / SS lie within [mean - r, mean + r]
    ivec2 last = ivec2(RENDER_W * SS - 1, RENDER_H * SS - 1);
    ivec2 lo = clamp(ivec2(ceil((mean - r) * float(SS) - 0.5)), ivec2(0), last + 1);
    ivec2 hi = clamp(ivec2(floor((mean + r) * float(SS) - 0.5)), ivec2(-1), last);
    uint count = 0u;
    for (int y = lo.y; y <= hi.y; ++y) {
        for (int x = lo.x; x <= hi.x; ++x) {
            vec2 d = (vec2(x, y) + 0.5) / float(SS) - mean;
            if (splat_alpha(conic, o, r, d) >= DEEP_ALPHA_MIN) ++count;
        }
    }
    if (count == 0u) return;
    uint node = deep_reserve(count);
    uint key = floatBitsToUint(max(p.clip.z / p.clip.w * 0.5 + 0.5, 0.0));
    ivec2 origin = tile_origin(copy);
    for (int y = lo.y; y <= hi.y; ++y) {
        for (int x = lo.x; x <= hi.x; ++x) {
            vec2 d = (vec2(x, y) + 0.5) / float(SS) - mean;
            float alpha = splat_alpha(conic, o, r, d);
            if (alpha >= DEEP_ALPHA_MIN) {
                deep_emit_node(node, deep_sample_of(origin + ivec2(x, y)), key, s + 1u, alpha);
                ++node;
            }
        }
    }
}
