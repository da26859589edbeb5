// Mesh data shared by the mesh passes: faces, shared vertex positions.
// Needs buffers.glsl.

layout(std430, binding = SSBO_SCENE_FACES) readonly buffer Faces { uint faces[]; };

vec3 vertex_position(uint v) {
    uint i = groups[GROUP_POSITIONS].offset + v * 3u;
    return vec3(params[i], params[i + 1u], params[i + 2u]);
}
