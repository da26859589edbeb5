// What a copy of the R pass is: its camera, pair key and perturbation sign.
// Perturbed pass: copy c is the plus (even c) or minus copy of pair c / 2.
// Clean pass (u_clean = 1): copy c is view slot c, unperturbed.
// Needs rng.glsl and views.glsl.

uniform int u_clean;
uniform uint u_seed;
uniform uint u_iteration;

struct CopyInfo {
    uint cam;
    uint key;
    float sigma;
};

CopyInfo copy_info(int copy) {
    CopyInfo ci;
    if (u_clean != 0) {
        ci.cam = view_cams[copy];
        ci.key = 0u;
        ci.sigma = 0.0;
    } else {
        uint pair = uint(copy) >> 1;
        ci.cam = camera_of_pair(pair);
        ci.key = pair_key(u_seed, u_iteration, pair);
        ci.sigma = (copy & 1) == 0 ? 1.0 : -1.0;
    }
    return ci;
}
