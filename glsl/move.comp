#version 430
// Compaction of one array of a layout whose elements are removed (sge/relayout.py):
// element e (u_words u32 words at u_base + e * u_words of move_from) moves to slot
// scan_out[e] of move_to when scan_in[e] (keep) is set; the slots from the new count
// (counts[0] after the prefix sum) up to u_n are zeroed. Every slot of move_to in
// [0, u_n) is written exactly once; the caller copies move_to back into place.
layout(local_size_x = WG_1D) in;

// Index of a 1D dispatch split over y past 65535 groups (as groups.glsl; this pass has no parameter groups).
uint global_index_1d() {
    return gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * uint(WG_1D);
}

layout(std430, binding = SSBO_SCAN_IN) readonly buffer Keep { uint keep[]; };
layout(std430, binding = SSBO_SCAN_OUT) readonly buffer Slots { uint slot[]; };
layout(std430, binding = SSBO_COUNTS) readonly buffer Counts { uint counts[]; };
layout(std430, binding = SSBO_MOVE_FROM) readonly buffer MoveFrom { uint move_from[]; };
layout(std430, binding = SSBO_MOVE_TO) writeonly buffer MoveTo { uint move_to[]; };

uniform uint u_n;       // elements (the capacity)
uniform uint u_words;   // u32 words per element
uniform uint u_base;    // first word of element 0 in move_from

void main() {
    uint e = global_index_1d();
    if (e >= u_n) return;
    if (keep[e] != 0u) {
        uint dst = slot[e] * u_words;
        uint src = u_base + e * u_words;
        for (uint w = 0u; w < u_words; ++w) move_to[dst + w] = move_from[src + w];
    }
    if (e >= counts[0]) {
        for (uint w = 0u; w < u_words; ++w) move_to[e * u_words + w] = 0u;
    }
}
