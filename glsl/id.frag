#version 430
// Writes the primitive id (+1; 0 is background) into the R32UI id buffer.
flat in uint v_id;
layout(location = 0) out uint o_id;

void main() {
    o_id = v_id;
}
