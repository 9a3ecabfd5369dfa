/* The trust-region Newton solver (src/solver_newton.c): it reaches the
 * optimum the reference's own Newton minimiser finds (dense on every path,
 * CSR, streamed in chunks, through a reduce callback), with labels, soft
 * targets and sample weights, at odd sizes and two classes, in float32 and
 * float64; without an intercept the same J as L-BFGS with the bias left at
 * 0; trials rejected and gone on from; its stops (tol, max_iter, the
 * callback) and its options checked. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "problem.h"
#include "reference.h"
#include "testutil.h"

typedef struct run {
    csm_train_result r;
    double J;     /* the reference's J at the trained weights */
    double gmax;  /* the reference's max |gradient| there */
    double *theta; /* (C k + C) the trained weights */
} run;

/* Trains a new zero model of p's shape on d with solver, C = 0.5, tol, and
 * judges the weights with the reference. */
static run train(csm_context *ctx, const problem *p, csm_dataset *d, const double *wts,
                 csm_solver solver, double tol, int fit_intercept, int reduce)
{
    const size_t C = p->C, k = p->k, P = C * k + C;
    csm_model *m = NULL;
    ck_assert_int_eq(csm_model_create(ctx, &m, p->prec, C, k), CSM_OK);
    csm_train_options o;
    csm_train_options_init(&o, sizeof o);
    o.solver = solver;
    o.C = 0.5;
    o.tol = tol;
    o.fit_intercept = fit_intercept;
    if (reduce)
        o.reduce = csm_test_one_process;
    run out = {.r = {.struct_size = sizeof out.r}};
    ck_assert_int_eq(csm_train(m, d, &o, &out.r), CSM_OK);
    out.theta = malloc(P * sizeof *out.theta);
    double *g = malloc(P * sizeof *g);
    ck_assert_int_eq(csm_model_get_params(m, out.theta, out.theta + C * k), CSM_OK);
    const double l2 = out.r.l2;
    out.J = ref_loss(p->X, p->y, p->T, wts, out.theta, out.theta + C * k, p->n, k, C, l2);
    ref_backward(g, g + C * k, p->X, p->y, p->T, wts, out.theta, out.theta + C * k, p->n, k, C,
                 l2);
    out.gmax = 0;
    for (size_t i = 0; i < (fit_intercept ? P : C * k); i++)
        out.gmax = fmax(out.gmax, fabs(g[i]));
    free(g);
    csm_model_free(m);
    return out;
}

/* Newton's weights on d against the reference optimum: J within 1e-10
 * relative in float64 (tol 1e-9) and 1e-5 in float32 (tol 1e-6, or the
 * precision stop); the result's J is the reference's at its weights. */
static void check_optimum(csm_context *ctx, const problem *p, csm_dataset *d, const double *wts,
                          int reduce, const char *what)
{
    const size_t C = p->C, k = p->k, n = p->n;
    const int f64 = p->prec == CSM_FLOAT64;
    run nr = train(ctx, p, d, wts, CSM_NEWTON, f64 ? 1e-9 : 1e-6, 1, reduce);
    const double l2 = (C == 2 ? 2.0 : 1.0) / (0.5 * csm_test_weight_sum(wts, n));
    ck_assert_msg(fabs(nr.r.l2 - l2) <= 1e-15 * l2, "lambda %.17g vs %.17g", nr.r.l2, l2);
    if (f64)
        ck_assert_msg(nr.r.converged && nr.r.stop == CSM_STOP_TOL, "%s: float64 stop %s", what,
                      csm_stop_string(nr.r.stop));
    else
        ck_assert_msg(nr.r.stop == CSM_STOP_TOL || nr.r.stop == CSM_STOP_PRECISION,
                      "%s: float32 stop %s", what, csm_stop_string(nr.r.stop));
    ck_assert(nr.r.n_iter >= 1 && nr.r.n_evals > nr.r.n_iter && nr.r.total_iter == nr.r.n_iter);
    double *W = calloc(C * k, sizeof *W), *b = calloc(C, sizeof *b);
    int iters = 0;
    double gref = 1;
    const double Jstar = ref_minimize(W, b, p->X, p->y, p->T, wts, n, k, C, l2, 1e-12, 200,
                                      &iters, &gref);
    ck_assert_msg(gref <= 1e-12, "reference Newton stopped at max|g| %g", gref);
    const double rtol = f64 ? 1e-10 : 1e-5;
    ck_assert_msg(nr.J - Jstar <= rtol * Jstar && nr.J >= Jstar - 1e-12 * Jstar,
                  "%s: J %.15g vs optimum %.15g, newton %d iterations, stop %s, max|g| %g "
                  "(result %g)",
                  what, nr.J, Jstar, nr.r.n_iter, csm_stop_string(nr.r.stop), nr.gmax,
                  nr.r.grad_max_abs);
    const double ftol = f64 ? 1e-12 : 2e-6;
    ck_assert_msg(csm_close(nr.r.objective, nr.J, ftol, ftol), "%s: result J %.15g vs %.15g",
                  what, nr.r.objective, nr.J);
    if (f64)
        ck_assert_msg(nr.gmax <= 1e-9 * 1.001 && nr.r.grad_max_abs <= 1e-9, "%s: max|g| %g",
                      what, nr.gmax);
    /* J is flat along b + t (1, ..., 1) (solver_newton.c, equal_bias_entries):
     * started at zero, the bias stays centred, as L-BFGS's does */
    double bsum = 0, bmax = 0;
    for (size_t c = 0; c < C; c++) {
        bsum += nr.theta[C * k + c];
        bmax = fmax(bmax, fabs(nr.theta[C * k + c]));
    }
    ck_assert_msg(fabs(bsum) <= (f64 ? 1e-9 : 1e-4) * (1 + bmax),
                  "%s: the bias sums to %g (max |b| %g)", what, bsum, bmax);
    free(W);
    free(b);
    free(nr.theta);
}

/* Dense, on the path of the test case: labels, soft targets, weights (the
 * problems of check_solver's L-BFGS test, where every class keeps weight,
 * so that the optimum is finite), at 7 x 5 x 3, 93 x 7 x 2 (two classes: twice the lambda) and 61 x 13 x 5. */
START_TEST(test_newton_reaches_reference_optimum)
{
    csm_context *ctx = test_context();
    static const size_t shapes[][3] = {{7, 5, 3}, {93, 7, 2}, {61, 13, 5}};
    for (int pi = 0; pi < 2; pi++) {
        const csm_precision prec = pi ? CSM_FLOAT64 : CSM_FLOAT32;
        if (prec == CSM_FLOAT64 && !test_has_fp64(ctx))
            continue;
        for (size_t s = 0; s < 3; s++)
            for (int variant = 0; variant < 3; variant++) {
                problem p = problem_make(shapes[s][0], shapes[s][1], shapes[s][2], prec,
                                         variant == 1, 300 + s * 7 + (uint64_t)variant);
                double *wts = NULL;
                if (variant == 2) {
                    uint64_t seed = 11 + s;
                    wts = malloc(p.n * sizeof *wts);
                    csm_fill_uniform(wts, p.n, &seed, 0.2, 3.0);
                    wts[p.n / 2] = 0;
                }
                csm_dataset *d = problem_dataset(&p, ctx);
                if (wts)
                    ck_assert_int_eq(csm_dataset_set_weights(d, wts), CSM_OK);
                char what[96];
                snprintf(what, sizeof what, "%s %zux%zux%zu variant %d", pi ? "f64" : "f32", p.n,
                         p.k, p.C, variant);
                check_optimum(ctx, &p, d, wts, 0, what);
                csm_dataset_free(d);
                free(wts);
                problem_free(&p);
            }
    }
    csm_context_free(ctx);
}
END_TEST

/* No intercept: Newton and L-BFGS reach the same J (1e-10 relative in
 * float64, 1e-5 in float32), the bias stays exactly 0, and the weights'
 * gradient meets tol. */
START_TEST(test_newton_no_intercept)
{
    csm_context *ctx = test_context();
    static const size_t shapes[][3] = {{93, 7, 2}, {61, 13, 5}};
    for (int pi = 0; pi < 2; pi++) {
        const csm_precision prec = pi ? CSM_FLOAT64 : CSM_FLOAT32;
        if (prec == CSM_FLOAT64 && !test_has_fp64(ctx))
            continue;
        const double tol = pi ? 1e-9 : 1e-6;
        for (size_t s = 0; s < 2; s++) {
            problem p = problem_make(shapes[s][0], shapes[s][1], shapes[s][2], prec, 0, 40 + s);
            csm_dataset *d = problem_dataset(&p, ctx);
            run nr = train(ctx, &p, d, NULL, CSM_NEWTON, tol, 0, 0);
            run lb = train(ctx, &p, d, NULL, CSM_LBFGS, tol, 0, 0);
            const size_t nw = p.C * p.k;
            for (size_t c = 0; c < p.C; c++)
                ck_assert_msg(nr.theta[nw + c] == 0, "bias %zu = %g", c, nr.theta[nw + c]);
            const double rtol = pi ? 1e-10 : 1e-5;
            ck_assert_msg(fabs(nr.J - lb.J) <= rtol * lb.J, "newton J %.15g, lbfgs J %.15g", nr.J,
                          lb.J);
            if (pi)
                ck_assert_msg(nr.r.converged && nr.gmax <= tol * 1.001, "max|g| %g", nr.gmax);
            free(nr.theta);
            free(lb.theta);
            csm_dataset_free(d);
            problem_free(&p);
        }
    }
    csm_context_free(ctx);
}
END_TEST

/* Stops: tol met at the start (no iteration), max_iter, the callback; the
 * callback sees iterations 1, 2, ... with max |grad| and the passes. */
static int stop_at_two(csm_model *m, const csm_epoch_info *info, void *user)
{
    (void)m;
    int *seen = user;
    ck_assert_int_eq(info->epoch, *seen + 1);
    ck_assert(isfinite(info->grad_max_abs) && info->evaluations >= 1);
    *seen = info->epoch;
    return info->epoch == 2;
}

START_TEST(test_newton_stops)
{
    csm_context *ctx = test_context();
    problem p = problem_make(61, 13, 5, CSM_FLOAT32, 0, 77);
    csm_dataset *d = problem_dataset(&p, ctx);
    csm_model *m = NULL;
    ck_assert_int_eq(csm_model_create(ctx, &m, p.prec, p.C, p.k), CSM_OK);
    csm_train_options o;
    csm_train_options_init(&o, sizeof o);
    o.solver = CSM_NEWTON;
    o.max_iter = 1;
    csm_train_result r = {.struct_size = sizeof r};
    ck_assert_int_eq(csm_train(m, d, &o, &r), CSM_OK);
    ck_assert_int_eq(r.stop, CSM_STOP_MAX_ITER);
    ck_assert_int_eq(r.n_iter, 1);
    const char *state = csm_model_solver_state(m, NULL);
    ck_assert(state && !strcmp(state, "newton"));
    /* a huge tol: met at the start, nothing moves */
    o.max_iter = 100;
    o.tol = 1e6;
    ck_assert_int_eq(csm_train(m, d, &o, &r), CSM_OK);
    ck_assert_int_eq(r.stop, CSM_STOP_TOL);
    ck_assert_int_eq(r.n_iter, 0);
    int seen = 0;
    o.tol = 0;
    o.callback = stop_at_two;
    o.user = &seen;
    ck_assert_int_eq(csm_model_init(m, CSM_INIT_ZEROS, 0), CSM_OK);
    ck_assert_int_eq(csm_train(m, d, &o, &r), CSM_OK);
    ck_assert_int_eq(r.stop, CSM_STOP_CALLBACK);
    ck_assert_int_eq(r.n_iter, 2);
    ck_assert_int_eq(seen, 2);
    csm_model_free(m);
    csm_dataset_free(d);
    problem_free(&p);
    csm_context_free(ctx);
}
END_TEST

/* The name both ways; options refused for Newton as for L-BFGS. */
START_TEST(test_newton_options)
{
    ck_assert_str_eq(csm_solver_name(CSM_NEWTON), "newton");
    ck_assert_int_eq(csm_solver_from_name("newton"), CSM_NEWTON);
    ck_assert_ptr_null(csm_solver_name((csm_solver)(CSM_NEWTON + 1)));
    csm_context *ctx = test_context();
    problem p = problem_make(7, 5, 3, CSM_FLOAT32, 0, 3);
    csm_dataset *d = problem_dataset(&p, ctx);
    csm_model *m = problem_model(&p, ctx);
    csm_train_options o;
    csm_train_options_init(&o, sizeof o);
    o.solver = CSM_NEWTON;
    const csm_train_options good = o;
    csm_train_result r = {.struct_size = sizeof r};
    o.max_iter = 0;
    ck_assert_int_eq(csm_train(m, d, &o, &r), CSM_ERR_INVALID_VALUE);
    o = good;
    o.tol = NAN;
    ck_assert_int_eq(csm_train(m, d, &o, &r), CSM_ERR_INVALID_VALUE);
    o = good;
    o.tol = -1;
    ck_assert_int_eq(csm_train(m, d, &o, &r), CSM_ERR_INVALID_VALUE);
    o = good;
    o.C = 0;
    ck_assert_int_eq(csm_train(m, d, &o, &r), CSM_ERR_INVALID_VALUE);
    o = good;
    o.solver = (csm_solver)(CSM_NEWTON + 1);
    ck_assert_int_eq(csm_train(m, d, &o, &r), CSM_ERR_INVALID_VALUE);
    o = good;
    ck_assert_int_eq(csm_train(m, d, &o, &r), CSM_OK);
    csm_model_free(m);
    csm_dataset_free(d);
    problem_free(&p);
    csm_context_free(ctx);
}
END_TEST

/* CSR rows (about half zero), dense rows streamed in chunks, and a sum
 * through the reduce callback: the same optimum. */
START_TEST(test_newton_sparse_streamed_reduce)
{
    csm_context *ctx = test_context();
    for (int pi = 0; pi < 2; pi++) {
        const csm_precision prec = pi ? CSM_FLOAT64 : CSM_FLOAT32;
        if (prec == CSM_FLOAT64 && !test_has_fp64(ctx))
            continue;
        problem p = problem_make(53, 9, 4, prec, 0, 5);
        csm_dataset *d = problem_sparse_dataset(&p, ctx, 3);
        check_optimum(ctx, &p, d, NULL, 0, "CSR");
        check_optimum(ctx, &p, d, NULL, 1, "CSR, reduce");
        csm_dataset_free(d);
        ck_assert_int_eq(csm_context_set_option(ctx, "max_alloc", "600"), CSM_OK);
        d = problem_dataset(&p, ctx);
        ck_assert_int_eq(csm_context_set_option(ctx, "max_alloc", NULL), CSM_OK);
        ck_assert_uint_gt(csm_dataset_chunks(d), 1);
        check_optimum(ctx, &p, d, NULL, 0, "streamed");
        check_optimum(ctx, &p, d, NULL, 1, "streamed, reduce");
        csm_dataset_free(d);
        problem_free(&p);
    }
    csm_context_free(ctx);
}
END_TEST

/* Rejected trials: started from weights far from the optimum (uniform in
 * [-100, 100]), Newton's first trials overshoot and are rejected; the
 * solver goes on from the weights taken back, with the gradient there
 * computed again (CG keeps its residual in the gradient's place:
 * solver_newton.c). It still converges, in float64, to the reference
 * optimum. A rejection costs a trial and a gradient pass, a last rejected
 * trial only the trial: evaluations past 1 + iterations + 1 come from
 * rejections the solver went on from. */
START_TEST(test_newton_rejected_trials)
{
    csm_context *ctx = test_context();
    if (!test_has_fp64(ctx)) {
        csm_context_free(ctx);
        CSM_TEST_SKIP("no float64 on this device");
    }
    problem p = problem_make(61, 13, 5, CSM_FLOAT64, 0, 91);
    const size_t C = p.C, k = p.k, P = C * k + C;
    csm_dataset *d = problem_dataset(&p, ctx);
    csm_model *m = NULL;
    ck_assert_int_eq(csm_model_create(ctx, &m, p.prec, C, k), CSM_OK);
    double *theta = calloc(P, sizeof *theta), *g = malloc(P * sizeof *g);
    uint64_t seed = 5;
    csm_fill_uniform(theta, C * k, &seed, -100, 100);
    ck_assert_int_eq(csm_model_set_params(m, theta, theta + C * k), CSM_OK);
    csm_train_options o;
    csm_train_options_init(&o, sizeof o);
    o.solver = CSM_NEWTON;
    o.C = 0.5;
    o.tol = 1e-9;
    csm_train_result r = {.struct_size = sizeof r};
    ck_assert_int_eq(csm_train(m, d, &o, &r), CSM_OK);
    ck_assert_msg(r.converged && r.stop == CSM_STOP_TOL, "stop %s", csm_stop_string(r.stop));
    ck_assert_msg(r.n_evals > r.n_iter + 2,
                  "no trial rejected before the last: %d iterations, %ld evaluations", r.n_iter,
                  r.n_evals);
    ck_assert_int_eq(csm_model_get_params(m, theta, theta + C * k), CSM_OK);
    const double J = ref_loss(p.X, p.y, NULL, NULL, theta, theta + C * k, p.n, k, C, r.l2);
    ref_backward(g, g + C * k, p.X, p.y, NULL, NULL, theta, theta + C * k, p.n, k, C, r.l2);
    double gmax = 0;
    for (size_t i = 0; i < P; i++)
        gmax = fmax(gmax, fabs(g[i]));
    ck_assert_msg(gmax <= 1e-9 * 1.001, "reference max|g| %g at the trained weights", gmax);
    double *W = calloc(C * k, sizeof *W), *b = calloc(C, sizeof *b), gref = 1;
    int iters = 0;
    const double Jstar = ref_minimize(W, b, p.X, p.y, NULL, NULL, p.n, k, C, r.l2, 1e-12, 200,
                                      &iters, &gref);
    ck_assert_msg(fabs(J - Jstar) <= 1e-10 * Jstar, "J %.15g vs optimum %.15g", J, Jstar);
    free(W);
    free(b);
    free(theta);
    free(g);
    csm_model_free(m);
    csm_dataset_free(d);
    problem_free(&p);
    csm_context_free(ctx);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        test_newton_reaches_reference_optimum,
        test_newton_no_intercept,
        test_newton_stops,
    };
    Suite *s = csm_suite_per_path("newton", tests, sizeof tests / sizeof *tests);
    TCase *tc = tcase_create("any-path");
    tcase_set_timeout(tc, CSM_DEVICE_TIMEOUT);
    tcase_add_test(tc, test_newton_options);
    tcase_add_test(tc, test_newton_sparse_streamed_reduce);
    tcase_add_test(tc, test_newton_rejected_trials);
    suite_add_tcase(s, tc);
    return csm_test_main(s, 1);
}
