// A shared mesh vertex of the copy (key, sigma): theta + sigma * s * eps (perturb.glsl); with
// scene.pose (POSE_CONTRIB) moved by the copy's perturbed pose (scene/mesh/pose.py).
// Needs buffers.glsl, rng.glsl, perturb.glsl.

#ifdef POSE_CONTRIB
uniform mat4 u_pose_to_world;   // the job camera's camera-to-world matrix

// p seen by the pose camera (distance d from direction (elevation e, azimuth a) towards the
// origin, up +y, fov f): into its frame, x and y scaled by tan(fov0 / 2) / tan(f / 2), then
// into the world as the job camera's frame.
vec3 posed(vec3 p, uint key, float sigma) {
    Group ga = groups[GROUP_POSE_ANGLES];
    Group gf = groups[GROUP_POSE_FOV];
    Group gd = groups[GROUP_POSE_DISTANCE];
    float e = perturbed(ga.offset, ga.eps, key, sigma);
    float a = perturbed(ga.offset + 1u, ga.eps, key, sigma);
    float f = perturbed(gf.offset, gf.eps, key, sigma);
    float d = perturbed(gd.offset, gd.eps, key, sigma);
    vec3 dir = vec3(cos(e) * sin(a), sin(e), cos(e) * cos(a));     // from the origin to the camera
    vec3 right = normalize(cross(vec3(0.0, 1.0, 0.0), dir));
    vec3 up = cross(dir, right);
    vec3 q = vec3(dot(right, p), dot(up, p), dot(dir, p) - d);
    q.xy *= POSE_TAN_HALF_FOV0 / tan(0.5 * f);
    return (u_pose_to_world * vec4(q, 1.0)).xyz;
}
#endif

vec3 perturbed_position(uint v, uint key, float sigma) {
    Group g = groups[GROUP_POSITIONS];
    uint i = g.offset + v * 3u;
    vec3 p = vec3(perturbed(i, g.eps, key, sigma), perturbed(i + 1u, g.eps, key, sigma),
                  perturbed(i + 2u, g.eps, key, sigma));
#ifdef POSE_CONTRIB
    p = posed(p, key, sigma);
#endif
    return p;
}
