/* --standardize: per-feature mean and scale, applied to the training (and
 * validation) features, then folded into the saved weights so the model
 * file works on raw features. */
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

int cli_standardize_fit(const void *x, csm_dtype dtype, size_t n, size_t k, double *mean,
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
    for (size_t j = 0; j < k; j++) {
        double s = sqrt(scale[j] / (double)n);
        /* Constant features (and denormal spreads) are left unscaled. */
        scale[j] = (isfinite(s) && s > 1e-12) ? s : 1.0;
    }
    return 0;
}

double *cli_standardize_apply(const void *x, csm_dtype dtype, size_t n, size_t k,
                              const double *mean, const double *scale)
{
    if (k != 0 && n > SIZE_MAX / k / sizeof(double))
        return NULL;
    double *out = malloc((n > 0 && k > 0 ? n * k : 1) * sizeof *out);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < k; j++)
            out[i * k + j] = (value_at(x, dtype, i * k + j) - mean[j]) / scale[j];
    return out;
}

void cli_standardize_fold(double *w, double *b, size_t C, size_t k, const double *mean,
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

void cli_standardize_unfold(double *w, double *b, size_t C, size_t k, const double *mean,
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
