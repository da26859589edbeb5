// The deep id buffer's visibility (strategy deep_id, sge/deep_ids.py; included
// as <visibility>). A copy's view of one output pixel: the mean over its
// SS x SS samples of the sample's fragments composited front to back over the
// background. Each composited fragment's colour is the kind's scene_sample
// (from the copy's perturbed parameters, like the opaque path), which adds
// its contributors; the list is hashed (contributors.glsl, CONTRIB_HASH_BITS).
// The opacity is the one R recorded for the copy.
// Overflow flags (stats[STAT_VISIBILITY]): bit 0 the lists needed more nodes
// than their budget, bit 1 a pixel had more contributors than MAX_CONTRIB.
// Needs tiles.glsl, contributors.glsl, the scene include (<scene>).

#include "deep_ids.glsl"
#include "deep_composite.glsl"

uniform vec3 u_background;
layout(std430, binding = SSBO_STATS) buffer DeepStats { uint deep_stats[]; };

ivec2 subsample_texel(int copy, ivec2 px, int k) {
    return tile_origin(copy) + px * SS + ivec2(k % SS, k / SS);
}

// NDC position of the centre of a texel of the tiled target, within its own tile.
vec2 texel_ndc(ivec2 texel) {
    vec2 local = vec2(texel - (texel / u_tile_size) * u_tile_size) + 0.5;
    return 2.0 * local / vec2(u_tile_size) - 1.0;
}

// What deep_fragment_color needs beside the fragment (private globals).
ivec2 g_deep_texel;
uint g_deep_cam;
uint g_deep_pkey;
float g_deep_sigma;

vec3 deep_fragment_color(uint id, uint s) {
    return scene_sample(id, g_deep_texel, g_deep_cam, g_deep_pkey, g_deep_sigma);
}

// Whether this frame's lists hold every fragment. After an overflow the plus and
// minus copies lost different fragments, so their difference is not the
// perturbation's effect: G adds nothing for the frame (and raises the flag; the
// pool grows at the next log step, sge/deep_ids.py).
bool visibility_complete(ivec2 px) {
#ifdef DEEP_LISTS
    bool ok = deep_counter[0] <= deep_counter[1];
    if (px == ivec2(0)) {
        atomicMax(deep_counter[2], deep_counter[0]);   // the most any frame needed since the pool was sized
        if (!ok) atomicOr(deep_stats[STAT_VISIBILITY], 1u);
    }
    return ok;
#else
    return true;
#endif
}

ivec2 g_deep_px;   // the pixel resolve_pixel resolved last
#ifdef SCENE_ANALYTIC
vec3 g_deep_plus_color[NSUB];   // its plus copy's samples as composited (background included)
vec3 deep_plus_sample_color(int k) { return g_deep_plus_color[k]; }
#endif

// For a kind's exact derivatives (its scene_analytic, after both copies are resolved):
// sample k of the current pixel in `copy` gathered again into g_deep_* (front to back;
// g_deep_texel its texel); returns how many of them its compositing used (up to the one
// that took T below DEEP_T_MIN). Walking the list again costs less than recording every
// composited fragment in private arrays (docs/design.md, issue 11, third session);
// when the sample is the one gathered last (one sample per pixel, the minus copy not
// resolved: G_PLUS_ONLY) the arrays still hold it.
int deep_regather(int copy, int k) {
    g_deep_sigma = (copy & 1) == 0 ? abs(g_deep_sigma) : -abs(g_deep_sigma);   // the copy's sign
    g_deep_texel = subsample_texel(copy, g_deep_px, k);
    uint s = deep_sample_of(g_deep_texel);
    if (s != g_deep_gathered) deep_gather(s);
    float t = 1.0;
    for (int i = 0; i < g_deep_n; ++i) {
        t *= 1.0 - g_deep_alpha[i];
        if (t < DEEP_T_MIN) return i + 1;
    }
    return g_deep_n;
}
uint deep_regathered_id(int i) { return g_deep_id[i]; }           // fragment i of the sample deep_regather gathered
float deep_regathered_alpha(int i) { return g_deep_alpha[i]; }
ivec2 deep_regathered_texel() { return g_deep_texel; }
vec3 deep_background() { return u_background; }
uint deep_pair_key() { return g_deep_pkey; }                      // the pair resolve_pixel resolved last

vec3 resolve_pixel(int copy, ivec2 px, uint cam, uint key, float sigma) {
    g_deep_px = px;
    g_deep_cam = cam;
    g_deep_pkey = key;
    g_deep_sigma = sigma;
    vec3 sum = vec3(0.0);
    for (int k = 0; k < NSUB; ++k) {
        g_deep_texel = subsample_texel(copy, px, k);
        vec4 ct = deep_composite(deep_sample_of(g_deep_texel));
        vec3 sample_color = ct.rgb + ct.a * u_background;
#ifdef SCENE_ANALYTIC
        if (sigma > 0.0) g_deep_plus_color[k] = sample_color;
#endif
        sum += sample_color;
    }
#ifdef DEEP_LISTS
    if (copy == 0 && px == ivec2(0) && deep_counter[0] > deep_counter[1]) atomicOr(deep_stats[STAT_VISIBILITY], 1u);
#endif
    if (g_collect && g_contrib_full) atomicOr(deep_stats[STAT_VISIBILITY], 2u);
    return sum * (1.0 / float(NSUB));
}
