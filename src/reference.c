/* The oracle. Every formula is the textbook one, in double, loop by loop. */
#include "reference.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static double target(const int32_t *labels, const double *T, size_t i, size_t c, size_t C)
{
    if (labels)
        return labels[i] == (int32_t)c ? 1.0 : 0.0;
    return T[i * C + c];
}

static double weight(const double *weights, size_t i) { return weights ? weights[i] : 1.0; }

/* sum_i w_i: the denominator of the weighted mean (n when unweighted) */
static double weight_sum(const double *weights, size_t n)
{
    if (!weights)
        return (double)n;
    double sw = 0;
    for (size_t i = 0; i < n; i++)
        sw += weights[i];
    return sw;
}

static void *xmalloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p)
        abort(); /* test-only code: an allocation failure is a test failure */
    return p;
}

void ref_forward(double *logits, double *probs, const double *X, const double *W,
                 const double *b, size_t n, size_t k, size_t C)
{
    double *s = xmalloc(C * sizeof *s);
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

double ref_loss(const double *X, const int32_t *labels, const double *T, const double *weights,
                const double *W, const double *b, size_t n, size_t k, size_t C, double l2)
{
    double *s = xmalloc(n * C * sizeof *s); // (n, C) logits
    ref_forward(s, NULL, X, W, b, n, k, C);
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        double w = weight(weights, i);
        if (w == 0)
            continue; /* a zero weight removes the sample, whatever its loss */
        double m = -INFINITY;
        for (size_t c = 0; c < C; c++)
            if (s[i * C + c] > m)
                m = s[i * C + c];
        double z = 0;
        for (size_t c = 0; c < C; c++)
            z += exp(s[i * C + c] - m);
        double lse = m + log(z);
        // l_i = -sum_c T_ic log O_ic with log O_ic = s_ic - lse
        double li = 0;
        for (size_t c = 0; c < C; c++) {
            double t = target(labels, T, i, c, C);
            if (t != 0)
                li -= t * (s[i * C + c] - lse);
        }
        total += w * li;
    }
    double reg = 0;
    for (size_t q = 0; q < C * k; q++)
        reg += W[q] * W[q];
    free(s);
    // a weighted mean, so all-equal weights give the unweighted J
    return total / weight_sum(weights, n) + 0.5 * l2 * reg;
}

void ref_backward(double *dW, double *db, const double *X, const int32_t *labels,
                  const double *T, const double *weights, const double *W, const double *b,
                  size_t n, size_t k, size_t C, double l2)
{
    double *o = xmalloc(n * C * sizeof *o); // (n, C) probabilities
    ref_forward(NULL, o, X, W, b, n, k, C);
    double sw = weight_sum(weights, n);
    for (size_t c = 0; c < C; c++) {
        db[c] = 0;
        for (size_t j = 0; j < k; j++)
            dW[c * k + j] = 0;
    }
    // dJ/dW_cj = (1/sum w) sum_i w_i (O_ic - T_ic) x_ij: the chain rule through
    // every softmax output collapses to this because sum_f T_if = 1.
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < C; c++) {
            double delta = weight(weights, i) * (o[i * C + c] - target(labels, T, i, c, C)) / sw;
            db[c] += delta;
            for (size_t j = 0; j < k; j++)
                dW[c * k + j] += delta * X[i * k + j];
        }
    for (size_t q = 0; q < C * k; q++)
        dW[q] += l2 * W[q];
    free(o);
}

void ref_sgd_step(double *W, double *b, const double *X, const int32_t *labels,
                  const double *T, const double *weights, size_t n, size_t k, size_t C,
                  double l2, double lr)
{
    double *dW = xmalloc(C * k * sizeof *dW), *db = xmalloc(C * sizeof *db);
    ref_backward(dW, db, X, labels, T, weights, W, b, n, k, C, l2);
    for (size_t q = 0; q < C * k; q++)
        W[q] -= lr * dW[q];
    for (size_t c = 0; c < C; c++)
        b[c] -= lr * db[c];
    free(dW);
    free(db);
}

/* Position in theta = (W (C, k) row-major, b (C)) of the parameter that
 * multiplies x~_j in class c's logit, x~ = (x, 1): j < k is W_cj, j = k is b_c. */
static size_t theta_index(size_t c, size_t j, size_t k, size_t C)
{
    return j < k ? c * k + j : C * k + c;
}

void ref_hessian(double *H, const double *X, const double *weights, const double *W,
                 const double *b, size_t n, size_t k, size_t C, double l2)
{
    size_t P = C * (k + 1);
    double *o = xmalloc(n * C * sizeof *o);   // (n, C) probabilities
    double *xt = xmalloc((k + 1) * sizeof *xt); // (k + 1) x~_i = (x_i, 1)
    ref_forward(NULL, o, X, W, b, n, k, C);
    double sw = weight_sum(weights, n);
    for (size_t q = 0; q < P * P; q++)
        H[q] = 0;
    // d2 l_i / ds_c ds_d = O_c (delta_cd - O_d) (the derivative of O_c - T_c;
    // T drops out), and s_c is linear in class c's parameters with
    // coefficients x~, so each sample adds (diag(O) - O O^T) kron x~ x~^T.
    for (size_t i = 0; i < n; i++) {
        double w = weight(weights, i) / sw;
        if (w == 0)
            continue;
        for (size_t j = 0; j < k; j++)
            xt[j] = X[i * k + j];
        xt[k] = 1;
        for (size_t c = 0; c < C; c++)
            for (size_t d = 0; d < C; d++) {
                double oc = o[i * C + c], od = o[i * C + d];
                double a = w * ((c == d ? oc : 0) - oc * od);
                // a (x~_j x~_l), not (a x~_j) x~_l: the same rounding for the
                // (j, l) and (l, j) entries keeps H exactly symmetric
                for (size_t j = 0; j <= k; j++)
                    for (size_t l = 0; l <= k; l++)
                        H[theta_index(c, j, k, C) * P + theta_index(d, l, k, C)] +=
                            a * (xt[j] * xt[l]);
            }
    }
    // (l2/2) ||W||^2 adds l2 on the W block's diagonal; the bias is not regularised
    for (size_t q = 0; q < C * k; q++)
        H[q * P + q] += l2;
    free(o);
    free(xt);
}

void ref_hessian_diag(double *h, const double *X, const double *weights, const double *W,
                      const double *b, size_t n, size_t k, size_t C, double l2)
{
    double *o = xmalloc(n * C * sizeof *o); // (n, C) probabilities
    ref_forward(NULL, o, X, W, b, n, k, C);
    double sw = weight_sum(weights, n);
    for (size_t q = 0; q < C * (k + 1); q++)
        h[q] = 0;
    // the (c, c) block of sample i's (diag(O) - O O^T) kron x~ x~^T has
    // O_c (1 - O_c) x~_j^2 on its diagonal
    for (size_t i = 0; i < n; i++) {
        double w = weight(weights, i) / sw;
        for (size_t c = 0; c < C; c++) {
            double oc = o[i * C + c], a = w * oc * (1 - oc);
            for (size_t j = 0; j < k; j++)
                h[c * k + j] += a * X[i * k + j] * X[i * k + j];
            h[C * k + c] += a;
        }
    }
    for (size_t q = 0; q < C * k; q++)
        h[q] += l2;
    free(o);
}

/* A = L L^T in place (lower triangle; the upper is left alone).
 * Returns 0 if a pivot is not positive, i.e. A is not (numerically) PD. */
static int cholesky(double *A, size_t P)
{
    for (size_t j = 0; j < P; j++) {
        double d = A[j * P + j];
        for (size_t m = 0; m < j; m++)
            d -= A[j * P + m] * A[j * P + m];
        if (!(d > 0)) /* also catches NaN */
            return 0;
        A[j * P + j] = sqrt(d);
        for (size_t i = j + 1; i < P; i++) {
            double v = A[i * P + j];
            for (size_t m = 0; m < j; m++)
                v -= A[i * P + m] * A[j * P + m];
            A[i * P + j] = v / A[j * P + j];
        }
    }
    return 1;
}

/* p (P) = -(H + mu I)^{-1} g. H is only positive semi-definite: J does not
 * change when one vector u (k + 1) is added to every class's (W_c, b_c),
 * since the softmax ignores a common shift of all logits. l2 > 0 pins the
 * W part of u, but the bias is not regularised, so "b_c += t for all c"
 * stays a null direction; with l2 = 0 all k + 1 of them are. A tiny
 * Levenberg term mu = 1e-10 max diag(H) makes the matrix positive
 * definite: along the null directions g is zero up to rounding, so the step
 * there is rounding/mu and J does not see it; elsewhere it changes the
 * Newton step by a relative mu/eigenvalue, too little to slow convergence.
 * If rounding still leaves a pivot <= 0, mu grows tenfold.
 * Returns 0 if no mu worked (non-finite H). */
static int newton_direction(double *p, const double *H, const double *g, size_t P, double *A)
{
    double maxdiag = 0;
    for (size_t q = 0; q < P; q++)
        if (H[q * P + q] > maxdiag)
            maxdiag = H[q * P + q];
    double mu = maxdiag > 0 ? 1e-10 * maxdiag : 1e-10;
    for (int attempt = 0; attempt < 30; attempt++, mu *= 10) {
        memcpy(A, H, P * P * sizeof *A);
        for (size_t q = 0; q < P; q++)
            A[q * P + q] += mu;
        if (!cholesky(A, P))
            continue;
        // L y = -g (forward), then L^T p = y (backward)
        for (size_t i = 0; i < P; i++) {
            double v = -g[i];
            for (size_t m = 0; m < i; m++)
                v -= A[i * P + m] * p[m];
            p[i] = v / A[i * P + i];
        }
        for (size_t i = P; i-- > 0;) {
            double v = p[i];
            for (size_t m = i + 1; m < P; m++)
                v -= A[m * P + i] * p[m];
            p[i] = v / A[i * P + i];
        }
        return 1;
    }
    return 0;
}

double ref_minimize(double *W, double *b, const double *X, const int32_t *labels,
                    const double *T, const double *weights, size_t n, size_t k, size_t C,
                    double l2, double gtol, int max_iter, int *iterations, double *grad_max)
{
    size_t nw = C * k, P = nw + C;
    double *g = xmalloc(P * sizeof *g);      // (P) gradient (dW, db)
    double *p = xmalloc(P * sizeof *p);      // (P) Newton direction
    double *H = xmalloc(P * P * sizeof *H);  // (P, P) Hessian
    double *A = xmalloc(P * P * sizeof *A);  // (P, P) Cholesky factor of H + mu I
    double *W0 = xmalloc(nw * sizeof *W0);   // (C, k) start of the line search
    double *b0 = xmalloc(C * sizeof *b0);    // (C)
    double J = ref_loss(X, labels, T, weights, W, b, n, k, C, l2);
    double gmax = 0;
    int it = 0;
    for (;;) {
        ref_backward(g, g + nw, X, labels, T, weights, W, b, n, k, C, l2);
        gmax = 0;
        for (size_t q = 0; q < P; q++)
            if (!(fabs(g[q]) <= gmax)) /* NaN propagates */
                gmax = fabs(g[q]);
        if (gmax <= gtol || it >= max_iter)
            break;
        ref_hessian(H, X, weights, W, b, n, k, C, l2);
        if (!newton_direction(p, H, g, P, A))
            break;
        double slope = 0; // dJ/da along theta + a p at a = 0; < 0 as H + mu I is PD
        for (size_t q = 0; q < P; q++)
            slope += g[q] * p[q];
        memcpy(W0, W, nw * sizeof *W0);
        memcpy(b0, b, C * sizeof *b0);
        // Once the predicted decrease -slope is down at the rounding error of
        // J itself, comparing J values cannot judge the step; we are then
        // deep inside the region where Newton converges quadratically, and
        // the full step is taken. Otherwise: Armijo backtracking from a = 1,
        // which Newton's method accepts near the optimum.
        int whole = -slope <= 1e3 * DBL_EPSILON * (1 + fabs(J));
        double a = 1, Jt = J;
        int accepted = 0;
        for (int halvings = 0; halvings < 60; halvings++) {
            for (size_t q = 0; q < nw; q++)
                W[q] = W0[q] + a * p[q];
            for (size_t c = 0; c < C; c++)
                b[c] = b0[c] + a * p[nw + c];
            Jt = ref_loss(X, labels, T, weights, W, b, n, k, C, l2);
            if (whole || Jt <= J + 1e-4 * a * slope) {
                accepted = 1;
                break;
            }
            a /= 2;
        }
        if (!accepted) { /* no decrease found: stay at the last point */
            memcpy(W, W0, nw * sizeof *W);
            memcpy(b, b0, C * sizeof *b);
            break;
        }
        J = Jt;
        it++;
    }
    if (iterations)
        *iterations = it;
    if (grad_max)
        *grad_max = gmax;
    free(g), free(p), free(H), free(A), free(W0), free(b0);
    return J;
}
