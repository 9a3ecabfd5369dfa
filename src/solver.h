/* The solvers csm_train() runs (one file each: solver_first.c: SGD,
 * momentum, Adam; solver_lbfgs.c: L-BFGS; solver_owlqn.c: OWL-QN, L-BFGS
 * with an L1 term; solver_newton.c: trust-region Newton-CG), liblinear-style:
 * each sees the
 * objective (objective.h) and the vector operations (vec.h), nothing of
 * paths, streaming or processes. */
#ifndef CSM_SOLVER_H
#define CSM_SOLVER_H

#include "objective.h"
#include "vec.h"

/* What a solver run shares with the loop around it (train.c). */
typedef struct csm_solve {
    csm_model *model;
    csm_objective *f;
    const csm_train_options *opt;
    double l2;             /* lambda in effect */
    double lr;             /* first-order learning rate in effect */
    csm_train_result *res; /* the solver sets stop, n_iter, n_evals */
    /* Reports iteration `it` (1-based within this call) to the caller's
     * callback; returns non-zero when training must stop. */
    int (*report)(struct csm_solve *s, int it, double loss, double accuracy,
                  double grad_max_abs, int evaluations, double seconds);
    csm_status failed;     /* a failure inside report (a sum over processes) */
    void *train;           /* train.c's own */
} csm_solve;

csm_status csm_solve_first_order(csm_solve *s);
csm_status csm_solve_lbfgs(csm_solve *s);
csm_status csm_solve_owlqn(csm_solve *s);
csm_status csm_solve_newton(csm_solve *s);

#endif
