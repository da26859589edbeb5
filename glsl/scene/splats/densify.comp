#version 430
// Splat densification (scene.densify), one pass per DZ_PASS (scene/splats/densify.py):
//   0 seen:     after every step, last_seen[s] = u_iteration where any pair's accumulator
//               of splat s, or of its exact opacity / screen gradients, is non-zero, and
//               loss[s] += sum over pairs of |accumulator|;
//   1 classify: every `every` steps, dead = opacity < u_min_opacity or unseen for u_unseen
//               steps; the signal v of a live splat (opacity, |m1| of its positions, or
//               loss[s]) into weight[] as float bits, and max(v) into counts[3] (atomicMax
//               on the bits: v >= 0 compares like its bits);
//   2 quantize: weight = round(v / max * u_levels) (dead: 0; max 0: 1 for every live one);
//               then the core's prefix sums of the dead flags (total in counts[1]) and of
//               the weights (counts[2]);
//   3 list:     the dead splats in index order into lists[0, n);
//   4 pick:     dead splat k < placed() (at most u_budget x the live count) draws
//               u = hash(seed, iteration, k) mod total weight and takes
//               the live donor d whose weight interval [pos_d, pos_d + w_d) holds u (a
//               binary search: P(d) = w_d / total); lists[n + k] = d; copies[d] += 1;
//   5 children: dead splat k becomes a copy of its donor d (every group), its mean
//               sampled from d's Gaussian (mu + R diag(s) z, z ~ N(0, I) from the hash of
//               its index). A donor larger than u_split_pixels is split: scales - log 1.6,
//               opacity kept. Else cloned: scales + log u_shrink, opacity
//               1 - (1 - o)^(1 / (copies + 1)). Moments zeroed, birth and last_seen set;
//   6 donors:   each donor (copies > 0) takes the same opacity (clone) or is itself
//               resampled with scales - log 1.6 (split); moments zeroed, birth set;
//               copies and loss cleared for every splat, counts[3] cleared;
//   7 reset:    opacity logits of every splat lowered to at most u_reset_logit.
layout(local_size_x = WG_1D) in;

#include "buffers.glsl"
#include "groups.glsl"
#include "rng.glsl"
#if DZ_PASS == 0
#include "accumulate.glsl"
#endif
#if DZ_PASS == 1 || DZ_PASS == 5 || DZ_PASS == 6
layout(std430, binding = SSBO_ADAM) buffer Moments { vec2 moments[]; };
#endif
#if DZ_PASS >= 5 && DZ_PASS <= 6
layout(std430, binding = SSBO_BIRTHS) buffer Births { uint births[]; };
#endif
#if (DZ_PASS >= 1 && DZ_PASS <= 2) || (DZ_PASS >= 4 && DZ_PASS <= 6)
layout(std430, binding = SSBO_COUNTS) buffer Counts { uint counts[]; };
#endif
#if DZ_PASS <= 1 || (DZ_PASS >= 5 && DZ_PASS <= 6)
layout(std430, binding = SSBO_SCENE_LAST_SEEN) buffer LastSeen { uint last_seen[]; };
#endif
#if DZ_PASS == 0 || DZ_PASS == 1 || DZ_PASS == 6
layout(std430, binding = SSBO_SCENE_LOSS) buffer Loss { float loss[]; };
#endif
#if DZ_PASS >= 1 && DZ_PASS <= 4
layout(std430, binding = SSBO_SCENE_DZ_WEIGHT) buffer Weight { uint weight[]; };
#endif
#if DZ_PASS == 1 || DZ_PASS == 2 || DZ_PASS == 3
layout(std430, binding = SSBO_SCENE_DZ_DEAD) buffer Dead { uint dead[]; };
#endif
#if DZ_PASS == 3
layout(std430, binding = SSBO_SCENE_DZ_DEAD_POS) buffer DeadPos { uint dead_pos[]; };
#endif
#if DZ_PASS == 4
layout(std430, binding = SSBO_SCENE_DZ_WEIGHT_POS) buffer WeightPos { uint weight_pos[]; };
#endif
#if DZ_PASS >= 3 && DZ_PASS <= 5
layout(std430, binding = SSBO_SCENE_DZ_LISTS) buffer Lists { uint lists[]; };   // [dead | donor of k]
#endif
#if DZ_PASS >= 4 && DZ_PASS <= 6
layout(std430, binding = SSBO_SCENE_DZ_COPIES) buffer Copies { uint copies[]; };
#endif

uniform uint u_n;             // splats
uniform uint u_pairs;         // antithetic pairs per iteration (accumulator blocks)
uniform uint u_iteration;     // steps done
uniform uint u_unseen;
uniform float u_min_opacity;
uniform uint u_signal;        // 0 opacity, 1 adam, 2 loss
uniform float u_levels;       // weight of the largest signal
uniform uint u_seed;
uniform float u_split_pixels; // 0: never split
uniform float u_pixel;        // world size of one pixel at the scene centre
uniform float u_log_shrink;
uniform float u_reset_logit;
uniform float u_budget;       // at most this fraction of the live splats re-placed per event

const float LOG_SPLIT = 0.47000362924573558;   // log 1.6

#if DZ_PASS == 4 || DZ_PASS == 5
// Dead splats re-placed this event: the first min(dead, budget x live) of the dead list.
uint placed() { return min(counts[1], uint(floor(u_budget * float(u_n - counts[1])))); }
#endif

float sigmoid(float x) { return 1.0 / (1.0 + exp(-x)); }

uint event_key() { return pcg_hash(pcg_hash(u_seed ^ 0x6A09E667u) ^ u_iteration); }

float unit_float(uint h) { return (float(h >> 8u) + 0.5) * (1.0 / 16777216.0); }

// z ~ N(0, I) for splat s (Box-Muller on hashes of the event key and s).
vec3 normal3(uint s) {
    uint k = pcg_hash(event_key() ^ (s * 0x9E3779B9u));
    uint h0 = pcg_hash(k), h1 = pcg_hash(h0), h2 = pcg_hash(h1), h3 = pcg_hash(h2);
    float r0 = sqrt(-2.0 * log(unit_float(h0))), r1 = sqrt(-2.0 * log(unit_float(h2)));
    float a0 = 6.283185307179586 * unit_float(h1), a1 = 6.283185307179586 * unit_float(h3);
    return vec3(r0 * cos(a0), r0 * sin(a0), r1 * cos(a1));
}

#if DZ_PASS == 5 || DZ_PASS == 6
// Group-generic work is written per group with a literal group index (FOR_EACH_GROUP) and
// no local copy of a Group: on the H200 (driver 580) loops over groups[gi] with a
// dynamic gi feeding a store's index failed to link ("lvalue in array access too
// complex"); docs/design.md, "NVIDIA driver lessons".
#ifdef GROUP_SH_REST
#define FOR_EACH_GROUP(F, a, b) F(GROUP_POSITIONS, a, b) F(GROUP_SCALES, a, b) F(GROUP_ROTATIONS, a, b) \
    F(GROUP_OPACITY, a, b) F(GROUP_SH_DC, a, b) F(GROUP_SH_REST, a, b)
#else
#define FOR_EACH_GROUP(F, a, b) F(GROUP_POSITIONS, a, b) F(GROUP_SCALES, a, b) F(GROUP_ROTATIONS, a, b) \
    F(GROUP_OPACITY, a, b) F(GROUP_SH_DC, a, b)
#endif
#if (defined(GROUP_SH_REST) && NUM_GROUPS != 6) || (!defined(GROUP_SH_REST) && NUM_GROUPS != 5)
#error "FOR_EACH_GROUP must name every splat parameter group"
#endif

float param(uint gi, uint s, uint k) { return params[groups[gi].offset + s * groups[gi].stride + k]; }
void set_param(uint gi, uint s, uint k, float v) {
    uint at = groups[gi].offset + s * groups[gi].stride + k;
    params[at] = clamp(v, groups[gi].lo, groups[gi].hi);
}

// Element `to` of group gi becomes a copy of element `from`.
void copy_element(uint gi, uint to, uint from) {
    uint off = groups[gi].offset, st = groups[gi].stride;
    for (uint j = 0u; j < st; ++j) params[off + to * st + j] = params[off + from * st + j];
}
#define COPY_ELEMENT(G, to, from) copy_element(G, to, from);

// Adam's moments of element s of group gi start again.
void zero_moments(uint gi, uint s) {
    uint off = groups[gi].offset, st = groups[gi].stride;
    for (uint j = 0u; j < st; ++j) moments[off + s * st + j] = vec2(0.0);
}
#define ZERO_MOMENTS(G, s, unused) zero_moments(G, s);

// The donor's mean, log scales, frame M = R diag(s) and opacity.
struct Splat { vec3 mu; vec3 logs; mat3 m; float o; };

Splat read_splat(uint s) {
    Splat p;
    p.mu = vec3(param(GROUP_POSITIONS, s, 0u), param(GROUP_POSITIONS, s, 1u), param(GROUP_POSITIONS, s, 2u));
    p.logs = vec3(param(GROUP_SCALES, s, 0u), param(GROUP_SCALES, s, 1u), param(GROUP_SCALES, s, 2u));
    vec4 q = vec4(param(GROUP_ROTATIONS, s, 0u), param(GROUP_ROTATIONS, s, 1u), param(GROUP_ROTATIONS, s, 2u),
                  param(GROUP_ROTATIONS, s, 3u));
    float ql = length(q);
    q = ql > 1e-12 ? q / ql : vec4(1.0, 0.0, 0.0, 0.0);
    float w = q.x, x = q.y, y = q.z, z = q.w;
    vec3 sc = exp(p.logs);
    p.m = mat3(vec3(1.0 - 2.0 * (y * y + z * z), 2.0 * (x * y + w * z), 2.0 * (x * z - w * y)) * sc.x,
               vec3(2.0 * (x * y - w * z), 1.0 - 2.0 * (x * x + z * z), 2.0 * (y * z + w * x)) * sc.y,
               vec3(2.0 * (x * z + w * y), 2.0 * (y * z - w * x), 1.0 - 2.0 * (x * x + y * y)) * sc.z);
    p.o = sigmoid(param(GROUP_OPACITY, s, 0u));
    return p;
}

bool splits(Splat p) {
    return u_split_pixels > 0.0 && exp(max(p.logs.x, max(p.logs.y, p.logs.z))) > u_split_pixels * u_pixel;
}

float logit(float o) {
    o = clamp(o, 1e-6, 1.0 - 1e-6);
    return log(o / (1.0 - o));
}

// Splat s (a copy of donor p, or p itself) after a split or clone with `n` copies.
void place(uint s, Splat p, uint n, bool resample) {
    bool split = splits(p);
    if (resample || split) {
        vec3 mu = p.mu + p.m * normal3(s);
        set_param(GROUP_POSITIONS, s, 0u, mu.x);      // unrolled: no dynamic component index
        set_param(GROUP_POSITIONS, s, 1u, mu.y);      // (NVIDIA: "lvalue in array access too complex")
        set_param(GROUP_POSITIONS, s, 2u, mu.z);
    }
    if (split) {
        vec3 l = p.logs - LOG_SPLIT;
        set_param(GROUP_SCALES, s, 0u, l.x);
        set_param(GROUP_SCALES, s, 1u, l.y);
        set_param(GROUP_SCALES, s, 2u, l.z);
    } else if (resample && u_log_shrink != 0.0) {
        vec3 l = p.logs + u_log_shrink;
        set_param(GROUP_SCALES, s, 0u, l.x);
        set_param(GROUP_SCALES, s, 1u, l.y);
        set_param(GROUP_SCALES, s, 2u, l.z);
    }
    if (!split) set_param(GROUP_OPACITY, s, 0u, logit(1.0 - pow(1.0 - p.o, 1.0 / float(n + 1u))));
    FOR_EACH_GROUP(ZERO_MOMENTS, s, 0u)
    births[s] = u_iteration;
    last_seen[s] = u_iteration;
}
#endif

void main() {
    uint i = global_index_1d();
#if DZ_PASS == 0
    if (i >= u_n) return;
    float sum = 0.0;
    bool seen = false;     // also through its exact gradients (G adds no f+ - f- for those)
    for (uint p = 0u; p < u_pairs; ++p) {
        sum += abs(accum_value(p, i));
#ifdef SPLAT_OPACITY_ANALYTIC
        seen = seen || accum_value(p, groups[GROUP_OPACITY].contrib_base + i) != 0.0;
#endif
#ifdef SPLAT_GEOMETRY_ANALYTIC
        for (uint k = 0u; k < 5u; ++k) seen = seen || accum_value(p, uint(SPLAT_SCREEN_BASE) + 5u * i + k) != 0.0;
#endif
    }
    if (sum != 0.0 || seen) last_seen[i] = u_iteration;
    loss[i] += sum;
#elif DZ_PASS == 1
    if (i >= u_n) return;
    float o = sigmoid(params[groups[GROUP_OPACITY].offset + i]);
    bool is_dead = (u_iteration - last_seen[i]) >= u_unseen || o < u_min_opacity;
    dead[i] = is_dead ? 1u : 0u;
    float v = 0.0;
    if (u_signal == 0u) {
        v = o;
    } else if (u_signal == 1u) {
        uint b = groups[GROUP_POSITIONS].offset + i * 3u;
        v = length(vec3(moments[b].x, moments[b + 1u].x, moments[b + 2u].x));
    } else {
        v = loss[i];
    }
    v = is_dead || !(v > 0.0) || isinf(v) ? 0.0 : v;
    weight[i] = floatBitsToUint(v);
    if (!is_dead) atomicMax(counts[3], floatBitsToUint(v));
#elif DZ_PASS == 2
    if (i >= u_n) return;
    float top = uintBitsToFloat(counts[3]);
    float v = uintBitsToFloat(weight[i]);
    uint w = 1u;
    if (dead[i] != 0u) w = 0u;
    else if (top > 0.0) w = uint(round(v / top * float(u_levels)));
    weight[i] = w;
#elif DZ_PASS == 3
    if (i >= u_n) return;
    if (dead[i] != 0u) lists[dead_pos[i]] = i;
#elif DZ_PASS == 4
    uint total = counts[2];
    if (i >= placed() || total == 0u) return;
    uint u = pcg_hash(event_key() ^ (i * 0x85EBCA6Bu)) % total;
    uint lo = 0u, hi = u_n - 1u;        // the largest d with weight_pos[d] <= u
    while (lo < hi) {
        uint mid = (lo + hi + 1u) / 2u;
        if (weight_pos[mid] <= u) lo = mid; else hi = mid - 1u;
    }
    lists[u_n + i] = lo;
    atomicAdd(copies[lo], 1u);
#elif DZ_PASS == 5
    if (i >= placed() || counts[2] == 0u) return;
    uint c = lists[i], d = lists[u_n + i];
    FOR_EACH_GROUP(COPY_ELEMENT, c, d)
    place(c, read_splat(d), copies[d], true);
#elif DZ_PASS == 6
    if (i == 0u) counts[3] = 0u;
    if (i >= u_n) return;
    loss[i] = 0.0;
    uint n = copies[i];
    if (n == 0u) return;
    copies[i] = 0u;
    place(i, read_splat(i), n, false);
#else
    if (i >= u_n) return;
    uint b = groups[GROUP_OPACITY].offset + i;
    params[b] = min(params[b], u_reset_logit);
#endif
}
