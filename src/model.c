/* Models: weights (C, k) and bias (C) on the device, class label values
 * and string metadata on the host. */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "lbfgs_state.h"
#include "rng.h"

csm_status csm_model_create(csm_context *ctx, csm_model **out, csm_precision precision,
                            size_t n_classes, size_t n_features)
{
    if (!ctx)
        return CSM_ERR_NULL_ARGUMENT;
    if (!out)
        return csm_fail(ctx, CSM_ERR_NULL_ARGUMENT, "csm_model_create: out is NULL");
    *out = NULL;
    if (precision != CSM_FLOAT32 && precision != CSM_FLOAT64)
        return csm_fail(ctx, CSM_ERR_INVALID_VALUE, "csm_model_create: unknown precision %d",
                        (int)precision);
    if (n_classes < 2)
        return csm_fail(ctx, CSM_ERR_INVALID_SIZE,
                        "csm_model_create: n_classes is %zu, needs at least 2", n_classes);
    if (n_features < 1)
        return csm_fail(ctx, CSM_ERR_INVALID_SIZE, "csm_model_create: n_features is 0");
    /* kernels index the parameters (W, then b: C k + C of them) with int */
    if (n_features >= INT_MAX || n_classes > INT_MAX / (n_features + 1))
        return csm_fail(ctx, CSM_ERR_INVALID_SIZE,
                        "csm_model_create: %zu x %zu weights and %zu biases exceed the supported "
                        "%d parameters",
                        n_classes, n_features, n_classes, INT_MAX);
    if (precision == CSM_FLOAT64 && !ctx->info.has_fp64)
        return csm_fail(ctx, CSM_ERR_NO_FP64,
                        "device %s has no cl_khr_fp64: float64 models are not possible on it",
                        ctx->info.device_name);
    csm_model *m = calloc(1, sizeof *m);
    int64_t *labels = calloc(n_classes, sizeof *labels);
    if (!m || !labels) {
        free(m);
        free(labels);
        return csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
    }
    m->ctx = ctx;
    m->precision = precision;
    m->C = n_classes;
    m->k = n_features;
    m->labels = labels;
    m->state.solver = -1;
    for (size_t c = 0; c < n_classes; c++)
        labels[c] = (int64_t)c;
    size_t es = csm_real_size(precision);
    csm_status st = csm_buffer_create(ctx, &m->weight, n_classes * n_features * es, "weights");
    if (st == CSM_OK)
        st = csm_buffer_create(ctx, &m->bias, n_classes * es, "bias");
    if (st == CSM_OK)
        st = csm_fill_zero(ctx, m->weight, n_classes * n_features * es);
    if (st == CSM_OK)
        st = csm_fill_zero(ctx, m->bias, n_classes * es);
    if (st == CSM_OK && clFinish(ctx->queue) != CL_SUCCESS)
        st = csm_fail(ctx, CSM_ERR_OPENCL, "clFinish after zeroing the model failed");
    if (st != CSM_OK) {
        csm_model_free(m);
        return st;
    }
    *out = m;
    return CSM_OK;
}

void csm_model_free(csm_model *m)
{
    if (!m)
        return;
    csm_buffer_release(&m->weight);
    csm_buffer_release(&m->bias);
    csm_model_clear_solver_state(m);
    for (size_t i = 0; i < m->n_meta; i++) {
        free(m->meta[i].key);
        free(m->meta[i].value);
    }
    free(m->meta);
    free(m->labels);
    free(m);
}

csm_status csm_model_init(csm_model *m, csm_init init, uint64_t seed)
{
    if (!m)
        return CSM_ERR_NULL_ARGUMENT;
    if (init != CSM_INIT_ZEROS && init != CSM_INIT_NORMAL)
        return csm_fail(m->ctx, CSM_ERR_INVALID_VALUE, "csm_model_init: unknown init %d",
                        (int)init);
    size_t ck = m->C * m->k;
    double *w = calloc(ck + m->C, sizeof *w);
    if (!w)
        return csm_fail(m->ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
    if (init == CSM_INIT_NORMAL) {
        csm_rng r;
        csm_rng_seed(&r, seed);
        for (size_t i = 0; i < ck; i++)
            w[i] = 0.01 * csm_rng_normal(&r);
    }
    csm_status st = csm_model_set_params(m, w, w + ck);
    free(w);
    return st;
}

static csm_status check_finite(csm_context *ctx, const double *v, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return csm_fail(ctx, CSM_ERR_NONFINITE, "%s[%zu] is %g: parameters must be finite",
                            what, i, v[i]);
    return CSM_OK;
}

csm_status csm_model_set_params(csm_model *m, const double *weight, const double *bias)
{
    if (!m)
        return CSM_ERR_NULL_ARGUMENT;
    if (!weight)
        return csm_fail(m->ctx, CSM_ERR_NULL_ARGUMENT, "csm_model_set_params: weight is NULL");
    csm_status st = check_finite(m->ctx, weight, m->C * m->k, "weight");
    if (st == CSM_OK && bias)
        st = check_finite(m->ctx, bias, m->C, "bias");
    if (st == CSM_OK)
        st = csm_upload(m->ctx, m->weight, m->precision, 0, weight, m->C * m->k);
    if (st == CSM_OK && bias)
        st = csm_upload(m->ctx, m->bias, m->precision, 0, bias, m->C);
    return st;
}

csm_status csm_model_get_params(csm_model *m, double *weight, double *bias)
{
    if (!m)
        return CSM_ERR_NULL_ARGUMENT;
    if (!weight && !bias)
        return csm_fail(m->ctx, CSM_ERR_NULL_ARGUMENT,
                        "csm_model_get_params: weight and bias are both NULL");
    csm_status st = CSM_OK;
    if (weight)
        st = csm_download(m->ctx, weight, m->weight, m->precision, 0, m->C * m->k);
    if (st == CSM_OK && bias)
        st = csm_download(m->ctx, bias, m->bias, m->precision, 0, m->C);
    return st;
}

size_t csm_model_n_classes(const csm_model *m) { return m ? m->C : 0; }
size_t csm_model_n_features(const csm_model *m) { return m ? m->k : 0; }
csm_precision csm_model_precision(const csm_model *m) { return m ? m->precision : CSM_FLOAT32; }
csm_context *csm_model_context(const csm_model *m) { return m ? m->ctx : NULL; }

csm_status csm_model_set_labels(csm_model *m, const int64_t *values)
{
    if (!m)
        return CSM_ERR_NULL_ARGUMENT;
    if (!values)
        return csm_fail(m->ctx, CSM_ERR_NULL_ARGUMENT, "csm_model_set_labels: values is NULL");
    for (size_t c = 1; c < m->C; c++)
        if (values[c] <= values[c - 1])
            return csm_fail(m->ctx, CSM_ERR_INVALID_VALUE,
                            "label values must be strictly increasing: [%zu] = %lld after %lld",
                            c, (long long)values[c], (long long)values[c - 1]);
    memcpy(m->labels, values, m->C * sizeof *values);
    return CSM_OK;
}

const int64_t *csm_model_labels(const csm_model *m) { return m ? m->labels : NULL; }

csm_status csm_model_set_metadata(csm_model *m, const char *key, const char *value)
{
    if (!m)
        return CSM_ERR_NULL_ARGUMENT;
    if (!key || !*key)
        return csm_fail(m->ctx, CSM_ERR_NULL_ARGUMENT, "csm_model_set_metadata: empty key");
    static const char *const reserved[] = {"format",       "format_version",    "labels",
                                           "n_features",   "n_classes",         "solver_state",
                                           "solver_iterations", "solver_steps", "solver_lbfgs"};
    for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
        if (!strcmp(key, reserved[i]))
            return csm_fail(m->ctx, CSM_ERR_INVALID_VALUE,
                            "metadata key '%s' is reserved: csm_model_save writes it", key);
    char why[256];
    if (value && !strcmp(key, "label_names") && csm_check_label_names(value, m->C, why, sizeof why))
        return csm_fail(m->ctx, CSM_ERR_INVALID_VALUE, "metadata label_names %s", why);
    for (size_t i = 0; i < m->n_meta; i++) {
        if (strcmp(m->meta[i].key, key))
            continue;
        if (!value) {
            free(m->meta[i].key);
            free(m->meta[i].value);
            m->meta[i] = m->meta[--m->n_meta];
            return CSM_OK;
        }
        char *v = csm_strdup(value);
        if (!v)
            return csm_fail(m->ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
        free(m->meta[i].value);
        m->meta[i].value = v;
        return CSM_OK;
    }
    if (!value)
        return CSM_OK;
    csm_meta_entry *grown = realloc(m->meta, (m->n_meta + 1) * sizeof *grown);
    if (!grown)
        return csm_fail(m->ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
    m->meta = grown;
    char *k = csm_strdup(key), *v = csm_strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return csm_fail(m->ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
    }
    m->meta[m->n_meta].key = k;
    m->meta[m->n_meta].value = v;
    m->n_meta++;
    return CSM_OK;
}

const char *csm_model_get_metadata(const csm_model *m, const char *key)
{
    if (!m || !key)
        return NULL;
    for (size_t i = 0; i < m->n_meta; i++)
        if (!strcmp(m->meta[i].key, key))
            return m->meta[i].value;
    return NULL;
}

size_t csm_model_metadata_count(const csm_model *m) { return m ? m->n_meta : 0; }

const char *csm_model_metadata_key(const csm_model *m, size_t i)
{
    return m && i < m->n_meta ? m->meta[i].key : NULL;
}

void csm_model_clear_solver_state(csm_model *m)
{
    if (!m)
        return;
    for (int i = 0; i < 2; i++) {
        csm_buffer_release(&m->state.m[i]);
        csm_buffer_release(&m->state.v[i]);
    }
    csm_lbfgs_state_free(m->state.lbfgs);
    m->state.lbfgs = NULL;
    m->state.solver = -1;
    m->state.iter = 0;
    m->state.steps = 0;
}

const char *csm_model_solver_state(const csm_model *m, long *iterations)
{
    if (iterations)
        *iterations = m && m->state.solver >= 0 ? m->state.iter : 0;
    if (!m || m->state.solver < 0)
        return NULL;
    return csm_solver_name((csm_solver)m->state.solver);
}

csm_status csm_model_state_prepare(csm_model *m, int solver)
{
    if (m->state.solver != solver) {
        csm_model_clear_solver_state(m);
        m->state.solver = solver;
    }
    /* L-BFGS, a momentum-free SGD: nothing but the counts */
    const int need_v = solver == CSM_MOMENTUM || solver == CSM_ADAM;
    const int need_m = solver == CSM_ADAM;
    const size_t es = csm_real_size(m->precision);
    const size_t count[2] = {m->C * m->k, m->C};
    csm_status st = CSM_OK;
    for (int i = 0; i < 2 && st == CSM_OK; i++) {
        if (need_v && !m->state.v[i]) {
            st = csm_buffer_create(m->ctx, &m->state.v[i], count[i] * es, "solver state");
            if (st == CSM_OK)
                st = csm_fill_zero(m->ctx, m->state.v[i], count[i] * es);
        }
        if (st == CSM_OK && need_m && !m->state.m[i]) {
            st = csm_buffer_create(m->ctx, &m->state.m[i], count[i] * es, "solver state");
            if (st == CSM_OK)
                st = csm_fill_zero(m->ctx, m->state.m[i], count[i] * es);
        }
    }
    if (st != CSM_OK)
        csm_model_clear_solver_state(m);
    return st;
}

csm_status csm_check_pair(csm_model *m, const csm_dataset *d, int need_targets, const char *fn)
{
    if (!m)
        return CSM_ERR_NULL_ARGUMENT;
    if (!d)
        return csm_fail(m->ctx, CSM_ERR_NULL_ARGUMENT, "%s: dataset is NULL", fn);
    if (d->ctx != m->ctx)
        return csm_fail(m->ctx, CSM_ERR_MISMATCH, "%s: model and dataset belong to different contexts", fn);
    if (d->precision != m->precision)
        return csm_fail(m->ctx, CSM_ERR_MISMATCH, "%s: model is %s but dataset is %s", fn,
                        m->precision == CSM_FLOAT64 ? "float64" : "float32",
                        d->precision == CSM_FLOAT64 ? "float64" : "float32");
    if (d->k != m->k)
        return csm_fail(m->ctx, CSM_ERR_MISMATCH, "%s: model has %zu features, dataset has %zu",
                        fn, m->k, d->k);
    if (d->C != 0 && d->C != m->C)
        return csm_fail(m->ctx, CSM_ERR_MISMATCH, "%s: model has %zu classes, dataset has %zu",
                        fn, m->C, d->C);
    if (need_targets && d->C == 0)
        return csm_fail(m->ctx, CSM_ERR_NO_TARGETS, "%s: the dataset has no labels or targets",
                        fn);
    return CSM_OK;
}
