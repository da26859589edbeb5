// Sort key of a subdivision triangle. The kind draws in quad order (draw_order = False) and is
// never sorted; the depth pass is compiled for every kind, so this returns a constant.
float scene_depth(uint prim) {
    return 0.0;
}
