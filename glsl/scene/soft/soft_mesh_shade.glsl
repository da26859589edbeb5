// G-side code of the soft rasterizer over a mesh (#include <scene>): the mesh's shading
// (vertex colours, texture; barycentrics extend past the edges into the band), then the
// soft combination of a sample's fragments (soft_composite.glsl).
#include "mesh_shade.glsl"
#include "soft_composite.glsl"
