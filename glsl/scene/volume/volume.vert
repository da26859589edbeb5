#version 430
// R for voxel grids: the grid's box, 12 triangles (36 vertices, outward), per copy; the kind
// culls front faces, so every pixel whose ray meets the box is drawn once, a camera inside
// the box included. id.frag writes the triangle id (+1): G only needs it non-zero.
#define VERTEX_STAGE
#include "buffers.glsl"
#include "rng.glsl"
#include "perturb.glsl"
#include "tiles.glsl"
#include "views.glsl"
#include "copies.glsl"

const int BOX_CORNERS[36] = int[36](0, 2, 3, 0, 3, 1,  4, 5, 7, 4, 7, 6,  0, 1, 5, 0, 5, 4,
                                    2, 6, 7, 2, 7, 3,  0, 4, 6, 0, 6, 2,  1, 3, 7, 1, 7, 5);

void main() {
    int corner = BOX_CORNERS[gl_VertexID % 36];
    vec3 p = mix(GRID_LO, GRID_HI, vec3(corner & 1, (corner >> 1) & 1, corner >> 2));
    CopyInfo ci = copy_info(gl_InstanceID);
    gl_Position = to_tile(cameras[ci.cam].view_proj * vec4(p, 1.0), gl_InstanceID);
}
