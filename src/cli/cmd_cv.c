/* clsoftmax cv [OPTIONS] DATA: stratified K-fold cross-validation over a
 * grid of C (and l1_ratio), its options, its help, and its parts in turn:
 * read (train's stage), folds, fits, table, and the refit of --output
 * (train's stages). */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cv.h"
#include "mpi.h"

#define DEF_FOLDS 5
#define DEF_CS "0.01,0.1,1,10,100"
#define DEF_RATIOS "0"

/* The solver defaults are read from csm_train_options_init(), the
 * library's, as train's help does. */
static void help(void)
{
    csm_train_options d;
    csm_train_options_init(&d, sizeof d);
    printf("Usage: clsoftmax cv [OPTIONS] DATA\n"
           "Cross-validate softmax regression on DATA over a grid of C (and l1_ratio):\n"
           "stratified K-fold (scikit-learn's StratifiedKFold with shuffle, seeded: each\n"
           "fold holds each class in the proportion of the data). In each fold, and for\n"
           "each l1_ratio, one model is trained at every C from the smallest to the\n"
           "largest, each fit starting from the weights of the one before (a warm start,\n"
           "as liblinear's -C), and scored on the fold's held-out samples.\n"
           "\n"
           "Prints on stdout a row per setting: C, l1_ratio, the mean and (population)\n"
           "standard deviation over the folds of the held-out accuracy and log-loss\n"
           "(weighted by the sample weights of --weight-column and --weights, not by\n"
           "--class-weight), then the best setting:\n"
           "  best: C=1 l1_ratio=0 accuracy=0.9630\n"
           "the highest mean accuracy; ties go to the smaller C (the stronger penalty,\n"
           "as liblinear's -C), then to the l1_ratio given first.\n"
           "\n"
           "Cross-validation options:\n"
           "  --folds K              folds, 2 to the number of samples (default %d). A\n"
           "                         class with fewer than K samples is left out of some\n"
           "                         folds' held-out part, with a WARNING (as scikit-learn);\n"
           "                         every class having fewer than K is an error\n"
           "  --C LIST               C values, comma-separated, each > 0, distinct\n"
           "                         (default %s); trained in ascending order\n"
           "  --l1-ratio LIST        elastic-net mixing values r, each in [0, 1], distinct\n"
           "                         (default %s): the penalty is\n"
           "                         (1 / (C n)) (r ||W||_1 + (1 - r)/2 ||W||^2), scikit-\n"
           "                         learn's l1_ratio; 0 is train's L2 penalty\n"
           "  --seed N               seed of the folds' shuffle and of the solvers'\n"
           "                         (default %llu)\n"
           "  --save-folds FILE      write each sample's fold (0 to K-1), a line each in\n"
           "                         the order of DATA (scikit-learn's PredefinedSplit\n"
           "                         takes it); FILE may be a pipe or /dev/stdout\n"
           "  -o, --output MODEL     refit the best setting on all of DATA and write it as\n"
           "                         train does (its notes, summary and metadata, with\n"
           "                         cv_folds, cv_seed and cv_accuracy); MODEL is\n"
           "                         checked before any work, as train's MODEL\n"
           "\n"
           "Training options, as train's (see clsoftmax train --help):\n"
           "  --solver NAME          lbfgs, newton, sgd, momentum or adam (default: newton\n"
           "                         for the L2 fits, measured faster along the warm-\n"
           "                         started path; %s where --l1-ratio is above 0\n"
           "                         (OWL-QN); a note on stderr says which)\n"
           "  --max-iter N           iterations (lbfgs) or epochs per fit (default %d)\n"
           "  --tol F                per fit, >= 0 (default %g)\n"
           "  --lbfgs-memory N       lbfgs: correction pairs, 1 to 1000 (default %d)\n"
           "  --lr F, --batch-size N, --momentum F, --n-iter-no-change N, --no-shuffle\n"
           "                         sgd, momentum, adam: as train's\n"
           "  --no-intercept         no bias (default: a bias)\n"
           "  --class-weight SPEC    balanced or LABEL:W,...: weights the training rows of\n"
           "                         each fold (balanced: counted on them), not the scores\n"
           "  --weights FILE         one weight per sample of DATA, a line each\n"
           "  --standardize          standardize the features, fitted on each fold's\n"
           "                         training rows (and for --output on all of DATA)\n"
           "  --double               train in float64 (default float32)\n"
           "%s"
           "  -h, --help             show this help\n"
           "\n"
           "%s"
           "\n"
           "A line per fold goes to stderr (not with -q), and a WARNING when some fits\n"
           "stopped short of --tol.\n"
           "Under mpirun (built with Open MPI): mpirun -np N clsoftmax cv ... runs each\n"
           "fit on N ranks, each on its own device: every rank reads DATA (a file, not\n"
           "'-') and makes the same folds, trains on its share of each fold's training\n"
           "rows and scores its share of the held-out rows, the sums taken over every\n"
           "rank (the scores of one process, up to the order of the sums); rank 0\n"
           "prints and writes, and --output's refit runs as mpirun ... train does.\n"
           "Exit status: 0 success, 1 runtime or data error, 2 usage error.\n",
           DEF_FOLDS, DEF_CS, DEF_RATIOS, (unsigned long long)d.seed, csm_solver_name(d.solver),
           d.max_iter, d.tol, d.lbfgs_memory, cli_output_help, cli_format_help);
}

/* cv's own options; the shared ones (TRAIN_SHARED_OPTIONS), output and
 * data-format options follow them in the table. */
enum { O_FOLDS, O_C, O_L1_RATIO, O_OUTPUT, O_SAVE_FOLDS, O_HELP };

static const cli_option options[] = {
    {"folds", 0, 1},      {"C", 0, 1},         {"l1-ratio", 0, 1},
    {"output", 'o', 1},   {"save-folds", 0, 1}, {"help", 'h', 0},
    TRAIN_SHARED_OPTIONS, CLI_OUTPUT_OPTIONS,  CLI_FORMAT_OPTIONS,
    {NULL, 0, 0}};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One option into c: 0, CLI_USAGE after the error, or -1 after --help. */
static int set_option(cv_cfg *c, int id, const char *v)
{
    train_cfg *t = &c->t;
    int rc = 0;
    long l = 0;
    switch (id) {
    case O_FOLDS:
        rc = cli_parse_long("cv", "--folds", v, 2, INT_MAX, &l);
        c->folds = (size_t)l;
        break;
    case O_C:
        free(c->Cs);
        rc = cli_parse_double_list("cv", "--C", v, 0, 1, INFINITY, 0, &c->Cs, &c->n_C);
        break;
    case O_L1_RATIO:
        free(c->ratios);
        rc = cli_parse_double_list("cv", "--l1-ratio", v, 0, 0, 1, 0, &c->ratios, &c->n_r);
        break;
    case O_OUTPUT:
        t->model_path = v;
        break;
    case O_SAVE_FOLDS:
        c->save_folds = v;
        break;
    case O_HELP:
        help();
        return -1;
    default:
        return train_option("cv", t, options[id].name, v);
    }
    return rc ? CLI_USAGE : 0;
}

/* The defaults of the lists not given, C sorted ascending. */
static int finish_lists(cv_cfg *c)
{
    if (!c->Cs && cli_parse_double_list("cv", "--C", DEF_CS, 0, 1, INFINITY, 0, &c->Cs, &c->n_C))
        return CLI_USAGE;
    if (!c->ratios &&
        cli_parse_double_list("cv", "--l1-ratio", DEF_RATIOS, 0, 0, 1, 0, &c->ratios, &c->n_r))
        return CLI_USAGE;
    qsort(c->Cs, c->n_C, sizeof *c->Cs, cmp_double);
    return 0;
}

/* 0, CLI_USAGE after the error, or -1 after --help. */
static int parse_args(int argc, char **argv, cv_cfg *c)
{
    cli_args it;
    const char *v;
    int id;
    csm_train_options_init(&c->t.opt, sizeof c->t.opt);
    c->folds = DEF_FOLDS;
    cli_format_unset(&c->t.ro);
    cli_args_init(&it, "cv", argc, argv);
    while ((id = cli_args_next(&it, options, &v)) != CLI_ARG_END) {
        if (id == CLI_ARG_ERROR)
            return CLI_USAGE;
        if (id == CLI_ARG_POSITIONAL) {
            if (c->t.data_path)
                return cli_usage_error("cv", "unexpected argument '%s'", v);
            c->t.data_path = v;
            continue;
        }
        int rc = set_option(c, id, v);
        if (rc)
            return rc;
    }
    if (!c->t.data_path)
        return cli_usage_error("cv", "missing DATA argument");
    if (cli_mpi_size() > 1 && strcmp(c->t.data_path, "-") == 0)
        return cli_usage_error("cv", "DATA '-' under mpirun: every rank reads DATA, so it must "
                               "be a file");
    if (finish_lists(c))
        return CLI_USAGE;
    double r_max = 0;
    for (size_t i = 0; i < c->n_r; i++)
        r_max = fmax(r_max, c->ratios[i]);
    return train_check_solver_options("cv", &c->t, r_max);
}

/* Before any work: --output is not DATA, --weights or the labels file,
 * and can be written. */
static int check_io(const cv_cfg *c)
{
    cli_io io;
    memset(&io, 0, sizeof io);
    cli_io_data(&io, c->t.data_path, &c->t.ro);
    cli_io_reader_input(&io, c->t.weights_path);
    cli_io_output(&io, c->t.model_path, "model (--output)", 0);
    cli_io_output(&io, c->save_folds, "fold file (--save-folds)", 1);
    int rc = cli_io_check(&io);
    cli_io_free(&io);
    return rc;
}

/* The folds, after the checks scikit-learn's StratifiedKFold makes. */
static int make_folds(const cv_cfg *c, const train_input *in, int32_t **fold)
{
    size_t least = 0, most = 0;
    const char *name = csm_display_name(c->t.data_path);
    if (c->folds > in->n) {
        cli_error("%s: --folds %zu is more than its %zu samples", name, c->folds, in->n);
        return CLI_FAIL;
    }
    if (!(*fold = malloc(in->n * sizeof **fold)) ||
        cv_assign_folds(*fold, in->labels, in->n, in->classes.C, c->folds, c->t.opt.seed,
                        &least, &most)) {
        cli_error("out of memory");
        return CLI_FAIL;
    }
    if (most < c->folds) {
        cli_error("%s: every class has fewer than --folds %zu samples (the largest %zu): "
                  "use fewer folds", name, c->folds, most);
        return CLI_FAIL;
    }
    if (least < c->folds)
        cli_warning("%s: its least populated class has %zu sample%s, fewer than --folds %zu: "
                    "some folds hold none of it out", name, least, least == 1 ? "" : "s",
                    c->folds);
    return 0;
}

/* --save-folds FILE: a fold index per line, replaced whole. */
static int save_folds(const char *path, const int32_t *fold, size_t n)
{
    FILE *f = NULL;
    cli_out *o = cli_out_open(path, &f);
    if (!o)
        return CLI_FAIL;
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%d\n", (int)fold[i]);
    return cli_out_commit(o);
}

/* --output: the best setting's model on all of DATA, through train's own
 * stages (so it is written, described and remembered as train's), with
 * the cross-validation in its metadata. */
static int refit(cv_cfg *c, train_input *in, const cv_scores *s, size_t best)
{
    cli_progress p;
    train_sets sets;
    train_fitted fitted;
    double acc, sd;
    memset(&sets, 0, sizeof sets);
    memset(&fitted, 0, sizeof fitted);
    c->t.opt.C = c->Cs[best % c->n_C];
    c->t.opt.l1_ratio = c->ratios[best / c->n_C];
    c->t.opt.solver = cv_solver(c, c->t.opt.l1_ratio);
    c->t.solver_given = 1; /* the folds' solver, not train's default by the data */
    cli_progress_init(&p, cli_quiet, &c->t.opt);
    int rc = train_prepare(&c->t, in, &p, &sets);
    cv_mean_std(s->accuracy, best, s->folds, &acc, &sd);
    char folds[32], seed[32];
    snprintf(folds, sizeof folds, "%zu", c->folds);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)c->t.opt.seed);
    csm_status st = CSM_OK;
    if (!rc && ((st = csm_model_set_metadata(sets.model, "cv_folds", folds)) != CSM_OK ||
                (st = csm_model_set_metadata(sets.model, "cv_seed", seed)) != CSM_OK))
        rc = cli_lib_error(in->ctx, st);
    if (!rc && train_meta_double(sets.model, "cv_accuracy", acc))
        rc = CLI_FAIL;
    if (!rc)
        rc = train_fit(&c->t, in, &sets, &p, &fitted);
    if (!rc)
        rc = train_save(&c->t, &sets, &fitted.outcome);
    if (!rc)
        rc = train_report(&p, &c->t, &sets, &fitted);
    cli_signals_release();
    train_fitted_free(&fitted);
    train_sets_free(&sets);
    return rc;
}

/* --output under MPI, ranks 1..P-1: train's follower on the rows rank
 * 0's refit sends (every rank chose the same best: the scores are sums
 * over every rank). */
static int refit_follower(cv_cfg *c, size_t best)
{
    c->t.opt.C = c->Cs[best % c->n_C];
    c->t.opt.l1_ratio = c->ratios[best / c->n_C];
    c->t.opt.solver = cv_solver(c, c->t.opt.l1_ratio);
    c->t.solver_given = 1;
    return train_mpi_follower(&c->t);
}

/* Without --solver: which solver the fits run, and why. */
static void solver_note(const cv_cfg *c)
{
    int newton = 0, lbfgs = 0;
    for (size_t r = 0; r < c->n_r; r++) {
        newton |= cv_solver(c, c->ratios[r]) == CSM_NEWTON;
        lbfgs |= cv_solver(c, c->ratios[r]) == CSM_LBFGS;
    }
    if (c->t.solver_given)
        return;
    if (newton)
        cli_note("solver: newton for the L2 fits, the cv default (a warm-started path suits "
                 "it)%s; --solver lbfgs for L-BFGS",
                 lbfgs ? ", lbfgs (OWL-QN) where --l1-ratio is above 0" : "");
    else
        cli_note("solver: lbfgs (OWL-QN: every --l1-ratio is above 0)");
}

static int cv(cv_cfg *c)
{
    train_input in;
    cv_scores s;
    int32_t *fold = NULL;
    memset(&in, 0, sizeof in);
    memset(&s, 0, sizeof s);
    int rc = train_read(&c->t, &in);
    if (!rc)
        rc = make_folds(c, &in, &fold);
    if (!rc && c->save_folds && cli_mpi_rank() == 0)
        rc = save_folds(c->save_folds, fold, in.n);
    if (!rc) {
        cli_note("%s: %zu samples, %zu features, %zu classes; %zu folds, %zu settings; device: %s",
                 csm_display_name(c->t.data_path), in.n, in.k, in.classes.C, c->folds,
                 c->n_C * c->n_r, csm_context_device(in.ctx)->device_name);
        if (cli_mpi_size() > 1)
            cli_note("MPI: %d ranks, each fold's rows shared out (rank 0 reports)",
                     cli_mpi_size());
        solver_note(c);
        rc = cv_run_folds(c, &in, fold, &s);
    }
    if (!rc) {
        size_t best = cv_best(c, &s);
        if (cli_mpi_rank() == 0)
            cv_print(stdout, c, &s, best);
        fflush(stdout);
        if (s.short_fits)
            cli_warning("%zu of %zu fits stopped short of --tol %g: increase --max-iter%s",
                        s.short_fits, s.settings * s.folds, c->t.opt.tol,
                        c->t.standardize ? "" : " or standardize the features (--standardize)");
        if (c->t.model_path && cli_mpi_rank() == 0)
            rc = refit(c, &in, &s, best);
        else if (c->t.model_path) /* the ranks train the refit with rank 0 */
            rc = refit_follower(c, best);
    }
    cv_scores_free(&s);
    free(fold);
    train_input_free(&in);
    return rc;
}

int cmd_cv(int argc, char **argv)
{
    cv_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    int rc = parse_args(argc, argv, &cfg);
    if (rc == 0 && cli_mpi_rank() > 0)
        cli_quiet = 2; /* rank 0 reports; errors still name their rank */
    if (rc == 0)
        rc = cli_mpi_rank() == 0 && check_io(&cfg) ? CLI_FAIL : cv(&cfg);
    cli_class_weight_free(&cfg.t.cw);
    free(cfg.Cs);
    free(cfg.ratios);
    return rc == -1 ? CLI_OK : rc; /* -1: --help */
}
