// A sample's gathered fragments, for a kind that combines them itself (its shade include
// defines SCENE_COMPOSITE and `vec4 scene_composite(uint s)`; deep_composite.glsl calls it
// after gathering sample s, instead of alpha compositing). The shade include is compiled
// before the visibility code, so it includes these prototypes; deep_composite.glsl
// defines them. Fragment i = 0 is the nearest.

int deep_fragment_count();
uint deep_fragment_id(int i);        // primitive + 1
float deep_fragment_alpha(int i);    // what R recorded (deep_emit)
float deep_fragment_depth(int i);    // window depth in [0, 1] (0 at the near plane)
// The fragment's colour from the copy's parameters (the kind's scene_sample); call it once
// for every fragment the result depends on: it adds the fragment's contributors.
vec3 deep_fragment_color(uint id, uint s);
