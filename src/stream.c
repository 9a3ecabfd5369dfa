/* Datasets larger than the device allows: the library keeps a host copy
 * in device precision (bytes stay bytes) and streams it through the device
 * in chunks of rows, double-buffered: two staging slots, each a complete
 * dataset of one chunk's rows, so every path (fused, tiled, CLBlast,
 * sparse) runs on a chunk exactly as on a resident dataset. Chunk c + 1 is
 * written into one slot on a second command queue while the kernels of
 * chunk c run on the other; events order the two queues (the compute
 * queue waits for a chunk's writes, the writes into a slot wait for the
 * kernels that last read it). CSR chunks carry their own rebased row
 * pointers and a CSC copy of their rows (built once, on the host), so the
 * gradient stays the atomic-free column walk. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "rng.h"

struct csm_stream {
    size_t nchunks, max_rows;
    size_t *row0;       /* (nchunks + 1) first row of each chunk */
    int u8;             /* features kept as bytes */
    void *x;            /* (n, k) at precision, or bytes */
    int32_t *labels;    /* (n), or NULL */
    void *targets;      /* (n, C) at precision, or NULL */
    void *weights;      /* (n) at precision, or NULL: uniform */
    /* CSR: chunk c's row pointers start at row_ptr[row0[c] + c], rebased to
     * 0; its CSC column pointers at col_ptr[c (k + 1)]; its non-zeros (CSR
     * and CSC order alike) are [nnz0[c], nnz0[c + 1]) */
    int64_t *row_ptr;   /* (n + nchunks) */
    int32_t *col_idx;   /* (nnz) */
    void *values;       /* (nnz) at precision */
    int64_t *col_ptr;   /* (nchunks, k + 1) */
    int32_t *row_idx;   /* (nnz) chunk-local rows */
    void *cvalues;      /* (nnz) at precision */
    uint64_t *nnz0;     /* (nchunks + 1) */
    size_t max_nnz;
    size_t slot_bytes;  /* device bytes of one staging slot */
    csm_dataset *slot[2];
    long held[2];       /* the chunk in each slot, or -1 */
    cl_event ready[2];  /* the slot's writes are done */
    size_t uploads;
};

/* ------------------------------------------------------------ the limit */

/* What a dataset may hold on the device: the "max_alloc" option when set;
 * else a buffer at most the device's largest allocation and all of them
 * at most half its memory (the rest is the model's and the passes'). */
int csm_stream_wanted(csm_context *ctx, size_t total, size_t largest, char *why, size_t len)
{
    const size_t cap = ctx->opt.max_alloc;
    const unsigned long long dev = ctx->info.max_alloc_bytes, mem = ctx->info.global_mem_bytes;
    if (cap && total > cap)
        csm_snprintf(why, len, "%zu bytes, over max_alloc (%zu bytes)", total, cap);
    else if (dev && largest > dev)
        csm_snprintf(why, len, "a buffer of %zu bytes, over the device's largest allocation (%llu bytes)",
                     largest, dev);
    else if (mem && total > mem / 2)
        csm_snprintf(why, len, "%zu bytes, over half the device's memory (%llu bytes)", total, mem);
    else
        return 0;
    return 1;
}

/* Device bytes of one staging slot: half of max_alloc, else of a quarter
 * of the device's memory, and no buffer past its largest allocation. */
static size_t slot_budget(csm_context *ctx)
{
    if (ctx->opt.max_alloc)
        return ctx->opt.max_alloc / 2;
    size_t b = (size_t)(ctx->info.global_mem_bytes / 8);
    if (ctx->info.max_alloc_bytes && b > ctx->info.max_alloc_bytes)
        b = (size_t)ctx->info.max_alloc_bytes;
    return b ? b : (size_t)1 << 28;
}

/* --------------------------------------------------------- host copies */

static void *copy_reals(const double *src, size_t count, csm_precision prec)
{
    void *out = malloc((count ? count : 1) * csm_real_size(prec));
    if (!out || !src)
        return out;
    for (size_t i = 0; i < count; i++)
        if (prec == CSM_FLOAT32)
            ((float *)out)[i] = (float)src[i];
        else
            ((double *)out)[i] = src[i];
    return out;
}

static csm_stream *stream_new(size_t nchunks)
{
    csm_stream *s = calloc(1, sizeof *s);
    if (s && !(s->row0 = calloc(nchunks + 1, sizeof *s->row0))) {
        free(s);
        return NULL;
    }
    if (s) {
        s->nchunks = nchunks;
        s->held[0] = s->held[1] = -1;
    }
    return s;
}

/* Labels and targets of every row, for either kind of data. */
static csm_status copy_targets(csm_dataset *d, csm_stream *s, const int32_t *labels,
                               const double *targets)
{
    if (labels && !(s->labels = malloc(d->n * sizeof *labels)))
        return csm_fail(d->ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
    if (labels)
        memcpy(s->labels, labels, d->n * sizeof *labels);
    if (targets && !(s->targets = copy_reals(targets, d->n * d->C, d->precision)))
        return csm_fail(d->ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
    return CSM_OK;
}

/* The two staging slots: datasets of max_rows rows (max_nnz non-zeros). */
static csm_status make_slots(csm_dataset *d)
{
    csm_context *ctx = d->ctx;
    csm_stream *s = d->stream;
    const size_t es = csm_real_size(d->precision), R = s->max_rows, k = d->k;
    csm_status st = CSM_OK;
    for (int i = 0; i < 2 && st == CSM_OK; i++) {
        csm_dataset *c = csm_dataset_alloc(ctx, d->precision, R, k, d->C);
        if (!c)
            return csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
        s->slot[i] = c;
        c->sparse = d->sparse;
        if (d->sparse) {
            st = csm_buffer_create(ctx, &c->row_ptr, (R + 1) * 8, "chunk row pointers");
            if (st == CSM_OK) st = csm_buffer_create(ctx, &c->col_idx, s->max_nnz * 4, "chunk columns");
            if (st == CSM_OK) st = csm_buffer_create(ctx, &c->values, s->max_nnz * es, "chunk values");
            if (st == CSM_OK) st = csm_buffer_create(ctx, &c->col_ptr, (k + 1) * 8, "chunk column pointers");
            if (st == CSM_OK) st = csm_buffer_create(ctx, &c->row_idx, s->max_nnz * 4, "chunk rows");
            if (st == CSM_OK) st = csm_buffer_create(ctx, &c->cvalues, s->max_nnz * es, "chunk CSC values");
        } else if (s->u8) {
            st = csm_buffer_create(ctx, &c->x_u8, R * k, "chunk 8-bit features");
        } else {
            st = csm_buffer_create(ctx, &c->x, R * k * es, "chunk features");
        }
        if (st == CSM_OK && s->labels)
            st = csm_buffer_create(ctx, &c->labels, R * sizeof(cl_int), "chunk labels");
        if (st == CSM_OK && s->targets)
            st = csm_buffer_create(ctx, &c->targets, R * d->C * es, "chunk targets");
    }
    return st;
}

static void log_stream(csm_dataset *d, const char *why)
{
    csm_stream *s = d->stream;
    csm_log(d->ctx, CSM_LOG_INFO,
            "dataset of %zu rows streams through the device in %zu chunks of at most %zu rows "
            "(two staging slots of %zu bytes): its %s",
            d->n, s->nchunks, s->max_rows, s->slot_bytes, why);
}

/* Per-row bytes of a staging slot beyond the features: label, targets,
 * and room for a sample weight. */
static size_t row_extra(const csm_dataset *d, int labels, int targets)
{
    const size_t es = csm_real_size(d->precision);
    return (labels ? sizeof(cl_int) : 0) + (targets ? d->C * es : 0) + es;
}

csm_status csm_stream_init_dense(csm_dataset *d, const void *features, csm_dtype dtype,
                                 const int32_t *labels, const double *targets, const char *why)
{
    csm_context *ctx = d->ctx;
    const size_t es = csm_real_size(d->precision), n = d->n, k = d->k;
    const int u8 = dtype == CSM_DTYPE_U8;
    /* 8-bit chunks may need a widened copy (the CLBlast path): counted */
    const size_t row = k * (u8 ? 1 + es : es) + row_extra(d, labels != NULL, targets != NULL);
    const size_t budget = slot_budget(ctx);
    size_t R = budget / row;
    if (R < 1) {
        /* a chunk is at least one row: the cap gives way, and says so */
        csm_log(ctx, CSM_LOG_WARN,
                "one row needs %zu bytes of staging on the device, over a slot's %zu "
                "(max_alloc / 2): chunks of one row",
                row, budget);
        R = 1;
    }
    if (R > n)
        R = n;
    const size_t nchunks = (n + R - 1) / R;
    csm_stream *s = stream_new(nchunks);
    if (!s)
        return csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
    d->stream = s;
    s->u8 = u8;
    s->max_rows = R;
    s->slot_bytes = R * row;
    for (size_t c = 0; c <= nchunks; c++)
        s->row0[c] = c * R < n ? c * R : n;
    s->x = malloc(n * k * (u8 ? 1 : es));
    if (!s->x)
        return csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY,
                        "out of host memory for the streamed copy of %zu x %zu features", n, k);
    csm_status st = CSM_OK;
    if (u8)
        memcpy(s->x, features, n * k);
    else
        st = csm_convert_features(ctx, s->x, d->precision, features, dtype, 0, n * k, k);
    if (st == CSM_OK) st = copy_targets(d, s, labels, targets);
    if (st == CSM_OK) st = make_slots(d);
    if (st == CSM_OK)
        log_stream(d, why);
    return st;
}

/* Slot bytes of CSR rows [a, b) holding nnz non-zeros. */
static size_t csr_bytes(const csm_dataset *d, size_t rows, uint64_t nnz, int labels, int targets)
{
    const size_t es = csm_real_size(d->precision);
    return (rows + 1) * 8 + (d->k + 1) * 8 + (size_t)nnz * 2 * (4 + es) +
           rows * row_extra(d, labels, targets);
}

csm_status csm_stream_init_csr(csm_dataset *d, const int64_t *row_ptr, const int32_t *cols,
                               const double *vals, const int32_t *labels, const double *targets,
                               const char *why)
{
    csm_context *ctx = d->ctx;
    const size_t n = d->n, k = d->k, budget = slot_budget(ctx);
    const int hl = labels != NULL, ht = targets != NULL;
    /* chunk boundaries: rows while the slot holds them */
    size_t nchunks = 0;
    for (size_t a = 0; a < n; nchunks++) {
        size_t b = a;
        while (b < n && csr_bytes(d, b + 1 - a, (uint64_t)(row_ptr[b + 1] - row_ptr[a]), hl, ht) <= budget)
            b++;
        if (b == a) {
            /* a chunk is at least one row: the cap gives way, and says so */
            csm_log(ctx, CSM_LOG_WARN,
                    "row %zu needs %zu bytes of staging on the device, over a slot's %zu "
                    "(max_alloc / 2): a chunk of its own",
                    a, csr_bytes(d, 1, (uint64_t)(row_ptr[a + 1] - row_ptr[a]), hl, ht), budget);
            b = a + 1;
        }
        a = b;
    }
    csm_stream *s = stream_new(nchunks);
    if (!s)
        return csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
    d->stream = s;
    const size_t nnz = (size_t)d->nnz;
    s->nnz0 = calloc(nchunks + 1, sizeof *s->nnz0);
    s->row_ptr = malloc((n + nchunks) * sizeof *s->row_ptr);
    s->col_idx = malloc((nnz ? nnz : 1) * sizeof *s->col_idx);
    s->values = copy_reals(vals, nnz, d->precision);
    s->col_ptr = malloc(nchunks * (k + 1) * sizeof *s->col_ptr);
    s->row_idx = malloc((nnz ? nnz : 1) * sizeof *s->row_idx);
    double *cval = malloc((nnz ? nnz : 1) * sizeof *cval);
    int64_t *next = malloc(k * sizeof *next);
    csm_status st = s->nnz0 && s->row_ptr && s->col_idx && s->values && s->col_ptr &&
                            s->row_idx && cval && next
                        ? CSM_OK
                        : csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
    size_t a = 0;
    for (size_t c = 0; st == CSM_OK && c < nchunks; c++) {
        size_t b = a;
        while (b < n && csr_bytes(d, b + 1 - a, (uint64_t)(row_ptr[b + 1] - row_ptr[a]), hl, ht) <= budget)
            b++;
        if (b == a)
            b = a + 1;
        s->row0[c] = a;
        s->row0[c + 1] = b;
        s->nnz0[c] = (uint64_t)row_ptr[a];
        s->nnz0[c + 1] = (uint64_t)row_ptr[b];
        for (size_t i = a; i <= b; i++)
            s->row_ptr[a + c + (i - a)] = row_ptr[i] - row_ptr[a];
        csm_build_csc(b - a, k, row_ptr + a, cols, vals, s->col_ptr + c * (k + 1),
                      s->row_idx + row_ptr[a], cval + row_ptr[a], next);
        if (b - a > s->max_rows)
            s->max_rows = b - a;
        const size_t cn = (size_t)(row_ptr[b] - row_ptr[a]);
        if (cn > s->max_nnz)
            s->max_nnz = cn;
        const size_t bytes = csr_bytes(d, b - a, cn, hl, ht);
        if (bytes > s->slot_bytes)
            s->slot_bytes = bytes;
        a = b;
    }
    if (st == CSM_OK) {
        memcpy(s->col_idx, cols, nnz * sizeof *cols);
        if (!(s->cvalues = copy_reals(cval, nnz, d->precision)))
            st = csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
    }
    free(cval);
    free(next);
    if (st == CSM_OK) st = copy_targets(d, s, labels, targets);
    if (st == CSM_OK) st = make_slots(d);
    if (st == CSM_OK)
        log_stream(d, why);
    return st;
}

void csm_stream_free(csm_dataset *d)
{
    csm_stream *s = d->stream;
    if (!s)
        return;
    /* writes may still read the host copy */
    if (d->ctx->xfer)
        clFinish(d->ctx->xfer);
    clFinish(d->ctx->queue);
    for (int i = 0; i < 2; i++) {
        if (s->ready[i])
            clReleaseEvent(s->ready[i]);
        csm_dataset_release(s->slot[i]);
    }
    free(s->row0);
    free(s->x);
    free(s->labels);
    free(s->targets);
    free(s->weights);
    free(s->row_ptr);
    free(s->col_idx);
    free(s->values);
    free(s->col_ptr);
    free(s->row_idx);
    free(s->cvalues);
    free(s->nnz0);
    free(s);
    d->stream = NULL;
}

csm_status csm_stream_set_weights(csm_dataset *d, const double *weights)
{
    csm_stream *s = d->stream;
    csm_context *ctx = d->ctx;
    /* the slots' contents change: nothing may still read them */
    if (ctx->xfer)
        clFinish(ctx->xfer);
    clFinish(ctx->queue);
    s->held[0] = s->held[1] = -1;
    if (!weights) {
        free(s->weights);
        s->weights = NULL;
        for (int i = 0; i < 2; i++)
            csm_buffer_release(&s->slot[i]->weights);
        return CSM_OK;
    }
    void *w = copy_reals(weights, d->n, d->precision);
    if (!w)
        return csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
    csm_status st = CSM_OK;
    for (int i = 0; i < 2 && st == CSM_OK; i++)
        if (!s->slot[i]->weights)
            st = csm_buffer_create(ctx, &s->slot[i]->weights,
                                   s->max_rows * csm_real_size(d->precision), "chunk weights");
    if (st != CSM_OK) {
        free(w);
        return st;
    }
    free(s->weights);
    s->weights = w;
    return CSM_OK;
}

/* ------------------------------------------------------------ transfers */

static csm_status ensure_xfer(csm_context *ctx)
{
    if (ctx->xfer)
        return CSM_OK;
    cl_int rc;
    ctx->xfer = clCreateCommandQueue(ctx->cl, ctx->device, 0, &rc);
    if (rc != CL_SUCCESS) {
        ctx->xfer = NULL;
        return csm_cl_fail(ctx, rc, "clCreateCommandQueue (transfers)");
    }
    return CSM_OK;
}

static cl_int put(csm_context *ctx, cl_mem buf, const void *src, size_t bytes, cl_event *wait)
{
    if (bytes == 0)
        return CL_SUCCESS;
    return clEnqueueWriteBuffer(ctx->xfer, buf, CL_FALSE, 0, bytes, src, wait ? 1 : 0, wait,
                                NULL);
}

/* Writes chunk c into slot i on the transfer queue, after every kernel
 * enqueued so far (those that read the slot's previous chunk); returns
 * without waiting. */
static csm_status upload_chunk(const csm_dataset *d, size_t c, int i)
{
    csm_stream *s = d->stream;
    csm_context *ctx = d->ctx;
    if (s->held[i] == (long)c)
        return CSM_OK; /* still there from the last pass */
    csm_dataset *sl = s->slot[i];
    s->held[i] = -1;
    cl_event busy = NULL;
    cl_int rc = clEnqueueMarkerWithWaitList(ctx->queue, 0, NULL, &busy);
    if (rc == CL_SUCCESS)
        rc = clFlush(ctx->queue);
    const size_t a = s->row0[c], rows = s->row0[c + 1] - a, es = csm_real_size(d->precision);
    const size_t k = d->k;
    if (rc == CL_SUCCESS && d->sparse) {
        const size_t p = (size_t)s->nnz0[c], cn = (size_t)(s->nnz0[c + 1] - s->nnz0[c]);
        rc = put(ctx, sl->row_ptr, s->row_ptr + a + c, (rows + 1) * 8, &busy);
        if (rc == CL_SUCCESS) rc = put(ctx, sl->col_idx, s->col_idx + p, cn * 4, &busy);
        if (rc == CL_SUCCESS) rc = put(ctx, sl->values, (char *)s->values + p * es, cn * es, &busy);
        if (rc == CL_SUCCESS) rc = put(ctx, sl->col_ptr, s->col_ptr + c * (k + 1), (k + 1) * 8, &busy);
        if (rc == CL_SUCCESS) rc = put(ctx, sl->row_idx, s->row_idx + p, cn * 4, &busy);
        if (rc == CL_SUCCESS) rc = put(ctx, sl->cvalues, (char *)s->cvalues + p * es, cn * es, &busy);
        sl->nnz = cn;
    } else if (rc == CL_SUCCESS) {
        const size_t xes = s->u8 ? 1 : es;
        rc = put(ctx, s->u8 ? sl->x_u8 : sl->x, (char *)s->x + a * k * xes, rows * k * xes, &busy);
    }
    if (rc == CL_SUCCESS && s->labels)
        rc = put(ctx, sl->labels, s->labels + a, rows * sizeof(cl_int), &busy);
    if (rc == CL_SUCCESS && s->targets)
        rc = put(ctx, sl->targets, (char *)s->targets + a * d->C * es, rows * d->C * es, &busy);
    if (rc == CL_SUCCESS && s->weights)
        rc = put(ctx, sl->weights, (char *)s->weights + a * es, rows * es, &busy);
    if (rc == CL_SUCCESS) {
        if (s->ready[i])
            clReleaseEvent(s->ready[i]);
        s->ready[i] = NULL;
        rc = clEnqueueMarkerWithWaitList(ctx->xfer, 0, NULL, &s->ready[i]);
    }
    if (rc == CL_SUCCESS)
        rc = clFlush(ctx->xfer);
    if (busy)
        clReleaseEvent(busy);
    if (rc != CL_SUCCESS)
        return csm_cl_fail(ctx, rc, "streaming a chunk to the device");
    sl->n = rows;
    s->held[i] = (long)c;
    s->uploads++;
    return CSM_OK;
}

/* Slot i's chunk as real-typed rows (the CLBlast path reads no bytes). */
static csm_status widen_slot(const csm_dataset *d, int i)
{
    csm_dataset *sl = d->stream->slot[i];
    if (!sl->x_u8)
        return CSM_OK;
    csm_status st = CSM_OK;
    if (!sl->x)
        st = csm_buffer_create(d->ctx, &sl->x,
                               d->stream->max_rows * d->k * csm_real_size(d->precision),
                               "chunk features");
    if (st == CSM_OK)
        st = csm_widen_u8(d->ctx, sl->x, sl->x_u8, sl->n * d->k, d->precision);
    return st;
}

csm_status csm_stream_prime(const csm_dataset *d, const csm_dataset **first)
{
    *first = d;
    if (!d->stream)
        return CSM_OK;
    csm_status st = ensure_xfer(d->ctx);
    if (st == CSM_OK)
        st = upload_chunk(d, 0, 0);
    if (st == CSM_OK) {
        cl_int rc = clWaitForEvents(1, &d->stream->ready[0]);
        if (rc != CL_SUCCESS)
            st = csm_cl_fail(d->ctx, rc, "waiting for a chunk's transfer");
    }
    if (st == CSM_OK)
        *first = d->stream->slot[0];
    return st;
}

csm_status csm_stream_each(const csm_dataset *d, const int32_t *order, csm_chunk_fn fn,
                           void *user, int real_x)
{
    if (!d->stream)
        return fn(user, d, 0);
    csm_stream *s = d->stream;
    csm_context *ctx = d->ctx;
    const size_t N = s->nchunks;
#define CHUNK(p) (order ? (size_t)order[p] : (p))
    csm_status st = ensure_xfer(ctx);
    if (st == CSM_OK)
        st = upload_chunk(d, CHUNK(0), 0);
    size_t pos = 0;
    for (size_t p = 0; st == CSM_OK && p < N; p++) {
        const int i = (int)(p % 2);
        /* the next chunk's writes overlap this chunk's kernels */
        if (p + 1 < N)
            st = upload_chunk(d, CHUNK(p + 1), 1 - i);
        cl_int rc = st == CSM_OK ? clEnqueueBarrierWithWaitList(ctx->queue, 1, &s->ready[i], NULL)
                                 : CL_SUCCESS;
        if (rc != CL_SUCCESS)
            st = csm_cl_fail(ctx, rc, "clEnqueueBarrierWithWaitList (chunk)");
        if (st == CSM_OK && real_x)
            st = widen_slot(d, i);
        if (st == CSM_OK)
            st = fn(user, s->slot[i], pos);
        if (st == CSM_OK && (rc = clFlush(ctx->queue)) != CL_SUCCESS)
            st = csm_cl_fail(ctx, rc, "clFlush");
        pos += s->slot[i]->n;
    }
#undef CHUNK
    return st;
}

/* ------------------------------------------------------------ queries */

size_t csm_dataset_chunks(const csm_dataset *d) { return d && d->stream ? d->stream->nchunks : 0; }

size_t csm_stream_uploads(const csm_dataset *d) { return d && d->stream ? d->stream->uploads : 0; }

int csm_stream_has_weights(const csm_dataset *d) { return d->stream && d->stream->weights; }

size_t csm_stream_row0(const csm_dataset *d, size_t c)
{
    if (!d->stream)
        return c ? d->n : 0;
    return d->stream->row0[c < d->stream->nchunks ? c : d->stream->nchunks];
}

size_t csm_stream_max_rows(const csm_dataset *d)
{
    return d->stream ? d->stream->max_rows : d->n;
}

size_t csm_stream_batches(const csm_dataset *d, size_t B)
{
    if (!d->stream)
        return (d->n + B - 1) / B;
    size_t total = 0;
    for (size_t c = 0; c < d->stream->nchunks; c++)
        total += (d->stream->row0[c + 1] - d->stream->row0[c] + B - 1) / B;
    return total;
}

void csm_stream_epoch_order(const csm_dataset *d, uint64_t seed, uint64_t epoch, int32_t *order,
                            int32_t *perm)
{
    const csm_stream *s = d->stream;
    csm_rng rng;
    csm_rng_seed_stream(&rng, seed, epoch);
    for (size_t c = 0; c < s->nchunks; c++)
        order[c] = (int32_t)c;
    csm_rng_shuffle(&rng, order, s->nchunks);
    size_t pos = 0;
    for (size_t p = 0; p < s->nchunks; p++) {
        const size_t c = (size_t)order[p], rows = s->row0[c + 1] - s->row0[c];
        for (size_t r = 0; r < rows; r++)
            perm[pos + r] = (int32_t)r;
        csm_rng_shuffle(&rng, perm + pos, rows);
        pos += rows;
    }
}
