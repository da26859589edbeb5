// Storage buffers shared by the passes. Binding points come from
// diffrast_cli/gl/bindings.py as defines.

struct Group {
    uint offset;        // first parameter index of the group
    uint count;         // number of parameters
    uint stride;        // parameters per contributor (e.g. 6 x/y values per triangle)
    uint contrib_base;  // contributor index of the group's first parameter
    uint mapping;       // 0: contributor = contrib_base + (i - offset) / stride
                        // 1: gather: element e = (i - offset) / stride sums the accumulators of
                        //    the contributors contrib_base + gather[gather_list + k], k in
                        //    [gather[gather_start + e], gather[gather_start + e + 1]) (SSBO_GATHER)
    uint gather_start;  // the group's gather table in SSBO_GATHER: CSR offsets per element
    uint gather_list;   // ... and its entries
    uint flags;         // GROUP_* bits (gl/bindings.py), e.g. GROUP_ELEMENT: element e is layout element e
    float eps;          // perturbation size (0: group frozen)
    float lr;           // Adam learning rate
    float lo;           // lower bound
    float hi;           // upper bound
};

layout(std430, binding = SSBO_PARAMS) buffer Params { float params[]; };
layout(std430, binding = SSBO_GROUPS) readonly buffer Groups { Group groups[]; };
