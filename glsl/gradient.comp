#version 430
// G: one invocation per output pixel and antithetic pair (z). Compares the
// plus and minus copies with the target and adds f+ - f- into the
// accumulator of every contributor of the pixel (ids of both copies, each
// counted once). FULL_IMAGE: the whole image's f+ - f- goes to slot 0.
layout(local_size_x = WG_2D_X, local_size_y = WG_2D_Y) in;

#include "buffers.glsl"
#include "rng.glsl"
#include "perturb.glsl"
#include "tiles.glsl"
#include "loss.glsl"
#include "accumulate.glsl"
#include <scene>
#include "resolve.glsl"
#include "reduce.glsl"
#ifdef AGGREGATE
#include "aggregate.glsl"
#endif

layout(binding = TEX_TARGET) uniform sampler2D u_target;
uniform ivec2 u_size;
uniform uint u_seed;
uniform uint u_iteration;

void main() {
    ivec2 px = ivec2(gl_GlobalInvocationID.xy);
    uint pair = gl_GlobalInvocationID.z;
    bool inside = px.x < u_size.x && px.y < u_size.y;
    float diff = 0.0;
    uint idp[NSUB];
    uint idm[NSUB];
    if (inside) {
        uint key = pair_key(u_seed, u_iteration, pair);
        vec3 cp = resolve_pixel(int(2u * pair), px, key, 1.0, idp);
        vec3 cm = resolve_pixel(int(2u * pair + 1u), px, key, -1.0, idm);
        vec3 t = texelFetch(u_target, px, 0).rgb;
        diff = pixel_loss(cp, t) - pixel_loss(cm, t);
    }
#ifdef FULL_IMAGE
    float total = wg_reduce(vec2(diff, 0.0)).x;
    if (gl_LocalInvocationIndex == 0u && total != 0.0) accumulate(pair, 0u, total);
#elif defined(AGGREGATE)
    agg_begin();
    if (inside && diff != 0.0) {
        for (int k = 0; k < 2 * NSUB; ++k) {
            uint id = k < NSUB ? idp[k] : idm[k - NSUB];
            if (id == 0u) continue;
            bool seen = false;
            for (int j = 0; j < k; ++j) {
                uint other = j < NSUB ? idp[j] : idm[j - NSUB];
                if (other == id) { seen = true; break; }
            }
            if (!seen) agg_add(pair, id, diff);
        }
    }
    agg_flush(pair);
#else
    if (!inside || diff == 0.0) return;
    for (int k = 0; k < 2 * NSUB; ++k) {
        uint id = k < NSUB ? idp[k] : idm[k - NSUB];
        if (id == 0u) continue;
        bool seen = false;
        for (int j = 0; j < k; ++j) {
            uint other = j < NSUB ? idp[j] : idm[j - NSUB];
            if (other == id) { seen = true; break; }
        }
        if (!seen) accumulate(pair, id - 1u, diff);
    }
#endif
}
