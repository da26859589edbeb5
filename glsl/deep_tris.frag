#version 430
// R of the deep-id test kind: no depth test, no colour output; every
// fragment with opacity >= DEEP_ALPHA_MIN is recorded in the deep id buffer
// (deep_emit). early_fragment_tests: nothing here may change the fragment's
// fate after its side effects (no depth/stencil is attached anyway).
layout(early_fragment_tests) in;
#define DEEP_FRAGMENT_STAGE
#include "deep_ids.glsl"

flat in uint v_id;
flat in float v_alpha;
uniform float u_alpha_scale;

void main() {
    float alpha = clamp(v_alpha * u_alpha_scale, 0.0, 1.0);  // the kind's opacity at this sample
    if (alpha < DEEP_ALPHA_MIN) return;
    deep_emit(v_id, alpha);
}
