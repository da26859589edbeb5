// theta_i + sigma * s_i * eps: the perturbation P, fused into every fetch.
// sigma is +1 for the plus copy, -1 for the minus copy, 0 for a clean render.
// Needs buffers.glsl and rng.glsl.

float perturbed(uint i, float eps, uint key, float sigma) {
    return params[i] + sigma * param_sign(i, key) * eps;
}
