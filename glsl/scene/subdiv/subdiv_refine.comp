#version 430
// One Catmull-Clark level for every copy R draws (before each draw): each output point is a
// gather over its stencil row (the level's face, edge and vertex rules, built at load by
// scene/subdiv/stencils.py), so no float atomics are needed. Level 0 reads the copy's
// perturbed control points; later levels the copy's previous level.
layout(local_size_x = WG_1D) in;

#include "buffers.glsl"
#include "rng.glsl"
#include "perturb.glsl"
#include "groups.glsl"
#include "views.glsl"
#include "copies.glsl"
#include "subdiv_common.glsl"

layout(std430, binding = SSBO_SCENE_STENCIL_START) readonly buffer StencilStart { uint stencil_start[]; };
layout(std430, binding = SSBO_SCENE_STENCIL_INDEX) readonly buffer StencilIndex { uint stencil_index[]; };
layout(std430, binding = SSBO_SCENE_STENCIL_WEIGHT) readonly buffer StencilWeight { float stencil_weight[]; };

uniform uint u_rows;        // points of this level
uniform uint u_copies;
uniform uint u_row_base;    // its first row in stencil_start
uniform uint u_out_offset;  // its first point in a copy's slice of POINTS
uniform int u_in_offset;    // the previous level's, or -1: the control points

void main() {
    uint i = global_index_1d();
    if (i >= u_rows * u_copies) return;
    uint copy = i / u_rows;
    uint r = i - copy * u_rows;
    CopyInfo ci = copy_info(int(copy));
    uint base = copy * uint(SUBDIV_STRIDE);
    vec3 s = vec3(0.0);
    for (uint k = stencil_start[u_row_base + r]; k < stencil_start[u_row_base + r + 1u]; ++k) {
        uint j = stencil_index[k];
        vec3 p = u_in_offset < 0 ? control_point(j, ci.key, ci.sigma) : points[base + uint(u_in_offset) + j].xyz;
        s += stencil_weight[k] * p;
    }
    points[base + u_out_offset + r] = vec4(s, 0.0);
}
