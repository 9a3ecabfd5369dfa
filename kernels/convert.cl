/* Widens 8-bit features to the training precision (value = byte / 255),
 * for paths that need real-typed X (CLBlast's GEMMs). */
__kernel void u8_to_real(__global real *out, __global const uchar *in, const ulong count)
{
    const size_t i = get_global_id(0);
    if (i < count)
        out[i] = (real)in[i] * (real)(1.0 / 255.0);
}
