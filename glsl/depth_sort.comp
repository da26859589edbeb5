#version 430
// Front-to-back draw order by a counting sort of primitive depths into
// SORT_BUCKETS buckets, in three passes chosen by SORT_PASS:
//   0: histogram of bucket sizes, 1: exclusive prefix sum (one work group),
//   2: scatter primitive indices into the order buffer.
// The scene supplies scene_depth(prim): clip-space depth in [-1, 1] of the
// unperturbed primitive (#include <scene_depth>).
#if SORT_PASS == 1
layout(local_size_x = WG_SCAN) in;
#else
layout(local_size_x = WG_1D) in;
#endif

#include "buffers.glsl"
#include "groups.glsl"
#include "views.glsl"

layout(std430, binding = SSBO_ORDER) buffer Order { uint order[]; };
layout(std430, binding = SSBO_BUCKETS) buffer Buckets { uint buckets[]; };

uniform uint u_primitives;

#include <scene_depth>

uint bucket_of(uint prim) {
    float z = scene_depth(prim);
    if (!(z >= -1.0)) z = 1.0;  // NaN or behind the camera: draw last
    return uint(clamp((z * 0.5 + 0.5) * float(SORT_BUCKETS), 0.0, float(SORT_BUCKETS - 1)));
}

#if SORT_PASS == 1
#define PER_THREAD (SORT_BUCKETS / WG_SCAN)
shared uint s_scan[WG_SCAN];
#endif

void main() {
#if SORT_PASS == 0
    uint prim = global_index_1d();
    if (prim < u_primitives) atomicAdd(buckets[bucket_of(prim)], 1u);
#elif SORT_PASS == 1
    uint li = gl_LocalInvocationID.x;
    uint local[PER_THREAD];
    uint sum = 0u;
    for (uint k = 0u; k < uint(PER_THREAD); ++k) {
        local[k] = buckets[li * uint(PER_THREAD) + k];
        sum += local[k];
    }
    s_scan[li] = sum;
    barrier();
    for (uint offset = 1u; offset < uint(WG_SCAN); offset <<= 1u) {  // Hillis-Steele inclusive scan
        uint add = li >= offset ? s_scan[li - offset] : 0u;
        barrier();
        s_scan[li] += add;
        barrier();
    }
    uint running = s_scan[li] - sum;  // exclusive
    for (uint k = 0u; k < uint(PER_THREAD); ++k) {
        buckets[li * uint(PER_THREAD) + k] = running;
        running += local[k];
    }
#else
    uint prim = global_index_1d();
    if (prim < u_primitives) order[atomicAdd(buckets[bucket_of(prim)], 1u)] = prim;
#endif
}
