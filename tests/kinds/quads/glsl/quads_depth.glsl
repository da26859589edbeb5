// Sort key of a quad: its fixed depth (declared buffer).
layout(std430, binding = SSBO_SCENE_DEPTHS) readonly buffer Depths { float quad_depth[]; };

float scene_depth(uint prim) {
    return 2.0 * quad_depth[prim] - 1.0;
}
