// G-side code of the test kind "glass": the flat colour of a composited
// fragment; its contributor is the triangle (the opacity comes from R).
vec3 scene_sample(uint id, ivec2 texel, uint cam, uint key, float sigma) {
    Group gc = groups[GROUP_COLORS];
    uint i = gc.offset + (id - 1u) * 3u;
    add_contributor(id - 1u);
    return vec3(perturbed(i, gc.eps, key, sigma), perturbed(i + 1u, gc.eps, key, sigma),
                perturbed(i + 2u, gc.eps, key, sigma));
}
