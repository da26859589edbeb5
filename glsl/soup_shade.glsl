// G-side code of the triangle soup (#include <scene>): flat colour per
// triangle; the one contributor of a sample is its triangle.

#define SCENE_MAX_CONTRIB 1

// Colour of the sample at `texel` showing primitive `id` (> 0) in a copy
// (camera, pair key, sign), and its contributors c[0..m).
vec3 scene_sample(uint id, ivec2 texel, uint cam, uint key, float sigma, out uint c[SCENE_MAX_CONTRIB], out int m) {
    Group gc = groups[GROUP_COLORS];
    uint i = gc.offset + (id - 1u) * 3u;
    c[0] = id - 1u;
    m = 1;
    return vec3(perturbed(i, gc.eps, key, sigma),
                perturbed(i + 1u, gc.eps, key, sigma),
                perturbed(i + 2u, gc.eps, key, sigma));
}
