/* train's second stage, prepare: the training and validation rows
 * (--validation-split, --validation) with --standardize applied, the model
 * (the --resume model or a new one), the rows on the device (each rank its
 * share under MPI) and the sample weights. Host tables go as soon as the
 * device holds their rows. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mpi.h"
#include "train.h"

static int no_memory(void)
{
    cli_error("out of memory");
    return CLI_FAIL;
}

/* The rows trained and validated on, until the device holds them. */
typedef struct train_rows {
    csm_table ttab, vtab;       /* the parts of a split; vtab: the --validation file */
    csm_table *tt, *vt;         /* the training rows (DATA's table or ttab), the
                                   validation rows (vtab, or NULL) */
    int32_t *train_labels;      /* (n_train) DATA's labels, or the split's */
    int32_t *val_labels;        /* (n_val) */
    const int32_t *data_labels; /* DATA's, owned by the input */
    double *given_w;            /* --weight-column and --weights of the training rows */
    train_mpi_share share;
} train_rows;

static void rows_free(train_rows *r)
{
    if (r->train_labels != r->data_labels)
        free(r->train_labels);
    free(r->val_labels);
    free(r->given_w);
    csm_table_free(&r->ttab);
    csm_table_free(&r->vtab);
    train_mpi_share_free(&r->share);
}

/* The rows held out by --validation-split (a seeded shuffle), and the
 * training rows, as tables of their own in the data's storage. */
static int split_rows(const train_cfg *c, const csm_table *tab, const int32_t *labels,
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

/* --validation FILE: read as the training data is held (the same storage,
 * the training feature count); features the training data never had are
 * ignored with a warning, as predict does, since the model has no weights
 * for them. */
static int read_validation(const train_cfg *c, const csm_table *train, size_t k,
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
static int standardize(train_cfg *c, const csm_model *loaded, csm_table *tt, csm_table *vt,
                       size_t k, double **mean, double **scale)
{
    int have = 0;
    *mean = malloc((k > 0 ? k : 1) * sizeof **mean);
    *scale = malloc((k > 0 ? k : 1) * sizeof **scale);
    if (!*mean || !*scale)
        return no_memory();
    /* --no-intercept: centring would move the means into the saved bias */
    c->center = !tt->sparse && c->opt.fit_intercept;
    if (loaded && resumed_scaling(c, loaded, tt->sparse, k, *mean, *scale, &have))
        return CLI_FAIL;
    if (!have && cli_standardize_fit_table(tt, *mean, *scale) != 0)
        return no_memory();
    if (!c->center)
        for (size_t j = 0; j < k; j++)
            (*mean)[j] = 0.0;
    if (cli_standardize_table(tt, *mean, *scale) != 0 ||
        (vt && vt->n > 0 && cli_standardize_table(vt, *mean, *scale) != 0))
        return no_memory();
    return 0;
}

/* --validation-split: the last fraction of DATA's rows after a seeded
 * shuffle; --validation: the rows of that file, with the same classes. */
static int training_rows(const train_cfg *c, train_input *in, train_rows *r, train_sets *s)
{
    const size_t n = in->tab.n;
    s->n_train = n;
    s->n_val = 0;
    r->tt = &in->tab;
    r->train_labels = in->labels;
    r->data_labels = in->labels;
    if (c->split > 0) {
        size_t n_val = (size_t)floor(c->split * (double)n);
        if (n_val < 1 || n_val >= n) {
            cli_error("%s: --validation-split %g of %zu samples leaves %zu for validation and "
                      "%zu for training: both need at least one",
                      c->data_path, c->split, n, n_val, n - n_val);
            return CLI_FAIL;
        }
        s->n_val = n_val;
        s->n_train = n - n_val;
        r->train_labels = malloc(s->n_train * sizeof *r->train_labels);
        r->val_labels = malloc(n_val * sizeof *r->val_labels);
        if (!r->train_labels || !r->val_labels ||
            split_rows(c, &in->tab, in->labels, n_val, &r->ttab, r->train_labels, &r->vtab,
                       r->val_labels))
            return no_memory();
        csm_table_free(&in->tab); /* the two parts replace it */
        r->tt = &r->ttab;
        r->vt = &r->vtab;
    } else if (c->validation) {
        if (read_validation(c, &in->tab, in->k, &r->vtab))
            return CLI_FAIL;
        r->vt = &r->vtab;
        s->n_val = r->vtab.n;
        if (!(r->val_labels = malloc(s->n_val * sizeof *r->val_labels)))
            return no_memory();
        if (cli_map_table(c->validation, &r->vtab, &in->classes, in->whose, r->val_labels))
            return CLI_FAIL;
    }
    return 0;
}

/* The solver state --resume continues, or a note saying why there is
 * none to continue. */
static void note_resume_state(cli_progress *p, const train_cfg *c, const csm_model *m,
                              int converted)
{
    long iters = 0;
    const char *had = csm_model_solver_state(m, &iters);
    const char *now = csm_solver_name(c->opt.solver);
    if (!had)
        cli_progress_note(p, "%s carries no solver state: %s starts afresh from its weights",
                          c->resume, now);
    else if (converted)
        cli_progress_note(p, "%s: converting to %s drops its %s state: %s starts afresh from "
                          "its weights", c->resume, c->use_double ? "float64" : "float32",
                          had, now);
    else if (strcmp(had, now) != 0)
        cli_progress_note(p, "%s carries %s state, not %s: %s starts afresh from its weights",
                          c->resume, had, now, now);
    else if (c->opt.solver == CSM_LBFGS)
        cli_progress_note(p, "%s: lbfgs continues after %ld iteration%s (with the history "
                          "of pairs the model carries when it stopped short of convergence and "
                          "--lbfgs-memory is the same)",
                          c->resume, iters, iters == 1 ? "" : "s");
    else if (c->opt.solver == CSM_NEWTON)
        cli_progress_note(p, "%s: newton continues after %ld iteration%s (from its weights: "
                          "a trust-region Newton run keeps no state between runs but the count)",
                          c->resume, iters, iters == 1 ? "" : "s");
    else
        cli_progress_note(p, "%s: continuing its %s state after %ld epoch%s", c->resume, had,
                          iters, iters == 1 ? "" : "s");
}

/* The --resume model, in the precision asked (its weights made those of
 * standardized features again with --standardize), or a new one. */
static int make_model(const train_cfg *c, train_input *in, cli_progress *p, train_sets *s)
{
    const csm_precision prec = c->use_double ? CSM_FLOAT64 : CSM_FLOAT32;
    csm_status st;
    if (in->loaded) {
        const int convert = csm_model_precision(in->loaded) != prec;
        note_resume_state(p, c, in->loaded, convert);
        if (convert) {
            if (cli_convert_model(in->loaded, prec, &s->model))
                return CLI_FAIL;
            csm_model_free(in->loaded);
        } else {
            s->model = in->loaded;
        }
        in->loaded = NULL;
        return c->standardize ? cli_standardize_model(s->model, s->mean, s->scale, 0) : 0;
    }
    if ((st = csm_model_create(in->ctx, &s->model, prec, in->classes.C, in->k)) != CSM_OK)
        return cli_lib_error(in->ctx, st);
    if (cli_classes_to_model(s->model, &in->classes))
        return CLI_FAIL;
    st = csm_model_init(s->model, c->init == 1 ? CSM_INIT_NORMAL : CSM_INIT_ZEROS, c->opt.seed);
    return st == CSM_OK ? 0 : cli_lib_error(in->ctx, st);
}

/* Class weights are sample weights of the training rows only: the
 * validation loss stays the plain mean, comparable across weightings. */
static void class_weight_whose(const train_cfg *c, char *of, size_t len)
{
    if (c->resume)
        snprintf(of, len, "the model %s", c->resume);
    else
        snprintf(of, len, "the training data");
}

static int apply_sample_weights(const train_cfg *c, csm_context *ctx, csm_dataset *train,
                                const cli_classes *cls, const int32_t *y, size_t n,
                                const double *given)
{
    char of[1100];
    double *w = NULL;
    class_weight_whose(c, of, sizeof of);
    int rc = cli_sample_weights("train", &c->cw, cls, of, y, n, given, &w);
    if (rc)
        return rc;
    csm_status st = csm_dataset_set_weights(train, w);
    free(w);
    return st == CSM_OK ? 0 : cli_lib_error(ctx, st);
}

/* The rows on the device. The library holds them now, on the device or
 * (data past the device's allocation, or CLSOFTMAX_MAX_ALLOC: streamed) in
 * its own host copy: ours goes before the next one is made, so the host
 * never holds two copies of the training rows beyond csm_dataset_create().
 * Under MPI rank 0 sends the model's labels (0..C-1 for named classes:
 * only rank 0 writes the model and its names) with the rows. */
static int upload(train_cfg *c, train_input *in, train_rows *r, train_sets *s)
{
    const csm_precision prec = c->use_double ? CSM_FLOAT64 : CSM_FLOAT32;
    const size_t C = in->classes.C;
    int rc;
    if (cli_mpi_size() > 1 &&
        (rc = train_mpi_share_rows(c, s->model, r->tt, r->train_labels, &in->classes, &r->share)))
        return rc; /* a --class-weight label that is not a class is a usage error */
    if (cli_make_dataset(in->ctx, &s->train, prec, r->tt, r->train_labels, C) ||
        (cli_mpi_size() > 1 && train_mpi_attach(c, in->ctx, s->train, &r->share)))
        return CLI_FAIL;
    r->given_w = r->tt->weights;
    r->tt->weights = NULL;
    csm_table_free(r->tt);
    if (r->vt && cli_make_dataset(in->ctx, &s->val, prec, r->vt, r->val_labels, C))
        return CLI_FAIL;
    /* Training holds O(nnz + C k) on the host at most, besides a streamed
     * dataset's own copy. */
    csm_table_free(&in->tab);
    csm_table_free(&r->ttab);
    csm_table_free(&r->vtab);
    if ((c->class_weight || r->given_w) && cli_mpi_size() == 1)
        return apply_sample_weights(c, in->ctx, s->train, &in->classes, r->train_labels,
                                    s->n_train, r->given_w); /* a label of no class: usage */
    return 0;
}

void train_default_solver(train_cfg *c, int sparse)
{
    /* an L1 term needs OWL-QN, which is lbfgs's */
    if (c->solver_given || c->opt.l1_ratio > 0)
        return;
    /* tol 0 runs --max-iter iterations: lbfgs's are the cheaper */
    const int tight = c->opt.tol > 0 && c->opt.tol < TRAIN_DENSE_NEWTON_TOL;
    if (!sparse && !tight)
        return;
    c->opt.solver = CSM_NEWTON;
    c->solver_defaulted = sparse ? 1 : 2;
}

int train_prepare(train_cfg *c, train_input *in, cli_progress *p, train_sets *s)
{
    train_rows r;
    memset(&r, 0, sizeof r);
    int rc = training_rows(c, in, &r, s);
    if (!rc)
        train_default_solver(c, r.tt->sparse);
    if (!rc && c->standardize)
        rc = standardize(c, in->loaded, r.tt, r.vt, in->k, &s->mean, &s->scale);
    if (!rc)
        rc = make_model(c, in, p, s);
    if (!rc)
        rc = cli_names_to_model(s->model, r.tt);
    if (!rc)
        rc = upload(c, in, &r, s);
    rows_free(&r);
    return rc;
}

void train_sets_free(train_sets *s)
{
    csm_dataset_free(s->train);
    csm_dataset_free(s->val);
    csm_model_free(s->model);
    free(s->mean);
    free(s->scale);
    memset(s, 0, sizeof *s);
}
