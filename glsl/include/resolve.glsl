// The opaque id buffer's visibility (sge/visibility.py, included as <visibility>).
// A copy's view of one output pixel: its colour, the mean over the SS x SS
// subsamples of the scene's shading (background where the id is 0). The
// scene adds each sample's contributors to the pixel's list
// (contributors.glsl) while g_collect is set.
// Needs tiles.glsl, contributors.glsl, the scene include (<scene>), u_ids
// and u_background.

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

// Whether this frame's visibility holds every fragment (G adds nothing for a frame
// that does not); the opaque id buffer always does.
bool visibility_complete(ivec2 px) { return true; }

vec3 resolve_pixel(int copy, ivec2 px, uint cam, uint key, float sigma) {
    vec3 sum = vec3(0.0);
    for (int k = 0; k < NSUB; ++k) {
        ivec2 texel = subsample_texel(copy, px, k);
        uint id = texelFetch(u_ids, texel, 0).r;
        sum += id == 0u ? u_background : scene_sample(id, texel, cam, key, sigma);
    }
    return sum * (1.0 / float(NSUB));
}
