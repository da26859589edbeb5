#version 430
// Empties a deep id buffer before R: k-buffer keys to DEEP_EMPTY and ids to
// 0 (opacities are only read where an id is set); list heads to DEEP_EMPTY
// and the node counter to 0 (counter[1], the budget, stays). One invocation per slot (k-buffer: K x N) or
// per sample (lists).
layout(local_size_x = WG_1D) in;

#include "deep_ids.glsl"

uniform uint u_count;

void main() {
    uint i = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    if (i >= u_count) return;
#ifdef DEEP_KBUFFER
    deep_keys[i] = DEEP_EMPTY;
    deep_ids[i] = 0u;
#else
    deep_heads[i] = DEEP_EMPTY;
    if (i == 0u) deep_counter[0] = 0u;
#endif
}
