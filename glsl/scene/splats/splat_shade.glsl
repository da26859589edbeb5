// G-side code of 3D Gaussian splats (#include <scene>): the colour of a
// composited splat is the one splat_project.comp computed for the sample's copy
// (the copy is the tile the texel lies in); its one contributor is the splat. The
// opacity was recorded by R for the copy.
// Exact gradients (scene.color_gradient / opacity_gradient / geometry_gradient:
// analytic): those parameters are not perturbed; scene_analytic walks each
// sample of the pixel's plus copy again (deep_regather) and adds, per composited
// fragment with T in front, alpha a and colour c (docs/splats.md, "Gradients"):
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
#endif

vec3 scene_sample(uint id, ivec2 texel, uint cam, uint key, float sigma) {
    add_contributor(id - 1u);
    return splat_copy(copy_of_texel(texel), id - 1u).color_opacity.rgb;
}

#if defined(SPLAT_ANALYTIC) && defined(G_PASS)
int deep_regather(int copy, int k);    // deep_resolve.glsl
uint deep_regathered_id(int i);
float deep_regathered_alpha(int i);
ivec2 deep_regathered_texel();
vec3 deep_plus_sample_color(int k);

// Each sample of the pair's plus copy walked again (its colour, background included, is the
// one resolve_pixel composited), each fragment's derivatives added. (Partitioning
// a subgroup's lanes by splat before the atomics measured no gain on an H200: neighbouring
// pixels' k-th fragments are seldom the same splat; docs/design.md.)
void scene_analytic(uint pair, vec3 dl) {
    const float SH_C0_OVER_NSUB = 0.28209479177387814 / float(NSUB);
    int copy = int(2u * pair);
    for (int sub = 0; sub < NSUB; ++sub) {
        int n = deep_regather(copy, sub);
#ifdef SPLAT_ALPHA_GRADIENT
        vec3 total = deep_plus_sample_color(sub);
        vec3 front = vec3(0.0);
#ifdef SPLAT_GEOMETRY_ANALYTIC
        vec2 sample_px = (vec2(deep_regathered_texel() - tile_origin(copy)) + 0.5) / float(SS);
#endif
#endif
        float t_k = 1.0;      // T in front of fragment k
        for (int k = 0; k < n; ++k) {
            uint s = deep_regathered_id(k) - 1u;
            float a = deep_regathered_alpha(k);
            SplatCopy p = splat_copy(copy, s);
            vec3 c = p.color_opacity.rgb;
#ifdef SPLAT_DC_ANALYTIC
            vec3 d = dl * vec3(greaterThan(c, vec3(0.0))) * (t_k * a * SH_C0_OVER_NSUB);
            accumulate_exact_rgb(pair, groups[GROUP_SH_DC].contrib_base + 3u * s, d);
#endif
#ifdef SPLAT_ALPHA_GRADIENT
            front += (t_k * a) * c;
            // d loss / d alpha (0 where alpha is clamped at 0.99)
            float g_alpha = a < 0.99 ? dot(dl, t_k * c - (total - front) / (1.0 - a)) / float(NSUB) : 0.0;
#ifdef SPLAT_OPACITY_ANALYTIC
            float g_logit = g_alpha * a * (1.0 - p.color_opacity.w);
            if (g_logit != 0.0) accumulate_exact(pair, groups[GROUP_OPACITY].contrib_base + s, g_logit);
#endif
#ifdef SPLAT_GEOMETRY_ANALYTIC
            // d loss / d power = g -> the screen slots: mean (x, y), conic (A, B, C)
            float g = g_alpha * a;
            if (g != 0.0) {
                vec2 mean = (p.clip.xy / p.clip.w * 0.5 + 0.5) * vec2(float(RENDER_W), float(RENDER_H));
                vec2 dx = sample_px - mean;
                vec3 k3 = p.conic_radius.xyz;
                uint sb = uint(SPLAT_SCREEN_BASE) + 5u * s;
                accumulate_exact(pair, sb, g * (k3.x * dx.x + k3.y * dx.y));
                accumulate_exact(pair, sb + 1u, g * (k3.y * dx.x + k3.z * dx.y));
                accumulate_exact(pair, sb + 2u, -0.5 * g * dx.x * dx.x);
                accumulate_exact(pair, sb + 3u, -g * dx.x * dx.y);
                accumulate_exact(pair, sb + 4u, -0.5 * g * dx.y * dx.y);
            }
#endif
#endif
            t_k *= 1.0 - a;
        }
    }
}
#endif
