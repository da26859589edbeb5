// Voxel grids (scene/volume, docs/volume.md): nodes, trilinear sampling of a copy's perturbed
// density and colour, the ray through a pixel and its march (the numpy reference:
// diffrast_cli/scene/volume/grid.py). Needs buffers.glsl, rng.glsl, perturb.glsl, views.glsl
// and tiles.glsl (u_tile_size).
// Defines: GRID_NX/NY/NZ, GRID_NODES (nodes), GRID_LO, GRID_HI (vec3), GRID_STEP (world), GRID_TERMINATION,
// GRID_JITTER (random offsets on), GRID_BACKGROUND (vec3), GRID_HW_FILTER (the texture unit interpolates).

layout(std430, binding = SSBO_SCENE_INV_VIEW_PROJ) readonly buffer InvViewProj { mat4 inv_view_proj[]; };
// Per copy R draws (slot 0 for a clean render): every node's (r, g, b, density), perturbed, in a
// 3D texture with the copies stacked along z (copy k's node (x, y, z) at texel (x, y, z + k NZ);
// volume_nodes.comp writes it). The texture's tiled layout keeps a march's reads local along
// every axis (a linear buffer strides NX NY nodes per z step).
layout(binding = TEX_SCENE_COPY_NODES) uniform sampler3D u_copy_nodes;

const ivec3 GRID_N = ivec3(GRID_NX, GRID_NY, GRID_NZ);

uint node_index(ivec3 n) { return uint(n.x + GRID_NX * (n.y + GRID_NY * n.z)); }

// Point p in node units (node n at u = n), clamped to the grid.
vec3 grid_coord(vec3 p) {
    return clamp((p - GRID_LO) / (GRID_HI - GRID_LO) * vec3(GRID_N - 1), vec3(0.0), vec3(GRID_N - 1));
}

// The cell (its lowest node) of point p and the fractions within it.
ivec3 grid_cell(vec3 p, out vec3 f) {
    vec3 u = (p - GRID_LO) / (GRID_HI - GRID_LO) * vec3(GRID_N - 1);
    ivec3 c = clamp(ivec3(floor(u)), ivec3(0), GRID_N - 2);
    f = u - vec3(c);
    return c;
}

// Node n of the copy of `slot`: (r, g, b, density).
vec4 grid_node(ivec3 n, int slot) { return texelFetch(u_copy_nodes, n + ivec3(0, 0, slot * GRID_NZ), 0); }

// Density and colour at p in the copy of `slot`: trilinear over the cell's 8 nodes of the node
// densities exp(theta) and colours (clamped after interpolation). GRID_HW_FILTER: the texture
// unit interpolates (one fetch; NVIDIA's filter weights have 8 fractional bits); otherwise
// 8 texel fetches weighted here.
vec4 grid_sample(vec3 p, int slot) {
#ifdef GRID_HW_FILTER
    vec3 u = grid_coord(p) + 0.5;
    vec4 acc = texture(u_copy_nodes, (u + vec3(0.0, 0.0, float(slot * GRID_NZ))) / vec3(textureSize(u_copy_nodes, 0)));
#else
    vec3 f;
    ivec3 c = grid_cell(p, f);
    vec4 acc = vec4(0.0);
    for (int k = 0; k < 8; ++k) {
        ivec3 d = ivec3(k & 1, (k >> 1) & 1, k >> 2);
        vec3 t = mix(1.0 - f, f, vec3(d));
        acc += t.x * t.y * t.z * grid_node(c + d, slot);
    }
#endif
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

// Sample j of ray r: t = t0 + (j + jitter) step (computed per sample, not summed, so every
// march of the ray and G's gather (volume_gather.comp) agree on the positions).
float sample_t(Ray r, int j) { return r.t0 + (float(j) + r.jitter) * GRID_STEP; }

// One sample's emission-absorption step: its light added, the transmittance attenuated.
void composite(vec4 s, inout vec3 acc, inout float trans) {
    float alpha = 1.0 - exp(-s.w * GRID_STEP);
    acc += trans * alpha * s.rgb;
    trans *= 1.0 - alpha;
}

// The pixel's colour in the copy of `slot`: emission-absorption, front to back, stopped once
// the transmittance falls below GRID_TERMINATION; `last`: the index of the last sample read
// (-1: none).
vec3 march_ray(Ray r, int slot, out int last) {
    vec3 acc = vec3(0.0);
    float trans = 1.0;
    last = -1;
    for (int j = 0; sample_t(r, j) < r.t1; ++j) {
        composite(grid_sample(r.origin + sample_t(r, j) * r.dir, slot), acc, trans);
        last = j;
        if (trans < GRID_TERMINATION) break;
    }
    return acc + trans * GRID_BACKGROUND;
}

// The two copies of a pair (slots `slot` and `slot` + 1) marched in one loop, each as
// march_ray would (its own termination): the two texture reads of a step are independent,
// so one invocation keeps twice the reads in flight.
void march_pair(Ray r, int slot, out vec3 color_p, out vec3 color_m, out ivec2 last) {
    vec3 acc_p = vec3(0.0), acc_m = vec3(0.0);
    float trans_p = 1.0, trans_m = 1.0;
    bool alive_p = true, alive_m = true;
    last = ivec2(-1);
    for (int j = 0; sample_t(r, j) < r.t1 && (alive_p || alive_m); ++j) {
        vec3 p = r.origin + sample_t(r, j) * r.dir;
        if (alive_p) {
            composite(grid_sample(p, slot), acc_p, trans_p);
            last.x = j;
            alive_p = trans_p >= GRID_TERMINATION;
        }
        if (alive_m) {
            composite(grid_sample(p, slot + 1), acc_m, trans_m);
            last.y = j;
            alive_m = trans_m >= GRID_TERMINATION;
        }
    }
    color_p = acc_p + trans_p * GRID_BACKGROUND;
    color_m = acc_m + trans_m * GRID_BACKGROUND;
}

