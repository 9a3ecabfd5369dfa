/* First-order solvers: minibatch SGD, heavy-ball momentum and Adam. Per
 * step: gather (if shuffled) -> logits -> softmax delta + loss -> gradient
 * -> update, all enqueued without waiting; the host reads the epoch's loss
 * and accuracy back once per epoch and stops when the epoch loss has not
 * improved by more than tol for n_iter_no_change epochs (scikit-learn's
 * SGD criterion). The moments live in the model (csm_solver_state), so a
 * resumed run continues them. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "solver.h"

/* Steps enqueued between clFlush calls: a GPU starts on an epoch while the
 * host is still enqueuing it, instead of at the epoch's read-back. */
#define CSM_FLUSH_STEPS 16

typedef struct first_order {
    csm_solve *s;
    csm_context *ctx;
    csm_work work;
    size_t B, steps;
    int permute; /* shuffled minibatches */
    int gather;  /* ... copied into contiguous buffers (CLBlast path) */
    csm_gather g;
    cl_mem idx; /* the permutation (distributed: of this process's rows) */
    int32_t *perm;
    /* Distributed, shuffled: this process's part of each global batch, step
     * t's local rows lperm[lstart[t] .. lstart[t + 1]) */
    int32_t *lperm;
    size_t *lstart;
    /* streamed datasets (stream.c): the epoch's chunk order; with `whole`
     * (full batch) a step's gradient accumulates over every chunk */
    int32_t *order;
    int whole;
    size_t nstats; /* stats slots of an epoch */
    cl_kernel k_update; /* W and b in one launch */
    size_t update_wg;   /* its work-group size */
    double step_scale; /* n / (B sum w): a step's gradient estimates J's */
} first_order;

/* W and b updated by one launch (kernels/update.cl); L2 on W only. */
static csm_status enqueue_update(first_order *fo)
{
    csm_context *ctx = fo->ctx;
    const csm_train_options *o = fo->s->opt;
    csm_model *model = fo->s->model;
    csm_precision prec = model->precision;
    cl_kernel k = fo->k_update;
    // buffers: w, b, then the state per tensor (v or m, v), then dw, db
    cl_mem bufs[8];
    cl_uint nb = 0;
    bufs[nb++] = model->weight;
    bufs[nb++] = model->bias;
    if (o->solver == CSM_ADAM) {
        bufs[nb++] = model->state.m[0];
        bufs[nb++] = model->state.m[1];
    }
    if (o->solver == CSM_MOMENTUM || o->solver == CSM_ADAM) {
        bufs[nb++] = model->state.v[0];
        bufs[nb++] = model->state.v[1];
    }
    bufs[nb++] = fo->work.dweight;
    bufs[nb++] = fo->work.dbias;
    csm_status st = CSM_OK;
    cl_uint a = 0;
    for (; a < nb && st == CSM_OK; a++)
        st = csm_set_arg(ctx, k, a, sizeof(cl_mem), &bufs[a]);
    if (st == CSM_OK) st = csm_set_real_arg(ctx, k, a++, prec, fo->s->lr);
    if (o->solver == CSM_MOMENTUM && st == CSM_OK)
        st = csm_set_real_arg(ctx, k, a++, prec, o->momentum);
    if (o->solver == CSM_ADAM && st == CSM_OK) {
        st = csm_set_real_arg(ctx, k, a++, prec, o->beta1);
        if (st == CSM_OK) st = csm_set_real_arg(ctx, k, a++, prec, o->beta2);
        if (st == CSM_OK) st = csm_set_real_arg(ctx, k, a++, prec, o->epsilon);
    }
    if (st == CSM_OK) st = csm_set_real_arg(ctx, k, a++, prec, fo->s->l2);
    if (o->solver == CSM_ADAM && st == CSM_OK) {
        double t = (double)model->state.steps;
        double bc1 = 1.0 - pow(o->beta1, t);
        double bc2 = 1.0 - pow(o->beta2, t);
        st = csm_set_real_arg(ctx, k, a++, prec, bc1);
        if (st == CSM_OK) st = csm_set_real_arg(ctx, k, a++, prec, bc2);
    }
    // work-groups of L items: W's (C*k rounded up), then b's (C rounded up;
    // none without an intercept: b stays 0)
    const size_t L = fo->update_wg;
    const size_t gw = (model->C * model->k + L - 1) / L;
    const size_t gb = o->fit_intercept ? (model->C + L - 1) / L : 0;
    size_t global = (gw + gb) * L, local = L;
    if (st == CSM_OK) st = csm_launch(ctx, k, 1, &global, &local, "update");
    return st;
}

static csm_status first_order_init(first_order *fo)
{
    csm_context *ctx = fo->ctx;
    csm_model *m = fo->s->model;
    const csm_dataset *d = fo->s->data;
    const csm_train_options *o = fo->s->opt;
    /* Batches are those of the global dataset (d itself unless distributed) */
    const size_t N = fo->s->dist.n;
    fo->B = (o->batch_size == 0 || o->batch_size >= N) ? N : o->batch_size;
    fo->whole = csm_dataset_chunks(d) > 0 && fo->B == N;
    /* Streamed minibatches are drawn chunk by chunk (stream.c), global ones
     * across the processes' rows: the two orders do not compose. */
    if (csm_dataset_chunks(d) > 0 && !fo->whole && fo->s->dist.reduce)
        return csm_fail(ctx, CSM_ERR_INVALID_VALUE,
                        "csm_train: minibatches over a partitioned dataset that streams "
                        "(%zu chunks) are not supported: use L-BFGS or full batches, or "
                        "raise max_alloc", csm_dataset_chunks(d));
    /* a minibatch lives in one chunk of a streamed dataset */
    if (fo->B < d->n && fo->B > csm_stream_max_rows(d))
        fo->B = csm_stream_max_rows(d);
    fo->steps = fo->whole                  ? 1
                : csm_dataset_chunks(d) > 0 ? csm_stream_batches(d, fo->B)
                                           : (N + fo->B - 1) / fo->B;
    fo->step_scale = (double)N / ((double)fo->B * fo->s->dist.weight_sum);
    const int shuffled = o->shuffle && fo->B < N;
    /* local rows of a step, at most */
    const size_t cap = fo->whole ? csm_pass_rows(m, d) : fo->B < d->n ? fo->B : d->n;
    fo->nstats = fo->whole ? csm_pass_blocks(d, cap) : fo->steps;
    csm_status st = csm_work_init_data(&fo->work, m, d, cap, fo->nstats);
    if (st != CSM_OK)
        return st;
    /* The fused path reads rows and targets through the permutation
     * itself; the CLBlast path needs them gathered into a contiguous batch
     * first, the tiled and sparse paths only their targets (their rows are
     * read through idx). */
    fo->permute = shuffled;
    fo->gather = shuffled && fo->work.path != CSM_PATH_FUSED;
    const char *update = o->solver == CSM_ADAM       ? "adam_update"
                         : o->solver == CSM_MOMENTUM ? "momentum_update"
                                                     : "sgd_update";
    st = csm_get_kernel(ctx, &fo->k_update, "update.cl", update, m->precision, m->C, m->k);
    /* no local memory and no sums: any group size the device runs will do */
    if (st == CSM_OK) st = csm_reduce_group(ctx, fo->k_update, update, &fo->update_wg);
    if (st == CSM_OK)
        st = csm_model_state_prepare(m, o->solver);
    const csm_dataset *d0 = d; /* the first chunk has the layout of every chunk */
    if (st == CSM_OK && fo->gather)
        st = csm_stream_prime(d, &d0);
    if (st == CSM_OK && fo->gather)
        st = csm_gather_init(&fo->g, m, d0, cap, fo->work.path == CSM_PATH_TILED);
    if (st == CSM_OK && fo->permute && csm_dataset_chunks(d) &&
        !(fo->order = malloc(csm_dataset_chunks(d) * sizeof *fo->order)))
        st = csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
    if (st == CSM_OK && fo->permute) {
        st = csm_buffer_create(ctx, &fo->idx, d->n * sizeof(cl_int), "permutation");
        if (st == CSM_OK) {
            fo->perm = malloc(N * sizeof *fo->perm);
            if (!fo->perm)
                st = csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
        }
    }
    if (st == CSM_OK && fo->s->dist.reduce && fo->permute) {
        fo->lstart = malloc((fo->steps + 1) * sizeof *fo->lstart);
        fo->lperm = malloc(d->n * sizeof *fo->lperm);
        if (!fo->lstart || !fo->lperm)
            st = csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
    }
    return st;
}

static void first_order_free(first_order *fo)
{
    /* After a failure mid-epoch a non-blocking upload of fo->perm may still
     * be queued: drain the queue before the host array goes. */
    if (fo->ctx)
        clFinish(fo->ctx->queue);
    csm_work_free(&fo->work);
    csm_gather_free(&fo->g);
    csm_buffer_release(&fo->idx);
    free(fo->perm);
    free(fo->order);
    free(fo->lperm);
    free(fo->lstart);
}

/* Distributed, shuffled: this process's rows of each global batch of the
 * epoch, in the batch's order (the one-process step sums the same rows). */
static void local_batches(first_order *fo)
{
    const csm_dist *g = &fo->s->dist;
    const size_t n = fo->s->data->n, lo = g->row0;
    size_t at = 0;
    for (size_t t = 0; t < fo->steps; t++) {
        size_t a = t * fo->B, b = a + fo->B < g->n ? a + fo->B : g->n;
        fo->lstart[t] = at;
        for (size_t i = a; i < b; i++) {
            size_t r = (size_t)fo->perm[i];
            if (r >= lo && r - lo < n)
                fo->lperm[at++] = (int32_t)(r - lo);
        }
    }
    fo->lstart[fo->steps] = at;
}

/* Distributed: this process's rows of global step t, [*start, *start + *B)
 * of its permutation or of its data. */
static void step_rows(const first_order *fo, size_t t, size_t *start, size_t *B)
{
    const csm_dist *g = &fo->s->dist;
    const size_t n = fo->s->data->n;
    if (fo->permute) {
        *start = fo->lstart[t];
        *B = fo->lstart[t + 1] - fo->lstart[t];
        return;
    }
    size_t a = t * fo->B, b = a + fo->B < g->n ? a + fo->B : g->n;
    size_t lo = g->row0 > a ? g->row0 : a, hi = g->row0 + n < b ? g->row0 + n : b;
    *start = lo - g->row0;
    *B = hi > lo ? hi - lo : 0;
    if (!*B)
        *start = 0;
}

/* One epoch's steps over a chunk (the whole dataset when resident), its
 * rows at pos .. in the epoch's permutation. */
typedef struct epoch_pass {
    first_order *fo;
    size_t t; /* steps so far */
} epoch_pass;

static csm_status epoch_chunk(void *user, const csm_dataset *d, size_t pos)
{
    epoch_pass *ep = user;
    first_order *fo = ep->fo;
    csm_solve *s = fo->s;
    csm_status st = CSM_OK;
    /* Distributed (never streamed here): every global step, whether this
     * process holds rows of it or not, since the sums are collective. */
    const size_t nsteps = s->dist.reduce ? fo->steps : (d->n + fo->B - 1) / fo->B;
    for (size_t i = 0; st == CSM_OK && i < nsteps; i++) {
        const size_t t = ep->t++, r = i * fo->B;
        size_t start = pos + r, B = 0, Bg;
        if (s->dist.reduce) {
            /* the global batch's size, and this process's rows of it */
            Bg = s->dist.n - r < fo->B ? s->dist.n - r : fo->B;
            step_rows(fo, t, &start, &B);
        } else {
            B = Bg = d->n - r < fo->B ? d->n - r : fo->B;
        }
        csm_block b;
        if (fo->gather && B > 0) {
            st = csm_enqueue_gather(&fo->g, d, fo->idx, start, B);
            b = csm_gather_block(&fo->g, d, fo->idx, start, B);
        } else {
            const size_t r0 = s->dist.reduce ? start : r; /* rows in place */
            b = (csm_block){d->x, r0, d->labels, d->targets, r0, B, d,
                            fo->permute ? fo->idx : NULL, fo->permute ? start : r0, d->weights};
        }
        /* a short last batch is scaled by its own (global) size, like every
         * batch; ||W||^2 for the epoch's L2 term comes with the gradient */
        double scale = fo->step_scale * (double)fo->B / (double)Bg;
        if (st == CSM_OK && B > 0)
            st = csm_enqueue_batch_grad(&fo->work, s->model, &b, scale, t, 0, s->l2 > 0);
        else if (st == CSM_OK && s->l2 > 0)
            st = csm_enqueue_sumsq(&fo->work, s->model, t);
        /* Distributed: the global batch's gradient, the sum of every
         * process's rows of it, before the same update on every process */
        if (st == CSM_OK && s->dist.reduce)
            st = csm_dist_grad(&s->dist, &fo->work, 1.0, B > 0, NULL, 0);
        s->model->state.steps++;
        if (st == CSM_OK) st = enqueue_update(fo);
        if (st == CSM_OK && (t + 1) % CSM_FLUSH_STEPS == 0 && t + 1 < fo->steps) {
            cl_int rc = clFlush(fo->ctx->queue);
            if (rc != CL_SUCCESS)
                st = csm_cl_fail(fo->ctx, rc, "clFlush");
        }
    }
    return st;
}

/* Enqueues epoch `epoch` (0-based, counted over resumed runs); nothing
 * here waits on the device. */
static csm_status enqueue_epoch(first_order *fo, long epoch)
{
    csm_context *ctx = fo->ctx;
    csm_solve *s = fo->s;
    const csm_dataset *d = s->data;
    csm_status st = CSM_OK;
    if (fo->whole) {
        /* full batch over the chunks: one accumulated gradient, one update */
        st = csm_enqueue_dataset(&fo->work, s->model, d, 1);
        /* distributed: this process's share of the global mean, summed */
        if (st == CSM_OK && s->dist.reduce)
            st = csm_dist_grad(&s->dist, &fo->work, s->dist.local_scale, 1, NULL, 0);
        if (st == CSM_OK && s->l2 > 0)
            st = csm_enqueue_sumsq(&fo->work, s->model, 0);
        s->model->state.steps++;
        return st == CSM_OK ? enqueue_update(fo) : st;
    }
    if (fo->permute) {
        /* The permutation of epoch e depends on (seed, e) alone, so a
         * resumed run sees the batches an uninterrupted one would. */
        if (fo->order) {
            csm_stream_epoch_order(d, s->opt->seed, (uint64_t)epoch, fo->order, fo->perm);
        } else {
            csm_rng rng;
            csm_rng_seed_stream(&rng, s->opt->seed, (uint64_t)epoch);
            const size_t N = s->dist.n; /* drawn over the global rows */
            for (size_t i = 0; i < N; i++)
                fo->perm[i] = (int32_t)i;
            csm_rng_shuffle(&rng, fo->perm, N);
            if (s->dist.reduce)
                local_batches(fo);
        }
        /* Non-blocking: the previous epoch's blocking read has drained the
         * in-order queue, so the host array is not in use while we shuffle. */
        cl_int rc = clEnqueueWriteBuffer(ctx->queue, fo->idx, CL_FALSE, 0, d->n * sizeof(cl_int),
                                         s->dist.reduce ? fo->lperm : fo->perm, 0, NULL, NULL);
        if (rc != CL_SUCCESS)
            return csm_cl_fail(ctx, rc, "clEnqueueWriteBuffer (permutation)");
    }
    if (s->dist.reduce) {
        /* a step without rows here leaves its slots unwritten: zero them */
        st = csm_fill_zero(ctx, fo->work.stats, fo->steps * csm_real_size(fo->work.prec));
        if (st == CSM_OK)
            st = csm_fill_zero(ctx, fo->work.correct, fo->steps * sizeof(cl_int));
        if (st != CSM_OK)
            return st;
    }
    epoch_pass ep = {fo, 0};
    return csm_stream_each(d, fo->order, epoch_chunk, &ep, fo->work.path == CSM_PATH_CLBLAST);
}

/* The epoch's loss (weighted mean of the data term over its steps, plus the
 * mean L2 term over steps) and accuracy: the one read-back of the epoch. */
static csm_status read_epoch(first_order *fo, double *loss, double *accuracy)
{
    const size_t steps = fo->steps;
    csm_solve *s = fo->s;
    double sum = 0, hits = 0, sq = 0;
    csm_status st = csm_read_sums(&fo->work, fo->nstats, &sum, &hits);
    if (st == CSM_OK && s->l2 > 0) {
        double *norms = malloc(steps * sizeof *norms);
        st = norms ? csm_download(fo->ctx, norms, fo->work.sumsq, s->model->precision, 0, steps)
                   : csm_fail(fo->ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
        for (size_t t = 0; st == CSM_OK && t < steps; t++)
            sq += norms[t];
        free(norms);
    }
    if (st == CSM_OK && s->dist.reduce) {
        double v[3] = {sum, hits, 0};
        st = csm_dist_sum(&s->dist, v, 2);
        sum = v[0];
        hits = v[1];
    }
    if (st == CSM_OK) {
        *loss = sum / s->dist.weight_sum + 0.5 * s->l2 * sq / (double)steps;
        *accuracy = hits / (double)s->dist.n;
    }
    return st;
}

csm_status csm_solve_first_order(csm_solve *s)
{
    csm_model *m = s->model;
    const csm_train_options *o = s->opt;
    first_order fo;
    memset(&fo, 0, sizeof fo);
    fo.s = s;
    fo.ctx = m->ctx;
    csm_status st = first_order_init(&fo);
    double best = INFINITY;
    int no_improvement = 0;
    s->res->stop = CSM_STOP_MAX_ITER;
    for (int e = 1; st == CSM_OK && e <= o->max_iter; e++) {
        double t0 = csm_now_seconds();
        st = enqueue_epoch(&fo, m->state.iter);
        double loss = 0, acc = 0;
        if (st == CSM_OK)
            st = read_epoch(&fo, &loss, &acc);
        if (st != CSM_OK)
            break;
        m->state.iter++;
        s->res->n_iter = e;
        s->res->n_evals += (long)fo.steps;
        if (!isfinite(loss)) {
            st = csm_fail(m->ctx, CSM_ERR_NONFINITE,
                          "training diverged at epoch %d (loss %g): lower the learning rate", e,
                          loss);
            break;
        }
        csm_log(m->ctx, CSM_LOG_DEBUG, "epoch %d/%d loss %.6f accuracy %.4f", e, o->max_iter,
                loss, acc);
        if (csm_solve_report(s, e, loss, acc, NAN, 0, csm_now_seconds() - t0)) {
            s->res->stop = CSM_STOP_CALLBACK;
            break;
        }
        /* scikit-learn's SGD rule: an epoch counts as no improvement unless
         * it beats the best loss so far by more than tol */
        if (o->tol > 0) {
            no_improvement = loss > best - o->tol ? no_improvement + 1 : 0;
            if (loss < best)
                best = loss;
            if (no_improvement >= o->n_iter_no_change) {
                s->res->stop = CSM_STOP_TOL;
                break;
            }
        }
    }
    first_order_free(&fo);
    return st;
}
