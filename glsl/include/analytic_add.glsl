// Adding a kind's exact derivatives (scene_analytic in G) into its analytic
// slots. With SUBGROUP_AGGREGATE the lanes of a subgroup that add for the
// same owner (e.g. the same splat) are partitioned together once
// (analytic_partition) and each add (analytic_add) is one atomic per
// partition, by its lowest lane: neighbouring pixels share owners, and one
// atomic per pixel and owner serialised on those addresses (docs/design.md,
// "Exact splat gradients on the H200"). Otherwise each lane adds its own.
// Lanes with nothing to add call with live = false; loops around these calls
// run analytic_rounds(n) times in every lane of the subgroup.
// Needs accumulate.glsl.

#ifdef SUBGROUP_AGGREGATE
int analytic_rounds(int n) { return subgroupMax(n); }

uvec4 analytic_partition(bool live, uint owner) { return subgroupPartitionNV(live ? owner : 0xFFFFFFFFu); }

void analytic_add(uvec4 part, bool live, uint pair, uint slot, float v) {
    float sum = subgroupPartitionedAddNV(live ? v : 0.0, part);
    if (live && sum != 0.0 && subgroupBallotFindLSB(part) == gl_SubgroupInvocationID) accumulate(pair, slot, sum);
}
#else
int analytic_rounds(int n) { return n; }

uvec4 analytic_partition(bool live, uint owner) { return uvec4(0u); }

void analytic_add(uvec4 part, bool live, uint pair, uint slot, float v) {
    if (live && v != 0.0) accumulate(pair, slot, v);
}
#endif
