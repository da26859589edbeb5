// A copy's view of one output pixel: its colour (mean over the SS x SS
// subsamples of the scene's shading, background where the id is 0) and,
// if asked, its contributors (union over subsamples, each once).
// Needs tiles.glsl, the scene include (<scene>, which defines scene_sample
// and SCENE_MAX_CONTRIB), u_ids and u_background.

#define NSUB (SS * SS)
#define MAX_CONTRIB (2 * NSUB * SCENE_MAX_CONTRIB)

layout(binding = TEX_IDS) uniform usampler2D u_ids;
uniform vec3 u_background;

ivec2 subsample_texel(int copy, ivec2 px, int k) {
    return tile_origin(copy) + px * SS + ivec2(k % SS, k / SS);
}

// NDC position of the centre of a texel of the tiled target, within its own tile.
vec2 texel_ndc(ivec2 texel) {
    vec2 local = vec2(texel - (texel / u_tile_size) * u_tile_size) + 0.5;
    return 2.0 * local / vec2(u_tile_size) - 1.0;
}

vec3 resolve_pixel(int copy, ivec2 px, uint cam, uint key, float sigma, bool collect,
                   inout uint list[MAX_CONTRIB], inout int n) {
    vec3 sum = vec3(0.0);
    for (int k = 0; k < NSUB; ++k) {
        ivec2 texel = subsample_texel(copy, px, k);
        uint id = texelFetch(u_ids, texel, 0).r;
        if (id == 0u) {
            sum += u_background;
            continue;
        }
        uint c[SCENE_MAX_CONTRIB];
        int m;
        sum += scene_sample(id, texel, cam, key, sigma, c, m);
        if (!collect) continue;
        for (int j = 0; j < m; ++j) {
            bool seen = false;
            for (int q = 0; q < n; ++q) {
                if (list[q] == c[j]) { seen = true; break; }
            }
            if (!seen) list[n++] = c[j];
        }
    }
    return sum * (1.0 / float(NSUB));
}
