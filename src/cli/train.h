/* The train command's configuration and the helpers cmd_train.c hands its
 * pieces to (train_report.c): filling csm_train_options, the summary line
 * and convergence warning, and the model metadata. */
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
    int use_double;
    const char *validation;
    double split;           /* 0: none */
    long patience;          /* --early-stopping; 0: off */
    const char *history;
    const char *resume;
    int quiet;
    const char *class_weight; /* the option text, NULL when not given */
    cli_class_weight cw;
    csm_read_options ro;
    const char *data_path, *model_path;
} train_cfg;

extern const char *const train_inits[]; /* "zeros", "normal" */

/* What the run ended with, at the weights that are saved (the best epoch's
 * after --early-stopping, which the library's result does not describe). */
typedef struct train_outcome {
    csm_train_result res;
    double accuracy;        /* training accuracy, unweighted */
    int has_val;
    double val_loss, val_acc;
    int best_epoch;         /* --early-stopping: the epoch kept, else 0 */
} train_outcome;

/* "iteration" for L-BFGS, "epoch" for the first-order solvers. */
const char *train_unit(csm_solver solver);

/* The one-line summary (a progress note: nothing with --quiet), and for a
 * run that ended short of --tol, a WARNING on stderr even with --quiet. */
void train_report(cli_progress *p, const train_cfg *c, const train_outcome *o);

/* Writes the training options and the outcome into the model's metadata,
 * dropping keys of an earlier run (--resume) that no longer apply. Returns
 * 0, or CLI_FAIL after printing the error. */
int train_write_metadata(csm_model *m, const train_cfg *c, const train_outcome *o,
                         const double *mean, const double *scale, size_t k);

#endif
