/* The sparse path: for CSR datasets, kernels/sparse.cl computes the two
 * products that the dense paths do with GEMMs or the fused kernel, S = X W^T
 * by each row's non-zeros and dW = D^T X down the columns of the CSC copy
 * (shuffled minibatches: a row walk per class block and feature range), so
 * the gradient needs no float atomics and is deterministic. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "launch.h"
#include "path.h"

/* Classes per work-item: a non-zero's cb weights (transposed W) or cb
 * deltas are one contiguous run, a cache line or two; all of them (up to
 * 2 SPARSE_CB, the kernels' CB_MAX) while they fit in registers. */
#define SPARSE_CB 16

typedef struct sparse {
    cl_kernel k_logits, k_csc_grad, k_rows_grad, k_transpose;
    size_t cb, ncb; /* classes per item, class blocks */
    size_t q;       /* feature chunks per class block of csr_grad_rows */
    cl_mem wt;      /* (k, C) transposed weights, made on first need
                     * where the step lends no scratch */
} sparse;

static int sparse_fits(const csm_context *ctx, const csm_shape *s)
{
    (void)ctx;
    return s->sparse;
}

static void sparse_free(csm_step *w)
{
    sparse *p = w->priv;
    if (!p)
        return;
    csm_buffer_release(&p->wt);
    free(p);
    w->priv = NULL;
}

static csm_status sparse_init(csm_step *w, const csm_dataset *d, const csm_tile *tile, int *fits)
{
    (void)d;
    (void)tile;
    csm_context *ctx = w->ctx;
    sparse *p = calloc(1, sizeof *p);
    if (!p)
        return csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
    w->priv = p;
    *fits = 1;
    /* all classes in one item while they fit in registers: one walk of
     * each row or column instead of one per block */
    p->cb = w->C <= 2 * SPARSE_CB ? w->C : SPARSE_CB;
    p->ncb = (w->C + p->cb - 1) / p->cb;
    static const char *const names[] = {"csr_logits", "csc_grad", "csr_grad_rows",
                                        "transpose_weights"};
    cl_kernel *ks[] = {&p->k_logits, &p->k_csc_grad, &p->k_rows_grad, &p->k_transpose};
    csm_status st = CSM_OK;
    for (size_t i = 0; i < 4 && st == CSM_OK; i++)
        st = csm_get_kernel(ctx, ks[i], "sparse.cl", names[i], w->prec, NULL);
    /* Minibatch gradient: the class blocks alone would leave most of a
     * device idle, so each block's features are split in chunks; every
     * item walks the batch's non-zeros, so more chunks cost more reads. */
    size_t q = (64 + p->ncb - 1) / p->ncb;
    p->q = q < 1 ? 1 : q > w->k ? w->k : q;
    if (st != CSM_OK)
        sparse_free(w);
    return st;
}

static csm_status sparse_logits(csm_step *w, cl_mem weight, const csm_block *b)
{
    // logits (B, C) = X_rows (B, k, sparse) . W (C, k)^T
    sparse *p = w->priv;
    const csm_dataset *d = b->d;
    csm_status st = CSM_OK;
    /* W read by feature scatters each non-zero's C weights over C cache
     * lines; a transposed copy (one pass over C k) pays off once the
     * block's non-zeros outnumber the weights. It goes in the step's
     * scratch where it lends one (a whole pass's first block: the gradient
     * buffer, written only after the logits), which keeps C k reals off
     * the device (80 MB at C = 20, k = 10^6). */
    cl_mem wsrc = weight;
    cl_int sc = (cl_int)w->k, sj = 1;
    const double block_nnz = (double)d->nnz * (double)b->B / (double)d->n;
    if (block_nnz > (double)w->k) {
        cl_mem wt = w->scratch;
        if (!wt && !p->wt)
            st = csm_buffer_create(w->ctx, &p->wt, w->C * w->k * csm_real_size(w->prec),
                                   "transposed weights");
        if (!wt)
            wt = p->wt;
        csm_args a = csm_args_start(w->ctx, p->k_transpose, "transpose_weights");
        csm_arg_mem(&a, wt);
        csm_arg_mem(&a, weight);
        csm_arg_int(&a, (cl_int)w->C);
        csm_arg_int(&a, (cl_int)w->k);
        size_t tg = csm_round_up(w->k, CSM_WG);
        if (st == CSM_OK)
            st = csm_args_launch(&a, 1, &tg, NULL);
        wsrc = wt;
        sc = 1;
        sj = (cl_int)w->C;
    }
    if (st != CSM_OK)
        return st;
    csm_args a = csm_args_start(w->ctx, p->k_logits, "csr_logits");
    csm_arg_mem(&a, w->logits);
    csm_arg_mem(&a, d->row_ptr);
    csm_arg_mem(&a, d->col_idx);
    csm_arg_mem(&a, d->values);
    csm_arg_mem(&a, wsrc);
    csm_arg_int(&a, sc);
    csm_arg_int(&a, sj);
    csm_arg_mem(&a, b->idx ? b->idx : d->row_ptr); /* unused without a permutation */
    csm_arg_int(&a, b->idx != NULL);
    csm_arg_int(&a, (cl_int)b->start);
    csm_arg_int(&a, (cl_int)b->B);
    csm_arg_int(&a, (cl_int)w->C);
    csm_arg_int(&a, (cl_int)p->cb);
    size_t global[2] = {p->ncb, b->B};
    return csm_args_launch(&a, 2, global, NULL);
}

/* dweight (C, k) (+)= w->out^T X, or (X o X) where `square`, over the
 * contiguous rows of b: down the CSC copy's columns. */
static csm_status csc_grad(csm_step *w, const csm_block *b, int accumulate, int square)
{
    sparse *p = w->priv;
    const csm_dataset *d = b->d;
    csm_args a = csm_args_start(w->ctx, p->k_csc_grad, "csc_grad");
    csm_arg_mem(&a, w->dweight);
    csm_arg_mem(&a, w->out);
    csm_arg_mem(&a, d->col_ptr);
    csm_arg_mem(&a, d->row_idx);
    csm_arg_mem(&a, d->cvalues);
    csm_arg_int(&a, (cl_int)b->start);
    csm_arg_int(&a, (cl_int)b->B);
    csm_arg_int(&a, accumulate);
    csm_arg_int(&a, square);
    csm_arg_int(&a, (cl_int)w->C);
    csm_arg_int(&a, (cl_int)w->k);
    csm_arg_int(&a, (cl_int)p->cb);
    size_t global[2] = {csm_round_up(w->k, CSM_WG), p->ncb};
    return csm_args_launch(&a, 2, global, NULL);
}

static csm_status sparse_grad_sq(csm_step *w, const csm_block *b, int accumulate)
{
    if (b->idx)
        return csm_fail(w->ctx, CSM_ERR_INVALID_VALUE, "squared products of permuted rows");
    return csc_grad(w, b, accumulate, 1);
}

static csm_status sparse_grad(csm_step *w, const csm_block *b, int accumulate)
{
    // dweight (C, k) (+)= delta (B, C)^T . X_rows (B, k, sparse)
    sparse *p = w->priv;
    const csm_dataset *d = b->d;
    if (!b->idx)
        return csc_grad(w, b, accumulate, 0);
    /* permuted rows: a row walk per class block and feature chunk */
    csm_args a = csm_args_start(w->ctx, p->k_rows_grad, "csr_grad_rows");
    csm_arg_mem(&a, w->dweight);
    csm_arg_mem(&a, w->out);
    csm_arg_mem(&a, d->row_ptr);
    csm_arg_mem(&a, d->col_idx);
    csm_arg_mem(&a, d->values);
    csm_arg_mem(&a, b->idx);
    csm_arg_int(&a, 1);
    csm_arg_int(&a, (cl_int)b->start);
    csm_arg_int(&a, (cl_int)b->B);
    csm_arg_int(&a, (cl_int)p->q);
    csm_arg_int(&a, accumulate);
    csm_arg_int(&a, (cl_int)w->C);
    csm_arg_int(&a, (cl_int)w->k);
    csm_arg_int(&a, (cl_int)p->cb);
    size_t global[2] = {p->q, p->ncb};
    return csm_args_launch(&a, 2, global, NULL);
}

const csm_path_ops csm_path_sparse = {
    .id = CSM_PATH_SPARSE,
    .flags = CSM_PATH_ROWS_IDX,
    .fits = sparse_fits,
    .init = sparse_init,
    .free = sparse_free,
    .logits = sparse_logits,
    .grad = sparse_grad,
    .grad_sq = sparse_grad_sq,
};
