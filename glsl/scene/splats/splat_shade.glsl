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
//   SPLAT_GEOMETRY_ANALYTIC: with g = dl . (T c - S / (1 - a)) * a (d loss / d
//     power, a = o exp(power) below 0.99), d loss / d (mean x, y; conic A, B, C)
//     = g (A dx + B dy, B dx + C dy; -dx^2 / 2, -dx dy, -dy^2 / 2), d the
//     sample's offset from the mean in output pixels, into the five screen slots
//     SPLAT_SCREEN_BASE + 5 s of the pair; splat_backward.comp chains them to
//     the positions, scales and rotations;
// each / NSUB (a pixel is the mean of its samples).
#include "splat_projected.glsl"

#if defined(SPLAT_OPACITY_ANALYTIC) || defined(SPLAT_GEOMETRY_ANALYTIC)
#define SPLAT_ALPHA_GRADIENT     // d loss / d alpha of each fragment is needed
#endif
#if defined(SPLAT_DC_ANALYTIC) || defined(SPLAT_ALPHA_GRADIENT)
#define SPLAT_ANALYTIC
float deep_fragment_alpha();           // deep_composite.glsl
float deep_fragment_transmittance();
vec3 deep_background();                // deep_resolve.glsl
#define SPLAT_AN_MAX (DEEP_MAX * NSUB)  // every fragment G can composite for a pixel
uint g_an_id[SPLAT_AN_MAX];
vec4 g_an_ct[SPLAT_AN_MAX];   // colour, T in front
float g_an_a[SPLAT_AN_MAX];   // alpha
#ifdef SPLAT_GEOMETRY_ANALYTIC
ivec2 g_an_texel[SPLAT_AN_MAX];
#endif
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
#ifdef SPLAT_GEOMETRY_ANALYTIC
        g_an_texel[g_an_count] = texel;
#endif
        ++g_an_count;
    }
#endif
    return color;
}

#if defined(SPLAT_ANALYTIC) && defined(G_PASS)
#include "analytic_add.glsl"

// The colour of the sample whose fragments are [first, last): sum of T a c, plus what shows
// through behind the last fragment.
vec3 splat_sample_color(int first, int last) {
    vec3 total = vec3(0.0);
    for (int k = first; k < last; ++k) total += (g_an_ct[k].w * g_an_a[k]) * g_an_ct[k].rgb;
    return total + g_an_ct[last - 1].w * (1.0 - g_an_a[last - 1]) * deep_background();
}

// One flat loop over the recorded fragments (the same trip count in every lane of a subgroup,
// analytic_add.glsl); a sample's fragments are a run starting at T = 1.
void scene_analytic(uint pair, vec3 dl) {
    const float SH_C0_OVER_NSUB = 0.28209479177387814 / float(NSUB);
    int rounds = analytic_rounds(g_an_count);
    int run_end = 0;
    vec3 total = vec3(0.0), front = vec3(0.0);
    for (int k = 0; k < rounds; ++k) {
        bool live = k < g_an_count;
        uint s = live ? g_an_id[k] : 0u;
        vec3 c = live ? g_an_ct[k].rgb : vec3(0.0);
        float t = live ? g_an_ct[k].w : 0.0, a = live ? g_an_a[k] : 0.0;
        uvec4 part = analytic_partition(live, s);
#ifdef SPLAT_DC_ANALYTIC
        vec3 d = dl * vec3(greaterThan(c, vec3(0.0))) * (t * a * SH_C0_OVER_NSUB);
        uint cb = groups[GROUP_SH_DC].contrib_base + 3u * s;
        analytic_add(part, live, pair, cb, d.r);
        analytic_add(part, live, pair, cb + 1u, d.g);
        analytic_add(part, live, pair, cb + 2u, d.b);
#endif
#ifdef SPLAT_ALPHA_GRADIENT
        if (live && k == run_end) {        // a new sample: its fragments and colour
            run_end = k + 1;
            while (run_end < g_an_count && g_an_ct[run_end].w < 1.0) ++run_end;
            total = splat_sample_color(k, run_end);
            front = vec3(0.0);
        }
        front += (t * a) * c;
        // d loss / d alpha (0 where alpha is clamped at 0.99)
        float g_alpha = live && a < 0.99 ? dot(dl, t * c - (total - front) / (1.0 - a)) / float(NSUB) : 0.0;
#ifdef SPLAT_OPACITY_ANALYTIC
        float o = live ? 1.0 / (1.0 + exp(-params[groups[GROUP_OPACITY].offset + s])) : 0.0;
        analytic_add(part, live, pair, groups[GROUP_OPACITY].contrib_base + s, g_alpha * a * (1.0 - o));
#endif
#ifdef SPLAT_GEOMETRY_ANALYTIC
        // d loss / d power = g -> the screen slots: mean (x, y), conic (A, B, C)
        float g = g_alpha * a;
        vec2 dx = vec2(0.0);
        vec3 k3 = vec3(0.0);
        if (live && g != 0.0) {
            int copy = copy_of_texel(g_an_texel[k]);
            SplatCopy p = splat_copy(copy, s);
            vec2 mean = (p.clip.xy / p.clip.w * 0.5 + 0.5) * vec2(float(RENDER_W), float(RENDER_H));
            dx = (vec2(g_an_texel[k] - tile_origin(copy)) + 0.5) / float(SS) - mean;
            k3 = p.conic_radius.xyz;
        }
        uint sb = uint(SPLAT_SCREEN_BASE) + 5u * s;
        analytic_add(part, live, pair, sb, g * (k3.x * dx.x + k3.y * dx.y));
        analytic_add(part, live, pair, sb + 1u, g * (k3.y * dx.x + k3.z * dx.y));
        analytic_add(part, live, pair, sb + 2u, -0.5 * g * dx.x * dx.x);
        analytic_add(part, live, pair, sb + 3u, -g * dx.x * dx.y);
        analytic_add(part, live, pair, sb + 4u, -0.5 * g * dx.y * dx.y);
#endif
#endif
    }
}
#endif
