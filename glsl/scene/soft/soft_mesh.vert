#version 430
// R of the soft rasterizer over an indexed mesh (scene.kind soft_mesh, docs/soft.md): a
// plain draw of 3 vertices per face, each fetching its face's three shared vertices
// (perturbed; mesh_perturbed.glsl) through faces[], the triangle grown by the band
// (soft_grow.glsl). One instance per copy.
#define VERTEX_STAGE
#include "buffers.glsl"
#include "rng.glsl"
#include "perturb.glsl"
#include "tiles.glsl"
#include "views.glsl"
#include "copies.glsl"
#include "mesh_common.glsl"
#include "mesh_perturbed.glsl"
#include "soft_grow.glsl"

void main() {
    uint tri = uint(gl_VertexID) / 3u;
    uint corner = uint(gl_VertexID) - tri * 3u;
    CopyInfo ci = copy_info(gl_InstanceID);
    mat4 vp = cameras[ci.cam].view_proj;
    vec4 c[3];
    for (int k = 0; k < 3; ++k) c[k] = vp * vec4(perturbed_position(faces[tri * 3u + uint(k)], ci.key, ci.sigma), 1.0);
    soft_emit_corner(tri, corner, c, gl_InstanceID);
}
