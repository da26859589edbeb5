// 3D Gaussian splats (docs/splats.md): the parameters of splat s for a copy
// (key, sigma: the perturbation fused into every fetch) and its projection.
// Groups GROUP_POSITIONS, GROUP_SCALES, GROUP_ROTATIONS, GROUP_OPACITY,
// GROUP_SH_DC and (SH_DEGREE > 0) GROUP_SH_REST, element s of each.
// Needs buffers.glsl, perturb.glsl, views.glsl; RENDER_W, RENDER_H (output pixels).

float splat_param(uint group, uint s, uint stride, uint k, uint key, float sigma) {
    uint i = groups[group].offset + s * stride + k;
    return perturbed(i, groups[group].eps, key, sigma);
}

// Exact geometry gradients (scene.geometry_gradient: analytic, splat_backward.comp): the
// positions, scales and rotations are not perturbed.
#ifdef SPLAT_GEOMETRY_ANALYTIC
#define GEOMETRY_SIGMA(sigma) 0.0
#else
#define GEOMETRY_SIGMA(sigma) (sigma)
#endif

vec3 splat_mean(uint s, uint key, float sigma_in) {
    float sigma = GEOMETRY_SIGMA(sigma_in);
    return vec3(splat_param(GROUP_POSITIONS, s, 3u, 0u, key, sigma), splat_param(GROUP_POSITIONS, s, 3u, 1u, key, sigma),
                splat_param(GROUP_POSITIONS, s, 3u, 2u, key, sigma));
}

float splat_opacity(uint s, uint key, float sigma) {
    return 1.0 / (1.0 + exp(-splat_param(GROUP_OPACITY, s, 1u, 0u, key, sigma)));
}

vec4 splat_quaternion(uint s, uint key, float sigma_in) {
    float sigma = GEOMETRY_SIGMA(sigma_in);
    return vec4(splat_param(GROUP_ROTATIONS, s, 4u, 0u, key, sigma), splat_param(GROUP_ROTATIONS, s, 4u, 1u, key, sigma),
                splat_param(GROUP_ROTATIONS, s, 4u, 2u, key, sigma), splat_param(GROUP_ROTATIONS, s, 4u, 3u, key, sigma));
}

// M = R diag(exp(scales)) for the unit quaternion q = (w, x, y, z): Sigma3D = M M^T.
mat3 splat_frame(uint s, vec4 q, uint key, float sigma_in) {
    float sigma = GEOMETRY_SIGMA(sigma_in);
    float w = q.x, x = q.y, y = q.z, z = q.w;
    vec3 sc = exp(vec3(splat_param(GROUP_SCALES, s, 3u, 0u, key, sigma), splat_param(GROUP_SCALES, s, 3u, 1u, key, sigma),
                       splat_param(GROUP_SCALES, s, 3u, 2u, key, sigma)));
    return mat3(vec3(1.0 - 2.0 * (y * y + z * z), 2.0 * (x * y + w * z), 2.0 * (x * z - w * y)) * sc.x,
                vec3(2.0 * (x * y - w * z), 1.0 - 2.0 * (x * x + z * z), 2.0 * (y * z + w * x)) * sc.y,
                vec3(2.0 * (x * z + w * y), 2.0 * (y * z - w * x), 1.0 - 2.0 * (x * x + y * y)) * sc.z);
}

// The rows of the Jacobian of output-pixel position w.r.t. world position at clip position
// `clip` (EWA; x, y clamped to 1.3 w as in 3DGS): Sigma2D = J M M^T J^T.
struct SplatJacobian { vec3 j0, j1; float cx, cy; };

SplatJacobian splat_jacobian(mat4 vp, vec4 clip) {
    SplatJacobian jac;
    float w = clip.w;
    jac.cx = clamp(clip.x, -1.3 * w, 1.3 * w);
    jac.cy = clamp(clip.y, -1.3 * w, 1.3 * w);
    vec3 r0 = vec3(vp[0][0], vp[1][0], vp[2][0]);
    vec3 r1 = vec3(vp[0][1], vp[1][1], vp[2][1]);
    vec3 r3 = vec3(vp[0][3], vp[1][3], vp[2][3]);
    jac.j0 = (0.5 * float(RENDER_W)) * (r0 * w - jac.cx * r3) / (w * w);
    jac.j1 = (0.5 * float(RENDER_H)) * (r1 * w - jac.cy * r3) / (w * w);
    return jac;
}

// The screen footprint of a splat: clip position of its mean, conic (Sigma2D^-1 as a, b, c of
// [[a, b], [b, c]]) and the half side of its square, in output pixels.
struct SplatScreen { vec4 clip; vec3 conic; float radius; bool valid; };

SplatScreen splat_project(uint s, uint cam, uint key, float sigma) {
    SplatScreen sp;
    sp.valid = false;
    sp.conic = vec3(0.0);
    sp.radius = 0.0;
    mat4 vp = cameras[cam].view_proj;
    vec3 mu = splat_mean(s, key, sigma);
    sp.clip = vp * vec4(mu, 1.0);
    float w = sp.clip.w;
    if (!(w > 0.0) || abs(sp.clip.z) > w) return sp;
    vec4 q = splat_quaternion(s, key, sigma);
    float qlen = length(q);
    if (!(qlen > 1e-12)) return sp;      // a zero quaternion: no orientation
    mat3 m = splat_frame(s, q / qlen, key, sigma);
    SplatJacobian jac = splat_jacobian(vp, sp.clip);
    vec3 t0 = jac.j0 * m, t1 = jac.j1 * m;       // M^T J_k: Sigma2D = [t0; t1] [t0; t1]^T
    float a = dot(t0, t0) + 0.3, b = dot(t0, t1), c = dot(t1, t1) + 0.3;
    float det = a * c - b * b;
    if (!(det > 0.0)) return sp;
    sp.conic = vec3(c, -b, a) / det;
    float mid = 0.5 * (a + c);
    sp.radius = ceil(3.0 * sqrt(mid + sqrt(max(0.1, mid * mid - det))));
    sp.valid = true;
    return sp;
}
