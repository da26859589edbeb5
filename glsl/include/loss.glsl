// Per-pixel error of a colour against the target (summed over channels).
float pixel_loss(vec3 c, vec3 t) {
    vec3 d = c - t;
#ifdef LOSS_L1
    return abs(d.r) + abs(d.g) + abs(d.b);
#else
    return dot(d, d);
#endif
}
