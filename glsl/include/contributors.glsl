// The contributors of the pixel a G invocation is working on: a private,
// global list (each contributor once), filled by the scene's scene_sample
// through add_contributor while g_collect is set. A global list avoids
// passing arrays in and out of functions, which llvmpipe copies (measured:
// G 5.7 -> 2.7 ms for 2K triangles at 256^2).
// SCENE_MAX_CONTRIB (contributors of one sample) is a define of the scene kind.

#define NSUB (SS * SS)
#define MAX_CONTRIB (2 * NSUB * SCENE_MAX_CONTRIB)

uint g_contrib[MAX_CONTRIB];
int g_ncontrib;
bool g_collect;

void add_contributor(uint c) {
    if (!g_collect) return;
    for (int q = 0; q < g_ncontrib; ++q) {
        if (g_contrib[q] == c) return;
    }
    g_contrib[g_ncontrib++] = c;
}
