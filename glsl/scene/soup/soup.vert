#version 430
// R for the triangle soup: vertex pulling from the parameter buffer with the
// perturbation fused in. One instance per copy; the fragment stage writes the
// triangle id (+1) into the R32UI id buffer. With an opacity group
// (scene.opacity) the fragment stage is the core's deep_id.frag: v_alpha is
// the copy's perturbed opacity (sigmoid of the logit), flat over the triangle.
#define VERTEX_STAGE
#include "buffers.glsl"
#include "rng.glsl"
#include "perturb.glsl"
#include "tiles.glsl"
#include "views.glsl"
#include "copies.glsl"

flat out uint v_id;
#ifdef GROUP_OPACITY
invariant gl_Position;   // the k-buffer rasterises twice and needs equal depths
flat out float v_alpha;
#endif

// Draw order (front to back), refreshed by depth_sort.comp.
layout(std430, binding = SSBO_ORDER) readonly buffer Order { uint order[]; };

void main() {
    uint slot = uint(gl_VertexID) / 3u;
    uint corner = uint(gl_VertexID) - slot * 3u;
    uint tri = order[slot];
    CopyInfo ci = copy_info(gl_InstanceID);

    Group gp = groups[GROUP_POSITIONS];
    Group gz = groups[GROUP_DEPTHS];
    uint ip = gp.offset + tri * 6u + corner * 2u;
    uint iz = gz.offset + tri * 3u + corner;
    vec3 p = vec3(perturbed(ip, gp.eps, ci.key, ci.sigma),
                  perturbed(ip + 1u, gp.eps, ci.key, ci.sigma),
                  perturbed(iz, gz.eps, ci.key, ci.sigma));
    gl_Position = to_tile(cameras[ci.cam].view_proj * vec4(p, 1.0), gl_InstanceID);
    v_id = tri + 1u;
#ifdef GROUP_OPACITY
    Group go = groups[GROUP_OPACITY];
    v_alpha = 1.0 / (1.0 + exp(-perturbed(go.offset + tri, go.eps, ci.key, ci.sigma)));
#endif
}
