#version 430
// Coarse to fine (scene.material.<map>.level_every): when a pyramid level's window ends, its
// content is folded into the next finer level: pass 0 adds, at each finer texel's centre, the
// coarse level's bilinear sample (as the renderer samples it) and clamps the sum to the map's
// bounds; pass 1 zeroes the coarse level. The finer level then holds the whole map so far.
layout(local_size_x = WG_1D) in;

#include "buffers.glsl"
#include "groups.glsl"
#include "rng.glsl"
#include "perturb.glsl"
#include "maps.glsl"

uniform uint u_fine;         // parameter group of the finer level
uniform uint u_coarse;       // ... and of the coarse level
uniform ivec2 u_fine_size;
uniform ivec2 u_coarse_size;
uniform uint u_stride;
uniform vec2 u_bounds;
uniform int u_pass;

void main() {
    uint t = global_index_1d();
    if (u_pass == 0) {
        if (t >= uint(u_fine_size.x * u_fine_size.y)) return;
        ivec2 xy = ivec2(int(t % uint(u_fine_size.x)), int(t / uint(u_fine_size.x)));
        vec2 uv = vec2((float(xy.x) + 0.5) / float(u_fine_size.x), 1.0 - (float(xy.y) + 0.5) / float(u_fine_size.y));
        Footprint fp = map_footprint(uv, u_coarse_size);
        for (uint c = 0u; c < u_stride; ++c) {
            float v = fp.weight.x * map_param(u_coarse, fp.texel.x, c, false, 0u, 0.0)
                    + fp.weight.y * map_param(u_coarse, fp.texel.y, c, false, 0u, 0.0)
                    + fp.weight.z * map_param(u_coarse, fp.texel.z, c, false, 0u, 0.0)
                    + fp.weight.w * map_param(u_coarse, fp.texel.w, c, false, 0u, 0.0);
            uint i = groups[u_fine].offset + t * u_stride + c;
            params[i] = clamp(params[i] + v, u_bounds.x, u_bounds.y);
        }
    } else {
        if (t >= groups[u_coarse].count) return;
        params[groups[u_coarse].offset + t] = 0.0;
    }
}
