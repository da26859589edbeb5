// The soft rasterizer's combination of a sample's fragments (included by its shade includes
// after the base kind's scene_sample). With scene.aggregate.color zbuffer or softmax (SOFT_COLOR)
// it combines a sample's fragments itself (SCENE_COMPOSITE, deep_fragments.glsl), each
// fragment's opacity being its coverage c_i (soft.frag: soft_coverage of F(d_i / tau)):
//   silhouette  A = S(... S(S(0, c_0), c_1) ..., c_(n-1)), S the t-conorm SOFT_CONORM (p:
//               u_soft_conorm_p);
//   zbuffer     colour = A * (colour of the nearest fragment with c_i >= F(0), the sample is
//               inside it; else of the most covering one) + (1 - A) * background;
//   softmax     w_i = c_i exp((z_i - z_max) / gamma), z_i = 1 - window depth (near is
//               larger), z_max the largest of them and SOFT_BG_DEPTH, w_b = exp((SOFT_BG_DEPTH
//               - z_max) / gamma): colour = (sum w_i colour_i + w_b background) / (sum w_i + w_b);
//   softmax_silhouette  the same weights without the background's (z_max over the fragments):
//               colour = A * sum w_i colour_i / sum w_i + (1 - A) * background.
// Every fragment adds its contributors (deep_fragment_color): all of them move A.

#define SOFT_COLOR_COMPOSITE 0
#define SOFT_COLOR_ZBUFFER 1
#define SOFT_COLOR_SOFTMAX 2
#define SOFT_COLOR_SOFTMAX_SILHOUETTE 3

#include "deep_fragments.glsl"
#include "soft_coverage.glsl"

uniform float u_soft_conorm_p;
uniform float u_soft_gamma;

#if SOFT_COLOR != SOFT_COLOR_COMPOSITE
#define SCENE_COMPOSITE

vec4 scene_composite(uint s) {
    int n = deep_fragment_count();
#if SOFT_COLOR == SOFT_COLOR_ZBUFFER
    float inside = soft_coverage(SOFT_FAMILY, 0.0, SOFT_P).x;
    float cover = 0.0, best = -1.0;
    vec3 front = vec3(0.0), most = vec3(0.0);
    bool found = false;
    for (int i = 0; i < n; ++i) {
        float c = deep_fragment_alpha(i);
        vec3 color = deep_fragment_color(deep_fragment_id(i), s);
        cover = soft_conorm(SOFT_CONORM, cover, c, u_soft_conorm_p).x;
        if (!found && c >= inside) { front = color; found = true; }
        if (c > best) { best = c; most = color; }
    }
    return vec4(cover * (found ? front : most), 1.0 - cover);
#else
    // softmax: the background is one more weight; silhouette: the weights share A, the
    // background takes 1 - A
    float z_max = SOFT_BG_DEPTH;
    for (int i = 0; i < n; ++i) z_max = max(z_max, 1.0 - deep_fragment_depth(i));
#if SOFT_COLOR == SOFT_COLOR_SOFTMAX
    float w_bg = exp((SOFT_BG_DEPTH - z_max) / u_soft_gamma);
#else
    float w_bg = 0.0, cover = 0.0;
#endif
    float w_sum = w_bg;
    vec3 color = vec3(0.0);
    for (int i = 0; i < n; ++i) {
        float c = deep_fragment_alpha(i);
        float w = c * exp((1.0 - deep_fragment_depth(i) - z_max) / u_soft_gamma);
        color += w * deep_fragment_color(deep_fragment_id(i), s);
        w_sum += w;
#if SOFT_COLOR != SOFT_COLOR_SOFTMAX
        cover = soft_conorm(SOFT_CONORM, cover, c, u_soft_conorm_p).x;
#endif
    }
#if SOFT_COLOR == SOFT_COLOR_SOFTMAX
    return vec4(color / w_sum, w_bg / w_sum);
#else
    return w_sum > 0.0 ? vec4(cover * color / w_sum, 1.0 - cover) : vec4(0.0, 0.0, 0.0, 1.0);
#endif
#endif
}
#endif
