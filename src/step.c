/* Steps on blocks of rows (step.h): the buffers every path shares, the
 * dispatch to the chosen path, and for the product paths (CLBlast, tiled,
 * sparse) the kernels between and after their two products: bias,
 * softmax, loss and delta (forward.cl), the loss sums and the bias
 * gradient (reduce.cl). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "launch.h"
#include "step.h"

/* A kernel of forward.cl, built for the device's vector width. */
static csm_status forward_kernel(csm_step *w, cl_kernel *k, const char *name)
{
    char vec[16];
    csm_snprintf(vec, sizeof vec, "-DVEC=%u", csm_vector_width(w->ctx, w->prec));
    return csm_get_kernel(w->ctx, k, "forward.cl", name, w->prec, vec);
}

/* The kernels of the product paths; only those a path runs are built. */
static csm_status products_init(csm_step *w)
{
    csm_context *ctx = w->ctx;
    csm_status st = forward_kernel(w, &w->k_softmax, "softmax_xent_forward");
    if (st == CSM_OK)
        st = csm_get_kernel(ctx, &w->k_reduce, "reduce.cl", "reduce_loss", w->prec, NULL);
    if (st == CSM_OK)
        st = csm_get_kernel(ctx, &w->k_bias_grad, "reduce.cl", "bias_grad", w->prec, NULL);
    size_t wg2 = 0;
    if (st == CSM_OK) st = csm_reduce_group(ctx, w->k_reduce, "reduce_loss", &w->rwg);
    if (st == CSM_OK) st = csm_reduce_group(ctx, w->k_bias_grad, "bias_grad", &wg2);
    if (st == CSM_OK && wg2 < w->rwg)
        w->rwg = wg2;
    return st;
}

static csm_status buffers_init(csm_step *w)
{
    csm_context *ctx = w->ctx;
    const size_t es = csm_real_size(w->prec), cap = w->cap, C = w->C, slots = w->slots;
    const struct {
        cl_mem *buf;
        size_t bytes;
        const char *what;
    } bufs[] = {
        {&w->logits, cap * C * es, "logits"},
        {&w->out, cap * C * es, "probabilities"},
        {&w->row_loss, cap * es, "row losses"},
        {&w->row_correct, cap * sizeof(cl_int), "row flags"},
        {&w->dweight, C * w->k * es, "weight gradient"},
        {&w->dbias, C * es, "bias gradient"},
        {&w->stats, slots * es, "loss sums"},
        {&w->correct, slots * sizeof(cl_int), "counts"},
        {&w->sumsq, slots * es, "weight norms"},
    };
    csm_status st = CSM_OK;
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs && st == CSM_OK; i++)
        st = csm_buffer_create(ctx, bufs[i].buf, bufs[i].bytes, bufs[i].what);
    return st;
}

csm_status csm_step_init(csm_step *w, const csm_model *m, const csm_dataset *d, size_t cap,
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
    w->tile = *tile;
    const csm_path_ops *p = csm_path_get(d && d->sparse ? CSM_PATH_SPARSE : path);
    csm_status st = buffers_init(w);
    int fits = 0;
    while (st == CSM_OK && p) {
        if (p->logits && !w->k_softmax)
            st = products_init(w);
        if (st == CSM_OK)
            st = p->init(w, d, tile, &fits);
        if (st != CSM_OK || fits)
            break;
        const csm_path_ops *next = csm_path_fallback(ctx, p->id);
        csm_log(ctx, CSM_LOG_DEBUG, "%s path does not fit %s: %s path instead",
                csm_path_name(p->id), ctx->info.device_name, next ? csm_path_name(next->id) : "no");
        p = next;
    }
    if (st == CSM_OK && !fits)
        st = csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "no path runs C=%zu k=%zu on %s", w->C, w->k,
                      ctx->info.device_name);
    if (st == CSM_OK) {
        w->path = p;
        char how[96] = "";
        if (p->describe)
            p->describe(w, how, sizeof how);
        csm_log(ctx, CSM_LOG_DEBUG, "%s path%s%s%s for C=%zu k=%zu on %s", csm_path_name(p->id),
                *how ? " (" : "", how, *how ? ")" : "", w->C, w->k, ctx->info.device_name);
    }
    if (st != CSM_OK)
        csm_step_free(w);
    return st;
}

void csm_step_free(csm_step *w)
{
    if (w->path && w->path->free)
        w->path->free(w);
    w->path = NULL;
    cl_mem *bufs[] = {&w->logits, &w->out,   &w->row_loss, &w->row_correct, &w->dweight,
                      &w->dbias,  &w->stats, &w->correct,  &w->sumsq};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        csm_buffer_release(bufs[i]);
    /* kernels belong to the context's cache */
}

void csm_step_describe(const csm_step *w, char *buf, size_t len)
{
    char how[96] = "";
    if (w->path && w->path->describe)
        w->path->describe(w, how, sizeof how);
    csm_snprintf(buf, len, "%s%s%s", w->path ? csm_path_name(w->path->id) : "no", *how ? " " : "",
                 how);
}

int csm_step_mode(const csm_block *b, int mode)
{
    if (b->labels)
        mode |= CSM_HAS_LABELS;
    else if (b->targets)
        mode |= CSM_HAS_TARGETS;
    if (b->weights && (b->labels || b->targets))
        mode |= CSM_HAS_WEIGHTS;
    return mode;
}

csm_status csm_step_softmax(csm_step *w, const csm_model *m, const csm_block *b, int mode,
                            double scale)
{
    mode = csm_step_mode(b, mode);
    /* unused pointer arguments still need a valid buffer */
    csm_args a = csm_args_start(w->ctx, w->k_softmax, "softmax_xent_forward");
    csm_arg_mem(&a, w->logits);
    csm_arg_mem(&a, w->out);
    csm_arg_mem(&a, w->row_loss);
    csm_arg_mem(&a, w->row_correct);
    csm_arg_mem(&a, m->bias);
    csm_arg_mem(&a, b->labels ? b->labels : w->row_correct);
    csm_arg_mem(&a, b->targets ? b->targets : w->out);
    csm_arg_mem(&a, b->weights ? b->weights : w->row_loss);
    csm_arg_int(&a, (cl_int)b->row0);
    csm_arg_int(&a, (cl_int)b->B);
    csm_arg_int(&a, mode);
    csm_arg_real(&a, w->prec, scale);
    csm_arg_int(&a, (cl_int)w->C);
    size_t global = csm_round_up(b->B, CSM_WG);
    return csm_args_launch(&a, 1, &global, NULL);
}

csm_status csm_step_reduce(csm_step *w, size_t slot, size_t B)
{
    csm_args a = csm_args_start(w->ctx, w->k_reduce, "reduce_loss");
    csm_arg_mem(&a, w->stats);
    csm_arg_mem(&a, w->correct);
    csm_arg_int(&a, (cl_int)slot);
    csm_arg_mem(&a, w->row_loss);
    csm_arg_mem(&a, w->row_correct);
    csm_arg_int(&a, (cl_int)B);
    size_t global = w->rwg, local = w->rwg;
    return csm_args_launch(&a, 1, &global, &local);
}

csm_status csm_step_sumsq(csm_step *w, const csm_model *m, size_t slot)
{
    csm_context *ctx = w->ctx;
    /* built on first use: only runs with an L2 term need it */
    if (!w->k_sumsq) {
        csm_status st = csm_get_kernel(ctx, &w->k_sumsq, "reduce.cl", "sum_squares", w->prec,
                                       NULL);
        if (st == CSM_OK)
            st = csm_reduce_group(ctx, w->k_sumsq, "sum_squares", &w->sumsq_wg);
        if (st != CSM_OK)
            return st;
    }
    csm_args a = csm_args_start(ctx, w->k_sumsq, "sum_squares");
    csm_arg_mem(&a, w->sumsq);
    csm_arg_int(&a, (cl_int)slot);
    csm_arg_mem(&a, m->weight);
    csm_arg_int(&a, (cl_int)(w->C * w->k));
    size_t global = w->sumsq_wg, local = w->sumsq_wg;
    return csm_args_launch(&a, 1, &global, &local);
}

/* The bias-sum launch of reduce.cl's bias_grad: dbias (+)= w->out^T 1
 * where `sum_bias`, and the `extras` (CSM_STEP_*), a group each. */
static csm_status bias_launch(csm_step *w, const csm_model *m, const csm_block *b,
                              int accumulate, int extras, size_t slot, int sum_bias)
{
    /* groups 0 .. C-1 sum the bias columns; the extras get a group each
     * after them */
    cl_int groups = sum_bias ? (cl_int)w->C : 0;
    const cl_int loss_group = extras & CSM_STEP_LOSS ? groups++ : -1;
    const cl_int sumsq_group = extras & CSM_STEP_SUMSQ ? groups++ : -1;
    if (groups == 0)
        return CSM_OK;
    csm_args a = csm_args_start(w->ctx, w->k_bias_grad, "bias_grad");
    csm_arg_mem(&a, w->dbias);
    csm_arg_mem(&a, w->stats);
    csm_arg_mem(&a, w->correct);
    csm_arg_mem(&a, w->sumsq);
    csm_arg_mem(&a, w->out);
    csm_arg_mem(&a, w->row_loss);
    csm_arg_mem(&a, w->row_correct);
    csm_arg_mem(&a, extras & CSM_STEP_SUMSQ ? m->weight : w->dweight); /* valid when unused */
    csm_arg_int(&a, (cl_int)b->B);
    csm_arg_int(&a, accumulate);
    csm_arg_int(&a, (cl_int)slot);
    csm_arg_int(&a, loss_group);
    csm_arg_int(&a, sumsq_group);
    csm_arg_int(&a, (cl_int)w->C);
    csm_arg_int(&a, (cl_int)(w->C * w->k));
    size_t global = (size_t)groups * w->rwg, local = w->rwg;
    return csm_args_launch(&a, 1, &global, &local);
}

csm_status csm_step_products_grad(csm_step *w, const csm_model *m, const csm_block *b,
                                  int accumulate, int extras, size_t slot)
{
    // dweight (C, k) (+)= delta (B, C)^T . X (B, k)
    csm_status st = w->path->grad(w, b, accumulate);
    /* the bias columns, but on a path whose gradient kernel has summed them */
    if (st == CSM_OK)
        st = bias_launch(w, m, b, accumulate, extras, slot, !w->path->sums_bias);
    return st;
}

csm_status csm_step_grad(csm_step *w, const csm_model *m, const csm_block *b, double scale,
                         size_t slot, int accumulate, int sumsq)
{
    if (w->path->step)
        return w->path->step(w, m, b, scale, slot, accumulate, sumsq);
    csm_status st = w->path->logits(w, m->weight, b);
    if (st == CSM_OK)
        st = csm_step_softmax(w, m, b, CSM_WRITE_DELTA, scale);
    /* the loss sums (and ||W||^2) in the bias-sum launch */
    const int extras = CSM_STEP_LOSS | (sumsq ? CSM_STEP_SUMSQ : 0);
    if (st == CSM_OK)
        st = csm_step_products_grad(w, m, b, accumulate, extras, slot);
    return st;
}

int csm_step_fuses_update(const csm_step *w, size_t B)
{
    return w->path->fuses_update && w->path->fuses_update(w, B);
}

csm_status csm_step_grad_update(csm_step *w, const csm_model *m, const csm_block *b,
                                double scale, size_t slot, int sumsq,
                                const struct csm_update *u, int kept)
{
    return w->path->step_update(w, m, b, scale, slot, sumsq, u, kept);
}

/* w->out = the block's probabilities P = softmax(X W^T + b): from the
 * kept copy pr->buf (rows from pr->row) when pr says so, else computed
 * (and kept there when pr->fill); pr NULL: computed. Also builds forward.cl's
 * kernel `name` into *k on first use, for the rows after. */
static csm_status block_probs(csm_step *w, cl_kernel *k, const char *name, const csm_model *m,
                              const csm_block *b, const csm_probs *pr)
{
    const size_t es = csm_real_size(w->prec), bytes = b->B * w->C * es;
    csm_status st = *k ? CSM_OK : forward_kernel(w, k, name);
    if (st != CSM_OK)
        return st;
    if (pr && !pr->fill) {
        cl_int rc = clEnqueueCopyBuffer(w->ctx->queue, pr->buf, w->out, pr->row * w->C * es, 0,
                                        bytes, 0, NULL, NULL);
        return rc == CL_SUCCESS ? CSM_OK : csm_cl_fail(w->ctx, rc, "clEnqueueCopyBuffer");
    }
    st = w->path->logits(w, m->weight, b);
    if (st == CSM_OK)
        st = csm_step_softmax(w, m, b, CSM_WRITE_PROBS, 1.0);
    if (st == CSM_OK && pr) {
        cl_int rc = clEnqueueCopyBuffer(w->ctx->queue, w->out, pr->buf, 0, pr->row * w->C * es,
                                        bytes, 0, NULL, NULL);
        if (rc != CL_SUCCESS)
            st = csm_cl_fail(w->ctx, rc, "clEnqueueCopyBuffer");
    }
    return st;
}

/* The row kernels' common tail (hessian_rows, hessian_diag_rows): the
 * sample weights, the block's rows, the scale, C; then the launch. */
static csm_status launch_rows(csm_step *w, csm_args *a, const csm_block *b, double scale)
{
    csm_arg_mem(a, b->weights ? b->weights : w->row_loss); /* valid when unused */
    csm_arg_int(a, b->weights != NULL);
    csm_arg_int(a, (cl_int)b->row0);
    csm_arg_int(a, (cl_int)b->B);
    csm_arg_real(a, w->prec, scale);
    csm_arg_int(a, (cl_int)w->C);
    size_t global = csm_round_up(b->B, CSM_WG);
    return csm_args_launch(a, 1, &global, NULL);
}

csm_status csm_step_hv(csm_step *w, const csm_model *m, const csm_block *b, cl_mem v,
                       double scale, int accumulate, const csm_probs *pr)
{
    // out = P = softmax(X W^T + b), then logits = Z = X V^T
    csm_status st = block_probs(w, &w->k_hv, "hessian_rows", m, b, pr);
    if (st == CSM_OK)
        st = w->path->logits(w, v, b);
    if (st != CSM_OK)
        return st;
    // out = scale w_i P * (Z + v_b - P . (Z + v_b)), row by row
    csm_args a = csm_args_start(w->ctx, w->k_hv, "hessian_rows");
    csm_arg_mem(&a, w->out);
    csm_arg_mem(&a, w->logits);
    csm_arg_mem(&a, v);
    csm_arg_ulong(&a, (cl_ulong)(w->C * w->k));
    st = launch_rows(w, &a, b, scale);
    // dweight, dbias (+)= out^T (X, 1)
    if (st == CSM_OK)
        st = csm_step_products_grad(w, m, b, accumulate, 0, 0);
    return st;
}

/* dweight (C, k) (+)= D^T (X o X) over dense rows (forward.cl's
 * dense_sq_grad), for paths without products of squares of their own. */
static csm_status dense_sq_grad(csm_step *w, const csm_block *b, int accumulate)
{
    if (!w->k_sq_grad) {
        csm_status st = forward_kernel(w, &w->k_sq_grad, "dense_sq_grad");
        if (st != CSM_OK)
            return st;
    }
    const csm_dataset *d = b->d;
    const int bytes = d->x_u8 != NULL;
    csm_args a = csm_args_start(w->ctx, w->k_sq_grad, "dense_sq_grad");
    csm_arg_mem(&a, w->dweight);
    csm_arg_mem(&a, w->out);
    csm_arg_mem(&a, bytes ? w->out : d->x); /* valid when unused */
    csm_arg_mem(&a, bytes ? d->x_u8 : w->row_correct);
    csm_arg_int(&a, bytes);
    csm_arg_ulong(&a, (cl_ulong)b->row0);
    csm_arg_int(&a, (cl_int)b->B);
    csm_arg_int(&a, accumulate);
    csm_arg_int(&a, (cl_int)w->C);
    csm_arg_int(&a, (cl_int)w->k);
    /* an item per tile of features by classes */
    size_t global[2] = {(w->k + CSM_SQ_JT - 1) / CSM_SQ_JT, (w->C + CSM_SQ_CB - 1) / CSM_SQ_CB};
    return csm_args_launch(&a, 2, global, NULL);
}

csm_status csm_step_hess_diag(csm_step *w, const csm_model *m, const csm_block *b,
                              double scale, int accumulate, const csm_probs *pr)
{
    // out = P, then scale w_i P (1 - P), row by row
    csm_status st = block_probs(w, &w->k_hdiag, "hessian_diag_rows", m, b, pr);
    if (st != CSM_OK)
        return st;
    csm_args a = csm_args_start(w->ctx, w->k_hdiag, "hessian_diag_rows");
    csm_arg_mem(&a, w->out);
    st = launch_rows(w, &a, b, scale);
    // dweight (+)= out^T (X o X), dbias (+)= out^T 1
    if (st == CSM_OK)
        st = w->path->grad_sq ? w->path->grad_sq(w, b, accumulate)
                              : dense_sq_grad(w, b, accumulate);
    if (st == CSM_OK)
        st = bias_launch(w, m, b, accumulate, 0, 0, 1);
    return st;
}

csm_status csm_step_forward(csm_step *w, const csm_model *m, const csm_block *b, int mode,
                            size_t slot)
{
    if (w->path->forward)
        return w->path->forward(w, m, b, mode, slot);
    csm_status st = w->path->logits(w, m->weight, b);
    if (st == CSM_OK)
        st = csm_step_softmax(w, m, b, mode, 1.0);
    if (st == CSM_OK && (b->labels || b->targets))
        st = csm_step_reduce(w, slot, b->B);
    return st;
}

csm_status csm_step_read_sums(csm_step *w, size_t nblocks, double *loss_sum,
                              double *correct_sum)
{
    double *s = malloc(nblocks * sizeof *s);
    cl_int *c = malloc(nblocks * sizeof *c);
    csm_status st =
        (s && c) ? CSM_OK : csm_fail(w->ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
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
        if (loss_sum)
            *loss_sum = ls;
        if (correct_sum)
            *correct_sum = cs;
    }
    free(s);
    free(c);
    return st;
}

csm_block csm_block_of(const csm_dataset *d, size_t row0, size_t B)
{
    /* the real-typed X exists whenever the step's path is CLBlast */
    csm_block b = {d->x, row0, d->labels, d->targets, row0, B, d, NULL, row0, d->weights};
    return b;
}

size_t csm_block_cap(const csm_model *m, size_t n)
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

size_t csm_pass_rows(const csm_model *m, const csm_dataset *d)
{
    const size_t cap = csm_block_cap(m, d->n), chunk = csm_stream_max_rows(d);
    return chunk < cap ? chunk : cap;
}

size_t csm_pass_blocks(const csm_dataset *d, size_t cap) { return csm_stream_batches(d, cap); }

typedef struct pass {
    csm_step *w;
    const csm_model *m;
    int grad;
    cl_mem v; /* csm_step_dataset_hv's direction, or NULL */
    int diag; /* csm_step_dataset_diag */
    const csm_probs *probs;
    double scale;
    size_t slot;
} pass;

static csm_status pass_chunk(void *user, const csm_dataset *c, size_t pos)
{
    pass *p = user;
    csm_status st = CSM_OK;
    for (size_t r = 0; st == CSM_OK && r < c->n; r += p->w->cap, p->slot++) {
        const size_t B = c->n - r < p->w->cap ? c->n - r : p->w->cap;
        csm_block b = csm_block_of(c, r, B);
        csm_probs pr, *ppr = NULL;
        if (p->probs) {
            pr = *p->probs;
            pr.row = pos + r; /* the dataset's row: pos counts the chunks before */
            ppr = &pr;
        }
        /* the first block's gradient overwrites dweight whole: until then
         * it is free for the block's logits (path_sparse.c's transposed
         * weights); later blocks accumulate onto it */
        p->w->scratch = p->slot == 0 && (p->v || p->diag || p->grad) ? p->w->dweight : NULL;
        // dweight (C, k), dbias (C) (+)= sum over the block of w_i (O_i - T_i) x_i / sum w
        if (p->v)
            st = csm_step_hv(p->w, p->m, &b, p->v, p->scale, p->slot > 0, ppr);
        else if (p->diag)
            st = csm_step_hess_diag(p->w, p->m, &b, p->scale, p->slot > 0, ppr);
        else if (p->grad)
            st = csm_step_grad(p->w, p->m, &b, p->scale, p->slot, p->slot > 0, 0);
        else
            st = csm_step_forward(p->w, p->m, &b, 0, p->slot);
    }
    return st;
}

static csm_status run_pass(csm_step *w, const csm_dataset *d, pass *p)
{
    csm_status st =
        csm_stream_each(d, NULL, pass_chunk, p, (w->path->flags & CSM_PATH_REAL_X) != 0);
    w->scratch = NULL;
    return st;
}

csm_status csm_step_dataset(csm_step *w, const csm_model *m, const csm_dataset *d, int grad)
{
    pass p = {w, m, grad, NULL, 0, NULL, 1.0 / d->weight_sum, 0};
    return run_pass(w, d, &p);
}

csm_status csm_step_dataset_hv(csm_step *w, const csm_model *m, const csm_dataset *d, cl_mem v,
                               const csm_probs *probs)
{
    pass p = {w, m, 0, v, 0, probs, 1.0 / d->weight_sum, 0};
    return run_pass(w, d, &p);
}

csm_status csm_step_dataset_diag(csm_step *w, const csm_model *m, const csm_dataset *d,
                                 const csm_probs *probs)
{
    pass p = {w, m, 0, NULL, 1, probs, 1.0 / d->weight_sum, 0};
    return run_pass(w, d, &p);
}
