/* Data-parallel training without a communication library: the dataset
 * partition, and csm_train's calls of the caller's reduce function (the
 * protocol is documented at csm_reduce_fn in clsoftmax.h). The library
 * never talks to other processes itself; the reduce callback (the clsoftmax
 * command's wraps MPI_Allreduce) is its only link to them. */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "solver.h"

csm_status csm_dataset_set_partition(csm_dataset *d, size_t row0, size_t global_n)
{
    if (!d)
        return CSM_ERR_NULL_ARGUMENT;
    if (row0 > global_n || global_n - row0 < d->n)
        return csm_fail(d->ctx, CSM_ERR_INVALID_SIZE,
                        "csm_dataset_set_partition: rows [%zu, %zu) of the dataset's %zu do not "
                        "fit in a global dataset of %zu rows",
                        row0, row0 + d->n, d->n, global_n);
    /* the epoch's permutation is drawn over the global rows as int indices */
    if (global_n > INT_MAX)
        return csm_fail(d->ctx, CSM_ERR_INVALID_SIZE,
                        "csm_dataset_set_partition: %zu global rows is more than %d",
                        global_n, INT_MAX);
    const int whole = row0 == 0 && global_n == d->n;
    d->part_row0 = whole ? 0 : row0;
    d->part_n = whole ? 0 : global_n;
    return CSM_OK;
}

size_t csm_dataset_partition(const csm_dataset *d, size_t *row0)
{
    if (row0)
        *row0 = d ? d->part_row0 : 0;
    return !d ? 0 : d->part_n ? d->part_n : d->n;
}

#define DIST_FAIL(g, ...) csm_fail((g)->ctx, CSM_ERR_DISTRIBUTED, __VA_ARGS__)

static csm_status call_reduce(csm_dist *g, double *v, size_t count, const char *what)
{
    if (g->reduce(v, count, g->user) != 0)
        return DIST_FAIL(g, "distributed training: the reduce callback failed (%s)", what);
    return CSM_OK;
}

csm_status csm_dist_init(csm_dist *g, csm_model *m, const csm_dataset *d,
                         const csm_train_options *o)
{
    memset(g, 0, sizeof *g);
    g->ctx = m->ctx;
    g->reduce = o->reduce;
    g->user = o->reduce_user;
    g->n = d->part_n ? d->part_n : d->n;
    g->row0 = d->part_row0;
    g->weight_sum = d->weight_sum;
    g->local_scale = 1.0;
    g->procs = 1;
    g->len = m->C * m->k + m->C;
    if (!g->reduce) {
        if (d->part_n)
            return csm_fail(m->ctx, CSM_ERR_INVALID_VALUE,
                            "csm_train: the dataset is rows [%zu, %zu) of %zu "
                            "(csm_dataset_set_partition), but options->reduce is NULL: "
                            "training on a partition needs the sum over the processes",
                            d->part_row0, d->part_row0 + d->n, d->part_n);
        return CSM_OK;
    }
    g->buf = malloc((g->len + 3) * sizeof *g->buf);
    if (!g->buf)
        return csm_fail(m->ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
    /* Counted, summed, and each process's own view of the global shape
     * (which every process must share: sum = processes x own value). */
    const double own_n = (double)g->n, own_len = (double)g->len;
    double v[5] = {1.0, (double)d->n, d->weight_sum, own_n, own_len};
    csm_status st = call_reduce(g, v, 5, "the dataset's size at the start");
    if (st != CSM_OK)
        return st;
    g->procs = v[0];
    if (!(g->procs >= 1) || v[3] != g->procs * own_n || v[4] != g->procs * own_len)
        return DIST_FAIL(g, "distributed training: the %g processes disagree about the global "
                         "dataset (this one: %zu rows) or the model (this one: %zu parameters)",
                         g->procs, g->n, g->len);
    if (v[1] != own_n)
        return DIST_FAIL(g, "distributed training: the %g partitions hold %.0f rows in all, but "
                         "the global dataset has %zu (csm_dataset_set_partition)",
                         g->procs, v[1], g->n);
    if (!(v[2] > 0) || !isfinite(v[2]))
        return DIST_FAIL(g, "distributed training: the global weight sum is %g", v[2]);
    g->weight_sum = v[2];
    g->local_scale = d->weight_sum / g->weight_sum;
    return CSM_OK;
}

void csm_dist_free(csm_dist *g)
{
    free(g->buf);
    g->buf = NULL;
}

csm_status csm_dist_sum(csm_dist *g, double *values, size_t count)
{
    /* The tag: every process's count of calls, so their sum is procs x
     * seq exactly when all are at the same call. */
    g->seq += 1;
    values[count] = g->seq;
    csm_status st = call_reduce(g, values, count + 1, "a sum of the training loop");
    if (st == CSM_OK && values[count] != g->procs * g->seq)
        st = DIST_FAIL(g, "distributed training: the processes are out of step at reduction %.0f "
                       "(tag sum %.17g, expected %.17g): each must run csm_train with the same "
                       "options, on devices that compute alike",
                       g->seq, values[count], g->procs * g->seq);
    return st;
}

csm_status csm_dist_grad(csm_dist *g, csm_step *w, double scale, int have, double *extras,
                         size_t nextra)
{
    csm_context *ctx = w->ctx;
    const size_t nw = w->C * w->k, len = nw + w->C;
    double *v = g->buf;
    csm_status st = CSM_OK;
    if (have) {
        st = csm_download(ctx, v, w->dweight, w->prec, 0, nw);
        if (st == CSM_OK) st = csm_download(ctx, v + nw, w->dbias, w->prec, 0, w->C);
        if (scale != 1.0)
            for (size_t i = 0; i < len; i++)
                v[i] *= scale;
    } else {
        memset(v, 0, len * sizeof *v);
    }
    for (size_t i = 0; i < nextra; i++)
        v[len + i] = extras[i];
    if (st == CSM_OK) st = csm_dist_sum(g, v, len + nextra);
    if (st == CSM_OK) st = csm_upload(ctx, w->dweight, w->prec, 0, v, nw);
    if (st == CSM_OK) st = csm_upload(ctx, w->dbias, w->prec, 0, v + nw, w->C);
    for (size_t i = 0; st == CSM_OK && i < nextra; i++)
        extras[i] = v[len + i];
    return st;
}
