// Copies (antithetic plus/minus renders, samples, views) are tiled into one
// render target: copy c sits at tile (c % u_cols, c / u_cols), each tile of
// u_tile_size pixels. Tiling is done in clip space with clip distances, so
// it is exact and needs no viewport arrays.

uniform int u_cols;
uniform ivec2 u_tile_size;

ivec2 tile_of(int copy) { return ivec2(copy % u_cols, copy / u_cols); }
ivec2 tile_origin(int copy) { return tile_of(copy) * u_tile_size; }
int copy_of_texel(ivec2 texel) { ivec2 t = texel / u_tile_size; return t.y * u_cols + t.x; }

// Vertex stage only: map a clip position into the copy's tile and clip to it.
#ifdef VERTEX_STAGE
out gl_PerVertex {
    vec4 gl_Position;
    float gl_ClipDistance[4];
};

uniform int u_rows;
vec4 to_tile(vec4 clip, int copy) {
    ivec2 t = tile_of(copy);
    gl_ClipDistance[0] = clip.w + clip.x;
    gl_ClipDistance[1] = clip.w - clip.x;
    gl_ClipDistance[2] = clip.w + clip.y;
    gl_ClipDistance[3] = clip.w - clip.y;
    vec2 n = vec2(float(u_cols), float(u_rows));
    vec2 xy = (clip.xy + clip.w * (1.0 + 2.0 * vec2(t))) / n - clip.w;
    return vec4(xy, clip.zw);
}
#endif
