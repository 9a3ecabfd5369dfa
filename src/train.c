/* The training loop: per step, gather (if shuffled) -> logits -> softmax
 * delta + loss -> gradient -> update, all enqueued without waiting; the
 * host reads the loss and accuracy back once per epoch. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops.h"
#include "rng.h"

void csm_train_options_init(csm_train_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->epochs = 20;
    o->learning_rate = 0.1;
    o->batch_size = 256;
    o->l2 = 0.0;
    o->optimizer = CSM_SGD;
    o->momentum = 0.9;
    o->beta1 = 0.9;
    o->beta2 = 0.999;
    o->epsilon = 1e-8;
    o->seed = 1;
    o->shuffle = 1;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static csm_status check_options(csm_context *ctx, const csm_train_options *o)
{
#define BAD(...) return csm_fail(ctx, CSM_ERR_INVALID_VALUE, __VA_ARGS__)
    if (o->epochs < 1)
        BAD("epochs is %d, must be >= 1", o->epochs);
    if (!isfinite(o->learning_rate) || o->learning_rate <= 0)
        BAD("learning rate is %g, must be finite and > 0", o->learning_rate);
    if (!isfinite(o->l2) || o->l2 < 0)
        BAD("l2 is %g, must be finite and >= 0", o->l2);
    if (o->optimizer != CSM_SGD && o->optimizer != CSM_MOMENTUM && o->optimizer != CSM_ADAM)
        BAD("unknown optimizer %d", (int)o->optimizer);
    if (o->optimizer == CSM_MOMENTUM && !(o->momentum >= 0 && o->momentum < 1))
        BAD("momentum is %g, must be in [0, 1)", o->momentum);
    if (o->optimizer == CSM_ADAM) {
        if (!(o->beta1 >= 0 && o->beta1 < 1))
            BAD("beta1 is %g, must be in [0, 1)", o->beta1);
        if (!(o->beta2 >= 0 && o->beta2 < 1))
            BAD("beta2 is %g, must be in [0, 1)", o->beta2);
        if (!(o->epsilon > 0) || !isfinite(o->epsilon))
            BAD("epsilon is %g, must be finite and > 0", o->epsilon);
    }
#undef BAD
    return CSM_OK;
}

/* Optimizer state and kernels for one parameter tensor. */
typedef struct param_slot {
    cl_mem param, grad, m, v;
    cl_int count;
} param_slot;

typedef struct trainer {
    csm_context *ctx;
    csm_model *model;
    const csm_dataset *data;
    const csm_train_options *opt;
    csm_work work;
    size_t B, steps;
    int permute; /* shuffled minibatches */
    int gather;  /* ... copied into contiguous buffers (CLBlast path) */
    csm_gather g;
    cl_mem idx; /* the permutation */
    int32_t *perm;
    param_slot p[2]; /* weight, bias */
    cl_kernel k_update;
    long t; /* Adam step count */
} trainer;

static csm_status enqueue_update(trainer *tr, param_slot *ps, double l2)
{
    csm_context *ctx = tr->ctx;
    const csm_train_options *o = tr->opt;
    csm_precision prec = tr->model->precision;
    cl_kernel k = tr->k_update;
    csm_status st = csm_set_arg(ctx, k, 0, sizeof(cl_mem), &ps->param);
    cl_uint a = 1;
    if (o->optimizer == CSM_MOMENTUM && st == CSM_OK)
        st = csm_set_arg(ctx, k, a++, sizeof(cl_mem), &ps->v);
    if (o->optimizer == CSM_ADAM && st == CSM_OK) {
        st = csm_set_arg(ctx, k, a++, sizeof(cl_mem), &ps->m);
        if (st == CSM_OK) st = csm_set_arg(ctx, k, a++, sizeof(cl_mem), &ps->v);
    }
    if (st == CSM_OK) st = csm_set_arg(ctx, k, a++, sizeof(cl_mem), &ps->grad);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, a++, sizeof(cl_int), &ps->count);
    if (st == CSM_OK) st = csm_set_real_arg(ctx, k, a++, prec, o->learning_rate);
    if (o->optimizer == CSM_MOMENTUM && st == CSM_OK)
        st = csm_set_real_arg(ctx, k, a++, prec, o->momentum);
    if (o->optimizer == CSM_ADAM && st == CSM_OK) {
        st = csm_set_real_arg(ctx, k, a++, prec, o->beta1);
        if (st == CSM_OK) st = csm_set_real_arg(ctx, k, a++, prec, o->beta2);
        if (st == CSM_OK) st = csm_set_real_arg(ctx, k, a++, prec, o->epsilon);
    }
    if (st == CSM_OK) st = csm_set_real_arg(ctx, k, a++, prec, l2);
    if (o->optimizer == CSM_ADAM && st == CSM_OK) {
        double bc1 = 1.0 - pow(o->beta1, (double)tr->t);
        double bc2 = 1.0 - pow(o->beta2, (double)tr->t);
        st = csm_set_real_arg(ctx, k, a++, prec, bc1);
        if (st == CSM_OK) st = csm_set_real_arg(ctx, k, a++, prec, bc2);
    }
    size_t global = ((size_t)ps->count + CSM_WG - 1) / CSM_WG * CSM_WG;
    if (st == CSM_OK) st = csm_launch(ctx, k, 1, &global, NULL, "update");
    return st;
}

static csm_status trainer_init(trainer *tr)
{
    csm_context *ctx = tr->ctx;
    csm_model *m = tr->model;
    const csm_dataset *d = tr->data;
    const csm_train_options *o = tr->opt;
    const size_t es = csm_real_size(m->precision);
    tr->B = (o->batch_size == 0 || o->batch_size >= d->n) ? d->n : o->batch_size;
    tr->steps = (d->n + tr->B - 1) / tr->B;
    const int shuffled = o->shuffle && tr->B < d->n;
    csm_status st = csm_work_init_data(&tr->work, m, d, tr->B, tr->steps);
    if (st != CSM_OK)
        return st;
    /* The fused path reads rows through the permutation itself; the
     * CLBlast path needs them gathered into a contiguous batch first. */
    tr->permute = shuffled;
    tr->gather = shuffled && tr->work.path == CSM_PATH_CLBLAST;
    const char *update = o->optimizer == CSM_ADAM       ? "adam_update"
                         : o->optimizer == CSM_MOMENTUM ? "momentum_update"
                                                        : "sgd_update";
    st = csm_get_kernel(ctx, &tr->k_update, "update.cl", update, m->precision, m->C, m->k);
    tr->p[0] = (param_slot){m->weight, tr->work.dweight, NULL, NULL, (cl_int)(m->C * m->k)};
    tr->p[1] = (param_slot){m->bias, tr->work.dbias, NULL, NULL, (cl_int)m->C};
    for (int i = 0; i < 2 && st == CSM_OK && o->optimizer != CSM_SGD; i++) {
        size_t bytes = (size_t)tr->p[i].count * es;
        st = csm_buffer_create(ctx, &tr->p[i].v, bytes, "optimizer state");
        if (st == CSM_OK) st = csm_fill_zero(ctx, tr->p[i].v, bytes);
        if (st == CSM_OK && o->optimizer == CSM_ADAM) {
            st = csm_buffer_create(ctx, &tr->p[i].m, bytes, "optimizer state");
            if (st == CSM_OK) st = csm_fill_zero(ctx, tr->p[i].m, bytes);
        }
    }
    if (st == CSM_OK && tr->gather)
        st = csm_gather_init(&tr->g, m, d, tr->B);
    if (st == CSM_OK && tr->permute) {
        st = csm_buffer_create(ctx, &tr->idx, d->n * sizeof(cl_int), "permutation");
        if (st == CSM_OK) {
            tr->perm = malloc(d->n * sizeof *tr->perm);
            if (!tr->perm)
                st = csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
            for (size_t i = 0; st == CSM_OK && i < d->n; i++)
                tr->perm[i] = (int32_t)i;
        }
    }
    return st;
}

static void trainer_free(trainer *tr)
{
    /* After a failure mid-epoch a non-blocking upload of tr->perm may still
     * be queued: drain the queue before the host array goes. */
    if (tr->ctx)
        clFinish(tr->ctx->queue);
    csm_work_free(&tr->work);
    for (int i = 0; i < 2; i++) {
        csm_buffer_release(&tr->p[i].m);
        csm_buffer_release(&tr->p[i].v);
    }
    csm_gather_free(&tr->g);
    csm_buffer_release(&tr->idx);
    free(tr->perm);
}

/* Enqueues one epoch; nothing here waits on the device. */
static csm_status enqueue_epoch(trainer *tr, csm_rng *rng)
{
    csm_context *ctx = tr->ctx;
    const csm_dataset *d = tr->data;
    const csm_train_options *o = tr->opt;
    csm_status st = CSM_OK;
    if (tr->permute) {
        csm_rng_shuffle(rng, tr->perm, d->n);
        /* Non-blocking: the previous epoch's blocking read has drained the
         * in-order queue, so the host array is not in use while we shuffle. */
        cl_int rc = clEnqueueWriteBuffer(ctx->queue, tr->idx, CL_FALSE, 0, d->n * sizeof(cl_int),
                                         tr->perm, 0, NULL, NULL);
        if (rc != CL_SUCCESS)
            return csm_cl_fail(ctx, rc, "clEnqueueWriteBuffer (permutation)");
    }
    for (size_t s = 0; st == CSM_OK && s < tr->steps; s++) {
        size_t start = s * tr->B;
        size_t B = d->n - start < tr->B ? d->n - start : tr->B;
        csm_block b;
        if (tr->gather) {
            st = csm_enqueue_gather(&tr->g, d, tr->idx, start, B);
            b = csm_gather_block(&tr->g, d, B);
        } else {
            b = (csm_block){d->x, start, d->labels, d->targets, start, B, d,
                            tr->permute ? tr->idx : NULL, start};
        }
        if (st == CSM_OK && o->l2 > 0)
            st = csm_enqueue_sumsq(&tr->work, tr->model, s);
        if (st == CSM_OK)
            st = csm_enqueue_batch_grad(&tr->work, tr->model, &b, 1.0 / (double)B, s, 0);
        tr->t++;
        if (st == CSM_OK) st = enqueue_update(tr, &tr->p[0], o->l2);
        if (st == CSM_OK) st = enqueue_update(tr, &tr->p[1], 0.0);
    }
    return st;
}

/* The epoch's loss (sample-weighted mean of the data term, plus the mean L2
 * term over steps) and accuracy: the one read-back of the epoch. */
static csm_status read_epoch(trainer *tr, double *loss, double *accuracy)
{
    const size_t steps = tr->steps;
    double sum = 0, hits = 0, sq = 0;
    csm_status st = csm_read_sums(&tr->work, steps, &sum, &hits);
    if (st == CSM_OK && tr->opt->l2 > 0) {
        double *norms = malloc(steps * sizeof *norms);
        st = norms ? csm_download(tr->ctx, norms, tr->work.sumsq, tr->model->precision, 0, steps)
                   : csm_fail(tr->ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
        for (size_t s = 0; st == CSM_OK && s < steps; s++)
            sq += norms[s];
        free(norms);
    }
    if (st == CSM_OK) {
        *loss = sum / (double)tr->data->n + 0.5 * tr->opt->l2 * sq / (double)steps;
        *accuracy = hits / (double)tr->data->n;
    }
    return st;
}

csm_status csm_train(csm_model *m, const csm_dataset *d, const csm_train_options *o)
{
    csm_status st = csm_check_pair(m, d, 1, "csm_train");
    if (st != CSM_OK)
        return st;
    if (!o)
        return csm_fail(m->ctx, CSM_ERR_NULL_ARGUMENT, "csm_train: options is NULL");
    st = check_options(m->ctx, o);
    if (st != CSM_OK)
        return st;
    trainer tr;
    memset(&tr, 0, sizeof tr);
    tr.ctx = m->ctx;
    tr.model = m;
    tr.data = d;
    tr.opt = o;
    st = trainer_init(&tr);
    csm_rng rng;
    csm_rng_seed(&rng, o->seed);
    for (int e = 1; st == CSM_OK && e <= o->epochs; e++) {
        double t0 = now_seconds();
        st = enqueue_epoch(&tr, &rng);
        csm_epoch_info info = {e, o->epochs, 0, 0, 0, d->n};
        if (st == CSM_OK)
            st = read_epoch(&tr, &info.loss, &info.accuracy);
        if (st != CSM_OK)
            break;
        info.seconds = now_seconds() - t0;
        if (!isfinite(info.loss)) {
            st = csm_fail(m->ctx, CSM_ERR_NONFINITE,
                          "training diverged at epoch %d (loss %g): lower the learning rate", e,
                          info.loss);
            break;
        }
        csm_log(m->ctx, CSM_LOG_DEBUG, "epoch %d/%d loss %.6f accuracy %.4f %.3fs", e, o->epochs,
                info.loss, info.accuracy, info.seconds);
        if (o->callback && o->callback(m, &info, o->user))
            break;
    }
    trainer_free(&tr);
    return st;
}
