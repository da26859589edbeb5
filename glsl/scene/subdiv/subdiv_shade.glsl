// G-side code of subdivision surfaces (#include <scene>). R wrote the final level's triangle
// ids; a sample's corners are read again from the copy's refined points (the copy is the
// tile the texel lies in; a clean render's is slot 0), its barycentrics recomputed as for
// meshes. Its contributors: the cage face its quad lies in (quad q >> 2 (L - 1) is a cage
// halfedge; cage_face[] its face), the footprints of SGE maps, and with a perturbed height
// map the height texels of its 3 corners. Shading: PBR through the material layer (maps at
// the corner UVs, tangents of the initial refined surface), or unlit / Lambert with the
// base colour. Normal: the copy's vertex normals (SMOOTH_NORMALS) or the triangle's own
// (face normals, and always with displacement: its shading carries the height's gradient).
// Needs contributors.glsl and resolve.glsl's texel_ndc (declared below).

#ifdef PBR
#include "material.glsl"
layout(std430, binding = SSBO_SCENE_CORNER_TANGENT) readonly buffer CornerTangent { vec4 corner_tangent[]; };
#endif
#include "subdiv_common.glsl"
#ifdef DISPLACE
#include "subdiv_height.glsl"
#endif
#include "barycentrics.glsl"

layout(std430, binding = SSBO_SCENE_CAGE_FACE) readonly buffer CageFace { uint cage_face[]; };
uniform vec3 u_light_dir;   // unit, towards the light, world space
uniform float u_ambient;

vec2 texel_ndc(ivec2 texel);

#if defined(MATERIAL_ANALYTIC) && defined(G_PASS)
void scene_analytic(uint pair, vec3 dl) {
    material_analytic(pair, dl);
}
#endif

vec3 scene_sample(uint id, ivec2 texel, uint cam, uint key, float sigma) {
    uint t = id - 1u;
    int slot = sigma == 0.0 ? 0 : copy_of_texel(texel);
    uint h0 = triangle_corner(t, 0u), h1 = triangle_corner(t, 1u), h2 = triangle_corner(t, 2u);
    vec3 p0 = corner_position(slot, h0);
    vec3 p1 = corner_position(slot, h1);
    vec3 p2 = corner_position(slot, h2);
    vec3 w = barycentrics(cameras[cam].view_proj, p0, p1, p2, texel_ndc(texel));
    vec3 p = w.x * p0 + w.y * p1 + w.z * p2;
#ifdef GEOMETRY_CONTRIB
    add_contributor(cage_face[(t >> 1) >> (2u * uint(SUBDIV_LEVELS - 1))]);
#endif
#ifdef MAP_HEIGHT_PERTURB
    add_map_contributors(GROUP_HEIGHT, height_footprint(vertex_uv[level_vert[h0]]));
    add_map_contributors(GROUP_HEIGHT, height_footprint(vertex_uv[level_vert[h1]]));
    add_map_contributors(GROUP_HEIGHT, height_footprint(vertex_uv[level_vert[h2]]));
#endif
#if defined(SMOOTH_NORMALS) && !defined(DISPLACE)
    uint nb = uint(slot) * uint(SUBDIV_VERTICES);
    vec3 n = w.x * normals[nb + level_vert[h0]].xyz + w.y * normals[nb + level_vert[h1]].xyz
           + w.z * normals[nb + level_vert[h2]].xyz;
#else
    vec3 n = cross(p1 - p0, p2 - p0);
#endif
#ifdef PBR
    vec2 uv = w.x * corner_uv[h0] + w.y * corner_uv[h1] + w.z * corner_uv[h2];
    vec4 tg = w.x * corner_tangent[h0] + w.y * corner_tangent[h1] + w.z * corner_tangent[h2];
    tg.w = corner_tangent[h0].w;
    return surface_color(uv, n, tg, p, cam, key, sigma);
#else
    float shade = 1.0;
#ifdef LAMBERT
    n = normalize(n + vec3(0.0, 0.0, 1e-20));
    if (dot(n, cameras[cam].eye.xyz - p) < 0.0) n = -n;  // two-sided
    shade = u_ambient + (1.0 - u_ambient) * max(dot(n, u_light_dir), 0.0);
#endif
    return vec3(BASE_COLOR) * shade;
#endif
}
