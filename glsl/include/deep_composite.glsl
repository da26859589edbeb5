// Front-to-back alpha compositing of a sample's gathered fragments
// (deep_ids.glsl: deep_gather) with early termination: c += T a colour,
// T *= 1 - a, stop after the fragment that takes T below DEEP_T_MIN (it
// still contributes, the ones behind do not).
//
// The includer defines vec3 deep_fragment_color(uint id, uint s) (id =
// primitive + 1); it is called once per composited fragment, front to back,
// and is where the fragment's contributors are added (add_contributor).
// A kind with exact derivatives walks a sample's fragments again with
// deep_regather (deep_resolve.glsl).

#ifndef DEEP_T_MIN
#define DEEP_T_MIN 1.0e-4
#endif

vec3 deep_fragment_color(uint id, uint s);

int deep_fragment_count() { return g_deep_n; }
uint deep_fragment_id(int i) { return g_deep_id[i]; }
float deep_fragment_alpha(int i) { return g_deep_alpha[i]; }
float deep_fragment_depth(int i) { return uintBitsToFloat(g_deep_key[i]); }

// Composite sample s (gathers it first): (colour over nothing, transmittance);
// the caller adds transmittance * background. A kind's scene_composite (SCENE_COMPOSITE,
// deep_fragments.glsl) replaces the alpha compositing below.
vec4 deep_composite(uint s) {
    deep_gather(s);
#ifdef SCENE_COMPOSITE
    return scene_composite(s);
#else
    vec3 c = vec3(0.0);
    float t = 1.0;
    for (int i = 0; i < g_deep_n; ++i) {
        float a = g_deep_alpha[i];
        c += (t * a) * deep_fragment_color(g_deep_id[i], s);
        t *= 1.0 - a;
        if (t < DEEP_T_MIN) break;
    }
    return vec4(c, t);
#endif
}
