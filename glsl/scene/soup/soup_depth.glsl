// Sort key of a soup triangle: clip-space depth of its centroid (unperturbed)
// seen by camera 0 (the order is only used by single-camera jobs).
float scene_depth(uint prim) {
    Group gp = groups[GROUP_POSITIONS];
    Group gz = groups[GROUP_DEPTHS];
    vec3 c = vec3(0.0);
    for (uint k = 0u; k < 3u; ++k) {
        c += vec3(params[gp.offset + prim * 6u + k * 2u], params[gp.offset + prim * 6u + k * 2u + 1u],
                  params[gz.offset + prim * 3u + k]);
    }
    vec4 clip = cameras[0].view_proj * vec4(c / 3.0, 1.0);
    return clip.w > 0.0 ? clip.z / clip.w : 2.0;
}
