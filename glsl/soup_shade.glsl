// G-side shading of the triangle soup: the colour of primitive `id` (>0) in a
// copy with perturbation sign sigma. Flat colour per triangle.
// Provided to the generic passes as #include <scene>.

vec3 scene_shade(uint id, ivec2 px, uint key, float sigma) {
    Group gc = groups[GROUP_COLORS];
    uint i = gc.offset + (id - 1u) * 3u;
    return vec3(perturbed(i, gc.eps, key, sigma),
                perturbed(i + 1u, gc.eps, key, sigma),
                perturbed(i + 2u, gc.eps, key, sigma));
}
