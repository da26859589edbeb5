#version 430
// R of the soft rasterizer (docs/soft.md): each triangle of the soup (soup.vert's vertex
// pulling, all three corners fetched by every vertex) grown in screen space by SOFT_BAND
// output pixels (+ 1 for the sample grid), each corner moved along its miter (at most 4x the
// band at sharp corners). The fragment stage (soft.frag) needs the original corners, in
// samples within the copy's tile: flat outputs. One instance per copy; triangles with a
// corner behind the camera, or of zero area, draw nothing.
#define VERTEX_STAGE
#include "buffers.glsl"
#include "rng.glsl"
#include "perturb.glsl"
#include "tiles.glsl"
#include "views.glsl"
#include "copies.glsl"

flat out uint v_id;
flat out vec2 v_p0;
flat out vec2 v_p1;
flat out vec2 v_p2;
#ifdef GROUP_OPACITY
flat out float v_alpha;
#endif

layout(std430, binding = SSBO_ORDER) readonly buffer Order { uint order[]; };

vec4 corner_clip(uint tri, uint corner, CopyInfo ci) {
    Group gp = groups[GROUP_POSITIONS];
    Group gz = groups[GROUP_DEPTHS];
    uint ip = gp.offset + tri * 6u + corner * 2u;
    uint iz = gz.offset + tri * 3u + corner;
    vec3 p = vec3(perturbed(ip, gp.eps, ci.key, ci.sigma), perturbed(ip + 1u, gp.eps, ci.key, ci.sigma),
                  perturbed(iz, gz.eps, ci.key, ci.sigma));
    return cameras[ci.cam].view_proj * vec4(p, 1.0);
}

void main() {
    uint slot = uint(gl_VertexID) / 3u;
    uint corner = uint(gl_VertexID) - slot * 3u;
    uint tri = order[slot];
    CopyInfo ci = copy_info(gl_InstanceID);
    vec4 c[3] = vec4[3](corner_clip(tri, 0u, ci), corner_clip(tri, 1u, ci), corner_clip(tri, 2u, ci));
    vec2 tile = vec2(u_tile_size);
    vec2 px[3];
    for (int k = 0; k < 3; ++k) px[k] = (c[k].xy / c[k].w * 0.5 + 0.5) * tile;   // samples, in the tile
    v_id = tri + 1u;
    v_p0 = px[0];
    v_p1 = px[1];
    v_p2 = px[2];
#ifdef GROUP_OPACITY
    Group go = groups[GROUP_OPACITY];
    v_alpha = 1.0 / (1.0 + exp(-perturbed(go.offset + tri, go.eps, ci.key, ci.sigma)));
#endif
    float area = (px[1].x - px[0].x) * (px[2].y - px[0].y) - (px[1].y - px[0].y) * (px[2].x - px[0].x);
    if (!(c[0].w > 0.0 && c[1].w > 0.0 && c[2].w > 0.0) || area == 0.0) {
        gl_Position = to_tile(vec4(0.0, 0.0, 0.0, 1.0), gl_InstanceID);    // nothing to draw
        return;
    }
    // outward normals of the two edges at this corner (either winding), the band in samples
    int k = int(corner);
    vec2 a = px[(k + 2) % 3], p = px[k], b = px[(k + 1) % 3];
    float orient = area > 0.0 ? 1.0 : -1.0;
    vec2 e_in = normalize(p - a), e_out = normalize(b - p);
    vec2 n_in = orient * vec2(e_in.y, -e_in.x), n_out = orient * vec2(e_out.y, -e_out.x);
    float band = (SOFT_BAND + 1.0) * float(SS);
    vec2 miter = (n_in + n_out) / max(1.0 + dot(n_in, n_out), 1e-6);
    float len = length(miter);
    if (len > 4.0) miter *= 4.0 / len;
    vec2 grown = p + band * miter;
    vec2 ndc = grown / tile * 2.0 - 1.0;
    gl_Position = to_tile(vec4(ndc * c[k].w, c[k].z, c[k].w), gl_InstanceID);
}
