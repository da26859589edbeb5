#version 430
// Zero the first u_words 32-bit words of the buffer bound at SSBO_ZERO
// (gl/zero.py): a device-side clear, where moderngl's Buffer.clear() maps
// the buffer and writes it from the CPU.
layout(local_size_x = WG_1D) in;

layout(std430, binding = SSBO_ZERO) writeonly buffer Zero { uint words[]; };

uniform uint u_words;

void main() {
    uint i = (gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x) * uint(WG_1D) + gl_LocalInvocationID.x;
    if (i < u_words) words[i] = 0u;
}
