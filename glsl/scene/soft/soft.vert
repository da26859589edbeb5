#version 430
// R of the soft rasterizer over a triangle soup (docs/soft.md): soup.vert's vertex pulling
// (all three corners fetched by every vertex, perturbed: soft_corners.glsl), each triangle
// grown by the band (soft_grow.glsl). One instance per copy.
#define VERTEX_STAGE
#include "buffers.glsl"
#include "rng.glsl"
#include "perturb.glsl"
#include "tiles.glsl"
#include "views.glsl"
#include "copies.glsl"
#include "soft_grow.glsl"
#include "soft_corners.glsl"

#ifdef GROUP_OPACITY
flat out float v_alpha;
#endif

layout(std430, binding = SSBO_ORDER) readonly buffer Order { uint order[]; };

void main() {
    uint slot = uint(gl_VertexID) / 3u;
    uint corner = uint(gl_VertexID) - slot * 3u;
    uint tri = order[slot];
    CopyInfo ci = copy_info(gl_InstanceID);
    vec4 c[3];
    for (int k = 0; k < 3; ++k) c[k] = soft_corner_clip(tri, uint(k), ci.cam, ci.key, ci.sigma);
#ifdef GROUP_OPACITY
    Group go = groups[GROUP_OPACITY];
    v_alpha = 1.0 / (1.0 + exp(-perturbed(go.offset + tri, go.eps, ci.key, ci.sigma)));
#endif
    soft_emit_corner(tri, corner, c, gl_InstanceID);
}
