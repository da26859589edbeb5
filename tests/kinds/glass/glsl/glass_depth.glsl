// Sort key of a triangle: its fixed depth (declared buffer).
layout(std430, binding = SSBO_SCENE_DEPTHS) readonly buffer Depths { float tri_depth[]; };

float scene_depth(uint prim) {
    return 2.0 * tri_depth[prim] - 1.0;
}
