// G hook of voxel grids (<scene_spread>, scene/base.py), the estimator's path
// (scene.gradient: sge). The estimator's mean for node v, E[(f+ - f-) s_v / (2 eps_v)], is
// df/dtheta_v when every pixel that depends on v adds its whole difference once (weight 1, not
// the trilinear weight; docs/volume.md); pixels that do not depend on v may add theirs too
// (their mean is 0: they cost variance, not bias). A pixel depends on the nodes of the cells
// its copies' samples read (samples 0..last of each march, volume_common.glsl).
// Scattering into those nodes from here cost most of G (neighbouring rays' atomics on shared
// nodes), so G records the pixel's difference and the clip depth of the last sample either
// copy read, and after G volume_gather.comp sums, per node, the pixels whose rays can reach it.

// Per pair and pixel of the pair's tile: (diff, clip z of the last sample read). Cleared
// before each perturbed R draw (pixels G does not call the hook for keep diff 0).
layout(std430, binding = SSBO_SCENE_RAYS) writeonly buffer Rays { vec2 rays[]; };

void scene_spread(uint pair, ivec2 px, uint cam, uint key, float diff) {
    int last = max(g_vol_last.x, g_vol_last.y);
    if (last < 0) return;
    Ray r = g_vol_ray;
    vec4 clip = cameras[cam].view_proj * vec4(r.origin + sample_t(r, last) * r.dir, 1.0);
    rays[pair * uint(u_tile_size.x * u_tile_size.y) + uint(px.y * u_tile_size.x + px.x)] = vec2(diff, clip.z);
}
