/* Minibatch gather on the device: rows idx[start .. start+B) of the
 * dataset are copied into contiguous batch buffers, so a shuffled epoch
 * needs only the permutation uploaded, once per epoch. Features, targets
 * and sample weights move in one launch (a step on a GPU is launch-bound). */

/* global size (k, B), or (1, B) without rows (CSR data, read through
 * idx): item (j, i) copies feature j of batch row i; item (0, i) also the
 * row's label or soft-target row, and its weight. Those stay with item 0
 * rather than spread over the row's items: POCL vectorises the feature
 * copy only while the other stores sit behind one item's branch (spread,
 * the launch measured 2x slower than the two it replaces). */
__kernel void gather_batch(__global real *xb, __global int *yb, __global real *tb,
                           __global real *wb, __global const real *x, __global const int *y,
                           __global const real *t, __global const real *w,
                           __global const int *idx, const int has_rows, const int has_labels,
                           const int has_weights, const int start, const int B, const int k,
                           const int C)
{
    const int j = get_global_id(0);
    const int i = get_global_id(1);
    if (i >= B)
        return;
    const int r = idx[start + i];
    if (has_rows && j < k)
        xb[(size_t)i * k + j] = x[(size_t)r * k + j];
    if (j != 0)
        return;
    if (has_weights)
        wb[i] = w[r];
    if (has_labels) {
        yb[i] = y[r];
    } else {
        for (int c = 0; c < C; c++)
            tb[(size_t)i * C + c] = t[(size_t)r * C + c];
    }
}
