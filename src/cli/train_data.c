/* The training and validation tables of `clsoftmax train`: the
 * --weights file, the --validation-split rows, the --validation file, and
 * --standardize applied to both (scale only on sparse data). Host tables
 * only; cmd_train.c uploads them. */
#include <stdlib.h>
#include <string.h>

#include "train.h"

/* The rows held out by --validation-split (a seeded shuffle), and the
 * training rows, as tables of their own in the data's storage. */
int train_split_rows(const train_cfg *c, const csm_table *tab, const int32_t *labels,
                      size_t n_val, csm_table *tt, int32_t *train_labels, csm_table *vt,
                      int32_t *val_labels)
{
    size_t n = tab->n, n_train = n - n_val;
    size_t *perm = malloc(n * sizeof *perm);
    if (!perm)
        return -1;
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    uint64_t rs = c->opt.seed ^ 0x5EED5A17ULL;
    cli_shuffle(perm, n, &rs);
    for (size_t i = 0; i < n_train; i++)
        train_labels[i] = labels[perm[i]];
    for (size_t i = 0; i < n_val; i++)
        val_labels[i] = labels[perm[n_train + i]];
    int rc = csm_table_take_rows(tab, perm, n_train, tt) != 0 ||
             csm_table_take_rows(tab, perm + n_train, n_val, vt) != 0;
    free(perm);
    return rc ? -1 : 0;
}

int train_read_weights(const train_cfg *c, csm_table *tab)
{
    char err[1024];
    double *w = NULL;
    if (csm_read_weights(c->weights_path, tab->n, &w, err, sizeof err) != 0) {
        cli_error("%s (--weights: one weight per sample of %s)", err,
                  csm_path_name(c->data_path));
        return CLI_FAIL;
    }
    if (tab->weights) {
        for (size_t i = 0; i < tab->n; i++)
            tab->weights[i] *= w[i];
        free(w);
    } else {
        tab->weights = w;
    }
    return 0;
}

/* --validation FILE: read as the training data is held (the same storage,
 * the training feature count); features the training data never had are
 * ignored with a warning, as predict does, since the model has no weights
 * for them. */
int train_read_validation(const train_cfg *c, const csm_table *train, size_t k,
                           csm_table *vt)
{
    csm_read_options vro;
    csm_read_options_init(&vro);
    vro.format = c->ro.format;
    vro.label_column = c->ro.label_column;
    vro.header = c->ro.header;
    vro.delimiter = c->ro.delimiter;
    vro.fraction_labels = c->ro.fraction_labels; /* a resumed model of classes like 0.5 */
    vro.weight_column = c->ro.weight_column; /* the same columns; its weights are not used */
    vro.n_features = k;
    vro.skip_extra_features = 1;
    vro.storage = train->sparse ? CSM_STORAGE_SPARSE : CSM_STORAGE_DENSE;
    if (cli_read_table(c->validation, &vro, vt))
        return CLI_FAIL;
    if (vt->k != k) {
        cli_error("%s: the validation data has %zu features but the training data %s has %zu",
                  c->validation, vt->k, c->data_path, k);
        return CLI_FAIL;
    }
    cli_warn_skipped(c->validation, vt, k);
    return 0;
}

/* The standardization of a resumed model (its metadata), into mean and
 * scale; *have says whether it had one. Sparse data cannot be centred, so
 * a model fitted with a mean keeps only its scales then. */
static int resumed_scaling(train_cfg *c, const csm_model *loaded, int sparse, size_t k,
                           double *mean, double *scale, int *have)
{
    const char *ms = csm_model_get_metadata(loaded, "standardize_mean");
    const char *ss = csm_model_get_metadata(loaded, "standardize_scale");
    const char *cs = csm_model_get_metadata(loaded, "standardize_center");
    *have = 0;
    if (!ms || !ss)
        return 0;
    if (cli_vector_from_json(ms, mean, k) != 0 || cli_vector_from_json(ss, scale, k) != 0) {
        cli_error("%s: metadata standardize_mean/standardize_scale is not a list of %zu numbers",
                  c->resume, k);
        return CLI_FAIL;
    }
    for (size_t j = 0; j < k; j++)
        if (!(scale[j] > 0)) {
            cli_error("%s: metadata standardize_scale has a non-positive value", c->resume);
            return CLI_FAIL;
        }
    *have = 1;
    c->center = !sparse && c->opt.fit_intercept && !(cs && strcmp(cs, "false") == 0);
    if (!c->center)
        for (size_t j = 0; j < k; j++)
            mean[j] = 0.0;
    return 0;
}

/* --standardize: mean and scale (the resumed model's, else fitted on the
 * training rows), applied in place to the training and validation tables.
 * Sparse training data, and any data with --no-intercept, is scaled only
 * (c->center 0). */
int train_standardize(train_cfg *c, const csm_model *loaded, csm_table *tt, csm_table *vt,
                       size_t k, double **mean, double **scale)
{
    int have = 0;
    *mean = malloc((k > 0 ? k : 1) * sizeof **mean);
    *scale = malloc((k > 0 ? k : 1) * sizeof **scale);
    if (!*mean || !*scale)
        goto nomem;
    /* --no-intercept: centring would move the means into the saved bias */
    c->center = !tt->sparse && c->opt.fit_intercept;
    if (loaded && resumed_scaling(c, loaded, tt->sparse, k, *mean, *scale, &have))
        return CLI_FAIL;
    if (!have && cli_standardize_fit_table(tt, *mean, *scale) != 0)
        goto nomem;
    if (!c->center)
        for (size_t j = 0; j < k; j++)
            (*mean)[j] = 0.0;
    if (cli_standardize_table(tt, *mean, *scale) != 0)
        goto nomem;
    if (vt && vt->n > 0 && cli_standardize_table(vt, *mean, *scale) != 0)
        goto nomem;
    return 0;
nomem:
    cli_error("out of memory");
    return CLI_FAIL;
}
