#version 430
// Adam with bias correction, per-group learning rate, bounds after the step.
// A non-finite gradient, or a step that would make the parameter non-finite,
// skips the update and sets the group's bit in stats[STAT_NONFINITE] or
// stats[STAT_NONFINITE_PARAM], and the step number in stats[STAT_FIRST_BAD].
layout(local_size_x = WG_1D) in;

#include "buffers.glsl"
#include "groups.glsl"

layout(std430, binding = SSBO_GRAD) buffer Grad { float grad[]; };
layout(std430, binding = SSBO_ADAM) buffer Moments { vec2 moments[]; };
layout(std430, binding = SSBO_STATS) buffer Stats { uint stats[]; };
#ifdef ELEMENT_BIRTHS
// Per layout element: the step after which its moments were reset (sge/relayout.py).
layout(std430, binding = SSBO_BIRTHS) readonly buffer Births { uint births[]; };
#endif

uniform uint u_count;
uniform float u_beta1;
uniform float u_beta2;
uniform float u_adam_eps;
uniform float u_bias1;     // 1 - beta1^t
uniform float u_bias2;     // 1 - beta2^t
uniform float u_lr_scale;  // schedule factor
uniform uint u_step;       // 1-based Adam step
uniform uint u_origin;     // iteration of the last warm restart (optim/adam.py restart())
uniform uint u_group_bias_on;              // 1: groups that start late (optim.schedule.GroupStarts)
uniform vec2 u_group_bias[NUM_GROUPS];     // (1 - beta1^k, 1 - beta2^k), k = the group's own steps

void flag(uint slot, uint group) {
    atomicOr(stats[slot], 1u << min(group, 31u));
    atomicCompSwap(stats[STAT_FIRST_BAD], 0u, u_step);
}

void main() {
    uint i = global_index_1d();
    if (i >= u_count) return;
    uint gi = group_of(i);
    Group g = groups[gi];
    if (g.lr == 0.0) return;
    float old = params[i];
    if (isnan(old) || isinf(old)) {  // already broken (by a bad upload or a bug): report, leave it
        flag(STAT_NONFINITE_PARAM, gi);
        return;
    }
    float gr = grad[i];
    if (isnan(gr) || isinf(gr)) {
        flag(STAT_NONFINITE, gi);
        return;
    }
    vec2 mv = moments[i];
    mv.x = u_beta1 * mv.x + (1.0 - u_beta1) * gr;
    mv.y = u_beta2 * mv.y + (1.0 - u_beta2) * gr * gr;
    float bias1 = u_bias1, bias2 = u_bias2;
    if (u_group_bias_on != 0u) {
        bias1 = u_group_bias[gi].x;
        bias2 = u_group_bias[gi].y;
    }
#ifdef ELEMENT_BIRTHS
    if ((g.flags & uint(GROUP_ELEMENT)) != 0u) {   // a re-placed element counts its own steps
        uint born = births[(i - g.offset) / g.stride];
        if (born != 0u) {
            float t = float(u_step - max(born, u_origin));
            bias1 = 1.0 - pow(u_beta1, t);
            bias2 = 1.0 - pow(u_beta2, t);
        }
    }
#endif
    float step = g.lr * u_lr_scale * (mv.x / bias1) / (sqrt(mv.y / bias2) + u_adam_eps);
    float p = clamp(old - step, g.lo, g.hi);
    if (isnan(p) || isinf(p)) {
        flag(STAT_NONFINITE_PARAM, gi);
        return;
    }
    moments[i] = mv;
    params[i] = p;
}
