#version 430
// R for 3D Gaussian splats (docs/splats.md): splat s is a screen-aligned square
// of half side r = ceil(3 sqrt(lambda_max)) output pixels around its projected
// mean, drawn as two triangles over its 4 corners (indexed: vertex 4 s + corner),
// at the depth of its mean, from the copy's record of splat_project.comp. The
// fragment stage (splat.frag) evaluates the 2D Gaussian and records
// (depth, s + 1, alpha) in the deep id buffer. One instance per copy. Culled
// splats (opacity 0 in the record) draw zero-area triangles.
#define VERTEX_STAGE
#include "tiles.glsl"
#include "splat_projected.glsl"

invariant gl_Position;
flat out uint v_id;
flat out vec3 v_conic;
flat out float v_opacity;
flat out float v_radius;           // the footprint's half side r (output pixels)
noperspective out vec2 v_offset;   // the fragment's position - the mean's, in output pixels

const vec2 CORNERS[4] = vec2[4](vec2(-1.0, -1.0), vec2(1.0, -1.0), vec2(1.0, 1.0), vec2(-1.0, 1.0));

void main() {
    uint s = uint(gl_VertexID) >> 2;
    uint corner = uint(gl_VertexID) & 3u;
    SplatCopy p = splat_copy(gl_InstanceID, s);
    v_id = s + 1u;
    v_conic = p.conic_radius.xyz;
    v_opacity = p.color_opacity.w;
    v_radius = p.conic_radius.w;
    if (!(v_opacity > 0.0)) {
        v_offset = vec2(0.0);
        gl_Position = to_tile(vec4(0.0, 0.0, 0.0, 1.0), gl_InstanceID);   // every corner here: no area
        return;
    }
    // a quad a quarter pixel larger than the footprint: the fragment stage tests the closed square
    // |d| <= r itself (its edges can sit exactly on sample centres)
    vec2 off = CORNERS[corner] * (v_radius + 0.25);
    v_offset = off;
    vec2 ndc = 2.0 * off / vec2(float(RENDER_W), float(RENDER_H));
    gl_Position = to_tile(vec4(p.clip.xy + ndc * p.clip.w, p.clip.zw), gl_InstanceID);
}
