#version 430
// Writes the triangle id (+1; 0 is background) and the barycentrics (of
// corners 1 and 2, perspective-correct) beside it.
flat in uint v_id;
in vec2 v_bary;
layout(location = 0) out uint o_id;
layout(location = 1) out vec2 o_bary;

void main() {
    o_id = v_id;
    o_bary = v_bary;
}
