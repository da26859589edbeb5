// G hook of voxel grids (<scene_spread>, scene/base.py): the pixel's f+ - f- goes, once, to
// every node whose value the pixel depends on in either copy of the pair. The ray is marched
// again with the copies' sample positions (the same jitter); a sample depends on the 8 nodes
// of its cell, and the march stops once both copies' transmittance fell below
// GRID_TERMINATION (after that neither copy reads a node). Weight 1, not the trilinear weight:
// the estimator's mean for node v is E[(f+ - f-) s_v / (2 eps_v)] = df/dtheta_v only if every
// pixel that depends on v adds its whole difference (docs/volume.md). Once: a march's cell
// indices are monotone along each axis, so the cells holding a node are consecutive samples'
// cells, and a sample adds only the nodes of its cell that the previous sample's cell lacks.
// Needs supersample 1 (the kind refuses more: the union of several rays' nodes is not known
// without a set).

void add_new_nodes(uint pair, ivec3 c, ivec3 prev, bool first, float diff) {
    for (int k = 0; k < 8; ++k) {
        ivec3 n = c + ivec3(k & 1, (k >> 1) & 1, k >> 2);
        if (!first && all(greaterThanEqual(n, prev)) && all(lessThanEqual(n, prev + 1))) continue;
        accumulate(pair, node_index(n), diff);
    }
}

void scene_spread(uint pair, ivec2 px, uint cam, uint key, float diff) {
    vec2 ndc = 2.0 * (vec2(px) + 0.5) / vec2(u_tile_size) - 1.0;
    Ray r = pixel_ray(cam, ndc, px, u_volume_seed, u_volume_iteration, false);
    float tp = 1.0, tm = 1.0;
    ivec3 prev = ivec3(-8);
    bool first = true;
    for (float t = r.t0 + r.jitter * GRID_STEP; t < r.t1; t += GRID_STEP) {
        vec3 p = r.origin + t * r.dir;
        vec3 f;
        ivec3 c = grid_cell(p, f);
        if (first || c != prev) {
            add_new_nodes(pair, c, prev, first, diff);
            prev = c;
            first = false;
        }
        tp *= exp(-grid_density(p, int(2u * pair)) * GRID_STEP);
        tm *= exp(-grid_density(p, int(2u * pair + 1u)) * GRID_STEP);
        if (tp < GRID_TERMINATION && tm < GRID_TERMINATION) break;
    }
}
