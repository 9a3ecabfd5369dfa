/* The oracle. Every formula is the textbook one, in double, loop by loop. */
#include "reference.h"

#include <math.h>
#include <stdlib.h>

static double target(const int32_t *labels, const double *T, size_t i, size_t c, size_t C)
{
    if (labels)
        return labels[i] == (int32_t)c ? 1.0 : 0.0;
    return T[i * C + c];
}

void ref_forward(double *logits, double *probs, const double *X, const double *W,
                 const double *b, size_t n, size_t k, size_t C)
{
    double *s = malloc(C * sizeof *s);
    if (!s)
        abort(); /* test-only code: an allocation failure is a test failure */
    for (size_t i = 0; i < n; i++) {
        // s (C) = W x_i + b
        double m = -INFINITY;
        for (size_t c = 0; c < C; c++) {
            double acc = b[c];
            for (size_t j = 0; j < k; j++)
                acc += W[c * k + j] * X[i * k + j];
            s[c] = acc;
            if (acc > m)
                m = acc;
        }
        double z = 0;
        for (size_t c = 0; c < C; c++)
            z += exp(s[c] - m);
        for (size_t c = 0; c < C; c++) {
            if (logits)
                logits[i * C + c] = s[c];
            if (probs)
                probs[i * C + c] = exp(s[c] - m) / z;
        }
    }
    free(s);
}

double ref_loss(const double *X, const int32_t *labels, const double *T, const double *W,
                const double *b, size_t n, size_t k, size_t C, double l2)
{
    double *s = malloc(n * C * sizeof *s);
    if (!s)
        abort();
    ref_forward(s, NULL, X, W, b, n, k, C);
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        double m = -INFINITY;
        for (size_t c = 0; c < C; c++)
            if (s[i * C + c] > m)
                m = s[i * C + c];
        double z = 0;
        for (size_t c = 0; c < C; c++)
            z += exp(s[i * C + c] - m);
        double lse = m + log(z);
        // -sum_c T_ic log O_ic with log O_ic = s_ic - lse
        for (size_t c = 0; c < C; c++) {
            double t = target(labels, T, i, c, C);
            if (t != 0)
                total -= t * (s[i * C + c] - lse);
        }
    }
    double reg = 0;
    for (size_t q = 0; q < C * k; q++)
        reg += W[q] * W[q];
    free(s);
    return total / (double)n + 0.5 * l2 * reg;
}

void ref_backward(double *dW, double *db, const double *X, const int32_t *labels,
                  const double *T, const double *W, const double *b, size_t n, size_t k,
                  size_t C, double l2)
{
    double *o = malloc(n * C * sizeof *o);
    if (!o)
        abort();
    ref_forward(NULL, o, X, W, b, n, k, C);
    for (size_t c = 0; c < C; c++) {
        db[c] = 0;
        for (size_t j = 0; j < k; j++)
            dW[c * k + j] = 0;
    }
    // dJ/dW_cj = (1/n) sum_i (O_ic - T_ic) x_ij: the chain rule through every
    // softmax output collapses to this because sum_f T_if = 1.
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < C; c++) {
            double delta = (o[i * C + c] - target(labels, T, i, c, C)) / (double)n;
            db[c] += delta;
            for (size_t j = 0; j < k; j++)
                dW[c * k + j] += delta * X[i * k + j];
        }
    for (size_t q = 0; q < C * k; q++)
        dW[q] += l2 * W[q];
    free(o);
}

void ref_sgd_step(double *W, double *b, const double *X, const int32_t *labels,
                  const double *T, size_t n, size_t k, size_t C, double l2, double lr)
{
    double *dW = malloc(C * k * sizeof *dW), *db = malloc(C * sizeof *db);
    if (!dW || !db)
        abort();
    ref_backward(dW, db, X, labels, T, W, b, n, k, C, l2);
    for (size_t q = 0; q < C * k; q++)
        W[q] -= lr * dW[q];
    for (size_t c = 0; c < C; c++)
        b[c] -= lr * db[c];
    free(dW);
    free(db);
}
