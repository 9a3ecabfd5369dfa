/* clsoftmax train [OPTIONS] DATA MODEL */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"
#include "mpi.h"
#include "train.h"

/* Not a csm_train option: csm_model_init() takes it. */
#define DEF_INIT 0 /* zeros */

const char *const train_inits[] = {"zeros", "normal", NULL};
static const char *const solvers[] = {"sgd", "momentum", "adam", "lbfgs", NULL};

/* Every default printed here is read from csm_train_options_init(), the
 * library's, so that the help cannot drift from what csm_train() does. */
static void help(void)
{
    csm_train_options d;
    csm_train_options_init(&d, sizeof d);
    printf("Usage: clsoftmax train [OPTIONS] DATA MODEL\n"
           "Train a softmax-regression model on DATA and write it to MODEL (safetensors).\n"
           "Classes are the sorted distinct labels of DATA; predictions come back in\n"
           "the same label values.\n"
           "\n"
           "The objective is scikit-learn's LogisticRegression (multinomial) divided by\n"
           "the sum of the sample weights s_i (1 each without --class-weight):\n"
           "  J = sum_i s_i l_i / sum_i s_i + (lambda/2) ||W||^2,\n"
           "  lambda = 1 / (C sum_i s_i)   (2 / (C sum_i s_i) for two classes)\n"
           "(l_i cross-entropy, natural log; the bias is not penalised), and by default it\n"
           "is minimised as scikit-learn does, by full-batch L-BFGS to a tolerance, so\n"
           "the weights compare directly with LogisticRegression(C=...).\n"
           "\n"
           "Solver options:\n"
           "  --solver NAME          lbfgs, sgd, momentum or adam (default %s);\n"
           "                         --optimizer NAME is a synonym kept for old scripts\n"
           "  --max-iter N           at most N iterations (lbfgs) or epochs (sgd,\n"
           "                         momentum, adam) (default %d)\n"
           "  --epochs N             sgd, momentum, adam: the same as --max-iter\n"
           "  --tol F                stop once converged, >= 0; 0 runs --max-iter\n"
           "                         (default %g). lbfgs: max |dJ/dtheta| <= F, scikit-\n"
           "                         learn's lbfgs test. sgd, momentum, adam: the epoch\n"
           "                         loss has not improved by more than F for\n"
           "                         --n-iter-no-change epochs, scikit-learn's SGD test\n"
           "  --n-iter-no-change N   sgd, momentum, adam: epochs of --tol (default %d)\n"
           "  --lbfgs-memory N       lbfgs: correction pairs kept, 1 to 1000 (default %d)\n"
           "  --C F                  inverse regularisation strength, > 0, as in\n"
           "                         scikit-learn and liblinear: lambda = 1 / (C * sum of\n"
           "                         sample weights), 1 / (C n) unweighted; for two\n"
           "                         classes 2 / (C * sum of weights), so that the model\n"
           "                         is their binary one at the same C (default %g)\n"
           "  --l2 F                 lambda itself, >= 0, instead of --C (0: no penalty)\n"
           "  --no-intercept         no bias: b = 0 (scikit-learn's fit_intercept=False);\n"
           "                         --standardize then scales without centring\n"
           "  --class-weight SPEC    balanced: class c weighs n / (classes * count_c),\n"
           "                         as scikit-learn; or LABEL:W,LABEL:W,... in the\n"
           "                         data's label values or class names (setosa:2),\n"
           "                         W >= 0, unlisted classes 1.\n"
           "                         Weights the training samples, not the validation\n"
           "                         (default: none, every sample 1)\n"
           "  --weights FILE         one weight per training sample, a line each, in the\n"
           "                         order of DATA (liblinear's -W); with\n"
           "                         --weight-column and --class-weight they multiply\n"
           "  --lr F                 sgd, momentum, adam: learning rate (default %g with\n"
           "                         sgd, %g with momentum, %g with adam)\n"
           "  --batch-size N         sgd, momentum, adam: samples per step, 0 = full\n"
           "                         batch (default %zu)\n"
           "  --momentum F           momentum: the momentum coefficient (default %g)\n"
           "  --seed N               seed for shuffling, --init normal and\n"
           "                         --validation-split (default %llu; with --resume, the\n"
           "                         model's seed, so that its shuffles continue)\n"
           "  --no-shuffle           sgd, momentum, adam: keep the data order (default:\n"
           "                         reshuffle every epoch)\n"
           "\n"
           "Training options:\n"
           "  --init NAME            zeros, or normal: N(0, 0.01^2) weights (default %s)\n"
           "  --standardize          train on per-feature standardized features (mean 0,\n"
           "                         std 1); the saved model still takes raw features.\n"
           "                         Sparse data (and any with --no-intercept) is scaled\n"
           "                         only, not centred (as\n"
           "                         StandardScaler(with_mean=False)): divided by each\n"
           "                         feature's std over all rows, zeros included\n"
           "  --double               train in float64 (needs a device with fp64;\n"
           "                         default float32)\n"
           "  --validation FILE      validation data, evaluated after every epoch\n"
           "                         (lbfgs: iteration)\n"
           "  --validation-split F   hold out the last fraction F (0 < F < 1) of the\n"
           "                         data after a shuffle by --seed (default: none)\n"
           "  --early-stopping N     stop after N epochs without validation-loss\n"
           "                         improvement and save the best epoch's weights\n"
           "                         (needs --validation or --validation-split; default off)\n"
           "  --history FILE         write a CSV row per epoch (lbfgs: iteration):\n"
           "                         epoch,loss,accuracy,val_loss,val_accuracy,seconds,\n"
           "                         grad_max_abs\n"
           "  --plot FILE.svg        draw the loss and accuracy per epoch (lbfgs:\n"
           "                         iteration), training and validation, in an SVG\n"
           "                         picture; its data-* attributes hold the numbers\n"
           "  --resume MODEL         continue a saved model: its weights, and the solver\n"
           "                         state it carries when --solver is the same (Adam\n"
           "                         moments, momentum, the epoch count; lbfgs its history\n"
           "                         when its run stopped short of --tol and\n"
           "                         --lbfgs-memory is the same); its classes must include\n"
           "                         every label of DATA, which is read with the\n"
           "                         data-format options the model remembers unless given\n"
           "                         here; MODEL may be the --resume model itself\n"
           "%s"
           "  -h, --help             show this help\n"
           "\n"
           "%s"
           "\n"
           "Progress goes to stderr: a live line on a terminal; in a pipe or a file one\n"
           "line every 10%% of --max-iter or every 10 s, whichever comes first, and the\n"
           "last (-v: every epoch, lbfgs: iteration); then a summary: why it stopped,\n"
           "after how many iterations, the objective J and max|grad| at the saved\n"
           "weights, the training accuracy. A run that stops short of --tol (at\n"
           "--max-iter, or when lbfgs can make no more progress) prints a WARNING, even\n"
           "with -q (not with --silent), and still saves the model.\n"
           "Under mpirun (built with Open MPI): mpirun -np N clsoftmax train ... trains\n"
           "on N ranks, each on its own device (CLSOFTMAX_DEVICE per rank), with the\n"
           "model one process would train; rank 0 reads DATA, reports and writes MODEL.\n"
           "--validation, --validation-split, --early-stopping and --resume are refused.\n"
           "MODEL, --history and --plot are checked before any work: none may be DATA,\n"
           "--validation, --weights, the labels file, the --resume model (MODEL\n"
           "excepted), the file standard input reads for a '-' among them, or another\n"
           "of them (links included); each must be a regular file or new, in a\n"
           "directory where a file can be made (--history and --plot may also be a pipe\n"
           "or device such as /dev/stdout). MODEL is replaced whole.\n"
           "Ctrl-C (SIGINT), SIGTERM or SIGHUP stops training at the end of the current\n"
           "iteration and saves that iteration's model, marked interrupted in its\n"
           "metadata (continue it with --resume); a second signal ends the command at\n"
           "once, saving nothing.\n"
           "Exit status: 0 success, 1 runtime or data error, 2 usage error; 130, 143,\n"
           "129: interrupted by SIGINT, SIGTERM, SIGHUP, the model saved.\n",
           csm_solver_name(d.solver), d.max_iter, d.tol, d.n_iter_no_change, d.lbfgs_memory,
           d.C, csm_default_learning_rate(CSM_SGD), csm_default_learning_rate(CSM_MOMENTUM),
           csm_default_learning_rate(CSM_ADAM), d.batch_size, d.momentum,
           (unsigned long long)d.seed, train_inits[DEF_INIT], cli_output_help, cli_format_help);
}

enum {
    O_SOLVER,
    O_OPTIMIZER,
    O_MAX_ITER,
    O_EPOCHS,
    O_TOL,
    O_N_ITER_NO_CHANGE,
    O_LBFGS_MEMORY,
    O_C,
    O_L2,
    O_NO_INTERCEPT,
    O_CLASS_WEIGHT,
    O_LR,
    O_BATCH,
    O_MOMENTUM,
    O_INIT,
    O_SEED,
    O_NO_SHUFFLE,
    O_STANDARDIZE,
    O_DOUBLE,
    O_VALIDATION,
    O_VALIDATION_SPLIT,
    O_EARLY_STOPPING,
    O_HISTORY,
    O_RESUME,
    O_PLOT,
    O_WEIGHTS,
    O_HELP,
    O_QUIET,
    O_SILENT,
    O_VERBOSE,
    O_FORMAT_FIRST
};

static const cli_option options[] = {
    {"solver", 0, 1},       {"optimizer", 0, 1},     {"max-iter", 0, 1},
    {"epochs", 0, 1},       {"tol", 0, 1},           {"n-iter-no-change", 0, 1},
    {"lbfgs-memory", 0, 1}, {"C", 0, 1},             {"l2", 0, 1},
    {"no-intercept", 0, 0},
    {"class-weight", 0, 1}, {"lr", 0, 1},            {"batch-size", 0, 1},
    {"momentum", 0, 1},     {"init", 0, 1},          {"seed", 0, 1},
    {"no-shuffle", 0, 0},   {"standardize", 0, 0},   {"double", 0, 0},
    {"validation", 0, 1},   {"validation-split", 0, 1}, {"early-stopping", 0, 1},
    {"history", 0, 1},      {"resume", 0, 1},        {"plot", 0, 1},
    {"weights", 0, 1},      {"help", 'h', 0},        CLI_OUTPUT_OPTIONS,
    CLI_FORMAT_OPTIONS,
    {NULL, 0, 0}};

/* Options given on the command line, by option id, for the checks that
 * depend on the solver (which may come after them). */
typedef struct given_opts {
    int set[O_FORMAT_FIRST];
} given_opts;

/* Options that belong to one kind of solver are refused with the other,
 * rather than silently ignored: `--solver lbfgs --lr 0.1` would otherwise
 * look like it trained with that learning rate. */
static int check_solver_options(const train_cfg *c, const given_opts *g)
{
    static const int first_order_only[] = {O_LR, O_BATCH, O_MOMENTUM, O_N_ITER_NO_CHANGE,
                                           O_NO_SHUFFLE};
    if (g->set[O_EPOCHS] && g->set[O_MAX_ITER])
        return cli_usage_error("train", "--epochs and --max-iter are the same option: give one");
    if (g->set[O_C] && g->set[O_L2])
        return cli_usage_error("train",
                               "--C and --l2 both set the penalty (lambda = 1 / (C * n)): "
                               "give one");
    if (c->opt.solver == CSM_LBFGS) {
        if (g->set[O_EPOCHS])
            return cli_usage_error("train", "--epochs counts epochs of sgd, momentum and adam; "
                                            "lbfgs counts iterations: use --max-iter");
        for (size_t i = 0; i < sizeof first_order_only / sizeof *first_order_only; i++)
            if (g->set[first_order_only[i]])
                return cli_usage_error("train",
                                       "--%s applies to --solver sgd, momentum and adam, not "
                                       "to lbfgs (full batch, no learning rate)",
                                       options[first_order_only[i]].name);
    } else if (g->set[O_LBFGS_MEMORY]) {
        return cli_usage_error("train", "--lbfgs-memory applies to --solver lbfgs only");
    }
    return 0;
}

static int parse_args(int argc, char **argv, train_cfg *c)
{
    cli_args it;
    const char *v;
    int id, npos = 0, choice;
    const char *pos[2] = {NULL, NULL};
    long l;
    given_opts given;

    memset(c, 0, sizeof *c);
    memset(&given, 0, sizeof given);
    csm_train_options_init(&c->opt, sizeof c->opt);
    c->init = DEF_INIT;
    cli_format_unset(&c->ro); /* --resume: the model fills what is not given */

    cli_args_init(&it, "train", argc, argv);
    while ((id = cli_args_next(&it, options, &v)) != CLI_ARG_END) {
        int rc = 0;
        if (id >= 0 && id < O_FORMAT_FIRST)
            given.set[id] = 1;
        switch (id) {
        case CLI_ARG_ERROR:
            return CLI_USAGE;
        case CLI_ARG_POSITIONAL:
            if (npos >= 2)
                return cli_usage_error("train", "unexpected argument '%s'", v);
            pos[npos++] = v;
            break;
        case O_SOLVER:
        case O_OPTIMIZER:
            rc = cli_parse_choice("train", id == O_SOLVER ? "--solver" : "--optimizer", v,
                                  solvers, &choice);
            if (!rc)
                c->opt.solver = (csm_solver)csm_solver_from_name(solvers[choice]);
            break;
        case O_MAX_ITER:
        case O_EPOCHS:
            rc = cli_parse_long("train", id == O_MAX_ITER ? "--max-iter" : "--epochs", v, 1,
                                INT_MAX, &l);
            c->opt.max_iter = (int)l;
            break;
        case O_TOL:
            rc = cli_parse_double("train", "--tol", v, 0, 0, INFINITY, 0, &c->opt.tol);
            break;
        case O_N_ITER_NO_CHANGE:
            rc = cli_parse_long("train", "--n-iter-no-change", v, 1, INT_MAX, &l);
            c->opt.n_iter_no_change = (int)l;
            break;
        case O_LBFGS_MEMORY:
            rc = cli_parse_long("train", "--lbfgs-memory", v, 1, 1000, &l);
            c->opt.lbfgs_memory = (int)l;
            break;
        case O_C:
            rc = cli_parse_double("train", "--C", v, 0, 1, INFINITY, 0, &c->opt.C);
            break;
        case O_L2:
            rc = cli_parse_double("train", "--l2", v, 0, 0, INFINITY, 0, &c->opt.l2);
            c->use_l2 = 1;
            break;
        case O_NO_INTERCEPT:
            c->opt.fit_intercept = 0;
            break;
        case O_CLASS_WEIGHT:
            cli_class_weight_free(&c->cw);
            rc = cli_class_weight_parse("train", v, &c->cw);
            c->class_weight = v;
            break;
        case O_LR:
            rc = cli_parse_double("train", "--lr", v, 0, 1, INFINITY, 0, &c->opt.learning_rate);
            break;
        case O_BATCH:
            rc = cli_parse_size("train", "--batch-size", v, &c->opt.batch_size);
            break;
        case O_MOMENTUM:
            rc = cli_parse_double("train", "--momentum", v, 0, 0, 1, 1, &c->opt.momentum);
            break;
        case O_INIT:
            rc = cli_parse_choice("train", "--init", v, train_inits, &c->init);
            break;
        case O_SEED:
            rc = cli_parse_u64("train", "--seed", v, &c->opt.seed);
            c->seed_given = 1;
            break;
        case O_NO_SHUFFLE:
            c->opt.shuffle = 0;
            break;
        case O_STANDARDIZE:
            c->standardize = 1;
            break;
        case O_DOUBLE:
            c->use_double = 1;
            break;
        case O_VALIDATION:
            c->validation = v;
            break;
        case O_VALIDATION_SPLIT:
            rc = cli_parse_double("train", "--validation-split", v, 0, 1, 1, 1, &c->split);
            break;
        case O_EARLY_STOPPING:
            rc = cli_parse_long("train", "--early-stopping", v, 1, INT_MAX, &l);
            c->patience = l;
            break;
        case O_HISTORY:
            c->history = v;
            break;
        case O_PLOT:
            c->plot = v;
            break;
        case O_RESUME:
            c->resume = v;
            c->opt.resume = 1;
            break;
        case O_WEIGHTS:
            c->weights_path = v;
            break;
        case O_QUIET:
        case O_SILENT:
        case O_VERBOSE:
            cli_output_option(options[id].name);
            break;
        case O_HELP:
            help();
            return -1;
        default:
            rc = cli_format_option("train", options[id].name, v, &c->ro);
            break;
        }
        if (rc)
            return CLI_USAGE;
    }
    if (npos < 2)
        return cli_usage_error("train", npos == 0 ? "missing DATA and MODEL arguments"
                                                  : "missing MODEL argument");
    c->data_path = pos[0];
    c->model_path = pos[1];
    if (check_solver_options(c, &given))
        return CLI_USAGE;
    if (c->validation && c->split > 0)
        return cli_usage_error("train", "--validation and --validation-split exclude each other");
    if (c->patience > 0 && !c->validation && !(c->split > 0))
        return cli_usage_error("train",
                               "--early-stopping needs --validation or --validation-split");
    return 0;
}

/* State shared with the epoch callback. */
typedef struct train_state {
    cli_progress progress;
    cli_history history;
    plot_history plot;
    csm_dataset *val;
    long patience;
    int bad_epochs;
    double best_loss;
    int best_epoch;
    double *best_w, *best_b;
    csm_status err;
    int write_failed;
    int stopped_early;
    int last_epoch;
} train_state;

static int on_epoch(csm_model *model, const csm_epoch_info *info, void *user)
{
    train_state *s = user;
    int has_val = s->val != NULL;
    double vl = 0, va = 0;
    if (has_val) {
        csm_status st = csm_evaluate(model, s->val, &vl, &va);
        if (st != CSM_OK) {
            s->err = st;
            return 1;
        }
    }
    s->last_epoch = info->epoch;
    cli_progress_epoch(&s->progress, info, has_val, vl, va);
    if (cli_history_row(&s->history, info, has_val, vl, va) != 0 ||
        plot_history_add(&s->plot, info, has_val, vl, va) != 0) {
        s->write_failed = 1;
        return 1;
    }
    if (s->patience > 0) {
        if (s->best_epoch == 0 || vl < s->best_loss) {
            s->best_loss = vl;
            s->best_epoch = info->epoch;
            s->bad_epochs = 0;
            csm_status st = csm_model_get_params(model, s->best_w, s->best_b);
            if (st != CSM_OK) {
                s->err = st;
                return 1;
            }
        } else if (++s->bad_epochs >= s->patience) {
            s->stopped_early = 1;
            return 1;
        }
    }
    /* Ctrl-C: stop here, at the end of the iteration, and save (signals.c) */
    return cli_signal_caught() != 0;
}

/* Without --seed, a resumed run takes the seed it was trained with: the
 * library draws epoch e's shuffle from (seed, e), so the same seed makes
 * 3 + 3 epochs see the batches of 6 in one run. */
static int inherit_seed(train_cfg *c, const csm_model *loaded)
{
    const char *s = csm_model_get_metadata(loaded, "seed");
    if (c->seed_given || !s)
        return 0;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || errno == ERANGE || s[0] == '-' || s[0] == '+' || s[0] == ' ') {
        cli_error("%s: metadata seed '%.40s' is not a seed: give --seed", c->resume, s);
        return CLI_FAIL;
    }
    c->opt.seed = (uint64_t)v;
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
    else
        cli_progress_note(p, "%s: continuing its %s state after %ld epoch%s", c->resume, had,
                          iters, iters == 1 ? "" : "s");
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

/* The saved model's numbers: after --early-stopping the best epoch's
 * weights replace the last ones, so J and its gradient are recomputed
 * there (gw, gb: scratch of C x k and C). */
static csm_status finish_outcome(csm_model *model, const csm_dataset *train, const csm_dataset *val,
                                 const train_state *s, size_t C, size_t k, double *gw, double *gb,
                                 train_outcome *out)
{
    csm_status st;
    if (s->patience > 0 && s->best_epoch > 0) {
        out->best_epoch = s->best_epoch;
        if ((st = csm_model_set_params(model, s->best_w, s->best_b)) != CSM_OK ||
            (st = csm_gradient(model, train, out->res.l2, &out->res.objective, gw, gb)) != CSM_OK)
            return st;
        double g = 0;
        for (size_t i = 0; i < C * k; i++)
            g = fmax(g, fabs(gw[i]));
        for (size_t c = 0; c < C; c++)
            g = fmax(g, fabs(gb[c]));
        out->res.grad_max_abs = g;
    }
    if ((st = csm_evaluate(model, train, NULL, &out->accuracy)) != CSM_OK)
        return st;
    out->has_val = val != NULL;
    if (val && (st = csm_evaluate(model, val, &out->val_loss, &out->val_acc)) != CSM_OK)
        return st;
    return CSM_OK;
}

/* Host scratch of the model's size, C x k doubles, allocated only when a
 * step needs the weights on the host (standardization, early stopping):
 * for hashed features (k = 2^24 and more) this is the largest host array. */
static int alloc_params(double **w, double **b, size_t C, size_t k)
{
    if (*w)
        return 0;
    if (k > 0 && C > SIZE_MAX / sizeof **w / k)
        return -1;
    *w = malloc(C * k * sizeof **w);
    *b = malloc(C * sizeof **b);
    return *w && *b ? 0 : -1;
}

/* --plot: the history drawn, titled with the data and the run's end. */
static int write_plot(const train_cfg *c, train_state *s, const train_outcome *o)
{
    char title[1200], sub[1400];
    if (!c->plot)
        return 0;
    const char *unit = train_unit(c->opt.solver);
    snprintf(title, sizeof title, "clsoftmax train %s", c->data_path);
    snprintf(sub, sizeof sub, "%s, %d %s%s, %s; validation: %s", csm_solver_name(c->opt.solver),
             o->res.n_iter, unit, o->res.n_iter == 1 ? "" : "s",
             o->res.converged ? "converged" : csm_stop_string(o->res.stop),
             c->validation ? c->validation : c->split > 0 ? "split of the data" : "none");
    if (plot_history_write(&s->plot, title, sub, unit, s->best_epoch))
        return CLI_FAIL;
    cli_progress_note(&s->progress, "wrote %s (%zu %ss drawn)", c->plot, s->plot.n, unit);
    return 0;
}

/* Before any work (cli_io_check): the model, --history and --plot are not
 * DATA, --validation, --weights, the labels file (nor, for a "-" among
 * these, the file standard input reads) or each other (the model may be
 * the --resume model: continued in place), and can be written. Prints the
 * error, returns CLI_FAIL. */

static int check_io(const train_cfg *c)
{
    cli_io io;
    memset(&io, 0, sizeof io);
    cli_io_data(&io, c->data_path, &c->ro);
    cli_io_reader_input(&io, c->validation);
    cli_io_reader_input(&io, c->weights_path);
    cli_io_input(&io, c->resume);
    cli_io_output(&io, c->model_path, "model", 0);
    cli_io_output(&io, c->history, "history file (--history)", 1);
    cli_io_output(&io, c->plot, "picture (--plot)", 1);
    io.in_place = c->resume;
    int rc = cli_io_check(&io);
    cli_io_free(&io);
    return rc;
}

int cmd_train(int argc, char **argv)
{
    train_cfg cfg;
    int rc = parse_args(argc, argv, &cfg);
    if (rc) {
        cli_class_weight_free(&cfg.cw);
        return rc == -1 ? CLI_OK : rc;
    }
    /* mpirun: rank 0 runs what follows, the others train on its rows */
    if (cli_mpi_size() > 1 && ((rc = train_mpi_check(&cfg)) || cli_mpi_rank() > 0)) {
        if (!rc)
            rc = train_mpi_follower(&cfg);
        cli_class_weight_free(&cfg.cw);
        return rc;
    }

    if (check_io(&cfg)) {
        cli_class_weight_free(&cfg.cw);
        return CLI_FAIL;
    }

    const char *whose_resume = NULL;
    char whose_buf[1100], storage[256];
    csm_context *ctx = NULL;
    csm_model *model = NULL, *loaded = NULL;
    csm_dataset *train_set = NULL, *val_set = NULL;
    csm_table tab, ttab, vtab;
    csm_table *tt = &tab, *vt = NULL; /* the training and validation tables */
    cli_classes classes = {0};
    size_t C = 0, k = 0, n_all = 0;
    int32_t *labels = NULL;
    int32_t *train_labels = NULL, *val_labels = NULL;
    double *mean = NULL, *scale = NULL, *w = NULL, *b = NULL;
    double *given_w = NULL; /* --weight-column and --weights, of the training rows */
    char table_note[1024] = "";
    train_state state;
    train_outcome outcome;
    train_mpi_share share;
    csm_status st;
    int status = CLI_FAIL;
    memset(&tab, 0, sizeof tab);
    memset(&ttab, 0, sizeof ttab);
    memset(&vtab, 0, sizeof vtab);
    memset(&state, 0, sizeof state);
    memset(&outcome, 0, sizeof outcome);
    memset(&share, 0, sizeof share);
    outcome.res.struct_size = sizeof outcome.res;
    csm_precision prec = cfg.use_double ? CSM_FLOAT64 : CSM_FLOAT32;
    cli_progress_init(&state.progress, cli_quiet, &cfg.opt);

    /* A resumed model fixes the feature count (libsvm), the classes and,
     * unless --seed says otherwise, the seed. */
    if (cfg.resume) {
        if (!(ctx = cli_context_create()))
            goto done;
        if (cli_load_model(ctx, cfg.resume, &loaded))
            goto done;
        if (inherit_seed(&cfg, loaded))
            goto done;
        cfg.ro.n_features = csm_model_n_features(loaded);
        if (cli_format_from_model(&cfg.ro, loaded, cfg.resume, cfg.data_path, storage,
                                  sizeof storage))
            goto done;
        snprintf(whose_buf, sizeof whose_buf, "the model %s does not know", cfg.resume);
        whose_resume = whose_buf;
    }
    cli_format_defaults(&cfg.ro);
    if (cli_read_table(cfg.data_path, &cfg.ro, &tab) ||
        (cfg.weights_path && train_read_weights(&cfg, &tab)))
        goto done;
    cli_table_notes(table_note, sizeof table_note, cfg.data_path, &tab);
    k = tab.k;
    n_all = tab.n;
    cfg.read_format = tab.format;
    cli_describe_storage(storage, sizeof storage, &tab, cfg.ro.storage);

    labels = malloc(tab.n * sizeof *labels);
    if (!labels)
        goto nomem;
    if (loaded) {
        if (cli_check_features(cfg.data_path, &tab, csm_model_n_features(loaded), cfg.resume) ||
            cli_check_names(cfg.data_path, &tab, loaded, cfg.resume) < 0)
            goto done;
        if (cli_model_classes(loaded, cfg.resume, &classes))
            goto done;
        C = classes.C;
        if (cli_map_table(cfg.data_path, &tab, &classes, whose_resume, labels))
            goto done;
    } else {
        if (cli_table_classes(cfg.data_path, &tab, "training", &classes))
            goto done;
        C = classes.C;
        if (cli_map_table(cfg.data_path, &tab, &classes, "the training data does not have",
                          labels))
            goto done;
    }
    /* The data is good: only now the device (a bad file fails fast). */
    if (!ctx && !(ctx = cli_context_create()))
        goto done;

    /* Training and validation rows. */
    size_t n_train = tab.n, n_val = 0;
    train_labels = labels;
    if (cfg.split > 0) {
        n_val = (size_t)floor(cfg.split * (double)tab.n);
        if (n_val < 1 || n_val >= tab.n) {
            cli_error("%s: --validation-split %g of %zu samples leaves %zu for validation and "
                      "%zu for training: both need at least one",
                      cfg.data_path, cfg.split, tab.n, n_val, tab.n - n_val);
            goto done;
        }
        n_train = tab.n - n_val;
        train_labels = malloc(n_train * sizeof *train_labels);
        val_labels = malloc(n_val * sizeof *val_labels);
        if (!train_labels || !val_labels)
            goto nomem;
        if (train_split_rows(&cfg, &tab, labels, n_val, &ttab, train_labels, &vtab, val_labels))
            goto nomem;
        csm_table_free(&tab); /* the two parts replace it */
        tt = &ttab;
        vt = &vtab;
    } else if (cfg.validation) {
        if (train_read_validation(&cfg, &tab, k, &vtab))
            goto done;
        vt = &vtab;
        n_val = vtab.n;
        val_labels = malloc(n_val * sizeof *val_labels);
        if (!val_labels)
            goto nomem;
        if (cli_map_table(cfg.validation, &vtab, &classes,
                           whose_resume ? whose_resume : "the training data does not have",
                           val_labels))
            goto done;
    }

    if (cfg.standardize && train_standardize(&cfg, loaded, tt, vt, k, &mean, &scale))
        goto done;

    /* The model. */
    if (loaded) {
        note_resume_state(&state.progress, &cfg, loaded, csm_model_precision(loaded) != prec);
        if (csm_model_precision(loaded) != prec) {
            if (cli_convert_model(loaded, prec, &model))
                goto done;
            csm_model_free(loaded);
        } else {
            model = loaded;
        }
        loaded = NULL;
        if (cfg.standardize) {
            if (alloc_params(&w, &b, C, k))
                goto nomem;
            if ((st = csm_model_get_params(model, w, b)) != CSM_OK)
                goto liberr;
            cli_standardize_unfold(w, b, C, k, mean, scale);
            if ((st = csm_model_set_params(model, w, b)) != CSM_OK)
                goto liberr;
        }
    } else {
        if ((st = csm_model_create(ctx, &model, prec, C, k)) != CSM_OK)
            goto liberr;
        if (cli_classes_to_model(model, &classes))
            goto done;
        if ((st = csm_model_init(model, cfg.init == 1 ? CSM_INIT_NORMAL : CSM_INIT_ZEROS,
                                 cfg.opt.seed)) != CSM_OK)
            goto liberr;
    }

    if (cli_names_to_model(model, tt))
        goto done;

    /* Under MPI rank 0 sends the model's labels (0..C-1 for named classes:
     * only rank 0 writes the model and its names) with the rows. */
    if (cli_mpi_size() > 1 &&
        (rc = train_mpi_share_rows(&cfg, model, tt, train_labels, &classes, &share))) {
        status = rc; /* a --class-weight label that is not a class is a usage error */
        goto done;
    }
    if (cli_make_dataset(ctx, &train_set, prec, tt, train_labels, C))
        goto done;
    if (cli_mpi_size() > 1 && train_mpi_attach(&cfg, ctx, train_set, &share))
        goto done;
    /* The library holds the rows now, on the device or (data past the
     * device's allocation, or CLSOFTMAX_MAX_ALLOC: streamed) in its own
     * host copy: ours goes before the next one is made, so the host never
     * holds two copies of the training rows beyond csm_dataset_create(). */
    given_w = tt->weights;
    tt->weights = NULL;
    csm_table_free(tt);
    if (vt && cli_make_dataset(ctx, &val_set, prec, vt, val_labels, C))
        goto done;
    /* Training holds O(nnz + C k) on the host at most, besides a streamed
     * dataset's own copy. */
    csm_table_free(&tab);
    csm_table_free(&ttab);
    csm_table_free(&vtab);

    if ((cfg.class_weight || given_w) && cli_mpi_size() == 1 &&
        (rc = apply_sample_weights(&cfg, ctx, train_set, &classes, train_labels, n_train,
                                   given_w))) {
        status = rc; /* a label that is not a class is a usage error */
        goto done;
    }

    cfg.opt.callback = on_epoch;
    cfg.opt.user = &state;
    state.val = val_set;
    state.patience = cfg.patience;
    if (cfg.patience > 0) {
        if (alloc_params(&w, &b, C, k))
            goto nomem;
        state.best_w = malloc(C * k * sizeof *state.best_w);
        state.best_b = malloc(C * sizeof *state.best_b);
        if (!state.best_w || !state.best_b)
            goto nomem;
    }
    if (cfg.history && cli_history_open(&state.history, cfg.history))
        goto done;
    if (cfg.plot && plot_history_open(&state.plot, cfg.plot))
        goto done;

    {
        char list[512];
        cli_classes_list(list, sizeof list, &classes);
        const char *name = csm_path_name(cfg.data_path);
        size_t len = strlen(table_note);
        if (len > 0) {
            table_note[len - 1] = '\0'; /* the note adds the line break */
            cli_progress_note(&state.progress, "%s", table_note);
        }
        cli_progress_note(&state.progress, "%s: %zu samples, %zu features, %zu classes (%s)",
                          name, n_all, k, C, list);
        cli_progress_note(&state.progress, "%s: %s", name, storage);
        if (n_val)
            cli_progress_note(&state.progress, "training on %zu samples, validating on %zu (%s)",
                              n_train, n_val, cfg.validation ? cfg.validation : "split");
        cli_progress_note(&state.progress, "device: %s",
                          csm_context_device(ctx)->device_name);
        if (cli_mpi_size() > 1)
            cli_progress_note(&state.progress, "MPI: %d ranks, %zu to %zu rows each (rank 0 "
                              "reports; every rank its own device)", cli_mpi_size(),
                              n_train / (size_t)cli_mpi_size(),
                              (n_train + (size_t)cli_mpi_size() - 1) / (size_t)cli_mpi_size());
    }
    state.progress.start = cli_now(); /* for the ETA: training starts now */
    outcome.n_train = n_train;
    cli_signals_catch();
    st = csm_train(model, train_set, &cfg.opt, &outcome.res);
    cli_progress_done(&state.progress);
    if (st != CSM_OK)
        goto liberr;
    if (state.err != CSM_OK) {
        st = state.err;
        goto liberr;
    }
    if (state.write_failed)
        goto done;
    if (cli_history_close(&state.history))
        goto done;

    if (cfg.patience > 0 && state.best_epoch > 0) {
        const char *unit = train_unit(cfg.opt.solver);
        if (state.stopped_early)
            cli_progress_note(&state.progress,
                              "early stopping after %s %d: no val_loss improvement for %ld "
                              "%ss",
                              unit, state.last_epoch, cfg.patience, unit);
        cli_progress_note(&state.progress, "keeping the best %s %d (val_loss %.6f)", unit,
                          state.best_epoch, state.best_loss);
    }
    if ((st = finish_outcome(model, train_set, val_set, &state, C, k, w, b, &outcome)) != CSM_OK)
        goto liberr;
    if (cli_mpi_size() > 1 && (st = train_mpi_accuracy(model, train_set, &outcome.accuracy)))
        goto liberr;
    /* a signal that stopped training, on this process or (MPI) any rank */
    if (outcome.res.stop == CSM_STOP_CALLBACK)
        outcome.interrupted = cli_signal_caught();
    if (cli_mpi_size() > 1)
        outcome.interrupted = train_mpi_signal(outcome.interrupted);

    /* Fold the standardization into the saved weights. */
    if (cfg.standardize) {
        if (alloc_params(&w, &b, C, k))
            goto nomem;
        if ((st = csm_model_get_params(model, w, b)) != CSM_OK)
            goto liberr;
        cli_standardize_fold(w, b, C, k, mean, scale);
        if ((st = csm_model_set_params(model, w, b)) != CSM_OK)
            goto liberr;
    }

    if (train_write_metadata(model, &cfg, &outcome, mean, scale, k))
        goto done;
    if ((st = csm_model_save(model, cfg.model_path)) != CSM_OK)
        goto liberr;
    train_report(&state.progress, &cfg, &outcome);
    cli_progress_note(&state.progress, "wrote %s (%zu classes, %zu features, %s)",
                      cfg.model_path, C, k, cfg.use_double ? "float64" : "float32");
    if (write_plot(&cfg, &state, &outcome))
        goto done;
    if (outcome.interrupted)
        train_report_interrupted(&cfg, &outcome);
    /* interrupted, saved: the exit status of the signal, as without us */
    status = cli_signal_caught() ? 128 + cli_signal_caught()
             : outcome.interrupted ? 128 + outcome.interrupted
                                   : CLI_OK;
    goto done;

liberr:
    status = cli_lib_error(ctx, st);
    goto done;
nomem:
    cli_error("out of memory");
    status = CLI_FAIL;
done:
    cli_signals_release();
    if (state.history.f) {
        fclose(state.history.f);
        state.history.f = NULL;
    }
    cli_class_weight_free(&cfg.cw);
    plot_history_free(&state.plot);
    train_mpi_share_free(&share);
    free(state.best_w);
    free(state.best_b);
    if (train_labels != labels)
        free(train_labels);
    free(labels);
    free(val_labels);
    free(mean);
    free(scale);
    free(w);
    free(b);
    free(given_w);
    cli_classes_free(&classes);
    csm_table_free(&tab);
    csm_table_free(&ttab);
    csm_table_free(&vtab);
    csm_dataset_free(train_set);
    csm_dataset_free(val_set);
    csm_model_free(model);
    csm_model_free(loaded);
    csm_context_free(ctx);
    return status;
}
