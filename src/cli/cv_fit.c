/* cv's fits: each fold's training and held-out rows on the device, and
 * along each l1_ratio a model trained at every C in turn, from small C to
 * large, each fit starting from the weights of the one before (the path
 * is smooth in C, so a warm start needs a few iterations where a cold one
 * needs many; liblinear's -C does the same).
 *
 * Under mpirun every rank reads DATA and makes the same folds; each part of
 * a fold (its training rows, its held-out rows, in the order of DATA) is
 * then shared out as train shares its rows (mpi_train.c), after everything
 * decided over the whole part (--standardize, --class-weight balanced's
 * counts) was decided on all of it, so that each rank trains on its share
 * through the library's reduce and the held-out sums are summed over the
 * ranks: the scores one process gets, up to the order of the sums. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cv.h"
#include "mpi.h"

static int no_memory(void)
{
    cli_error("out of memory");
    return CLI_FAIL;
}

/* One fold's rows: trained on (tr) and held out (te); under MPI, after
 * share_fold(), this rank's share of each. */
typedef struct fold_sets {
    csm_table ttab, htab;
    int32_t *ty, *hy;     /* class indices of each part */
    size_t nt, nh;        /* rows of the whole parts */
    size_t t0, tn, hn;    /* this rank's: training rows [t0, t0 + tn), hn held out */
    double *tw;           /* (nt, then tn) training weights, or NULL */
    csm_dataset *tr, *te; /* te: NULL when this rank holds no held-out row */
    double *mean, *scale; /* --standardize, fitted on the training rows */
    int32_t *pred;        /* (hn) scratch */
} fold_sets;

static void fold_sets_free(fold_sets *s)
{
    csm_table_free(&s->ttab);
    csm_table_free(&s->htab);
    free(s->ty);
    free(s->hy);
    csm_dataset_free(s->tr);
    csm_dataset_free(s->te);
    free(s->mean);
    free(s->scale);
    free(s->pred);
    free(s->tw);
    memset(s, 0, sizeof *s);
}

/* The two parts of the table as tables of their own, in the data order. */
static int split_fold(const train_input *in, const int32_t *fold, int32_t f, fold_sets *s)
{
    const size_t n = in->tab.n;
    size_t *rows = malloc((n ? n : 1) * sizeof *rows);
    s->ty = malloc((n ? n : 1) * sizeof *s->ty);
    s->hy = malloc((n ? n : 1) * sizeof *s->hy);
    s->pred = malloc((n ? n : 1) * sizeof *s->pred);
    if (!rows || !s->ty || !s->hy || !s->pred) {
        free(rows);
        return no_memory();
    }
    for (size_t i = 0; i < n; i++)
        if (fold[i] != f) {
            s->ty[s->nt] = in->labels[i];
            rows[s->nt++] = i;
        }
    for (size_t i = 0; i < n; i++)
        if (fold[i] == f) {
            s->hy[s->nh] = in->labels[i];
            rows[s->nt + s->nh++] = i;
        }
    int bad = csm_table_take_rows(&in->tab, rows, s->nt, &s->ttab) != 0 ||
              csm_table_take_rows(&in->tab, rows + s->nt, s->nh, &s->htab) != 0;
    free(rows);
    return bad ? no_memory() : 0;
}

/* --standardize as train does it (train_prepare.c), fitted on the fold's
 * training rows only: the held-out rows must not inform the model. */
static int standardize_fold(const cv_cfg *c, fold_sets *s)
{
    const size_t k = s->ttab.k;
    s->mean = malloc((k ? k : 1) * sizeof *s->mean);
    s->scale = malloc((k ? k : 1) * sizeof *s->scale);
    if (!s->mean || !s->scale || cli_standardize_fit_table(&s->ttab, s->mean, s->scale) != 0)
        return no_memory();
    if (s->ttab.sparse || !c->t.opt.fit_intercept)
        for (size_t j = 0; j < k; j++)
            s->mean[j] = 0.0;
    if (cli_standardize_table(&s->ttab, s->mean, s->scale) != 0 ||
        cli_standardize_table(&s->htab, s->mean, s->scale) != 0)
        return no_memory();
    return 0;
}

/* The training weights: --class-weight (counted on the fold's training
 * rows, as a model fitted on them would) times the sample weights; the
 * held-out rows keep the sample weights alone, which must not all be 0. */
static int fold_weights(const cv_cfg *c, const train_input *in, fold_sets *s)
{
    if (c->t.class_weight || s->ttab.weights) {
        int rc = cli_sample_weights("cv", &c->t.cw, &in->classes, "the training data", s->ty,
                                    s->nt, s->ttab.weights, &s->tw);
        if (rc)
            return rc;
    }
    double sum = 0;
    for (size_t i = 0; s->htab.weights && i < s->nh; i++)
        sum += s->htab.weights[i];
    if (s->htab.weights && !(sum > 0)) {
        cli_error("every held-out sample of a fold has weight 0: no score can be taken on it "
                  "(use fewer --folds)");
        return CLI_FAIL;
    }
    return 0;
}

/* Rows [a, a + m) of t as a table of their own, in place of t. */
static int keep_rows(csm_table *t, size_t a, size_t m)
{
    csm_table part;
    size_t *rows = malloc((m ? m : 1) * sizeof *rows);
    if (!rows)
        return -1;
    for (size_t i = 0; i < m; i++)
        rows[i] = a + i;
    int rc = csm_table_take_rows(t, rows, m, &part);
    free(rows);
    if (rc)
        return -1;
    csm_table_free(t);
    *t = part;
    return 0;
}

/* Under MPI: this rank's share of each part, as train shares its rows. */
static int share_fold(fold_sets *s)
{
    const int P = cli_mpi_size(), r = cli_mpi_rank();
    s->tn = s->nt;
    s->hn = s->nh;
    if (P == 1)
        return 0;
    if (s->nt < (size_t)P) {
        cli_error("a fold has %zu training samples for %d ranks: every rank needs at least "
                  "one (use fewer ranks)", s->nt, P);
        return CLI_FAIL;
    }
    const size_t h0 = train_mpi_share_start(s->nh, r, P);
    s->t0 = train_mpi_share_start(s->nt, r, P);
    s->tn = train_mpi_share_start(s->nt, r + 1, P) - s->t0;
    s->hn = train_mpi_share_start(s->nh, r + 1, P) - h0;
    memmove(s->ty, s->ty + s->t0, s->tn * sizeof *s->ty);
    memmove(s->hy, s->hy + h0, s->hn * sizeof *s->hy);
    if (s->tw)
        memmove(s->tw, s->tw + s->t0, s->tn * sizeof *s->tw);
    if (keep_rows(&s->ttab, s->t0, s->tn) || keep_rows(&s->htab, h0, s->hn))
        return no_memory();
    return 0;
}

/* This rank's rows of both parts on the device, with their weights; under
 * MPI the training rows marked as their part of the fold's. */
static int upload_fold(const cv_cfg *c, const train_input *in, fold_sets *s)
{
    const csm_precision prec = c->t.use_double ? CSM_FLOAT64 : CSM_FLOAT32;
    const size_t C = in->classes.C;
    csm_status st = CSM_OK;
    if (cli_make_dataset(in->ctx, &s->tr, prec, &s->ttab, s->ty, C) ||
        (s->hn > 0 && cli_make_dataset(in->ctx, &s->te, prec, &s->htab, s->hy, C)))
        return CLI_FAIL;
    if (s->tw)
        st = csm_dataset_set_weights(s->tr, s->tw);
    if (st == CSM_OK && s->te && s->htab.weights)
        st = csm_dataset_set_weights(s->te, s->htab.weights);
    if (st == CSM_OK && cli_mpi_size() > 1)
        st = csm_dataset_set_partition(s->tr, s->t0, s->nt);
    return st == CSM_OK ? 0 : cli_lib_error(in->ctx, st);
}

/* The held-out accuracy, weighted by the sample weights (csm_evaluate's
 * is unweighted), and log-loss (csm_evaluate's: weighted): this rank's
 * sums, summed over the ranks under MPI. */
static csm_status score(csm_model *m, fold_sets *s, double *accuracy, double *log_loss)
{
    double v[3] = {0, 0, 0}; /* right, weight, loss: sums over the held-out rows */
    if (s->te) {
        const double *hw = s->htab.weights;
        double loss = 0;
        csm_status st = csm_predict(m, s->te, s->pred);
        if (st == CSM_OK)
            st = csm_evaluate(m, s->te, &loss, NULL);
        if (st != CSM_OK)
            return st;
        for (size_t i = 0; i < s->hn; i++) {
            double w = hw ? hw[i] : 1.0;
            v[0] += s->pred[i] == s->hy[i] ? w : 0.0;
            v[1] += w;
        }
        v[2] = loss * csm_dataset_weight_sum(s->te);
    }
    if (cli_mpi_size() > 1 && cli_mpi_reduce(v, 3, NULL) != 0)
        return CSM_ERR_DISTRIBUTED;
    *accuracy = v[0] / v[1];
    *log_loss = v[2] / v[1];
    return CSM_OK;
}

csm_solver cv_solver(const cv_cfg *c, double r)
{
    if (c->t.solver_given)
        return c->t.opt.solver;
    return r > 0 ? CSM_LBFGS : CSM_NEWTON;
}

/* Along each l1_ratio: zeros, then every C in ascending order. */
static int run_paths(const cv_cfg *c, const train_input *in, fold_sets *s, size_t f,
                     cv_scores *out)
{
    const csm_precision prec = c->t.use_double ? CSM_FLOAT64 : CSM_FLOAT32;
    csm_model *m = NULL;
    csm_status st = csm_model_create(in->ctx, &m, prec, in->classes.C, in->k);
    for (size_t r = 0; st == CSM_OK && r < c->n_r; r++) {
        st = csm_model_init(m, CSM_INIT_ZEROS, c->t.opt.seed);
        for (size_t i = 0; st == CSM_OK && i < c->n_C; i++) {
            csm_train_options opt = c->t.opt;
            csm_train_result res = {.struct_size = sizeof res};
            opt.C = c->Cs[i];
            opt.l1_ratio = c->ratios[r];
            opt.solver = cv_solver(c, c->ratios[r]);
            if (cli_mpi_size() > 1)
                opt.reduce = cli_mpi_reduce;
            const size_t at = (r * c->n_C + i) * out->folds + f;
            st = csm_train(m, s->tr, &opt, &res);
            if (st == CSM_OK)
                st = score(m, s, &out->accuracy[at], &out->log_loss[at]);
            out->short_fits += st == CSM_OK && !res.converged && opt.tol > 0;
            out->iterations += res.n_iter;
        }
    }
    csm_model_free(m);
    return st == CSM_OK ? 0 : cli_lib_error(in->ctx, st);
}

int cv_run_folds(const cv_cfg *c, const train_input *in, const int32_t *fold, cv_scores *s)
{
    s->settings = c->n_C * c->n_r;
    s->folds = c->folds;
    s->accuracy = calloc(s->settings * s->folds, sizeof *s->accuracy);
    s->log_loss = calloc(s->settings * s->folds, sizeof *s->log_loss);
    if (!s->accuracy || !s->log_loss)
        return no_memory();
    int rc = 0;
    for (size_t f = 0; !rc && f < c->folds; f++) {
        fold_sets fs;
        memset(&fs, 0, sizeof fs);
        double t0 = cli_now();
        rc = split_fold(in, fold, (int32_t)f, &fs);
        if (!rc && c->t.standardize)
            rc = standardize_fold(c, &fs);
        if (!rc)
            rc = fold_weights(c, in, &fs);
        if (!rc)
            rc = share_fold(&fs);
        if (!rc)
            rc = upload_fold(c, in, &fs);
        if (!rc)
            rc = run_paths(c, in, &fs, f, s);
        if (!rc)
            cli_note("fold %zu/%zu: trained on %zu samples, held out %zu: %zu fits in %.2f s",
                     f + 1, c->folds, fs.nt, fs.nh, s->settings, cli_now() - t0);
        fold_sets_free(&fs);
    }
    return rc;
}

void cv_scores_free(cv_scores *s)
{
    free(s->accuracy);
    free(s->log_loss);
    memset(s, 0, sizeof *s);
}
