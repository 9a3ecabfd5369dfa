/* clsoftmax train [OPTIONS] DATA MODEL: its options, its help, and its
 * stages in turn (read, prepare, train, save, report: train_*.c). */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mpi.h"
#include "train.h"

/* Not a csm_train option: csm_model_init() takes it. */
#define DEF_INIT 0 /* zeros */

const char *const train_inits[] = {"zeros", "normal", NULL};

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
           "  --solver NAME          lbfgs, newton, sgd, momentum or adam (default %s;\n"
           "                         newton for sparse storage, and for dense at a\n"
           "                         --tol below 1e-4 (not 0), where trust-region\n"
           "                         Newton-CG was measured faster, with a note on\n"
           "                         stderr); --optimizer NAME is a synonym kept for\n"
           "                         old scripts\n"
           "  --max-iter N           at most N iterations (lbfgs, newton) or epochs (sgd,\n"
           "                         momentum, adam) (default %d)\n"
           "  --epochs N             sgd, momentum, adam: the same as --max-iter\n"
           "  --tol F                stop once converged, >= 0; 0 runs --max-iter\n"
           "                         (default %g). lbfgs, newton: max |dJ/dtheta| <= F,\n"
           "                         scikit-learn's lbfgs test. sgd, momentum, adam: the\n"
           "                         epoch loss has not improved by more than F for\n"
           "                         --n-iter-no-change epochs, scikit-learn's SGD test\n"
           "  --n-iter-no-change N   sgd, momentum, adam: epochs of --tol (default %d)\n"
           "  --lbfgs-memory N       lbfgs: correction pairs kept, 1 to 1000 (default %d)\n"
           "  --C F                  inverse regularisation strength, > 0, as in\n"
           "                         scikit-learn and liblinear: lambda = 1 / (C * sum of\n"
           "                         sample weights), 1 / (C n) unweighted; for two\n"
           "                         classes 2 / (C * sum of weights), so that the model\n"
           "                         is their binary one at the same C (default %g)\n"
           "  --l1-ratio F           elastic net, F in [0, 1] (scikit-learn's l1_ratio):\n"
           "                         the penalty becomes (F ||W||_1 + (1 - F)/2 ||W||^2)\n"
           "                         / (C sum of weights) (L2 part doubled for two\n"
           "                         classes, as above); F > 0 trains with OWL-QN,\n"
           "                         lbfgs for an L1 term, and gives exact zeros\n"
           "                         (counted in the summary); lbfgs only, not with\n"
           "                         --l2 (default 0: L2 only)\n"
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

/* train's own options; the shared ones (TRAIN_SHARED_OPTIONS), output and
 * data-format options follow them in the table, from O_SHARED_FIRST. */
enum {
    O_OPTIMIZER,
    O_EPOCHS,
    O_C,
    O_L2,
    O_L1_RATIO,
    O_INIT,
    O_VALIDATION,
    O_VALIDATION_SPLIT,
    O_EARLY_STOPPING,
    O_HISTORY,
    O_RESUME,
    O_PLOT,
    O_HELP,
    O_SHARED_FIRST
};

static const cli_option options[] = {
    {"optimizer", 0, 1},  {"epochs", 0, 1},        {"C", 0, 1},
    {"l2", 0, 1},         {"l1-ratio", 0, 1},      {"init", 0, 1},
    {"validation", 0, 1}, {"validation-split", 0, 1}, {"early-stopping", 0, 1},
    {"history", 0, 1},    {"resume", 0, 1},        {"plot", 0, 1},
    {"help", 'h', 0},     TRAIN_SHARED_OPTIONS,    CLI_OUTPUT_OPTIONS,
    CLI_FORMAT_OPTIONS,   {NULL, 0, 0}};

/* Options given on the command line, by option id, for the checks that
 * depend on the solver (which may come after them). */
typedef struct given_opts {
    int set[O_SHARED_FIRST];
    int max_iter; /* the shared --max-iter, which --epochs names again */
} given_opts;

/* train's own checks of options that go together, then the solver's
 * (train_options.c, as cv's). */
static int check_solver_options(const train_cfg *c, const given_opts *g)
{
    if (g->set[O_EPOCHS] && g->max_iter)
        return cli_usage_error("train", "--epochs and --max-iter are the same option: give one");
    if (g->set[O_C] && g->set[O_L2])
        return cli_usage_error("train",
                               "--C and --l2 both set the penalty (lambda = 1 / (C * n)): "
                               "give one");
    if (c->opt.l1_ratio > 0 && g->set[O_L2])
        return cli_usage_error("train", "--l1-ratio goes with --C (the penalty (r ||W||_1 + "
                                        "(1 - r)/2 ||W||^2) / (C n)), not with --l2");
    if (train_full_batch(c->opt.solver) && g->set[O_EPOCHS])
        return cli_usage_error("train", "--epochs counts epochs of sgd, momentum and adam; "
                                        "%s counts iterations: use --max-iter",
                               csm_solver_name(c->opt.solver));
    return train_check_solver_options("train", c, c->opt.l1_ratio);
}

/* One option of the command line into c: 0, CLI_USAGE after the error, or
 * -1 after --help. */
static int set_option(train_cfg *c, int id, const char *v)
{
    int rc = 0;
    long l = 0;
    switch (id) {
    case O_C:
        rc = cli_parse_double("train", "--C", v, 0, 1, INFINITY, 0, &c->opt.C);
        break;
    case O_L2:
        rc = cli_parse_double("train", "--l2", v, 0, 0, INFINITY, 0, &c->l2);
        c->use_l2 = 1;
        break;
    case O_L1_RATIO:
        rc = cli_parse_double("train", "--l1-ratio", v, 0, 0, 1, 0, &c->opt.l1_ratio);
        break;
    case O_INIT:
        rc = cli_parse_choice("train", "--init", v, train_inits, &c->init);
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
    case O_HELP:
        help();
        return -1;
    default:
        return train_option("train", c, options[id].name, v);
    }
    return rc ? CLI_USAGE : 0;
}

/* 0, CLI_USAGE after the error, or -1 after --help. */
static int parse_args(int argc, char **argv, train_cfg *c)
{
    cli_args it;
    const char *v;
    int id, npos = 0;
    const char *pos[2] = {NULL, NULL};
    given_opts given;

    memset(c, 0, sizeof *c);
    memset(&given, 0, sizeof given);
    csm_train_options_init(&c->opt, sizeof c->opt);
    c->init = DEF_INIT;
    cli_format_unset(&c->ro); /* --resume: the model fills what is not given */

    cli_args_init(&it, "train", argc, argv);
    while ((id = cli_args_next(&it, options, &v)) != CLI_ARG_END) {
        if (id == CLI_ARG_ERROR)
            return CLI_USAGE;
        if (id == CLI_ARG_POSITIONAL) {
            if (npos >= 2)
                return cli_usage_error("train", "unexpected argument '%s'", v);
            pos[npos++] = v;
            continue;
        }
        if (id < O_SHARED_FIRST)
            given.set[id] = 1;
        else if (!strcmp(options[id].name, "max-iter"))
            given.max_iter = 1;
        int rc = set_option(c, id, v);
        if (rc)
            return rc;
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
    /* the kept epoch's J is recomputed by csm_gradient, which has no L1 term */
    if (c->patience > 0 && c->opt.l1_ratio > 0)
        return cli_usage_error("train", "--early-stopping does not go with --l1-ratio");
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

/* The stages in turn, each on what the one before made; what they hold is
 * freed here, in one place, whichever stage failed. */
static int train(train_cfg *c)
{
    cli_progress progress;
    train_input in;
    train_sets sets;
    train_fitted fitted;
    memset(&in, 0, sizeof in);
    memset(&sets, 0, sizeof sets);
    memset(&fitted, 0, sizeof fitted);
    cli_progress_init(&progress, cli_quiet, &c->opt);
    int rc = train_read(c, &in);
    if (!rc)
        rc = train_prepare(c, &in, &progress, &sets);
    if (!rc)
        rc = train_fit(c, &in, &sets, &progress, &fitted);
    if (!rc)
        rc = train_save(c, &sets, &fitted.outcome);
    if (!rc)
        rc = train_report(&progress, c, &sets, &fitted);
    cli_signals_release();
    train_fitted_free(&fitted);
    train_sets_free(&sets);
    train_input_free(&in);
    return rc;
}

int cmd_train(int argc, char **argv)
{
    train_cfg cfg;
    int rc = parse_args(argc, argv, &cfg);
    if (rc == 0) {
        /* mpirun: rank 0 runs the stages, the others train on its rows */
        if (cli_mpi_size() > 1 && ((rc = train_mpi_check(&cfg)) || cli_mpi_rank() > 0))
            rc = rc ? rc : train_mpi_follower(&cfg);
        else
            rc = check_io(&cfg) ? CLI_FAIL : train(&cfg);
    }
    cli_class_weight_free(&cfg.cw);
    return rc == -1 ? CLI_OK : rc; /* -1: --help */
}
