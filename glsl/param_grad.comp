#version 430
// Per-parameter pass: gradient_i = sum over pairs of s_i * accum[pair][c(i)]
// / (2 eps_i * pairs), times the loss normalisation. s_i is recomputed from
// the counter-based hash, so nothing per-parameter was stored by P.
layout(local_size_x = WG_1D) in;

#include "buffers.glsl"
#include "rng.glsl"
#include "accumulate.glsl"
#include "groups.glsl"

layout(std430, binding = SSBO_GRAD) buffer Grad { float grad[]; };

uniform uint u_count;
uniform uint u_pairs;
uniform uint u_seed;
uniform uint u_iteration;
uniform float u_norm;

void main() {
    uint i = global_index_1d();
    if (i >= u_count) return;
    Group g = groups[group_of(i)];
    if (g.eps == 0.0) { grad[i] = 0.0; return; }
#ifdef FULL_IMAGE
    uint c = 0u;
#else
    uint c = g.contrib_base + (i - g.offset) / g.stride;
#endif
    float sum = 0.0;
    for (uint pair = 0u; pair < u_pairs; ++pair) {
        sum += param_sign(i, pair_key(u_seed, u_iteration, pair)) * accum_value(pair, c);
    }
    grad[i] = sum * u_norm / (2.0 * g.eps * float(u_pairs));
}
