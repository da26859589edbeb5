// Material maps stored in the parameter buffer: bilinear footprints (repeat, row 0 = top,
// texel centres at (i + 0.5) / size, docs/pbr.md) and perturbed reads. A map of C channels
// is a group of stride C, texel-major. Needs buffers.glsl and perturb.glsl.

uint map_wrap(ivec2 t, ivec2 size) {
    t -= size * ivec2(floor(vec2(t) / vec2(size)));   // repeat (GLSL % is undefined for negatives)
    return uint(t.y * size.x + t.x);
}

// The 4 texels of uv's bilinear footprint on a map of `size`, and their weights. Returned as a
// struct, not through an out parameter: NVIDIA's compiler mishandled an out vec4 here (stale
// weights when the call sat in another call's arguments; "lvalue too complex" errors).
struct Footprint { uvec4 texel; vec4 weight; };

Footprint map_footprint(vec2 uv, ivec2 size) {
    vec2 f = vec2(uv.x * float(size.x) - 0.5, (1.0 - uv.y) * float(size.y) - 0.5);
    ivec2 i0 = ivec2(floor(f));
    vec2 fr = f - floor(f);
    Footprint fp;
    fp.weight = vec4((1.0 - fr.x) * (1.0 - fr.y), fr.x * (1.0 - fr.y), (1.0 - fr.x) * fr.y, fr.x * fr.y);
    fp.texel = uvec4(map_wrap(i0, size), map_wrap(i0 + ivec2(1, 0), size), map_wrap(i0 + ivec2(0, 1), size),
                     map_wrap(i0 + ivec2(1, 1), size));
    return fp;
}

float map_param(uint group, uint texel, uint c, bool perturb, uint key, float sigma) {
    uint i = groups[group].offset + texel * groups[group].stride + c;
    return perturb ? perturbed(i, groups[group].eps, key, sigma) : params[i];
}

float map_sample1(uint group, Footprint fp, bool perturb, uint key, float sigma) {
    return fp.weight.x * map_param(group, fp.texel.x, 0u, perturb, key, sigma)
         + fp.weight.y * map_param(group, fp.texel.y, 0u, perturb, key, sigma)
         + fp.weight.z * map_param(group, fp.texel.z, 0u, perturb, key, sigma)
         + fp.weight.w * map_param(group, fp.texel.w, 0u, perturb, key, sigma);
}

vec2 map_texel2(uint group, uint texel, bool perturb, uint key, float sigma) {
    return vec2(map_param(group, texel, 0u, perturb, key, sigma), map_param(group, texel, 1u, perturb, key, sigma));
}

vec2 map_sample2(uint group, Footprint fp, bool perturb, uint key, float sigma) {
    return fp.weight.x * map_texel2(group, fp.texel.x, perturb, key, sigma)
         + fp.weight.y * map_texel2(group, fp.texel.y, perturb, key, sigma)
         + fp.weight.z * map_texel2(group, fp.texel.z, perturb, key, sigma)
         + fp.weight.w * map_texel2(group, fp.texel.w, perturb, key, sigma);
}

vec3 map_texel3(uint group, uint texel, bool perturb, uint key, float sigma) {
    return vec3(map_param(group, texel, 0u, perturb, key, sigma), map_param(group, texel, 1u, perturb, key, sigma),
                map_param(group, texel, 2u, perturb, key, sigma));
}

vec3 map_sample3(uint group, Footprint fp, bool perturb, uint key, float sigma) {
    return fp.weight.x * map_texel3(group, fp.texel.x, perturb, key, sigma)
         + fp.weight.y * map_texel3(group, fp.texel.y, perturb, key, sigma)
         + fp.weight.z * map_texel3(group, fp.texel.z, perturb, key, sigma)
         + fp.weight.w * map_texel3(group, fp.texel.w, perturb, key, sigma);
}


// Map pyramids (scene/material/pyramid.py): level k of a map whose finest level is `size`
// has ceil(size / 2^k) texels and is parameter group `group + k` (scene/material/layer.py).
// The levels are unrolled by hand (PYRAMID_LEVELS), not looped over: with a loop over k, NVIDIA's
// compiler (driver 580, H200) read every map's texels from the first map's group once several
// such loops were inlined into one shader (roughness and metallic rendered as base colour).
ivec2 level_size(ivec2 size, int k) {
    return max((size + ivec2((1 << k) - 1)) >> k, ivec2(1));
}

// STEP(k) for k = 1 .. levels - 1 (`levels` is a compile-time constant at every call site;
// scene.material.<map>.levels <= 12).
#define PYRAMID_LEVELS(STEP) \
    if (levels > 1) STEP(1); if (levels > 2) STEP(2); if (levels > 3) STEP(3); if (levels > 4) STEP(4); \
    if (levels > 5) STEP(5); if (levels > 6) STEP(6); if (levels > 7) STEP(7); if (levels > 8) STEP(8); \
    if (levels > 9) STEP(9); if (levels > 10) STEP(10); if (levels > 11) STEP(11)

#define PYRAMID_SAMPLE1(k) v += map_sample1(group + uint(k), map_footprint(uv, level_size(size, k)), perturb, key, sigma)
#define PYRAMID_SAMPLE2(k) v += map_sample2(group + uint(k), map_footprint(uv, level_size(size, k)), perturb, key, sigma)
#define PYRAMID_SAMPLE3(k) v += map_sample3(group + uint(k), map_footprint(uv, level_size(size, k)), perturb, key, sigma)

vec3 pyramid_sample3(uint group, ivec2 size, int levels, vec2 uv, bool perturb, uint key, float sigma) {
    vec3 v = map_sample3(group, map_footprint(uv, size), perturb, key, sigma);
    PYRAMID_LEVELS(PYRAMID_SAMPLE3);
    return v;
}

vec2 pyramid_sample2(uint group, ivec2 size, int levels, vec2 uv, bool perturb, uint key, float sigma) {
    vec2 v = map_sample2(group, map_footprint(uv, size), perturb, key, sigma);
    PYRAMID_LEVELS(PYRAMID_SAMPLE2);
    return v;
}

float pyramid_sample1(uint group, ivec2 size, int levels, vec2 uv, bool perturb, uint key, float sigma) {
    float v = map_sample1(group, map_footprint(uv, size), perturb, key, sigma);
    PYRAMID_LEVELS(PYRAMID_SAMPLE1);
    return v;
}
