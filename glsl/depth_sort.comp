#version 430
// Front-to-back draw order by a stable counting sort of primitive depths into
// SORT_BUCKETS buckets: primitives of one bucket keep their index order, so
// the order (and what R draws at exact depth ties) is the same on every run.
// No global atomics; four passes chosen by SORT_PASS:
//   0: per chunk of SORT_CHUNK primitives, the count of each bucket
//      (chunk_counts[chunk * SORT_BUCKETS + bucket], shared-memory histogram);
//   1: per bucket, the exclusive prefix of its counts over the chunks (in
//      place) and its total (buckets[bucket]);
//   2: exclusive prefix sum of the totals (one work group): bucket starts;
//   3: per chunk, each primitive's place: its bucket's start + the counts of
//      earlier chunks + the primitives of its bucket before it in the chunk.
// The scene supplies scene_depth(prim): clip-space depth in [-1, 1] of the
// unperturbed primitive (#include <scene_depth>).
#if SORT_PASS == 2
layout(local_size_x = WG_SCAN) in;
#else
layout(local_size_x = WG_1D) in;
#endif

#include "buffers.glsl"
#include "groups.glsl"
#include "views.glsl"

layout(std430, binding = SSBO_ORDER) buffer Order { uint order[]; };
layout(std430, binding = SSBO_BUCKETS) buffer Buckets { uint buckets[]; };
layout(std430, binding = SSBO_SORT_CHUNKS) buffer ChunkCounts { uint chunk_counts[]; };

uniform uint u_primitives;
uniform uint u_chunks;

#include <scene_depth>

uint bucket_of(uint prim) {
    float z = scene_depth(prim);
    if (!(z >= -1.0)) z = 1.0;  // NaN or behind the camera: draw last
    return uint(clamp((z * 0.5 + 0.5) * float(SORT_BUCKETS), 0.0, float(SORT_BUCKETS - 1)));
}

#define PER_CHUNK_THREAD (SORT_CHUNK / WG_1D)
uint chunk_index() { return gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x; }

#if SORT_PASS == 0
shared uint s_hist[SORT_BUCKETS];
#elif SORT_PASS == 2
#define PER_THREAD (SORT_BUCKETS / WG_SCAN)
shared uint s_scan[WG_SCAN];
#elif SORT_PASS == 3
shared uint s_bucket[SORT_CHUNK];
#endif

void main() {
    uint li = gl_LocalInvocationID.x;
#if SORT_PASS == 0
    uint chunk = chunk_index();
    if (chunk >= u_chunks) return;
    for (uint b = li; b < uint(SORT_BUCKETS); b += uint(WG_1D)) s_hist[b] = 0u;
    barrier();
    for (uint k = 0u; k < uint(PER_CHUNK_THREAD); ++k) {
        uint prim = chunk * uint(SORT_CHUNK) + k * uint(WG_1D) + li;
        if (prim < u_primitives) atomicAdd(s_hist[bucket_of(prim)], 1u);
    }
    barrier();
    for (uint b = li; b < uint(SORT_BUCKETS); b += uint(WG_1D)) chunk_counts[chunk * uint(SORT_BUCKETS) + b] = s_hist[b];
#elif SORT_PASS == 1
    uint b = gl_GlobalInvocationID.x;
    if (b >= uint(SORT_BUCKETS)) return;
    uint running = 0u;
    for (uint c = 0u; c < u_chunks; ++c) {
        uint i = c * uint(SORT_BUCKETS) + b;
        uint n = chunk_counts[i];
        chunk_counts[i] = running;
        running += n;
    }
    buckets[b] = running;
#elif SORT_PASS == 2
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
    uint chunk = chunk_index();
    if (chunk >= u_chunks) return;
    for (uint k = 0u; k < uint(PER_CHUNK_THREAD); ++k) {
        uint j = k * uint(WG_1D) + li;
        uint prim = chunk * uint(SORT_CHUNK) + j;
        s_bucket[j] = prim < u_primitives ? bucket_of(prim) : 0xFFFFFFFFu;
    }
    barrier();
    for (uint k = 0u; k < uint(PER_CHUNK_THREAD); ++k) {
        uint j = k * uint(WG_1D) + li;
        uint b = s_bucket[j];
        if (b == 0xFFFFFFFFu) continue;
        uint rank = 0u;
        for (uint q = 0u; q < j; ++q) rank += s_bucket[q] == b ? 1u : 0u;
        order[buckets[b] + chunk_counts[chunk * uint(SORT_BUCKETS) + b] + rank] = chunk * uint(SORT_CHUNK) + j;
    }
#endif
}
