// The height map of a displaced subdivision surface (DISPLACE): its bilinear footprint at uv.
// Needs maps.glsl.

#ifdef DISPLACE
#ifdef MAP_HEIGHT_PERTURB
#define HEIGHT_PERTURB true
#else
#define HEIGHT_PERTURB false
#endif

Footprint height_footprint(vec2 uv) {
    return map_footprint(uv, ivec2(MAP_HEIGHT_W, MAP_HEIGHT_H));
}
#endif
