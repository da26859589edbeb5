#version 430
// Laplacian smoothness E = weight / V * sum_v |delta_v|^2, delta = L p with
// L = I - (row-normalised weights W) over the mesh's neighbour graph, as an
// exact analytic gradient added into SSBO_GRAD:
//   pass 0: delta_v = p_v - sum_k a_vk p_k
//   pass 1: dE/dp_u = 2 weight / V * (delta_u - sum_k b_uk delta_k)
// where a_vk = w_vk / W_v and b_uk = w_ku / W_k (the transpose), precomputed.
layout(local_size_x = WG_1D) in;

#include "buffers.glsl"
#include "rng.glsl"
#include "perturb.glsl"
#include "groups.glsl"
#include "mesh_common.glsl"

struct Neighbour {
    uint index;
    float a;
    float b;
    float pad;
};

layout(std430, binding = SSBO_SCENE_NBR_START) readonly buffer NbrStart { uint nbr_start[]; };
layout(std430, binding = SSBO_SCENE_NBR_LIST) readonly buffer NbrList { Neighbour nbr[]; };
layout(std430, binding = SSBO_SCENE_LAPLACE) buffer Laplace { vec4 delta[]; };
layout(std430, binding = SSBO_GRAD) buffer Grad { float grad[]; };
uniform uint u_vertices;
uniform float u_weight;    // weight / V

void main() {
    uint v = global_index_1d();
    if (v >= u_vertices) return;
#if LAPLACE_PASS == 0
    vec3 d = vertex_position(v);
    for (uint k = nbr_start[v]; k < nbr_start[v + 1u]; ++k) d -= nbr[k].a * vertex_position(nbr[k].index);
    delta[v] = vec4(d, 0.0);
#else
    vec3 g = delta[v].xyz;
    for (uint k = nbr_start[v]; k < nbr_start[v + 1u]; ++k) g -= nbr[k].b * delta[nbr[k].index].xyz;
    g *= 2.0 * u_weight;
    uint i = groups[GROUP_POSITIONS].offset + v * 3u;
    grad[i] += g.x;
    grad[i + 1u] += g.y;
    grad[i + 2u] += g.z;
#endif
}
