#version 430
// Exact position gradients of the soft soup (scene.gradient: analytic; docs/soft.md, "Exact
// gradients"): between G and the per-parameter pass (SceneKind.after_gradient). G added, per
// pair and triangle, the derivative of the pair's pixel losses w.r.t. the triangle's three
// corners in samples of the pair's tile, six slots from SOFT_SCREEN_BASE + 6 tri
// (soft_analytic.glsl). One thread per pair and triangle chains them through the camera,
// v = (clip.xy / clip.w / 2 + 1/2) x tile, dv/dp = tile / 2 (r w - clip r3) / w^2 for the
// corner's (x, y), into the positions' analytic slots of the pair. Chaining here, once per
// triangle, keeps G's per-pixel additions in pixel units (chained per pixel, they overflowed
// the CPU renderer's fixed-point accumulators at 128²).
layout(local_size_x = WG_1D) in;
#include "buffers.glsl"
#include "groups.glsl"
#include "rng.glsl"
#include "perturb.glsl"
#include "views.glsl"
#include "accumulate.glsl"
#include "soft_corners.glsl"

uniform uint u_pairs;
uniform uint u_seed;
uniform uint u_iteration;
uniform ivec2 u_tile_size;

void main() {
    uint i = global_index_1d();
    if (i >= u_pairs * uint(SOFT_TRIANGLES)) return;
    uint pair = i / uint(SOFT_TRIANGLES);
    uint tri = i - pair * uint(SOFT_TRIANGLES);
    uint sb = uint(SOFT_SCREEN_BASE) + 6u * tri;
    vec2 g[3];
    bool any_gradient = false;
    for (int k = 0; k < 3; ++k) {
        g[k] = vec2(exact_value(pair, sb + 2u * uint(k)), exact_value(pair, sb + 2u * uint(k) + 1u));
        any_gradient = any_gradient || g[k] != vec2(0.0);
    }
    if (!any_gradient) return;
    uint cam = camera_of_pair(pair);
    uint key = pair_key(u_seed, u_iteration, pair);
    mat4 vp = cameras[cam].view_proj;
    vec2 r0 = vec2(vp[0][0], vp[1][0]), r1 = vec2(vp[0][1], vp[1][1]), r3 = vec2(vp[0][3], vp[1][3]);
    vec2 tile = vec2(u_tile_size);
    uint base = groups[GROUP_POSITIONS].contrib_base + 6u * tri;
    for (int k = 0; k < 3; ++k) {
        vec4 c = soft_corner_clip(tri, uint(k), cam, key, 1.0);    // the plus copy's corner
        float w = c.w;
        if (!(w > 0.0)) continue;
        vec2 gp = (0.5 * tile.x * g[k].x / (w * w)) * (r0 * w - c.x * r3)
                + (0.5 * tile.y * g[k].y / (w * w)) * (r1 * w - c.y * r3);
        accumulate_exact(pair, base + 2u * uint(k), gp.x);
        accumulate_exact(pair, base + 2u * uint(k) + 1u, gp.y);
    }
}
