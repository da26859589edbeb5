// Voxel grids (scene/volume, docs/volume.md): nodes, trilinear sampling of a copy's perturbed
// density and colour, the ray through a pixel and its march (the numpy reference:
// diffrast_cli/scene/volume/grid.py). Needs buffers.glsl, rng.glsl, perturb.glsl, views.glsl
// and tiles.glsl (u_tile_size).
// Defines: GRID_NX/NY/NZ, GRID_NODES (nodes), GRID_LO, GRID_HI (vec3), GRID_STEP (world), GRID_TERMINATION,
// GRID_JITTER (random offsets on), GRID_BACKGROUND (vec3).

layout(std430, binding = SSBO_SCENE_INV_VIEW_PROJ) readonly buffer InvViewProj { mat4 inv_view_proj[]; };
// Per copy R draws (slot 0 for a clean render): every node's (r, g, b, density), perturbed.
layout(std430, binding = SSBO_SCENE_COPY_NODES) buffer CopyNodes { vec4 copy_nodes[]; };

const ivec3 GRID_N = ivec3(GRID_NX, GRID_NY, GRID_NZ);

uint node_index(ivec3 n) { return uint(n.x + GRID_NX * (n.y + GRID_NY * n.z)); }

// The cell (its lowest node) of point p and the fractions within it.
ivec3 grid_cell(vec3 p, out vec3 f) {
    vec3 u = (p - GRID_LO) / (GRID_HI - GRID_LO) * vec3(GRID_N - 1);
    ivec3 c = clamp(ivec3(floor(u)), ivec3(0), GRID_N - 2);
    f = u - vec3(c);
    return c;
}

// Density and colour at p in the copy of `slot`: trilinear over the cell's 8 nodes of the node
// densities exp(theta) and colours (clamped after interpolation), read from the copy's nodes
// (volume_nodes.comp wrote them before the draw: no hashing while marching).
float grid_density(vec3 p, int slot) {
    vec3 f;
    ivec3 c = grid_cell(p, f);
    uint base = uint(slot) * uint(GRID_NODES);
    float dens = 0.0;
    for (int k = 0; k < 8; ++k) {
        ivec3 d = ivec3(k & 1, (k >> 1) & 1, k >> 2);
        vec3 t = mix(1.0 - f, f, vec3(d));
        dens += t.x * t.y * t.z * copy_nodes[base + node_index(c + d)].w;
    }
    return dens;
}

vec4 grid_sample(vec3 p, int slot) {
    vec3 f;
    ivec3 c = grid_cell(p, f);
    uint base = uint(slot) * uint(GRID_NODES);
    vec4 acc = vec4(0.0);
    for (int k = 0; k < 8; ++k) {
        ivec3 d = ivec3(k & 1, (k >> 1) & 1, k >> 2);
        vec3 t = mix(1.0 - f, f, vec3(d));
        acc += t.x * t.y * t.z * copy_nodes[base + node_index(c + d)];
    }
    return vec4(clamp(acc.rgb, 0.0, 1.0), acc.w);
}

struct Ray { vec3 origin; vec3 dir; float t0; float t1; float jitter; };

// The ray of camera cam through NDC point ndc, from the near plane, clipped to the box; the
// jitter of its samples from (seed, iteration, pixel) for a perturbed copy (0.5 when clean).
Ray pixel_ray(uint cam, vec2 ndc, ivec2 local, uint seed, uint iteration, bool clean) {
    mat4 inv = inv_view_proj[cam];
    vec4 a = inv * vec4(ndc, -1.0, 1.0);
    vec4 b = inv * vec4(ndc, 1.0, 1.0);
    Ray r;
    r.origin = a.xyz / a.w;
    r.dir = normalize(b.xyz / b.w - r.origin);
    vec3 inv_d = 1.0 / r.dir;
    vec3 ta = (GRID_LO - r.origin) * inv_d;
    vec3 tb = (GRID_HI - r.origin) * inv_d;
    vec3 tmin = min(ta, tb), tmax = max(ta, tb);
    r.t0 = max(max(max(tmin.x, tmin.y), tmin.z), 0.0);
    r.t1 = min(min(tmax.x, tmax.y), tmax.z);
    r.jitter = 0.5;
#ifdef GRID_JITTER
    if (!clean) {
        uint h = pcg_hash(pcg_hash(pcg_hash(seed ^ 0x51ED270Bu) ^ iteration) + uint(local.x) * 0x9E3779B9u
                          + uint(local.y) * 0x85EBCA6Bu);
        r.jitter = float(h >> 8) * (1.0 / 16777216.0);
    }
#endif
    return r;
}

// The pixel's colour in the copy of `slot`: emission-absorption, front to back, stopped once
// the transmittance falls below GRID_TERMINATION.
vec3 march_ray(Ray r, int slot) {
    vec3 acc = vec3(0.0);
    float trans = 1.0;
    for (float t = r.t0 + r.jitter * GRID_STEP; t < r.t1; t += GRID_STEP) {
        vec4 s = grid_sample(r.origin + t * r.dir, slot);
        float alpha = 1.0 - exp(-s.w * GRID_STEP);
        acc += trans * alpha * s.rgb;
        trans *= 1.0 - alpha;
        if (trans < GRID_TERMINATION) break;
    }
    return acc + trans * GRID_BACKGROUND;
}
