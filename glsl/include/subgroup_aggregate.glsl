// Subgroup (warp) aggregation of G's additions: lanes adding to the same
// contributor are partitioned together (GL_NV_shader_subgroup_partitioned)
// and their lowest lane adds the partition's sum. Measured on an H100 for a
// textured mesh, neighbouring pixels' bilinear footprints and triangles
// collide within a warp; this turns those collisions into one atomic each.
// Every lane of the subgroup must call sg_add_list with the same `count_max`.
// Needs accumulate.glsl.

void sg_add_list(uint pair, uint list[MAX_CONTRIB], int n, float v) {
    int n_max = subgroupMax(n);
    for (int j = 0; j < n_max; ++j) {
        bool live = j < n;
        uint c = live ? list[j] : 0xFFFFFFFFu;
        uvec4 part = subgroupPartitionNV(c);
        float sum = subgroupPartitionedAddNV(live ? v : 0.0, part);
        if (live && subgroupBallotFindLSB(part) == gl_SubgroupInvocationID) accumulate(pair, c, sum);
    }
}
