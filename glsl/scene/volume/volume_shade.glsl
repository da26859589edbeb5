// G-side code of voxel grids (#include <scene>). R drew the grid's box (back faces, so a camera
// inside it is covered too); a sample marches its ray through the copy's perturbed grid
// (volume_common.glsl). Contributors are not listed here: the kind's G hook
// (volume_spread.glsl) spreads each pixel's difference over the nodes its ray crossed.
// Needs tiles.glsl (u_tile_size).

#include "volume_common.glsl"

uniform uint u_volume_seed;        // the job's seed and the iteration (SceneKind.iteration_uniforms)
uniform uint u_volume_iteration;

vec3 scene_sample(uint id, ivec2 texel, uint cam, uint key, float sigma) {
    ivec2 local = texel - (texel / u_tile_size) * u_tile_size;
    vec2 ndc = 2.0 * (vec2(local) + 0.5) / vec2(u_tile_size) - 1.0;
    return march_ray(pixel_ray(cam, ndc, local, u_volume_seed, u_volume_iteration, sigma == 0.0), key, sigma);
}
