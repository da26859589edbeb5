#version 430
// R for subdivision surfaces: a plain draw of 3 vertices per triangle of the final level
// (2 per quad, subdiv_common.glsl); each corner is read from the copy's refined points (and
// displaced), so gl_PrimitiveID (id.frag) is the triangle. A clean draw reads slot 0.
#define VERTEX_STAGE
#include "buffers.glsl"
#include "rng.glsl"
#include "perturb.glsl"
#include "tiles.glsl"
#include "views.glsl"
#include "copies.glsl"
#include "subdiv_common.glsl"

void main() {
    uint vid = uint(gl_VertexID);
    uint t = vid / 3u;
    CopyInfo ci = copy_info(gl_InstanceID);
    int slot = u_clean != 0 ? 0 : gl_InstanceID;
    vec3 p = corner_position(slot, triangle_corner(t, vid - 3u * t));
    gl_Position = to_tile(cameras[ci.cam].view_proj * vec4(p, 1.0), gl_InstanceID);
}
