// G-side code of 3D Gaussian splats (#include <scene>): the colour of a
// composited splat is the one splat_project.comp computed for the sample's copy
// (the copy is the tile the texel lies in); its one contributor is the splat. The
// opacity was recorded by R for the copy.
#include "splat_projected.glsl"

vec3 scene_sample(uint id, ivec2 texel, uint cam, uint key, float sigma) {
    add_contributor(id - 1u);
    return splat_copy(copy_of_texel(texel), id - 1u).color_opacity.rgb;
}
