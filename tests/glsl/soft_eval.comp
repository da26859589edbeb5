#version 430
// Test harness (tests/test_soft_coverage.py): evaluates glsl/scene/soft/soft_coverage.glsl
// at given points. u_mode 0: (F, dF/dx) of CDF family u_kind at x = inputs[i].x;
// 1: (S, dS/da, dS/db) of t-conorm u_kind at (a, b) = inputs[i].
layout(local_size_x = WG_1D) in;
#include "soft_coverage.glsl"

layout(std430, binding = SSBO_PARAMS) readonly buffer Inputs { vec2 inputs[]; };
layout(std430, binding = SSBO_GRAD) writeonly buffer Outputs { vec4 outputs[]; };
uniform int u_mode;
uniform int u_kind;
uniform float u_p;
uniform uint u_count;

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i >= u_count) return;
    if (u_mode == 0) outputs[i] = vec4(soft_cdf(u_kind, inputs[i].x, u_p), 0.0, 0.0);
    else outputs[i] = vec4(soft_conorm(u_kind, inputs[i].x, inputs[i].y, u_p), 0.0);
}
