// G-side code of the triangle soup (#include <scene>): flat colour per
// triangle; the one contributor of a sample is its triangle.

// Colour of the sample at `texel` showing primitive `id` (> 0) in a copy
// (camera, pair key, sign); its contributor is added to the pixel's list.
// SOUP_COLOR_SIGMA: how far the copy's colours are perturbed (0: a kind's exact colour gradient).
#ifndef SOUP_COLOR_SIGMA
#define SOUP_COLOR_SIGMA 1.0
#endif

vec3 scene_sample(uint id, ivec2 texel, uint cam, uint key, float sigma) {
    Group gc = groups[GROUP_COLORS];
    uint i = gc.offset + (id - 1u) * 3u;
    add_contributor(id - 1u);
    float s = sigma * SOUP_COLOR_SIGMA;
    return vec3(perturbed(i, gc.eps, key, s), perturbed(i + 1u, gc.eps, key, s), perturbed(i + 2u, gc.eps, key, s));
}
