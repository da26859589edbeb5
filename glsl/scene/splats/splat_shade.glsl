// G-side code of 3D Gaussian splats (#include <scene>): the colour of a
// composited splat is the one splat_project.comp computed for the sample's copy
// (the copy is the tile the texel lies in); its one contributor is the splat. The
// opacity was recorded by R for the copy.
// Exact gradients (scene.color_gradient / opacity_gradient: analytic): those
// parameters are not perturbed; G's plus copy records each composited
// fragment (splat, colour, T in front of it, its alpha) and scene_analytic adds,
// per sample (docs/splats.md, "Gradients"):
//   SPLAT_DC_ANALYTIC: d loss / d dc = dl * SH_C0 * T a (0 where a channel is
//     clamped) into the splat's three slots (contrib_base + 3 s + c);
//   SPLAT_OPACITY_ANALYTIC: d loss / d logit = dl . (T c - S / (1 - a)) *
//     a (1 - o) (0 where a is clamped at 0.99), S the sample's colour behind
//     the fragment (background included), into slot contrib_base + s;
// each / NSUB (a pixel is the mean of its samples).
#include "splat_projected.glsl"

#if defined(SPLAT_DC_ANALYTIC) || defined(SPLAT_OPACITY_ANALYTIC)
#define SPLAT_ANALYTIC
float deep_fragment_alpha();           // deep_composite.glsl
float deep_fragment_transmittance();
vec3 deep_background();                // deep_resolve.glsl
#define SPLAT_AN_MAX (DEEP_MAX * NSUB)  // every fragment G can composite for a pixel
uint g_an_id[SPLAT_AN_MAX];
vec4 g_an_ct[SPLAT_AN_MAX];   // colour, T in front
float g_an_a[SPLAT_AN_MAX];   // alpha
int g_an_count = 0;
#endif

vec3 scene_sample(uint id, ivec2 texel, uint cam, uint key, float sigma) {
    add_contributor(id - 1u);
    vec3 color = splat_copy(copy_of_texel(texel), id - 1u).color_opacity.rgb;
#ifdef SPLAT_ANALYTIC
    if (sigma > 0.0 && g_an_count < SPLAT_AN_MAX) {     // only G's plus copy (the clean pass has sigma 0)
        g_an_id[g_an_count] = id - 1u;
        g_an_ct[g_an_count] = vec4(color, deep_fragment_transmittance());
        g_an_a[g_an_count] = deep_fragment_alpha();
        ++g_an_count;
    }
#endif
    return color;
}

#if defined(SPLAT_ANALYTIC) && defined(G_PASS)
void scene_analytic(uint pair, vec3 dl) {
    const float SH_C0_OVER_NSUB = 0.28209479177387814 / float(NSUB);
    int first = 0;
    while (first < g_an_count) {           // one sample: a run starting at T = 1
        int last = first + 1;
        while (last < g_an_count && g_an_ct[last].w < 1.0) ++last;
#ifdef SPLAT_OPACITY_ANALYTIC
        // the sample's colour: sum of T a c, plus what shows through behind the last fragment
        vec3 total = vec3(0.0);
        for (int k = first; k < last; ++k) total += (g_an_ct[k].w * g_an_a[k]) * g_an_ct[k].rgb;
        total += g_an_ct[last - 1].w * (1.0 - g_an_a[last - 1]) * deep_background();
        vec3 front = vec3(0.0);
        uint obase = groups[GROUP_OPACITY].contrib_base;
        uint ooff = groups[GROUP_OPACITY].offset;
#endif
        for (int k = first; k < last; ++k) {
            uint s = g_an_id[k];
            vec3 c = g_an_ct[k].rgb;
            float t = g_an_ct[k].w, a = g_an_a[k];
#ifdef SPLAT_DC_ANALYTIC
            vec3 d = dl * vec3(greaterThan(c, vec3(0.0))) * (t * a * SH_C0_OVER_NSUB);
            uint cb = groups[GROUP_SH_DC].contrib_base + 3u * s;
            if (d.r != 0.0) accumulate(pair, cb, d.r);
            if (d.g != 0.0) accumulate(pair, cb + 1u, d.g);
            if (d.b != 0.0) accumulate(pair, cb + 2u, d.b);
#endif
#ifdef SPLAT_OPACITY_ANALYTIC
            front += (t * a) * c;
            if (a < 0.99) {
                float o = 1.0 / (1.0 + exp(-params[ooff + s]));
                vec3 dcol = t * c - (total - front) / (1.0 - a);
                float g = dot(dl, dcol) * a * (1.0 - o) / float(NSUB);
                if (g != 0.0) accumulate(pair, obase + s, g);
            }
#endif
        }
        first = last;
    }
}
#endif
