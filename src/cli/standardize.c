/* --standardize: per-feature mean and scale, applied to the training (and
 * validation) features, then folded into the saved weights so the model
 * file works on raw features. Sparse tables are scaled without centring
 * (scikit-learn's StandardScaler(with_mean=False)): subtracting a mean
 * would turn every implicit zero into a stored value. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static double value_at(const void *x, csm_dtype dtype, size_t idx)
{
    switch (dtype) {
    case CSM_DTYPE_F32:
        return ((const float *)x)[idx];
    case CSM_DTYPE_U8:
        return ((const unsigned char *)x)[idx] / 255.0;
    default:
        return ((const double *)x)[idx];
    }
}

/* The scale of a spread: constant features (and denormal spreads) are
 * left unscaled. */
static double scale_of(double sum_sq_dev, size_t n)
{
    double s = sqrt(sum_sq_dev / (double)n);
    return (isfinite(s) && s > 1e-12) ? s : 1.0;
}

static int fit_dense(const void *x, csm_dtype dtype, size_t n, size_t k, double *mean,
                        double *scale)
{
    /* Two passes (mean, then squared deviations) for accuracy. */
    for (size_t j = 0; j < k; j++)
        mean[j] = 0.0, scale[j] = 0.0;
    if (n == 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < k; j++)
            mean[j] += value_at(x, dtype, i * k + j);
    for (size_t j = 0; j < k; j++)
        mean[j] /= (double)n;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < k; j++) {
            double d = value_at(x, dtype, i * k + j) - mean[j];
            scale[j] += d * d;
        }
    for (size_t j = 0; j < k; j++)
        scale[j] = scale_of(scale[j], n);
    return 0;
}

/* Sparse: mean_j and the deviations over all n rows, the implicit zeros
 * included (each contributes mean_j^2): what the dense table would give. */
static int fit_sparse(const csm_table *t, double *mean, double *scale)
{
    size_t n = t->n, k = t->k;
    size_t *count = calloc(k > 0 ? k : 1, sizeof *count);
    if (!count)
        return -1;
    for (size_t j = 0; j < k; j++)
        mean[j] = 0.0, scale[j] = 0.0;
    for (uint64_t at = 0; at < t->nnz; at++) {
        mean[t->col_idx[at]] += t->values[at];
        count[t->col_idx[at]]++;
    }
    for (size_t j = 0; j < k; j++)
        mean[j] /= (double)n;
    for (uint64_t at = 0; at < t->nnz; at++) {
        double d = t->values[at] - mean[t->col_idx[at]];
        scale[t->col_idx[at]] += d * d;
    }
    for (size_t j = 0; j < k; j++) {
        scale[j] += (double)(n - count[j]) * mean[j] * mean[j];
        scale[j] = scale_of(scale[j], n);
        mean[j] = 0.0; /* not centred */
    }
    free(count);
    return 0;
}

int cli_standardize_fit_table(const csm_table *t, double *mean, double *scale)
{
    if (t->n == 0)
        return -1;
    if (t->sparse)
        return fit_sparse(t, mean, scale);
    return fit_dense(t->features, t->dtype, t->n, t->k, mean, scale);
}

int cli_standardize_table(csm_table *t, const double *mean, const double *scale)
{
    size_t n = t->n, k = t->k;
    if (t->sparse) {
        for (uint64_t at = 0; at < t->nnz; at++)
            t->values[at] /= scale[t->col_idx[at]];
        return 0;
    }
    if (k != 0 && n > SIZE_MAX / k / sizeof(double))
        return -1;
    double *out = malloc((n > 0 && k > 0 ? n * k : 1) * sizeof *out);
    if (!out)
        return -1;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < k; j++)
            out[i * k + j] = (value_at(t->features, t->dtype, i * k + j) - mean[j]) / scale[j];
    free(t->features);
    t->features = out;
    t->dtype = CSM_DTYPE_F64;
    return 0;
}

/* W'_cj = W_cj / s_j, b'_c = b_c - sum_j W'_cj m_j (in place): weights
 * trained on standardized features become those of raw features. */
static void fold(double *w, double *b, size_t C, size_t k, const double *mean,
                 const double *scale)
{
    for (size_t c = 0; c < C; c++) {
        double shift = 0.0;
        for (size_t j = 0; j < k; j++) {
            w[c * k + j] /= scale[j];
            shift += w[c * k + j] * mean[j];
        }
        b[c] -= shift;
    }
}

/* The inverse: W_cj = W'_cj s_j, b_c = b'_c + sum_j W'_cj m_j. */
static void unfold(double *w, double *b, size_t C, size_t k, const double *mean,
                   const double *scale)
{
    for (size_t c = 0; c < C; c++) {
        double shift = 0.0;
        for (size_t j = 0; j < k; j++) {
            shift += w[c * k + j] * mean[j];
            w[c * k + j] *= scale[j];
        }
        b[c] += shift;
    }
}

int cli_standardize_model(csm_model *m, const double *mean, const double *scale, int to_raw)
{
    size_t C = csm_model_n_classes(m), k = csm_model_n_features(m);
    double *w = NULL, *b = NULL;
    /* C x k doubles on the host: with hashed features (k = 2^24 and more)
     * the largest host array of a run, so held only for this */
    if (!(k > 0 && C > SIZE_MAX / sizeof *w / k)) {
        w = malloc(C * k * sizeof *w);
        b = malloc(C * sizeof *b);
    }
    int rc = 0;
    if (!w || !b) {
        cli_error("out of memory");
        rc = CLI_FAIL;
    } else {
        csm_status st = csm_model_get_params(m, w, b);
        if (st == CSM_OK) {
            (to_raw ? fold : unfold)(w, b, C, k, mean, scale);
            st = csm_model_set_params(m, w, b);
        }
        if (st != CSM_OK)
            rc = cli_lib_error(csm_model_context(m), st);
    }
    free(w);
    free(b);
    return rc;
}

char *cli_vector_to_json(const double *v, size_t n)
{
    size_t cap = 2 + n * 26 + 1;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    size_t used = 0;
    s[used++] = '[';
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(s + used, cap - used, "%s%.17g", i ? "," : "", v[i]);
        if (w < 0 || (size_t)w >= cap - used) {
            free(s);
            return NULL;
        }
        used += (size_t)w;
    }
    s[used++] = ']';
    s[used] = '\0';
    return s;
}

int cli_vector_from_json(const char *s, double *v, size_t n)
{
    if (!s)
        return -1;
    while (isspace((unsigned char)*s))
        s++;
    if (*s++ != '[')
        return -1;
    for (size_t i = 0; i < n; i++) {
        while (isspace((unsigned char)*s))
            s++;
        if (i > 0) {
            if (*s++ != ',')
                return -1;
            while (isspace((unsigned char)*s))
                s++;
        }
        char *end = NULL;
        v[i] = strtod(s, &end);
        if (end == s || !isfinite(v[i]))
            return -1;
        s = end;
    }
    while (isspace((unsigned char)*s))
        s++;
    if (*s++ != ']')
        return -1;
    while (isspace((unsigned char)*s))
        s++;
    return *s == '\0' ? 0 : -1;
}
