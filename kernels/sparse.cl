/* Products with a CSR dataset (and its CSC copy), the sparse counterpart
 * of the two GEMMs: the bias, softmax, loss and delta are the CLBlast
 * path's kernels. Row r of a step is idx[start + i] (a shuffled minibatch)
 * or start + i. Each item handles cb classes at once, so one non-zero's
 * weights or delta row are read as one contiguous run rather than cb
 * scattered ones. Sums run over a row's or a column's non-zeros in index
 * order: deterministic. Sizes are arguments: C classes, k features, cb
 * classes per item (at most CB_MAX, a tuning knob). */

#ifndef CB_MAX
#define CB_MAX 32
#endif

/* WT (k, C) = W^T: the logits of a large block read weights by feature.
 * One item per feature j writes its C weights as one run: neighbouring
 * items read neighbouring words of each row of W, and no cache line of WT
 * is written by more than a few items (an item per element, the classes
 * in the slow dimension, wrote each line of WT from C work-groups). */
__kernel void transpose_weights(__global real *WT, __global const real *W, const int C,
                                const int k)
{
    if (get_global_id(0) >= (size_t)k)
        return;
    const size_t j = get_global_id(0);
    __global real *out = WT + j * C;
    for (int c = 0; c < C; c++)
        out[c] = W[(size_t)c * k + j];
}

/* logits (B, C) = X_rows W^T, one item per (class block, step row i).
 * Weight (c, j) is at w[c * sc + j * sj]: W itself (sc = k, sj = 1) or its
 * transpose (sc = 1, sj = C). */
__kernel void csr_logits(__global real *logits, __global const long *row_ptr,
                         __global const int *col, __global const real *val,
                         __global const real *w, const int sc, const int sj,
                         __global const int *idx, const int use_idx, const int start,
                         const int B, const int C, const int cb)
{
    const int blk = get_global_id(0);
    const int i = get_global_id(1);
    if (blk >= (C + cb - 1) / cb || i >= B)
        return;
    const int c0 = blk * cb;
    const int nc = min(cb, C - c0);
    const int r = use_idx ? idx[start + i] : start + i;
    real acc[CB_MAX];
    for (int u = 0; u < cb; u++)
        acc[u] = 0;
    for (long p = row_ptr[r]; p < row_ptr[r + 1]; p++) {
        const real v = val[p];
        __global const real *wj = w + (size_t)col[p] * sj + (size_t)c0 * sc;
        for (int u = 0; u < nc; u++)
            acc[u] += v * wj[(size_t)u * sc];
    }
    for (int u = 0; u < nc; u++)
        logits[(size_t)i * C + c0 + u] = acc[u];
}

/* dW (C, k) (+)= delta^T X over the contiguous rows [row0, row0 + B), one
 * item per (feature j, class block): down column j from the first row >=
 * row0 (binary search; rows ascend within a column). delta (B, C) carries
 * the 1/sum w scale and the sample weights. `square`: delta^T (X o X), the
 * squares of the entries (the Hessian's diagonal). */
__kernel void csc_grad(__global real *dW, __global const real *delta,
                       __global const long *col_ptr, __global const int *row,
                       __global const real *cval, const int row0, const int B,
                       const int accumulate, const int square, const int C, const int k,
                       const int cb)
{
    if (get_global_id(0) >= (size_t)k || get_global_id(1) >= (size_t)((C + cb - 1) / cb))
        return;
    const int j = get_global_id(0);
    const int c0 = get_global_id(1) * cb;
    const int nc = min(cb, C - c0);
    long lo = col_ptr[j], hi = col_ptr[j + 1];
    while (lo < hi) {
        const long mid = lo + (hi - lo) / 2;
        if (row[mid] < row0)
            lo = mid + 1;
        else
            hi = mid;
    }
    real acc[CB_MAX];
    for (int u = 0; u < cb; u++)
        acc[u] = 0;
    for (long p = lo; p < col_ptr[j + 1] && row[p] < row0 + B; p++) {
        const real v = square ? cval[p] * cval[p] : cval[p];
        __global const real *d = delta + (size_t)(row[p] - row0) * C + c0;
        for (int u = 0; u < nc; u++)
            acc[u] += d[u] * v;
    }
    for (int u = 0; u < nc; u++) {
        const size_t q = (size_t)(c0 + u) * k + j;
        dW[q] = accumulate ? dW[q] + acc[u] : acc[u];
    }
}

/* dW (C, k) (+)= delta^T X for the rows of a shuffled minibatch, which a
 * CSC copy cannot serve. Item (q, class block) owns its classes' features
 * [q chunk, (q + 1) chunk) and walks the batch's non-zeros in order, adding
 * those in its range: no two items write the same weight. */
__kernel void csr_grad_rows(__global real *dW, __global const real *delta,
                            __global const long *row_ptr, __global const int *col,
                            __global const real *val, __global const int *idx,
                            const int use_idx, const int start, const int B, const int Q,
                            const int accumulate, const int C, const int k, const int cb)
{
    const int q = get_global_id(0);
    const int blk = get_global_id(1);
    if (q >= Q || blk >= (C + cb - 1) / cb)
        return;
    const int c0 = blk * cb;
    const int nc = min(cb, C - c0);
    const int chunk = (k + Q - 1) / Q;
    const int lo = min(k, q * chunk), hi = min(k, lo + chunk);
    if (!accumulate)
        for (int u = 0; u < nc; u++)
            for (int j = lo; j < hi; j++)
                dW[(size_t)(c0 + u) * k + j] = 0;
    for (int i = 0; i < B; i++) {
        __global const real *d = delta + (size_t)i * C + c0;
        const int r = use_idx ? idx[start + i] : start + i;
        for (long p = row_ptr[r]; p < row_ptr[r + 1]; p++) {
            const int j = col[p];
            if (j < lo || j >= hi)
                continue;
            const real v = val[p];
            for (int u = 0; u < nc; u++)
                dW[(size_t)(c0 + u) * k + j] += d[u] * v;
        }
    }
}
