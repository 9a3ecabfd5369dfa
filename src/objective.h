/* The objective every solver minimises, liblinear-style (objective.c):
 * J(theta) = sum_i w_i l_i / sum_i w_i + (lambda/2) ||W||^2 over the
 * global data set, at the model's current weights theta = (W, b), and its
 * gradient, its Hessian times a vector (for a Newton solver); and for the
 * first-order solvers the same over the minibatches of an epoch. The solvers see this and the vector operations (vec.h),
 * nothing of paths, streaming or processes: the objective runs the bound
 * path over a data source (source.h), and applies the sum over the
 * processes, once, before the L2 term. */
#ifndef CSM_OBJECTIVE_H
#define CSM_OBJECTIVE_H

#include "internal.h"

typedef struct csm_objective csm_objective;
struct csm_source;

/* J with the L2 term `l2` (lambda) for model m over the source's rows;
 * bias 0: no intercept (the bias's part of the gradient is 0). */
csm_status csm_objective_create(csm_objective **out, csm_model *m, struct csm_source *src,
                                double l2, int bias);
void csm_objective_free(csm_objective *f);
/* Adds l1 ||W||_1 to J (elastic net; OWL-QN, solver_owlqn.c): value's J
 * includes it, fun_grad's gradient and hv stay those of the smooth part
 * (the solver forms the pseudo-gradient). 0 (the default): none. */
void csm_objective_set_l1(csm_objective *f, double l1);
/* lambda, the L1 weight; the global sample count */
double csm_objective_lambda(const csm_objective *f);
double csm_objective_l1(const csm_objective *f);
size_t csm_objective_samples(const csm_objective *f);

/* J and its gradient at the model's weights: one pass over every row,
 * enqueued; g (a parameter vector, vec.h) = (dJ/dW, dJ/db). Blocks only to
 * sum over the processes. The outputs of this and of csm_objective_hv and
 * csm_objective_hessian_at are the passes' workspace too: none may be an
 * input of the same call. */
csm_status csm_objective_fun_grad(csm_objective *f, cl_mem g);
/* hv = H v, J's Hessian times v (a parameter vector, vec.h), for Newton
 * solvers: at the weights of the last csm_objective_hessian_at (none: at
 * the model's current weights), one pass over every row by the bound
 * path's products (the fused path's stand-in where it has none), summed
 * over the processes, plus lambda V; the bias part 0 without an
 * intercept. Enqueued; blocks only to sum over the processes. Leaves the
 * values of the last csm_objective_fun_grad as they were. */
csm_status csm_objective_hv(csm_objective *f, cl_mem v, cl_mem hv);
/* Fixes the point of the following csm_objective_hv calls at the model's
 * current weights, until the next call (moving the weights does not move
 * it): the rows' probabilities there, which every product shares, are
 * kept where they fit the device (a product then costs one pass of
 * products instead of two). diag non-NULL: J's Hessian diagonal there
 * (for a preconditioner), a parameter vector: (1/sum w) sum_i w_i P_ic
 * (1 - P_ic) x_ij^2 + lambda for W_cj, (1/sum w) sum_i w_i P_ic (1 - P_ic)
 * for b_c (0 without an intercept), summed over the processes like the
 * gradient: one pass over every row, on every path (dense rows through
 * step.c's own product of squares). */
csm_status csm_objective_hessian_at(csm_objective *f, cl_mem diag);
/* After csm_objective_fun_grad: J (with its L1 term) and the (unweighted)
 * accuracy. Blocking. */
csm_status csm_objective_value(csm_objective *f, double *J, double *accuracy);

/* Minibatches of B rows (0: full batch), reshuffled every epoch when
 * `shuffle`, by (seed, epoch); the steps an epoch takes. */
csm_status csm_objective_minibatches(csm_objective *f, size_t B, int shuffle, uint64_t seed);
size_t csm_objective_steps(const csm_objective *f);
/* Each step's gradient of the data term (the mean over the step's rows,
 * scaled so that it estimates J's), left in dweight (C, k) and dbias (C)
 * for `update`, which the epoch calls after every step. */
typedef csm_status (*csm_update_fn)(void *user, cl_mem dweight, cl_mem dbias);
/* Enqueues epoch `epoch` (0-based, counted over resumed runs): nothing
 * here waits on the device, but for sums over the processes. u (or NULL):
 * the update `update` applies, which a step may apply itself in its
 * gradient's launch (csm_step_grad_update); for such a step `update` is
 * called with no gradient (NULL, NULL) before it, to count the step (u's t
 * is read after that call). */
struct csm_update;
csm_status csm_objective_epoch(csm_objective *f, long epoch, csm_update_fn update, void *user,
                               const struct csm_update *u);
/* The epoch's loss (the weighted mean of the data term over its steps,
 * plus the mean L2 term over steps) and accuracy: the one read-back of
 * an epoch. */
csm_status csm_objective_epoch_value(csm_objective *f, double *loss, double *accuracy);
/* An epoch of minibatch steps took `seconds` (wall): tells the path
 * choice how fast its steps ran (choose.h, csm_choice_observed). */
void csm_objective_observe(csm_objective *f, double seconds);

/* Whether any process set `flag` (one process: the flag). */
csm_status csm_objective_any(csm_objective *f, int flag, int *any);

#endif
