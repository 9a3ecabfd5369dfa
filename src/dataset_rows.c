/* What a dataset's rows on the device are made of, below streaming: the
 * header and its device buffers, the targets uploaded, features converted
 * to the device precision (8-bit rows widened on the device) and the CSC
 * copy of CSR rows; resident datasets and streaming's staging slots alike
 * are built from these. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "launch.h"

static double feature_value(const void *x, csm_dtype dtype, size_t i)
{
    switch (dtype) {
    case CSM_DTYPE_F32: return (double)((const float *)x)[i];
    case CSM_DTYPE_F64: return ((const double *)x)[i];
    case CSM_DTYPE_U8: return ((const unsigned char *)x)[i] / 255.0;
    }
    return NAN;
}

csm_status csm_convert_features(csm_context *ctx, void *dst, csm_precision prec, const void *x,
                                csm_dtype dtype, size_t start, size_t len, size_t k)
{
    for (size_t i = 0; i < len; i++) {
        double v = feature_value(x, dtype, start + i);
        if (!isfinite(v)) {
            size_t at = start + i;
            return csm_fail(ctx, CSM_ERR_NONFINITE,
                            "feature %zu of sample %zu is %g: features must be finite", at % k,
                            at / k, v);
        }
        if (prec == CSM_FLOAT32)
            ((float *)dst)[i] = (float)v;
        else
            ((double *)dst)[i] = v;
    }
    return CSM_OK;
}

csm_dataset *csm_dataset_alloc(csm_context *ctx, csm_precision precision, size_t n, size_t k,
                               size_t n_classes)
{
    csm_dataset *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->ctx = ctx;
    d->precision = precision;
    d->n = n;
    d->k = k;
    d->C = n_classes;
    d->weight_sum = (double)n; /* uniform weights until csm_dataset_set_weights */
    return d;
}

/* Uploads the labels or soft targets of a new dataset (d->n, d->C set). */
csm_status csm_dataset_upload_targets(csm_dataset *d, const int32_t *labels, const double *targets)
{
    csm_context *ctx = d->ctx;
    csm_status st = CSM_OK;
    if (labels) {
        st = csm_buffer_create(ctx, &d->labels, d->n * sizeof(cl_int), "labels");
        if (st == CSM_OK) {
            cl_int rc = clEnqueueWriteBuffer(ctx->queue, d->labels, CL_TRUE, 0,
                                             d->n * sizeof(cl_int), labels, 0, NULL, NULL);
            if (rc != CL_SUCCESS)
                st = csm_cl_fail(ctx, rc, "clEnqueueWriteBuffer (labels)");
        }
    }
    if (st == CSM_OK && targets) {
        st = csm_buffer_create(ctx, &d->targets, d->n * d->C * csm_real_size(d->precision),
                               "targets");
        if (st == CSM_OK)
            st = csm_upload(ctx, d->targets, d->precision, 0, targets, d->n * d->C);
    }
    return st;
}

void csm_dataset_release(csm_dataset *d)
{
    if (!d)
        return;
    csm_buffer_release(&d->x);
    csm_buffer_release(&d->x_u8);
    csm_buffer_release(&d->labels);
    csm_buffer_release(&d->targets);
    csm_buffer_release(&d->weights);
    csm_buffer_release(&d->row_ptr);
    csm_buffer_release(&d->col_idx);
    csm_buffer_release(&d->values);
    csm_buffer_release(&d->col_ptr);
    csm_buffer_release(&d->row_idx);
    csm_buffer_release(&d->cvalues);
    free(d);
}

csm_status csm_dataset_real_x(const csm_dataset *cd, cl_mem *out)
{
    /* The lazily made buffer is a cache: logically the dataset is unchanged. */
    csm_dataset *d = (csm_dataset *)cd;
    if (d->x || !d->x_u8) {
        *out = d->x;
        return CSM_OK;
    }
    csm_context *ctx = d->ctx;
    cl_mem x = NULL;
    csm_status st =
        csm_buffer_create(ctx, &x, d->n * d->k * csm_real_size(d->precision), "features");
    if (st == CSM_OK)
        st = csm_widen_u8(ctx, x, d->x_u8, d->n * d->k, d->precision);
    if (st != CSM_OK) {
        csm_buffer_release(&x);
        return st;
    }
    d->x = x;
    *out = x;
    return CSM_OK;
}

csm_status csm_widen_u8(csm_context *ctx, cl_mem dst, cl_mem src, size_t count,
                        csm_precision prec)
{
    cl_kernel k;
    csm_status st = csm_get_kernel(ctx, &k, "convert.cl", "u8_to_real", prec, NULL);
    if (st != CSM_OK)
        return st;
    csm_args a = csm_args_start(ctx, k, "u8_to_real");
    csm_arg_mem(&a, dst);
    csm_arg_mem(&a, src);
    csm_arg_ulong(&a, (cl_ulong)count);
    size_t global = csm_round_up(count, 256);
    return csm_args_launch(&a, 1, &global, NULL);
}

void csm_build_csc(size_t rows, size_t k, const int64_t *row_ptr, const int32_t *cols,
                   const double *vals, int64_t *col_ptr, int32_t *ridx, double *cval,
                   int64_t *next)
{
    const int64_t base = row_ptr[0];
    memset(col_ptr, 0, (k + 1) * sizeof *col_ptr);
    for (int64_t p = base; p < row_ptr[rows]; p++)
        col_ptr[cols[p] + 1]++;
    for (size_t j = 0; j < k; j++)
        col_ptr[j + 1] += col_ptr[j];
    memcpy(next, col_ptr, k * sizeof *next);
    for (size_t i = 0; i < rows; i++)
        for (int64_t p = row_ptr[i]; p < row_ptr[i + 1]; p++) {
            int64_t q = next[cols[p]]++;
            ridx[q] = (int32_t)i;
            cval[q] = vals[p];
        }
}
