/* Dense datasets (csm_dataset_create): features and targets validated on
 * the host, then uploaded to the device once (or streamed, stream.c);
 * sample weights, the partition of distributed training, the accessors. */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Converts to the device precision in slices, so the staging copy stays
 * small however large the dataset is. */
static csm_status upload_features(csm_context *ctx, cl_mem buf, csm_precision prec,
                                  const void *x, csm_dtype dtype, size_t n, size_t k)
{
    const size_t total = n * k, slice = (size_t)1 << 20;
    const size_t es = csm_real_size(prec);
    void *stage = malloc((total < slice ? total : slice) * es);
    if (!stage)
        return csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory staging features");
    csm_status st = CSM_OK;
    for (size_t start = 0; start < total && st == CSM_OK; start += slice) {
        size_t len = total - start < slice ? total - start : slice;
        st = csm_convert_features(ctx, stage, prec, x, dtype, start, len, k);
        if (st != CSM_OK)
            break;
        cl_int rc = clEnqueueWriteBuffer(ctx->queue, buf, CL_TRUE, start * es, len * es, stage, 0,
                                         NULL, NULL);
        if (rc != CL_SUCCESS)
            st = csm_cl_fail(ctx, rc, "clEnqueueWriteBuffer (features)");
    }
    free(stage);
    return st;
}

static csm_status check_targets(csm_context *ctx, const double *t, size_t n, size_t C)
{
    for (size_t i = 0; i < n; i++) {
        double sum = 0;
        for (size_t c = 0; c < C; c++) {
            double v = t[i * C + c];
            if (!isfinite(v))
                return csm_fail(ctx, CSM_ERR_NONFINITE, "target[%zu][%zu] is %g", i, c, v);
            if (v < 0)
                return csm_fail(ctx, CSM_ERR_TARGETS,
                                "target[%zu][%zu] is %g: targets must be >= 0", i, c, v);
            sum += v;
        }
        if (fabs(sum - 1.0) > 1e-6)
            return csm_fail(ctx, CSM_ERR_TARGETS,
                            "targets of sample %zu sum to %.17g, not 1 (tolerance 1e-6)", i, sum);
    }
    return CSM_OK;
}

csm_status csm_dataset_check_common(csm_context *ctx, const char *fn, csm_precision precision,
                                    size_t n, const int32_t *labels, const double *targets,
                                    size_t n_classes)
{
    if (labels && targets)
        return csm_fail(ctx, CSM_ERR_INVALID_VALUE,
                        "%s: give labels or soft targets, not both", fn);
    if ((labels || targets) && n_classes < 2)
        return csm_fail(ctx, CSM_ERR_INVALID_SIZE,
                        "%s: n_classes is %zu, needs at least 2", fn, n_classes);
    if (!labels && !targets && n_classes != 0)
        return csm_fail(ctx, CSM_ERR_INVALID_SIZE,
                        "%s: n_classes is %zu but there are no labels or targets", fn,
                        n_classes);
    if (n_classes > INT_MAX / n)
        return csm_fail(ctx, CSM_ERR_INVALID_SIZE, "%s: n x C is too large", fn);
    if (precision == CSM_FLOAT64 && !ctx->info.has_fp64)
        return csm_fail(ctx, CSM_ERR_NO_FP64, "device %s has no cl_khr_fp64",
                        ctx->info.device_name);
    if (labels)
        for (size_t i = 0; i < n; i++)
            if (labels[i] < 0 || (size_t)labels[i] >= n_classes)
                return csm_fail(ctx, CSM_ERR_LABEL_RANGE,
                                "label of sample %zu is %d, outside [0, %zu)", i, (int)labels[i],
                                n_classes);
    if (targets) {
        csm_status st = check_targets(ctx, targets, n, n_classes);
        if (st != CSM_OK)
            return st;
    }

    return CSM_OK;
}

csm_status csm_dataset_create(csm_context *ctx, csm_dataset **out, csm_precision precision,
                              const void *features, csm_dtype dtype, size_t n, size_t k,
                              const int32_t *labels, const double *targets, size_t n_classes)
{
    if (!ctx)
        return CSM_ERR_NULL_ARGUMENT;
    if (!out)
        return csm_fail(ctx, CSM_ERR_NULL_ARGUMENT, "csm_dataset_create: out is NULL");
    *out = NULL;
    if (!features)
        return csm_fail(ctx, CSM_ERR_NULL_ARGUMENT, "csm_dataset_create: features is NULL");
    if (precision != CSM_FLOAT32 && precision != CSM_FLOAT64)
        return csm_fail(ctx, CSM_ERR_INVALID_VALUE, "csm_dataset_create: unknown precision %d",
                        (int)precision);
    if (dtype != CSM_DTYPE_F32 && dtype != CSM_DTYPE_F64 && dtype != CSM_DTYPE_U8)
        return csm_fail(ctx, CSM_ERR_INVALID_VALUE, "csm_dataset_create: unknown dtype %d",
                        (int)dtype);
    if (n == 0 || k == 0)
        return csm_fail(ctx, CSM_ERR_INVALID_SIZE,
                        "csm_dataset_create: %zu samples of %zu features: both must be >= 1", n, k);
    if (n > INT_MAX || k > INT_MAX / 2 || n > SIZE_MAX / 8 / k)
        return csm_fail(ctx, CSM_ERR_INVALID_SIZE,
                        "csm_dataset_create: %zu x %zu is larger than supported", n, k);
    csm_status st = csm_dataset_check_common(ctx, "csm_dataset_create", precision, n, labels,
                                             targets, n_classes);
    if (st != CSM_OK)
        return st;

    csm_dataset *d = csm_dataset_alloc(ctx, precision, n, k, n_classes);
    if (!d)
        return csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
    const size_t es = csm_real_size(precision);
    /* more than the device takes (or max_alloc allows): the host keeps it */
    const size_t xbytes = n * k * (dtype == CSM_DTYPE_U8 ? 1 : es);
    const size_t total = xbytes + (labels ? n * sizeof(cl_int) : 0) +
                         (targets ? n * n_classes * es : 0);
    char why[200];
    if (csm_stream_wanted(ctx, total, xbytes, why, sizeof why)) {
        st = csm_stream_init_dense(d, features, dtype, labels, targets, why);
    } else if (dtype == CSM_DTYPE_U8) {
        /* Bytes stay bytes on the device: a quarter of the memory and of
         * the traffic of float32. Paths that need real X widen on demand. */
        st = csm_buffer_create(ctx, &d->x_u8, n * k, "8-bit features");
        if (st == CSM_OK) {
            cl_int rc = clEnqueueWriteBuffer(ctx->queue, d->x_u8, CL_TRUE, 0, n * k, features, 0,
                                             NULL, NULL);
            if (rc != CL_SUCCESS)
                st = csm_cl_fail(ctx, rc, "clEnqueueWriteBuffer (8-bit features)");
        }
    } else {
        st = csm_buffer_create(ctx, &d->x, n * k * es, "features");
        if (st == CSM_OK)
            st = upload_features(ctx, d->x, precision, features, dtype, n, k);
    }
    if (st == CSM_OK && !d->stream)
        st = csm_dataset_upload_targets(d, labels, targets);
    if (st != CSM_OK) {
        csm_dataset_free(d);
        return st;
    }
    *out = d;
    return CSM_OK;
}

void csm_dataset_free(csm_dataset *d)
{
    if (!d)
        return;
    csm_stream_free(d);
    csm_dataset_release(d);
}

csm_status csm_dataset_set_weights(csm_dataset *d, const double *weights)
{
    if (!d)
        return CSM_ERR_NULL_ARGUMENT;
    if (!weights) {
        csm_buffer_release(&d->weights);
        d->weight_sum = (double)d->n;
        return d->stream ? csm_stream_set_weights(d, NULL) : CSM_OK;
    }
    double sum = 0;
    for (size_t i = 0; i < d->n; i++) {
        if (!isfinite(weights[i]))
            return csm_fail(d->ctx, CSM_ERR_NONFINITE, "sample weight %zu is %g: must be finite",
                            i, weights[i]);
        if (weights[i] < 0)
            return csm_fail(d->ctx, CSM_ERR_INVALID_VALUE,
                            "sample weight %zu is %g: must be >= 0", i, weights[i]);
        sum += weights[i];
    }
    if (!(sum > 0))
        return csm_fail(d->ctx, CSM_ERR_INVALID_VALUE,
                        "sample weights are all zero: at least one must be positive");
    csm_status st = CSM_OK;
    if (d->stream) {
        st = csm_stream_set_weights(d, weights);
        if (st == CSM_OK)
            d->weight_sum = sum;
        return st;
    }
    if (!d->weights)
        st = csm_buffer_create(d->ctx, &d->weights, d->n * csm_real_size(d->precision),
                               "sample weights");
    if (st == CSM_OK)
        st = csm_upload(d->ctx, d->weights, d->precision, 0, weights, d->n);
    if (st != CSM_OK) {
        csm_buffer_release(&d->weights);
        d->weight_sum = (double)d->n;
        return st;
    }
    d->weight_sum = sum;
    return CSM_OK;
}

int csm_dataset_has_weights(const csm_dataset *d)
{
    return d && (d->weights != NULL || csm_stream_has_weights(d));
}
double csm_dataset_weight_sum(const csm_dataset *d) { return d ? d->weight_sum : 0; }

size_t csm_dataset_n_samples(const csm_dataset *d) { return d ? d->n : 0; }
size_t csm_dataset_n_features(const csm_dataset *d) { return d ? d->k : 0; }
size_t csm_dataset_n_classes(const csm_dataset *d) { return d ? d->C : 0; }

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
