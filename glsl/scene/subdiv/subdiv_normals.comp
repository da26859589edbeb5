#version 430
// Unit normals of the final level's vertices for every copy R draws (after the last level):
// the sum over the quads around the vertex of the cross product of their diagonals; with
// DISPLACE, in w the vertex's displacement for the copy (its perturbed height map).
layout(local_size_x = WG_1D) in;

#include "buffers.glsl"
#include "rng.glsl"
#include "perturb.glsl"
#include "groups.glsl"
#include "views.glsl"
#include "copies.glsl"
#include "subdiv_common.glsl"
#ifdef DISPLACE
#include "maps.glsl"
#include "subdiv_height.glsl"
#endif

layout(std430, binding = SSBO_SCENE_VERTEX_QUAD_START) readonly buffer VQStart { uint vq_start[]; };
layout(std430, binding = SSBO_SCENE_VERTEX_QUADS) readonly buffer VQList { uint vq_list[]; };

uniform uint u_copies;

void main() {
    uint i = global_index_1d();
    if (i >= uint(SUBDIV_VERTICES) * u_copies) return;
    uint copy = i / uint(SUBDIV_VERTICES);
    uint v = i - copy * uint(SUBDIV_VERTICES);
    int slot = int(copy);
    vec3 n = vec3(0.0);
    for (uint k = vq_start[v]; k < vq_start[v + 1u]; ++k) {
        uint q = 4u * vq_list[k];
        vec3 p0 = points[point_index(slot, level_vert[q])].xyz;
        vec3 p1 = points[point_index(slot, level_vert[q + 1u])].xyz;
        vec3 p2 = points[point_index(slot, level_vert[q + 2u])].xyz;
        vec3 p3 = points[point_index(slot, level_vert[q + 3u])].xyz;
        n += cross(p2 - p0, p3 - p1);
    }
    float len = length(n);
    float d = 0.0;
#ifdef DISPLACE
    CopyInfo ci = copy_info(slot);
    float hgt = map_sample1(GROUP_HEIGHT, height_footprint(vertex_uv[v]), HEIGHT_PERTURB, ci.key, ci.sigma);
    d = DISPLACE_STRENGTH * (hgt - DISPLACE_MIDLEVEL);
#endif
    normals[i] = vec4(len > 0.0 ? n / len : vec3(0.0, 0.0, 1.0), d);
}
