#version 430
// R for 3D Gaussian splats (docs/splats.md): splat s is a screen-aligned square
// of half side r = ceil(3 sqrt(lambda_max)) output pixels around its projected
// mean, drawn as two triangles over its 4 corners (indexed: vertex 4 s + corner),
// at the depth of its mean. The
// fragment stage (splat.frag) evaluates the 2D Gaussian and records
// (depth, s + 1, alpha) in the deep id buffer. One instance per copy;
// parameters perturbed for the copy. Culled splats draw zero-area triangles.
#define VERTEX_STAGE
#include "buffers.glsl"
#include "rng.glsl"
#include "perturb.glsl"
#include "tiles.glsl"
#include "views.glsl"
#include "copies.glsl"
#include "splat_common.glsl"

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
    CopyInfo ci = copy_info(gl_InstanceID);
    SplatScreen sp = splat_project(s, ci.cam, ci.key, ci.sigma);
    v_id = s + 1u;
    v_conic = sp.conic;
    v_opacity = sp.valid ? splat_opacity(s, ci.key, ci.sigma) : 0.0;
    v_radius = sp.radius;
    if (!sp.valid) {
        v_offset = vec2(0.0);
        gl_Position = to_tile(vec4(0.0, 0.0, 0.0, 1.0), gl_InstanceID);   // every corner here: no area
        return;
    }
    // a quad a quarter pixel larger than the footprint: the fragment stage tests the closed square
    // |d| <= r itself (its edges can sit exactly on sample centres)
    vec2 off = CORNERS[corner] * (sp.radius + 0.25);
    v_offset = off;
    vec2 ndc = 2.0 * off / vec2(float(RENDER_W), float(RENDER_H));
    gl_Position = to_tile(vec4(sp.clip.xy + ndc * sp.clip.w, sp.clip.zw), gl_InstanceID);
}
