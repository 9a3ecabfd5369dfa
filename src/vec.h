/* Operations on device parameter vectors theta = (W, b), one buffer of
 * n = C k + C elements (vec.c, kernels/vec.cl and update.cl): level-1
 * operations and the L-BFGS history's products, the model's weights to and
 * from a vector, and the first-order updates of the weights. Everything
 * only enqueues, except csm_vec_read. Kernels are built on first use. */
#ifndef CSM_VEC_H
#define CSM_VEC_H

#include "internal.h"

/* Groups of the fixed-partition reductions (kernels/vec.cl). */
#define CSM_VEC_GROUPS 64

enum {
    VEC_PARTIAL, VEC_FINAL, VEC_SUB, VEC_SET, VEC_GET, VEC_MDOT, VEC_MDOT_FINAL, VEC_COMBINE,
    VEC_SUB_ROW, VEC_PACK, VEC_PSEUDO_GRAD, VEC_ORTHANT_DIR, VEC_SET_ORTHANT, VEC_AXPBY,
    VEC_ADD_PARAMS, VEC_PACK_DIAG, VEC_DOTS3, VEC_CG_STEP, VEC_PRECOND_DIR, VEC_PRECOND,
    VEC_N_KERNELS
};

typedef struct csm_vecops {
    csm_context *ctx;
    csm_model *model; /* whose weights the vectors are */
    csm_precision prec;
    size_t n, nw;     /* n = C*k + C elements, the first nw = C*k are W */
    size_t nscal;
    cl_mem part;      /* (CSM_VEC_GROUPS) reduction partials */
    cl_mem scal;      /* (nscal) device-side scalars */
    cl_kernel k[VEC_N_KERNELS];
    size_t wg;        /* work-group size of the reductions, 0: not yet known */
    size_t md_rows;   /* history rows per multi-dot pass (MD_ROWS of vec.cl) */
    int dots_rows;    /* lane rows of the fused dot products (DOTS_ROWS of vec.cl) */
    cl_kernel k_update; /* the first-order update (update.cl), with its group size */
    size_t update_wg;
    int update_solver;
} csm_vecops;

/* Vector operations on model m's parameters, with nscal device scalars. */
csm_status csm_vec_init(csm_vecops *v, csm_model *m, size_t nscal);
void csm_vec_free(csm_vecops *v);
/* A new parameter vector (n elements, uninitialised). */
csm_status csm_vec_alloc(csm_vecops *v, cl_mem *out, const char *what);
/* Whether `vectors` vectors plus two history matrices of `rows` rows fit
 * the device (a CPU device's runtime often accepts allocations past what
 * exists, and the process is killed later): a clear error where not. */
csm_status csm_vec_check_room(csm_vecops *v, size_t vectors, size_t rows);
/* scal[slot] = a.b */
csm_status csm_vec_dot(csm_vecops *v, size_t slot, cl_mem a, cl_mem b);
/* scal[slot] = max |a| */
csm_status csm_vec_maxabs(csm_vecops *v, size_t slot, cl_mem a);
/* scal[slot] = sum |a_i| over the first len elements of a (len <= n; a
 * may be the model's weight buffer: len = nw gives ||W||_1) */
csm_status csm_vec_asum(csm_vecops *v, size_t slot, cl_mem a, size_t len);
/* out = a - b */
csm_status csm_vec_sub(csm_vecops *v, cl_mem out, cl_mem a, cl_mem b);
/* the model's weight, bias = x + alpha d */
csm_status csm_vec_set_params(csm_vecops *v, cl_mem x, cl_mem d, double alpha);
/* the model's weight, bias += alpha d (in place) */
csm_status csm_vec_add_params(csm_vecops *v, cl_mem d, double alpha);
/* out = a x + b y (out may be x or y) */
csm_status csm_vec_axpby(csm_vecops *v, cl_mem out, double a, cl_mem x, double b, cl_mem y);
/* x = the model's weight, bias */
csm_status csm_vec_get_params(csm_vecops *v, cl_mem x);
/* g = (dw + l2 T, db): the gradient of J from its data part (T the
 * model's W; with theta non-NULL its first C k elements, a direction's W
 * for a Hessian-vector product); (dw + l2 T, 0) when !bias (no
 * intercept: the bias stays 0) */
csm_status csm_vec_pack_grad(csm_vecops *v, cl_mem g, cl_mem dw, cl_mem db, double l2,
                             cl_mem theta, int bias);
/* h = (dw + l2, db): J's Hessian diagonal from its data part (dw, db);
 * (dw + l2, 0) when !bias */
csm_status csm_vec_pack_diag(csm_vecops *v, cl_mem h, cl_mem dw, cl_mem db, double l2,
                             int bias);
/* The preconditioned conjugate gradient's steps (solver_newton.c), for a
 * diagonal preconditioner m (a parameter vector, m > 0):
 * scal[slot + t] = a_t . b_t, weighted by m where bit t of `weighted` is
 * set (t = 0, 1, 2), in one pass; */
csm_status csm_vec_dots3(csm_vecops *v, size_t slot, cl_mem a0, cl_mem b0, cl_mem a1,
                         cl_mem b1, cl_mem a2, cl_mem b2, cl_mem m, unsigned weighted);
/* s += alpha d, r -= alpha hd, then scal[slot ..] = (r . r/m, s . r,
 * s . hd), in one pass; */
csm_status csm_vec_cg_step(csm_vecops *v, size_t slot, cl_mem s, cl_mem r, cl_mem d, cl_mem hd,
                           cl_mem m, double alpha);
/* d = r / m + beta d; */
csm_status csm_vec_precond_dir(csm_vecops *v, cl_mem d, cl_mem r, cl_mem m, double beta);
/* m = a h + c (elementwise, from the Hessian diagonal h). */
csm_status csm_vec_precond(csm_vecops *v, cl_mem m, cl_mem h, double a, double c);
/* The compact L-BFGS history, two row matrices S and Y of (m, n):
 * scal[r] = row r . x for the 2m rows of S then Y (part: 2m x
 * CSM_VEC_GROUPS partials); out = c0 x + sum_j coef[j] S[j, :] +
 * coef[m + j] Y[j, :]; M[row, :] = a - b. */
csm_status csm_vec_multidot(csm_vecops *v, cl_mem part, cl_mem S, cl_mem Y, size_t m,
                            cl_mem x);
csm_status csm_vec_combine(csm_vecops *v, cl_mem out, cl_mem x, double c0, cl_mem S, cl_mem Y,
                           cl_mem coef, size_t m);
csm_status csm_vec_sub_row(csm_vecops *v, cl_mem M, size_t row, cl_mem a, cl_mem b);
/* OWL-QN (solver_owlqn.c) for J = f + l1 ||W||_1, the bias not penalised:
 * pg = J's pseudo-gradient at x from f's gradient g; d = 0 where its sign
 * is not -pg's; the model's weight, bias = x + alpha d with W projected
 * onto x's orthant (sign x, or sign -pg where x is 0: weights that would
 * cross zero are exactly 0). */
csm_status csm_vec_pseudo_grad(csm_vecops *v, cl_mem pg, cl_mem g, cl_mem x, double l1);
csm_status csm_vec_orthant_dir(csm_vecops *v, cl_mem d, cl_mem pg);
csm_status csm_vec_set_params_orthant(csm_vecops *v, cl_mem x, cl_mem d, cl_mem pg,
                                      double alpha);
/* Blocking read of scal[slot .. slot + count) into host doubles. */
csm_status csm_vec_read(csm_vecops *v, double *out, size_t slot, size_t count);

/* A first-order update of the model's weights by the data gradient
 * (dweight, dbias) and l2 W (the bias is not penalised; nor updated
 * without an intercept): SGD, heavy-ball
 * momentum (v = mu v + g; w -= lr v) or Adam (moments in the model's solver
 * state, step count t for the bias corrections), W and b in one launch. */
typedef struct csm_update {
    csm_solver solver;
    double lr, momentum, beta1, beta2, epsilon, l2;
    long t;
    int bias; /* 0: no intercept, b stays 0 (not updated) */
} csm_update;
csm_status csm_vec_update(csm_vecops *v, const csm_update *u, cl_mem dweight, cl_mem dbias);
/* Adam's bias corrections 1 - beta1^t and 1 - beta2^t at u's step t. */
void csm_update_corrections(const csm_update *u, double *bc1, double *bc2);

#endif
