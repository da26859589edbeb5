#version 430
// R of the soft rasterizer over a triangle soup (docs/soft.md): soup.vert's vertex pulling
// (all three corners fetched by every vertex, perturbed), each triangle grown by the band
// (soft_grow.glsl). One instance per copy.
#define VERTEX_STAGE
#include "buffers.glsl"
#include "rng.glsl"
#include "perturb.glsl"
#include "tiles.glsl"
#include "views.glsl"
#include "copies.glsl"
#include "soft_grow.glsl"

#ifdef GROUP_OPACITY
flat out float v_alpha;
#endif

layout(std430, binding = SSBO_ORDER) readonly buffer Order { uint order[]; };

vec4 corner_clip(uint tri, uint corner, CopyInfo ci) {
    Group gp = groups[GROUP_POSITIONS];
    Group gz = groups[GROUP_DEPTHS];
    uint ip = gp.offset + tri * 6u + corner * 2u;
    uint iz = gz.offset + tri * 3u + corner;
    vec3 p = vec3(perturbed(ip, gp.eps, ci.key, ci.sigma), perturbed(ip + 1u, gp.eps, ci.key, ci.sigma),
                  perturbed(iz, gz.eps, ci.key, ci.sigma));
    return cameras[ci.cam].view_proj * vec4(p, 1.0);
}

void main() {
    uint slot = uint(gl_VertexID) / 3u;
    uint corner = uint(gl_VertexID) - slot * 3u;
    uint tri = order[slot];
    CopyInfo ci = copy_info(gl_InstanceID);
    vec4 c[3] = vec4[3](corner_clip(tri, 0u, ci), corner_clip(tri, 1u, ci), corner_clip(tri, 2u, ci));
#ifdef GROUP_OPACITY
    Group go = groups[GROUP_OPACITY];
    v_alpha = 1.0 / (1.0 + exp(-perturbed(go.offset + tri, go.eps, ci.key, ci.sigma)));
#endif
    soft_emit_corner(tri, corner, c, gl_InstanceID);
}
