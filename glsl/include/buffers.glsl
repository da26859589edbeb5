// Storage buffers shared by the passes. Binding points come from
// diffrast_cli/gl/bindings.py as defines.

struct Group {
    uint offset;        // first parameter index of the group
    uint count;         // number of parameters
    uint stride;        // parameters per contributor (e.g. 6 x/y values per triangle)
    uint contrib_base;  // contributor index of the group's first parameter
    uint mapping;       // 0: contributor = contrib_base + (i - offset) / stride
                        // 1: gather: element (i - offset) / stride sums the accumulators
                        //    of its incident primitives (CSR at SSBO_ADJ_*), from contrib_base
    uint pad0;
    uint pad1;
    uint pad2;
    float eps;          // perturbation size (0: group frozen)
    float lr;           // Adam learning rate
    float lo;           // lower bound
    float hi;           // upper bound
};

layout(std430, binding = SSBO_PARAMS) buffer Params { float params[]; };
layout(std430, binding = SSBO_GROUPS) readonly buffer Groups { Group groups[]; };
