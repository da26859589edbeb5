// The G hook of the test kind "quads" (spread: hook): the pixel's f+ - f- goes
// to every quad seen by a sample of the plus or the minus copy, each once,
// read straight from the id buffer (resolve.glsl's u_ids, subsample_texel).
void scene_spread(uint pair, ivec2 px, uint cam, uint key, float diff) {
    uint seen[2 * NSUB];
    int n = 0;
    for (int side = 0; side < 2; ++side) {
        for (int k = 0; k < NSUB; ++k) {
            uint id = texelFetch(u_ids, subsample_texel(int(2u * pair) + side, px, k), 0).r;
            bool dup = id == 0u;
            for (int j = 0; j < n && !dup; ++j) dup = seen[j] == id;
            if (!dup) {
                seen[n++] = id;
                accumulate(pair, id - 1u, diff);
            }
        }
    }
}
