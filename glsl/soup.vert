#version 430
// R for the triangle soup: vertex pulling from the parameter buffer with the
// perturbation fused in. One instance per copy; the fragment stage writes the
// triangle id (+1) into the R32UI id buffer.
#define VERTEX_STAGE
#include "buffers.glsl"
#include "rng.glsl"
#include "perturb.glsl"
#include "tiles.glsl"

uniform mat4 u_view_proj;     // scene -> clip (orthographic 2D or a perspective camera)
uniform uint u_seed;
uniform uint u_iteration;
uniform float u_sigma_scale;  // 1 for perturbed copies, 0 for a clean render
uniform int u_copy_base;      // first copy drawn by this call

flat out uint v_id;

// Draw order (front to back), refreshed by depth_sort.comp.
layout(std430, binding = SSBO_ORDER) readonly buffer Order { uint order[]; };

void main() {
    uint slot = uint(gl_VertexID) / 3u;
    uint corner = uint(gl_VertexID) - slot * 3u;
    uint tri = order[slot];
    int copy = gl_InstanceID + u_copy_base;
    float sigma = ((copy & 1) == 0 ? 1.0 : -1.0) * u_sigma_scale;
    uint key = pair_key(u_seed, u_iteration, uint(copy >> 1));

    Group gp = groups[GROUP_POSITIONS];
    Group gz = groups[GROUP_DEPTHS];
    uint ip = gp.offset + tri * 6u + corner * 2u;
    uint iz = gz.offset + tri * 3u + corner;
    vec3 p = vec3(perturbed(ip, gp.eps, key, sigma),
                  perturbed(ip + 1u, gp.eps, key, sigma),
                  perturbed(iz, gz.eps, key, sigma));
    gl_Position = to_tile(u_view_proj * vec4(p, 1.0), copy);
    v_id = tri + 1u;
}
