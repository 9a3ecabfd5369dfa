/* The public one-shot operations: forward, predict, loss, gradient,
 * evaluate. Each binds the model to the dataset (a path for its shape,
 * calibrate.c) and runs one pass over the dataset's row blocks; the host
 * reads back what the caller asked for. */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "choose.h"

static csm_status l2_term(csm_step *w, csm_model *m, double l2, double *term)
{
    *term = 0;
    if (l2 == 0)
        return CSM_OK;
    csm_status st = csm_step_sumsq(w, m, 0);
    double sq = 0;
    if (st == CSM_OK)
        st = csm_download(w->ctx, &sq, w->sumsq, w->prec, 0, 1);
    *term = 0.5 * l2 * sq;
    return st;
}

/* lambda of the inverse strength C over d, as csm_train's (csm_lambda) */
static csm_status penalty(csm_model *m, const csm_dataset *d, double C, const char *fn,
                          double *l2)
{
    if (!(C > 0))
        return csm_fail(m->ctx, CSM_ERR_INVALID_VALUE,
                        "%s: C is %g, must be > 0 (INFINITY: no penalty)", fn, C);
    *l2 = csm_lambda(C, d->weight_sum, m->C);
    return CSM_OK;
}

/* Per-row outputs of a pass, read back block by block. */
typedef struct rows_out {
    csm_step *w;
    csm_model *m;
    double *logits, *probs; /* forward */
    int32_t *classes;       /* predict */
} rows_out;

static csm_status forward_chunk(void *user, const csm_dataset *c, size_t pos)
{
    rows_out *o = user;
    csm_step *w = o->w;
    csm_model *m = o->m;
    csm_status st = CSM_OK;
    const int mode = o->classes ? 0 : CSM_WRITE_LOGITS | (o->probs ? CSM_WRITE_PROBS : 0);
    for (size_t r = 0; st == CSM_OK && r < c->n; r += w->cap) {
        size_t B = c->n - r < w->cap ? c->n - r : w->cap;
        const size_t row = pos + r;
        csm_block b = csm_block_of(c, r, B);
        /* outputs do not depend on targets; without them the kernel writes the argmax */
        b.labels = b.targets = NULL;
        st = csm_step_forward(w, m, &b, mode, 0);
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
    csm_step w;
    csm_status st = csm_bind_step(&w, o->m, d, csm_pass_rows(o->m, d), 1, CSM_MEASURE_NEVER);
    if (st != CSM_OK)
        return st;
    o->w = &w;
    st = csm_stream_each(d, NULL, forward_chunk, o, (w.path->flags & CSM_PATH_REAL_X) != 0);
    csm_step_free(&w);
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

static csm_status whole_pass(csm_model *m, const csm_dataset *d, int grad, csm_step *w,
                             double *loss_sum, double *correct_sum)
{
    size_t cap = csm_pass_rows(m, d);
    size_t nblocks = csm_pass_blocks(d, cap);
    csm_status st = csm_bind_step(w, m, d, cap, nblocks, CSM_MEASURE_NEVER);
    if (st != CSM_OK)
        return st;
    st = csm_step_dataset(w, m, d, grad);
    if (st == CSM_OK)
        st = csm_step_read_sums(w, nblocks, loss_sum, correct_sum);
    if (st != CSM_OK)
        csm_step_free(w);
    return st;
}

csm_status csm_evaluate(csm_model *m, const csm_dataset *d, double *loss, double *accuracy)
{
    csm_status st = csm_check_pair(m, d, 1, "csm_evaluate");
    if (st != CSM_OK)
        return st;
    csm_step w;
    double sum = 0, correct = 0;
    st = whole_pass(m, d, 0, &w, &sum, &correct);
    if (st != CSM_OK)
        return st;
    csm_step_free(&w);
    if (loss) *loss = sum / d->weight_sum;
    if (accuracy) *accuracy = correct / (double)d->n;
    return CSM_OK;
}

/* csm_loss and csm_gradient: J at the model's weights, its L2 term from C,
 * and the gradient where dweight or dbias is wanted; `none` is the error
 * when no output is. */
static csm_status objective_pass(csm_model *m, const csm_dataset *d, double C, const char *fn,
                                 const char *none, double *loss, double *dweight,
                                 double *dbias)
{
    double l2 = 0;
    csm_status st = csm_check_pair(m, d, 1, fn);
    if (st == CSM_OK) st = penalty(m, d, C, fn, &l2);
    if (st != CSM_OK)
        return st;
    if (!loss && !dweight && !dbias)
        return csm_fail(m->ctx, CSM_ERR_NULL_ARGUMENT, "%s: %s", fn, none);
    csm_step w;
    double sum = 0, term = 0;
    st = whole_pass(m, d, dweight || dbias, &w, &sum, NULL);
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
    csm_step_free(&w);
    if (st == CSM_OK && loss)
        *loss = sum / d->weight_sum + term;
    return st;
}

csm_status csm_loss(csm_model *m, const csm_dataset *d, double C, double *loss)
{
    return objective_pass(m, d, C, "csm_loss", "loss is NULL", loss, NULL, NULL);
}

csm_status csm_gradient(csm_model *m, const csm_dataset *d, double C, double *loss,
                        double *dweight, double *dbias)
{
    return objective_pass(m, d, C, "csm_gradient", "every output is NULL", loss, dweight,
                          dbias);
}
