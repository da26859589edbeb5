// A shared mesh vertex of the copy (key, sigma): theta + sigma * s * eps (perturb.glsl).
// Needs buffers.glsl, rng.glsl, perturb.glsl.

vec3 perturbed_position(uint v, uint key, float sigma) {
    Group g = groups[GROUP_POSITIONS];
    uint i = g.offset + v * 3u;
    return vec3(perturbed(i, g.eps, key, sigma), perturbed(i + 1u, g.eps, key, sigma),
                perturbed(i + 2u, g.eps, key, sigma));
}
