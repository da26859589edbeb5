// Colour of one output pixel of one copy: the mean over its SS x SS
// subsamples of the scene's shading of the id found there (background where
// 0). The ids are returned so G can find the pixel's contributors.
// Needs tiles.glsl, the scene include, u_ids and u_background.

#define NSUB (SS * SS)

layout(binding = TEX_IDS) uniform usampler2D u_ids;
uniform vec3 u_background;

vec3 resolve_pixel(int copy, ivec2 px, uint key, float sigma, out uint ids[NSUB]) {
    ivec2 base = tile_origin(copy) + px * SS;
    vec3 sum = vec3(0.0);
    for (int k = 0; k < NSUB; ++k) {
        uint id = texelFetch(u_ids, base + ivec2(k % SS, k / SS), 0).r;
        ids[k] = id;
        sum += id == 0u ? u_background : scene_shade(id, px, key, sigma);
    }
    return sum * (1.0 / float(NSUB));
}
