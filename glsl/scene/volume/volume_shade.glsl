// G-side code of voxel grids (#include <scene>). R drew the grid's box (back faces, so a camera
// inside it is covered too); a sample marches its ray through its copy's perturbed nodes (the
// copy is the tile the texel lies in; slot 0 for a clean render; volume_common.glsl).
// Contributors are not listed here: the kind's G hook (volume_spread.glsl) records each
// pixel's difference, which volume_gather.comp sums into the nodes after G.
// Needs tiles.glsl (u_tile_size).

#include "volume_common.glsl"

uniform uint u_volume_seed;        // the job's seed and the iteration (SceneKind.iteration_uniforms)
uniform uint u_volume_iteration;

// The ray of the pixel G works on (the copies share it), for scene_analytic and the G hook;
// the last sample index each copy read (plus, minus).
Ray g_vol_ray;
ivec2 g_vol_last = ivec2(-1);
#if defined(G_PASS) && !defined(VOLUME_ANALYTIC) && !defined(G_PLUS_ONLY)
// G resolves a pixel's plus copy, then its minus copy: the plus call marches both
// (march_pair) and keeps the minus colour for the next call.
#define VOLUME_PAIRED
vec3 g_vol_minus;
bool g_vol_have_minus = false;
#endif
#ifdef VOLUME_ANALYTIC
// The plus copy's slot and colour, for scene_analytic.
int g_vol_slot;
vec3 g_vol_color;
bool g_vol_recorded = false;
#endif

vec3 scene_sample(uint id, ivec2 texel, uint cam, uint key, float sigma) {
    ivec2 local = texel - (texel / u_tile_size) * u_tile_size;
    vec2 ndc = 2.0 * (vec2(local) + 0.5) / vec2(u_tile_size) - 1.0;
#ifdef VOLUME_ANALYTIC
    int slot = 0;                   // nothing is perturbed: one copy of the nodes serves every copy
#else
    int slot = sigma == 0.0 ? 0 : copy_of_texel(texel);
#endif
#ifdef VOLUME_PAIRED
    if (sigma < 0.0 && g_vol_have_minus) {
        g_vol_have_minus = false;
        return g_vol_minus;
    }
#endif
    Ray r = pixel_ray(cam, ndc, local, u_volume_seed, u_volume_iteration, sigma == 0.0);
    g_vol_ray = r;
#ifdef VOLUME_PAIRED
    if (sigma > 0.0) {
        vec3 color;
        march_pair(r, slot, color, g_vol_minus, g_vol_last);
        g_vol_have_minus = true;
        return color;
    }
#endif
    int last;
    vec3 color = march_ray(r, slot, last);
    if (sigma > 0.0) g_vol_last.x = last; else g_vol_last.y = last;
#ifdef VOLUME_ANALYTIC
    if (sigma > 0.0) {
        g_vol_slot = slot;
        g_vol_color = color;
        g_vol_recorded = true;
    }
#endif
    return color;
}

#if defined(VOLUME_ANALYTIC) && defined(G_PASS)
// Exact derivatives of the pixel's loss (dl = dloss/dcolour) w.r.t. every node's log density
// and colour along the recorded ray (docs/volume.md): with C the pixel's colour, A_k the light
// of samples 0..k and T_k the transmittance before sample k,
//   dC/dc_k = T_k alpha_k,   dC/dsigma_k = step (T_(k+1) c_k - (C - A_k)),
// spread to the sample's 8 nodes by the trilinear weights (times exp(theta) for the log
// density) and summed per node while the march stays in cells that hold it: when it moves to
// another cell, the nodes the two cells share keep their sums and only the others are added to
// the accumulators (4 of 8 on a step through a face; one atomic per node and channel).
float g_cell_d[8];
vec3 g_cell_c[8];

ivec3 corner_offset(int k) { return ivec3(k & 1, (k >> 1) & 1, k >> 2); }

// The march leaves cell `from` for cell `to` (every node flushed when `last`).
void leave_cell(uint pair, ivec3 from, ivec3 to, bool last) {
    float nd[8];
    vec3 nc[8];
    for (int k = 0; k < 8; ++k) { nd[k] = 0.0; nc[k] = vec3(0.0); }
    for (int k = 0; k < 8; ++k) {
        ivec3 n = from + corner_offset(k);
        ivec3 r = n - to;
        if (!last && all(greaterThanEqual(r, ivec3(0))) && all(lessThanEqual(r, ivec3(1)))) {
            int j = r.x + 2 * r.y + 4 * r.z;
            nd[j] = g_cell_d[k];
            nc[j] = g_cell_c[k];
        } else {
            uint i = node_index(n);
            if (g_cell_d[k] != 0.0) accumulate_exact(pair, i, g_cell_d[k]);
            accumulate_exact_rgb(pair, uint(GRID_NODES) + 3u * i, g_cell_c[k]);
        }
    }
    for (int k = 0; k < 8; ++k) { g_cell_d[k] = nd[k]; g_cell_c[k] = nc[k]; }
}

void scene_analytic(uint pair, vec3 dl) {
    if (!g_vol_recorded) return;
    Ray r = g_vol_ray;
    float trans = 1.0;
    vec3 acc = vec3(0.0);
    ivec3 cell = ivec3(-1);
    for (int k = 0; k < 8; ++k) { g_cell_d[k] = 0.0; g_cell_c[k] = vec3(0.0); }
    for (int j = 0; j <= g_vol_last.x; ++j) {
        vec3 p = r.origin + sample_t(r, j) * r.dir;
        vec3 f;
        ivec3 c = grid_cell(p, f);
        if (c != cell) {
            if (cell.x >= 0) leave_cell(pair, cell, c, false);
            cell = c;
        }
        vec4 s = grid_sample(p, g_vol_slot);          // as the forward march read it
        vec3 col = s.rgb;
        float alpha = 1.0 - exp(-s.w * GRID_STEP);
        float next = trans * (1.0 - alpha);
        acc += trans * alpha * col;
        vec3 dcol = dl * (trans * alpha);
        float dsig = GRID_STEP * dot(dl, next * col - (g_vol_color - acc));
        for (int k = 0; k < 8; ++k) {
            ivec3 d = ivec3(k & 1, (k >> 1) & 1, k >> 2);
            vec3 tw = mix(1.0 - f, f, vec3(d));
            float w = tw.x * tw.y * tw.z;
            g_cell_c[k] += w * dcol;
            g_cell_d[k] += w * grid_node(c + d, g_vol_slot).w * dsig;   // d density / d log density = density
        }
        trans = next;
    }
    if (cell.x >= 0) leave_cell(pair, cell, cell, true);
}
#endif
