#version 430
// Per-vertex normals of the clean geometry: area-weighted sum of the face
// normals of the incident triangles, normalised. The vertex -> triangles table
// is the gather table of the positions group (SSBO_GATHER, see buffers.glsl).
layout(local_size_x = WG_1D) in;

#include "buffers.glsl"
#include "rng.glsl"
#include "perturb.glsl"
#include "groups.glsl"
#include "mesh_common.glsl"

layout(std430, binding = SSBO_GATHER) readonly buffer Gather { uint gather[]; };
layout(std430, binding = SSBO_SCENE_NORMALS) writeonly buffer Normals { vec4 normals[]; };
uniform uint u_vertices;

void main() {
    uint v = global_index_1d();
    if (v >= u_vertices) return;
    Group gp = groups[GROUP_POSITIONS];
    vec3 n = vec3(0.0);
    for (uint k = gather[gp.gather_start + v]; k < gather[gp.gather_start + v + 1u]; ++k) {
        uint t = gather[gp.gather_list + k];
        vec3 p0 = vertex_position(faces[t * 3u]);
        n += cross(vertex_position(faces[t * 3u + 1u]) - p0, vertex_position(faces[t * 3u + 2u]) - p0);
    }
    float len = length(n);
    normals[v] = vec4(len > 0.0 ? n / len : vec3(0.0, 0.0, 1.0), 0.0);
}
