#version 430
// R of the test kind "glass": triangle t at the depth its declared buffer
// gives, corners and opacity (a logit) perturbed per copy; the fragment stage
// (the core's deep_id.frag) records (depth, t + 1, opacity) in the deep id
// buffer. invariant: the k-buffer rasterises twice and needs equal depths.
#define VERTEX_STAGE
#include "buffers.glsl"
#include "rng.glsl"
#include "perturb.glsl"
#include "tiles.glsl"
#include "views.glsl"
#include "copies.glsl"

layout(std430, binding = SSBO_ORDER) readonly buffer Order { uint order[]; };
layout(std430, binding = SSBO_SCENE_DEPTHS) readonly buffer Depths { float tri_depth[]; };

invariant gl_Position;
flat out uint v_id;
flat out float v_alpha;

void main() {
    uint slot = uint(gl_VertexID) / 3u;
    uint corner = uint(gl_VertexID) - slot * 3u;
    uint t = order[slot];
    CopyInfo ci = copy_info(gl_InstanceID);
    Group gp = groups[GROUP_POSITIONS];
    uint i = gp.offset + t * 6u + corner * 2u;
    vec3 p = vec3(perturbed(i, gp.eps, ci.key, ci.sigma), perturbed(i + 1u, gp.eps, ci.key, ci.sigma),
                  tri_depth[t]);
    gl_Position = to_tile(cameras[ci.cam].view_proj * vec4(p, 1.0), gl_InstanceID);
    Group go = groups[GROUP_OPACITY];
    v_alpha = 1.0 / (1.0 + exp(-perturbed(go.offset + t, go.eps, ci.key, ci.sigma)));
    v_id = t + 1u;
}
