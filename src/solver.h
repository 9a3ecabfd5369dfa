/* The pieces csm_train() is built from, liblinear-style: an objective
 * (function and gradient of J over the whole dataset, objective.c), device
 * vector operations (vec.c), and one file per solver (solver_first.c:
 * SGD, momentum, Adam; solver_lbfgs.c: L-BFGS). */
#ifndef CSM_SOLVER_H
#define CSM_SOLVER_H

#include "ops.h"

/* ------------------------------------------------------- vector operations */

/* Groups of the fixed-partition reductions (kernels/vec.cl). */
#define CSM_VEC_GROUPS 64

typedef struct csm_vecops {
    csm_context *ctx;
    csm_precision prec;
    size_t n, nw;  /* theta = (W, b): n = C*k + C elements, the first nw = C*k are W */
    size_t nscal;
    cl_mem part;   /* (CSM_VEC_GROUPS) reduction partials */
    cl_mem scal;   /* (nscal) device-side scalars */
    cl_kernel k_partial, k_final, k_sub, k_set, k_get, k_pack;
    cl_kernel k_mdot, k_mdot_final, k_combine, k_sub_row;
    size_t wg;      /* work-group size of the reductions (csm_reduce_group) */
    size_t md_rows; /* history rows per multi-dot pass (MD_ROWS of vec.cl) */
} csm_vecops;

csm_status csm_vec_init(csm_vecops *v, csm_model *m, size_t nscal);
void csm_vec_free(csm_vecops *v);
/* A new parameter vector (n elements, uninitialised). */
csm_status csm_vec_alloc(csm_vecops *v, cl_mem *out, const char *what);
/* scal[slot] = a.b */
csm_status csm_vec_dot(csm_vecops *v, size_t slot, cl_mem a, cl_mem b);
/* scal[slot] = max |a| */
csm_status csm_vec_maxabs(csm_vecops *v, size_t slot, cl_mem a);
/* out = a - b */
csm_status csm_vec_sub(csm_vecops *v, cl_mem out, cl_mem a, cl_mem b);
/* model weight, bias = x + alpha d */
csm_status csm_vec_set_params(csm_vecops *v, csm_model *m, cl_mem x, cl_mem d, double alpha);
/* x = model weight, bias */
csm_status csm_vec_get_params(csm_vecops *v, cl_mem x, csm_model *m);
/* g = (dw + l2 W, db), or (dw + l2 W, 0) when !bias (fit_intercept 0) */
csm_status csm_vec_pack_grad(csm_vecops *v, cl_mem g, cl_mem dw, cl_mem db, csm_model *m,
                             double l2, int bias);
/* The compact L-BFGS history, two row matrices S and Y of (m, n):
 * scal[r] = row r . x for the 2m rows of S then Y (part: 2m x
 * CSM_VEC_GROUPS partials); out = c0 x + sum_j coef[j] S[j, :] +
 * coef[m + j] Y[j, :]; M[row, :] = a - b. */
csm_status csm_vec_multidot(csm_vecops *v, cl_mem part, cl_mem S, cl_mem Y, size_t m,
                            cl_mem x);
csm_status csm_vec_combine(csm_vecops *v, cl_mem out, cl_mem x, double c0, cl_mem S, cl_mem Y,
                           cl_mem coef, size_t m);
csm_status csm_vec_sub_row(csm_vecops *v, cl_mem M, size_t row, cl_mem a, cl_mem b);
/* Blocking read of scal[slot .. slot + count) into host doubles. */
csm_status csm_vec_read(csm_vecops *v, double *out, size_t slot, size_t count);

/* -------------------------------------------------------------- distribution */

/* csm_train's side of data-parallel training (distributed.c; the protocol is
 * documented at csm_reduce_fn in clsoftmax.h). Without options->reduce it
 * describes this process alone (n, weight_sum of the dataset), so solvers
 * use its global numbers either way. */
typedef struct csm_dist {
    csm_context *ctx;
    csm_reduce_fn reduce; /* NULL: one process */
    void *user;
    size_t n, row0;       /* global rows; this process's first */
    double weight_sum;    /* global sum of the sample weights */
    double local_scale;   /* local weight sum / global: turns a whole pass's
                             local mean into this process's share */
    double procs, seq;    /* process count; calls made (the tag) */
    size_t len;           /* C k + C */
    double *buf;          /* (len + 3) host scratch */
    csm_status failed;    /* a reduce that failed inside csm_solve_report */
} csm_dist;

csm_status csm_dist_init(csm_dist *g, csm_model *m, const csm_dataset *d,
                         const csm_train_options *o);
void csm_dist_free(csm_dist *g);
/* values[0 .. count) summed over the processes, in place; values must have
 * room for count + 1 (the tag). */
csm_status csm_dist_sum(csm_dist *g, double *values, size_t count);
/* w->dweight, w->dbias := the sum over the processes of this process's
 * (times `scale`; zeros when !have: it had no rows in the step), with
 * extras[0 .. nextra) (nextra <= 2) summed along. Blocking. */
csm_status csm_dist_grad(csm_dist *g, csm_work *w, double scale, int have, double *extras,
                         size_t nextra);

/* ---------------------------------------------------------------- objective */

/* J(theta) and its gradient over the whole dataset, at the model's current
 * weights, on whichever path the device uses (fused or CLBlast), in blocks
 * of rows so device memory stays bounded. */
typedef struct csm_objective {
    csm_model *model;
    const csm_dataset *data;
    double l2;
    size_t cap, nblocks;
    csm_work work;
    csm_dist *dist;           /* NULL or one process: the pass is the whole */
    double loss_sum, hits;    /* distributed: the pass's global sums */
} csm_objective;

/* dist: csm_train's (the gradient and sums become global ones), or NULL. */
csm_status csm_objective_init(csm_objective *f, csm_model *m, const csm_dataset *d, double l2,
                              csm_dist *dist);
void csm_objective_free(csm_objective *f);
/* Enqueues the passes: the data part of the gradient lands in
 * f->work.dweight / dbias, per-block loss sums and correct counts in
 * f->work.stats / correct, ||W||^2 in f->work.sumsq[0]. */
csm_status csm_objective_enqueue(csm_objective *f);
/* After csm_objective_enqueue: J and the (unweighted) accuracy. Blocking. */
csm_status csm_objective_read(csm_objective *f, double *J, double *accuracy);

/* ----------------------------------------------------------------- solvers */

/* What a solver run shares with the loop around it (train.c). */
typedef struct csm_solve {
    csm_model *model;
    const csm_dataset *data;
    const csm_train_options *opt;
    double l2;          /* lambda in effect */
    double lr;          /* first-order learning rate in effect */
    csm_train_result *res; /* the solver sets stop, n_iter, n_evals */
    double t_start;
    csm_dist dist;      /* the global dataset (distributed training) */
} csm_solve;

csm_status csm_solve_first_order(csm_solve *s);
csm_status csm_solve_lbfgs(csm_solve *s);

/* Calls the user's callback for iteration `it` (1-based within this call);
 * returns non-zero when it asked to stop. */
int csm_solve_report(csm_solve *s, int it, double loss, double accuracy, double grad_max_abs,
                     int evaluations, double seconds);

double csm_now_seconds(void);

#endif
