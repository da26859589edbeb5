#version 430
// Adam with bias correction, per-group learning rate, bounds after the step.
// A non-finite gradient skips the update and raises stats[STAT_NONFINITE].
layout(local_size_x = WG_1D) in;

#include "buffers.glsl"
#include "groups.glsl"

layout(std430, binding = SSBO_GRAD) buffer Grad { float grad[]; };
layout(std430, binding = SSBO_ADAM) buffer Moments { vec2 moments[]; };
layout(std430, binding = SSBO_STATS) buffer Stats { uint stats[]; };

uniform uint u_count;
uniform float u_beta1;
uniform float u_beta2;
uniform float u_adam_eps;
uniform float u_bias1;     // 1 - beta1^t
uniform float u_bias2;     // 1 - beta2^t
uniform float u_lr_scale;  // schedule factor

void main() {
    uint i = global_index_1d();
    if (i >= u_count) return;
    Group g = groups[group_of(i)];
    if (g.lr == 0.0) return;
    float gr = grad[i];
    if (isnan(gr) || isinf(gr)) {
        atomicOr(stats[STAT_NONFINITE], 1u);
        return;
    }
    vec2 mv = moments[i];
    mv.x = u_beta1 * mv.x + (1.0 - u_beta1) * gr;
    mv.y = u_beta2 * mv.y + (1.0 - u_beta2) * gr * gr;
    moments[i] = mv;
    float step = g.lr * u_lr_scale * (mv.x / u_bias1) / (sqrt(mv.y / u_bias2) + u_adam_eps);
    params[i] = clamp(params[i] - step, g.lo, g.hi);
}
