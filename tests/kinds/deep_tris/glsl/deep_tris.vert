#version 430
// R of the deep-id harness: flat-shaded semi-transparent triangles given
// directly in clip space (orthographic 2D, w = 1), four vec4 per triangle
// (three corners xyz, then rgb + opacity). Instance = copy, tiled with
// clip distances like every R pass; copy c is shifted by c * u_copy_shift
// (a stand-in for the perturbation of the +/- copies). Fragment stage: the
// core's deep_id.frag.
#define VERTEX_STAGE
#include "tiles.glsl"

layout(std430, binding = SSBO_DEEP_TRIS) readonly buffer DeepTris { vec4 deep_tris[]; };

uniform vec2 u_copy_shift;

invariant gl_Position;  // the k-buffer rasterises twice and needs identical depths
flat out uint v_id;
flat out float v_alpha;

void main() {
    uint tri = uint(gl_VertexID) / 3u;
    uint corner = uint(gl_VertexID) - tri * 3u;
    vec3 p = deep_tris[tri * 4u + corner].xyz;
    p.xy += float(gl_InstanceID) * u_copy_shift;
    gl_Position = to_tile(vec4(p, 1.0), gl_InstanceID);
    v_id = tri + 1u;
    v_alpha = clamp(deep_tris[tri * 4u + 3u].w, 0.0, 1.0);
}
