#version 430
// Exact geometry gradients (scene.geometry_gradient: analytic; docs/splats.md,
// "Gradients"): between G and the per-parameter pass (SceneKind.after_gradient).
// G added, per pair and splat, the derivative of the pair's pixel losses w.r.t.
// the splat's screen footprint in that pair's view: its mean in output pixels
// (x, y) and its conic (A, B, C of [[A, B], [B, C]] = Sigma2D^-1), five slots
// from SPLAT_SCREEN_BASE + 5 s (splat_shade.glsl). One thread per pair and
// splat chains them through the EWA projection (splat_common.glsl) to the
// splat's position, log scales and quaternion, into the analytic slots of
// those groups for the pair (MAP_ANALYTIC: the per-parameter pass sums the
// pairs). The parameters are not perturbed (GEOMETRY_SIGMA), so this is the
// derivative at the clean splat. Not chained: the view direction of SH degree
// > 0 colours (its effect on the mean's gradient is left out, as the depth
// order, the 3 sigma square and the 1/255 alpha cut-off are).
layout(local_size_x = WG_1D) in;
#include "buffers.glsl"
#include "groups.glsl"
#include "rng.glsl"
#include "perturb.glsl"
#include "views.glsl"
#include "accumulate.glsl"
#include "splat_common.glsl"

uniform uint u_pairs;

// d loss / d (unit quaternion (w, x, y, z)) from d loss / d R (gr[k][i] = d loss / d R_ik,
// R as splat_frame builds it, column k scaled by the k-th scale there).
vec4 quaternion_gradient(vec4 q, mat3 gr) {
    float w = q.x, x = q.y, y = q.z, z = q.w;
    float gw = z * (gr[0][1] - gr[1][0]) + y * (gr[2][0] - gr[0][2]) + x * (gr[1][2] - gr[2][1]);
    float gx = y * (gr[0][1] + gr[1][0]) + z * (gr[0][2] + gr[2][0]) + w * (gr[1][2] - gr[2][1])
             - 2.0 * x * (gr[1][1] + gr[2][2]);
    float gy = x * (gr[0][1] + gr[1][0]) + z * (gr[1][2] + gr[2][1]) + w * (gr[2][0] - gr[0][2])
             - 2.0 * y * (gr[0][0] + gr[2][2]);
    float gz = x * (gr[0][2] + gr[2][0]) + y * (gr[1][2] + gr[2][1]) + w * (gr[0][1] - gr[1][0])
             - 2.0 * z * (gr[0][0] + gr[1][1]);
    return 2.0 * vec4(gw, gx, gy, gz);
}

// d loss / d world position through one row j = (h/2) (r w - c r3) / w^2 of the Jacobian,
// c the (clamped) clip coordinate: gj = d loss / d j, dc = d c / d mu.
vec3 jacobian_row_gradient(vec3 gj, vec3 r, vec3 r3, float c, vec3 dc, float w, float half_size) {
    float gr = dot(gj, r), g3 = dot(gj, r3);
    return half_size * (-(gr / (w * w)) * r3 - (g3 / (w * w)) * dc + (2.0 * c * g3 / (w * w * w)) * r3);
}

void main() {
    uint i = global_index_1d();
    if (i >= u_pairs * uint(SPLAT_COUNT)) return;
    uint pair = i / uint(SPLAT_COUNT);
    uint s = i - pair * uint(SPLAT_COUNT);
    uint sb = uint(SPLAT_SCREEN_BASE) + 5u * s;
    vec2 g_mean = vec2(exact_value(pair, sb), exact_value(pair, sb + 1u));
    vec3 g_conic = vec3(exact_value(pair, sb + 2u), exact_value(pair, sb + 3u), exact_value(pair, sb + 4u));
    if (g_mean == vec2(0.0) && g_conic == vec3(0.0)) return;

    // the forward projection (splat_project), clean
    mat4 vp = cameras[camera_of_pair(pair)].view_proj;
    vec3 mu = splat_mean(s, 0u, 0.0);
    vec4 clip = vp * vec4(mu, 1.0);
    float w = clip.w;
    vec4 q = splat_quaternion(s, 0u, 0.0);
    float qlen = length(q);
    if (!(w > 0.0) || !(qlen > 1e-12)) return;
    vec4 qn = q / qlen;
    mat3 m = splat_frame(s, qn, 0u, 0.0);
    SplatJacobian jac = splat_jacobian(vp, clip);
    vec3 t0 = jac.j0 * m, t1 = jac.j1 * m;
    float a = dot(t0, t0) + 0.3, b = dot(t0, t1), c = dot(t1, t1) + 0.3;
    float det = a * c - b * b;
    if (!(det > 0.0)) return;
    mat2 k = mat2(c, -b, -b, a) / det;                   // the conic, symmetric

    // conic -> Sigma2D: d loss / d Sigma = -K G K, G the symmetric gradient (B counts twice)
    mat2 gk = mat2(g_conic.x, 0.5 * g_conic.y, 0.5 * g_conic.y, g_conic.z);
    mat2 gs = -(k * gk * k);
    float ga = gs[0][0], gb = gs[0][1] + gs[1][0], gc = gs[1][1];
    // Sigma2D = [t0; t1] [t0; t1]^T (+ 0.3 I) -> t0, t1 -> M and the Jacobian's rows
    vec3 gt0 = 2.0 * ga * t0 + gb * t1, gt1 = 2.0 * gc * t1 + gb * t0;
    mat3 gm = mat3(jac.j0 * gt0.x + jac.j1 * gt1.x, jac.j0 * gt0.y + jac.j1 * gt1.y,
                   jac.j0 * gt0.z + jac.j1 * gt1.z);    // column k: d loss / d M[k]
    vec3 gj0 = m * gt0, gj1 = m * gt1;

    // position: the mean's pixel position and the Jacobian's dependence on it
    vec3 r0 = vec3(vp[0][0], vp[1][0], vp[2][0]);
    vec3 r1 = vec3(vp[0][1], vp[1][1], vp[2][1]);
    vec3 r3 = vec3(vp[0][3], vp[1][3], vp[2][3]);
    float hw = 0.5 * float(RENDER_W), hh = 0.5 * float(RENDER_H);
    vec3 g_mu = g_mean.x * hw * (r0 * w - clip.x * r3) / (w * w) + g_mean.y * hh * (r1 * w - clip.y * r3) / (w * w);
    vec3 dcx = jac.cx == clip.x ? r0 : (jac.cx / w) * r3;    // clamped: c = +-1.3 w
    vec3 dcy = jac.cy == clip.y ? r1 : (jac.cy / w) * r3;
    g_mu += jacobian_row_gradient(gj0, r0, r3, jac.cx, dcx, w, hw);
    g_mu += jacobian_row_gradient(gj1, r1, r3, jac.cy, dcy, w, hh);

    // M = R diag(exp(log scales)): column k of R is M[k] / scale k
    vec3 g_scale = vec3(dot(gm[0], m[0]), dot(gm[1], m[1]), dot(gm[2], m[2]));
    vec3 sc = vec3(length(m[0]), length(m[1]), length(m[2]));
    vec4 gqn = quaternion_gradient(qn, mat3(gm[0] * sc.x, gm[1] * sc.y, gm[2] * sc.z));
    vec4 g_q = (gqn - qn * dot(qn, gqn)) / qlen;

    uint pb = groups[GROUP_POSITIONS].contrib_base + 3u * s;
    uint cb = groups[GROUP_SCALES].contrib_base + 3u * s;
    uint rb = groups[GROUP_ROTATIONS].contrib_base + 4u * s;
    for (uint d = 0u; d < 3u; ++d) {
        accumulate_exact(pair, pb + d, g_mu[d]);
        accumulate_exact(pair, cb + d, g_scale[d]);
    }
    for (uint d = 0u; d < 4u; ++d) accumulate_exact(pair, rb + d, g_q[d]);
}
