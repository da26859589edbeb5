// Front-to-back alpha compositing of a sample's gathered fragments
// (deep_ids.glsl: deep_gather) with early termination, and a de-duplicated
// contributor list that stays cheap for 64+ contributors: an open-addressing
// hash (linear probing, DEEP_HASH slots, a power of two at least twice the
// list's capacity, so it never fills) beside the dense list. One insertion
// is O(1) expected instead of the O(n) scan of a pairwise check.
//
// The includer defines, before or after this file:
//   vec3 deep_fragment_color(uint id, uint s);   // id = primitive + 1
// DEEP_T_MIN: compositing stops once the transmittance falls below it; the
// fragment that crosses it still contributes, the ones behind do not.

#ifndef DEEP_T_MIN
#define DEEP_T_MIN 1.0e-4
#endif

vec3 deep_fragment_color(uint id, uint s);

uint g_dc_table[DEEP_HASH];        // contributor + 1, 0 = free
uint g_dc_list[DEEP_MAX_CONTRIB];  // the distinct contributors, in first-seen order
int g_dc_n;
bool g_dc_full;                    // a contributor was refused (list capacity)

void deep_contrib_begin() {
    for (int i = 0; i < DEEP_HASH; ++i) g_dc_table[i] = 0u;
    g_dc_n = 0;
    g_dc_full = false;
}

void deep_contrib_add(uint c) {
    uint key = c + 1u;
    uint h = (key * 2654435761u) >> (32 - DEEP_HASH_BITS);
    for (int probe = 0; probe < DEEP_HASH; ++probe) {
        uint at = g_dc_table[h];
        if (at == key) return;
        if (at == 0u) {
            if (g_dc_n == DEEP_MAX_CONTRIB) { g_dc_full = true; return; }
            g_dc_table[h] = key;
            g_dc_list[g_dc_n++] = c;
            return;
        }
        h = (h + 1u) & uint(DEEP_HASH - 1);
    }
}

// Composite sample s (gathers it first). Returns (colour premultiplied over
// nothing, transmittance); the caller adds transmittance * background.
// Contributors (primitive = id - 1) go to the list when collect is set.
vec4 deep_composite(uint s, bool collect) {
    deep_gather(s);
    vec3 c = vec3(0.0);
    float t = 1.0;
    for (int i = 0; i < g_deep_n; ++i) {
        float a = g_deep_alpha[i];
        uint id = g_deep_id[i];
        c += (t * a) * deep_fragment_color(id, s);
        t *= 1.0 - a;
        if (collect) deep_contrib_add(id - 1u);
        if (t < DEEP_T_MIN) break;
    }
    return vec4(c, t);
}
