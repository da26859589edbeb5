// G-side code of the triangle soup (#include <scene>): flat colour per
// triangle; the one contributor of a sample is its triangle.

// Colour of the sample at `texel` showing primitive `id` (> 0) in a copy
// (camera, pair key, sign); its contributor is added to the pixel's list.
vec3 scene_sample(uint id, ivec2 texel, uint cam, uint key, float sigma) {
    Group gc = groups[GROUP_COLORS];
    uint i = gc.offset + (id - 1u) * 3u;
    add_contributor(id - 1u);
    return vec3(perturbed(i, gc.eps, key, sigma),
                perturbed(i + 1u, gc.eps, key, sigma),
                perturbed(i + 2u, gc.eps, key, sigma));
}
