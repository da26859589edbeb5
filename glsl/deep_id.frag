#version 430
// R into the deep id buffer for kinds whose opacity is flat over a primitive:
// records (depth, id, opacity) of every fragment with opacity >= DEEP_ALPHA_MIN
// (deep_emit). No colour output, no depth test (the framebuffer has no
// attachments). A kind whose opacity varies over the primitive writes its own
// fragment stage around deep_emit. early_fragment_tests: nothing may change the
// fragment's fate after its side effects.
layout(early_fragment_tests) in;
#define DEEP_FRAGMENT_STAGE
#include "deep_ids.glsl"

flat in uint v_id;      // primitive + 1
flat in float v_alpha;  // its opacity

void main() {
    if (v_alpha < DEEP_ALPHA_MIN) return;
    deep_emit(v_id, v_alpha);
}
