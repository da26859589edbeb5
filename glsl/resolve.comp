#version 430
// Clean pass: colour of view slot z (= copy) into layer z of the colour image
// array (the first u_color_layers slots), and per-work-group loss partial sums (squared
// error, absolute error) against the slot camera's target.
layout(local_size_x = WG_2D_X, local_size_y = WG_2D_Y) in;

#include "buffers.glsl"
#include "rng.glsl"
#include "perturb.glsl"
#include "tiles.glsl"
#include "views.glsl"
#include "contributors.glsl"
#include <scene>
#include <visibility>
#include "reduce.glsl"

layout(binding = TEX_TARGET) uniform sampler2DArray u_targets;
layout(rgba32f, binding = IMG_COLOR) writeonly uniform image2DArray u_color;
layout(std430, binding = SSBO_PARTIALS) buffer Partials { vec2 partials[]; };
uniform ivec2 u_size;
uniform int u_color_layers;   // layers of u_color (evaluation.color_layers): slots past them are scored only

void main() {
    ivec2 px = ivec2(gl_GlobalInvocationID.xy);
    int copy = int(gl_GlobalInvocationID.z);
    bool inside = px.x < u_size.x && px.y < u_size.y;
    vec2 err = vec2(0.0);
    if (inside) {
        uint cam = view_cams[copy];
        g_collect = false;
        g_ncontrib = 0;
        vec3 c = resolve_pixel(copy, px, cam, 0u, 0.0);
        if (copy < u_color_layers) imageStore(u_color, ivec3(px, copy), vec4(c, 1.0));
        vec3 d = c - texelFetch(u_targets, ivec3(px, int(cam)), 0).rgb;
        err = vec2(dot(d, d), abs(d.r) + abs(d.g) + abs(d.b));
    }
    vec2 total = wg_reduce(err);
    if (gl_LocalInvocationIndex == 0u) {
        uint groups_per_copy = gl_NumWorkGroups.x * gl_NumWorkGroups.y;
        partials[uint(copy) * groups_per_copy + gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x] = total;
    }
}
