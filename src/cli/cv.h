/* The cv command: stratified K-fold cross-validation over a grid of C (and
 * l1_ratio) values, each fold's models warm-started along C from small to
 * large, as liblinear's -C does. cmd_cv.c parses and runs the parts: the
 * folds (cv_folds.c), the fits along each fold's path (cv_fit.c) and the
 * table with the best setting (cv_report.c); the refit of --output is
 * train's own stages (train.h). */
#ifndef CSM_CLI_CV_H
#define CSM_CLI_CV_H

#include "train.h"

typedef struct cv_cfg {
    /* the data, format, solver and weighting options, as train takes them;
     * t.model_path is --output (NULL: no refit) */
    train_cfg t;
    size_t folds;
    double *Cs;      /* (n_C) ascending, distinct */
    size_t n_C;
    double *ratios;  /* (n_r) the --l1-ratio values, in the order given */
    size_t n_r;
    const char *save_folds; /* --save-folds FILE, or NULL */
} cv_cfg;

/* ---------------------------------------------------------- cv_folds.c */

/* scikit-learn's StratifiedKFold(shuffle=True): the samples sorted by class
 * are dealt to the folds in turn, which fixes how many of each class each
 * fold holds (fold sizes differ by one at most); the folds of each class's
 * samples are then shuffled by `seed`. fold[i] in [0, K). *least and
 * *most receive the smallest and largest class counts (classes without
 * samples do not count). Returns -1 when memory is short. */
int cv_assign_folds(int32_t *fold, const int32_t *y, size_t n, size_t C, size_t K,
                    uint64_t seed, size_t *least, size_t *most);

/* ------------------------------------------------------------ cv_fit.c */

/* The solver of the fits along l1_ratio r's path: --solver (or
 * --lbfgs-memory: lbfgs) when given; otherwise newton for the L2 paths
 * (r = 0), lbfgs (OWL-QN) for r > 0. Along a warm-started path each fit
 * starts near its optimum, where Newton needs a few steps and L-BFGS
 * rebuilds its curvature from nothing (measured on digits, dense, float32
 * and float64: BENCHMARKS.md, "Cross-validation"). */
csm_solver cv_solver(const cv_cfg *c, double r);

/* The held-out scores of every setting (l1_ratio-major, C ascending within)
 * on every fold. */
typedef struct cv_scores {
    double *accuracy;  /* (settings, folds) weighted by the sample weights */
    double *log_loss;  /* (settings, folds) the same weights */
    size_t settings, folds;
    size_t short_fits; /* fits that ended short of --tol */
    long iterations;   /* over every fit */
} cv_scores;

/* Every fold: its training and held-out rows (--standardize fitted on the
 * training rows), then along each l1_ratio a model from zeros trained at
 * each C in turn, starting from the previous C's weights, and scored on
 * the held-out rows. Prints the error, returns CLI_FAIL (CLI_USAGE for a
 * --class-weight label that is no class). */
int cv_run_folds(const cv_cfg *c, const train_input *in, const int32_t *fold, cv_scores *s);
void cv_scores_free(cv_scores *s);

/* --------------------------------------------------------- cv_report.c */

/* The index of the best setting: the highest mean accuracy; ties go to the
 * smaller C (the stronger penalty, as liblinear), then to the l1_ratio
 * given first. */
size_t cv_best(const cv_cfg *c, const cv_scores *s);
/* The table on stdout, a row per setting (mean and standard deviation over
 * the folds of accuracy and log-loss), and the line naming the best. */
void cv_print(FILE *f, const cv_cfg *c, const cv_scores *s, size_t best);
/* The mean of setting i's row of v (settings, folds), and its population
 * standard deviation. */
void cv_mean_std(const double *v, size_t i, size_t folds, double *mean, double *std);

#endif
