/* The oracle checked against central finite differences in double:
 * if the reference gradient is right, everything tested against it is. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "problem.h"
#include "reference.h"
#include "testutil.h"

static double max_abs(const double *v, size_t n)
{
    double m = 0;
    for (size_t q = 0; q < n; q++)
        if (!(fabs(v[q]) <= m)) /* NaN propagates */
            m = fabs(v[q]);
    return m;
}

/* Central differences (J(w+h) - J(w-h)) / 2h with h = 1e-6 * max(1, |w|):
 * truncation error O(h^2) ~ 1e-12 and rounding ~ eps*J/h ~ 1e-10, so a
 * relative error below 1e-6 separates right from wrong by orders of
 * magnitude (a log10 factor would be off by 2.3x, a missing term by O(1),
 * a weight left out of the numerator or the denominator by O(1) too). */
static double fd_max_rel_error(problem *p, const double *weights, double l2)
{
    double *dW = malloc(p->C * p->k * sizeof *dW), *db = malloc(p->C * sizeof *db);
    ref_backward(dW, db, p->X, p->y, p->T, weights, p->W, p->b, p->n, p->k, p->C, l2);
    double worst = 0;
    for (size_t q = 0; q < p->C * p->k + p->C; q++) {
        double *param = q < p->C * p->k ? &p->W[q] : &p->b[q - p->C * p->k];
        double analytic = q < p->C * p->k ? dW[q] : db[q - p->C * p->k];
        double saved = *param, h = 1e-6 * fmax(1.0, fabs(saved));
        *param = saved + h;
        double jp = ref_loss(p->X, p->y, p->T, weights, p->W, p->b, p->n, p->k, p->C, l2);
        *param = saved - h;
        double jm = ref_loss(p->X, p->y, p->T, weights, p->W, p->b, p->n, p->k, p->C, l2);
        *param = saved;
        double numeric = (jp - jm) / (2 * h);
        double rel = fabs(analytic - numeric) / fmax(fmax(fabs(analytic), fabs(numeric)), 1e-6);
        if (rel > worst)
            worst = rel;
    }
    free(dW);
    free(db);
    return worst;
}

START_TEST(test_fd_labels)
{
    static const size_t shapes[][3] = {{1, 1, 2}, {7, 5, 3}, {13, 7, 2}, {20, 4, 10}};
    for (size_t s = 0; s < 4; s++) {
        problem p = problem_make(shapes[s][0], shapes[s][1], shapes[s][2], CSM_FLOAT64, 0, 11 + s);
        double err = fd_max_rel_error(&p, NULL, 0.0);
        ck_assert_msg(err < 1e-6, "shape %zu: max rel error %g", s, err);
        problem_free(&p);
    }
}
END_TEST

START_TEST(test_fd_soft_targets_l2)
{
    problem p = problem_make(9, 6, 4, CSM_FLOAT64, 1, 5);
    double err = fd_max_rel_error(&p, NULL, 0.3);
    ck_assert_msg(err < 1e-6, "max rel error %g", err);
    problem_free(&p);
}
END_TEST

/* Non-uniform weights in [0.1, 3) with one zero, at odd sizes, labels and
 * soft targets, with and without L2: the weighted gradient is the
 * derivative of the weighted loss. */
START_TEST(test_fd_weighted)
{
    static const size_t shapes[][3] = {{7, 5, 3}, {13, 4, 2}};
    for (size_t s = 0; s < 2; s++)
        for (int soft = 0; soft < 2; soft++)
            for (int li = 0; li < 2; li++) {
                problem p = problem_make(shapes[s][0], shapes[s][1], shapes[s][2], CSM_FLOAT64,
                                         soft, 21 + s);
                uint64_t seed = 77 + s;
                double *w = malloc(p.n * sizeof *w);
                csm_fill_uniform(w, p.n, &seed, 0.1, 3.0);
                w[2] = 0;
                double err = fd_max_rel_error(&p, w, li ? 0.3 : 0.0);
                ck_assert_msg(err < 1e-6, "shape %zu soft %d l2 %d: max rel error %g", s, soft,
                              li, err);
                free(w);
                problem_free(&p);
            }
}
END_TEST

/* J and its gradient are weighted means: all-1 weights are bit-for-bit the
 * unweighted (NULL) path, and all-equal weights 2.5 cancel to within
 * rounding (a few ulps: 1e-14 relative). */
START_TEST(test_equal_weights_are_unweighted)
{
    for (int soft = 0; soft < 2; soft++) {
        problem p = problem_make(11, 5, 4, CSM_FLOAT64, soft, 31);
        size_t nw = p.C * p.k, np = nw + p.C;
        double ones[11], same[11], g0[24], g1[24], g25[24];
        for (size_t i = 0; i < p.n; i++)
            ones[i] = 1.0, same[i] = 2.5;
        double J0 = ref_loss(p.X, p.y, p.T, NULL, p.W, p.b, p.n, p.k, p.C, 0.2);
        double J1 = ref_loss(p.X, p.y, p.T, ones, p.W, p.b, p.n, p.k, p.C, 0.2);
        double J25 = ref_loss(p.X, p.y, p.T, same, p.W, p.b, p.n, p.k, p.C, 0.2);
        ref_backward(g0, g0 + nw, p.X, p.y, p.T, NULL, p.W, p.b, p.n, p.k, p.C, 0.2);
        ref_backward(g1, g1 + nw, p.X, p.y, p.T, ones, p.W, p.b, p.n, p.k, p.C, 0.2);
        ref_backward(g25, g25 + nw, p.X, p.y, p.T, same, p.W, p.b, p.n, p.k, p.C, 0.2);
        ck_assert(J1 == J0);
        ck_assert_msg(csm_close(J25, J0, 0, 1e-14), "soft %d: J %.17g vs %.17g", soft, J25, J0);
        for (size_t q = 0; q < np; q++) {
            ck_assert(g1[q] == g0[q]);
            ck_assert_msg(csm_close(g25[q], g0[q], 1e-14, 1e-14), "soft %d, q %zu: %.17g vs %.17g",
                          soft, q, g25[q], g0[q]);
        }
        problem_free(&p);
    }
}
END_TEST

/* Integer weights {2, 0, 1, 3, ...} are the same problem as row i repeated
 * w_i times (weight 0: the row dropped): loss, gradient and an SGD step
 * agree to rounding (different summation order: 1e-13). */
START_TEST(test_integer_weights_duplicate_rows)
{
    static const double w[9] = {2, 0, 1, 3, 1, 1, 4, 0, 2};
    for (int soft = 0; soft < 2; soft++) {
        problem p = problem_make(9, 4, 3, CSM_FLOAT64, soft, 41);
        size_t k = p.k, C = p.C, nw = C * k, m = 0;
        for (size_t i = 0; i < p.n; i++)
            m += (size_t)w[i];
        // the expanded problem: (m, k) rows, (m) labels or (m, C) targets
        double *X = malloc(m * k * sizeof *X), *T = soft ? malloc(m * C * sizeof *T) : NULL;
        int32_t *y = soft ? NULL : malloc(m * sizeof *y);
        size_t r = 0;
        for (size_t i = 0; i < p.n; i++)
            for (int rep = 0; rep < (int)w[i]; rep++, r++) {
                memcpy(X + r * k, p.X + i * k, k * sizeof *X);
                if (soft)
                    memcpy(T + r * C, p.T + i * C, C * sizeof *T);
                else
                    y[r] = p.y[i];
            }
        double Jw = ref_loss(p.X, p.y, p.T, w, p.W, p.b, p.n, k, C, 0.1);
        double Jd = ref_loss(X, y, T, NULL, p.W, p.b, m, k, C, 0.1);
        ck_assert_msg(csm_close(Jw, Jd, 0, 1e-13), "soft %d: %.17g vs %.17g", soft, Jw, Jd);
        double gw[15], gd[15];
        ref_backward(gw, gw + nw, p.X, p.y, p.T, w, p.W, p.b, p.n, k, C, 0.1);
        ref_backward(gd, gd + nw, X, y, T, NULL, p.W, p.b, m, k, C, 0.1);
        ck_assert(csm_worst(gw, gd, nw + C, 1e-14, 1e-13, NULL) <= 1);
        double Ww[12], bw[3];
        memcpy(Ww, p.W, sizeof Ww);
        memcpy(bw, p.b, sizeof bw);
        ref_sgd_step(Ww, bw, p.X, p.y, p.T, w, p.n, k, C, 0.1, 0.7);
        ref_sgd_step(p.W, p.b, X, y, T, NULL, m, k, C, 0.1, 0.7);
        ck_assert(csm_worst(Ww, p.W, nw, 1e-14, 1e-13, NULL) <= 1);
        ck_assert(csm_worst(bw, p.b, C, 1e-14, 1e-13, NULL) <= 1);
        free(X), free(T), free(y);
        problem_free(&p);
    }
}
END_TEST

/* The loss is the natural-log cross-entropy: with W = 0, b = 0 every class
 * has probability 1/C and J = ln C exactly (tolerance: 1e-15 relative). */
START_TEST(test_uniform_loss_is_ln_c)
{
    problem p = problem_make(5, 3, 7, CSM_FLOAT64, 0, 3);
    for (size_t q = 0; q < 21; q++)
        p.W[q] = 0;
    for (size_t c = 0; c < 7; c++)
        p.b[c] = 0;
    double J = ref_loss(p.X, p.y, NULL, NULL, p.W, p.b, 5, 3, 7, 0.0);
    ck_assert(csm_close(J, log(7.0), 0, 1e-15));
    problem_free(&p);
}
END_TEST

/* Extreme logits: loss stays finite, probabilities are exactly one-hot. */
START_TEST(test_extreme_logits)
{
    double X[2] = {1, -1}, W[2] = {1e4, -1e4}, b[2] = {0, 0}, o[4];
    int32_t y[2] = {1, 1};
    ref_forward(NULL, o, X, W, b, 2, 1, 2);
    ck_assert(o[0] == 1.0 && o[1] == 0.0 && o[2] == 0.0 && o[3] == 1.0);
    double J = ref_loss(X, y, NULL, NULL, W, b, 2, 1, 2, 0.0);
    ck_assert(isfinite(J));
    ck_assert(csm_close(J, 1e4, 0, 1e-12)); /* sample 0: 2e4 nats, sample 1: 0 */
}
END_TEST

/* One SGD step equals W - lr dW exactly (same operations in double),
 * unweighted and weighted. */
START_TEST(test_sgd_step)
{
    static const double w[6] = {0.5, 2, 0, 1, 1.5, 3};
    for (int weighted = 0; weighted < 2; weighted++) {
        const double *wp = weighted ? w : NULL;
        problem p = problem_make(6, 4, 3, CSM_FLOAT64, 0, 9);
        double W0[12], b0[3], dW[12], db[3];
        for (int q = 0; q < 12; q++)
            W0[q] = p.W[q];
        for (int c = 0; c < 3; c++)
            b0[c] = p.b[c];
        ref_backward(dW, db, p.X, p.y, NULL, wp, W0, b0, 6, 4, 3, 0.1);
        ref_sgd_step(p.W, p.b, p.X, p.y, NULL, wp, 6, 4, 3, 0.1, 0.5);
        for (int q = 0; q < 12; q++)
            ck_assert(p.W[q] == W0[q] - 0.5 * dW[q]);
        for (int c = 0; c < 3; c++)
            ck_assert(p.b[c] == b0[c] - 0.5 * db[c]);
        problem_free(&p);
    }
}
END_TEST

/* The Newton minimiser's Hessian against central differences of the
 * (finite-difference-checked) gradient, weighted, with L2: same step and
 * error budget as the gradient check. Also symmetric, and singular exactly
 * along "every b_c += t" (softmax ignores a common logit shift; the bias
 * is not regularised). */
START_TEST(test_hessian_fd)
{
    problem p = problem_make(11, 3, 4, CSM_FLOAT64, 1, 51);
    double w[11];
    uint64_t seed = 52;
    csm_fill_uniform(w, 11, &seed, 0.1, 3.0);
    w[4] = 0;
    const double l2 = 0.2;
    size_t nw = p.C * p.k, P = nw + p.C;
    double *H = malloc(P * P * sizeof *H), *gp = malloc(P * sizeof *gp),
           *gm = malloc(P * sizeof *gm);
    ref_hessian(H, p.X, w, p.W, p.b, p.n, p.k, p.C, l2);
    double worst = 0;
    for (size_t q = 0; q < P; q++) {
        double *param = q < nw ? &p.W[q] : &p.b[q - nw];
        double saved = *param, h = 1e-6 * fmax(1.0, fabs(saved));
        *param = saved + h;
        ref_backward(gp, gp + nw, p.X, NULL, p.T, w, p.W, p.b, p.n, p.k, p.C, l2);
        *param = saved - h;
        ref_backward(gm, gm + nw, p.X, NULL, p.T, w, p.W, p.b, p.n, p.k, p.C, l2);
        *param = saved;
        for (size_t r = 0; r < P; r++) {
            double numeric = (gp[r] - gm[r]) / (2 * h), analytic = H[r * P + q];
            double rel = fabs(analytic - numeric) / fmax(fmax(fabs(analytic), fabs(numeric)), 1e-6);
            if (rel > worst)
                worst = rel;
            ck_assert(H[r * P + q] == H[q * P + r]);
        }
    }
    ck_assert_msg(worst < 1e-6, "max rel error %g", worst);
    for (size_t r = 0; r < P; r++) {
        double hv = 0; // (H v)_r for v = (0 on W, 1 on b)
        for (size_t c = 0; c < p.C; c++)
            hv += H[r * P + nw + c];
        ck_assert_msg(fabs(hv) < 1e-15, "(H v)_%zu = %g", r, hv);
    }
    free(H), free(gp), free(gm);
    problem_free(&p);
}
END_TEST

/* The Hessian's diagonal from its own formula against the diagonal of the
 * full Hessian (itself checked by finite differences above), weighted
 * with a zero weight, at odd sizes. */
START_TEST(test_hessian_diag)
{
    problem p = problem_make(13, 7, 5, CSM_FLOAT64, 1, 53);
    double w[13] = {0.5, 2, 1.25, 3, 0.1, 1, 0, 2.5, 0.75, 1.5, 2, 0.3, 1.1}; /* one zero */
    const size_t P = p.C * (p.k + 1);
    const double l2 = 0.3;
    double *H = malloc(P * P * sizeof *H), *h = malloc(P * sizeof *h);
    ref_hessian(H, p.X, w, p.W, p.b, p.n, p.k, p.C, l2);
    ref_hessian_diag(h, p.X, w, p.W, p.b, p.n, p.k, p.C, l2);
    for (size_t q = 0; q < P; q++)
        ck_assert_msg(fabs(h[q] - H[q * P + q]) <= 1e-15 + 1e-13 * fabs(H[q * P + q]),
                      "h[%zu] = %.17g, H's diagonal %.17g", q, h[q], H[q * P + q]);
    free(H), free(h);
    problem_free(&p);
}
END_TEST

/* The softmax ignores a common shift of the logits, so only parameters
 * with their class mean removed are unique: W_cj - mean_c W_cj (needed
 * when l2 = 0; l2 > 0 makes the mean 0 at the optimum) and b_c - mean_c b_c. */
static void centre(double *out, const double *v, size_t rows, size_t cols)
{
    for (size_t j = 0; j < cols; j++) {
        double mean = 0;
        for (size_t c = 0; c < rows; c++)
            mean += v[c * cols + j];
        mean /= (double)rows;
        for (size_t c = 0; c < rows; c++)
            out[c * cols + j] = v[c * cols + j] - mean;
    }
}

/* ref_minimize from W = 0, b = 0, then again from the optimum moved by
 * U(-1, 1) per parameter (+3 on b, off the first run's gauge):
 *  - both reach max-abs gradient <= 1e-10, re-computed here by
 *    ref_backward (the optimality condition: J is convex, so a stationary
 *    point is a global minimum), with few Newton steps (an exact Hessian
 *    converges quadratically; 30 is generous);
 *  - the returned J is J at the returned parameters, and random moves of
 *    1e-3 do not go below it;
 *  - the two runs agree: J to 1e-12 relative, probabilities to 1e-9,
 *    centred W and b to 1e-7 (gradient 1e-10 over curvature >= ~1e-3). */
static void check_minimum(problem *p, const double *weights, double l2, uint64_t seed)
{
    size_t n = p->n, k = p->k, C = p->C, nw = C * k;
    double *W1 = calloc(nw, sizeof *W1), *b1 = calloc(C, sizeof *b1);
    double *W2 = malloc(nw * sizeof *W2), *b2 = malloc(C * sizeof *b2);
    double *g = malloc((nw + C) * sizeof *g), *Wt = malloc(nw * sizeof *Wt),
           *bt = malloc(C * sizeof *bt);
    double *o1 = malloc(n * C * sizeof *o1), *o2 = malloc(n * C * sizeof *o2);
    double *c1 = malloc(nw * sizeof *c1), *c2 = malloc(nw * sizeof *c2);
    double *d1 = malloc(C * sizeof *d1), *d2 = malloc(C * sizeof *d2);
    int it1 = -1, it2 = -1;
    double gmax1 = -1, gmax2 = -1;

    double J1 = ref_minimize(W1, b1, p->X, p->y, p->T, weights, n, k, C, l2, 1e-10, 100, &it1,
                             &gmax1);
    ref_backward(g, g + nw, p->X, p->y, p->T, weights, W1, b1, n, k, C, l2);
    ck_assert_msg(gmax1 <= 1e-10 && max_abs(g, nw + C) <= 1e-10, "gradient %g (reported %g)",
                  max_abs(g, nw + C), gmax1);
    ck_assert(gmax1 == max_abs(g, nw + C));
    ck_assert_msg(it1 >= 1 && it1 <= 30, "%d Newton steps", it1);
    ck_assert(J1 == ref_loss(p->X, p->y, p->T, weights, W1, b1, n, k, C, l2));
    for (int trial = 0; trial < 10; trial++) {
        csm_fill_uniform(Wt, nw, &seed, -1e-3, 1e-3);
        csm_fill_uniform(bt, C, &seed, -1e-3, 1e-3);
        for (size_t q = 0; q < nw; q++)
            Wt[q] += W1[q];
        for (size_t c = 0; c < C; c++)
            bt[c] += b1[c];
        double Jt = ref_loss(p->X, p->y, p->T, weights, Wt, bt, n, k, C, l2);
        ck_assert_msg(Jt >= J1, "trial %d: %.17g < %.17g", trial, Jt, J1);
    }

    csm_fill_uniform(W2, nw, &seed, -1, 1);
    csm_fill_uniform(b2, C, &seed, 2, 4);
    for (size_t q = 0; q < nw; q++)
        W2[q] += W1[q];
    for (size_t c = 0; c < C; c++)
        b2[c] += b1[c];
    double J2 = ref_minimize(W2, b2, p->X, p->y, p->T, weights, n, k, C, l2, 1e-10, 100, &it2,
                             &gmax2);
    ref_backward(g, g + nw, p->X, p->y, p->T, weights, W2, b2, n, k, C, l2);
    ck_assert_msg(max_abs(g, nw + C) <= 1e-10, "restart: gradient %g", max_abs(g, nw + C));
    ck_assert_msg(it2 >= 1 && it2 <= 30, "restart: %d Newton steps", it2);
    ck_assert_msg(csm_close(J2, J1, 0, 1e-12), "J %.17g vs %.17g", J2, J1);
    ref_forward(NULL, o1, p->X, W1, b1, n, k, C);
    ref_forward(NULL, o2, p->X, W2, b2, n, k, C);
    size_t at = 0;
    double worst = csm_worst(o2, o1, n * C, 1e-9, 0, &at);
    ck_assert_msg(worst <= 1, "probability %zu: %.17g vs %.17g", at, o2[at], o1[at]);
    if (l2 > 0) {
        worst = csm_worst(W2, W1, nw, 1e-7, 0, &at);
        ck_assert_msg(worst <= 1, "W %zu: %.17g vs %.17g", at, W2[at], W1[at]);
    } else {
        centre(c1, W1, C, k);
        centre(c2, W2, C, k);
        worst = csm_worst(c2, c1, nw, 1e-7, 0, &at);
        ck_assert_msg(worst <= 1, "centred W %zu: %.17g vs %.17g", at, c2[at], c1[at]);
    }
    centre(d1, b1, C, 1);
    centre(d2, b2, C, 1);
    worst = csm_worst(d2, d1, C, 1e-7, 0, &at);
    ck_assert_msg(worst <= 1, "centred b %zu: %.17g vs %.17g", at, d2[at], d1[at]);
    free(W1), free(b1), free(W2), free(b2), free(g), free(Wt), free(bt);
    free(o1), free(o2), free(c1), free(c2), free(d1), free(d2);
}

/* l2 > 0: a strictly convex problem in W; labels, unweighted. */
START_TEST(test_minimize_l2)
{
    problem p = problem_make(60, 5, 4, CSM_FLOAT64, 0, 61);
    check_minimum(&p, NULL, 0.05, 62);
    problem_free(&p);
}
END_TEST

/* l2 > 0 with soft targets and non-uniform weights (one zero); and integer
 * weights reach the same minimum as the duplicated rows (1e-12 relative). */
START_TEST(test_minimize_weighted)
{
    problem p = problem_make(23, 4, 3, CSM_FLOAT64, 1, 71);
    double w[23];
    uint64_t seed = 72;
    csm_fill_uniform(w, 23, &seed, 0.1, 3.0);
    w[5] = 0;
    check_minimum(&p, w, 0.01, 73);
    problem_free(&p);

    static const double iw[9] = {2, 0, 1, 3, 1, 1, 4, 0, 2};
    problem q = problem_make(9, 2, 3, CSM_FLOAT64, 0, 74);
    double X[14 * 2], W[6] = {0}, b[3] = {0};
    int32_t y[14];
    size_t r = 0;
    for (size_t i = 0; i < 9; i++)
        for (int rep = 0; rep < (int)iw[i]; rep++, r++)
            X[2 * r] = q.X[2 * i], X[2 * r + 1] = q.X[2 * i + 1], y[r] = q.y[i];
    ck_assert_uint_eq(r, 14);
    double Jd = ref_minimize(W, b, X, y, NULL, NULL, 14, 2, 3, 0.1, 1e-10, 100, NULL, NULL);
    for (size_t t = 0; t < 6; t++)
        W[t] = 0;
    for (size_t c = 0; c < 3; c++)
        b[c] = 0;
    double Jw = ref_minimize(W, b, q.X, q.y, NULL, iw, 9, 2, 3, 0.1, 1e-10, 100, NULL, NULL);
    ck_assert_msg(csm_close(Jw, Jd, 0, 1e-12), "%.17g vs %.17g", Jw, Jd);
    problem_free(&q);
}
END_TEST

/* l2 = 0: the minimum exists only when the data are not separable. Soft
 * targets with every T_ic > 0 guarantee it (each sample's loss grows without
 * bound along any change of its logit differences); random labels on 200
 * points in 2 dimensions overlap. The optimum is unique only up to a
 * common shift of all classes' parameters, hence the centred comparison. */
START_TEST(test_minimize_no_l2)
{
    problem p = problem_make(40, 3, 3, CSM_FLOAT64, 1, 81);
    check_minimum(&p, NULL, 0.0, 82);
    problem_free(&p);
    problem q = problem_make(200, 2, 3, CSM_FLOAT64, 0, 83);
    check_minimum(&q, NULL, 0.0, 84);
    problem_free(&q);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("reference");
    TCase *tc = tcase_create("reference");
    tcase_add_test(tc, test_fd_labels);
    tcase_add_test(tc, test_fd_soft_targets_l2);
    tcase_add_test(tc, test_fd_weighted);
    tcase_add_test(tc, test_equal_weights_are_unweighted);
    tcase_add_test(tc, test_integer_weights_duplicate_rows);
    tcase_add_test(tc, test_uniform_loss_is_ln_c);
    tcase_add_test(tc, test_extreme_logits);
    tcase_add_test(tc, test_sgd_step);
    tcase_add_test(tc, test_hessian_fd);
    tcase_add_test(tc, test_hessian_diag);
    tcase_add_test(tc, test_minimize_l2);
    tcase_add_test(tc, test_minimize_weighted);
    tcase_add_test(tc, test_minimize_no_l2);
    suite_add_tcase(s, tc);
    return csm_test_main(s, 0);
}
