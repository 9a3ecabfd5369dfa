/* The table the readers return, in either storage: freeing, reading one
 * value, the auto storage rule, conversion between dense and CSR, and row
 * subsets (the training / validation split: labels and sample weights
 * follow their rows, the names of the columns are copied). */
#include "read_internal.h"

#include <stdlib.h>
#include <string.h>

void csm_table_free(csm_table *t)
{
    if (!t)
        return;
    free(t->features);
    free(t->labels);
    free(t->row_ptr);
    free(t->col_idx);
    free(t->values);
    for (size_t i = 0; i < t->n_label_names; i++)
        free(t->label_names[i]);
    free(t->label_names);
    if (t->feature_names)
        for (size_t j = 0; j < t->k; j++)
            free(t->feature_names[j]);
    free(t->feature_names);
    free(t->label_name);
    free(t->weights);
    memset(t, 0, sizeof *t);
}

static double dense_value(const void *x, csm_dtype dtype, size_t at)
{
    switch (dtype) {
    case CSM_DTYPE_F64:
        return ((const double *)x)[at];
    case CSM_DTYPE_F32:
        return (double)((const float *)x)[at];
    case CSM_DTYPE_U8:
        /* the library's meaning of a u8 feature (clsoftmax.h) */
        return (double)((const unsigned char *)x)[at] / 255.0;
    }
    return 0.0;
}

/* Row i's columns are increasing, so a lookup is a binary search. */
static double sparse_value(const csm_table *t, size_t i, size_t j)
{
    int64_t lo = t->row_ptr[i], hi = t->row_ptr[i + 1];
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if ((size_t)t->col_idx[mid] < j)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < t->row_ptr[i + 1] && (size_t)t->col_idx[lo] == j ? t->values[lo] : 0.0;
}

double csm_table_value(const csm_table *t, size_t i, size_t j)
{
    if (t->sparse)
        return sparse_value(t, i, j);
    return dense_value(t->features, t->dtype, i * t->k + j);
}

int csm_auto_sparse(size_t n, size_t k, uint64_t nnz)
{
    /* in double: n k may pass 2^64 for absurd feature counts */
    return (double)nnz < CSM_SPARSE_AUTO_DENSITY * (double)n * (double)k;
}

uint64_t csm_count_nonzeros(const void *x, csm_dtype dtype, size_t count)
{
    uint64_t nz = 0;
    for (size_t at = 0; at < count; at++)
        nz += dense_value(x, dtype, at) != 0.0;
    return nz;
}

/* CSR -> dense double (n, k). */
static int densify(csm_table *t, const char *path, char *err, size_t err_len)
{
    size_t n = t->n, k = t->k;
    if (k > 0 && n > SIZE_MAX / sizeof(double) / k)
        return csm_fail_file(err, err_len, path,
                             "a table of %zu x %zu values does not fit in memory", n, k);
    double *x = calloc(n * k > 0 ? n * k : 1, sizeof *x);
    if (!x)
        return csm_fail_file(err, err_len, path,
                             "out of memory for a table of %zu x %zu doubles (%.1f GiB)", n, k,
                             (double)n * (double)k * 8.0 / 1073741824.0);
    for (size_t i = 0; i < n; i++)
        for (int64_t at = t->row_ptr[i]; at < t->row_ptr[i + 1]; at++)
            x[i * k + (size_t)t->col_idx[at]] = t->values[at];
    /* explicit zeros of the file are not non-zeros any more */
    t->nnz = csm_count_nonzeros(x, CSM_DTYPE_F64, n * k);
    free(t->row_ptr);
    free(t->col_idx);
    free(t->values);
    t->row_ptr = NULL;
    t->col_idx = NULL;
    t->values = NULL;
    t->features = x;
    t->dtype = CSM_DTYPE_F64;
    t->sparse = 0;
    return 0;
}

/* Dense (any dtype) -> CSR of its non-zero values; t->nnz is their count. */
static int sparsify(csm_table *t, const char *path, char *err, size_t err_len)
{
    size_t n = t->n, k = t->k;
    if (k > (size_t)INT32_MAX)
        return csm_fail_file(err, err_len, path,
                             "%zu features are too many for sparse storage (at most %d)", k,
                             INT32_MAX);
    int64_t *rp = malloc((n + 1) * sizeof *rp);
    int32_t *ci = malloc((t->nnz > 0 ? t->nnz : 1) * sizeof *ci);
    double *v = malloc((t->nnz > 0 ? t->nnz : 1) * sizeof *v);
    if (!rp || !ci || !v) {
        free(rp);
        free(ci);
        free(v);
        return csm_fail_file(err, err_len, path, "out of memory for %llu non-zeros",
                             (unsigned long long)t->nnz);
    }
    int64_t at = 0;
    rp[0] = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < k; j++) {
            double x = dense_value(t->features, t->dtype, i * k + j);
            if (x != 0.0) {
                ci[at] = (int32_t)j;
                v[at++] = x;
            }
        }
        rp[i + 1] = at;
    }
    free(t->features);
    t->features = NULL;
    t->row_ptr = rp;
    t->col_idx = ci;
    t->values = v;
    t->dtype = CSM_DTYPE_F64;
    t->sparse = 1;
    return 0;
}

int csm_table_convert(csm_table *t, csm_storage storage, const char *path, char *err,
                      size_t err_len)
{
    if (storage == CSM_STORAGE_DENSE && t->sparse)
        return densify(t, path, err, err_len);
    if (storage == CSM_STORAGE_SPARSE && !t->sparse)
        return sparsify(t, path, err, err_len);
    return 0;
}

static int take_dense(const csm_table *src, const size_t *rows, size_t n, csm_table *out)
{
    size_t size = src->dtype == CSM_DTYPE_U8    ? 1
                  : src->dtype == CSM_DTYPE_F32 ? sizeof(float)
                                                : sizeof(double);
    size_t row_bytes = src->k * size;
    unsigned char *x = malloc(n * row_bytes > 0 ? n * row_bytes : 1);
    if (!x)
        return -1;
    for (size_t i = 0; i < n; i++)
        memcpy(x + i * row_bytes, (const unsigned char *)src->features + rows[i] * row_bytes,
               row_bytes);
    out->features = x;
    out->nnz = csm_count_nonzeros(x, src->dtype, n * src->k);
    return 0;
}

static int take_sparse(const csm_table *src, const size_t *rows, size_t n, csm_table *out)
{
    uint64_t nnz = 0;
    for (size_t i = 0; i < n; i++)
        nnz += (uint64_t)(src->row_ptr[rows[i] + 1] - src->row_ptr[rows[i]]);
    out->row_ptr = malloc((n + 1) * sizeof *out->row_ptr);
    out->col_idx = malloc((nnz > 0 ? nnz : 1) * sizeof *out->col_idx);
    out->values = malloc((nnz > 0 ? nnz : 1) * sizeof *out->values);
    if (!out->row_ptr || !out->col_idx || !out->values)
        return -1;
    int64_t at = 0;
    out->row_ptr[0] = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t b = src->row_ptr[rows[i]], e = src->row_ptr[rows[i] + 1];
        memcpy(out->col_idx + at, src->col_idx + b, (size_t)(e - b) * sizeof *out->col_idx);
        memcpy(out->values + at, src->values + b, (size_t)(e - b) * sizeof *out->values);
        at += e - b;
        out->row_ptr[i + 1] = at;
    }
    out->nnz = nnz;
    out->sparse = 1;
    return 0;
}

int csm_table_take_rows(const csm_table *src, const size_t *rows, size_t n, csm_table *out)
{
    memset(out, 0, sizeof *out);
    out->n = n;
    out->k = src->k;
    out->dtype = src->dtype;
    out->labels = malloc((n > 0 ? n : 1) * sizeof *out->labels);
    if (src->weights)
        out->weights = malloc((n > 0 ? n : 1) * sizeof *out->weights);
    int rc = out->labels && (!src->weights || out->weights) ? 0 : -1;
    if (rc == 0)
        rc = src->sparse ? take_sparse(src, rows, n, out) : take_dense(src, rows, n, out);
    if (rc < 0) {
        csm_table_free(out);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        out->labels[i] = src->labels[rows[i]];
    if (src->weights)
        for (size_t i = 0; i < n; i++)
            out->weights[i] = src->weights[rows[i]];
    /* the same columns: the same names */
    if (src->label_name && !(out->label_name = strdup(src->label_name)))
        rc = -1;
    if (src->feature_names && !(out->feature_names = calloc(src->k, sizeof *out->feature_names)))
        rc = -1;
    for (size_t j = 0; rc == 0 && src->feature_names && j < src->k; j++)
        if (!(out->feature_names[j] = strdup(src->feature_names[j])))
            rc = -1;
    if (rc < 0) {
        csm_table_free(out);
        return -1;
    }
    out->header = src->header;
    out->format = src->format;
    out->delimiter = src->delimiter;
    return 0;
}
