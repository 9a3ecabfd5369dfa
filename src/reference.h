/* Plain double-precision softmax regression: the oracle the device is
 * tested against. Written for clarity, not speed; never on the fast path.
 * Targets: labels (n) or soft targets T (n, C); exactly one is non-NULL. */
#ifndef CSM_REFERENCE_H
#define CSM_REFERENCE_H

#include <stddef.h>
#include <stdint.h>

/* logits (n, C) = X W^T + b; probs (n, C) = softmax by row (either may be NULL) */
void ref_forward(double *logits, double *probs, const double *X, const double *W,
                 const double *b, size_t n, size_t k, size_t C);
/* J = -(1/n) sum_i sum_c T_ic log O_ic + (l2/2) ||W||^2, from log-sum-exp */
double ref_loss(const double *X, const int32_t *labels, const double *T, const double *W,
                const double *b, size_t n, size_t k, size_t C, double l2);
/* dW (C, k) = (1/n) (O - T)^T X + l2 W; db (C) = (1/n) sum_i (O_i - T_i) */
void ref_backward(double *dW, double *db, const double *X, const int32_t *labels,
                  const double *T, const double *W, const double *b, size_t n, size_t k,
                  size_t C, double l2);
/* One full-batch SGD step in place: W -= lr dW, b -= lr db */
void ref_sgd_step(double *W, double *b, const double *X, const int32_t *labels,
                  const double *T, size_t n, size_t k, size_t C, double l2, double lr);

#endif
