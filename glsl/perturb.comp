#version 430
// P materialised: writes theta + sigma * s * eps for every parameter into
// the scratch buffer. The optimisation loop fuses P into its fetches; this
// pass exists for tests and for scene kinds that need theta+- stored.
layout(local_size_x = WG_1D) in;

#include "buffers.glsl"
#include "rng.glsl"
#include "perturb.glsl"
#include "groups.glsl"

layout(std430, binding = SSBO_OUT) buffer Out { float out_values[]; };

uniform uint u_count;
uniform uint u_seed;
uniform uint u_iteration;
uniform uint u_pair;
uniform float u_sigma;

void main() {
    uint i = global_index_1d();
    if (i >= u_count) return;
    Group g = groups[group_of(i)];
    out_values[i] = perturbed(i, g.eps, pair_key(u_seed, u_iteration, u_pair), u_sigma);
}
