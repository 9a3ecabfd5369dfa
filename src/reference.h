/* Plain double-precision softmax regression: the oracle the device is
 * tested against. Written for clarity, not speed; never on the fast path.
 * Targets: labels (n) or soft targets T (n, C); exactly one is non-NULL.
 * Sample weights: weights (n), each >= 0 with a positive sum, or NULL for
 * all 1. The loss is the weighted mean, so NULL, all-1 and all-equal
 * weights give the same J, and an integer weight w_i is the same as the
 * row i repeated w_i times. */
#ifndef CSM_REFERENCE_H
#define CSM_REFERENCE_H

#include <stddef.h>
#include <stdint.h>

/* logits (n, C) = X W^T + b; probs (n, C) = softmax by row (either may be NULL) */
void ref_forward(double *logits, double *probs, const double *X, const double *W,
                 const double *b, size_t n, size_t k, size_t C);
/* J = sum_i w_i l_i / sum_i w_i + (l2/2) ||W||^2, l_i = -sum_c T_ic log O_ic,
 * from log-sum-exp */
double ref_loss(const double *X, const int32_t *labels, const double *T, const double *weights,
                const double *W, const double *b, size_t n, size_t k, size_t C, double l2);
/* dW (C, k) = (1/sum w) sum_i w_i (O_i - T_i) x_i^T + l2 W;
 * db (C) = (1/sum w) sum_i w_i (O_i - T_i) */
void ref_backward(double *dW, double *db, const double *X, const int32_t *labels,
                  const double *T, const double *weights, const double *W, const double *b,
                  size_t n, size_t k, size_t C, double l2);
/* One full-batch SGD step in place: W -= lr dW, b -= lr db */
void ref_sgd_step(double *W, double *b, const double *X, const int32_t *labels,
                  const double *T, const double *weights, size_t n, size_t k, size_t C,
                  double l2, double lr);
/* H (P, P), P = C (k + 1): the exact Hessian of J over theta = (W, b), with
 * theta laid out as W (C, k) row-major followed by b (C), like (dW, db):
 * H = (1/sum w) sum_i w_i (diag(O_i) - O_i O_i^T) kron x~_i x~_i^T + l2 on
 * the W block's diagonal, x~_i = (x_i, 1). No targets: sum_c T_ic = 1 makes
 * the second derivative independent of them. */
void ref_hessian(double *H, const double *X, const double *weights, const double *W,
                 const double *b, size_t n, size_t k, size_t C, double l2);
/* h (P): the diagonal of the same Hessian, from its own formula
 * (1/sum w) sum_i w_i O_ic (1 - O_ic) x~_ij^2 (+ l2 for W), in O(n C k). */
void ref_hessian_diag(double *h, const double *X, const double *weights, const double *W,
                      const double *b, size_t n, size_t k, size_t C, double l2);
/* Minimises J over (W, b) in place, starting from the W, b given, by damped
 * Newton's method (exact Hessian, Cholesky, Armijo backtracking); no L-BFGS,
 * so it can judge one. Stops when max_q |dJ/dtheta_q| <= gtol or after
 * max_iter Newton steps. Returns the final J; *iterations (steps taken) and
 * *grad_max (max-abs gradient at the returned point) when non-NULL.
 * Dense: P = C (k + 1) up to a few hundred. The optimum is unique in W when
 * l2 > 0, b only up to adding one constant to every b_c; with l2 = 0 it
 * exists only if the data are not separable (e.g. soft targets all > 0). */
double ref_minimize(double *W, double *b, const double *X, const int32_t *labels,
                    const double *T, const double *weights, size_t n, size_t k, size_t C,
                    double l2, double gtol, int max_iter, int *iterations, double *grad_max);

#endif
