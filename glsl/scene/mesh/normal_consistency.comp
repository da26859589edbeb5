#version 430
// Normal consistency E = weight / E_int * sum over interior edges (f, g) of (1 - n_f . n_g),
// n = unit face normals of the current positions (counter-clockwise), E_int = the number of
// edges shared by exactly two triangles; as an exact analytic gradient added into SSBO_GRAD:
//   pass 0 (per face):   c_f = (p1 - p0) x (p2 - p0), n_f = c_f / |c_f|
//   pass 1 (per face):   m_f = dE/dn_f = -weight / E_int * sum of the neighbours' n_g,
//                        q_f = dE/dc_f = (m_f - n_f (n_f . m_f)) / |c_f|
//   pass 2 (per vertex): dE/dp = sum over its triangles of the corner's share of q_f:
//                        corner 1: e2 x q, corner 2: q x e1, corner 0: -(both), e1 = p1 - p0, e2 = p2 - p0.
// A degenerate triangle (|c| = 0) has no normal and adds nothing.
layout(local_size_x = WG_1D) in;

#include "buffers.glsl"
#include "rng.glsl"
#include "perturb.glsl"
#include "groups.glsl"
#include "mesh_common.glsl"

layout(std430, binding = SSBO_GATHER) readonly buffer Gather { uint gather[]; };
layout(std430, binding = SSBO_SCENE_FACE_ADJ) readonly buffer FaceAdj { uvec4 face_adj[]; };   // 0xFFFFFFFF: none
layout(std430, binding = SSBO_SCENE_FACE_NORMALS) buffer FaceNormals { vec4 face_n[]; };        // n, |c|
layout(std430, binding = SSBO_SCENE_FACE_DCDE) buffer FaceGrad { vec4 face_q[]; };              // dE/dc
layout(std430, binding = SSBO_GRAD) buffer Grad { float grad[]; };
uniform uint u_count;      // faces (passes 0, 1) or vertices (pass 2)
uniform float u_weight;    // weight / E_int

void main() {
    uint id = global_index_1d();
    if (id >= u_count) return;
#if NC_PASS == 0
    vec3 p0 = vertex_position(faces[id * 3u]);
    vec3 c = cross(vertex_position(faces[id * 3u + 1u]) - p0, vertex_position(faces[id * 3u + 2u]) - p0);
    float len = length(c);
    face_n[id] = len > 0.0 ? vec4(c / len, len) : vec4(0.0);
#elif NC_PASS == 1
    vec4 nl = face_n[id];
    vec3 m = vec3(0.0);
    for (int k = 0; k < 3; ++k) {
        uint g = face_adj[id][k];
        if (g != 0xFFFFFFFFu) m -= face_n[g].xyz;
    }
    m *= u_weight;
    face_q[id] = nl.w > 0.0 ? vec4((m - nl.xyz * dot(nl.xyz, m)) / nl.w, 0.0) : vec4(0.0);
#else
    Group gp = groups[GROUP_POSITIONS];
    vec3 g = vec3(0.0);
    for (uint k = gather[gp.gather_start + id]; k < gather[gp.gather_start + id + 1u]; ++k) {
        uint t = gather[gp.gather_list + k];
        uvec3 f = uvec3(faces[t * 3u], faces[t * 3u + 1u], faces[t * 3u + 2u]);
        vec3 p0 = vertex_position(f.x);
        vec3 e1 = vertex_position(f.y) - p0, e2 = vertex_position(f.z) - p0;
        vec3 q = face_q[t].xyz;
        vec3 d1 = cross(e2, q), d2 = cross(q, e1);
        if (f.x == id) g -= d1 + d2;
        if (f.y == id) g += d1;
        if (f.z == id) g += d2;
    }
    uint i = gp.offset + id * 3u;
    grad[i] += g.x;
    grad[i + 1u] += g.y;
    grad[i + 2u] += g.z;
#endif
}
