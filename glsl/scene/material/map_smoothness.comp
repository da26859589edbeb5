#version 430
// Smoothness of a map (a mesh's texture, a PBR map): E = weight / N * sum over texels t of
// |t - right(t)|^2 + |t - down(t)|^2 over the map's u_stride channels (N = SMOOTHNESS_REFERENCE_TEXELS
// = 512^2 whatever the map's size (scene/mesh/config.py), neighbours wrapped as the renderer
// samples: repeat), as an exact analytic gradient added into SSBO_GRAD, one thread per texel:
//   dE/dt = 2 weight / N * (4 t - left - right - up - down).
layout(local_size_x = WG_1D) in;

#include "buffers.glsl"
#include "groups.glsl"

layout(std430, binding = SSBO_GRAD) buffer Grad { float grad[]; };
uniform float u_weight;    // weight / N
uniform uint u_group;      // the map's parameter group (texel-major, u_stride channels)
uniform ivec2 u_size;      // the map's width and height
uniform uint u_stride;

float texel(int x, int y, uint c) {
    x -= u_size.x * int(floor(float(x) / float(u_size.x)));
    y -= u_size.y * int(floor(float(y) / float(u_size.y)));
    return params[groups[u_group].offset + uint(y * u_size.x + x) * u_stride + c];
}

void main() {
    uint t = global_index_1d();
    if (t >= uint(u_size.x * u_size.y)) return;
    int x = int(t % uint(u_size.x)), y = int(t / uint(u_size.x));
    uint i = groups[u_group].offset + t * u_stride;
    for (uint c = 0u; c < u_stride; ++c) {
        float g = 4.0 * texel(x, y, c) - texel(x - 1, y, c) - texel(x + 1, y, c) - texel(x, y - 1, c)
                - texel(x, y + 1, c);
        grad[i + c] += 2.0 * u_weight * g;
    }
}
