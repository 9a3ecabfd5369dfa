/* The CLBlast path (S = X W^T and dW = delta^T X as GEMMs, our kernels for
 * the rest) and the public one-shot operations built on it: forward, loss,
 * gradient, predict, evaluate. Large datasets are processed in blocks so
 * device memory stays bounded. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calibrate.h"
#include "ops.h"

#include <clblast_c.h>

csm_status csm_set_arg(csm_context *ctx, cl_kernel k, cl_uint idx, size_t size, const void *v)
{
    cl_int rc = clSetKernelArg(k, idx, size, v);
    if (rc != CL_SUCCESS)
        return csm_fail(ctx, CSM_ERR_OPENCL, "clSetKernelArg(%u) failed: %s (%d)", idx,
                        csm_cl_error_name(rc), rc);
    return CSM_OK;
}

csm_status csm_set_real_arg(csm_context *ctx, cl_kernel k, cl_uint idx, csm_precision prec,
                            double v)
{
    if (prec == CSM_FLOAT64)
        return csm_set_arg(ctx, k, idx, sizeof(double), &v);
    float f = (float)v;
    return csm_set_arg(ctx, k, idx, sizeof f, &f);
}

csm_status csm_launch(csm_context *ctx, cl_kernel k, cl_uint dims, const size_t *global,
                      const size_t *local, const char *name)
{
    cl_int rc = clEnqueueNDRangeKernel(ctx->queue, k, dims, NULL, global, local, 0, NULL, NULL);
    if (rc != CL_SUCCESS)
        return csm_fail(ctx, rc == CL_MEM_OBJECT_ALLOCATION_FAILURE || rc == CL_OUT_OF_RESOURCES
                                 ? CSM_ERR_OUT_OF_MEMORY
                                 : CSM_ERR_OPENCL,
                        "launching kernel %s failed: %s (%d)", name, csm_cl_error_name(rc), rc);
    return CSM_OK;
}

static size_t round_up(size_t v, size_t to) { return (v + to - 1) / to * to; }

unsigned csm_vector_width(const csm_context *ctx, csm_precision prec)
{
    unsigned pref = prec == CSM_FLOAT64 ? ctx->vec_double : ctx->vec_float;
    return pref >= 16 ? 16 : pref >= 8 ? 8 : 4;
}

const char *csm_path_name(csm_path p)
{
    return p == CSM_PATH_FUSED    ? "fused"
           : p == CSM_PATH_SPARSE ? "sparse"
           : p == CSM_PATH_TILED  ? "tiled"
                                  : "clblast";
}

csm_status csm_choose_path(csm_context *ctx, size_t C, csm_path *out)
{
    if (ctx->opt.path >= 0) {
        *out = (csm_path)ctx->opt.path;
        return CSM_OK;
    }
    const int cpu = !strcmp(ctx->info.device_type, "cpu");
    *out = !cpu ? CSM_PATH_CLBLAST : C <= CSM_FUSED_RULE_C ? CSM_PATH_FUSED : CSM_PATH_TILED;
    return CSM_OK;
}

/* Row groups of a fused step over B rows: one per default block of rows
 * (w->group_rows: 32 on CPUs, 64 on GPUs, whatever RB the limits left),
 * at most w->max_groups. Each group sums its rows' gradient in row order
 * and fused_reduce adds the groups' sums in group order, so the result is
 * a function of B and the model's shape: the same on every device of a
 * kind, whatever its compute units (the group count used to follow them,
 * and with it the trained weights). */
static size_t fused_groups(const csm_work *w, size_t B)
{
    size_t g = (B + w->group_rows - 1) / w->group_rows;
    if (g > w->max_groups)
        g = w->max_groups;
    return g ? g : 1;
}

/* Local memory fused_step declares for fl items over rb rows (fused.cl:
 * delta, rowid, and lsum, lcnt when fl > 1). */
static size_t fused_local_bytes(const csm_work *w, size_t fl, size_t rb)
{
    const size_t es = csm_real_size(w->prec);
    return rb * w->C * es + rb * sizeof(cl_int) + (fl > 1 ? fl * (es + sizeof(cl_int)) : 0);
}

/* The fused kernels at the largest geometry the device runs: the default
 * FL and RB, else fewer rows per block (they only change how many rows
 * share a pass over W), else fewer items per group. *fits = 0, and nothing
 * allocated, when not even one item over one row runs (C too large for
 * the device's local memory). */
static csm_status fused_init(csm_work *w, const csm_dataset *d, int *fits)
{
    csm_context *ctx = w->ctx;
    const int cpu = !strcmp(ctx->info.device_type, "cpu");
    const size_t fl0 = cpu ? CSM_FUSED_CPU_FL : CSM_FUSED_GPU_FL;
    const size_t rb0 = cpu ? CSM_FUSED_CPU_RB : CSM_FUSED_GPU_RB;
    size_t fl = fl0, rb = rb0;
    while (fl > ctx->limits.max_wg)
        fl /= 2;
    if (rb < fl)
        rb = fl;
    const size_t es = csm_real_size(w->prec), npart = w->C * w->k + w->C;
    const unsigned vec = csm_vector_width(ctx, w->prec);
    /* feature chunk: JV vectors of all C classes of W, about 8 KiB, stays in
     * L1 while a block of rows is multiplied by it */
    size_t jv = 8192 / (w->C * vec * es);
    if (jv < 1)
        jv = 1;
    char extra[128], why[160] = "";
    csm_status st = CSM_OK;
    *fits = 0;
    for (;;) {
        const size_t bytes = fused_local_bytes(w, fl, rb);
        if (bytes <= ctx->limits.local_mem) {
            snprintf(extra, sizeof extra, "-DX_U8=%d -DFL=%zu -DRB=%zu -DVEC=%u -DJV=%zu",
                     d && d->x_u8 ? 1 : 0, fl, rb, vec, jv);
            st = csm_get_kernel_ex(ctx, &w->k_fused, "fused.cl", "fused_step", w->prec, w->C,
                                   w->k, extra);
            if (st != CSM_OK)
                return st;
            if (csm_kernel_fits(ctx, w->k_fused, fl, why, sizeof why))
                break;
        } else {
            snprintf(why, sizeof why, "%zu bytes of local memory, the device has %llu", bytes,
                     (unsigned long long)ctx->limits.local_mem);
        }
        if (rb > fl) {
            rb /= 2;
        } else if (fl > 1) {
            fl /= 2;
            rb = fl;
        } else {
            csm_log(ctx, CSM_LOG_DEBUG, "fused path cannot run C=%zu on %s: even one row needs %s",
                    w->C, ctx->info.device_name, why);
            return CSM_OK;
        }
    }
    *fits = 1;
    if (fl != fl0 || rb != rb0)
        csm_log(ctx, CSM_LOG_DEBUG,
                "fused path for C=%zu: %zu work-items x %zu rows per block (default %zu x %zu): "
                "the default needs %s",
                w->C, fl, rb, fl0, rb0, why);
    w->fl = fl;
    w->rb = rb;
    w->group_rows = rb0;
    /* At most GMAX row groups, each with its own partial sums: as many as
     * a large CPU or GPU keeps busy, but no more than BUDGET bytes of
     * partials for wide models. Neither depends on the device's compute
     * units (see fused_groups). */
    const size_t budget = cpu ? CSM_FUSED_CPU_BUDGET : CSM_FUSED_GPU_BUDGET;
    w->max_groups = cpu ? CSM_FUSED_CPU_GROUPS : CSM_FUSED_GPU_GROUPS;
    if (w->max_groups > budget / (npart * es))
        w->max_groups = budget / (npart * es) ? budget / (npart * es) : 1;
    w->groups = fused_groups(w, w->cap);
    st = csm_buffer_create(ctx, &w->partial, w->groups * npart * es, "fused partials");
    if (st == CSM_OK) st = csm_buffer_create(ctx, &w->gstats, w->groups * es, "fused loss sums");
    if (st == CSM_OK) st = csm_buffer_create(ctx, &w->gcorrect, w->groups * sizeof(cl_int), "fused counts");
    if (st == CSM_OK)
        st = csm_get_kernel_ex(ctx, &w->k_fused_reduce, "fused.cl", "fused_reduce", w->prec, w->C,
                               w->k, extra);
    if (st == CSM_OK)
        st = csm_reduce_group(ctx, w->k_fused_reduce, "fused_reduce", &w->rwg);
    return st;
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
    if (!strcmp(ctx->info.device_type, "cpu") || cap < 4096)
        return 1;
    size_t s = cap / 1024;
    return s > 64 ? 64 : s;
}

csm_status csm_work_init_data(csm_work *w, csm_model *m, const csm_dataset *d, size_t cap,
                              size_t slots)
{
    memset(w, 0, sizeof *w);
    /* a streamed dataset's first chunk stands for it */
    if (d) {
        csm_status st = csm_stream_prime(d, &d);
        if (st != CSM_OK)
            return st;
    }
    /* CSR data has its own products; the dense ones are chosen by
     * measurement (calibrate.c) */
    csm_path path = CSM_PATH_SPARSE;
    csm_tile tile = CSM_TILE_DEFAULT;
    if (!(d && d->sparse)) {
        csm_status st = csm_choose_path_for(m, d, cap, &path, &tile);
        if (st != CSM_OK)
            return st;
    }
    return csm_work_init_path(w, m, d, cap, slots, path, &tile);
}

csm_status csm_work_init_path(csm_work *w, csm_model *m, const csm_dataset *d, size_t cap,
                              size_t slots, csm_path path, const csm_tile *tile)
{
    memset(w, 0, sizeof *w);
    csm_context *ctx = m->ctx;
    w->ctx = ctx;
    w->prec = m->precision;
    w->C = m->C;
    w->k = m->k;
    w->cap = cap;
    w->slots = slots;
    const size_t es = csm_real_size(m->precision);
    w->path = d && d->sparse ? CSM_PATH_SPARSE : path;
    w->tile = *tile;
    csm_status st = CSM_OK;
    if (st == CSM_OK) st = csm_buffer_create(ctx, &w->logits, cap * m->C * es, "logits");
    if (st == CSM_OK) st = csm_buffer_create(ctx, &w->out, cap * m->C * es, "probabilities");
    if (st == CSM_OK) st = csm_buffer_create(ctx, &w->row_loss, cap * es, "row losses");
    if (st == CSM_OK) st = csm_buffer_create(ctx, &w->row_correct, cap * sizeof(cl_int), "row flags");
    if (st == CSM_OK) st = csm_buffer_create(ctx, &w->dweight, m->C * m->k * es, "weight gradient");
    if (st == CSM_OK) st = csm_buffer_create(ctx, &w->dbias, m->C * es, "bias gradient");
    if (st == CSM_OK) st = csm_buffer_create(ctx, &w->stats, slots * es, "loss sums");
    if (st == CSM_OK) st = csm_buffer_create(ctx, &w->correct, slots * sizeof(cl_int), "counts");
    if (st == CSM_OK) st = csm_buffer_create(ctx, &w->sumsq, slots * es, "weight norms");
    const int cpu = !strcmp(ctx->info.device_type, "cpu");
    int fits = 1;
    if (st == CSM_OK && w->path == CSM_PATH_FUSED) {
        st = fused_init(w, d, &fits);
        /* a path that does not fit the device hands over to the next one
         * (the tiled kernels need little local memory, CLBlast sizes its own) */
        if (st == CSM_OK && !fits) {
            w->path = cpu ? CSM_PATH_TILED : CSM_PATH_CLBLAST;
            csm_log(ctx, CSM_LOG_DEBUG, "fused path does not fit %s: %s path instead",
                    ctx->info.device_name, csm_path_name(w->path));
        }
    }
    if (st == CSM_OK && w->path != CSM_PATH_FUSED) {
        /* only the kernels this path runs: start-up compiles nothing else */
        char vec[16];
        snprintf(vec, sizeof vec, "-DVEC=%u", csm_vector_width(ctx, w->prec));
        st = csm_get_kernel_ex(ctx, &w->k_softmax, "forward.cl", "softmax_xent_forward", w->prec,
                               w->C, w->k, vec);
        if (st == CSM_OK)
            st = csm_get_kernel(ctx, &w->k_reduce, "reduce.cl", "reduce_loss", w->prec, w->C, w->k);
        if (st == CSM_OK)
            st = csm_get_kernel(ctx, &w->k_bias_grad, "reduce.cl", "bias_grad", w->prec, w->C, w->k);
        size_t wg2 = 0;
        if (st == CSM_OK) st = csm_reduce_group(ctx, w->k_reduce, "reduce_loss", &w->rwg);
        if (st == CSM_OK) st = csm_reduce_group(ctx, w->k_bias_grad, "bias_grad", &wg2);
        if (st == CSM_OK && wg2 < w->rwg)
            w->rwg = wg2;
        if (st == CSM_OK && w->path == CSM_PATH_SPARSE)
            st = csm_sparse_init(w);
        if (st == CSM_OK && w->path == CSM_PATH_TILED) {
            st = csm_tiled_init(w, d, &fits);
            if (st == CSM_OK && !fits) {
                w->path = CSM_PATH_CLBLAST;
                csm_log(ctx, CSM_LOG_DEBUG, "tiled path does not fit %s: clblast path instead",
                        ctx->info.device_name);
            }
        }
        cl_mem x;
        if (st == CSM_OK && w->path == CSM_PATH_CLBLAST && d)
            st = csm_dataset_real_x(d, &x);
        w->split = w->path == CSM_PATH_CLBLAST ? choose_split(ctx, cap) : 1;
        if (st == CSM_OK && w->split > 1) {
            st = csm_buffer_create(ctx, &w->dpartial, w->split * m->C * m->k * es,
                                   "split-K gradient partials");
            if (st == CSM_OK)
                st = csm_get_kernel(ctx, &w->k_sum_partials, "reduce.cl", "sum_partials",
                                    w->prec, w->C, w->k);
        }
    }
    if (st == CSM_OK)
        csm_log(ctx, CSM_LOG_DEBUG, "%s path for C=%zu k=%zu on %s", csm_path_name(w->path), w->C,
                w->k, ctx->info.device_name);
    if (st != CSM_OK)
        csm_work_free(w);
    return st;
}

void csm_work_free(csm_work *w)
{
    csm_buffer_release(&w->logits);
    csm_buffer_release(&w->out);
    csm_buffer_release(&w->row_loss);
    csm_buffer_release(&w->row_correct);
    csm_buffer_release(&w->dweight);
    csm_buffer_release(&w->dbias);
    csm_buffer_release(&w->stats);
    csm_buffer_release(&w->correct);
    csm_buffer_release(&w->sumsq);
    csm_buffer_release(&w->partial);
    csm_buffer_release(&w->dpartial);
    csm_buffer_release(&w->gstats);
    csm_buffer_release(&w->gcorrect);
    csm_buffer_release(&w->wt);
    csm_buffer_release(&w->dbias_comp);
    /* kernels belong to the context's cache */
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

/* Row-major GEMM C = alpha op(A) op(B) + beta C in the model precision. */
static csm_status gemm(csm_work *w, int trans_a, int trans_b, size_t m, size_t n, size_t kk,
                       cl_mem a, size_t off_a, size_t lda, cl_mem b, size_t off_b, size_t ldb,
                       double beta, cl_mem c, size_t off_c, size_t ldc, const char *what)
{
    CLBlastTranspose ta = trans_a ? CLBlastTransposeYes : CLBlastTransposeNo;
    CLBlastTranspose tb = trans_b ? CLBlastTransposeYes : CLBlastTransposeNo;
    CLBlastStatusCode rc;
    if (w->prec == CSM_FLOAT64)
        rc = CLBlastDgemm(CLBlastLayoutRowMajor, ta, tb, m, n, kk, 1.0, a, off_a, lda, b, off_b,
                          ldb, beta, c, off_c, ldc, &w->ctx->queue, NULL);
    else
        rc = CLBlastSgemm(CLBlastLayoutRowMajor, ta, tb, m, n, kk, 1.0f, a, off_a, lda, b, off_b,
                          ldb, (float)beta, c, off_c, ldc, &w->ctx->queue, NULL);
    return rc == CLBlastSuccess ? CSM_OK : clblast_fail(w->ctx, rc, what);
}

/* Rows per CLBlast call. CLBlast takes size_t offsets but indexes its
 * operands in int, offset included, so past 2^31 elements a GEMM on rows
 * [row0, row0 + B) of X would read the wrong rows: each call gets at most
 * this many rows, and operands that start far in are rebased onto
 * sub-buffers (clblast_operand), leaving an offset below one alignment
 * unit, which the rows allow for. */
static size_t clblast_rows(const csm_work *w)
{
    const csm_limits *l = &w->ctx->limits;
    const size_t slack = l->base_align / csm_real_size(w->prec);
    const size_t room = l->max_offset > slack ? l->max_offset - slack : 1;
    const size_t widest = w->k > w->C ? w->k : w->C;
    return room / widest ? room / widest : 1;
}

/* Elements [off, off + count) of buf as a CLBlast operand (see clblast_rows). */
static csm_status clblast_operand(csm_work *w, csm_view *v, cl_mem buf, size_t off, size_t count)
{
    csm_status st = csm_view_at(w->ctx, v, buf, csm_real_size(w->prec), off, count);
    if (st == CSM_OK && v->sub && !w->rebased) {
        w->rebased = 1;
        csm_log(w->ctx, CSM_LOG_DEBUG,
                "CLBlast operands past %zu elements rebased onto sub-buffers, %zu rows per call",
                w->ctx->limits.max_offset, clblast_rows(w));
    }
    return st;
}

csm_status csm_enqueue_logits(csm_work *w, csm_model *m, const csm_block *b)
{
    if (w->path == CSM_PATH_SPARSE)
        return csm_sparse_enqueue_logits(w, m, b);
    if (w->path == CSM_PATH_TILED)
        return csm_tiled_enqueue_logits(w, m, b);
    const size_t C = w->C, k = w->k, P = clblast_rows(w);
    csm_status st = CSM_OK;
    for (size_t p0 = 0; st == CSM_OK && p0 < b->B; p0 += P) {
        const size_t rows = b->B - p0 < P ? b->B - p0 : P;
        csm_view x, s;
        st = clblast_operand(w, &x, b->x, (b->x_row0 + p0) * k, rows * k);
        if (st == CSM_OK) {
            st = clblast_operand(w, &s, w->logits, p0 * C, rows * C);
            // logits (rows, C) = X (rows, k) . W (C, k)^T
            if (st == CSM_OK)
                st = gemm(w, 0, 1, rows, C, k, x.mem, x.off, k, m->weight, 0, k, 0.0, s.mem, s.off,
                          C, "CLBlast GEMM logits = X W^T");
            csm_view_release(&s);
        }
        csm_view_release(&x);
    }
    return st;
}

csm_status csm_enqueue_softmax(csm_work *w, csm_model *m, const csm_block *b, int mode,
                               double scale)
{
    csm_context *ctx = w->ctx;
    cl_kernel k = w->k_softmax;
    if (b->labels)
        mode |= CSM_HAS_LABELS;
    else if (b->targets)
        mode |= CSM_HAS_TARGETS;
    /* unused pointer arguments still need a valid buffer */
    cl_mem labels = b->labels ? b->labels : w->row_correct;
    cl_mem targets = b->targets ? b->targets : w->out;
    cl_mem weights = b->weights ? b->weights : w->row_loss;
    if (b->weights && (b->labels || b->targets))
        mode |= CSM_HAS_WEIGHTS;
    cl_int row0 = (cl_int)b->row0, B = (cl_int)b->B, md = mode;
    csm_status st = CSM_OK;
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 0, sizeof(cl_mem), &w->logits);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 1, sizeof(cl_mem), &w->out);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 2, sizeof(cl_mem), &w->row_loss);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 3, sizeof(cl_mem), &w->row_correct);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 4, sizeof(cl_mem), &m->bias);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 5, sizeof(cl_mem), &labels);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 6, sizeof(cl_mem), &targets);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 7, sizeof(cl_mem), &weights);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 8, sizeof row0, &row0);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 9, sizeof B, &B);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 10, sizeof md, &md);
    if (st == CSM_OK) st = csm_set_real_arg(ctx, k, 11, w->prec, scale);
    size_t global = round_up(b->B, CSM_WG);
    if (st == CSM_OK) st = csm_launch(ctx, k, 1, &global, NULL, "softmax_xent_forward");
    return st;
}

csm_status csm_enqueue_reduce(csm_work *w, size_t slot, size_t B)
{
    csm_context *ctx = w->ctx;
    cl_kernel k = w->k_reduce;
    cl_int s = (cl_int)slot, n = (cl_int)B;
    csm_status st = csm_set_arg(ctx, k, 0, sizeof(cl_mem), &w->stats);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 1, sizeof(cl_mem), &w->correct);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 2, sizeof s, &s);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 3, sizeof(cl_mem), &w->row_loss);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 4, sizeof(cl_mem), &w->row_correct);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 5, sizeof n, &n);
    size_t global = w->rwg, local = w->rwg;
    if (st == CSM_OK) st = csm_launch(ctx, k, 1, &global, &local, "reduce_loss");
    return st;
}

csm_status csm_enqueue_sumsq(csm_work *w, csm_model *m, size_t slot)
{
    csm_context *ctx = w->ctx;
    /* built on first use: only runs with an L2 term need it */
    if (!w->k_sumsq) {
        csm_status st = csm_get_kernel(ctx, &w->k_sumsq, "reduce.cl", "sum_squares", w->prec,
                                       w->C, w->k);
        if (st == CSM_OK)
            st = csm_reduce_group(ctx, w->k_sumsq, "sum_squares", &w->sumsq_wg);
        if (st != CSM_OK)
            return st;
    }
    cl_kernel k = w->k_sumsq;
    cl_int s = (cl_int)slot, n = (cl_int)(w->C * w->k);
    csm_status st = csm_set_arg(ctx, k, 0, sizeof(cl_mem), &w->sumsq);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 1, sizeof s, &s);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 2, sizeof(cl_mem), &m->weight);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 3, sizeof n, &n);
    size_t global = w->sumsq_wg, local = w->sumsq_wg;
    if (st == CSM_OK) st = csm_launch(ctx, k, 1, &global, &local, "sum_squares");
    return st;
}

/* dweight (+)= delta^T X over `rows` rows (x and d: their first rows), as
 * S chunks of Bc rows in one batched GEMM into the partials and a
 * fixed-order sum, then the rows past the last whole chunk. */
static csm_status enqueue_split_grad(csm_work *w, const csm_view *x, const csm_view *d,
                                     size_t rows, size_t S, size_t Bc, int accumulate)
{
    const size_t C = w->C, k = w->k;
    CLBlastStatusCode rc;
    if (w->prec == CSM_FLOAT64)
        rc = CLBlastDgemmStridedBatched(CLBlastLayoutRowMajor, CLBlastTransposeYes,
                                        CLBlastTransposeNo, C, k, Bc, 1.0, d->mem, d->off, C,
                                        Bc * C, x->mem, x->off, k, Bc * k, 0.0, w->dpartial, 0, k,
                                        C * k, S, &w->ctx->queue, NULL);
    else
        rc = CLBlastSgemmStridedBatched(CLBlastLayoutRowMajor, CLBlastTransposeYes,
                                        CLBlastTransposeNo, C, k, Bc, 1.0f, d->mem, d->off, C,
                                        Bc * C, x->mem, x->off, k, Bc * k, 0.0f, w->dpartial, 0,
                                        k, C * k, S, &w->ctx->queue, NULL);
    if (rc != CLBlastSuccess)
        return clblast_fail(w->ctx, rc, "CLBlast batched GEMM dW = (O - T)^T X");
    csm_context *ctx = w->ctx;
    cl_kernel kern = w->k_sum_partials;
    cl_int s = (cl_int)S, count = (cl_int)(C * k), acc = accumulate;
    csm_status st = csm_set_arg(ctx, kern, 0, sizeof(cl_mem), &w->dweight);
    if (st == CSM_OK) st = csm_set_arg(ctx, kern, 1, sizeof(cl_mem), &w->dpartial);
    if (st == CSM_OK) st = csm_set_arg(ctx, kern, 2, sizeof s, &s);
    if (st == CSM_OK) st = csm_set_arg(ctx, kern, 3, sizeof count, &count);
    if (st == CSM_OK) st = csm_set_arg(ctx, kern, 4, sizeof acc, &acc);
    size_t global = round_up(C * k, CSM_WG);
    if (st == CSM_OK) st = csm_launch(ctx, kern, 1, &global, NULL, "sum_partials");
    /* rows past the last whole chunk */
    size_t done = S * Bc;
    if (st == CSM_OK && done < rows)
        st = gemm(w, 1, 0, C, k, rows - done, d->mem, d->off + done * C, C, x->mem,
                  x->off + done * k, k, 1.0, w->dweight, 0, k,
                  "CLBlast GEMM dW = (O - T)^T X (remainder)");
    return st;
}

/* dweight (+)= delta^T X of the block, at most clblast_rows() rows per
 * call, each call adding to the ones before. */
static csm_status clblast_grad(csm_work *w, const csm_block *b, int accumulate)
{
    const size_t C = w->C, k = w->k, P = clblast_rows(w);
    csm_status st = CSM_OK;
    for (size_t p0 = 0; st == CSM_OK && p0 < b->B; p0 += P) {
        const size_t rows = b->B - p0 < P ? b->B - p0 : P;
        const int acc = accumulate || p0 > 0;
        const size_t S = w->split, Bc = S > 1 ? rows / S : 0;
        csm_view x, d;
        st = clblast_operand(w, &x, b->x, (b->x_row0 + p0) * k, rows * k);
        if (st == CSM_OK) {
            st = clblast_operand(w, &d, w->out, p0 * C, rows * C);
            // dweight (C, k) (+)= delta (rows, C)^T . X (rows, k)
            if (st == CSM_OK && S > 1 && Bc >= 1)
                st = enqueue_split_grad(w, &x, &d, rows, S, Bc, acc);
            else if (st == CSM_OK)
                st = gemm(w, 1, 0, C, k, rows, d.mem, d.off, C, x.mem, x.off, k, acc ? 1.0 : 0.0,
                          w->dweight, 0, k, "CLBlast GEMM dW = (O - T)^T X");
            csm_view_release(&d);
        }
        csm_view_release(&x);
    }
    return st;
}

csm_status csm_enqueue_grad(csm_work *w, const csm_model *m, const csm_block *b, int accumulate,
                            int extras, size_t slot)
{
    // dweight (C, k) (+)= delta (B, C)^T . X (B, k)
    csm_status st;
    if (w->path == CSM_PATH_TILED)
        st = csm_tiled_enqueue_grad(w, b, accumulate); /* with the bias sums */
    else if (w->path == CSM_PATH_SPARSE)
        st = csm_sparse_enqueue_dweight(w, b, accumulate);
    else
        st = clblast_grad(w, b, accumulate);
    if (st != CSM_OK)
        return st;
    csm_context *ctx = w->ctx;
    cl_kernel k = w->k_bias_grad;
    /* groups 0 .. C-1 sum the bias columns (but on the tiled path, whose
     * gradient kernel has done it); the extras get a group each after them */
    cl_int groups = w->path == CSM_PATH_TILED ? 0 : (cl_int)w->C;
    cl_int loss_group = extras & CSM_GRAD_LOSS ? groups++ : -1;
    cl_int sumsq_group = extras & CSM_GRAD_SUMSQ ? groups++ : -1;
    if (groups == 0)
        return CSM_OK;
    /* unused pointer arguments still need a valid buffer */
    cl_mem weight = extras & CSM_GRAD_SUMSQ ? m->weight : w->dweight;
    cl_int n = (cl_int)b->B, acc = accumulate, s = (cl_int)slot;
    st = csm_set_arg(ctx, k, 0, sizeof(cl_mem), &w->dbias);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 1, sizeof(cl_mem), &w->stats);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 2, sizeof(cl_mem), &w->correct);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 3, sizeof(cl_mem), &w->sumsq);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 4, sizeof(cl_mem), &w->out);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 5, sizeof(cl_mem), &w->row_loss);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 6, sizeof(cl_mem), &w->row_correct);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 7, sizeof(cl_mem), &weight);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 8, sizeof n, &n);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 9, sizeof acc, &acc);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 10, sizeof s, &s);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 11, sizeof loss_group, &loss_group);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 12, sizeof sumsq_group, &sumsq_group);
    size_t global = (size_t)groups * w->rwg, local = w->rwg;
    if (st == CSM_OK) st = csm_launch(ctx, k, 1, &global, &local, "bias_grad");
    return st;
}

static csm_status enqueue_fused(csm_work *w, csm_model *m, const csm_block *b, int mode,
                                double scale, size_t slot, int accumulate, int sumsq)
{
    csm_context *ctx = w->ctx;
    const csm_dataset *d = b->d;
    cl_kernel k = w->k_fused;
    if (b->labels && d->labels)
        mode |= CSM_HAS_LABELS;
    else if (b->targets && d->targets)
        mode |= CSM_HAS_TARGETS;
    cl_mem x = d->x_u8 ? d->x_u8 : d->x;
    /* unused pointer arguments still need a valid buffer */
    cl_mem idx = b->idx ? b->idx : w->row_correct;
    cl_mem labels = d->labels ? d->labels : w->row_correct;
    cl_mem targets = d->targets ? d->targets : w->out;
    cl_mem weights = d->weights ? d->weights : w->row_loss;
    if (b->weights && d->weights && (mode & (CSM_HAS_LABELS | CSM_HAS_TARGETS)))
        mode |= CSM_HAS_WEIGHTS;
    cl_int use_idx = b->idx != NULL, start = (cl_int)b->start, B = (cl_int)b->B, md = mode;
    csm_status st = CSM_OK;
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 0, sizeof(cl_mem), &w->partial);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 1, sizeof(cl_mem), &w->gstats);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 2, sizeof(cl_mem), &w->gcorrect);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 3, sizeof(cl_mem), &w->logits);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 4, sizeof(cl_mem), &w->out);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 5, sizeof(cl_mem), &w->row_correct);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 6, sizeof(cl_mem), &x);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 7, sizeof(cl_mem), &idx);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 8, sizeof use_idx, &use_idx);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 9, sizeof start, &start);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 10, sizeof(cl_mem), &labels);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 11, sizeof(cl_mem), &targets);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 12, sizeof(cl_mem), &weights);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 13, sizeof(cl_mem), &m->weight);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 14, sizeof(cl_mem), &m->bias);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 15, sizeof B, &B);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 16, sizeof md, &md);
    if (st == CSM_OK) st = csm_set_real_arg(ctx, k, 17, w->prec, scale);
    const size_t groups = fused_groups(w, b->B);
    size_t global = groups * w->fl, local = w->fl;
    if (st == CSM_OK) st = csm_launch(ctx, k, 1, &global, &local, "fused_step");

    k = w->k_fused_reduce;
    cl_int s = (cl_int)slot, G = (cl_int)groups, grad = (mode & CSM_COMPUTE_GRAD) != 0,
           acc = accumulate;
    /* ||W||^2 takes one work-group past those of the partials: no launch
     * of its own (fused_step does not write W, so it is W before the step) */
    const size_t rwg = w->rwg;
    size_t rglobal = grad ? round_up(w->C * w->k + w->C, rwg) : rwg, rlocal = rwg;
    cl_int sumsq_group = sumsq ? (cl_int)(rglobal / rwg) : -1;
    if (sumsq)
        rglobal += rwg;
    /* unused pointer arguments still need a valid buffer */
    cl_mem weight = sumsq ? m->weight : w->dweight;
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 0, sizeof(cl_mem), &w->dweight);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 1, sizeof(cl_mem), &w->dbias);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 2, sizeof(cl_mem), &w->stats);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 3, sizeof(cl_mem), &w->correct);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 4, sizeof(cl_mem), &w->sumsq);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 5, sizeof s, &s);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 6, sizeof(cl_mem), &w->partial);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 7, sizeof(cl_mem), &w->gstats);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 8, sizeof(cl_mem), &w->gcorrect);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 9, sizeof(cl_mem), &weight);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 10, sizeof G, &G);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 11, sizeof grad, &grad);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 12, sizeof acc, &acc);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 13, sizeof sumsq_group, &sumsq_group);
    if (st == CSM_OK) st = csm_launch(ctx, k, 1, &rglobal, &rlocal, "fused_reduce");
    return st;
}

csm_status csm_enqueue_batch_grad(csm_work *w, csm_model *m, const csm_block *b, double scale,
                                  size_t slot, int accumulate, int sumsq)
{
    if (w->path == CSM_PATH_FUSED)
        return enqueue_fused(w, m, b, CSM_COMPUTE_GRAD, scale, slot, accumulate, sumsq);
    csm_status st = csm_enqueue_logits(w, m, b);
    if (st == CSM_OK) st = csm_enqueue_softmax(w, m, b, CSM_WRITE_DELTA, scale);
    /* the loss sums (and ||W||^2) in the bias-sum launch */
    const int extras = CSM_GRAD_LOSS | (sumsq ? CSM_GRAD_SUMSQ : 0);
    if (st == CSM_OK) st = csm_enqueue_grad(w, m, b, accumulate, extras, slot);
    return st;
}

csm_status csm_enqueue_block_forward(csm_work *w, csm_model *m, const csm_block *b, int mode,
                                     size_t slot)
{
    if (w->path == CSM_PATH_FUSED)
        return enqueue_fused(w, m, b, mode, 1.0, slot, 0, 0);
    csm_status st = csm_enqueue_logits(w, m, b);
    if (st == CSM_OK) st = csm_enqueue_softmax(w, m, b, mode, 1.0);
    if (st == CSM_OK && (b->labels || b->targets)) st = csm_enqueue_reduce(w, slot, b->B);
    return st;
}

/* ----------------------------------------------------- minibatch gather */

csm_status csm_gather_init(csm_gather *g, csm_model *m, const csm_dataset *d, size_t cap,
                           int rows_in_place)
{
    memset(g, 0, sizeof *g);
    g->in_place = rows_in_place || d->sparse;
    csm_context *ctx = m->ctx;
    g->ctx = ctx;
    const size_t es = csm_real_size(m->precision);
    csm_status st = csm_get_kernel(ctx, &g->k_batch, "gather.cl", "gather_batch", m->precision,
                                   m->C, m->k);
    /* rows read through the permutation: only the targets move */
    if (st == CSM_OK)
        st = csm_buffer_create(ctx, &g->xb, g->in_place ? 0 : cap * m->k * es, "batch features");
    if (st == CSM_OK) st = csm_buffer_create(ctx, &g->yb, cap * sizeof(cl_int), "batch labels");
    if (st == CSM_OK)
        st = csm_buffer_create(ctx, &g->tb, d->targets ? cap * m->C * es : 0, "batch targets");
    if (st == CSM_OK)
        st = csm_buffer_create(ctx, &g->wb, d->weights ? cap * es : 0, "batch weights");
    if (st != CSM_OK)
        csm_gather_free(g);
    return st;
}

void csm_gather_free(csm_gather *g)
{
    csm_buffer_release(&g->xb);
    csm_buffer_release(&g->yb);
    csm_buffer_release(&g->tb);
    csm_buffer_release(&g->wb);
}

csm_status csm_enqueue_gather(csm_gather *g, const csm_dataset *d, cl_mem idx, size_t start,
                              size_t B)
{
    csm_context *ctx = g->ctx;
    cl_kernel k = g->k_batch;
    /* rows read through the permutation: only the targets move */
    cl_int has_rows = !g->in_place, has_labels = d->labels != NULL,
           has_weights = d->weights != NULL;
    cl_int s = (cl_int)start, n = (cl_int)B;
    /* unused pointer arguments still need a valid buffer */
    cl_mem x = has_rows ? d->x : g->xb, y = d->labels ? d->labels : g->yb;
    cl_mem t = d->targets ? d->targets : g->tb, wt = d->weights ? d->weights : g->wb;
    csm_status st = csm_set_arg(ctx, k, 0, sizeof(cl_mem), &g->xb);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 1, sizeof(cl_mem), &g->yb);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 2, sizeof(cl_mem), &g->tb);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 3, sizeof(cl_mem), &g->wb);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 4, sizeof(cl_mem), &x);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 5, sizeof(cl_mem), &y);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 6, sizeof(cl_mem), &t);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 7, sizeof(cl_mem), &wt);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 8, sizeof(cl_mem), &idx);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 9, sizeof has_rows, &has_rows);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 10, sizeof has_labels, &has_labels);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 11, sizeof has_weights, &has_weights);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 12, sizeof s, &s);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 13, sizeof n, &n);
    /* one item per feature of a row (see gather.cl) */
    size_t global[2] = {has_rows ? d->k : 1, B};
    if (st == CSM_OK) st = csm_launch(ctx, k, 2, global, NULL, "gather_batch");
    return st;
}

csm_block csm_gather_block(const csm_gather *g, const csm_dataset *d, cl_mem idx, size_t start,
                           size_t B)
{
    /* targets gathered; rows in place are read through the permutation */
    csm_block b = {g->xb, 0, d->labels ? g->yb : NULL, d->targets ? g->tb : NULL, 0, B, d,
                   g->in_place ? idx : NULL, g->in_place ? start : 0, d->weights ? g->wb : NULL};
    return b;
}

/* ------------------------------------------------------------ public ops */

csm_status csm_check_pair(csm_model *m, const csm_dataset *d, int need_targets, const char *fn)
{
    if (!m)
        return CSM_ERR_NULL_ARGUMENT;
    if (!d)
        return csm_fail(m->ctx, CSM_ERR_NULL_ARGUMENT, "%s: dataset is NULL", fn);
    if (d->ctx != m->ctx)
        return csm_fail(m->ctx, CSM_ERR_MISMATCH, "%s: model and dataset belong to different contexts", fn);
    if (d->precision != m->precision)
        return csm_fail(m->ctx, CSM_ERR_MISMATCH, "%s: model is %s but dataset is %s", fn,
                        m->precision == CSM_FLOAT64 ? "float64" : "float32",
                        d->precision == CSM_FLOAT64 ? "float64" : "float32");
    if (d->k != m->k)
        return csm_fail(m->ctx, CSM_ERR_MISMATCH, "%s: model has %zu features, dataset has %zu",
                        fn, m->k, d->k);
    if (d->C != 0 && d->C != m->C)
        return csm_fail(m->ctx, CSM_ERR_MISMATCH, "%s: model has %zu classes, dataset has %zu",
                        fn, m->C, d->C);
    if (need_targets && d->C == 0)
        return csm_fail(m->ctx, CSM_ERR_NO_TARGETS, "%s: the dataset has no labels or targets",
                        fn);
    return CSM_OK;
}

/* Rows per block for whole-dataset operations: bounded device memory. */
size_t csm_block_rows(const csm_model *m, size_t n)
{
    size_t cap = ((size_t)1 << 22) / m->C;
    if (cap < 256)
        cap = 256;
    /* the "block_rows" option lowers the bound, e.g. to test block seams */
    const size_t opt = m->ctx->opt.block_rows;
    if (opt && opt < cap)
        cap = opt;
    /* max_alloc bounds a block's logits, outputs and row sums too */
    const size_t es = csm_real_size(m->precision);
    const size_t ma = m->ctx->opt.max_alloc / (2 * m->C * es + es + sizeof(cl_int));
    if (m->ctx->opt.max_alloc && ma < cap)
        cap = ma ? ma : 1;
    return cap < n ? cap : n;
}

/* Contiguous rows [row0, row0 + B) of d, described for both paths (the
 * real-typed X exists whenever the work's path is CLBlast). */
csm_block csm_dataset_block(const csm_dataset *d, size_t row0, size_t B)
{
    csm_block b = {d->x, row0, d->labels, d->targets, row0, B, d, NULL, row0, d->weights};
    return b;
}

csm_status csm_read_sums(csm_work *w, size_t nblocks, double *loss_sum, double *correct_sum)
{
    double *s = malloc(nblocks * sizeof *s);
    cl_int *c = malloc(nblocks * sizeof *c);
    csm_status st = (s && c) ? CSM_OK : csm_fail(w->ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
    if (st == CSM_OK)
        st = csm_download(w->ctx, s, w->stats, w->prec, 0, nblocks);
    if (st == CSM_OK) {
        cl_int rc = clEnqueueReadBuffer(w->ctx->queue, w->correct, CL_TRUE, 0,
                                        nblocks * sizeof *c, c, 0, NULL, NULL);
        if (rc != CL_SUCCESS)
            st = csm_cl_fail(w->ctx, rc, "clEnqueueReadBuffer (counts)");
    }
    if (st == CSM_OK) {
        double ls = 0, cs = 0;
        for (size_t i = 0; i < nblocks; i++) {
            ls += s[i];
            cs += c[i];
        }
        if (loss_sum) *loss_sum = ls;
        if (correct_sum) *correct_sum = cs;
    }
    free(s);
    free(c);
    return st;
}

static csm_status l2_term(csm_work *w, csm_model *m, double l2, double *term)
{
    *term = 0;
    if (l2 == 0)
        return CSM_OK;
    csm_status st = csm_enqueue_sumsq(w, m, 0);
    double sq = 0;
    if (st == CSM_OK)
        st = csm_download(w->ctx, &sq, w->sumsq, w->prec, 0, 1);
    *term = 0.5 * l2 * sq;
    return st;
}

static csm_status check_l2(csm_model *m, double l2, const char *fn)
{
    if (!isfinite(l2) || l2 < 0)
        return csm_fail(m->ctx, CSM_ERR_INVALID_VALUE, "%s: l2 is %g, must be finite and >= 0",
                        fn, l2);
    return CSM_OK;
}

/* Per-row outputs of a pass, read back block by block. */
typedef struct rows_out {
    csm_work *w;
    csm_model *m;
    double *logits, *probs; /* forward */
    int32_t *classes;       /* predict */
} rows_out;

static csm_status forward_chunk(void *user, const csm_dataset *c, size_t pos)
{
    rows_out *o = user;
    csm_work *w = o->w;
    csm_model *m = o->m;
    csm_status st = CSM_OK;
    const int mode = o->classes ? 0 : CSM_WRITE_LOGITS | (o->probs ? CSM_WRITE_PROBS : 0);
    for (size_t r = 0; st == CSM_OK && r < c->n; r += w->cap) {
        size_t B = c->n - r < w->cap ? c->n - r : w->cap;
        const size_t row = pos + r;
        csm_block b = csm_dataset_block(c, r, B);
        /* outputs do not depend on targets; without them the kernel writes the argmax */
        b.labels = b.targets = NULL;
        st = csm_enqueue_block_forward(w, m, &b, mode, 0);
        if (st == CSM_OK && o->logits)
            st = csm_download(m->ctx, o->logits + row * m->C, w->logits, m->precision, 0, B * m->C);
        if (st == CSM_OK && o->probs)
            st = csm_download(m->ctx, o->probs + row * m->C, w->out, m->precision, 0, B * m->C);
        if (st == CSM_OK && o->classes) {
            cl_int rc = clEnqueueReadBuffer(m->ctx->queue, w->row_correct, CL_TRUE, 0,
                                            B * sizeof(cl_int), o->classes + row, 0, NULL, NULL);
            if (rc != CL_SUCCESS)
                st = csm_cl_fail(m->ctx, rc, "clEnqueueReadBuffer (predictions)");
        }
    }
    return st;
}

static csm_status rows_pass(rows_out *o, const csm_dataset *d)
{
    csm_work w;
    csm_status st = csm_work_init_data(&w, o->m, d, csm_pass_rows(o->m, d), 1);
    if (st != CSM_OK)
        return st;
    o->w = &w;
    st = csm_stream_each(d, NULL, forward_chunk, o, w.path == CSM_PATH_CLBLAST);
    csm_work_free(&w);
    return st;
}

csm_status csm_forward(csm_model *m, const csm_dataset *d, double *logits, double *probs)
{
    csm_status st = csm_check_pair(m, d, 0, "csm_forward");
    if (st != CSM_OK)
        return st;
    if (!logits && !probs)
        return csm_fail(m->ctx, CSM_ERR_NULL_ARGUMENT, "csm_forward: logits and probs both NULL");
    rows_out o = {NULL, m, logits, probs, NULL};
    return rows_pass(&o, d);
}

csm_status csm_predict_proba(csm_model *m, const csm_dataset *d, double *probs)
{
    if (m && !probs)
        return csm_fail(m->ctx, CSM_ERR_NULL_ARGUMENT, "csm_predict_proba: probs is NULL");
    return csm_forward(m, d, NULL, probs);
}

csm_status csm_predict(csm_model *m, const csm_dataset *d, int32_t *classes)
{
    csm_status st = csm_check_pair(m, d, 0, "csm_predict");
    if (st != CSM_OK)
        return st;
    if (!classes)
        return csm_fail(m->ctx, CSM_ERR_NULL_ARGUMENT, "csm_predict: classes is NULL");
    rows_out o = {NULL, m, NULL, NULL, classes};
    return rows_pass(&o, d);
}

static csm_status whole_pass(csm_model *m, const csm_dataset *d, int grad, csm_work *w,
                             double *loss_sum, double *correct_sum)
{
    size_t cap = csm_pass_rows(m, d);
    size_t nblocks = csm_pass_blocks(d, cap);
    csm_status st = csm_work_init_data(w, m, d, cap, nblocks);
    if (st != CSM_OK)
        return st;
    st = csm_enqueue_dataset(w, m, d, grad);
    if (st == CSM_OK)
        st = csm_read_sums(w, nblocks, loss_sum, correct_sum);
    if (st != CSM_OK)
        csm_work_free(w);
    return st;
}

csm_status csm_loss(csm_model *m, const csm_dataset *d, double l2, double *loss)
{
    csm_status st = csm_check_pair(m, d, 1, "csm_loss");
    if (st == CSM_OK) st = check_l2(m, l2, "csm_loss");
    if (st != CSM_OK)
        return st;
    if (!loss)
        return csm_fail(m->ctx, CSM_ERR_NULL_ARGUMENT, "csm_loss: loss is NULL");
    csm_work w;
    double sum = 0, term = 0;
    st = whole_pass(m, d, 0, &w, &sum, NULL);
    if (st != CSM_OK)
        return st;
    st = l2_term(&w, m, l2, &term);
    csm_work_free(&w);
    if (st == CSM_OK)
        *loss = sum / d->weight_sum + term;
    return st;
}

csm_status csm_evaluate(csm_model *m, const csm_dataset *d, double *loss, double *accuracy)
{
    csm_status st = csm_check_pair(m, d, 1, "csm_evaluate");
    if (st != CSM_OK)
        return st;
    csm_work w;
    double sum = 0, correct = 0;
    st = whole_pass(m, d, 0, &w, &sum, &correct);
    if (st != CSM_OK)
        return st;
    csm_work_free(&w);
    if (loss) *loss = sum / d->weight_sum;
    if (accuracy) *accuracy = correct / (double)d->n;
    return CSM_OK;
}

csm_status csm_gradient(csm_model *m, const csm_dataset *d, double l2, double *loss,
                        double *dweight, double *dbias)
{
    csm_status st = csm_check_pair(m, d, 1, "csm_gradient");
    if (st == CSM_OK) st = check_l2(m, l2, "csm_gradient");
    if (st != CSM_OK)
        return st;
    if (!loss && !dweight && !dbias)
        return csm_fail(m->ctx, CSM_ERR_NULL_ARGUMENT, "csm_gradient: every output is NULL");
    csm_work w;
    double sum = 0, term = 0;
    st = whole_pass(m, d, 1, &w, &sum, NULL);
    if (st != CSM_OK)
        return st;
    const size_t ck = m->C * m->k;
    if (st == CSM_OK && loss)
        st = l2_term(&w, m, l2, &term);
    if (st == CSM_OK && dweight) {
        st = csm_download(m->ctx, dweight, w.dweight, m->precision, 0, ck);
        if (st == CSM_OK && l2 != 0) {
            /* + lambda W, added in double on the host: exact up to the read of W */
            double *wt = malloc(ck * sizeof *wt);
            if (!wt)
                st = csm_fail(m->ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
            if (st == CSM_OK) st = csm_download(m->ctx, wt, m->weight, m->precision, 0, ck);
            for (size_t i = 0; st == CSM_OK && i < ck; i++)
                dweight[i] += l2 * wt[i];
            free(wt);
        }
    }
    if (st == CSM_OK && dbias)
        st = csm_download(m->ctx, dbias, w.dbias, m->precision, 0, m->C);
    csm_work_free(&w);
    if (st == CSM_OK && loss)
        *loss = sum / d->weight_sum + term;
    return st;
}
