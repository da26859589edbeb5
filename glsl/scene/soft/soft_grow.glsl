// R of the soft rasterizer, the vertex stage's common part (docs/soft.md): a triangle given
// by its three corners in clip space, grown in screen space by SOFT_BAND output pixels (+ 1
// for the sample grid), each corner moved along its miter (at most 4x the band at sharp
// corners). The fragment stage (soft.frag) needs the original corners, in samples within
// the copy's tile: flat outputs. Triangles with a corner behind the camera, or of zero area,
// draw nothing. Needs tiles.glsl (to_tile, u_tile_size); the includer fetches the corners.

flat out uint v_id;
flat out vec2 v_p0;
flat out vec2 v_p1;
flat out vec2 v_p2;

// Emit corner `corner` of triangle `tri` (v_id = tri + 1) of copy `instance`.
void soft_emit_corner(uint tri, uint corner, vec4 c[3], int instance) {
    vec2 tile = vec2(u_tile_size);
    vec2 px[3];
    for (int k = 0; k < 3; ++k) px[k] = (c[k].xy / c[k].w * 0.5 + 0.5) * tile;   // samples, in the tile
    v_id = tri + 1u;
    v_p0 = px[0];
    v_p1 = px[1];
    v_p2 = px[2];
    float area = (px[1].x - px[0].x) * (px[2].y - px[0].y) - (px[1].y - px[0].y) * (px[2].x - px[0].x);
    if (!(c[0].w > 0.0 && c[1].w > 0.0 && c[2].w > 0.0) || area == 0.0) {
        gl_Position = to_tile(vec4(0.0, 0.0, 0.0, 1.0), instance);    // nothing to draw
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
    gl_Position = to_tile(vec4(ndc * c[k].w, c[k].z, c[k].w), instance);
}
