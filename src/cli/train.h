/* The train command's configuration and the helpers cmd_train.c hands its
 * pieces to: the training and validation tables (train_data.c); filling
 * csm_train_options, the summary line and convergence warning, and the
 * model metadata (train_report.c). */
#ifndef CSM_CLI_TRAIN_H
#define CSM_CLI_TRAIN_H

#include "cli.h"

typedef struct train_cfg {
    /* Starts as csm_train_options_init() and takes the options given, so
     * the library and the command cannot disagree about a default. */
    csm_train_options opt;
    int use_l2;             /* --l2 given: lambda is opt.l2, not from opt.C */
    int init;               /* index into train_inits */
    int seed_given;
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
} train_outcome;

/* "iteration" for L-BFGS, "epoch" for the first-order solvers. */
const char *train_unit(csm_solver solver);

/* The one-line summary (a progress note: nothing with --quiet), and for a
 * run that ended short of --tol, a WARNING on stderr even with --quiet. */
void train_report(cli_progress *p, const train_cfg *c, const train_outcome *o);

/* After an interrupted run was saved: says so on stderr, even with --quiet,
 * with how to continue it. */
void train_report_interrupted(const train_cfg *c, const train_outcome *o);

/* Writes the training options and the outcome into the model's metadata,
 * dropping keys of an earlier run (--resume) that no longer apply. Returns
 * 0, or CLI_FAIL after printing the error. */
int train_write_metadata(csm_model *m, const train_cfg *c, const train_outcome *o,
                         const double *mean, const double *scale, size_t k);

/* ------------------------------------------------------- train_data.c */

/* --validation-split: the rows of `tab` after a shuffle by the seed, the
 * last n_val of them into vt and the others into tt (same storage), with
 * their class indices from `labels`. Returns -1 when memory is short. */
int train_split_rows(const train_cfg *c, const csm_table *tab, const int32_t *labels,
                     size_t n_val, csm_table *tt, int32_t *train_labels, csm_table *vt,
                     int32_t *val_labels);
/* --weights FILE: one weight per sample of `tab`, multiplied into
 * tab->weights (those of --weight-column, or none yet). Prints the error,
 * returns CLI_FAIL. */
int train_read_weights(const train_cfg *c, csm_table *tab);
/* --validation FILE, held as `train` is, with its feature count k; unseen
 * features are ignored with a warning. Prints the error, returns CLI_FAIL. */
int train_read_validation(const train_cfg *c, const csm_table *train, size_t k, csm_table *vt);
/* --standardize: fits (or takes the resumed model's) mean and scale,
 * malloc'd into *mean and *scale, sets c->center, and applies them in place
 * to tt and vt (may be NULL). Prints the error, returns CLI_FAIL. */
int train_standardize(train_cfg *c, const csm_model *loaded, csm_table *tt, csm_table *vt,
                      size_t k, double **mean, double **scale);

/* -------------------------------------------------------- mpi_train.c */

/* Under mpirun (cli_mpi_size() > 1): what rank 0 handed out. */
typedef struct train_mpi_share {
    size_t row0, global_n; /* this rank's rows [row0, row0 + n) of global_n */
    double *weights;       /* --class-weight: sample weights, this rank's rows
                              first (rank 0: of every row), or NULL */
} train_mpi_share;

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
