// The contributors of the pixel a G invocation is working on: a private,
// global list (each contributor once), filled by the scene's scene_sample
// through add_contributor while g_collect is set. A global list avoids
// passing arrays in and out of functions, which llvmpipe copies (measured:
// G 5.7 -> 2.7 ms for 2K triangles at 256^2).
// SCENE_MAX_CONTRIB (contributors of one sample) is a define of the scene kind;
// a visibility strategy may set MAX_CONTRIB (the list's capacity) itself.
//
// De-duplication: pairwise for short lists (the opaque id buffer's few
// contributors); with CONTRIB_HASH_BITS (the deep id buffer: up to 64 and
// more) an open-addressing hash beside the list (linear probing, 2^bits >=
// 2 x MAX_CONTRIB slots, so it never fills): O(1) expected per insertion. Its
// table is cleared by the first insertion of an invocation; a contributor past
// the capacity is dropped and g_contrib_full set.

#define NSUB (SS * SS)
#ifndef MAX_CONTRIB
#define MAX_CONTRIB (2 * NSUB * SCENE_MAX_CONTRIB)
#endif

uint g_contrib[MAX_CONTRIB];
int g_ncontrib;
bool g_collect;
bool g_contrib_full = false;

#ifdef CONTRIB_HASH_BITS
#define CONTRIB_HASH (1 << CONTRIB_HASH_BITS)
uint g_contrib_table[CONTRIB_HASH];  // contributor + 1, 0 = free

void add_contributor(uint c) {
    if (!g_collect) return;
    if (g_ncontrib == 0) {
        for (int i = 0; i < CONTRIB_HASH; ++i) g_contrib_table[i] = 0u;
        g_contrib_full = false;
    }
    uint key = c + 1u;
    uint h = (key * 2654435761u) >> (32 - CONTRIB_HASH_BITS);
    while (g_contrib_table[h] != 0u) {
        if (g_contrib_table[h] == key) return;
        h = (h + 1u) & uint(CONTRIB_HASH - 1);
    }
    if (g_ncontrib == MAX_CONTRIB) {
        g_contrib_full = true;
        return;
    }
    g_contrib_table[h] = key;
    g_contrib[g_ncontrib++] = c;
}
#else
void add_contributor(uint c) {
    if (!g_collect) return;
    for (int q = 0; q < g_ncontrib; ++q) {
        if (g_contrib[q] == c) return;
    }
    g_contrib[g_ncontrib++] = c;
}
#endif
