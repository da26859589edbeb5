#version 430
// R of a splat's square (splat.vert): inside the closed square |d| <= r, the opacity of the 2D Gaussian at this
// sample, alpha = min(0.99, o exp(-d^T Sigma2D^-1 d / 2)), recorded in the deep
// id buffer when alpha >= DEEP_ALPHA_MIN (docs/splats.md). early_fragment_tests:
// nothing may change the fragment's fate after its side effects.
layout(early_fragment_tests) in;
#define DEEP_FRAGMENT_STAGE
#include "deep_ids.glsl"

flat in uint v_id;
flat in vec3 v_conic;
flat in float v_opacity;
flat in float v_radius;
noperspective in vec2 v_offset;

void main() {
    vec2 d = v_offset;
    if (abs(d.x) > v_radius || abs(d.y) > v_radius) return;   // outside the footprint square
    float power = -0.5 * (v_conic.x * d.x * d.x + v_conic.z * d.y * d.y) - v_conic.y * d.x * d.y;
    if (power > 0.0) return;
    float alpha = min(0.99, v_opacity * exp(power));
    if (alpha < DEEP_ALPHA_MIN) return;
    deep_emit(v_id, alpha);
}
