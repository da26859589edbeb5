#version 430
// R of a semi-transparent mesh (scene.opacity) into the deep id buffer: the
// indexed draw shares vertices between triangles, so a flat varying cannot
// carry a per-triangle value; the triangle is gl_PrimitiveID (as in id.frag)
// and its opacity, sigmoid of the copy's perturbed logit, is fetched here with
// the copy's pair key and sign from mesh.vert. Records (depth, triangle + 1,
// opacity) of every fragment with opacity >= DEEP_ALPHA_MIN (deep_emit).
// early_fragment_tests: nothing may change the fragment's fate after its side
// effects (see deep_id.frag).
layout(early_fragment_tests) in;
#define DEEP_FRAGMENT_STAGE
#include "buffers.glsl"
#include "rng.glsl"
#include "perturb.glsl"
#include "deep_ids.glsl"

flat in uint v_key;
flat in float v_sigma;

void main() {
    uint tri = uint(gl_PrimitiveID);
    Group go = groups[GROUP_OPACITY];
    float alpha = 1.0 / (1.0 + exp(-perturbed(go.offset + tri, go.eps, v_key, v_sigma)));
    if (alpha < DEEP_ALPHA_MIN) return;
    deep_emit(tri + 1u, alpha);
}
