// Perspective-correct barycentrics of the point seen at NDC `ndc` on the
// triangle p0 p1 p2 (world) through view-projection vp.
vec3 barycentrics(mat4 vp, vec3 p0, vec3 p1, vec3 p2, vec2 ndc) {
    vec3 a = (vp * vec4(p0, 1.0)).xyw;
    vec3 b = (vp * vec4(p1, 1.0)).xyw;
    vec3 c = (vp * vec4(p2, 1.0)).xyw;
    vec3 r = vec3(ndc, 1.0);
    vec3 e = vec3(dot(cross(b, c), r), dot(cross(c, a), r), dot(cross(a, b), r));
    float s = e.x + e.y + e.z;
    return abs(s) > 0.0 ? e / s : vec3(1.0 / 3.0);
}
