// Exact gradients of the soft soup (scene.gradient: analytic; docs/soft.md, "Exact gradients"):
// G's scene_analytic walks each sample of the pair's plus copy again (deep_regather) and adds,
// per fragment i with coverage c_i, colour col_i and window depth z_i, the derivative of the
// pixel's loss through the sample colour C (each / NSUB: a pixel is the mean of its samples):
//   colours (SOFT_COLORS_ANALYTIC): dl * dC/dcol_i, C being linear in the colours with weight
//     W_i (composite: T_i c_i; zbuffer: A at the shown fragment; softmax: w_i / (sum w + w_b);
//     softmax_silhouette: A w_i / sum w);
//   positions (SOFT_POSITIONS_ANALYTIC): g_i = dl . dC/dc_i (composite: T_i col_i - S_i / (1 -
//     c_i), S_i the colour behind the fragment; zbuffer: dA/dc_i (col_f - bg); softmax: e_i
//     (col_i - C) / (sum w + w_b); softmax_silhouette: dA/dc_i (M - bg) + A e_i (col_i - M) /
//     sum w, M the weighted mean colour, e_i = exp((z_i - z_max) / gamma)); then c_i = (F(d / tau) -
//     m) / (1 - m) x opacity (soft_coverage) gives dc/dd = F'(d / tau) / (tau (1 - m)) x opacity, d the signed distance in NDC of the
//     tile's smaller side (soft_signed_distance's vertex derivatives, in samples, x 2 / side):
//     d loss / d (each corner's sample position) into six screen slots per triangle
//     (SOFT_SCREEN_BASE + 6 tri), which soft_backward.comp chains to the corners' (x, y).
// The t-conorm fold's dA/dc_i: soft_aggregate. Depth (and the opacity) keep SGE.

#if defined(SOFT_ANALYTIC) && defined(G_PASS)
int deep_regather(int copy, int k);    // deep_resolve.glsl
vec3 deep_plus_sample_color(int k);
ivec2 deep_regathered_texel();
vec3 deep_background();
uint deep_pair_key();

uniform float u_soft_tau;

#ifdef SOFT_POSITIONS_ANALYTIC
// d loss / d c of fragment tri's coverage at sample p (samples, in the tile) -> its corners'
// sample positions (SOFT_SCREEN_BASE slots; soft_backward.comp chains them to the positions)
void soft_add_position_gradient(uint pair, uint tri, float g_c, vec2 p, uint cam, uint key) {
    vec2 v[3];
    vec2 tile = vec2(u_tile_size);
    for (int k = 0; k < 3; ++k) {
        vec4 c = soft_corner_clip(tri, uint(k), cam, key, 1.0);
        v[k] = (c.xy / c.w * 0.5 + 0.5) * tile;
    }
    vec2 gv[3];
    float side = 2.0 / float(min(u_tile_size.x, u_tile_size.y));
    float d = soft_signed_distance(p, v[0], v[1], v[2], gv[0], gv[1], gv[2]) * side;
    float slope = soft_coverage(SOFT_FAMILY, d / u_soft_tau, SOFT_P).y / u_soft_tau * side;
#ifdef GROUP_OPACITY
    Group go = groups[GROUP_OPACITY];
    slope *= 1.0 / (1.0 + exp(-perturbed(go.offset + tri, go.eps, key, 1.0)));
#endif
    float g_d = g_c * slope;
    if (g_d == 0.0) return;
    uint sb = uint(SOFT_SCREEN_BASE) + 6u * tri;
    for (int k = 0; k < 3; ++k) {
        accumulate_exact(pair, sb + 2u * uint(k), g_d * gv[k].x);
        accumulate_exact(pair, sb + 2u * uint(k) + 1u, g_d * gv[k].y);
    }
}
#endif

void scene_analytic(uint pair, vec3 dl) {
    int copy = int(2u * pair);
    uint cam = camera_of_pair(pair);
    uint key = deep_pair_key();
    vec3 bg = deep_background();
    const float INV_NSUB = 1.0 / float(NSUB);
    for (int sub = 0; sub < NSUB; ++sub) {
        int used = deep_regather(copy, sub);
        int n = min(deep_fragment_count(), SOFT_MAX_COVER);
        vec2 p = vec2(deep_regathered_texel() - tile_origin(copy)) + 0.5;
        for (int i = 0; i < n; ++i) g_soft_cov[i] = deep_fragment_alpha(i);
#if SOFT_COLOR == SOFT_COLOR_COMPOSITE
        n = min(used, SOFT_MAX_COVER);
        vec3 total = deep_plus_sample_color(sub);
        vec3 front = vec3(0.0);
        float t = 1.0;
#else
        float cover = soft_aggregate(SOFT_CONORM, u_soft_conorm_p, n);
#endif
#if SOFT_COLOR == SOFT_COLOR_ZBUFFER
        float inside = soft_coverage(SOFT_FAMILY, 0.0, SOFT_P).x;
        int shown = -1, most = 0;
        for (int i = 0; i < n; ++i) {
            if (shown < 0 && g_soft_cov[i] >= inside) shown = i;
            if (g_soft_cov[i] > g_soft_cov[most]) most = i;
        }
        if (shown < 0) shown = most;
        vec3 shown_color = n > 0 ? deep_fragment_color(deep_fragment_id(shown), 0u) : vec3(0.0);
#elif SOFT_COLOR == SOFT_COLOR_SOFTMAX || SOFT_COLOR == SOFT_COLOR_SOFTMAX_SILHOUETTE
        float z_max = SOFT_BG_DEPTH;
        for (int i = 0; i < n; ++i) z_max = max(z_max, 1.0 - deep_fragment_depth(i));
        float w_sum = 0.0;
        vec3 mean = vec3(0.0);
        for (int i = 0; i < n; ++i) {
            float w = g_soft_cov[i] * exp((1.0 - deep_fragment_depth(i) - z_max) / u_soft_gamma);
            mean += w * deep_fragment_color(deep_fragment_id(i), 0u);
            w_sum += w;
        }
#if SOFT_COLOR == SOFT_COLOR_SOFTMAX
        float w_bg = exp((SOFT_BG_DEPTH - z_max) / u_soft_gamma);
        float norm = w_sum + w_bg;
        vec3 color = (mean + w_bg * bg) / norm;
#else
        float norm = w_sum;
        if (w_sum > 0.0) mean /= w_sum;
#endif
#endif
        for (int i = 0; i < n; ++i) {
            uint tri = deep_fragment_id(i) - 1u;
            float c = g_soft_cov[i];
            vec3 col = deep_fragment_color(deep_fragment_id(i), 0u);
#if SOFT_COLOR == SOFT_COLOR_COMPOSITE
            front += (t * c) * col;
            float weight = t * c;
            vec3 dcdc = c < 0.999 ? t * col - (total - front) / (1.0 - c) : vec3(0.0);
            t *= 1.0 - c;
#elif SOFT_COLOR == SOFT_COLOR_ZBUFFER
            float weight = i == shown ? cover : 0.0;
            vec3 dcdc = g_soft_dcov[i] * (shown_color - bg);
#else
            float e = exp((1.0 - deep_fragment_depth(i) - z_max) / u_soft_gamma);
            float weight = norm > 0.0 ? c * e / norm : 0.0;
#if SOFT_COLOR == SOFT_COLOR_SOFTMAX
            vec3 dcdc = e * (col - color) / norm;
#else
            vec3 dcdc = g_soft_dcov[i] * (mean - bg) + (norm > 0.0 ? cover * e * (col - mean) / norm : vec3(0.0));
            weight *= cover;
#endif
#endif
#ifdef SOFT_COLORS_ANALYTIC
            accumulate_exact_rgb(pair, groups[GROUP_COLORS].contrib_base + 3u * tri, dl * (weight * INV_NSUB));
#endif
#ifdef SOFT_POSITIONS_ANALYTIC
            float g_c = dot(dl, dcdc) * INV_NSUB;
            if (g_c != 0.0) soft_add_position_gradient(pair, tri, g_c, p, cam, key);
#endif
        }
    }
}
#endif
