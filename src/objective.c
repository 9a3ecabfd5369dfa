/* The objective (objective.h): passes of the bound path over the data
 * source. A whole pass sums the weighted loss, the correct count and the
 * data part of the gradient over the row blocks (fused kernel, tiled,
 * CLBlast or sparse products); an epoch runs one gradient step per
 * minibatch and hands each to the solver's update. Distributed, each
 * process's part is summed with the others' here, before the L2 term,
 * which every process adds alike to the same weights. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "choose.h"
#include "gather.h"
#include "objective.h"
#include "source.h"
#include "vec.h"

/* Steps enqueued between clFlush calls: a GPU starts on an epoch while the
 * host is still enqueuing it, instead of at the epoch's read-back. */
#define FLUSH_STEPS 16

struct csm_objective {
    csm_model *model;
    csm_source *src;
    double l2, l1;     /* the penalties' weights: (l2/2) ||W||^2 + l1 ||W||_1 */
    int bias;          /* 0: no intercept */
    /* whole passes, bound on first use */
    int bound;
    size_t cap, nblocks;
    csm_step pass;
    csm_vecops v; /* for the gradient vector */
    int hv_bound;  /* a product step for Hessian-vector products where the */
    csm_step hv;   /* pass's path (fused) has no products of its own */
    /* the point of csm_objective_hessian_at: the rows' probabilities
     * there, kept where they fit (probs_state 1: to be computed by the next
     * product, 2: kept); probs_tried: the room was looked at */
    cl_mem probs;
    int probs_tried, probs_state;
    double loss_sum, hits; /* distributed: the pass's global sums */
    /* minibatches (csm_objective_minibatches) */
    int batches;
    csm_step step;
    size_t nstats;     /* loss slots of an epoch */
    int gather;        /* shuffled rows copied for the path */
    csm_gather g;
    double step_scale; /* n / (B sum w): a step's gradient estimates J's */
    uint64_t seed;
    csm_update_fn update;
    void *user;
    const struct csm_update *fuse; /* the update a step may apply itself */
    int kept;                      /* the last step applied it: W^T kept */
};

csm_status csm_objective_create(csm_objective **out, csm_model *m, csm_source *src, double l2,
                                int bias)
{
    csm_objective *f = calloc(1, sizeof *f);
    if (!f)
        return csm_fail(m->ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
    f->model = m;
    f->src = src;
    f->l2 = l2;
    f->bias = bias;
    *out = f;
    return CSM_OK;
}

void csm_objective_free(csm_objective *f)
{
    if (!f)
        return;
    if (f->bound) {
        csm_step_free(&f->pass);
        csm_vec_free(&f->v);
    }
    if (f->hv_bound)
        csm_step_free(&f->hv);
    csm_buffer_release(&f->probs);
    if (f->batches) {
        clFinish(f->model->ctx->queue);
        csm_step_free(&f->step);
        csm_gather_free(&f->g);
    }
    free(f);
}

void csm_objective_set_l1(csm_objective *f, double l1) { f->l1 = l1; }
double csm_objective_lambda(const csm_objective *f) { return f->l2; }
double csm_objective_l1(const csm_objective *f) { return f->l1; }
size_t csm_objective_samples(const csm_objective *f) { return f->src->n; }

/* The step of whole passes: blocks of bounded rows within each chunk. */
static csm_status bind_pass(csm_objective *f)
{
    if (f->bound)
        return CSM_OK;
    const csm_dataset *d = f->src->data;
    f->cap = csm_pass_rows(f->model, d);
    f->nblocks = csm_pass_blocks(d, f->cap);
    /* after minibatches (the final objective), their path: measuring the
     * paths again for whole-data blocks cost 1.1 s of a 2.1 s run */
    csm_status st = f->batches ? csm_bind_step_as(&f->pass, &f->step, f->model, d, f->cap,
                                                  f->nblocks)
                               : csm_bind_step(&f->pass, f->model, d, f->cap, f->nblocks,
                                               CSM_MEASURE_ALLOWED);
    if (st != CSM_OK)
        return st;
    st = csm_vec_init(&f->v, f->model, 1); /* scal[0]: ||W||_1 */
    if (st != CSM_OK)
        csm_step_free(&f->pass);
    f->bound = st == CSM_OK;
    csm_buffer_release(&f->pass.dweight); /* see into() */
    return st;
}

/* A whole pass writes its gradient part straight into the caller's
 * parameter vector `out` (vec.h: its first C k reals have dweight's (C, k)
 * layout), which the pack then completes in place: the pass steps hold no
 * gradient buffer of their own, C k reals fewer on the device (80 MB at
 * C = 20, k = 10^6; on a CPU device, host memory). Set for one call, then
 * taken back (NULL), so that csm_step_free never releases the caller's. */
static void into(csm_step *w, cl_mem out) { w->dweight = out; }

csm_status csm_objective_fun_grad(csm_objective *f, cl_mem g)
{
    if (!g)
        return csm_fail(f->model->ctx, CSM_ERR_NULL_ARGUMENT, "csm_objective_fun_grad: g is NULL");
    csm_status st = bind_pass(f);
    if (st != CSM_OK)
        return st;
    into(&f->pass, g);
    st = csm_step_dataset(&f->pass, f->model, f->src->data, 1);
    /* Distributed: this process's share of the data part (its local mean
     * rescaled to the global weight sum) joins the others' before the L2
     * term. */
    if (st == CSM_OK && f->src->reduce) {
        double sums[2];
        st = csm_step_read_sums(&f->pass, f->nblocks, &sums[0], &sums[1]);
        if (st == CSM_OK)
            st = csm_source_sum_grad(f->src, &f->pass, f->src->local_scale, 1, sums, 2);
        f->loss_sum = sums[0];
        f->hits = sums[1];
    }
    if (st == CSM_OK && f->l2 > 0)
        st = csm_step_sumsq(&f->pass, f->model, 0);
    /* every process holds the same weights: the penalties need no sum */
    if (st == CSM_OK && f->l1 > 0)
        st = csm_vec_asum(&f->v, 0, f->model->weight, f->v.nw);
    if (st == CSM_OK)
        st = csm_vec_pack_grad(&f->v, g, g, f->pass.dbias, f->l2, NULL, f->bias);
    into(&f->pass, NULL);
    return st;
}

/* The step Hessian-vector products run on: the pass's, or where its path
 * has no products (fused), one on the product path that stands in for it. */
static csm_status hv_step(csm_objective *f, csm_step **w)
{
    csm_status st = bind_pass(f);
    if (st != CSM_OK || f->pass.path->logits) {
        *w = &f->pass;
        return st;
    }
    if (!f->hv_bound) {
        st = csm_bind_products_step(&f->hv, f->model, f->src->data, f->cap, f->nblocks,
                                    f->pass.path->id);
        f->hv_bound = st == CSM_OK;
        csm_buffer_release(&f->hv.dweight); /* see into() */
    }
    *w = &f->hv;
    return st;
}

/* The probabilities of this process's rows, kept from the point of
 * csm_objective_hessian_at for the products there (then a product is one
 * pass of products with a direction instead of two), where they take at
 * most an eighth of the device's memory and fit one allocation (and the
 * "max_alloc" option's bound): else none, and every product computes them. */
static csm_status probs_room(csm_objective *f)
{
    if (f->probs_tried)
        return CSM_OK;
    f->probs_tried = 1;
    const csm_context *ctx = f->model->ctx;
    const double bytes = (double)f->src->data->n * (double)f->model->C *
                         (double)csm_real_size(f->model->precision);
    const csm_device_info *info = &ctx->info;
    if (bytes <= 0 || (info->global_mem_bytes > 0 && bytes > (double)info->global_mem_bytes / 8) ||
        (info->max_alloc_bytes > 0 && bytes > (double)info->max_alloc_bytes) ||
        (ctx->opt.max_alloc && bytes > (double)ctx->opt.max_alloc))
        return CSM_OK;
    return csm_buffer_create(f->model->ctx, &f->probs, (size_t)bytes, "kept probabilities");
}

/* What the next pass does with the kept probabilities (NULL: none). */
static const csm_probs *probs_use(csm_objective *f, csm_probs *pr)
{
    if (!f->probs || !f->probs_state)
        return NULL;
    *pr = (csm_probs){f->probs, 0, f->probs_state == 1};
    f->probs_state = 2;
    return pr;
}

csm_status csm_objective_hessian_at(csm_objective *f, cl_mem diag)
{
    csm_step *w = NULL;
    csm_status st = hv_step(f, &w);
    if (st == CSM_OK)
        st = probs_room(f);
    if (st != CSM_OK)
        return st;
    f->probs_state = 1;
    if (!diag)
        return CSM_OK;
    csm_probs pr;
    into(w, diag);
    st = csm_step_dataset_diag(w, f->model, f->src->data, probs_use(f, &pr));
    /* distributed: this process's share, summed, before the L2 term */
    if (st == CSM_OK && f->src->reduce)
        st = csm_source_sum_grad(f->src, w, f->src->local_scale, 1, NULL, 0);
    if (st == CSM_OK)
        st = csm_vec_pack_diag(&f->v, diag, diag, w->dbias, f->l2, f->bias);
    into(w, NULL);
    return st;
}

csm_status csm_objective_hv(csm_objective *f, cl_mem v, cl_mem hv)
{
    csm_step *w = NULL;
    csm_status st = hv_step(f, &w);
    if (st != CSM_OK)
        return st;
    csm_probs pr;
    into(w, hv);
    st = csm_step_dataset_hv(w, f->model, f->src->data, v, probs_use(f, &pr));
    /* distributed: this process's share, summed, before the L2 term */
    if (st == CSM_OK && f->src->reduce)
        st = csm_source_sum_grad(f->src, w, f->src->local_scale, 1, NULL, 0);
    if (st == CSM_OK)
        st = csm_vec_pack_grad(&f->v, hv, hv, w->dbias, f->l2, v, f->bias);
    into(w, NULL);
    return st;
}

csm_status csm_objective_value(csm_objective *f, double *J, double *accuracy)
{
    double sum = f->loss_sum, hits = f->hits, sq = 0, asum = 0;
    csm_status st = f->src->reduce ? CSM_OK
                                   : csm_step_read_sums(&f->pass, f->nblocks, &sum, &hits);
    if (st == CSM_OK && f->l2 > 0)
        st = csm_download(f->model->ctx, &sq, f->pass.sumsq, f->model->precision, 0, 1);
    if (st == CSM_OK && f->l1 > 0)
        st = csm_vec_read(&f->v, &asum, 0, 1);
    if (st == CSM_OK) {
        if (J)
            *J = sum / f->src->weight_sum + 0.5 * f->l2 * sq + f->l1 * asum;
        if (accuracy)
            *accuracy = hits / (double)f->src->n;
    }
    return st;
}

/* ------------------------------------------------------------ minibatches */

csm_status csm_objective_minibatches(csm_objective *f, size_t B, int shuffle, uint64_t seed)
{
    csm_source *src = f->src;
    csm_model *m = f->model;
    csm_status st = csm_source_batches(src, B, shuffle);
    if (st != CSM_OK)
        return st;
    const csm_dataset *d = src->data;
    f->seed = seed;
    f->step_scale = (double)src->n / ((double)src->B * src->weight_sum);
    /* local rows of a step, at most */
    const size_t cap = src->whole ? csm_pass_rows(m, d) : csm_source_batch_cap(src);
    f->nstats = src->whole ? csm_pass_blocks(d, cap) : src->steps;
    st = csm_bind_step(&f->step, m, d, cap, f->nstats, CSM_MEASURE_ALLOWED);
    if (st != CSM_OK)
        return st;
    f->batches = 1;
    /* The fused path reads rows and targets through the permutation
     * itself; the CLBlast path needs them gathered into a contiguous batch
     * first, the tiled and sparse paths only their targets. */
    f->gather = src->permute && !(f->step.path->flags & CSM_PATH_TARGETS_IDX);
    const csm_dataset *d0 = d; /* the first chunk has the layout of every chunk */
    if (f->gather)
        st = csm_stream_prime(d, &d0);
    if (st == CSM_OK && f->gather)
        st = csm_gather_init(&f->g, m, d0, cap, f->step.path);
    return st;
}

size_t csm_objective_steps(const csm_objective *f) { return f->src->steps; }

/* Every FLUSH_STEPS steps but the last, a flush. */
static csm_status flush_some(csm_objective *f, const csm_batch *bt)
{
    if ((bt->t + 1) % FLUSH_STEPS == 0 && bt->t + 1 < f->src->steps) {
        cl_int rc = clFlush(f->model->ctx->queue);
        if (rc != CL_SUCCESS)
            return csm_cl_fail(f->model->ctx, rc, "clFlush");
    }
    return CSM_OK;
}

/* One step: the gradient of this process's rows of the batch (or ||W||^2
 * alone when it holds none), summed over the processes, then the update
 * (or the two in one, csm_step_grad_update). */
static csm_status batch_step(void *user, const csm_batch *bt)
{
    csm_objective *f = user;
    csm_source *src = f->src;
    const csm_dataset *d = bt->chunk;
    csm_status st = CSM_OK;
    csm_block b;
    if (f->gather && bt->B > 0) {
        st = csm_gather_enqueue(&f->g, d, bt->idx, bt->start, bt->B);
        b = csm_gather_block(&f->g, d, bt->idx, bt->start, bt->B);
    } else {
        b = (csm_block){d->x, bt->row0, d->labels, d->targets, bt->row0, bt->B, d, bt->idx,
                        bt->idx ? bt->start : bt->row0, d->weights};
    }
    /* a short last batch is scaled by its own (global) size, like every
     * batch; ||W||^2 for the epoch's L2 term comes with the gradient */
    const double scale = f->step_scale * (double)src->B / (double)bt->global_B;
    /* the update in the gradient's launch: not distributed (the gradient
     * is summed over the processes first) */
    if (st == CSM_OK && f->fuse && bt->B > 0 && !src->reduce &&
        csm_step_fuses_update(&f->step, bt->B)) {
        st = f->update(f->user, NULL, NULL);
        if (st == CSM_OK)
            st = csm_step_grad_update(&f->step, f->model, &b, scale, bt->t, f->l2 > 0, f->fuse,
                                      f->kept);
        f->kept = st == CSM_OK;
        return st == CSM_OK ? flush_some(f, bt) : st;
    }
    f->kept = 0;
    if (st == CSM_OK && bt->B > 0)
        st = csm_step_grad(&f->step, f->model, &b, scale, bt->t, 0, f->l2 > 0);
    else if (st == CSM_OK && f->l2 > 0)
        st = csm_step_sumsq(&f->step, f->model, bt->t);
    /* Distributed: the global batch's gradient, the sum of every process's
     * rows of it, before the same update on every process */
    if (st == CSM_OK && src->reduce)
        st = csm_source_sum_grad(src, &f->step, 1.0, bt->B > 0, NULL, 0);
    if (st == CSM_OK)
        st = f->update(f->user, f->step.dweight, f->step.dbias);
    return st == CSM_OK ? flush_some(f, bt) : st;
}

/* A streamed full batch: one gradient accumulated over every chunk, one
 * update. */
static csm_status whole_step(csm_objective *f)
{
    csm_source *src = f->src;
    csm_status st = csm_step_dataset(&f->step, f->model, src->data, 1);
    /* distributed: this process's share of the global mean, summed */
    if (st == CSM_OK && src->reduce)
        st = csm_source_sum_grad(src, &f->step, src->local_scale, 1, NULL, 0);
    if (st == CSM_OK && f->l2 > 0)
        st = csm_step_sumsq(&f->step, f->model, 0);
    if (st == CSM_OK)
        st = f->update(f->user, f->step.dweight, f->step.dbias);
    return st;
}

csm_status csm_objective_epoch(csm_objective *f, long epoch, csm_update_fn update, void *user,
                               const struct csm_update *u)
{
    csm_source *src = f->src;
    f->update = update;
    f->user = user;
    f->fuse = u;
    f->kept = 0; /* W may have been written between epochs */
    if (src->whole)
        return whole_step(f);
    if (src->reduce) {
        /* a step without rows here leaves its slots unwritten: zero them */
        csm_status st = csm_fill_zero(f->model->ctx, f->step.stats,
                                      src->steps * csm_real_size(f->step.prec));
        if (st == CSM_OK)
            st = csm_fill_zero(f->model->ctx, f->step.correct, src->steps * sizeof(cl_int));
        if (st != CSM_OK)
            return st;
    }
    const int real_x = (f->step.path->flags & CSM_PATH_REAL_X) != 0;
    return csm_source_epoch(src, f->seed, epoch, real_x, batch_step, f);
}

csm_status csm_objective_epoch_value(csm_objective *f, double *loss, double *accuracy)
{
    csm_source *src = f->src;
    const size_t steps = src->steps;
    double sum = 0, hits = 0, sq = 0;
    csm_status st = csm_step_read_sums(&f->step, f->nstats, &sum, &hits);
    if (st == CSM_OK && f->l2 > 0) {
        double *norms = malloc(steps * sizeof *norms);
        st = norms ? csm_download(f->model->ctx, norms, f->step.sumsq, f->step.prec, 0, steps)
                   : csm_fail(f->model->ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
        for (size_t t = 0; st == CSM_OK && t < steps; t++)
            sq += norms[t];
        free(norms);
    }
    if (st == CSM_OK && src->reduce) {
        double v[3] = {sum, hits, 0};
        st = csm_source_sum(src, v, 2);
        sum = v[0];
        hits = v[1];
    }
    if (st == CSM_OK) {
        *loss = sum / src->weight_sum + 0.5 * f->l2 * sq / (double)steps;
        *accuracy = hits / (double)src->n;
    }
    return st;
}

void csm_objective_observe(csm_objective *f, double seconds)
{
    const csm_source *src = f->src;
    const size_t steps = src->whole ? f->nstats : src->steps;
    if (f->batches && steps > 0)
        csm_choice_observed(f->model, src->data, f->step.cap, seconds / (double)steps);
}

csm_status csm_objective_any(csm_objective *f, int flag, int *any)
{
    double v[2] = {(double)flag, 0};
    csm_status st = csm_source_sum(f->src, v, 1);
    *any = st != CSM_OK || v[0] > 0;
    return st;
}
