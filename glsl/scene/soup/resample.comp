#version 430
// Soup resampling (scene.resample), one pass per RS_PASS:
//   0 seen:     after every step, last_seen[t] = u_iteration where any pair's
//               accumulator of triangle t is non-zero (t was drawn in a pixel with a
//               non-zero f+ - f-);
//   1 classify: every `every` steps, the screen area (px^2, camera 0) of each triangle,
//               invalid = unseen for u_unseen steps or area < u_min_area; donor = valid
//               and area >= 2 u_min_area (so both halves stay above it);
//   2 lists:    after the prefix sums of both flags (counts[1] invalid, counts[2] donors),
//               the invalid and donor indices in index order;
//   3 place:    the k-th invalid triangle (k < pairs = min(invalid, donors / J)) takes
//               the largest of J donors donor_list[(k + j * pairs + off) % donors], j < J
//               (disjoint for distinct k; off from the seed and the iteration), which is
//               split along its longest screen edge: the donor keeps (a, m, c), the
//               re-placed triangle gets (m, b, c), m the edge midpoint; colour, depths
//               and opacity (if any) copied; the Adam moments of both zeroed and their births set.
layout(local_size_x = WG_1D) in;

#include "buffers.glsl"
#include "groups.glsl"
#include "rng.glsl"
#include "views.glsl"
// Each pass declares only the buffers it uses (compute shaders may have as few as 8).
#if RS_PASS == 0
#include "accumulate.glsl"
#endif
#if RS_PASS == 3
layout(std430, binding = SSBO_ADAM) buffer Moments { vec2 moments[]; };
layout(std430, binding = SSBO_BIRTHS) buffer Births { uint births[]; };
layout(std430, binding = SSBO_COUNTS) buffer Counts { uint counts[]; };
#endif
#if RS_PASS != 2
layout(std430, binding = SSBO_SCENE_LAST_SEEN) buffer LastSeen { uint last_seen[]; };
#endif
#if RS_PASS == 1 || RS_PASS == 3
layout(std430, binding = SSBO_SCENE_RS_AREA) buffer Area { float area[]; };
#endif
#if RS_PASS == 1 || RS_PASS == 2
layout(std430, binding = SSBO_SCENE_RS_INVALID) buffer Invalid { uint invalid_flag[]; };
layout(std430, binding = SSBO_SCENE_RS_DONOR) buffer Donor { uint donor_flag[]; };
#endif
#if RS_PASS == 2
layout(std430, binding = SSBO_SCENE_RS_INVALID_POS) buffer InvalidPos { uint invalid_pos[]; };
layout(std430, binding = SSBO_SCENE_RS_DONOR_POS) buffer DonorPos { uint donor_pos[]; };
#endif
#if RS_PASS >= 2
layout(std430, binding = SSBO_SCENE_RS_INVALID_LIST) buffer InvalidList { uint invalid_list[]; };
layout(std430, binding = SSBO_SCENE_RS_DONOR_LIST) buffer DonorList { uint donor_list[]; };
#endif

uniform uint u_n;            // triangles
uniform uint u_pairs;        // antithetic pairs per iteration (accumulator blocks)
uniform uint u_iteration;    // steps done
uniform uint u_unseen;
uniform float u_min_area;    // px^2
uniform uint u_candidates;   // J
uniform uint u_seed;
uniform vec2 u_half_size;    // (w / 2, h / 2): NDC -> pixels

#if RS_PASS == 1 || RS_PASS == 3
vec3 corner(uint t, uint k) {
    Group gp = groups[GROUP_POSITIONS];
    Group gz = groups[GROUP_DEPTHS];
    return vec3(params[gp.offset + t * 6u + k * 2u], params[gp.offset + t * 6u + k * 2u + 1u],
                params[gz.offset + t * 3u + k]);
}

void set_corner(uint t, uint k, vec3 p) {
    Group gp = groups[GROUP_POSITIONS];
    Group gz = groups[GROUP_DEPTHS];
    params[gp.offset + t * 6u + k * 2u] = p.x;
    params[gp.offset + t * 6u + k * 2u + 1u] = p.y;
    params[gz.offset + t * 3u + k] = p.z;
}

// Corner k of triangle t on camera 0's screen, in pixels; false behind the camera.
bool screen(uint t, uint k, out vec2 s) {
    vec4 clip = cameras[0].view_proj * vec4(corner(t, k), 1.0);
    s = clip.xy / clip.w * u_half_size;
    return clip.w > 0.0;
}

#endif

#if RS_PASS == 3
void reset(uint t) {
    for (uint gi = 0u; gi < uint(NUM_GROUPS); ++gi) {
        Group g = groups[gi];
        for (uint j = 0u; j < g.stride; ++j) moments[g.offset + t * g.stride + j] = vec2(0.0);
    }
    births[t] = u_iteration;
    last_seen[t] = u_iteration;
}
#endif

void main() {
    uint i = global_index_1d();
#if RS_PASS == 0
    if (i >= u_n) return;
    for (uint p = 0u; p < u_pairs; ++p) {
        if (accum_value(p, i) != 0.0) {
            last_seen[i] = u_iteration;
            return;
        }
    }
#elif RS_PASS == 1
    if (i >= u_n) return;
    vec2 s0, s1, s2;
    bool front = screen(i, 0u, s0) && screen(i, 1u, s1) && screen(i, 2u, s2);
    vec2 e1 = s1 - s0, e2 = s2 - s0;
    float a = front ? 0.5 * abs(e1.x * e2.y - e1.y * e2.x) : 0.0;
    area[i] = a;
    bool bad = (u_iteration - last_seen[i]) >= u_unseen || a < u_min_area;
    invalid_flag[i] = bad ? 1u : 0u;
    donor_flag[i] = (!bad && a >= 2.0 * u_min_area && a > 0.0) ? 1u : 0u;
#elif RS_PASS == 2
    if (i >= u_n) return;
    if (invalid_flag[i] != 0u) invalid_list[invalid_pos[i]] = i;
    if (donor_flag[i] != 0u) donor_list[donor_pos[i]] = i;
#else
    uint n_invalid = counts[1], n_donors = counts[2];
    uint pairs = min(n_invalid, n_donors / u_candidates);
    if (i >= pairs) return;
    uint off = pcg_hash(pcg_hash(u_seed ^ 0x2545F491u) ^ u_iteration) % n_donors;
    uint donor = donor_list[(i + off) % n_donors];
    for (uint j = 1u; j < u_candidates; ++j) {
        uint c = donor_list[(i + j * pairs + off) % n_donors];
        if (area[c] > area[donor]) donor = c;
    }
    uint child = invalid_list[i];
    // The longest screen edge k: from corner k to corner k + 1.
    vec2 s[3];
    screen(donor, 0u, s[0]);
    screen(donor, 1u, s[1]);
    screen(donor, 2u, s[2]);
    uint k = 0u;
    float best = -1.0;
    for (uint e = 0u; e < 3u; ++e) {
        vec2 d = s[(e + 1u) % 3u] - s[e];
        float len = dot(d, d);
        if (len > best) { best = len; k = e; }
    }
    uint kb = (k + 1u) % 3u;
    vec3 p[3] = vec3[3](corner(donor, 0u), corner(donor, 1u), corner(donor, 2u));
    vec3 m = (p[k] + p[kb]) * 0.5;
    for (uint c = 0u; c < 3u; ++c) set_corner(child, c, c == k ? m : p[c]);
    set_corner(donor, kb, m);
    Group gc = groups[GROUP_COLORS];
    for (uint c = 0u; c < 3u; ++c) params[gc.offset + child * 3u + c] = params[gc.offset + donor * 3u + c];
#ifdef GROUP_OPACITY
    Group go = groups[GROUP_OPACITY];    // the halves keep the donor's opacity (the image is unchanged)
    params[go.offset + child] = params[go.offset + donor];
#endif
    reset(donor);
    reset(child);
#endif
}
