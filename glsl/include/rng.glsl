// Counter-based randomness: PCG hash (Jarzynski & Olano 2020).
// The same functions are mirrored in diffrast_cli/sge/rng.py for tests.

uint pcg_hash(uint v) {
    uint state = v * 747796405u + 2891336453u;
    uint word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
}

// One key per (seed, iteration, antithetic pair): hashed once per thread.
uint pair_key(uint seed, uint iteration, uint pair) {
    return pcg_hash(pcg_hash(pcg_hash(seed) ^ iteration) + pair * 0x9E3779B9u);
}

// Random sign s_i in {-1, +1} of parameter i under a pair key.
float param_sign(uint i, uint key) {
    return (pcg_hash(i ^ key) & 0x80000000u) != 0u ? -1.0 : 1.0;
}
