// What splat_project.comp records for splat s of copy c, at c * SPLAT_COUNT + s
// (the declared per-copy buffer PROJECTED): its mean's clip position, the conic
// (Sigma2D^-1 as a, b, c) and the half side r of its square in output pixels,
// its colour seen from the copy's camera and its opacity (0: culled).

struct SplatCopy {
    vec4 clip;
    vec4 conic_radius;
    vec4 color_opacity;
};

layout(std430, binding = SSBO_SCENE_PROJECTED) buffer SplatsProjected { SplatCopy splat_copies[]; };

SplatCopy splat_copy(int copy, uint s) { return splat_copies[uint(copy) * uint(SPLAT_COUNT) + s]; }
