/* The train command: its configuration, which cmd_train.c parses and
 * hands to the stages in turn, a file each: read (train_read.c), prepare
 * (train_prepare.c), train (train_fit.c), save (train_save.c) and report
 * (train_report.c); and the ranks of MPI training (mpi_train.c). */
#ifndef CSM_CLI_TRAIN_H
#define CSM_CLI_TRAIN_H

#include "cli.h"
#include "plot.h"

typedef struct train_cfg {
    /* Starts as csm_train_options_init() and takes the options given, so
     * the library and the command cannot disagree about a default. */
    csm_train_options opt;
    int use_l2;             /* --l2 given: opt.C is made from l2 (train_penalty) */
    double l2;              /* --l2: lambda itself */
    int init;               /* index into train_inits */
    int seed_given;
    int solver_given;       /* --solver, --optimizer or --lbfgs-memory given: no
                               default by the data (train_default_solver) */
    int solver_defaulted;   /* train_default_solver chose it: said with the data */
    unsigned given;         /* TRAIN_GIVEN_* of the options on the command line */
    int standardize;
    int center;             /* --standardize: features centred (dense data); sparse
                               data is scaled only */
    int use_double;
    const char *validation;
    double split;           /* 0: none */
    long patience;          /* --early-stopping; 0: off */
    const char *history;
    const char *plot;       /* --plot FILE.svg */
    const char *resume;
    const char *weights_path; /* --weights FILE */
    const char *class_weight; /* the option text, NULL when not given */
    cli_class_weight cw;
    csm_read_options ro;
    csm_format read_format; /* the format DATA was read as (metadata data_format) */
    const char *data_path, *model_path;
} train_cfg;

extern const char *const train_inits[]; /* "zeros", "normal" */

/* ----------------------------------------------------- train_options.c */

/* The options of one kind of solver, as given on the command line. */
enum {
    TRAIN_GIVEN_LBFGS_MEMORY = 1u << 0,
    TRAIN_GIVEN_LR = 1u << 1,
    TRAIN_GIVEN_BATCH = 1u << 2,
    TRAIN_GIVEN_MOMENTUM = 1u << 3,
    TRAIN_GIVEN_N_ITER_NO_CHANGE = 1u << 4,
    TRAIN_GIVEN_NO_SHUFFLE = 1u << 5
};

extern const char *const train_solvers[]; /* --solver's names, NULL-terminated */
/* The option-table entries of the training options train and cv share,
 * which train_option reads by name (each command lists its own first, then
 * these, CLI_OUTPUT_OPTIONS and CLI_FORMAT_OPTIONS). */
#define TRAIN_SHARED_OPTIONS                                                                    \
    {"solver", 0, 1}, {"max-iter", 0, 1}, {"tol", 0, 1}, {"lbfgs-memory", 0, 1},                \
        {"lr", 0, 1}, {"batch-size", 0, 1}, {"momentum", 0, 1}, {"n-iter-no-change", 0, 1},     \
        {"no-shuffle", 0, 0}, {"no-intercept", 0, 0}, {"seed", 0, 1}, {"class-weight", 0, 1},   \
        {"weights", 0, 1}, {"standardize", 0, 0}, {"double", 0, 0}

/* An option train and cv share into c, by its name without the dashes:
 * the training ones (solver, optimizer, max-iter, epochs, tol,
 * lbfgs-memory, lr, batch-size, momentum, n-iter-no-change, no-shuffle,
 * no-intercept, seed, class-weight, weights, standardize, double), then
 * CLI_OUTPUT_OPTIONS and CLI_FORMAT_OPTIONS; v NULL for the flags. 0, or
 * CLI_USAGE after the error (`cmd` names the command in it). */
int train_option(const char *cmd, train_cfg *c, const char *name, const char *v);
/* After every option is read (the solver may come after its options): the
 * options of one kind of solver refused with the other, rather than
 * silently ignored (`--solver lbfgs --lr 0.1` would look as if it trained
 * at that rate), and an L1 term (l1_ratio > 0: the largest asked for)
 * without lbfgs's OWL-QN. 0, or CLI_USAGE after the error. */
int train_check_solver_options(const char *cmd, const train_cfg *c, double l1_ratio);

/* The default solver by the data and the tolerance, when the command line
 * named none: newton for sparse (CSR) storage, and for dense storage at a
 * --tol above 0 and below TRAIN_DENSE_NEWTON_TOL; lbfgs otherwise and for
 * an L1 term (measured, BENCHMARKS.md "Newton or L-BFGS": on dense
 * Fashion-MNIST lbfgs is the faster at the default 1e-4, and below it stops
 * at --max-iter short of the tolerance where newton converges). Sets
 * c->solver_defaulted (1: sparse, 2: dense and tight) when it chose newton,
 * for the note that says so beside the data's description
 * (TRAIN_DEFAULT_SOLVER_NOTE); an MPI follower chooses as rank 0 does from
 * the same storage and options. */
void train_default_solver(train_cfg *c, int sparse);
#define TRAIN_DENSE_NEWTON_TOL 1e-4
#define TRAIN_DEFAULT_SOLVER_NOTE \
    "solver: newton, the default for sparse data (--solver lbfgs for L-BFGS)"
#define TRAIN_DEFAULT_SOLVER_NOTE_TIGHT \
    "solver: newton, the default for dense data at --tol below 1e-4 (--solver lbfgs for L-BFGS)"
/* "iteration" for lbfgs and newton, "epoch" for the first-order solvers. */
const char *train_unit(csm_solver solver);

/* -------------------------------------------------------- train_read.c */

/* read: DATA and its classes. A --resume model fixes the feature count
 * (libsvm), the classes, what the command line leaves of the data format
 * and, unless --seed says otherwise, the seed. */
typedef struct train_input {
    csm_context *ctx;        /* made first with --resume, else once DATA proved good */
    csm_model *loaded;       /* the --resume model, until prepare takes it */
    csm_table tab;           /* DATA, the --weights multiplied in; prepare frees it */
    int32_t *labels;         /* (tab.n) class indices into classes */
    cli_classes classes;
    const char *whose;       /* a label of no class: "sample 3 has label 7, which
                                <whose>" (the model's or the data's classes) */
    size_t n, k;             /* DATA's samples and features */
    char storage[256];       /* how DATA is held, and why (cli_describe_storage) */
    char table_note[1024];   /* how the reader took its first rows */
    char whose_buf[1100];
} train_input;

/* Fills c->ro (the --resume model's data format, then the defaults),
 * c->read_format and c->opt.seed (the --resume model's, without --seed).
 * Prints the error, returns CLI_FAIL. */
int train_read(train_cfg *c, train_input *in);
void train_input_free(train_input *in);

/* ----------------------------------------------------- train_prepare.c */

/* prepare: the training and validation rows (--validation-split,
 * --validation), --standardize applied to them, the model (the --resume
 * model, converted to the precision asked, or a new one), the rows on the
 * device (under MPI: each rank's share sent), and the sample weights. */
typedef struct train_sets {
    csm_model *model;
    csm_dataset *train, *val; /* val: NULL without validation */
    size_t n_train, n_val;
    double *mean, *scale;     /* --standardize: (k) each, else NULL */
} train_sets;

/* Takes DATA's table and the --resume model from `in`; notes on p what
 * becomes of the resumed solver state. Prints the error, returns CLI_FAIL,
 * or CLI_USAGE for a --class-weight label that is no class. */
int train_prepare(train_cfg *c, train_input *in, cli_progress *p, train_sets *s);
void train_sets_free(train_sets *s);

/* --------------------------------------------------------- train_fit.c */

/* What the run ended with, at the weights that are saved (the best epoch's
 * after --early-stopping, which the library's result does not describe).
 * An interrupted run's model says so in its metadata: converged false,
 * stop "interrupted by SIGINT", interrupted "SIGINT". */
typedef struct train_outcome {
    csm_train_result res;
    double accuracy;        /* training accuracy, unweighted */
    int has_val;
    double val_loss, val_acc;
    int best_epoch;         /* --early-stopping: the epoch kept, else 0 */
    size_t n_train;         /* training samples */
    int interrupted;        /* the signal that stopped training (signals.c), or 0 */
    size_t zero_weights;    /* entries of W exactly 0 (an L1 penalty's), of */
    size_t n_weights;       /* C k */
} train_outcome;

/* train: the notes on what is trained, csm_train() with the epoch callback
 * (progress, --validation, --history, --plot, --early-stopping, Ctrl-C),
 * and the outcome. */
typedef struct train_fitted {
    train_outcome outcome;
    plot_history plot;      /* --plot: the epochs, drawn by the report */
} train_fitted;

/* Prints the error, returns CLI_FAIL. */
int train_fit(const train_cfg *c, const train_input *in, const train_sets *s, cli_progress *p,
              train_fitted *out);
void train_fitted_free(train_fitted *f);

/* -------------------------------------------------------- train_save.c */

/* save: --standardize folded into the weights, the options and the
 * outcome written into the model's metadata (dropping keys of an earlier
 * run that no longer apply), MODEL replaced whole. Prints the error,
 * returns CLI_FAIL. */
int train_save(const train_cfg *c, const train_sets *s, const train_outcome *o);
/* Sets a metadata key to the shortest %g text that reads back as exactly
 * v. Prints the error, returns CLI_FAIL. */
int train_meta_double(csm_model *m, const char *key, double v);

/* ------------------------------------------------------ train_report.c */

/* report: the one-line summary (a note: nothing with --quiet), a WARNING
 * when the run ended short of --tol (even with --quiet), "wrote MODEL",
 * the --plot picture, and for an interrupted run a line saying so and how
 * to continue it. Returns the command's exit status: 0, 128 + the signal
 * that interrupted the run, or CLI_FAIL after printing the error. */
int train_report(cli_progress *p, const train_cfg *c, const train_sets *s,
                 const train_fitted *f);

/* -------------------------------------------------------- mpi_train.c */

/* Under mpirun (cli_mpi_size() > 1): what rank 0 handed out. */
typedef struct train_mpi_share {
    size_t row0, global_n; /* this rank's rows [row0, row0 + n) of global_n */
    double *weights;       /* --class-weight: sample weights, this rank's rows
                              first (rank 0: of every row), or NULL */
} train_mpi_share;

/* The first of rank r's rows when n rows are shared by P ranks (nearly
 * equal, contiguous shares in rank order). */
size_t train_mpi_share_start(size_t n, int r, int P);
/* Usage error for the options MPI training does not support. */
int train_mpi_check(const train_cfg *c);
/* Rank 0: sends the classes (the model's labels), the model's initial
 * weights and each other rank its rows (and sample weights, --class-weight
 * naming `cls`), then shrinks tt to its own first rows. Prints the error,
 * returns CLI_FAIL (CLI_USAGE for a --class-weight label of no class). */
int train_mpi_share_rows(const train_cfg *c, csm_model *model, csm_table *tt,
                         const int32_t *labels, const cli_classes *cls, train_mpi_share *s);
/* The dataset's partition and weights, and c->opt.reduce. */
int train_mpi_attach(train_cfg *c, csm_context *ctx, csm_dataset *d, const train_mpi_share *s);
/* --l2 F: opt->C = 1 / (F * the training set's weight sum, over every rank
 * under MPI; twice that for two classes), so that the library's lambda for
 * C is F up to rounding; F = 0: no penalty. Every rank calls it, at the
 * same point. */
int train_penalty(const train_cfg *c, const csm_dataset *d, csm_train_options *opt);
void train_mpi_share_free(train_mpi_share *s);
/* Training accuracy over every rank's rows (a collective: every rank). */
csm_status train_mpi_accuracy(csm_model *m, const csm_dataset *d, double *accuracy);
/* Ranks 1..P-1: the whole of `train` on the rows rank 0 sends. */
int train_mpi_follower(train_cfg *c);
/* After training (a collective: every rank): the signal that stopped it on
 * any rank (own: this rank's cli_signal_caught()), so that every rank
 * knows the run was interrupted and exits alike; 0 when none was. */
int train_mpi_signal(int own);
/* The epoch callback of ranks 1..P-1: stop when a signal came (the
 * library's reduce stops every rank at the same iteration). */
int train_stop_on_signal(csm_model *m, const csm_epoch_info *info, void *user);

#endif
