#version 430
// Per-parameter pass: gradient_i = sum over pairs of s_i * A_pair(i)
// / (2 eps_i * pairs), times the loss normalisation, where A is the
// accumulator of the parameter's contributor (mapping 0) or the sum of the
// accumulators its group's gather table lists for the parameter's element
// (mapping 1, e.g. a shared vertex gathers its primitives). s_i is recomputed
// from the counter-based hash, so nothing per-parameter was stored by P.
// Mapping 2 (analytic): A_pair(i) is already the derivative of the pair's
// pixel losses (the kind's scene_analytic in G), so gradient_i = sum over
// pairs of A_pair(i) / pairs, times the normalisation.
//
// One dispatch per run of consecutive groups of one mapping (parameters
// [u_start, u_end)), by one program per mapping (PARAM_MAPPING 0, 1, 2). A
// single program choosing per invocation ran the gather loop's loads, masked
// off, for every direct parameter on llvmpipe (docs/design.md, "Per-parameter pass").
layout(local_size_x = WG_1D) in;

#include "buffers.glsl"
#include "rng.glsl"
#include "accumulate.glsl"
#include "groups.glsl"

layout(std430, binding = SSBO_GRAD) buffer Grad { float grad[]; };
// The gather tables of every group with mapping 1 (CSR per group, see buffers.glsl).
layout(std430, binding = SSBO_GATHER) readonly buffer Gather { uint gather[]; };
// pair_key(u_seed, u_iteration, pair) of every pair, computed once per iteration.
layout(std430, binding = SSBO_KEYS) readonly buffer Keys { uint pair_keys[]; };

uniform uint u_start;
uniform uint u_end;
uniform uint u_pairs;
uniform float u_norm;

float accumulated(Group g, uint i, uint pair) {
#ifdef FULL_IMAGE
    return accum_value(pair, 0u);
#else
    uint e = (i - g.offset) / g.stride;
#if PARAM_MAPPING == 1
    float a = 0.0;
    uint s = g.gather_start + e;
    for (uint k = gather[s]; k < gather[s + 1u]; ++k) a += accum_value(pair, g.contrib_base + gather[g.gather_list + k]);
    return a;
#else
    return accum_value(pair, g.contrib_base + e);
#endif
#endif
}

void main() {
    uint i = u_start + global_index_1d();
    if (i >= u_end) return;
    Group g = groups[group_of(i)];
    if (g.eps == 0.0) { grad[i] = 0.0; return; }
#if PARAM_MAPPING == 2
    float exact = 0.0;
    for (uint pair = 0u; pair < u_pairs; ++pair) exact += exact_value(pair, g.contrib_base + (i - g.offset));
    grad[i] = exact * u_norm / float(u_pairs);
    return;
#endif
    float sum = 0.0;
    for (uint pair = 0u; pair < u_pairs; ++pair) {
        sum += param_sign(i, pair_keys[pair]) * accumulated(g, i, pair);
    }
    grad[i] = sum * u_norm / (2.0 * g.eps * float(u_pairs));
}
