// G-side code of the triangle soup (#include <scene>): flat colour per
// triangle; the one contributor of a sample is its triangle.

#define SCENE_MAX_CONTRIB 1

vec3 scene_shade(uint id, ivec2 texel, uint cam, uint key, float sigma) {
    Group gc = groups[GROUP_COLORS];
    uint i = gc.offset + (id - 1u) * 3u;
    return vec3(perturbed(i, gc.eps, key, sigma),
                perturbed(i + 1u, gc.eps, key, sigma),
                perturbed(i + 2u, gc.eps, key, sigma));
}

int scene_contributors(uint id, ivec2 texel, out uint c[SCENE_MAX_CONTRIB]) {
    c[0] = id - 1u;
    return 1;
}
