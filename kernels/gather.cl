/* Minibatch gather on the device: rows idx[start .. start+B) of the
 * dataset are copied into contiguous batch buffers, so a shuffled epoch
 * needs only the permutation uploaded, once per epoch. */

/* global size (NFEAT, B): xb[i, j] = x[idx[start + i], j] */
__kernel void gather_rows(__global real *xb, __global const real *x, __global const int *idx,
                          const int start, const int B)
{
    const int j = get_global_id(0);
    const int i = get_global_id(1);
    if (i >= B || j >= NFEAT)
        return;
    xb[(size_t)i * NFEAT + j] = x[(size_t)idx[start + i] * NFEAT + j];
}

/* global size (B): labels or soft-target rows, and sample weights, follow
 * the same permutation */
__kernel void gather_targets(__global int *yb, __global real *tb, __global real *wb,
                             __global const int *y, __global const real *t,
                             __global const real *w, __global const int *idx,
                             const int has_labels, const int has_weights, const int start,
                             const int B)
{
    const int i = get_global_id(0);
    if (i >= B)
        return;
    const int r = idx[start + i];
    if (has_weights)
        wb[i] = w[r];
    if (has_labels) {
        yb[i] = y[r];
    } else {
        for (int c = 0; c < NCLASS; c++)
            tb[(size_t)i * NCLASS + c] = t[(size_t)r * NCLASS + c];
    }
}
