#version 430
// Texture smoothness E = weight / N * sum over texels t of |t - right(t)|^2 + |t - down(t)|^2
// (RGB, N = SMOOTHNESS_REFERENCE_TEXELS = 512^2 whatever the texture's size (scene/mesh/config.py),
// neighbours wrapped as the renderer samples: repeat), as an exact analytic gradient added into
// SSBO_GRAD, one thread per texel:
//   dE/dt = 2 weight / N * (4 t - left - right - up - down).
layout(local_size_x = WG_1D) in;

#include "buffers.glsl"
#include "rng.glsl"
#include "perturb.glsl"
#include "groups.glsl"

layout(std430, binding = SSBO_GRAD) buffer Grad { float grad[]; };
uniform float u_weight;    // weight / N

vec3 texel(int x, int y) {
    x -= TEX_W * int(floor(float(x) / float(TEX_W)));
    y -= TEX_H * int(floor(float(y) / float(TEX_H)));
    uint i = groups[GROUP_TEXTURE].offset + uint(y * TEX_W + x) * 3u;
    return vec3(params[i], params[i + 1u], params[i + 2u]);
}

void main() {
    uint t = global_index_1d();
    if (t >= uint(TEX_W * TEX_H)) return;
    int x = int(t % uint(TEX_W)), y = int(t / uint(TEX_W));
    vec3 g = 4.0 * texel(x, y) - texel(x - 1, y) - texel(x + 1, y) - texel(x, y - 1) - texel(x, y + 1);
    g *= 2.0 * u_weight;
    uint i = groups[GROUP_TEXTURE].offset + t * 3u;
    grad[i] += g.x;
    grad[i + 1u] += g.y;
    grad[i + 2u] += g.z;
}
