#version 430
// Test harness (tests/test_soft_coverage.py): evaluates glsl/scene/soft/soft_coverage.glsl
// at given points. u_mode 0: (F, dF/dx) of CDF family u_kind at x = inputs[i].x;
// 1: (S, dS/da, dS/db) of t-conorm u_kind at (a, b) = inputs[i];
// 2: the signed distance from inputs[i] to the triangle u_tri and its vertex derivatives,
//    outputs[2i] = (d, g0, g1.x), outputs[2i + 1] = (g1.y, g2, 0);
// 3: one invocation: t-conorm u_kind over the coverages inputs[0, u_count).x,
//    outputs[0].x = A, outputs[1 + k].x = dA/dc_k.
layout(local_size_x = WG_1D) in;
#include "soft_coverage.glsl"

layout(std430, binding = SSBO_PARAMS) readonly buffer Inputs { vec2 inputs[]; };
layout(std430, binding = SSBO_GRAD) writeonly buffer Outputs { vec4 outputs[]; };
uniform int u_mode;
uniform int u_kind;
uniform float u_p;
uniform uint u_count;
uniform vec2 u_tri[3];

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i >= u_count) return;
    if (u_mode == 0) outputs[i] = vec4(soft_cdf(u_kind, inputs[i].x, u_p), 0.0, 0.0);
    else if (u_mode == 1) outputs[i] = vec4(soft_conorm(u_kind, inputs[i].x, inputs[i].y, u_p), 0.0);
    else if (u_mode == 2) {
        vec2 g0, g1, g2;
        float d = soft_signed_distance(inputs[i], u_tri[0], u_tri[1], u_tri[2], g0, g1, g2);
        outputs[2u * i] = vec4(d, g0, g1.x);
        outputs[2u * i + 1u] = vec4(g1.y, g2, 0.0);
    } else if (i == 0u) {
        int n = int(u_count);
        for (int k = 0; k < n; ++k) g_soft_cov[k] = inputs[k].x;
        outputs[0] = vec4(soft_aggregate(u_kind, u_p, n), 0.0, 0.0, 0.0);
        for (int k = 0; k < n; ++k) outputs[1 + k] = vec4(g_soft_dcov[k], 0.0, 0.0, 0.0);
    }
}
