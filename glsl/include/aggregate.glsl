// Work-group aggregation of G's per-contributor additions. Neighbouring
// pixels mostly see the same few primitives, so adding each pixel's
// difference straight into global memory makes many atomics collide on one
// address (measured on an H100 at 1024^2: 2.0 ms of G's 2.1 ms). Instead the
// group first sums per contributor in a shared-memory hash table and then
// issues one global addition per distinct contributor. A value that finds no
// free slot goes straight to global memory, so the result is exact.
// Needs accumulate.glsl. Every invocation of the group must call
// agg_begin() and agg_flush().

#define AGG_SLOTS 256u
#define AGG_PROBES 8u

shared uint s_agg_key[AGG_SLOTS];
#ifdef ATOMICS_FLOAT
shared float s_agg_val[AGG_SLOTS];
#else
shared int s_agg_val[AGG_SLOTS];
#endif

void agg_begin() {
    for (uint s = gl_LocalInvocationIndex; s < AGG_SLOTS; s += uint(WG_2D_X * WG_2D_Y)) {
        s_agg_key[s] = 0u;
        s_agg_val[s] = 0;
    }
    barrier();
}

// Add v to contributor c. Only contributors below AGG_SHARED_BELOW (the
// scene's primitives, which neighbouring pixels share) go through the table;
// others (texels: a pixel's footprint is mostly its own) go straight to
// global memory, where they rarely collide and would only fill the table.
void agg_add(uint pair, uint c, float v) {
    if (c >= uint(AGG_SHARED_BELOW)) {
        accumulate(pair, c, v);
        return;
    }
    uint id = c + 1u;  // 0 marks an empty slot
    uint slot = (id * 2654435761u) >> 24;  // top 8 bits: AGG_SLOTS = 256
    for (uint probe = 0u; probe < AGG_PROBES; ++probe) {
        uint prev = atomicCompSwap(s_agg_key[slot], 0u, id);
        if (prev == 0u || prev == id) {
#ifdef ATOMICS_FLOAT
            atomicAdd(s_agg_val[slot], v);
#else
            atomicAdd(s_agg_val[slot], int(round(clamp(v * FIXED_SCALE, -2.0e9, 2.0e9))));
#endif
            return;
        }
        slot = (slot + 1u) & (AGG_SLOTS - 1u);
    }
    accumulate(pair, id - 1u, v);
}

void agg_flush(uint pair) {
    barrier();
    for (uint s = gl_LocalInvocationIndex; s < AGG_SLOTS; s += uint(WG_2D_X * WG_2D_Y)) {
        uint id = s_agg_key[s];
        if (id != 0u) {
#ifdef ATOMICS_FLOAT
            accumulate(pair, id - 1u, s_agg_val[s]);
#else
            accumulate_fixed(pair, id - 1u, s_agg_val[s]);
#endif
        }
    }
}
