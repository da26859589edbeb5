// Material maps stored in the parameter buffer: bilinear footprints (repeat, row 0 = top,
// texel centres at (i + 0.5) / size, docs/pbr.md) and perturbed reads. A map of C channels
// is a group of stride C, texel-major. Needs buffers.glsl and perturb.glsl.

uint map_wrap(ivec2 t, ivec2 size) {
    t -= size * ivec2(floor(vec2(t) / vec2(size)));   // repeat (GLSL % is undefined for negatives)
    return uint(t.y * size.x + t.x);
}

// The 4 texels of uv's bilinear footprint on a map of `size`, and their weights.
uvec4 map_footprint(vec2 uv, ivec2 size, out vec4 wt) {
    vec2 f = vec2(uv.x * float(size.x) - 0.5, (1.0 - uv.y) * float(size.y) - 0.5);
    ivec2 i0 = ivec2(floor(f));
    vec2 fr = f - floor(f);
    wt = vec4((1.0 - fr.x) * (1.0 - fr.y), fr.x * (1.0 - fr.y), (1.0 - fr.x) * fr.y, fr.x * fr.y);
    return uvec4(map_wrap(i0, size), map_wrap(i0 + ivec2(1, 0), size), map_wrap(i0 + ivec2(0, 1), size),
                 map_wrap(i0 + ivec2(1, 1), size));
}

float map_param(uint group, uint texel, uint c, bool perturb, uint key, float sigma) {
    Group g = groups[group];
    uint i = g.offset + texel * g.stride + c;
    return perturb ? perturbed(i, g.eps, key, sigma) : params[i];
}

float map_sample1(uint group, uvec4 t, vec4 wt, bool perturb, uint key, float sigma) {
    return wt.x * map_param(group, t.x, 0u, perturb, key, sigma) + wt.y * map_param(group, t.y, 0u, perturb, key, sigma)
         + wt.z * map_param(group, t.z, 0u, perturb, key, sigma) + wt.w * map_param(group, t.w, 0u, perturb, key, sigma);
}

vec2 map_sample2(uint group, uvec4 t, vec4 wt, bool perturb, uint key, float sigma) {
    vec2 v = vec2(0.0);
    for (int k = 0; k < 4; ++k) {
        v += wt[k] * vec2(map_param(group, t[k], 0u, perturb, key, sigma), map_param(group, t[k], 1u, perturb, key, sigma));
    }
    return v;
}

vec3 map_texel3(uint group, uint texel, bool perturb, uint key, float sigma) {
    return vec3(map_param(group, texel, 0u, perturb, key, sigma), map_param(group, texel, 1u, perturb, key, sigma),
                map_param(group, texel, 2u, perturb, key, sigma));
}

vec3 map_sample3(uint group, uvec4 t, vec4 wt, bool perturb, uint key, float sigma) {
    return wt.x * map_texel3(group, t.x, perturb, key, sigma) + wt.y * map_texel3(group, t.y, perturb, key, sigma)
         + wt.z * map_texel3(group, t.z, perturb, key, sigma) + wt.w * map_texel3(group, t.w, perturb, key, sigma);
}


// Map pyramids (scene/material/pyramid.py): level k of a map whose finest level is `size`
// has ceil(size / 2^k) texels and is parameter group `group + k` (scene/material/layer.py).
ivec2 level_size(ivec2 size, int k) {
    return max((size + ivec2((1 << k) - 1)) >> k, ivec2(1));
}

vec3 pyramid_sample3(uint group, ivec2 size, int levels, vec2 uv, bool perturb, uint key, float sigma) {
    vec3 v = vec3(0.0);
    for (int k = 0; k < levels; ++k) {
        ivec2 s = level_size(size, k);
        vec4 wt;
        uvec4 t = map_footprint(uv, s, wt);     // its own statement: wt is an out argument used below
        v += map_sample3(group + uint(k), t, wt, perturb, key, sigma);
    }
    return v;
}

vec2 pyramid_sample2(uint group, ivec2 size, int levels, vec2 uv, bool perturb, uint key, float sigma) {
    vec2 v = vec2(0.0);
    for (int k = 0; k < levels; ++k) {
        ivec2 s = level_size(size, k);
        vec4 wt;
        uvec4 t = map_footprint(uv, s, wt);     // its own statement: wt is an out argument used below
        v += map_sample2(group + uint(k), t, wt, perturb, key, sigma);
    }
    return v;
}

float pyramid_sample1(uint group, ivec2 size, int levels, vec2 uv, bool perturb, uint key, float sigma) {
    float v = 0.0;
    for (int k = 0; k < levels; ++k) {
        ivec2 s = level_size(size, k);
        vec4 wt;
        uvec4 t = map_footprint(uv, s, wt);     // its own statement: wt is an out argument used below
        v += map_sample1(group + uint(k), t, wt, perturb, key, sigma);
    }
    return v;
}
