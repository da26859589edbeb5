#version 430
// Before each R draw (SceneKind.before_render): every splat of every copy,
// projected once (splat_common.glsl: EWA, low-pass, square half side) with the
// copy's perturbed parameters, and its colour and opacity, into PROJECTED
// (splat_projected.glsl). R's four corners of a splat and G's fragments of it
// read the record instead of each recomputing it. A splat whose opacity is
// below DEEP_ALPHA_MIN can record no fragment (alpha <= opacity): culled too.
layout(local_size_x = WG_1D) in;
#include "buffers.glsl"
#include "groups.glsl"
#include "rng.glsl"
#include "perturb.glsl"
#include "views.glsl"
#include "copies.glsl"
#include "splat_common.glsl"
#include "splat_color.glsl"
#include "splat_projected.glsl"

uniform uint u_copies;

void main() {
    uint i = global_index_1d();
    if (i >= u_copies * uint(SPLAT_COUNT)) return;
    int copy = int(i / uint(SPLAT_COUNT));
    uint s = i - uint(copy) * uint(SPLAT_COUNT);
#ifdef G_PLUS_ONLY
    if (u_clean == 0 && (copy & 1) == 1) {    // nothing is perturbed: G reads no minus copy, R draws none
        splat_copies[i] = SplatCopy(vec4(0.0), vec4(0.0), vec4(0.0));
        return;
    }
#endif
    CopyInfo ci = copy_info(copy);
    SplatScreen sp = splat_project(s, ci.cam, ci.key, ci.sigma);
    SplatCopy r;
    r.clip = sp.clip;
    r.conic_radius = vec4(sp.conic, sp.radius);
    r.color_opacity = vec4(0.0);
    if (sp.valid) {
#ifdef SPLAT_OPACITY_ANALYTIC
        float o = splat_opacity(s, ci.key, 0.0);     // exact gradients (splat_shade.glsl): not perturbed
#else
        float o = splat_opacity(s, ci.key, ci.sigma);
#endif
        if (o >= DEEP_ALPHA_MIN) r.color_opacity = vec4(splat_color(s, ci.cam, ci.key, ci.sigma), o);
    }
    splat_copies[i] = r;
}
