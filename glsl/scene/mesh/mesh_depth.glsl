// Sort key of a mesh triangle: clip-space depth of its centroid seen by camera 0.
#include "mesh_common.glsl"

float scene_depth(uint prim) {
    vec3 c = vertex_position(faces[prim * 3u]) + vertex_position(faces[prim * 3u + 1u])
           + vertex_position(faces[prim * 3u + 2u]);
    vec4 clip = cameras[0].view_proj * vec4(c / 3.0, 1.0);
    return clip.w > 0.0 ? clip.z / clip.w : 2.0;
}
