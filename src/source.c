/* The training data source (source.h): this process's share of the global
 * data set and the sums over the processes (the protocol is documented at
 * csm_reduce_fn in clsoftmax.h; the library never talks to other processes
 * itself, the caller's reduce function is its only link to them), and the
 * minibatches of an epoch, over resident or streamed rows. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "source.h"

#define DIST_FAIL(s, ...) csm_fail((s)->ctx, CSM_ERR_DISTRIBUTED, __VA_ARGS__)

static csm_status call_reduce(csm_source *s, double *v, size_t count, const char *what)
{
    if (s->reduce(v, count, s->user) != 0)
        return DIST_FAIL(s, "distributed training: the reduce callback failed (%s)", what);
    return CSM_OK;
}

/* Counted, summed, and each process's own view of the global shape
 * (which every process must share: sum = processes x own value). */
static csm_status agree(csm_source *s, const csm_dataset *d)
{
    const double own_n = (double)s->n, own_len = (double)s->len;
    double v[5] = {1.0, (double)d->n, d->weight_sum, own_n, own_len};
    csm_status st = call_reduce(s, v, 5, "the dataset's size at the start");
    if (st != CSM_OK)
        return st;
    s->procs = v[0];
    if (!(s->procs >= 1) || v[3] != s->procs * own_n || v[4] != s->procs * own_len)
        return DIST_FAIL(s, "distributed training: the %g processes disagree about the global "
                         "dataset (this one: %zu rows) or the model (this one: %zu parameters)",
                         s->procs, s->n, s->len);
    if (v[1] != own_n)
        return DIST_FAIL(s, "distributed training: the %g partitions hold %.0f rows in all, but "
                         "the global dataset has %zu (csm_dataset_set_partition)",
                         s->procs, v[1], s->n);
    if (!(v[2] > 0) || !isfinite(v[2]))
        return DIST_FAIL(s, "distributed training: the global weight sum is %g", v[2]);
    s->weight_sum = v[2];
    s->local_scale = d->weight_sum / s->weight_sum;
    return CSM_OK;
}

csm_status csm_source_init(csm_source *s, const csm_model *m, const csm_dataset *d,
                           csm_reduce_fn reduce, void *user)
{
    memset(s, 0, sizeof *s);
    s->ctx = m->ctx;
    s->data = d;
    s->reduce = reduce;
    s->user = user;
    s->n = d->part_n ? d->part_n : d->n;
    s->row0 = d->part_row0;
    s->weight_sum = d->weight_sum;
    s->local_scale = 1.0;
    s->procs = 1;
    s->len = m->C * m->k + m->C;
    if (!reduce) {
        if (d->part_n)
            return csm_fail(m->ctx, CSM_ERR_INVALID_VALUE,
                            "csm_train: the dataset is rows [%zu, %zu) of %zu "
                            "(csm_dataset_set_partition), but options->reduce is NULL: "
                            "training on a partition needs the sum over the processes",
                            d->part_row0, d->part_row0 + d->n, d->part_n);
        return CSM_OK;
    }
    s->buf = malloc((s->len + 3) * sizeof *s->buf);
    if (!s->buf)
        return csm_fail(m->ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
    return agree(s, d);
}

void csm_source_free(csm_source *s)
{
    /* After a failure mid-epoch a non-blocking upload of perm may still be
     * queued: drain the queue before the host array goes. */
    if (s->ctx && s->idx)
        clFinish(s->ctx->queue);
    csm_buffer_release(&s->idx);
    free(s->buf);
    free(s->perm);
    free(s->lperm);
    free(s->lstart);
    free(s->order);
    memset(s, 0, sizeof *s);
}

csm_status csm_source_sum(csm_source *s, double *values, size_t count)
{
    if (!s->reduce)
        return CSM_OK;
    /* The tag: every process's count of calls, so their sum is procs x
     * seq exactly when all are at the same call. */
    s->seq += 1;
    values[count] = s->seq;
    csm_status st = call_reduce(s, values, count + 1, "a sum of the training loop");
    if (st == CSM_OK && values[count] != s->procs * s->seq)
        st = DIST_FAIL(s, "distributed training: the processes are out of step at reduction %.0f "
                       "(tag sum %.17g, expected %.17g): each must run csm_train with the same "
                       "options, on devices that compute alike",
                       s->seq, values[count], s->procs * s->seq);
    return st;
}

csm_status csm_source_sum_grad(csm_source *s, csm_step *w, double scale, int have,
                               double *extras, size_t nextra)
{
    csm_context *ctx = w->ctx;
    const size_t nw = w->C * w->k, len = nw + w->C;
    double *v = s->buf;
    csm_status st = CSM_OK;
    if (have) {
        st = csm_download(ctx, v, w->dweight, w->prec, 0, nw);
        if (st == CSM_OK)
            st = csm_download(ctx, v + nw, w->dbias, w->prec, 0, w->C);
        if (scale != 1.0)
            for (size_t i = 0; i < len; i++)
                v[i] *= scale;
    } else {
        memset(v, 0, len * sizeof *v);
    }
    for (size_t i = 0; i < nextra; i++)
        v[len + i] = extras[i];
    if (st == CSM_OK) st = csm_source_sum(s, v, len + nextra);
    if (st == CSM_OK) st = csm_upload(ctx, w->dweight, w->prec, 0, v, nw);
    if (st == CSM_OK) st = csm_upload(ctx, w->dbias, w->prec, 0, v + nw, w->C);
    for (size_t i = 0; st == CSM_OK && i < nextra; i++)
        extras[i] = v[len + i];
    return st;
}

/* ------------------------------------------------------------ minibatches */

csm_status csm_source_batches(csm_source *s, size_t B, int shuffle)
{
    const csm_dataset *d = s->data;
    const size_t N = s->n, chunks = csm_dataset_chunks(d);
    s->B = (B == 0 || B >= N) ? N : B;
    s->whole = chunks > 0 && s->B == N;
    /* Streamed minibatches are drawn chunk by chunk (stream.c), global ones
     * across the processes' rows: the two orders do not compose. */
    if (chunks > 0 && !s->whole && s->reduce)
        return csm_fail(s->ctx, CSM_ERR_INVALID_VALUE,
                        "csm_train: minibatches over a partitioned dataset that streams "
                        "(%zu chunks) are not supported: use L-BFGS or full batches, or "
                        "raise max_alloc", chunks);
    /* a minibatch lives in one chunk of a streamed dataset */
    if (s->B < d->n && s->B > csm_stream_max_rows(d))
        s->B = csm_stream_max_rows(d);
    s->steps = s->whole ? 1 : chunks > 0 ? csm_stream_batches(d, s->B) : (N + s->B - 1) / s->B;
    s->permute = shuffle && s->B < N;
    if (!s->permute)
        return CSM_OK;
    csm_context *ctx = s->ctx;
    if (chunks && !(s->order = malloc(chunks * sizeof *s->order)))
        return csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
    csm_status st = csm_buffer_create(ctx, &s->idx, d->n * sizeof(cl_int), "permutation");
    if (st == CSM_OK && !(s->perm = malloc(N * sizeof *s->perm)))
        st = csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
    if (st == CSM_OK && s->reduce) {
        s->lstart = malloc((s->steps + 1) * sizeof *s->lstart);
        s->lperm = malloc(d->n * sizeof *s->lperm);
        if (!s->lstart || !s->lperm)
            st = csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
    }
    return st;
}

size_t csm_source_batch_cap(const csm_source *s)
{
    return s->B < s->data->n ? s->B : s->data->n;
}

/* Distributed, shuffled: this process's rows of each global batch of the
 * epoch, in the batch's order (the one-process step sums the same rows). */
static void local_batches(csm_source *s)
{
    const size_t n = s->data->n, lo = s->row0;
    size_t at = 0;
    for (size_t t = 0; t < s->steps; t++) {
        size_t a = t * s->B, b = a + s->B < s->n ? a + s->B : s->n;
        s->lstart[t] = at;
        for (size_t i = a; i < b; i++) {
            size_t r = (size_t)s->perm[i];
            if (r >= lo && r - lo < n)
                s->lperm[at++] = (int32_t)(r - lo);
        }
    }
    s->lstart[s->steps] = at;
}

/* Distributed: this process's rows of global step t, [*start, *start + *B)
 * of its permutation or of its data. */
static void step_rows(const csm_source *s, size_t t, size_t *start, size_t *B)
{
    const size_t n = s->data->n;
    if (s->permute) {
        *start = s->lstart[t];
        *B = s->lstart[t + 1] - s->lstart[t];
        return;
    }
    size_t a = t * s->B, b = a + s->B < s->n ? a + s->B : s->n;
    size_t lo = s->row0 > a ? s->row0 : a, hi = s->row0 + n < b ? s->row0 + n : b;
    *start = lo - s->row0;
    *B = hi > lo ? hi - lo : 0;
    if (!*B)
        *start = 0;
}

/* The epoch's permutation, drawn from (seed, epoch) alone, uploaded
 * without waiting. */
static csm_status shuffle(csm_source *s, uint64_t seed, long epoch)
{
    const csm_dataset *d = s->data;
    if (s->order) {
        csm_stream_epoch_order(d, seed, (uint64_t)epoch, s->order, s->perm);
    } else {
        csm_rng rng;
        csm_rng_seed_stream(&rng, seed, (uint64_t)epoch);
        for (size_t i = 0; i < s->n; i++) /* drawn over the global rows */
            s->perm[i] = (int32_t)i;
        csm_rng_shuffle(&rng, s->perm, s->n);
        if (s->reduce)
            local_batches(s);
    }
    /* Non-blocking: the previous epoch's blocking read has drained the
     * in-order queue, so the host array is not in use while we shuffle. */
    cl_int rc = clEnqueueWriteBuffer(s->ctx->queue, s->idx, CL_FALSE, 0, d->n * sizeof(cl_int),
                                     s->reduce ? s->lperm : s->perm, 0, NULL, NULL);
    return rc == CL_SUCCESS ? CSM_OK : csm_cl_fail(s->ctx, rc, "clEnqueueWriteBuffer (permutation)");
}

typedef struct epoch_walk {
    csm_source *s;
    csm_batch_fn fn;
    void *user;
    size_t t; /* steps so far */
} epoch_walk;

/* The steps over one chunk (the whole dataset when resident), its rows at
 * pos .. in the epoch's permutation. */
static csm_status walk_chunk(void *user, const csm_dataset *d, size_t pos)
{
    epoch_walk *ew = user;
    csm_source *s = ew->s;
    csm_status st = CSM_OK;
    /* Distributed (never streamed here): every global step, whether this
     * process holds rows of it or not, since the sums are collective. */
    const size_t nsteps = s->reduce ? s->steps : (d->n + s->B - 1) / s->B;
    for (size_t i = 0; st == CSM_OK && i < nsteps; i++) {
        const size_t r = i * s->B;
        csm_batch b = {ew->t++, 0, d, 0, r, pos + r, s->permute ? s->idx : NULL};
        if (s->reduce) {
            /* the global batch's size, and this process's rows of it */
            b.global_B = s->n - r < s->B ? s->n - r : s->B;
            step_rows(s, b.t, &b.start, &b.B);
            b.row0 = b.start;
        } else {
            b.B = b.global_B = d->n - r < s->B ? d->n - r : s->B;
        }
        st = ew->fn(ew->user, &b);
    }
    return st;
}

csm_status csm_source_epoch(csm_source *s, uint64_t seed, long epoch, int real_x,
                            csm_batch_fn fn, void *user)
{
    csm_status st = s->permute ? shuffle(s, seed, epoch) : CSM_OK;
    epoch_walk ew = {s, fn, user, 0};
    if (st == CSM_OK)
        st = csm_stream_each(s->data, s->order, walk_chunk, &ew, real_x);
    return st;
}
