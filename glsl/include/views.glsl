// Cameras and view slots. A pass renders or compares several views; view
// slot v of the current pass shows camera view_cams[v]. In a perturbed pass
// copy c belongs to pair c / 2 and pair p to slot p / u_samples (u_samples
// sign pairs per view); in a clean pass copy c is slot c.

struct Camera {
    mat4 view_proj;
    vec4 eye;           // world position (w = 1)
};

layout(std430, binding = SSBO_CAMERAS) readonly buffer Cameras { Camera cameras[]; };
layout(std430, binding = SSBO_VIEWS) readonly buffer Views { uint view_cams[]; };

uniform int u_samples;  // sign pairs per view

uint camera_of_pair(uint pair) { return view_cams[pair / uint(u_samples)]; }
