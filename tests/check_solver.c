/* Training to the optimum: the device L-BFGS against the reference's
 * independent Newton minimiser, sample weights against the weighted
 * reference, the stopping rules of every solver, the result structure, and
 * resumed training continuing exactly. Each test runs on both paths. */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "problem.h"
#include "reference.h"
#include "testutil.h"

/* Non-uniform weights in [0.2, 3), one of them zero. */
static double *make_weights(size_t n, uint64_t seed)
{
    double *w = malloc(n * sizeof *w);
    csm_fill_uniform(w, n, &seed, 0.2, 3.0);
    w[n / 2] = 0;
    return w;
}

static double max_abs(const double *v, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(v[i]));
    return m;
}

/* L-BFGS from zero weights reaches the optimum the reference's Newton
 * method finds: J within 1e-10 relative in float64 (tol 1e-9) and 1e-5 in
 * float32; the result's J and max |gradient| are those of the reference at
 * the returned weights. Labels and soft targets, with and without sample
 * weights, odd sizes. */
START_TEST(test_lbfgs_reaches_reference_optimum)
{
    csm_context *ctx = test_context();
    static const size_t shapes[][3] = {{7, 5, 3}, {93, 7, 2}, {61, 13, 5}};
    for (int pi = 0; pi < 2; pi++) {
        csm_precision prec = pi ? CSM_FLOAT64 : CSM_FLOAT32;
        if (prec == CSM_FLOAT64 && !test_has_fp64(ctx))
            continue;
        for (size_t s = 0; s < 3; s++)
            for (int variant = 0; variant < 3; variant++) {
                const int soft = variant == 1, weighted = variant == 2;
                problem p = problem_make(shapes[s][0], shapes[s][1], shapes[s][2], prec, soft,
                                         300 + s * 7 + (uint64_t)variant);
                const size_t C = p.C, k = p.k, n = p.n, P = C * k + C;
                double *wts = weighted ? make_weights(n, 11 + s) : NULL;
                csm_dataset *d = problem_dataset(&p, ctx);
                if (wts)
                    ck_assert_int_eq(csm_dataset_set_weights(d, wts), CSM_OK);
                csm_model *m = NULL;
                ck_assert_int_eq(csm_model_create(ctx, &m, prec, C, k), CSM_OK);
                csm_train_options o;
                csm_train_options_init(&o, sizeof o);
                o.C = 0.5;
                o.tol = prec == CSM_FLOAT64 ? 1e-9 : 1e-6;
                csm_train_result r = {.struct_size = sizeof r};
                ck_assert_int_eq(csm_train(m, d, &o, &r), CSM_OK);
                /* two classes: scikit-learn's binary C, twice the lambda */
                const double l2 =
                    (C == 2 ? 2.0 : 1.0) / (0.5 * csm_test_weight_sum(wts, n));
                ck_assert_msg(fabs(r.l2 - l2) <= 1e-15 * l2, "lambda %.17g vs %.17g", r.l2, l2);
                if (prec == CSM_FLOAT64)
                    ck_assert_msg(r.converged && r.stop == CSM_STOP_TOL, "float64 stop %d (%s)",
                                  r.stop, csm_stop_string(r.stop));
                else
                    ck_assert_msg(r.stop == CSM_STOP_TOL || r.stop == CSM_STOP_PRECISION,
                                  "float32 stop %d (%s)", r.stop, csm_stop_string(r.stop));
                ck_assert(r.n_iter >= 1 && r.n_evals >= r.n_iter && r.total_iter == r.n_iter);

                /* the optimum, independently */
                double *W = calloc(C * k, sizeof *W), *b = calloc(C, sizeof *b);
                int iters = 0;
                double gref = 1;
                double Jstar = ref_minimize(W, b, p.X, p.y, p.T, wts, n, k, C, l2, 1e-12, 200,
                                            &iters, &gref);
                ck_assert_msg(gref <= 1e-12, "reference Newton stopped at max|g| %g", gref);
                /* the device's weights, judged by the reference */
                double *dW = malloc(P * sizeof *dW), *Wd = malloc(P * sizeof *Wd);
                ck_assert_int_eq(csm_model_get_params(m, Wd, Wd + C * k), CSM_OK);
                double Jd = ref_loss(p.X, p.y, p.T, wts, Wd, Wd + C * k, n, k, C, l2);
                ref_backward(dW, dW + C * k, p.X, p.y, p.T, wts, Wd, Wd + C * k, n, k, C, l2);
                const double rtol = prec == CSM_FLOAT64 ? 1e-10 : 1e-5;
                ck_assert_msg(Jd - Jstar <= rtol * Jstar && Jd >= Jstar - 1e-12 * Jstar,
                              "%s %zux%zux%zu variant %d: J %.15g vs optimum %.15g (%d Newton "
                              "steps), lbfgs %d iterations, stop %s",
                              prec == CSM_FLOAT64 ? "f64" : "f32", n, k, C, variant, Jd, Jstar,
                              iters, r.n_iter, csm_stop_string(r.stop));
                const double ftol = prec == CSM_FLOAT64 ? 1e-12 : 2e-6;
                ck_assert_msg(csm_close(r.objective, Jd, ftol, ftol), "result J %.15g vs %.15g",
                              r.objective, Jd);
                ck_assert_msg(csm_close(r.grad_max_abs, max_abs(dW, P),
                                        prec == CSM_FLOAT64 ? 1e-13 : 1e-6, 1e-3),
                              "result max|g| %.6g vs %.6g", r.grad_max_abs, max_abs(dW, P));
                if (prec == CSM_FLOAT64)
                    ck_assert_msg(max_abs(dW, P) <= 1e-9 * 1.001, "max|g| %g", max_abs(dW, P));
                free(W), free(b), free(dW), free(Wd), free(wts);
                csm_model_free(m);
                csm_dataset_free(d);
                problem_free(&p);
            }
    }
    csm_context_free(ctx);
}
END_TEST

/* csm_loss / csm_gradient / csm_evaluate with sample weights equal the
 * weighted reference; integer weights equal duplicated rows; weights can
 * be removed again. */
START_TEST(test_weighted_ops_match_reference)
{
    csm_context *ctx = test_context();
    for (int pi = 0; pi < 2; pi++) {
        csm_precision prec = pi ? CSM_FLOAT64 : CSM_FLOAT32;
        if (prec == CSM_FLOAT64 && !test_has_fp64(ctx))
            continue;
        const double atol = prec == CSM_FLOAT64 ? 1e-12 : 2e-5;
        const double rtol = prec == CSM_FLOAT64 ? 1e-10 : 1e-4;
        for (int soft = 0; soft < 2; soft++) {
            problem p = problem_make(37, 9, 4, prec, soft, 900 + (uint64_t)soft);
            const size_t C = p.C, k = p.k, n = p.n;
            double *wts = make_weights(n, 5);
            csm_dataset *d = problem_dataset(&p, ctx);
            csm_model *m = problem_model(&p, ctx);
            ck_assert_int_eq(csm_dataset_set_weights(d, wts), CSM_OK);
            ck_assert(csm_dataset_has_weights(d));
            ck_assert(fabs(csm_dataset_weight_sum(d) - csm_test_weight_sum(wts, n)) < 1e-12);
            double J, *gW = malloc(C * k * sizeof *gW), gb[4];
            double *rW = malloc(C * k * sizeof *rW), rb[4];
            ck_assert_int_eq(csm_gradient(m, d, test_C(d, 0.03), &J, gW, gb), CSM_OK);
            ref_backward(rW, rb, p.X, p.y, p.T, wts, p.W, p.b, n, k, C, 0.03);
            double Jr = ref_loss(p.X, p.y, p.T, wts, p.W, p.b, n, k, C, 0.03);
            ck_assert_msg(csm_close(J, Jr, atol, rtol), "J %.12g vs %.12g", J, Jr);
            size_t at;
            ck_assert_msg(csm_worst(gW, rW, C * k, atol, rtol, &at) <= 1, "dW[%zu] %.12g vs %.12g",
                          at, gW[at], rW[at]);
            ck_assert_msg(csm_worst(gb, rb, C, atol, rtol, &at) <= 1, "db[%zu]", at);
            double loss;
            ck_assert_int_eq(csm_loss(m, d, test_C(d, 0.03), &loss), CSM_OK);
            ck_assert(csm_close(loss, Jr, atol, rtol));
            double el, acc;
            ck_assert_int_eq(csm_evaluate(m, d, &el, &acc), CSM_OK);
            ck_assert(csm_close(el, ref_loss(p.X, p.y, p.T, wts, p.W, p.b, n, k, C, 0), atol, rtol));
            /* back to uniform */
            ck_assert_int_eq(csm_dataset_set_weights(d, NULL), CSM_OK);
            ck_assert(!csm_dataset_has_weights(d) && csm_dataset_weight_sum(d) == (double)n);
            ck_assert_int_eq(csm_loss(m, d, INFINITY, &loss), CSM_OK);
            ck_assert(csm_close(loss, ref_loss(p.X, p.y, p.T, NULL, p.W, p.b, n, k, C, 0), atol, rtol));
            free(gW), free(rW), free(wts);
            csm_model_free(m);
            csm_dataset_free(d);
            problem_free(&p);
        }
        /* weight 2 on a row == that row twice */
        problem p = problem_make(9, 4, 3, prec, 0, 77);
        double *X2 = malloc(10 * 4 * sizeof *X2), w[9];
        int32_t y2[10];
        memcpy(X2, p.X, 9 * 4 * sizeof *X2);
        memcpy(X2 + 36, p.X + 3 * 4, 4 * sizeof *X2);
        memcpy(y2, p.y, 9 * sizeof *y2);
        y2[9] = p.y[3];
        for (int i = 0; i < 9; i++)
            w[i] = i == 3 ? 2 : 1;
        csm_dataset *dw = problem_dataset(&p, ctx), *dd = NULL;
        ck_assert_int_eq(csm_dataset_set_weights(dw, w), CSM_OK);
        ck_assert_int_eq(csm_dataset_create(ctx, &dd, prec, X2, CSM_DTYPE_F64, 10, 4, y2, NULL, 3), CSM_OK);
        csm_model *m = problem_model(&p, ctx);
        double g1[15], g2[15], J1, J2;
        ck_assert_int_eq(csm_gradient(m, dw, test_C(dw, 0.1), &J1, g1, g1 + 12), CSM_OK);
        ck_assert_int_eq(csm_gradient(m, dd, test_C(dd, 0.1), &J2, g2, g2 + 12), CSM_OK);
        size_t at;
        ck_assert(csm_close(J1, J2, atol, rtol));
        ck_assert_msg(csm_worst(g1, g2, 15, atol, rtol, &at) <= 1, "dup: g[%zu]", at);
        free(X2);
        csm_model_free(m);
        csm_dataset_free(dw);
        csm_dataset_free(dd);
        problem_free(&p);
    }
    csm_context_free(ctx);
}
END_TEST

/* Full-batch SGD, momentum and Adam with sample weights step like the
 * weighted reference (the step's scale is 1 / sum w over the whole set). */
START_TEST(test_weighted_full_batch_sgd_matches_reference)
{
    csm_context *ctx = test_context();
    csm_precision prec = test_has_fp64(ctx) ? CSM_FLOAT64 : CSM_FLOAT32;
    problem p = problem_make(23, 6, 3, prec, 0, 31);
    double *wts = make_weights(p.n, 17);
    csm_dataset *d = problem_dataset(&p, ctx);
    ck_assert_int_eq(csm_dataset_set_weights(d, wts), CSM_OK);
    csm_model *m = problem_model(&p, ctx);
    csm_train_options o;
    csm_train_options_init(&o, sizeof o);
    o.solver = CSM_SGD;
    o.max_iter = 3;
    o.tol = 0;
    o.batch_size = 0;
    o.learning_rate = 0.5;
    o.C = test_C(d, 0.02);
    ck_assert_int_eq(csm_train(m, d, &o, NULL), CSM_OK);
    for (int e = 0; e < 3; e++)
        ref_sgd_step(p.W, p.b, p.X, p.y, NULL, wts, p.n, p.k, p.C, 0.02, 0.5);
    double gw[18], gb[3];
    ck_assert_int_eq(csm_model_get_params(m, gw, gb), CSM_OK);
    size_t at;
    const double atol = prec == CSM_FLOAT64 ? 1e-12 : 6e-5, rtol = prec == CSM_FLOAT64 ? 1e-10 : 3e-4;
    ck_assert_msg(csm_worst(gw, p.W, 18, atol, rtol, &at) <= 1, "W[%zu] %.12g vs %.12g", at,
                  gw[at], p.W[at]);
    ck_assert_msg(csm_worst(gb, p.b, 3, atol, rtol, &at) <= 1, "b[%zu]", at);
    free(wts);
    csm_model_free(m);
    csm_dataset_free(d);
    problem_free(&p);
    csm_context_free(ctx);
}
END_TEST

/* Unshuffled weighted minibatches of 4 over 10 rows: each step's gradient
 * is sum_batch w_i (O_i - T_i) x_i * n / (B sum_all w), so that a step
 * estimates J's gradient; compared with the weighted reference on the
 * batch rescaled the same way. */
START_TEST(test_weighted_minibatch_sequence)
{
    csm_context *ctx = test_context();
    csm_precision prec = test_has_fp64(ctx) ? CSM_FLOAT64 : CSM_FLOAT32;
    const size_t n = 10, k = 4, C = 3;
    problem p = problem_make(n, k, C, prec, 0, 44);
    double *wts = make_weights(n, 3);
    csm_dataset *d = problem_dataset(&p, ctx);
    ck_assert_int_eq(csm_dataset_set_weights(d, wts), CSM_OK);
    csm_model *m = problem_model(&p, ctx);
    csm_train_options o;
    csm_train_options_init(&o, sizeof o);
    o.solver = CSM_SGD;
    o.max_iter = 2;
    o.tol = 0;
    o.C = test_C(d, 0.01);
    o.batch_size = 4;
    o.shuffle = 0;
    o.learning_rate = 0.3;
    ck_assert_int_eq(csm_train(m, d, &o, NULL), CSM_OK);
    const double wsum = csm_test_weight_sum(wts, n);
    double gW[12], gb[3];
    for (int e = 0; e < 2; e++)
        for (size_t r = 0; r < n; r += 4) {
            size_t B = n - r < 4 ? n - r : 4;
            double bsum = csm_test_weight_sum(wts + r, B);
            ref_backward(gW, gb, p.X + r * k, p.y + r, NULL, wts + r, p.W, p.b, B, k, C, 0.0);
            /* the reference's batch mean is over sum_batch w: rescale */
            double f = bsum * (double)n / ((double)B * wsum);
            for (size_t q = 0; q < C * k; q++)
                p.W[q] -= 0.3 * (f * gW[q] + 0.01 * p.W[q]);
            for (size_t c = 0; c < C; c++)
                p.b[c] -= 0.3 * f * gb[c];
        }
    double w[12], b[3];
    ck_assert_int_eq(csm_model_get_params(m, w, b), CSM_OK);
    size_t at;
    const double atol = prec == CSM_FLOAT64 ? 1e-12 : 1e-4, rtol = prec == CSM_FLOAT64 ? 1e-10 : 6e-4;
    ck_assert_msg(csm_worst(w, p.W, 12, atol, rtol, &at) <= 1, "W[%zu] %.12g vs %.12g", at, w[at],
                  p.W[at]);
    ck_assert(csm_worst(b, p.b, 3, atol, rtol, &at) <= 1);
    free(wts);
    csm_model_free(m);
    csm_dataset_free(d);
    problem_free(&p);
    csm_context_free(ctx);
}
END_TEST

/* Shuffled weighted minibatches: the CLBlast path (weights gathered with
 * the rows), the fused path (read through the permutation) and the tiled
 * path (weights gathered, rows read in place) train to the same weights. */
START_TEST(test_weighted_shuffled_paths_agree)
{
    csm_context *ctx = test_context();
    problem p = problem_make(70, 9, 4, CSM_FLOAT32, 0, 55);
    double *wts = make_weights(p.n, 8);
    double w[3][36], b[3][4];
    static const char *const paths[3] = {"clblast", "fused", "tiled"};
    for (int run = 0; run < 3; run++) {
        ck_assert_int_eq(csm_context_set_option(ctx, "path", paths[run]), CSM_OK);
        csm_dataset *d = problem_dataset(&p, ctx);
        ck_assert_int_eq(csm_dataset_set_weights(d, wts), CSM_OK);
        csm_model *m = problem_model(&p, ctx);
        csm_train_options o;
        csm_train_options_init(&o, sizeof o);
        o.solver = CSM_ADAM;
        o.max_iter = 3;
        o.tol = 0;
        o.batch_size = 16;
        o.learning_rate = 0.02;
        ck_assert_int_eq(csm_train(m, d, &o, NULL), CSM_OK);
        ck_assert_int_eq(csm_model_get_params(m, w[run], b[run]), CSM_OK);
        csm_model_free(m);
        csm_dataset_free(d);
    }
    for (int run = 1; run < 3; run++) {
        size_t at;
        ck_assert_msg(csm_worst(w[run], w[0], 36, 30 * 2e-5, 30 * 1e-4, &at) <= 1,
                      "%s: W[%zu] %.9g vs %.9g", paths[run], at, w[run][at], w[0][at]);
        ck_assert(csm_worst(b[run], b[0], 4, 30 * 2e-5, 30 * 1e-4, &at) <= 1);
    }
    free(wts);
    problem_free(&p);
    csm_context_free(ctx);
}
END_TEST

/* First-order stopping: tol = 0 runs max_iter epochs (MAX_ITER); a tol no
 * epoch can beat stops after 1 + n_iter_no_change epochs (TOL, converged),
 * as scikit-learn's SGD does. */
START_TEST(test_first_order_stopping)
{
    csm_context *ctx = test_context();
    problem p = problem_make(40, 5, 3, CSM_FLOAT32, 0, 8);
    csm_dataset *d = problem_dataset(&p, ctx);
    csm_model *m = problem_model(&p, ctx);
    csm_train_options o;
    csm_train_options_init(&o, sizeof o);
    o.solver = CSM_ADAM;
    o.batch_size = 8;
    o.max_iter = 4;
    o.tol = 0;
    csm_train_result r = {.struct_size = sizeof r};
    ck_assert_int_eq(csm_train(m, d, &o, &r), CSM_OK);
    ck_assert_int_eq(r.n_iter, 4);
    ck_assert_int_eq(r.stop, CSM_STOP_MAX_ITER);
    ck_assert_int_eq(r.converged, 0);
    ck_assert_int_eq(r.n_evals, 4 * 5); /* steps */
    ck_assert(isfinite(r.objective) && r.objective > 0 && r.grad_max_abs > 0);
    ck_assert(fabs(r.l2 - 1.0 / 40) < 1e-15);
    double J;
    ck_assert_int_eq(csm_loss(m, d, test_C(d, r.l2), &J), CSM_OK);
    ck_assert_msg(csm_close(r.objective, J, 1e-6, 1e-6), "%.9g vs %.9g", r.objective, J);
    o.max_iter = 100;
    o.tol = 1e9;
    o.n_iter_no_change = 3;
    ck_assert_int_eq(csm_train(m, d, &o, &r), CSM_OK);
    ck_assert_int_eq(r.n_iter, 4);
    ck_assert_int_eq(r.stop, CSM_STOP_TOL);
    ck_assert_int_eq(r.converged, 1);
    csm_model_free(m);
    csm_dataset_free(d);
    problem_free(&p);
    csm_context_free(ctx);
}
END_TEST

/* L-BFGS: max_iter stops it with MAX_ITER (not an error); a start already
 * within tol returns at once; C = INFINITY means no penalty, and a lambda
 * of one's own is a C. */
START_TEST(test_lbfgs_limits)
{
    csm_context *ctx = test_context();
    problem p = problem_make(50, 6, 4, CSM_FLOAT32, 0, 9);
    csm_dataset *d = problem_dataset(&p, ctx);
    csm_model *m = NULL;
    ck_assert_int_eq(csm_model_create(ctx, &m, CSM_FLOAT32, 4, 6), CSM_OK);
    csm_train_options o;
    csm_train_options_init(&o, sizeof o);
    o.max_iter = 2;
    o.tol = 1e-12;
    csm_train_result r = {.struct_size = sizeof r};
    ck_assert_int_eq(csm_train(m, d, &o, &r), CSM_OK);
    ck_assert_int_eq(r.stop, CSM_STOP_MAX_ITER);
    ck_assert_int_eq(r.n_iter, 2);
    ck_assert_int_eq(r.converged, 0);
    ck_assert(r.grad_max_abs > 1e-12);
    o.max_iter = 1000;
    o.tol = 1e-3;
    ck_assert_int_eq(csm_train(m, d, &o, &r), CSM_OK);
    ck_assert(r.converged && r.grad_max_abs <= 1e-3);
    ck_assert_int_eq(csm_train(m, d, &o, &r), CSM_OK); /* already there */
    ck_assert(r.converged && r.n_iter == 0);
    o.C = INFINITY;
    o.tol = 1e-2;
    ck_assert_int_eq(csm_train(m, d, &o, &r), CSM_OK);
    ck_assert(r.l2 == 0);
    o.C = test_C(d, 0.25); /* a lambda of one's own, as C */
    ck_assert_int_eq(csm_train(m, d, &o, &r), CSM_OK);
    ck_assert(fabs(r.l2 - 0.25) <= 1e-15 * 0.25);
    csm_model_free(m);
    csm_dataset_free(d);
    problem_free(&p);
    csm_context_free(ctx);
}
END_TEST

/* ---- L-BFGS under injected faults
 *
 * A one-process "distributed" run (options.reduce over one process: the
 * sum is the identity) shows the test the data part of every gradient the
 * solver is given, with its loss sum, and lets it change them; with C =
 * INFINITY the data part is the whole gradient. The epoch callback marks
 * the iterations. */
typedef struct injector {
    csm_model *m;
    size_t len;          /* C k + C */
    int iteration;       /* iterations reported so far */
    int armed_after;     /* faults go into the passes after this iteration */
    int mode;            /* REFLECT or NOISE_FLOOR */
    int after;           /* passes since the armed iteration */
    double *g;           /* (len) the gradient as given at the last pass */
    double loss;         /* the loss sum as given at the last pass */
    double *x_armed;     /* (len) the iterate of the armed iteration */
    double *g_armed;     /* (len) its gradient, as given */
    double *x_last;      /* (len) the iterate after the armed one */
    double *g_last;      /* (len) its gradient, as given */
    double *trial;       /* (len) the point of the second pass after arming */
    int evaluations[16]; /* per iteration */
} injector;
enum { REFLECT = 1, NOISE_FLOOR = 2 };

static void params(csm_model *m, size_t len, double *theta)
{
    const size_t C = csm_model_n_classes(m), k = csm_model_n_features(m);
    ck_assert_int_eq(csm_model_get_params(m, theta, theta + C * k), CSM_OK);
    (void)len;
}

static int injector_epoch(csm_model *m, const csm_epoch_info *info, void *user)
{
    injector *in = user;
    in->iteration = info->epoch;
    if (info->epoch < 16)
        in->evaluations[info->epoch] = info->evaluations;
    if (info->epoch == in->armed_after || info->epoch == in->armed_after + 1) {
        double *x = info->epoch == in->armed_after ? in->x_armed : in->x_last;
        double *g = info->epoch == in->armed_after ? in->g_armed : in->g_last;
        params(m, in->len, x);
        memcpy(g, in->g, in->len * sizeof *in->g);
    }
    return 0;
}

static int injector_reduce(double *v, size_t count, void *user)
{
    injector *in = user;
    if (count != in->len + 3) /* the start's sizes, a stop flag: as they are */
        return 0;
    if (in->iteration >= in->armed_after && in->after < 2) {
        in->after++;
        if (in->mode == REFLECT && in->after == 1) {
            /* the next iterate's gradient reflected through the last one:
             * y = -(its true y), so s.y < 0, a pair to skip */
            for (size_t i = 0; i < in->len; i++)
                v[i] = 2 * in->g_armed[i] - v[i];
        } else if (in->mode == REFLECT) {
            params(in->m, in->len, in->trial); /* the next direction's first trial */
        } else if (in->after == 1) {
            v[in->len] = in->loss + 1e6; /* no decrease: the search must zoom */
        } else {
            /* J equal to J at 0 and a zero slope: the approximate Wolfe
             * conditions at the noise floor */
            v[in->len] = in->loss;
            for (size_t i = 0; i < in->len; i++)
                v[i] = 0;
        }
    }
    memcpy(in->g, v, in->len * sizeof *v);
    if (in->iteration < in->armed_after || in->after == 0)
        in->loss = v[in->len];
    return 0;
}

/* Trains L-BFGS (float64, no penalty) under the injector; 0 when the
 * device has no float64. */
static int inject_train(injector *in, int mode, int memory, int maxls, int max_iter,
                        csm_train_result *r)
{
    csm_context *ctx = test_context();
    if (!test_has_fp64(ctx)) {
        csm_context_free(ctx);
        return 0;
    }
    problem p = problem_make(60, 6, 4, CSM_FLOAT64, 0, 41);
    csm_dataset *d = problem_dataset(&p, ctx);
    in->m = problem_model(&p, ctx);
    in->len = p.C * p.k + p.C;
    in->mode = mode;
    in->g = calloc(in->len, sizeof *in->g);
    in->x_armed = calloc(in->len, sizeof *in->x_armed);
    in->g_armed = calloc(in->len, sizeof *in->g_armed);
    in->x_last = calloc(in->len, sizeof *in->x_last);
    in->g_last = calloc(in->len, sizeof *in->g_last);
    in->trial = calloc(in->len, sizeof *in->trial);
    csm_train_options o;
    csm_train_options_init(&o, sizeof o);
    o.C = INFINITY;
    o.tol = 0;
    o.max_iter = max_iter;
    o.lbfgs_memory = memory;
    o.max_linesearch = maxls;
    o.reduce = injector_reduce;
    o.reduce_user = in;
    o.callback = injector_epoch;
    o.user = in;
    ck_assert_msg(csm_train(in->m, d, &o, r) == CSM_OK, "%s", csm_context_last_error(ctx));
    csm_model_free(in->m);
    csm_dataset_free(d);
    problem_free(&p);
    csm_context_free(ctx);
    return 1;
}

static void injector_free(injector *in)
{
    free(in->g);
    free(in->x_armed);
    free(in->g_armed);
    free(in->x_last);
    free(in->g_last);
    free(in->trial);
}

/* A pair without positive curvature is skipped without costing a pair
 * the history holds: with memory 1, full since the first iteration, the
 * iteration after a skipped pair still tries the quasi-Newton direction of
 * the pair kept, not -g (where an emptied history sends it). The gradient
 * at iteration 4's point is reflected through iteration 3's (so s.y < 0);
 * one evaluation per iteration (max_linesearch 1) makes that point
 * iteration 4, and the next pass iteration 5's first trial. */
START_TEST(test_lbfgs_skipped_pair_keeps_history)
{
    injector in = {.armed_after = 3};
    csm_train_result r = {.struct_size = sizeof r};
    if (!inject_train(&in, REFLECT, 1, 1, 6, &r))
        CSM_TEST_SKIP("no float64 on this device");
    ck_assert_msg(in.after == 2, "faults injected: %d", in.after);
    ck_assert_msg(in.evaluations[4] == 1, "iteration 4: %d evaluations", in.evaluations[4]);
    /* the injected pair: s = x4 - x3, y = g4 - g3 (as given), s.y < 0 */
    double sy = 0, dot = 0, nd = 0, ng = 0;
    for (size_t i = 0; i < in.len; i++) {
        sy += (in.x_last[i] - in.x_armed[i]) * (in.g_last[i] - in.g_armed[i]);
        /* iteration 5's first step from x4 (its trial), against -g4: the
         * cosine is 1 exactly when the direction is -g */
        const double di = in.trial[i] - in.x_last[i], gi = -in.g_last[i];
        dot += di * gi;
        nd += di * di;
        ng += gi * gi;
    }
    injector_free(&in);
    ck_assert_msg(sy < 0, "the injected pair has s.y = %g", sy);
    ck_assert_msg(nd > 0 && ng > 0, "no step after the skip");
    const double cosine = dot / sqrt(nd * ng);
    ck_assert_msg(cosine < 0.999, "the step after a skipped pair is along -g (cosine %.17g): "
                  "the history was dropped", cosine);
}
END_TEST

/* zoom accepts a point at the noise floor: J equal to J at 0 within its
 * rounding and the approximate Wolfe slope. The first trial of iteration
 * 4 shows no decrease (the search zooms); the next shows J equal to J at
 * 0 and a zero gradient: accepted at once (2 evaluations), and its zero
 * gradient meets tol = 0 there. Were the point thrown out for not lying
 * below the best J so far, the zoom would go on. */
START_TEST(test_lbfgs_zoom_accepts_noise_floor)
{
    injector in = {.armed_after = 3};
    csm_train_result r = {.struct_size = sizeof r};
    if (!inject_train(&in, NOISE_FLOOR, 10, 50, 10, &r))
        CSM_TEST_SKIP("no float64 on this device");
    injector_free(&in);
    ck_assert_msg(in.after == 2, "faults injected: %d", in.after);
    ck_assert_msg(in.evaluations[4] == 2, "iteration 4 took %d evaluations, not 2",
                  in.evaluations[4]);
    ck_assert_int_eq(r.n_iter, 4);
}
END_TEST

/* Resumed training continues the solver state: Adam and momentum over
 * shuffled minibatches, 3 + 2 epochs == 5 epochs (the same weights to the
 * last bits: the same operations in the same order); the iteration count
 * carries over; without resume the state starts afresh (different
 * weights). L-BFGS keeps counting (its history: test_lbfgs_resume_exact). */
START_TEST(test_resume_continues)
{
    csm_context *ctx = test_context();
    problem p = problem_make(45, 7, 3, CSM_FLOAT32, 0, 19);
    csm_dataset *d = problem_dataset(&p, ctx);
    for (int solver = CSM_MOMENTUM; solver <= CSM_ADAM; solver++) {
        double w[3][21], b[3][3];
        for (int run = 0; run < 3; run++) {
            csm_model *m = problem_model(&p, ctx);
            csm_train_options o;
            csm_train_options_init(&o, sizeof o);
            o.solver = (csm_solver)solver;
            o.batch_size = 10;
            o.tol = 0;
            o.learning_rate = 0.05;
            csm_train_result r = {.struct_size = sizeof r};
            if (run == 0) {
                o.max_iter = 5;
                ck_assert_int_eq(csm_train(m, d, &o, &r), CSM_OK);
            } else {
                o.max_iter = 3;
                ck_assert_int_eq(csm_train(m, d, &o, &r), CSM_OK);
                long it = 0;
                ck_assert_str_eq(csm_model_solver_state(m, &it), csm_solver_name((csm_solver)solver));
                ck_assert_int_eq(it, 3);
                o.max_iter = 2;
                o.resume = run == 1;
                ck_assert_int_eq(csm_train(m, d, &o, &r), CSM_OK);
                ck_assert_int_eq(r.n_iter, 2);
                ck_assert_int_eq(r.total_iter, run == 1 ? 5 : 2);
            }
            ck_assert_int_eq(csm_model_get_params(m, w[run], b[run]), CSM_OK);
            csm_model_free(m);
        }
        size_t at;
        ck_assert_msg(csm_worst(w[1], w[0], 21, 1e-7, 1e-6, &at) <= 1, "solver %d W[%zu] %.9g vs %.9g",
                      solver, at, w[1][at], w[0][at]);
        ck_assert(csm_worst(b[1], b[0], 3, 1e-7, 1e-6, &at) <= 1);
        ck_assert_msg(memcmp(w[2], w[0], sizeof w[0]) != 0, "a fresh start must differ");
    }
    csm_model *m = problem_model(&p, ctx);
    csm_train_options o;
    csm_train_options_init(&o, sizeof o);
    o.max_iter = 3;
    o.tol = 1e-10;
    csm_train_result r = {.struct_size = sizeof r};
    ck_assert_int_eq(csm_train(m, d, &o, &r), CSM_OK);
    o.resume = 1;
    ck_assert_int_eq(csm_train(m, d, &o, &r), CSM_OK);
    ck_assert_int_eq(r.total_iter, 6);
    long it = 0;
    ck_assert_str_eq(csm_model_solver_state(m, &it), "lbfgs");
    ck_assert_int_eq(it, 6);
    csm_model_clear_solver_state(m);
    ck_assert_ptr_null(csm_model_solver_state(m, &it));
    csm_model_free(m);
    csm_dataset_free(d);
    problem_free(&p);
    csm_context_free(ctx);
}
END_TEST

/* The state survives a model file: Adam 3 epochs, save, load, resume 2
 * more == 5 epochs in one run. */
START_TEST(test_resume_through_file)
{
    csm_context *ctx = test_context();
    problem p = problem_make(45, 7, 3, CSM_FLOAT32, 0, 23);
    csm_dataset *d = problem_dataset(&p, ctx);
    char path[] = "/tmp/csm-resume-XXXXXX";
    int fd = mkstemp(path);
    ck_assert(fd >= 0);
    close(fd);
    csm_train_options o;
    csm_train_options_init(&o, sizeof o);
    o.solver = CSM_ADAM;
    o.batch_size = 8;
    o.tol = 0;
    o.learning_rate = 0.05;
    double w[2][21], b[2][3];
    csm_model *m = problem_model(&p, ctx);
    o.max_iter = 5;
    ck_assert_int_eq(csm_train(m, d, &o, NULL), CSM_OK);
    ck_assert_int_eq(csm_model_get_params(m, w[0], b[0]), CSM_OK);
    csm_model_free(m);
    m = problem_model(&p, ctx);
    o.max_iter = 3;
    ck_assert_int_eq(csm_train(m, d, &o, NULL), CSM_OK);
    ck_assert_int_eq(csm_model_save(m, path), CSM_OK);
    csm_model_free(m);
    m = NULL;
    ck_assert_int_eq(csm_model_load(ctx, &m, path), CSM_OK);
    long it = 0;
    ck_assert_str_eq(csm_model_solver_state(m, &it), "adam");
    ck_assert_int_eq(it, 3);
    o.max_iter = 2;
    o.resume = 1;
    csm_train_result r = {.struct_size = sizeof r};
    ck_assert_int_eq(csm_train(m, d, &o, &r), CSM_OK);
    ck_assert_int_eq(r.total_iter, 5);
    ck_assert_int_eq(csm_model_get_params(m, w[1], b[1]), CSM_OK);
    size_t at;
    ck_assert_msg(csm_worst(w[1], w[0], 21, 1e-7, 1e-6, &at) <= 1, "W[%zu] %.9g vs %.9g", at,
                  w[1][at], w[0][at]);
    ck_assert(csm_worst(b[1], b[0], 3, 1e-7, 1e-6, &at) <= 1);
    csm_model_free(m);
    unlink(path);
    csm_dataset_free(d);
    problem_free(&p);
    csm_context_free(ctx);
}
END_TEST

/* Stops L-BFGS after `at` iterations, as the command's Ctrl-C does. */
static int stop_at(csm_model *m, const csm_epoch_info *info, void *user)
{
    (void)m;
    return info->epoch >= *(const int *)user;
}

/* An interrupted L-BFGS run, resumed, is the uninterrupted one: stopped by
 * the callback after 5 iterations (the history of memory 3 has wrapped
 * round), continued in memory and through a model file, it ends with the
 * same weights, bit for bit, the same iteration count and stop, in both
 * precisions. Only a run that did not converge keeps its history: a
 * converged model's file holds no state.lbfgs tensors. */
START_TEST(test_lbfgs_resume_exact)
{
    csm_context *ctx = test_context();
    for (int pi = 0; pi < 2; pi++) {
        csm_precision prec = pi ? CSM_FLOAT64 : CSM_FLOAT32;
        if (prec == CSM_FLOAT64 && !test_has_fp64(ctx))
            continue;
        problem p = problem_make(93, 11, 5, prec, 0, 31);
        csm_dataset *d = problem_dataset(&p, ctx);
        const size_t nw = p.C * p.k;
        double w[3][55], b[3][5];
        long total[3];
        csm_stop stop[3];
        char path[] = "/tmp/csm-lbfgs-resume-XXXXXX";
        int fd = mkstemp(path);
        ck_assert(fd >= 0);
        close(fd);
        for (int run = 0; run < 3; run++) { /* whole, resumed in memory, through a file */
            csm_model *m = problem_model(&p, ctx);
            ck_assert_int_eq(csm_model_init(m, CSM_INIT_ZEROS, 0), CSM_OK);
            csm_train_options o;
            csm_train_options_init(&o, sizeof o);
            o.lbfgs_memory = 3;
            o.C = 10;
            o.tol = prec == CSM_FLOAT64 ? 1e-9 : 1e-5;
            o.max_iter = 60;
            csm_train_result r = {.struct_size = sizeof r};
            int at = 5;
            if (run > 0) {
                o.callback = stop_at;
                o.user = &at;
                ck_assert_int_eq(csm_train(m, d, &o, &r), CSM_OK);
                ck_assert_int_eq(r.stop, CSM_STOP_CALLBACK);
                ck_assert_int_eq(r.n_iter, 5);
                if (run == 2) {
                    ck_assert_int_eq(csm_model_save(m, path), CSM_OK);
                    csm_model_free(m);
                    m = NULL;
                    ck_assert_int_eq(csm_model_load(ctx, &m, path), CSM_OK);
                    const char *h = csm_model_get_metadata(m, "solver_lbfgs");
                    ck_assert_ptr_null(h); /* reserved: not user metadata */
                }
                o.callback = NULL;
                o.resume = 1;
                o.max_iter = 60 - 5;
            }
            ck_assert_int_eq(csm_train(m, d, &o, &r), CSM_OK);
            total[run] = r.total_iter;
            stop[run] = r.stop;
            ck_assert_int_eq(csm_model_get_params(m, w[run], b[run]), CSM_OK);
            if (run == 0) {
                ck_assert_msg(r.total_iter > 8, "only %ld iterations: too easy to test",
                              r.total_iter);
                /* converged: no history in the file */
                ck_assert_int_eq(r.stop, CSM_STOP_TOL);
                ck_assert_int_eq(csm_model_save(m, path), CSM_OK);
                FILE *f = fopen(path, "rb");
                char head[4096] = "";
                ck_assert_ptr_nonnull(f);
                head[fread(head, 1, sizeof head - 1, f)] = '\0';
                fclose(f);
                ck_assert_msg(strstr(head + 8, "state.lbfgs") == NULL &&
                                  strstr(head + 8, "solver_lbfgs") == NULL,
                              "%s", head + 8);
            }
            csm_model_free(m);
        }
        for (int run = 1; run < 3; run++) {
            ck_assert_int_eq(total[run], total[0]);
            ck_assert_int_eq(stop[run], stop[0]);
            ck_assert_msg(memcmp(w[run], w[0], nw * sizeof **w) == 0 &&
                              memcmp(b[run], b[0], p.C * sizeof **b) == 0,
                          "%s run %d: weights differ from the uninterrupted run",
                          pi ? "f64" : "f32", run);
        }
        unlink(path);
        csm_dataset_free(d);
        problem_free(&p);
    }
    csm_context_free(ctx);
}
END_TEST

/* The history in the file is checked: a file whose solver_lbfgs and
 * tensors disagree is refused naming what is wrong. */
START_TEST(test_lbfgs_state_file_checked)
{
    csm_context *ctx = test_context();
    problem p = problem_make(40, 6, 3, CSM_FLOAT32, 0, 37);
    csm_dataset *d = problem_dataset(&p, ctx);
    csm_model *m = problem_model(&p, ctx);
    csm_train_options o;
    csm_train_options_init(&o, sizeof o);
    o.lbfgs_memory = 4;
    o.max_iter = 3;
    o.tol = 1e-12;
    ck_assert_int_eq(csm_train(m, d, &o, NULL), CSM_OK);
    char path[] = "/tmp/csm-lbfgs-file-XXXXXX";
    int fd = mkstemp(path);
    ck_assert(fd >= 0);
    close(fd);
    ck_assert_int_eq(csm_model_save(m, path), CSM_OK);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    static unsigned char buf[1 << 16];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    char *hdr = (char *)buf + 8;
    char *meta = strstr(hdr, "\"solver_lbfgs\":\"");
    ck_assert_msg(meta != NULL, "no solver_lbfgs in %.300s", hdr);
    /* the same length: memory 4 -> 5 no longer matches the tensors' rows;
     * an order naming a row twice */
    const struct {
        const char *from, *to, *says;
    } cases[] = {
        {"\\\"memory\\\":4", "\\\"memory\\\":5", "has 4 rows but __metadata__ solver_lbfgs has memory 5"},
        {"\\\"head\\\":3", "\\\"head\\\":9", "head is not an integer in [0, memory)"},
        {"\\\"order\\\":[0,1,2]", "\\\"order\\\":[0,1,1]", "order holds a row twice"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        static unsigned char bad[1 << 16];
        memcpy(bad, buf, len);
        char *at = strstr((char *)bad + 8, cases[i].from);
        ck_assert_msg(at != NULL, "'%s' not in %.400s", cases[i].from, hdr);
        ck_assert_uint_eq(strlen(cases[i].from), strlen(cases[i].to));
        memcpy(at, cases[i].to, strlen(cases[i].to));
        f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(bad, 1, len, f), len);
        fclose(f);
        csm_model *l = NULL;
        csm_status st = csm_model_load(ctx, &l, path);
        ck_assert_int_eq(st, CSM_ERR_FORMAT);
        ck_assert_msg(strstr(csm_context_last_error(ctx), cases[i].says) != NULL, "%s",
                      csm_context_last_error(ctx));
        ck_assert_ptr_null(l);
    }
    unlink(path);
    csm_model_free(m);
    csm_dataset_free(d);
    problem_free(&p);
    csm_context_free(ctx);
}
END_TEST

/* Bad sample weights are refused with a specific status. */
START_TEST(test_bad_weights)
{
    csm_context *ctx = test_context();
    problem p = problem_make(5, 3, 2, CSM_FLOAT32, 0, 1);
    csm_dataset *d = problem_dataset(&p, ctx);
    double w[5] = {1, 1, 1, 1, 1};
    ck_assert_int_eq(csm_dataset_set_weights(NULL, w), CSM_ERR_NULL_ARGUMENT);
    w[2] = -1;
    ck_assert_int_eq(csm_dataset_set_weights(d, w), CSM_ERR_INVALID_VALUE);
    w[2] = NAN;
    ck_assert_int_eq(csm_dataset_set_weights(d, w), CSM_ERR_NONFINITE);
    w[2] = INFINITY;
    ck_assert_int_eq(csm_dataset_set_weights(d, w), CSM_ERR_NONFINITE);
    for (int i = 0; i < 5; i++)
        w[i] = 0;
    ck_assert_int_eq(csm_dataset_set_weights(d, w), CSM_ERR_INVALID_VALUE);
    ck_assert(!csm_dataset_has_weights(d));
    csm_dataset_free(d);
    problem_free(&p);
    csm_context_free(ctx);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        test_lbfgs_reaches_reference_optimum,
        test_weighted_ops_match_reference,
        test_weighted_full_batch_sgd_matches_reference,
        test_weighted_minibatch_sequence,
        test_first_order_stopping,
        test_lbfgs_limits,
        test_lbfgs_skipped_pair_keeps_history,
        test_lbfgs_zoom_accepts_noise_floor,
        test_resume_continues,
        test_resume_through_file,
        test_lbfgs_resume_exact,
        test_lbfgs_state_file_checked,
        test_bad_weights,
    };
    Suite *s = csm_suite_per_path("solver", tests, sizeof tests / sizeof *tests);
    TCase *both = tcase_create("both-paths");
    tcase_set_timeout(both, CSM_DEVICE_TIMEOUT);
    tcase_add_test(both, test_weighted_shuffled_paths_agree);
    suite_add_tcase(s, both);
    return csm_test_main(s, 1);
}
