// Displacement mapping (scene.displacement): each base triangle is split into
// DISPLACE_LEVEL^2 sub-triangles on the fly, and every sub-triangle vertex is
// moved along the interpolated (clean, smooth) vertex normal by
// strength * (h - midlevel), h the height map at its UV (bilinear, perturbed
// with the copy when the height map is optimised). R draws sub-triangle
// tri * T + s (T = DISPLACE_LEVEL^2); G recomputes the same three vertices.
// Sub-triangle s: row i = floor(sqrt(s)) of the lattice P(i, j) = (L - i, i - j, j) / L
// (weights of the base vertices v0, v1, v2), k = s - i^2; k even: P(i, j), P(i+1, j),
// P(i+1, j+1) with j = k / 2; k odd: P(i, j), P(i+1, j+1), P(i, j+1) with j = (k - 1) / 2.
// Both keep the base triangle's winding. Lattice weights are exact ratios of integers,
// so a vertex on an edge two base triangles share gets the same weights in both.
// Needs buffers.glsl, perturb.glsl, mesh_common.glsl, mesh_perturbed.glsl, maps.glsl,
// and the CORNER_UV and NORMALS buffers.

#define DISPLACE_TRIS (DISPLACE_LEVEL * DISPLACE_LEVEL)

#ifdef MAP_HEIGHT_PERTURB
#define HEIGHT_PERTURB true
#else
#define HEIGHT_PERTURB false
#endif

vec3 lattice_weights(int i, int j) {
    return vec3(float(DISPLACE_LEVEL - i), float(i - j), float(j)) / float(DISPLACE_LEVEL);
}

// The base-triangle weights of the 3 corners of sub-triangle s (rows of the result).
mat3 sub_triangle(uint s) {
    int si = int(s);
    int i = int(sqrt(float(si)));
    while (i * i > si) --i;
    while ((i + 1) * (i + 1) <= si) ++i;
    int k = si - i * i;
    if ((k & 1) == 0) {
        int j = k / 2;
        return mat3(lattice_weights(i, j), lattice_weights(i + 1, j), lattice_weights(i + 1, j + 1));
    }
    int j = (k - 1) / 2;
    return mat3(lattice_weights(i, j), lattice_weights(i + 1, j + 1), lattice_weights(i, j + 1));
}

vec2 base_uv(uint tri, vec3 b) {
    return b.x * corner_uv[tri * 3u] + b.y * corner_uv[tri * 3u + 1u] + b.z * corner_uv[tri * 3u + 2u];
}

// The height-map footprint (texels, weights) at uv.
Footprint height_footprint(vec2 uv) {
    return map_footprint(uv, ivec2(MAP_HEIGHT_W, MAP_HEIGHT_H));
}

// The displaced point of base triangle tri at base weights b for the copy (key, sigma),
// given the copy's base vertices p0, p1, p2.
vec3 displaced_point(uint tri, vec3 b, vec3 p0, vec3 p1, vec3 p2, uint key, float sigma) {
    uint v0 = faces[tri * 3u], v1 = faces[tri * 3u + 1u], v2 = faces[tri * 3u + 2u];
    vec3 p = b.x * p0 + b.y * p1 + b.z * p2;
    vec3 n = b.x * normals[v0].xyz + b.y * normals[v1].xyz + b.z * normals[v2].xyz;
    float ln = length(n);
    n = ln > 0.0 ? n / ln : vec3(0.0);
    float h = map_sample1(GROUP_HEIGHT, height_footprint(base_uv(tri, b)), HEIGHT_PERTURB, key, sigma);
    return p + n * (DISPLACE_STRENGTH * (h - DISPLACE_MIDLEVEL));
}
