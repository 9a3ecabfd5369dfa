/* Tables, datasets and models as the commands use them, each failure
 * printed: reading a data file, checking its feature count, uploading it,
 * loading and converting a model. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_read_table(const char *path, const csm_read_options *ro, csm_table *t)
{
    return cli_read_table_hint(path, ro, t, NULL);
}

int cli_read_table_hint(const char *path, const csm_read_options *ro, csm_table *t,
                        const char *hint)
{
    char err[1024] = "";
    memset(t, 0, sizeof *t);
    if (csm_read_table(path, ro, t, err, sizeof err) != 0) {
        if (*err)
            cli_error("%s%s%s", err, hint ? "; " : "", hint ? hint : "");
        else
            cli_error("%s: cannot read the data file", path);
        memset(t, 0, sizeof *t);
        return CLI_FAIL;
    }
    if (t->n == 0) {
        cli_error("%s: no samples", csm_display_name(path));
        csm_table_free(t);
        return CLI_FAIL;
    }
    if (t->k == 0) {
        cli_error("%s: no features", csm_display_name(path));
        csm_table_free(t);
        return CLI_FAIL;
    }
    return 0;
}

int cli_check_features(const char *path, const csm_table *t, size_t k, const char *model_path)
{
    if (t->k != k) {
        cli_error("%s: the data has %zu features but the model %s has %zu",
                  csm_display_name(path), t->k, model_path, k);
        return CLI_FAIL;
    }
    return 0;
}

void cli_warn_skipped(const char *path, const csm_table *t, size_t k)
{
    if (t->skipped_nnz == 0)
        return;
    cli_warning("%s: %llu non-zero%s in %zu feature%s beyond the model's %zu %s ignored",
                csm_display_name(path), (unsigned long long)t->skipped_nnz,
                t->skipped_nnz == 1 ? "" : "s", t->skipped_features,
                t->skipped_features == 1 ? "" : "s", k, t->skipped_nnz == 1 ? "was" : "were");
}

void cli_describe_storage(char *buf, size_t len, const csm_table *t, csm_storage asked)
{
    double cells = (double)t->n * (double)t->k;
    double pct = cells > 0 ? 100.0 * (double)t->nnz / cells : 0.0;
    const char *why;
    if (asked == CSM_STORAGE_SPARSE)
        why = "--sparse";
    else if (asked == CSM_STORAGE_DENSE)
        why = "--dense";
    else if (t->sparse)
        why = "auto: libsvm data under " CLI_STRINGIFY(CSM_SPARSE_AUTO_PERCENT) "% non-zero";
    else if (csm_auto_sparse(t->n, t->k, t->nnz))
        why = "auto: only libsvm data is kept sparse; --sparse compresses it";
    else
        why = "auto: " CLI_STRINGIFY(CSM_SPARSE_AUTO_PERCENT) "% non-zero or more";
    snprintf(buf, len, "%llu non-zeros (%.3g%%): %s (%s)", (unsigned long long)t->nnz, pct,
             t->sparse ? "sparse" : "dense", why);
}

int cli_load_model(csm_context *ctx, const char *path, csm_model **out)
{
    csm_status st = csm_model_load(ctx, out, path);
    if (st != CSM_OK) {
        *out = NULL;
        return cli_lib_error(ctx, st);
    }
    return 0;
}

int cli_make_dataset(csm_context *ctx, csm_dataset **out, csm_precision prec, const csm_table *t,
                     const int32_t *labels, size_t C)
{
    csm_status st;
    if (t->sparse)
        st = csm_dataset_create_csr(ctx, out, prec, t->n, t->k, t->row_ptr, t->col_idx, t->values,
                                    labels, NULL, C);
    else
        st = csm_dataset_create(ctx, out, prec, t->features, t->dtype, t->n, t->k, labels, NULL,
                                C);
    if (st != CSM_OK) {
        *out = NULL;
        return cli_lib_error(ctx, st);
    }
    return 0;
}

/* The weights w, b read from src, its labels and its metadata into m. */
static csm_status copy_model(csm_model *m, const csm_model *src, const double *w,
                             const double *b)
{
    csm_status st;
    if ((st = csm_model_set_params(m, w, b)) != CSM_OK ||
        (st = csm_model_set_labels(m, csm_model_labels(src))) != CSM_OK)
        return st;
    for (size_t i = 0; i < csm_model_metadata_count(src); i++) {
        const char *key = csm_model_metadata_key(src, i);
        st = csm_model_set_metadata(m, key, csm_model_get_metadata(src, key));
        if (st != CSM_OK && st != CSM_ERR_INVALID_VALUE)
            return st; /* CSM_ERR_INVALID_VALUE: a reserved key, written by csm_model_save() */
    }
    return CSM_OK;
}

int cli_convert_model(csm_model *src, csm_precision prec, csm_model **out)
{
    csm_context *ctx = csm_model_context(src);
    size_t C = csm_model_n_classes(src), k = csm_model_n_features(src);
    double *w = malloc(C * k * sizeof *w), *b = malloc(C * sizeof *b);
    csm_model *m = NULL;
    int rc = 0;
    *out = NULL;
    if (!w || !b) {
        cli_error("out of memory");
        rc = CLI_FAIL;
    } else {
        csm_status st = csm_model_get_params(src, w, b);
        if (st == CSM_OK)
            st = csm_model_create(ctx, &m, prec, C, k);
        if (st == CSM_OK)
            st = copy_model(m, src, w, b);
        if (st != CSM_OK) {
            rc = cli_lib_error(ctx, st);
            csm_model_free(m);
        } else {
            *out = m;
        }
    }
    free(w);
    free(b);
    return rc;
}
