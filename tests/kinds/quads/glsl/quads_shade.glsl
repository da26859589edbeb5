// G-side code of the test kind "quads": flat colour; the contributor is the quad.
vec3 scene_sample(uint id, ivec2 texel, uint cam, uint key, float sigma) {
    Group gc = groups[GROUP_COLORS];
    uint i = gc.offset + (id - 1u) * 3u;
    add_contributor(id - 1u);
    return vec3(perturbed(i, gc.eps, key, sigma), perturbed(i + 1u, gc.eps, key, sigma),
                perturbed(i + 2u, gc.eps, key, sigma));
}
