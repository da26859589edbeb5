#version 430
// After each step: the normal map's texels back to unit length (docs/pbr.md), so
// what is stored is what the shading decodes and what the exporter writes.
layout(local_size_x = WG_1D) in;

#include "buffers.glsl"
#include "groups.glsl"

uniform uint u_texels;

void main() {
    uint t = global_index_1d();
    if (t >= u_texels) return;
    uint i = groups[GROUP_NORMAL].offset + 3u * t;
    vec3 n = vec3(params[i], params[i + 1u], params[i + 2u]);
    float len = length(n);
    n = len > 1e-12 ? n / len : vec3(0.0, 0.0, 1.0);
    params[i] = n.x;
    params[i + 1u] = n.y;
    params[i + 2u] = n.z;
}
