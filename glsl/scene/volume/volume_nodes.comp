#version 430
// Before each R draw: every node of every copy, perturbed (its sign from the counter-based
// hash; not with exact gradients, VOLUME_ANALYTIC): (r, g, b, exp(log density)) into the
// COPY_NODES texture (copy k's node (x, y, z) at texel (x, y, z + k NZ)), read by the ray
// marches of R's copies in G and the clean pass. A clean draw writes one copy (slot 0).
layout(local_size_x = WG_1D) in;

#include "buffers.glsl"
#include "rng.glsl"
#include "perturb.glsl"
#include "groups.glsl"
#include "views.glsl"
#include "copies.glsl"

layout(NODE_FORMAT, binding = IMG_SCENE) writeonly uniform image3D u_copy_nodes;
uniform uint u_copies;

void main() {
    uint i = global_index_1d();
    if (i >= uint(GRID_NODES) * u_copies) return;
    uint copy = i / uint(GRID_NODES);
    uint n = i - copy * uint(GRID_NODES);
    CopyInfo ci = copy_info(int(copy));
    Group gd = groups[GROUP_DENSITY];
    Group gc = groups[GROUP_COLOR];
    uint c = gc.offset + 3u * n;
    uint row = n / uint(GRID_NX);
    ivec3 at = ivec3(n - row * uint(GRID_NX), row % uint(GRID_NY), row / uint(GRID_NY) + copy * uint(GRID_NZ));
#ifdef VOLUME_ANALYTIC
    // exact gradients: nothing is perturbed (every copy is the clean grid)
    imageStore(u_copy_nodes, at, vec4(params[c], params[c + 1u], params[c + 2u], exp(params[gd.offset + n])));
#else
    imageStore(u_copy_nodes, at, vec4(perturbed(c, gc.eps, ci.key, ci.sigma), perturbed(c + 1u, gc.eps, ci.key, ci.sigma),
                         perturbed(c + 2u, gc.eps, ci.key, ci.sigma),
                         exp(perturbed(gd.offset + n, gd.eps, ci.key, ci.sigma))));
#endif
}
