// Deep id buffer: up to DEEP_K fragments per sample (a texel of the tiled
// target, all copies), each (depth key, primitive id + 1, opacity), read
// front to back. Two structures, chosen by a define:
//
// DEEP_KBUFFER: a fixed k-buffer, slot-major arrays keys/ids/alphas[i * N + s].
//   Built in two raster passes of the same program (u_deep_pass 0, then 1):
//   pass 0 inserts the depth key with an atomicMin chain: for each slot,
//   old = atomicMin(slot, key); carry max(old, key) to the next slot; stop
//   when old was empty. Without interlock this still leaves each sample
//   holding the DEEP_K smallest keys, sorted: every slot only decreases, the
//   multiset of slots + carried keys is preserved, and a key reaches slot
//   i + 1 only as the larger of a pair at slot i, so it is never smaller
//   than slot i's final value. Pass 1 re-rasterises (same program, same
//   inputs: the same depths, GL invariance), finds its key by binary search
//   and claims one slot of that key's run with atomicCompSwap on the id,
//   then writes its opacity there (the slot is its own). Fragments of equal
//   depth share a run in arbitrary order; the gather sorts a run by id.
//   The fragment whose key did not survive pass 0 finds no slot: the
//   k-buffer keeps the DEEP_K nearest fragments of a sample.
//
// DEEP_LISTS: per-sample linked lists: heads[s] -> nodes (key, id, alpha
//   bits, next), a node counter; one raster pass. A fragment takes node
//   n = atomicAdd(counter[0], 1); n >= counter[1] (the node budget): dropped,
//   and counter[0] (> budget) says how many nodes the frame needed. The gather walks the
//   whole list and keeps the DEEP_MAX nearest by (key, id), sorted.
//
// Depth keys are floatBitsToUint(gl_FragCoord.z) (window depth in [0, 1]): non-negative floats order
// as their bit patterns; 0xFFFFFFFF marks an empty slot. Id 0 is "none".
// Fragment shaders of the kinds call deep_emit(id + 1, alpha) (deep_id.frag
// does it for a flat opacity); the rest is for compute passes:
// deep_gather(s) fills the private global arrays g_deep_* (front to back);
// deep_composite.glsl composites them. Binding points SSBO_DEEP_A..C and the
// sizes come from sge/deep_ids.py as defines.

#define DEEP_EMPTY 0xFFFFFFFFu

uniform uint u_deep_samples;   // N: texels of the tiled target
uniform int u_deep_width;      // its width
uniform int u_deep_pass;       // k-buffer: 0 depth pass, 1 payload pass

#ifdef DEEP_KBUFFER
layout(std430, binding = SSBO_DEEP_A) coherent buffer DeepKeys { uint deep_keys[]; };
layout(std430, binding = SSBO_DEEP_B) coherent buffer DeepIds { uint deep_ids[]; };
layout(std430, binding = SSBO_DEEP_C) buffer DeepAlphas { float deep_alphas[]; };
#endif

#ifdef DEEP_LISTS
layout(std430, binding = SSBO_DEEP_A) coherent buffer DeepHeads { uint deep_heads[]; };
layout(std430, binding = SSBO_DEEP_B) buffer DeepNodes { uvec4 deep_nodes[]; };  // key, id, alpha, next
// [0]: nodes requested this frame, [1]: the node budget (set by the host), [2]: the most
// any G frame requested since (visibility_complete)
layout(std430, binding = SSBO_DEEP_C) coherent buffer DeepCounter { uint deep_counter[]; };
#endif

uint deep_sample_of(ivec2 texel) { return uint(texel.y * u_deep_width + texel.x); }

#ifdef DEEP_FRAGMENT_STAGE
#ifdef DEEP_KBUFFER
// Skipping slots with plain reads: a read r <= key of slot j means slot j's
// final value is <= r <= key (values only decrease), and every slot before
// j ends no larger (final slots are sorted), so atomicMin on slots 0..j would
// change nothing and carry key on: the chain may start at j + 1. A read >
// key proves nothing and only costs an atomic. A binary search over plain
// reads finds such a j in log2(K) loads; a fragment behind slot K-1 is done.
void deep_kbuffer_insert_key(uint s, uint key) {
    int lo = 0, hi = DEEP_K;  // chain starts at lo: every read below lo was <= key
    while (lo < hi) {
        int mid = (lo + hi) >> 1;
        if (deep_keys[uint(mid) * u_deep_samples + s] <= key) lo = mid + 1; else hi = mid;
    }
    for (int i = lo; i < DEEP_K; ++i) {
        uint old = atomicMin(deep_keys[uint(i) * u_deep_samples + s], key);
        if (old == DEEP_EMPTY) return;
        key = max(old, key);
    }
}

void deep_kbuffer_place(uint s, uint key, uint id, float alpha) {
    int lo = 0, hi = DEEP_K;  // first slot with keys[slot] >= key
    while (lo < hi) {
        int mid = (lo + hi) >> 1;
        if (deep_keys[uint(mid) * u_deep_samples + s] < key) lo = mid + 1; else hi = mid;
    }
    for (int i = lo; i < DEEP_K; ++i) {
        uint at = uint(i) * u_deep_samples + s;
        if (deep_keys[at] != key) return;  // run exhausted: this fragment was truncated
        if (atomicCompSwap(deep_ids[at], 0u, id) == 0u) {
            deep_alphas[at] = alpha;
            return;
        }
    }
}
#endif

// Record this fragment (id = primitive + 1, alpha its opacity at the sample).
void deep_emit(uint id, float alpha) {
    uint s = deep_sample_of(ivec2(gl_FragCoord.xy));
    uint key = floatBitsToUint(max(gl_FragCoord.z, 0.0));
#ifdef DEEP_KBUFFER
    if (u_deep_pass == 0) deep_kbuffer_insert_key(s, key);
    else deep_kbuffer_place(s, key, id, alpha);
#else
    uint n = atomicAdd(deep_counter[0], 1u);
    if (n >= deep_counter[1]) return;  // over budget: counter > budget flags it
    deep_nodes[n] = uvec4(key, id, floatBitsToUint(alpha), atomicExchange(deep_heads[s], n));
#endif
}
#endif

#if defined(DEEP_COMPUTE_EMIT) && defined(DEEP_LISTS)
// Emission from a compute shader (a kind that rasterises its primitives in
// compute, where a GPU's fixed-function stages are narrow): a thread reserves
// the nodes of all its fragments with one atomic, then writes each with
// deep_emit_node. Same lists and budget semantics as deep_emit.
uint deep_reserve(uint count) { return count == 0u ? 0u : atomicAdd(deep_counter[0], count); }

void deep_emit_node(uint node, uint s, uint key, uint id, float alpha) {
    if (node >= deep_counter[1]) return;  // over budget: counter > budget flags it
    deep_nodes[node] = uvec4(key, id, floatBitsToUint(alpha), atomicExchange(deep_heads[s], node));
}
#endif

#ifndef DEEP_FRAGMENT_STAGE
// The gathered fragments of one sample, front to back (private globals:
// llvmpipe copies arrays passed to functions).
uint g_deep_key[DEEP_MAX];
uint g_deep_id[DEEP_MAX];
float g_deep_alpha[DEEP_MAX];
int g_deep_n;
uint g_deep_dropped;  // lists: fragments beyond DEEP_MAX at this sample

bool deep_before(uint ka, uint ia, uint kb, uint ib) {
    return ka < kb || (ka == kb && ia < ib);
}

// Insert into the sorted, bounded arrays (keeps the DEEP_MAX nearest).
void deep_insert_sorted(uint key, uint id, float alpha) {
    int j = g_deep_n;
    if (j == DEEP_MAX) {
        g_deep_dropped++;
        if (!deep_before(key, id, g_deep_key[DEEP_MAX - 1], g_deep_id[DEEP_MAX - 1])) return;
        j = DEEP_MAX - 1;  // the last one falls out
    } else {
        g_deep_n++;
    }
    while (j > 0 && deep_before(key, id, g_deep_key[j - 1], g_deep_id[j - 1])) {
        g_deep_key[j] = g_deep_key[j - 1];
        g_deep_id[j] = g_deep_id[j - 1];
        g_deep_alpha[j] = g_deep_alpha[j - 1];
        --j;
    }
    g_deep_key[j] = key;
    g_deep_id[j] = id;
    g_deep_alpha[j] = alpha;
}

uint g_deep_gathered = 0xFFFFFFFFu;   // the sample g_deep_* holds

// Fill g_deep_* with sample s's fragments, front to back.
void deep_gather(uint s) {
    g_deep_gathered = s;
    g_deep_n = 0;
    g_deep_dropped = 0u;
#ifdef DEEP_KBUFFER
    for (int i = 0; i < DEEP_K; ++i) {
        uint at = uint(i) * u_deep_samples + s;
        uint key = deep_keys[at];
        if (key == DEEP_EMPTY) break;
        uint id = deep_ids[at];
        if (id == 0u) continue;
        // Keys arrive sorted; only a run of equal keys needs ordering (by id).
        deep_insert_sorted(key, id, deep_alphas[at]);
    }
#else
    uint node = deep_heads[s];
    uint budget = deep_counter[1];
    while (node != DEEP_EMPTY && node < budget) {
        uvec4 v = deep_nodes[node];
        deep_insert_sorted(v.x, v.y, uintBitsToFloat(v.z));
        node = v.w;
    }
#endif
}
#endif
