// Parameter index -> group index (NUM_GROUPS is a per-program define).
uint group_of(uint i) {
    for (uint g = 0u; g + 1u < uint(NUM_GROUPS); ++g) {
        if (i < groups[g].offset + groups[g].count) return g;
    }
    return uint(NUM_GROUPS) - 1u;
}

// Parameter index of a 1D dispatch that may be split over y past 65535 groups.
uint global_index_1d() {
    return gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * uint(WG_1D);
}
