#version 430
// Writes the primitive id (+1; 0 is background) into the R32UI id buffer: the vertex
// stage's v_id, or with ID_FROM_PRIMITIVE (indexed draws, where a vertex is shared by
// several primitives) the primitive's number in its instance of the draw.
layout(location = 0) out uint o_id;
#ifdef ID_FROM_PRIMITIVE
void main() {
    o_id = uint(gl_PrimitiveID) + 1u;
}
#else
flat in uint v_id;

void main() {
    o_id = v_id;
}
#endif
