// Work-group tree reduction of a vec2 in shared memory; the sum is valid in
// local invocation 0. Every invocation of the group must call it.
#define WG_2D (WG_2D_X * WG_2D_Y)
shared vec2 s_reduce[WG_2D];

vec2 wg_reduce(vec2 v) {
    uint li = gl_LocalInvocationIndex;
    s_reduce[li] = v;
    barrier();
    for (uint s = uint(WG_2D) / 2u; s > 0u; s >>= 1u) {
        if (li < s) s_reduce[li] += s_reduce[li + s];
        barrier();
    }
    return s_reduce[0];
}
