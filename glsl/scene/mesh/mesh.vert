#version 430
// R for indexed triangle meshes: shared vertex positions fetched from the
// parameter buffer with the perturbation fused in. A shared vertex gets one
// perturbation, seen by all its triangles. The fragment stage writes the
// triangle id (+1); G recomputes the barycentrics.
#define VERTEX_STAGE
#include "buffers.glsl"
#include "rng.glsl"
#include "perturb.glsl"
#include "tiles.glsl"
#include "views.glsl"
#include "copies.glsl"
#include "mesh_perturbed.glsl"

// An indexed draw (the faces are the index buffer, ID_FROM_PRIMITIVE): one invocation per
// shared vertex and copy where the post-transform cache holds it; id.frag takes the triangle
// from gl_PrimitiveID (with an opacity group, mesh_deep.frag: the copy's key and sign go
// to it flat, the same for every vertex of the instance). (Pulling 3 vertices per triangle through faces[] cost 1.46x the
// render time: NVIDIA H200, docs/design.md.)
#ifdef GROUP_OPACITY
invariant gl_Position;   // the k-buffer rasterises twice and needs equal depths
flat out uint v_key;
flat out float v_sigma;
#endif

void main() {
    uint v = uint(gl_VertexID);
    CopyInfo ci = copy_info(gl_InstanceID);
    vec3 p = perturbed_position(v, ci.key, ci.sigma);
    gl_Position = to_tile(cameras[ci.cam].view_proj * vec4(p, 1.0), gl_InstanceID);
#ifdef GROUP_OPACITY
    v_key = ci.key;
    v_sigma = ci.sigma;
#endif
}
