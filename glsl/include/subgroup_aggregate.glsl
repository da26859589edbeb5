// Subgroup (warp) aggregation of G's additions: lanes adding to the same
// contributor are partitioned together (GL_NV_shader_subgroup_partitioned)
// and their lowest lane adds the partition's sum. Measured on an H100 for a
// textured surface, neighbouring pixels' bilinear footprints and triangles
// collide within a warp; this turns those collisions into one atomic each.
// Every lane of the subgroup must call sg_add_list.
// Needs accumulate.glsl and contributors.glsl (the pixel's list).

void sg_add_list(uint pair, float v) {
    int n = g_ncontrib;
    int n_max = subgroupMax(n);
    for (int j = 0; j < n_max; ++j) {
        bool live = j < n;
        uint c = live ? g_contrib[j] : 0xFFFFFFFFu;
        uvec4 part = subgroupPartitionNV(c);
        float sum = subgroupPartitionedAddNV(live ? v : 0.0, part);
        if (live && subgroupBallotFindLSB(part) == gl_SubgroupInvocationID) accumulate(pair, c, sum);
    }
}
