// Per-contributor accumulators: accum[pair * u_contributors + c].
// Float atomics (GL_NV_shader_atomic_float) when ATOMICS_FLOAT is defined,
// else fixed point: round(value * FIXED_SCALE) in int atomics. The adds do not
// wait for the old value (an add whose result is used costs a round trip: 20-26%
// of G where adds dominate, docs/design.md); the sums wrap modulo 2^32, which is
// exact whenever the final sum fits, so the overflow flag (stats[STAT_OVERFLOW])
// is raised where a sum is read: |sum| >= 2^30 (half the range: a sum that
// wrapped lands there unless it passed the limit by more than half the range).

uniform uint u_contributors;

layout(std430, binding = SSBO_STATS) buffer Stats { uint stats[]; };

#ifdef ATOMICS_FLOAT
layout(std430, binding = SSBO_ACCUM) buffer Accum { float accum[]; };

void accumulate(uint pair, uint c, float v) {
    atomicAdd(accum[pair * u_contributors + c], v);
}

float accum_value(uint pair, uint c) {
    return accum[pair * u_contributors + c];
}
#else
layout(std430, binding = SSBO_ACCUM) buffer Accum { int accum[]; };

// Add an already fixed-point value q.
void accumulate_fixed(uint pair, uint c, int q) {
    atomicAdd(accum[pair * u_contributors + c], q);
}

void accumulate(uint pair, uint c, float v) {
    accumulate_fixed(pair, c, int(round(clamp(v * FIXED_SCALE, -2.0e9, 2.0e9))));
}

float accum_value(uint pair, uint c) {
    int q = accum[pair * u_contributors + c];
    if (q >= 0x40000000 || q <= -0x40000000) atomicOr(stats[STAT_OVERFLOW], 1u);
    return float(q) * (1.0 / FIXED_SCALE);
}
#endif

// Exact derivatives (the analytic slots of MAP_ANALYTIC groups, a kind's scene_analytic):
// added ANALYTIC_GAIN times larger, read back divided by it (param_grad.comp). In fixed
// point a fragment's exact derivative is often below 1 / FIXED_SCALE, which rounding
// dropped (docs/design.md, "ANALYTIC_GAIN": a fit at 17.9 dB reached 25.1 with 64x finer steps).
// The gain is a power of two: exact with float atomics. A kind whose exact derivatives sum
// over many pixels into one slot (the soft rasterizer's colours and corners) sets a smaller
// one (its defines), which every pass then reads.
#ifndef ANALYTIC_GAIN
#define ANALYTIC_GAIN 64.0
#endif

void accumulate_exact(uint pair, uint c, float v) { accumulate(pair, c, v * ANALYTIC_GAIN); }

// Three consecutive exact slots (an RGB colour's), each skipped where it is 0.
void accumulate_exact_rgb(uint pair, uint c, vec3 v) {
    if (v.r != 0.0) accumulate_exact(pair, c, v.r);
    if (v.g != 0.0) accumulate_exact(pair, c + 1u, v.g);
    if (v.b != 0.0) accumulate_exact(pair, c + 2u, v.b);
}

float exact_value(uint pair, uint c) { return accum_value(pair, c) * (1.0 / ANALYTIC_GAIN); }
