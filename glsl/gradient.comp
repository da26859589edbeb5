#version 430
// G: one invocation per output pixel and antithetic pair (z). Compares the
// plus and minus copies with the target of the pair's camera and adds
// f+ - f- into the accumulator of every contributor of the pixel (those of
// both copies, each counted once). FULL_IMAGE: the whole image's f+ - f-
// goes to slot 0 of the pair. SCENE_SPREAD: the scene kind's hook
// scene_spread() spreads the difference itself (scene/base.py).
// G_PLUS_ONLY: no optimised group is perturbed, so only the plus copy is
// resolved (f+ - f- = 0); a kind's R may leave the minus copies empty.
// SCENE_ANALYTIC: the kind's scene_analytic(pair, dloss/dcolour) also adds
// exact derivatives of the pixel's loss for its analytic groups (MAP_ANALYTIC),
// from what its scene_sample recorded for this pixel.
layout(local_size_x = WG_2D_X, local_size_y = WG_2D_Y) in;
#define G_PASS      // the scene's G-only code (scene_analytic) is compiled here, not in the clean pass

#include "buffers.glsl"
#include "rng.glsl"
#include "perturb.glsl"
#include "tiles.glsl"
#include "views.glsl"
#include "loss.glsl"
#include "accumulate.glsl"
#include "contributors.glsl"
#include <scene>
#include <visibility>
#include "reduce.glsl"
#ifdef SCENE_SPREAD
#include <scene_spread>
#endif
#ifdef AGGREGATE
#include "aggregate.glsl"
#endif
#ifdef SUBGROUP_AGGREGATE
#include "subgroup_aggregate.glsl"
#endif

layout(binding = TEX_TARGET) uniform sampler2DArray u_targets;
uniform ivec2 u_size;
uniform uint u_seed;
uniform uint u_iteration;

void main() {
    ivec2 px = ivec2(gl_GlobalInvocationID.xy);
    uint pair = gl_GlobalInvocationID.z;
    bool inside = px.x < u_size.x && px.y < u_size.y && visibility_complete(px);
    int cp = int(2u * pair);
    int cm = cp + 1;
    float diff = 0.0;
    g_ncontrib = 0;
#if defined(FULL_IMAGE) || defined(SCENE_SPREAD)
    g_collect = false;
#else
    g_collect = true;
#endif
    uint cam = 0u;
    uint key = 0u;
    if (inside) {
        cam = camera_of_pair(pair);
        key = pair_key(u_seed, u_iteration, pair);
        vec3 t = texelFetch(u_targets, ivec3(px, int(cam)), 0).rgb;
        vec3 col_p = resolve_pixel(cp, px, cam, key, 1.0);
#ifdef G_PLUS_ONLY
        vec3 col_m = col_p;     // nothing is perturbed (every optimised group exact): the copies agree
#else
        vec3 col_m = resolve_pixel(cm, px, cam, key, -1.0);
#endif
        diff = pixel_loss(col_p, t) - pixel_loss(col_m, t);
#ifdef SCENE_ANALYTIC
        vec3 dl = pixel_loss_gradient(0.5 * (col_p + col_m), t);
        if (!any(isnan(dl)) && !any(isinf(dl))) scene_analytic(pair, dl);
#endif
        if (isnan(diff) || isinf(diff)) {  // e.g. a non-finite parameter: skip the pixel, raise the flag
            atomicOr(stats[STAT_NONFINITE_LOSS], 1u);
            atomicCompSwap(stats[STAT_FIRST_BAD], 0u, u_iteration + 1u);
            diff = 0.0;
        }
        if (diff == 0.0) g_ncontrib = 0;
    }
#ifdef FULL_IMAGE
    float total = wg_reduce(vec2(diff, 0.0)).x;
    if (gl_LocalInvocationIndex == 0u && total != 0.0) accumulate(pair, 0u, total);
#elif defined(SCENE_SPREAD)
    if (diff != 0.0) scene_spread(pair, px, cam, key, diff);
#elif defined(SUBGROUP_AGGREGATE)
    sg_add_list(pair, diff);
#else
#ifdef AGGREGATE
    agg_begin();
    for (int j = 0; j < g_ncontrib; ++j) agg_add(pair, g_contrib[j], diff);
    agg_flush(pair);
#else
    for (int j = 0; j < g_ncontrib; ++j) accumulate(pair, g_contrib[j], diff);
#endif
#endif
}
