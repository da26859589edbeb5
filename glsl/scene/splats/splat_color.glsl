// The colour of splat s seen from camera cam: its spherical harmonics of degree
// SH_DEGREE in the direction from the camera to its mean, + 0.5, clamped at 0
// (docs/splats.md, "Colour"). Needs splat_common.glsl.

#define SH_C0 0.28209479177387814
#define SH_C1 0.4886025119029199

vec3 splat_sh(uint s, uint k, uint key, float sigma) {   // coefficient k (0: dc) of splat s, RGB
    if (k == 0u) {
#ifdef SPLAT_DC_ANALYTIC
        float sd = 0.0;      // exact gradients (splat_shade.glsl): the dc colour is not perturbed
#else
        float sd = sigma;
#endif
        return vec3(splat_param(GROUP_SH_DC, s, 3u, 0u, key, sd), splat_param(GROUP_SH_DC, s, 3u, 1u, key, sd),
                    splat_param(GROUP_SH_DC, s, 3u, 2u, key, sd));
    }
#if SH_DEGREE > 0
    uint stride = 3u * uint(SH_COEFFS - 1), b = 3u * (k - 1u);
    return vec3(splat_param(GROUP_SH_REST, s, stride, b, key, sigma), splat_param(GROUP_SH_REST, s, stride, b + 1u, key, sigma),
                splat_param(GROUP_SH_REST, s, stride, b + 2u, key, sigma));
#else
    return vec3(0.0);
#endif
}

vec3 splat_color(uint s, uint cam, uint key, float sigma) {
    vec3 r = SH_C0 * splat_sh(s, 0u, key, sigma);
#if SH_DEGREE > 0
    vec3 d = normalize(splat_mean(s, key, sigma) - cameras[cam].eye.xyz);
    float x = d.x, y = d.y, z = d.z;
    r += SH_C1 * (-y * splat_sh(s, 1u, key, sigma) + z * splat_sh(s, 2u, key, sigma) - x * splat_sh(s, 3u, key, sigma));
#if SH_DEGREE > 1
    float xx = x * x, yy = y * y, zz = z * z;
    r += 1.0925484305920792 * x * y * splat_sh(s, 4u, key, sigma)
       - 1.0925484305920792 * y * z * splat_sh(s, 5u, key, sigma)
       + 0.31539156525252005 * (2.0 * zz - xx - yy) * splat_sh(s, 6u, key, sigma)
       - 1.0925484305920792 * x * z * splat_sh(s, 7u, key, sigma)
       + 0.5462742152960396 * (xx - yy) * splat_sh(s, 8u, key, sigma);
#if SH_DEGREE > 2
    r += -0.5900435899266435 * y * (3.0 * xx - yy) * splat_sh(s, 9u, key, sigma)
       + 2.890611442640554 * x * y * z * splat_sh(s, 10u, key, sigma)
       - 0.4570457994644658 * y * (4.0 * zz - xx - yy) * splat_sh(s, 11u, key, sigma)
       + 0.3731763325901154 * z * (2.0 * zz - 3.0 * xx - 3.0 * yy) * splat_sh(s, 12u, key, sigma)
       - 0.4570457994644658 * x * (4.0 * zz - xx - yy) * splat_sh(s, 13u, key, sigma)
       + 1.445305721320277 * z * (xx - yy) * splat_sh(s, 14u, key, sigma)
       - 0.5900435899266435 * x * (xx - 3.0 * yy) * splat_sh(s, 15u, key, sigma);
#endif
#endif
#endif
    return max(r + 0.5, vec3(0.0));
}
