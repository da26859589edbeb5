#version 430
// R of the test kind "quads": quad q is two triangles (corners 0 1 2, 0 2 3)
// at the depth its declared buffer gives; writes the quad id (+1).
#define VERTEX_STAGE
#include "buffers.glsl"
#include "rng.glsl"
#include "perturb.glsl"
#include "tiles.glsl"
#include "views.glsl"
#include "copies.glsl"

layout(std430, binding = SSBO_ORDER) readonly buffer Order { uint order[]; };
layout(std430, binding = SSBO_SCENE_DEPTHS) readonly buffer Depths { float quad_depth[]; };

flat out uint v_id;

const uint CORNER_OF[6] = uint[6](0u, 1u, 2u, 0u, 2u, 3u);

void main() {
    uint slot = uint(gl_VertexID) / 6u;
    uint corner = CORNER_OF[uint(gl_VertexID) - slot * 6u];
    uint q = order[slot];
    CopyInfo ci = copy_info(gl_InstanceID);
    Group gp = groups[GROUP_POSITIONS];
    uint i = gp.offset + q * 8u + corner * 2u;
    vec3 p = vec3(perturbed(i, gp.eps, ci.key, ci.sigma), perturbed(i + 1u, gp.eps, ci.key, ci.sigma),
                  quad_depth[q]);
    gl_Position = to_tile(cameras[ci.cam].view_proj * vec4(p, 1.0), gl_InstanceID);
    v_id = q + 1u;
}
