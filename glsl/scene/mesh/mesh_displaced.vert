#version 430
// R for displaced meshes (scene.displacement, mesh_displace.glsl): a plain (not
// indexed) draw of 3 vertices per sub-triangle; vertex 3 (tri * T + s) + c is corner c of
// sub-triangle s of base triangle tri, so gl_PrimitiveID (id.frag) = tri * T + s.
#define VERTEX_STAGE
#include "buffers.glsl"
#include "rng.glsl"
#include "perturb.glsl"
#include "tiles.glsl"
#include "views.glsl"
#include "copies.glsl"
#include "mesh_common.glsl"
#include "mesh_perturbed.glsl"
#include "maps.glsl"

layout(std430, binding = SSBO_SCENE_CORNER_UV) readonly buffer CornerUV { vec2 corner_uv[]; };
layout(std430, binding = SSBO_SCENE_NORMALS) readonly buffer Normals { vec4 normals[]; };

#include "mesh_displace.glsl"

void main() {
    uint vid = uint(gl_VertexID);
    uint sub = vid / 3u;
    uint tri = sub / uint(DISPLACE_TRIS);
    mat3 corners = sub_triangle(sub - tri * uint(DISPLACE_TRIS));
    CopyInfo ci = copy_info(gl_InstanceID);
    vec3 p0 = perturbed_position(faces[tri * 3u], ci.key, ci.sigma);
    vec3 p1 = perturbed_position(faces[tri * 3u + 1u], ci.key, ci.sigma);
    vec3 p2 = perturbed_position(faces[tri * 3u + 2u], ci.key, ci.sigma);
    vec3 p = displaced_point(tri, corners[vid % 3u], p0, p1, p2, ci.key, ci.sigma);
    gl_Position = to_tile(cameras[ci.cam].view_proj * vec4(p, 1.0), gl_InstanceID);
}
