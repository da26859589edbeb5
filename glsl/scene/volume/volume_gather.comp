#version 430
// After G (scene.gradient: sge): per node and pair, the sum of the differences that G's hook
// recorded (volume_spread.glsl) for the pair's pixels whose rays can have read the node,
// added to the node's accumulator once. A ray reads node n only at a sample inside the box of
// n's cells (u in [n-1, n+1] clamped to the grid), so its pixel centre lies in the box's
// projection and the clip depth of its last sample is at least the box's nearest: every such
// pixel is summed (the dependents, once each), and so are the few that pass the box's
// corners between samples or stop inside it (no bias: their mean is 0; docs/volume.md).
// A box that reaches behind the camera's plane takes every pixel of the tile.
// One work group per brick of GATHER_X x GATHER_Y x GATHER_Z nodes (defines: kind.py's
// GATHER_BRICK) and pair: the records of
// the brick's projected box are loaded into shared memory once (up to GATHER_CACHE pixels and
// GATHER_ROWS rows; a larger box, e.g. a brick near the camera, reads them from the buffer),
// with each row's running sums of the differences and its least depth: a node's row whose
// pixels all reach the node's depth costs two reads, not one per pixel.
#ifndef GATHER_CACHE
#define GATHER_CACHE 2048
#endif
#define GATHER_ROWS 256
layout(local_size_x = GATHER_X, local_size_y = GATHER_Y, local_size_z = GATHER_Z) in;

#include "buffers.glsl"
#include "groups.glsl"
#include "tiles.glsl"
#include "views.glsl"
#include "accumulate.glsl"

layout(std430, binding = SSBO_SCENE_RAYS) readonly buffer Rays { vec2 rays[]; };   // (diff, clip z)

const ivec3 GRID_N = ivec3(GRID_NX, GRID_NY, GRID_NZ);
shared vec2 s_rays[GATHER_CACHE];
shared float s_sums[GATHER_CACHE + GATHER_ROWS];   // row y: the sums before pixel x at y (w + 1) + x
shared float s_row_z[GATHER_ROWS];                 // row y: the least depth of its pixels with a difference

// The pixels [r.xy, r.zw] (tile clamped) whose centres lie in the projection of the box
// [blo, bhi] (world) in view vp, and the box's nearest clip z; the whole tile when the box
// reaches behind the camera's plane, none when it lies wholly behind.
ivec4 pixel_rect(mat4 vp, vec3 blo, vec3 bhi, out float near_z) {
    vec2 pmin = vec2(1e30), pmax = vec2(-1e30);
    int behind = 0;
    near_z = 1e30;
    for (int k = 0; k < 8; ++k) {
        vec4 c = vp * vec4(mix(blo, bhi, vec3(k & 1, (k >> 1) & 1, k >> 2)), 1.0);
        near_z = min(near_z, c.z);
        if (c.w <= 1e-6) { ++behind; continue; }
        vec2 px = (c.xy / c.w + 1.0) * 0.5 * vec2(u_tile_size) - 0.5;
        pmin = min(pmin, px);
        pmax = max(pmax, px);
    }
    if (behind == 8) return ivec4(0, 0, -1, -1);
    if (behind > 0) {
        near_z = -1e30;
        return ivec4(0, 0, u_tile_size - 1);
    }
    return ivec4(max(ivec2(ceil(pmin - 1e-3)), ivec2(0)), min(ivec2(floor(pmax + 1e-3)), u_tile_size - 1));
}

void main() {
    uint bricks_z = uint((GRID_NZ + GATHER_Z - 1) / GATHER_Z);
    uint pair = gl_WorkGroupID.z / bricks_z;
    ivec3 brick = ivec3(gl_WorkGroupID.xy, gl_WorkGroupID.z - pair * bricks_z) * ivec3(GATHER_X, GATHER_Y, GATHER_Z);
    ivec3 node = brick + ivec3(gl_LocalInvocationID);
    mat4 vp = cameras[camera_of_pair(pair)].view_proj;
    vec3 to_world = (GRID_HI - GRID_LO) / vec3(GRID_N - 1);
    uint base = pair * uint(u_tile_size.x * u_tile_size.y);
    // the brick's records into shared memory
    ivec3 bl = max(brick - 1, ivec3(0)), bh = min(brick + ivec3(GATHER_X, GATHER_Y, GATHER_Z), GRID_N - 1);
    float brick_z;
    ivec4 br = pixel_rect(vp, GRID_LO + vec3(bl) * to_world, GRID_LO + vec3(bh) * to_world, brick_z);
    ivec2 bsize = max(br.zw - br.xy + 1, ivec2(0));
    bool cached = bsize.x * bsize.y <= GATHER_CACHE && bsize.y <= GATHER_ROWS;
    const int threads = GATHER_X * GATHER_Y * GATHER_Z;
    if (cached) {
        for (int k = int(gl_LocalInvocationIndex); k < bsize.x * bsize.y; k += threads) {
            int y = k / bsize.x;
            s_rays[k] = rays[base + uint((br.y + y) * u_tile_size.x + br.x + k - y * bsize.x)];
        }
    }
    barrier();
    if (cached) {
        for (int y = int(gl_LocalInvocationIndex); y < bsize.y; y += threads) {
            float run = 0.0, z = 1e30;
            int row = y * (bsize.x + 1);
            for (int x = 0; x < bsize.x; ++x) {
                s_sums[row + x] = run;
                vec2 r = s_rays[y * bsize.x + x];
                run += r.x;
                if (r.x != 0.0) z = min(z, r.y);      // a pixel without a difference adds 0 either way
            }
            s_sums[row + bsize.x] = run;
            s_row_z[y] = z;
        }
    }
    barrier();
    if (any(greaterThanEqual(node, GRID_N))) return;
    float near_z;
    ivec4 rect = pixel_rect(vp, GRID_LO + vec3(max(node - 1, ivec3(0))) * to_world,
                            GRID_LO + vec3(min(node + 1, GRID_N - 1)) * to_world, near_z);
    float sum = 0.0;
    for (int y = rect.y; y <= rect.w; ++y) {
        if (cached && s_row_z[y - br.y] >= near_z) {      // every pixel of the row reaches the node
            int row = (y - br.y) * (bsize.x + 1) - br.x;
            sum += s_sums[row + rect.z + 1] - s_sums[row + rect.x];
            continue;
        }
        for (int x = rect.x; x <= rect.z; ++x) {
            vec2 r = cached ? s_rays[(y - br.y) * bsize.x + x - br.x] : rays[base + uint(y * u_tile_size.x + x)];
            if (r.y >= near_z) sum += r.x;
        }
    }
    if (sum != 0.0) accumulate(pair, uint(node.x + GRID_NX * (node.y + GRID_NY * node.z)), sum);
}
