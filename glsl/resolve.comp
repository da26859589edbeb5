#version 430
// Clean render -> colour image and loss partial sums (one vec2 per work
// group: squared error, absolute error), read back at log intervals.
layout(local_size_x = WG_2D_X, local_size_y = WG_2D_Y) in;

#include "buffers.glsl"
#include "rng.glsl"
#include "perturb.glsl"
#include "tiles.glsl"
#include <scene>
#include "resolve.glsl"
#include "reduce.glsl"

layout(binding = TEX_TARGET) uniform sampler2D u_target;
layout(rgba32f, binding = IMG_COLOR) writeonly uniform image2D u_color;
layout(std430, binding = SSBO_PARTIALS) buffer Partials { vec2 partials[]; };
uniform ivec2 u_size;

void main() {
    ivec2 px = ivec2(gl_GlobalInvocationID.xy);
    bool inside = px.x < u_size.x && px.y < u_size.y;
    vec2 err = vec2(0.0);
    if (inside) {
        uint ids[NSUB];
        vec3 c = resolve_pixel(0, px, 0u, 0.0, ids);
        imageStore(u_color, px, vec4(c, 1.0));
        vec3 d = c - texelFetch(u_target, px, 0).rgb;
        err = vec2(dot(d, d), abs(d.r) + abs(d.g) + abs(d.b));
    }
    vec2 total = wg_reduce(err);
    if (gl_LocalInvocationIndex == 0u) {
        partials[gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x] = total;
    }
}
