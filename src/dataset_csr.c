/* Sparse (CSR) datasets. The device gets the rows as given (columns
 * sorted within each row) for the logits S = X W^T, and a CSC copy built
 * once here for the gradient dW = D^T X: each weight's sum then runs down
 * one column in row order, deterministic and free of float atomics. Host
 * memory stays O(nnz + n + k); nothing of size n k exists anywhere. */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct csr_entry {
    int32_t col;
    double val;
} csr_entry;

static int by_column(const void *a, const void *b)
{
    const csr_entry *x = a, *y = b;
    return (x->col > y->col) - (x->col < y->col);
}

static csm_status check_structure(csm_context *ctx, size_t n, size_t k, const int64_t *row_ptr,
                                  const int32_t *col_idx, const double *values)
{
    const char *fn = "csm_dataset_create_csr";
    if (row_ptr[0] != 0)
        return csm_fail(ctx, CSM_ERR_INVALID_VALUE, "%s: row_ptr[0] is %lld, must be 0", fn,
                        (long long)row_ptr[0]);
    for (size_t i = 0; i < n; i++)
        if (row_ptr[i + 1] < row_ptr[i])
            return csm_fail(ctx, CSM_ERR_INVALID_VALUE,
                            "%s: row_ptr decreases at row %zu (%lld after %lld)", fn, i,
                            (long long)row_ptr[i + 1], (long long)row_ptr[i]);
    const uint64_t nnz = (uint64_t)row_ptr[n];
    if (nnz > 0 && (!col_idx || !values))
        return csm_fail(ctx, CSM_ERR_NULL_ARGUMENT, "%s: %llu non-zeros but col_idx or values is NULL",
                        fn, (unsigned long long)nnz);
    if (nnz > SIZE_MAX / sizeof(csr_entry) || nnz > (uint64_t)LLONG_MAX / 2)
        return csm_fail(ctx, CSM_ERR_INVALID_SIZE, "%s: %llu non-zeros is larger than supported",
                        fn, (unsigned long long)nnz);
    for (size_t i = 0; i < n; i++)
        for (int64_t p = row_ptr[i]; p < row_ptr[i + 1]; p++) {
            if (col_idx[p] < 0 || (size_t)col_idx[p] >= k)
                return csm_fail(ctx, CSM_ERR_INVALID_VALUE,
                                "%s: row %zu has column %d, outside [0, %zu)", fn, i,
                                (int)col_idx[p], k);
            if (!isfinite(values[p]))
                return csm_fail(ctx, CSM_ERR_NONFINITE, "%s: row %zu, column %d is %g", fn, i,
                                (int)col_idx[p], values[p]);
        }
    return CSM_OK;
}

/* Whether every row's columns ascend already (a libsvm file's must). */
static int rows_sorted(size_t n, const int64_t *row_ptr, const int32_t *col_idx)
{
    for (size_t i = 0; i < n; i++)
        for (int64_t p = row_ptr[i] + 1; p < row_ptr[i + 1]; p++)
            if (col_idx[p] <= col_idx[p - 1])
                return 0;
    return 1;
}

/* The rows with columns ascending, into idx and val (input order kept
 * where it already is); a column twice in a row is an error. A row at a
 * time is sorted in pairs, so the host holds no paired copy of the whole
 * data. */
static csm_status sorted_rows(csm_context *ctx, size_t n, const int64_t *row_ptr,
                              const int32_t *col_idx, const double *values, int32_t *idx,
                              double *val)
{
    csr_entry *row = NULL;
    size_t cap = 0;
    csm_status st = CSM_OK;
    for (size_t i = 0; i < n && st == CSM_OK; i++) {
        const int64_t lo = row_ptr[i], hi = row_ptr[i + 1];
        const size_t len = (size_t)(hi - lo);
        int sorted = 1;
        for (int64_t p = lo + 1; p < hi && sorted; p++)
            sorted = col_idx[p] > col_idx[p - 1];
        if (sorted) {
            memcpy(idx + lo, col_idx + lo, len * sizeof *idx);
            memcpy(val + lo, values + lo, len * sizeof *val);
            continue;
        }
        if (len > cap) {
            free(row);
            cap = len;
            if (!(row = malloc(cap * sizeof *row))) {
                st = csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
                break;
            }
        }
        for (size_t q = 0; q < len; q++)
            row[q] = (csr_entry){col_idx[lo + q], values[lo + q]};
        qsort(row, len, sizeof *row, by_column);
        for (size_t q = 0; q < len && st == CSM_OK; q++) {
            if (q > 0 && row[q].col == row[q - 1].col)
                st = csm_fail(ctx, CSM_ERR_INVALID_VALUE,
                              "csm_dataset_create_csr: row %zu has column %d twice", i,
                              (int)row[q].col);
            idx[lo + q] = row[q].col;
            val[lo + q] = row[q].val;
        }
    }
    free(row);
    return st;
}

static csm_status upload_bytes(csm_context *ctx, cl_mem *buf, const void *src, size_t bytes,
                               const char *what)
{
    csm_status st = csm_buffer_create(ctx, buf, bytes, what);
    if (st != CSM_OK || bytes == 0)
        return st;
    cl_int rc = clEnqueueWriteBuffer(ctx->queue, *buf, CL_TRUE, 0, bytes, src, 0, NULL, NULL);
    return rc == CL_SUCCESS ? CSM_OK : csm_cl_fail(ctx, rc, "clEnqueueWriteBuffer (sparse data)");
}

/* Uploads the CSR arrays (columns ascending in each row), then builds and
 * uploads the CSC copy: the host holds the CSC arrays besides the
 * caller's, nothing else of size nnz (set b of BENCHMARKS.md: 136 MB). */
static csm_status upload_sparse(csm_dataset *d, const int64_t *row_ptr, const int32_t *idx_csr,
                                const double *val_csr)
{
    csm_context *ctx = d->ctx;
    const size_t n = d->n, k = d->k, nnz = (size_t)d->nnz;
    // CSR: (n + 1) row pointers, (nnz) columns and values
    csm_status st =
        upload_bytes(ctx, &d->row_ptr, row_ptr, (n + 1) * sizeof *row_ptr, "row pointers");
    if (st == CSM_OK)
        st = upload_bytes(ctx, &d->col_idx, idx_csr, nnz * sizeof *idx_csr, "column indices");
    if (st == CSM_OK)
        st = csm_buffer_create(ctx, &d->values, nnz * csm_real_size(d->precision), "values");
    if (st == CSM_OK && nnz)
        st = csm_upload(ctx, d->values, d->precision, 0, val_csr, nnz);
    if (st != CSM_OK)
        return st;
    // CSC: count per column, prefix sums, then rows in ascending order
    int32_t *idx = malloc((nnz ? nnz : 1) * sizeof *idx);
    double *val = malloc((nnz ? nnz : 1) * sizeof *val);
    int64_t *col_ptr = calloc(k + 1, sizeof *col_ptr);
    int64_t *next = malloc((k ? k : 1) * sizeof *next);
    if (idx && val && col_ptr && next)
        csm_build_csc(n, k, row_ptr, idx_csr, val_csr, col_ptr, idx, val, next);
    else
        st = csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
    free(next);
    if (st == CSM_OK)
        st = upload_bytes(ctx, &d->col_ptr, col_ptr, (k + 1) * sizeof *col_ptr, "column pointers");
    free(col_ptr);
    if (st == CSM_OK)
        st = upload_bytes(ctx, &d->row_idx, idx, nnz * sizeof *idx, "row indices");
    free(idx);
    if (st == CSM_OK)
        st = csm_buffer_create(ctx, &d->cvalues, nnz * csm_real_size(d->precision), "CSC values");
    if (st == CSM_OK && nnz)
        st = csm_upload(ctx, d->cvalues, d->precision, 0, val, nnz);
    free(val);
    return st;
}

csm_status csm_dataset_create_csr(csm_context *ctx, csm_dataset **out, csm_precision precision,
                                  size_t n, size_t k, const int64_t *row_ptr,
                                  const int32_t *col_idx, const double *values,
                                  const int32_t *labels, const double *targets, size_t n_classes)
{
    const char *fn = "csm_dataset_create_csr";
    if (!ctx)
        return CSM_ERR_NULL_ARGUMENT;
    if (!out)
        return csm_fail(ctx, CSM_ERR_NULL_ARGUMENT, "%s: out is NULL", fn);
    *out = NULL;
    if (!row_ptr)
        return csm_fail(ctx, CSM_ERR_NULL_ARGUMENT, "%s: row_ptr is NULL", fn);
    if (precision != CSM_FLOAT32 && precision != CSM_FLOAT64)
        return csm_fail(ctx, CSM_ERR_INVALID_VALUE, "%s: unknown precision %d", fn,
                        (int)precision);
    if (n == 0 || k == 0)
        return csm_fail(ctx, CSM_ERR_INVALID_SIZE, "%s: %zu samples of %zu features: both must be >= 1",
                        fn, n, k);
    /* kernels index rows and features with int */
    if (n > INT_MAX - 1 || k > INT_MAX - 1)
        return csm_fail(ctx, CSM_ERR_INVALID_SIZE, "%s: %zu x %zu is larger than supported", fn,
                        n, k);
    csm_status st = check_structure(ctx, n, k, row_ptr, col_idx, values);
    if (st == CSM_OK)
        st = csm_dataset_check_common(ctx, fn, precision, n, labels, targets, n_classes);
    if (st != CSM_OK)
        return st;
    const size_t nnz = (size_t)row_ptr[n];
    /* rows out of column order: a sorted copy (else the caller's arrays
     * are read as they are) */
    int32_t *sidx = NULL;
    double *sval = NULL;
    const int copy = !rows_sorted(n, row_ptr, col_idx);
    if (copy) {
        sidx = malloc((nnz ? nnz : 1) * sizeof *sidx);
        sval = malloc((nnz ? nnz : 1) * sizeof *sval);
    }
    csm_dataset *d = csm_dataset_alloc(ctx, precision, n, k, n_classes);
    if ((copy && (!sidx || !sval)) || !d) {
        free(sidx);
        free(sval);
        free(d);
        return csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
    }
    d->sparse = 1;
    d->nnz = nnz;
    if (copy)
        st = sorted_rows(ctx, n, row_ptr, col_idx, values, sidx, sval);
    const int32_t *cols = copy ? sidx : col_idx;
    const double *vals = copy ? sval : values;
    /* more than the device takes (or max_alloc allows): the host keeps it */
    const size_t es = csm_real_size(precision);
    const size_t nzb = nnz * (sizeof(int32_t) + es);
    const size_t total = (n + 1 + k + 1) * sizeof(int64_t) + 2 * nzb +
                         (labels ? n * sizeof(cl_int) : 0) + (targets ? n * n_classes * es : 0);
    char why[200];
    const int stream = csm_stream_wanted(ctx, total, nzb > (n + 1) * 8 ? nzb : (n + 1) * 8, why,
                                         sizeof why);
    if (st == CSM_OK && stream)
        st = csm_stream_init_csr(d, row_ptr, cols, vals, labels, targets, why);
    else if (st == CSM_OK)
        st = upload_sparse(d, row_ptr, cols, vals);
    free(sidx);
    free(sval);
    if (st == CSM_OK && !stream)
        st = csm_dataset_upload_targets(d, labels, targets);
    if (st != CSM_OK) {
        csm_dataset_free(d);
        return st;
    }
    *out = d;
    return CSM_OK;
}

int csm_dataset_is_sparse(const csm_dataset *d) { return d && d->sparse; }

uint64_t csm_dataset_nnz(const csm_dataset *d)
{
    if (!d)
        return 0;
    return d->sparse ? d->nnz : (uint64_t)d->n * d->k;
}
