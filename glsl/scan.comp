#version 430
// Exclusive prefix sum of u32 values, in three passes chosen by SCAN_PASS:
//   0: per work group, the local exclusive sums into scan_out and the group's total
//      into scan_blocks; 1: one work group scans the group totals (in chunks, with a
//      carry) and writes the grand total into counts[u_slot]; 2: adds each group's
//      offset. Integer sums: the result does not depend on scheduling.
#if SCAN_PASS == 1
layout(local_size_x = WG_SCAN) in;
#define WIDTH WG_SCAN
#else
layout(local_size_x = WG_1D) in;
#define WIDTH WG_1D
#endif

// Index of a 1D dispatch split over y past 65535 groups (as groups.glsl; this pass has no parameter groups).
uint global_index_1d() {
    return gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * uint(WG_1D);
}

layout(std430, binding = SSBO_SCAN_IN) readonly buffer ScanIn { uint scan_in[]; };
layout(std430, binding = SSBO_SCAN_OUT) buffer ScanOut { uint scan_out[]; };
layout(std430, binding = SSBO_SCAN_BLOCKS) buffer ScanBlocks { uint scan_blocks[]; };
layout(std430, binding = SSBO_COUNTS) buffer Counts { uint counts[]; };

uniform uint u_n;        // values
uniform uint u_blocks;   // work groups of passes 0 and 2
uniform uint u_slot;     // counts[u_slot] receives the total

shared uint s_scan[WIDTH];

// Inclusive Hillis-Steele scan of s_scan; returns this invocation's inclusive sum.
uint scan_shared(uint li, uint v) {
    s_scan[li] = v;
    barrier();
    for (uint offset = 1u; offset < uint(WIDTH); offset <<= 1u) {
        uint add = li >= offset ? s_scan[li - offset] : 0u;
        barrier();
        s_scan[li] += add;
        barrier();
    }
    return s_scan[li];
}

void main() {
    uint li = gl_LocalInvocationID.x;
#if SCAN_PASS == 0
    uint i = global_index_1d();
    uint block = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    uint v = i < u_n ? scan_in[i] : 0u;
    uint inclusive = scan_shared(li, v);
    if (i < u_n) scan_out[i] = inclusive - v;
    if (li == uint(WIDTH) - 1u) scan_blocks[block] = inclusive;
#elif SCAN_PASS == 1
    uint carry = 0u;
    for (uint base = 0u; base < u_blocks; base += uint(WIDTH)) {
        uint b = base + li;
        uint v = b < u_blocks ? scan_blocks[b] : 0u;
        uint inclusive = scan_shared(li, v);
        uint total = s_scan[WIDTH - 1];
        barrier();
        if (b < u_blocks) scan_blocks[b] = carry + inclusive - v;
        carry += total;
    }
    if (li == 0u) counts[u_slot] = carry;
#else
    uint i = global_index_1d();
    uint block = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    if (i < u_n) scan_out[i] += scan_blocks[block];
#endif
}
