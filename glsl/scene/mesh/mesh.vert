#version 430
// R for indexed triangle meshes: vertex pulling (faces -> shared vertex
// positions in the parameter buffer) with the perturbation fused in. A
// shared vertex gets one perturbation, seen by all its triangles. Writes the
// triangle id (+1); G recomputes the barycentrics.
#define VERTEX_STAGE
#include "buffers.glsl"
#include "rng.glsl"
#include "perturb.glsl"
#include "tiles.glsl"
#include "views.glsl"
#include "copies.glsl"

layout(std430, binding = SSBO_SCENE_FACES) readonly buffer Faces { uint faces[]; };
layout(std430, binding = SSBO_ORDER) readonly buffer Order { uint order[]; };

flat out uint v_id;

void main() {
    uint slot = uint(gl_VertexID) / 3u;
    uint corner = uint(gl_VertexID) - slot * 3u;
    uint tri = order[slot];
    uint v = faces[tri * 3u + corner];
    CopyInfo ci = copy_info(gl_InstanceID);
    Group gp = groups[GROUP_POSITIONS];
    uint i = gp.offset + v * 3u;
    vec3 p = vec3(perturbed(i, gp.eps, ci.key, ci.sigma),
                  perturbed(i + 1u, gp.eps, ci.key, ci.sigma),
                  perturbed(i + 2u, gp.eps, ci.key, ci.sigma));
    gl_Position = to_tile(cameras[ci.cam].view_proj * vec4(p, 1.0), gl_InstanceID);
    v_id = tri + 1u;
}
