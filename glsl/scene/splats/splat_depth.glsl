// Sort key of a splat: the NDC depth of its (unperturbed) mean seen by camera 0.
float scene_depth(uint prim) {
    uint i = groups[GROUP_POSITIONS].offset + 3u * prim;
    vec4 clip = cameras[0].view_proj * vec4(params[i], params[i + 1u], params[i + 2u], 1.0);
    return clip.w > 0.0 ? clamp(clip.z / clip.w, -1.0, 1.0) : 1.0;
}
