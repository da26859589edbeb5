// G-side code of the soft rasterizer over a soup (#include <scene>): the soup's flat colour
// per triangle, then the soft combination of a sample's fragments (soft_composite.glsl).
#include "soup_shade.glsl"
#include "soft_composite.glsl"
