// A copy's view of one output pixel: its colour (mean over the SS x SS
// subsamples of the scene's shading, background where the id is 0) and its
// contributors (union over subsamples, each once).
// Needs tiles.glsl, the scene include (<scene>), u_ids and u_background.

#define NSUB (SS * SS)
#define MAX_CONTRIB (2 * NSUB * SCENE_MAX_CONTRIB)

layout(binding = TEX_IDS) uniform usampler2D u_ids;
uniform vec3 u_background;

ivec2 subsample_texel(int copy, ivec2 px, int k) {
    return tile_origin(copy) + px * SS + ivec2(k % SS, k / SS);
}

vec3 resolve_pixel(int copy, ivec2 px, uint cam, uint key, float sigma) {
    vec3 sum = vec3(0.0);
    for (int k = 0; k < NSUB; ++k) {
        ivec2 texel = subsample_texel(copy, px, k);
        uint id = texelFetch(u_ids, texel, 0).r;
        sum += id == 0u ? u_background : scene_shade(id, texel, cam, key, sigma);
    }
    return sum * (1.0 / float(NSUB));
}

// Append the contributors of a copy's pixel to list[0..n), skipping ones already there.
void collect_contributors(int copy, ivec2 px, inout uint list[MAX_CONTRIB], inout int n) {
    for (int k = 0; k < NSUB; ++k) {
        ivec2 texel = subsample_texel(copy, px, k);
        uint id = texelFetch(u_ids, texel, 0).r;
        if (id == 0u) continue;
        uint c[SCENE_MAX_CONTRIB];
        int m = scene_contributors(id, texel, c);
        for (int j = 0; j < m; ++j) {
            bool seen = false;
            for (int q = 0; q < n; ++q) {
                if (list[q] == c[j]) { seen = true; break; }
            }
            if (!seen) list[n++] = c[j];
        }
    }
}
