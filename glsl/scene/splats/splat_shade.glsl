// G-side code of 3D Gaussian splats (#include <scene>): the colour of a
// composited splat is the one splat_project.comp computed for the sample's copy
// (the copy is the tile the texel lies in); its one contributor is the splat. The
// opacity was recorded by R for the copy.
// SPLAT_DC_ANALYTIC (scene.color_gradient: analytic): the dc colours are not
// perturbed; G's plus copy records each composited fragment's splat, weight
// T a (deep_composite.glsl) and which channels are unclamped, and
// scene_analytic adds d loss / d dc = dl * SH_C0 * weight / NSUB per channel into
// the splat's three slots (contrib_base + 3 s + c) for each.
#include "splat_projected.glsl"

#ifdef SPLAT_DC_ANALYTIC
float deep_fragment_weight();   // deep_composite.glsl
#define SPLAT_AN_MAX (DEEP_MAX * NSUB)
uint g_an_id[SPLAT_AN_MAX];
vec4 g_an_w[SPLAT_AN_MAX];   // weight x (channel unclamped), and the weight
int g_an_count = 0;
#endif

vec3 scene_sample(uint id, ivec2 texel, uint cam, uint key, float sigma) {
    add_contributor(id - 1u);
    vec3 color = splat_copy(copy_of_texel(texel), id - 1u).color_opacity.rgb;
#ifdef SPLAT_DC_ANALYTIC
    if (sigma > 0.0 && g_an_count < SPLAT_AN_MAX) {     // only G's plus copy (the clean pass has sigma 0)
        float w = deep_fragment_weight();
        g_an_id[g_an_count] = id - 1u;
        g_an_w[g_an_count] = vec4(w * vec3(greaterThan(color, vec3(0.0))), w);
        ++g_an_count;
    }
#endif
    return color;
}

#if defined(SPLAT_DC_ANALYTIC) && defined(G_PASS)
void scene_analytic(uint pair, vec3 dl) {
    uint base = groups[GROUP_SH_DC].contrib_base;
    for (int k = 0; k < g_an_count; ++k) {
        vec3 d = dl * g_an_w[k].xyz * (0.28209479177387814 / float(NSUB));
        uint c = base + 3u * g_an_id[k];
        if (d.r != 0.0) accumulate(pair, c, d.r);
        if (d.g != 0.0) accumulate(pair, c + 1u, d.g);
        if (d.b != 0.0) accumulate(pair, c + 2u, d.b);
    }
}
#endif
