// G-side code of the soft rasterizer over a soup (#include <scene>): the soup's flat colour
// per triangle, the soft combination of a sample's fragments (soft_composite.glsl) and, with
// scene.gradient: analytic, the exact gradients of positions and colours (soft_analytic.glsl).
#include "soup_shade.glsl"
#include "soft_composite.glsl"
#include "soft_corners.glsl"
#include "soft_analytic.glsl"
