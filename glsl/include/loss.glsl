// Per-pixel error of a colour against the target (summed over channels).
float pixel_loss(vec3 c, vec3 t) {
    vec3 d = c - t;
#ifdef LOSS_L1
    return abs(d.r) + abs(d.g) + abs(d.b);
#else
    return dot(d, d);
#endif
}

// Its derivative with respect to the colour c.
vec3 pixel_loss_gradient(vec3 c, vec3 t) {
#ifdef LOSS_L1
    return sign(c - t);
#else
    return 2.0 * (c - t);
#endif
}
