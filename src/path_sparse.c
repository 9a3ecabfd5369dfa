/* The sparse path: for CSR datasets, kernels/sparse.cl computes the two
 * products that the dense paths do with GEMMs or the fused kernel; the
 * bias, softmax, loss, delta and bias gradient are the CLBlast path's
 * kernels, unchanged. */
#include "config.h"

#include <stdio.h>

#include "ops.h"

static size_t round_up(size_t v, size_t to) { return (v + to - 1) / to * to; }

/* Classes per work-item: a non-zero's CB weights (transposed W) or CB
 * deltas are one contiguous run, a cache line or two. */
#define CSM_SPARSE_CB 16

csm_status csm_sparse_init(csm_work *w)
{
    csm_context *ctx = w->ctx;
    /* all classes in one item while they fit in registers: one walk of
     * each row or column instead of one per block */
    const size_t cb = w->C <= 2 * CSM_SPARSE_CB ? w->C : CSM_SPARSE_CB;
    char extra[32];
    snprintf(extra, sizeof extra, "-DCB=%zu", cb);
    static const char *const names[] = {"csr_logits", "csc_grad", "csr_grad_rows",
                                        "transpose_weights"};
    cl_kernel *ks[] = {&w->k_csr_logits, &w->k_csc_grad, &w->k_csr_grad_rows, &w->k_transpose};
    csm_status st = CSM_OK;
    for (size_t i = 0; i < 4 && st == CSM_OK; i++)
        st = csm_get_kernel_ex(ctx, ks[i], "sparse.cl", names[i], w->prec, w->C, w->k, extra);
    w->sparse_cb = cb;
    w->sparse_ncb = (w->C + cb - 1) / cb;
    /* Minibatch gradient: the class blocks alone would leave most of a
     * device idle, so each block's features are split in chunks; every
     * item walks the batch's non-zeros, so more chunks cost more reads. */
    size_t q = (64 + w->sparse_ncb - 1) / w->sparse_ncb;
    w->sparse_q = q < 1 ? 1 : q > w->k ? w->k : q;
    return st;
}

csm_status csm_sparse_enqueue_logits(csm_work *w, csm_model *m, const csm_block *b)
{
    // logits (B, C) = X_rows (B, k, sparse) . W (C, k)^T
    csm_context *ctx = w->ctx;
    const csm_dataset *d = b->d;
    csm_status st = CSM_OK;
    /* W read by feature scatters each non-zero's C weights over C cache
     * lines; a transposed copy (one pass over C k) pays off once the
     * block's non-zeros outnumber the weights. */
    cl_mem wsrc = m->weight;
    cl_int sc = (cl_int)w->k, sj = 1;
    const double block_nnz = (double)d->nnz * (double)b->B / (double)d->n;
    if (block_nnz > (double)w->k) {
        if (!w->wt)
            st = csm_buffer_create(ctx, &w->wt, w->C * w->k * csm_real_size(w->prec),
                                   "transposed weights");
        cl_kernel kt = w->k_transpose;
        if (st == CSM_OK) st = csm_set_arg(ctx, kt, 0, sizeof(cl_mem), &w->wt);
        if (st == CSM_OK) st = csm_set_arg(ctx, kt, 1, sizeof(cl_mem), &m->weight);
        size_t tg[2] = {round_up(w->k, CSM_WG), w->C};
        if (st == CSM_OK) st = csm_launch(ctx, kt, 2, tg, NULL, "transpose_weights");
        wsrc = w->wt;
        sc = 1;
        sj = (cl_int)w->C;
    }
    cl_kernel k = w->k_csr_logits;
    cl_mem idx = b->idx ? b->idx : d->row_ptr; /* unused without a permutation */
    cl_int use_idx = b->idx != NULL, start = (cl_int)b->start, B = (cl_int)b->B;
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 0, sizeof(cl_mem), &w->logits);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 1, sizeof(cl_mem), &d->row_ptr);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 2, sizeof(cl_mem), &d->col_idx);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 3, sizeof(cl_mem), &d->values);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 4, sizeof(cl_mem), &wsrc);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 5, sizeof sc, &sc);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 6, sizeof sj, &sj);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 7, sizeof(cl_mem), &idx);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 8, sizeof use_idx, &use_idx);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 9, sizeof start, &start);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 10, sizeof B, &B);
    size_t global[2] = {w->sparse_ncb, b->B};
    if (st == CSM_OK) st = csm_launch(ctx, k, 2, global, NULL, "csr_logits");
    return st;
}

csm_status csm_sparse_enqueue_dweight(csm_work *w, const csm_block *b, int accumulate)
{
    // dweight (C, k) (+)= delta (B, C)^T . X_rows (B, k, sparse)
    csm_context *ctx = w->ctx;
    const csm_dataset *d = b->d;
    cl_int B = (cl_int)b->B, acc = accumulate, start = (cl_int)b->start;
    csm_status st = CSM_OK;
    if (!b->idx) {
        cl_kernel k = w->k_csc_grad;
        if (st == CSM_OK) st = csm_set_arg(ctx, k, 0, sizeof(cl_mem), &w->dweight);
        if (st == CSM_OK) st = csm_set_arg(ctx, k, 1, sizeof(cl_mem), &w->out);
        if (st == CSM_OK) st = csm_set_arg(ctx, k, 2, sizeof(cl_mem), &d->col_ptr);
        if (st == CSM_OK) st = csm_set_arg(ctx, k, 3, sizeof(cl_mem), &d->row_idx);
        if (st == CSM_OK) st = csm_set_arg(ctx, k, 4, sizeof(cl_mem), &d->cvalues);
        if (st == CSM_OK) st = csm_set_arg(ctx, k, 5, sizeof start, &start);
        if (st == CSM_OK) st = csm_set_arg(ctx, k, 6, sizeof B, &B);
        if (st == CSM_OK) st = csm_set_arg(ctx, k, 7, sizeof acc, &acc);
        size_t global[2] = {round_up(w->k, CSM_WG), w->sparse_ncb};
        if (st == CSM_OK) st = csm_launch(ctx, k, 2, global, NULL, "csc_grad");
        return st;
    }
    cl_kernel k = w->k_csr_grad_rows;
    cl_int use_idx = 1, Q = (cl_int)w->sparse_q;
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 0, sizeof(cl_mem), &w->dweight);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 1, sizeof(cl_mem), &w->out);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 2, sizeof(cl_mem), &d->row_ptr);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 3, sizeof(cl_mem), &d->col_idx);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 4, sizeof(cl_mem), &d->values);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 5, sizeof(cl_mem), &b->idx);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 6, sizeof use_idx, &use_idx);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 7, sizeof start, &start);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 8, sizeof B, &B);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 9, sizeof Q, &Q);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 10, sizeof acc, &acc);
    size_t global[2] = {w->sparse_q, w->sparse_ncb};
    if (st == CSM_OK) st = csm_launch(ctx, k, 2, global, NULL, "csr_grad_rows");
    return st;
}
