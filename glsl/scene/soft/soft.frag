#version 430
// R of the soft rasterizer (soft.vert grew the triangle by the band): the coverage
// soft_coverage(F(d / tau)) of this sample (tau: u_soft_tau, annealed; 0 where F < 1/255), d its signed distance to the triangle's nearest edge in
// NDC units (soft_coverage.glsl; samples * 2 / the tile's smaller side), times the
// triangle's opacity with scene.opacity, recorded in the deep id buffer when above 0.
layout(early_fragment_tests) in;
#define DEEP_FRAGMENT_STAGE
#include "deep_ids.glsl"
#include "soft_coverage.glsl"

uniform ivec2 u_tile_size;
uniform float u_soft_tau;

flat in uint v_id;
flat in vec2 v_p0;
flat in vec2 v_p1;
flat in vec2 v_p2;
#ifdef GROUP_OPACITY
flat in float v_alpha;
#endif

void main() {
    ivec2 texel = ivec2(gl_FragCoord.xy);
    ivec2 tile = texel / u_tile_size;
    vec2 p = gl_FragCoord.xy - vec2(tile * u_tile_size);      // the sample centre, in the tile
    vec2 g0, g1, g2;
    float d = soft_signed_distance(p, v_p0, v_p1, v_p2, g0, g1, g2) * 2.0 / float(min(u_tile_size.x, u_tile_size.y));
    float alpha = soft_coverage(SOFT_FAMILY, d / u_soft_tau, SOFT_P).x;
#ifdef GROUP_OPACITY
    alpha *= v_alpha;
#endif
    if (!(alpha > 0.0)) return;
    deep_emit(v_id, min(alpha, 1.0));
}
