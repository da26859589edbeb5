// Subdivision surfaces (scene/subdiv, docs/subdiv.md): the refined mesh and each copy's
// refined points. Quad q of the final level is the halfedges 4q..4q+3 (level_vert: their
// vertices); triangle 2q is its corners (0, 1, 2), triangle 2q + 1 its corners (0, 2, 3).
// POINTS holds, per copy, every level's points (SUBDIV_STRIDE vec4s; the final level at
// SUBDIV_FINAL_OFFSET); NORMALS, per copy, the final vertices' unit normals (SUBDIV_NORMALS)
// and, with DISPLACE, in w their displacement along it: strength * (height at the vertex's UV
// - midlevel). A vertex is displaced once (at the UV of its first corner, VERTEX_UV), so the
// displaced surface has no cracks where its corners' UVs differ (seams).
// A clean render refines one copy (slot 0) for every view slot.
// Needs buffers.glsl, perturb.glsl.

layout(std430, binding = SSBO_SCENE_LEVEL_VERT) readonly buffer LevelVert { uint level_vert[]; };
layout(std430, binding = SSBO_SCENE_POINTS) buffer Points { vec4 points[]; };
#ifdef SUBDIV_NORMALS
layout(std430, binding = SSBO_SCENE_NORMALS) buffer Normals { vec4 normals[]; };
#endif
#ifdef PBR
layout(std430, binding = SSBO_SCENE_CORNER_UV) readonly buffer CornerUV { vec2 corner_uv[]; };
#endif
#ifdef DISPLACE
layout(std430, binding = SSBO_SCENE_VERTEX_UV) readonly buffer VertexUV { vec2 vertex_uv[]; };
#endif

// Control point j of the copy (key, sigma): theta + sigma * s * eps.
vec3 control_point(uint j, uint key, float sigma) {
    Group g = groups[GROUP_POSITIONS];
    uint i = g.offset + j * 3u;
    return vec3(perturbed(i, g.eps, key, sigma), perturbed(i + 1u, g.eps, key, sigma),
                perturbed(i + 2u, g.eps, key, sigma));
}

uint point_index(int slot, uint v) { return uint(slot) * uint(SUBDIV_STRIDE) + uint(SUBDIV_FINAL_OFFSET) + v; }

// The final halfedge of corner k (0..2) of triangle t.
uint triangle_corner(uint t, uint k) {
    uint c = (t & 1u) == 0u ? k : (k == 0u ? 0u : k + 1u);
    return 4u * (t >> 1) + c;
}

// The corner of final halfedge h for the copy in `slot`: its refined point, displaced.
vec3 corner_position(int slot, uint h) {
    uint v = level_vert[h];
    vec3 p = points[point_index(slot, v)].xyz;
#ifdef DISPLACE
    vec4 nd = normals[uint(slot) * uint(SUBDIV_VERTICES) + v];
    p += nd.xyz * nd.w;
#endif
    return p;
}
