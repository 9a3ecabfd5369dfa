/* The CLBlast path: S = X W^T and dW = (O - T)^T X as CLBlast GEMMs (the
 * general path, and the right one on GPUs, where CLBlast's tuned GEMMs
 * shine). For large blocks on GPUs the gradient GEMM is split into row
 * chunks, one batched GEMM and a fixed-order sum. CLBlast indexes in int:
 * each call gets at most 2^31 elements, operands further in are rebased
 * onto sub-buffers. */
#include "config.h"

#include <stdlib.h>

#include <clblast_c.h>

#include "launch.h"
#include "path.h"
#include "profile.h"

typedef struct clblast {
    size_t split;      /* row chunks of the gradient GEMM */
    cl_mem dpartial;   /* (split, C, k) */
    cl_kernel k_sum_partials;
    int rebased;       /* an operand has been rebased (logged once) */
} clblast;

static int clblast_fits(const csm_context *ctx, const csm_shape *s)
{
    (void)ctx;
    return !s->sparse;
}

/* Row chunks for the gradient GEMM dW = delta^T X. Its output has only
 * C*k entries while it sums over B rows, so one GEMM leaves most of a GPU
 * idle for large B (seen on an H200: 5.8 ms of a 6.1 ms full-batch epoch);
 * chunks computed as one batched GEMM and then summed fill it. The
 * "split_k" option forces a count (for tests); CPUs have few cores and are
 * already busy with C*k outputs. */
static size_t choose_split(csm_context *ctx, size_t cap)
{
    if (ctx->opt.split_k)
        return ctx->opt.split_k;
    if (csm_is_cpu(ctx) || cap < 4096)
        return 1;
    size_t s = cap / 1024;
    return s > 64 ? 64 : s;
}

static void clblast_free(csm_step *w)
{
    clblast *c = w->priv;
    if (!c)
        return;
    csm_buffer_release(&c->dpartial);
    free(c);
    w->priv = NULL;
}

static csm_status clblast_init(csm_step *w, const csm_dataset *d, const csm_tile *tile, int *fits)
{
    (void)tile;
    csm_context *ctx = w->ctx;
    clblast *c = calloc(1, sizeof *c);
    if (!c)
        return csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
    w->priv = c;
    *fits = 1;
    /* the GEMMs read real-typed rows: 8-bit ones are widened once */
    cl_mem x;
    csm_status st = d ? csm_dataset_real_x(d, &x) : CSM_OK;
    c->split = choose_split(ctx, w->cap);
    if (st == CSM_OK && c->split > 1) {
        st = csm_buffer_create(ctx, &c->dpartial,
                               c->split * w->C * w->k * csm_real_size(w->prec),
                               "split-K gradient partials");
        if (st == CSM_OK)
            st = csm_get_kernel(ctx, &c->k_sum_partials, "reduce.cl", "sum_partials", w->prec,
                                NULL);
    }
    if (st != CSM_OK)
        clblast_free(w);
    return st;
}

static csm_status clblast_fail(csm_context *ctx, CLBlastStatusCode code, const char *what)
{
    if (code == CLBlastNoDoublePrecision)
        return csm_fail(ctx, CSM_ERR_NO_FP64, "%s: CLBlast says the device has no float64", what);
    if (code > -1000) /* OpenCL codes are passed through */
        return csm_cl_fail(ctx, (cl_int)code, what);
    return csm_fail(ctx, CSM_ERR_CLBLAST, "%s failed: CLBlast status %d%s", what, (int)code,
                    code == CLBlastInsufficientMemoryTemp || code == -4
                        ? " (temporary buffer allocation)"
                    : code == CLBlastInvalidLocalMemUsage ? " (not enough local memory)"
                    : code == CLBlastDatabaseError        ? " (no tuning entry for this device)"
                                                          : "");
}

/* Row-major GEMM C = op(A) op(B) + beta C in the model precision. */
static csm_status gemm(csm_step *w, int trans_a, int trans_b, size_t m, size_t n, size_t kk,
                       cl_mem a, size_t off_a, size_t lda, cl_mem b, size_t off_b, size_t ldb,
                       double beta, cl_mem c, size_t off_c, size_t ldc, const char *what)
{
    CLBlastTranspose ta = trans_a ? CLBlastTransposeYes : CLBlastTransposeNo;
    CLBlastTranspose tb = trans_b ? CLBlastTransposeYes : CLBlastTransposeNo;
    CLBlastStatusCode rc;
    cl_event ev = NULL, *evp = w->ctx->prof ? &ev : NULL;
    if (w->prec == CSM_FLOAT64)
        rc = CLBlastDgemm(CLBlastLayoutRowMajor, ta, tb, m, n, kk, 1.0, a, off_a, lda, b, off_b,
                          ldb, beta, c, off_c, ldc, &w->ctx->queue, evp);
    else
        rc = CLBlastSgemm(CLBlastLayoutRowMajor, ta, tb, m, n, kk, 1.0f, a, off_a, lda, b, off_b,
                          ldb, (float)beta, c, off_c, ldc, &w->ctx->queue, evp);
    if (rc == CLBlastSuccess)
        csm_profile_add(w->ctx, "CLBlast GEMM", ev, 0);
    return rc == CLBlastSuccess ? CSM_OK : clblast_fail(w->ctx, rc, what);
}

/* Rows per CLBlast call. CLBlast takes size_t offsets but indexes its
 * operands in int, offset included, so past 2^31 elements a GEMM on rows
 * [row0, row0 + B) of X would read the wrong rows: each call gets at most
 * this many rows, and operands that start far in are rebased onto
 * sub-buffers (operand), leaving an offset below one alignment unit,
 * which the rows allow for. */
static size_t rows_per_call(const csm_step *w)
{
    const csm_limits *l = &w->ctx->limits;
    const size_t slack = l->base_align / csm_real_size(w->prec);
    const size_t room = l->max_offset > slack ? l->max_offset - slack : 1;
    const size_t widest = w->k > w->C ? w->k : w->C;
    return room / widest ? room / widest : 1;
}

/* Elements [off, off + count) of buf as a CLBlast operand (see rows_per_call). */
static csm_status operand(csm_step *w, csm_view *v, cl_mem buf, size_t off, size_t count)
{
    clblast *c = w->priv;
    csm_status st = csm_view_at(w->ctx, v, buf, csm_real_size(w->prec), off, count);
    if (st == CSM_OK && v->sub && !c->rebased) {
        c->rebased = 1;
        csm_log(w->ctx, CSM_LOG_DEBUG,
                "CLBlast operands past %zu elements rebased onto sub-buffers, %zu rows per call",
                w->ctx->limits.max_offset, rows_per_call(w));
    }
    return st;
}

static csm_status clblast_logits(csm_step *w, cl_mem weight, const csm_block *b)
{
    const size_t C = w->C, k = w->k, P = rows_per_call(w);
    csm_status st = CSM_OK;
    for (size_t p0 = 0; st == CSM_OK && p0 < b->B; p0 += P) {
        const size_t rows = b->B - p0 < P ? b->B - p0 : P;
        csm_view x, s;
        st = operand(w, &x, b->x, (b->x_row0 + p0) * k, rows * k);
        if (st == CSM_OK) {
            st = operand(w, &s, w->logits, p0 * C, rows * C);
            // logits (rows, C) = X (rows, k) . W (C, k)^T
            if (st == CSM_OK)
                st = gemm(w, 0, 1, rows, C, k, x.mem, x.off, k, weight, 0, k, 0.0, s.mem, s.off,
                          C, "CLBlast GEMM logits = X W^T");
            csm_view_release(&s);
        }
        csm_view_release(&x);
    }
    return st;
}

/* dweight (+)= delta^T X over `rows` rows (x and d: their first rows), as
 * S chunks of Bc rows in one batched GEMM into the partials and a
 * fixed-order sum, then the rows past the last whole chunk. */
static csm_status split_grad(csm_step *w, const csm_view *x, const csm_view *d, size_t rows,
                             size_t S, size_t Bc, int accumulate)
{
    clblast *c = w->priv;
    const size_t C = w->C, k = w->k;
    CLBlastStatusCode rc;
    cl_event ev = NULL, *evp = w->ctx->prof ? &ev : NULL;
    if (w->prec == CSM_FLOAT64)
        rc = CLBlastDgemmStridedBatched(CLBlastLayoutRowMajor, CLBlastTransposeYes,
                                        CLBlastTransposeNo, C, k, Bc, 1.0, d->mem, d->off, C,
                                        Bc * C, x->mem, x->off, k, Bc * k, 0.0, c->dpartial, 0, k,
                                        C * k, S, &w->ctx->queue, evp);
    else
        rc = CLBlastSgemmStridedBatched(CLBlastLayoutRowMajor, CLBlastTransposeYes,
                                        CLBlastTransposeNo, C, k, Bc, 1.0f, d->mem, d->off, C,
                                        Bc * C, x->mem, x->off, k, Bc * k, 0.0f, c->dpartial, 0,
                                        k, C * k, S, &w->ctx->queue, evp);
    if (rc != CLBlastSuccess)
        return clblast_fail(w->ctx, rc, "CLBlast batched GEMM dW = (O - T)^T X");
    csm_profile_add(w->ctx, "CLBlast batched GEMM", ev, 0);
    csm_args a = csm_args_start(w->ctx, c->k_sum_partials, "sum_partials");
    csm_arg_mem(&a, w->dweight);
    csm_arg_mem(&a, c->dpartial);
    csm_arg_int(&a, (cl_int)S);
    csm_arg_int(&a, (cl_int)(C * k));
    csm_arg_int(&a, accumulate);
    size_t global = csm_round_up(C * k, CSM_WG);
    csm_status st = csm_args_launch(&a, 1, &global, NULL);
    /* rows past the last whole chunk */
    size_t done = S * Bc;
    if (st == CSM_OK && done < rows)
        st = gemm(w, 1, 0, C, k, rows - done, d->mem, d->off + done * C, C, x->mem,
                  x->off + done * k, k, 1.0, w->dweight, 0, k,
                  "CLBlast GEMM dW = (O - T)^T X (remainder)");
    return st;
}

/* dweight (+)= delta^T X of the block, at most rows_per_call() rows per
 * call, each call adding to the ones before. */
static csm_status clblast_grad(csm_step *w, const csm_block *b, int accumulate)
{
    const clblast *c = w->priv;
    const size_t C = w->C, k = w->k, P = rows_per_call(w);
    csm_status st = CSM_OK;
    for (size_t p0 = 0; st == CSM_OK && p0 < b->B; p0 += P) {
        const size_t rows = b->B - p0 < P ? b->B - p0 : P;
        const int acc = accumulate || p0 > 0;
        const size_t S = c->split, Bc = S > 1 ? rows / S : 0;
        csm_view x, d;
        st = operand(w, &x, b->x, (b->x_row0 + p0) * k, rows * k);
        if (st == CSM_OK) {
            st = operand(w, &d, w->out, p0 * C, rows * C);
            // dweight (C, k) (+)= delta (rows, C)^T . X (rows, k)
            if (st == CSM_OK && S > 1 && Bc >= 1)
                st = split_grad(w, &x, &d, rows, S, Bc, acc);
            else if (st == CSM_OK)
                st = gemm(w, 1, 0, C, k, rows, d.mem, d.off, C, x.mem, x.off, k, acc ? 1.0 : 0.0,
                          w->dweight, 0, k, "CLBlast GEMM dW = (O - T)^T X");
            csm_view_release(&d);
        }
        csm_view_release(&x);
    }
    return st;
}

static void clblast_describe(const csm_step *w, char *buf, size_t len)
{
    const clblast *c = w->priv;
    if (c->split > 1)
        csm_snprintf(buf, len, "gradient GEMM in %zu row chunks", c->split);
    else
        csm_snprintf(buf, len, "%s", "");
}

const csm_path_ops csm_path_clblast = {
    .id = CSM_PATH_CLBLAST,
    .flags = CSM_PATH_REAL_X,
    .fits = clblast_fits,
    .init = clblast_init,
    .free = clblast_free,
    .logits = clblast_logits,
    .grad = clblast_grad,
    .describe = clblast_describe,
};
