// Sort key of the grid's box triangles: never sorted (draw_order = False); the depth pass is
// compiled for every kind.
float scene_depth(uint prim) {
    return 0.0;
}
