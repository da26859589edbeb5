// A soft soup triangle's corner in clip space for a copy (key, sign): the soup's vertex
// pulling, positions (x, y) and depth z perturbed, each group unless its gradient is exact
// (SOFT_POSITIONS_ANALYTIC: not perturbed). Shared by R (soft.vert) and G's exact
// derivatives (soft_analytic.glsl). Needs buffers.glsl, rng.glsl, perturb.glsl, views.glsl.

vec4 soft_corner_clip(uint tri, uint corner, uint cam, uint key, float sigma) {
    Group gp = groups[GROUP_POSITIONS];
    Group gz = groups[GROUP_DEPTHS];
    uint ip = gp.offset + tri * 6u + corner * 2u;
    uint iz = gz.offset + tri * 3u + corner;
#ifdef SOFT_POSITIONS_ANALYTIC
    float sp = 0.0;
#else
    float sp = sigma;
#endif
    vec3 p = vec3(perturbed(ip, gp.eps, key, sp), perturbed(ip + 1u, gp.eps, key, sp),
                  perturbed(iz, gz.eps, key, sigma));
    return cameras[cam].view_proj * vec4(p, 1.0);
}
