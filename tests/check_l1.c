/* The L1 / elastic-net penalty (csm_train_options.l1_ratio) and OWL-QN
 * (src/solver_owlqn.c):
 *   - the objective's J with its L1 term and the pseudo-gradient
 *     (vec_pseudo_grad) against central differences of J in double by the
 *     reference, away from zero, and against one-sided differences at
 *     weights that are exactly 0, on dense and CSR rows;
 *   - training reaches scikit-learn's saga optimum (tol 1e-10,
 *     tests/data/sklearn/l1-optima.txt, written by make-l1-fixtures.py) on
 *     wine and digits at l1_ratio 1 and 0.5 and breast_cancer (two
 *     classes, scikit-learn's binary fit) at 0.5: in float64, J judged in
 *     double by the reference at most 1e-6 relative above saga's and the
 *     same weights exactly 0; in float32, J within 1e-4 relative (float32
 *     evaluates J with about 1e-7 relative noise, which blurs the last
 *     steps of the orthant search) and the zero pattern within 2% of the
 *     weights; digits also from CSR rows and streamed in chunks;
 *   - a run stopped and resumed ends with the weights of one run, bit for
 *     bit;
 *   - bad input: l1_ratio < 0, > 1, NaN; L1 with a first-order solver. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "internal.h"
#include "objective.h"
#include "problem.h"
#include "reference.h"
#include "source.h"
#include "testutil.h"
#include "vec.h"

/* ------------------------------------------------------- pseudo-gradient */

/* J = mean l_i + (l2/2) ||W||^2 + l1 ||W||_1 in double on the host */
static double host_J(const problem *p, const double *W, const double *b, double l2, double l1)
{
    double J = ref_loss(p->X, p->y, NULL, NULL, W, b, p->n, p->k, p->C, l2);
    for (size_t i = 0; i < p->C * p->k; i++)
        J += l1 * fabs(W[i]);
    return J;
}

/* The device's J and pseudo-gradient at the problem's weights, some of W
 * set to exactly 0, against differences of host_J: central ones where W
 * is not 0 (J is smooth there), one-sided ones at 0, where pg is the
 * derivative along the side on which J decreases, or 0 when J rises on
 * both. */
static void check_pseudo_grad(csm_context *ctx, int csr)
{
    const size_t n = 93, k = 7, C = 5, nw = C * k, np = nw + C;
    problem p = problem_make(n, k, C, CSM_FLOAT64, 0, 17);
    for (size_t i = 0; i < nw; i += 3)
        p.W[i] = 0;
    csm_dataset *d = NULL;
    if (csr) {
        for (size_t i = 0; i < n; i++) /* a third of the entries structurally 0 */
            for (size_t j = 0; j < k; j++)
                if ((i + j) % 3 == 0)
                    p.X[i * k + j] = 0;
        d = problem_csr_of(ctx, CSM_FLOAT64, p.X, n, k, p.y, C);
    } else {
        d = problem_dataset(&p, ctx);
    }
    csm_model *m = problem_model(&p, ctx);
    const double l2 = 0.01, l1 = 0.02;
    csm_source src;
    ck_assert_int_eq(csm_source_init(&src, m, d, NULL, NULL), CSM_OK);
    csm_objective *f = NULL;
    ck_assert_int_eq(csm_objective_create(&f, m, &src, l2, 1), CSM_OK);
    csm_objective_set_l1(f, l1);
    csm_vecops ops;
    ck_assert_int_eq(csm_vec_init(&ops, m, 0), CSM_OK);
    cl_mem g = NULL, x = NULL, pg = NULL;
    ck_assert_int_eq(csm_vec_alloc(&ops, &g, "g"), CSM_OK);
    ck_assert_int_eq(csm_vec_alloc(&ops, &x, "x"), CSM_OK);
    ck_assert_int_eq(csm_vec_alloc(&ops, &pg, "pg"), CSM_OK);
    ck_assert_int_eq(csm_objective_fun_grad(f, g), CSM_OK);
    double J = 0;
    ck_assert_int_eq(csm_objective_value(f, &J, NULL), CSM_OK);
    ck_assert_int_eq(csm_vec_get_params(&ops, x), CSM_OK);
    ck_assert_int_eq(csm_vec_pseudo_grad(&ops, pg, g, x, l1), CSM_OK);
    double *got = malloc(np * sizeof *got);
    ck_assert_int_eq(csm_download(ctx, got, pg, CSM_FLOAT64, 0, np), CSM_OK);
    const double J_host = host_J(&p, p.W, p.b, l2, l1);
    ck_assert_msg(csm_close(J, J_host, 0, 1e-12), "J %.17g, host %.17g", J, J_host);

    double *W = malloc(nw * sizeof *W), *b = malloc(C * sizeof *b);
    size_t at_zero = 0, zero_pg = 0;
    for (size_t i = 0; i < np; i++) {
        memcpy(W, p.W, nw * sizeof *W);
        memcpy(b, p.b, C * sizeof *b);
        double *t = i < nw ? &W[i] : &b[i - nw];
        const double t0 = *t, h = 1e-6;
        double want;
        if (i < nw && t0 == 0) {
            /* one-sided: J's slope to the right and to the left of 0 */
            *t = h;
            const double right = (host_J(&p, W, b, l2, l1) - J_host) / h;
            *t = -h;
            const double left = (J_host - host_J(&p, W, b, l2, l1)) / h;
            want = right < 0 ? right : left > 0 ? left : 0;
            at_zero++;
            zero_pg += want == 0;
        } else {
            *t = t0 + h;
            const double up = host_J(&p, W, b, l2, l1);
            *t = t0 - h;
            want = (up - host_J(&p, W, b, l2, l1)) / (2 * h);
        }
        ck_assert_msg(csm_close(got[i], want, 1e-7, 1e-5), "%s: pg[%zu] %.12g, differences %.12g",
                      csr ? "CSR" : "dense", i, got[i], want);
    }
    /* both kinds of weight at 0 were met: held (pg 0) and leaving zero */
    ck_assert_uint_gt(at_zero, zero_pg);
    fprintf(stderr, "# pseudo-gradient %s: %zu parameters, %zu at 0 (%zu of them held)\n",
            csr ? "CSR" : "dense", np, at_zero, zero_pg);
    free(W);
    free(b);
    free(got);
    csm_buffer_release(&g);
    csm_buffer_release(&x);
    csm_buffer_release(&pg);
    csm_vec_free(&ops);
    csm_objective_free(f);
    csm_source_free(&src);
    csm_model_free(m);
    csm_dataset_free(d);
    problem_free(&p);
}

START_TEST(test_pseudo_gradient_differences)
{
    csm_context *ctx = test_context();
    if (!test_has_fp64(ctx)) {
        csm_context_free(ctx);
        CSM_TEST_SKIP("no fp64");
    }
    check_pseudo_grad(ctx, 0);
    check_pseudo_grad(ctx, 1);
    csm_context_free(ctx);
}
END_TEST

/* ---------------------------------------------------------- saga optima */

typedef struct l1_case {
    char name[64], csv[64];
    size_t n, k, C, zeros;
    double c_reg, r, J;
    char mask[4096];
} l1_case;

static size_t read_cases(l1_case *out, size_t cap)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/sklearn/l1-optima.txt", getenv("CSM_TEST_DATA"));
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    static char line[8192];
    size_t n = 0;
    while (n < cap && fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        l1_case *c = &out[n];
        int got = sscanf(line, "%63s %63s %zu %zu %zu %lf %lf %lf %*d %zu %4095s", c->name,
                         c->csv, &c->n, &c->k, &c->C, &c->c_reg, &c->r, &c->J, &c->zeros,
                         c->mask);
        ck_assert_msg(got == 10, "%s: bad line '%.80s'", path, line);
        ck_assert_uint_eq(strlen(c->mask), c->C * c->k);
        n++;
    }
    fclose(f);
    ck_assert(n >= 5);
    return n;
}

typedef enum { DENSE, CSR, STREAMED } storage;
static const char *const storage_name[] = {"dense", "CSR", "streamed"};

/* The case's data on ctx as `how` stores it. */
static csm_dataset *case_dataset(csm_context *ctx, const fixture *f, csm_precision prec,
                                 storage how)
{
    csm_dataset *d = NULL;
    if (how == CSR) {
        d = problem_csr_of(ctx, prec, f->X, f->n, f->k, f->y, f->C);
    } else {
        /* streamed: chunks of a few hundred rows of digits */
        if (how == STREAMED)
            ck_assert_int_eq(csm_context_set_option(ctx, "max_alloc", "262144"), CSM_OK);
        ck_assert_int_eq(csm_dataset_create(ctx, &d, prec, f->X, CSM_DTYPE_F64, f->n, f->k,
                                            f->y, NULL, f->C),
                         CSM_OK);
        ck_assert_int_eq(csm_context_set_option(ctx, "max_alloc", NULL), CSM_OK);
    }
    if (how == STREAMED)
        ck_assert_msg(csm_dataset_chunks(d) > 1, "not streamed");
    return d;
}

static void check_case(const l1_case *c, csm_precision prec, storage how)
{
    csm_context *ctx = test_context();
    const int f64 = prec == CSM_FLOAT64;
    if (f64 && !test_has_fp64(ctx)) {
        csm_context_free(ctx);
        return;
    }
    fixture t;
    fixture_read(c->csv, c->n, c->k, &t);
    const size_t C = t.C;
    ck_assert_uint_eq(C, c->C);
    const int32_t *y = t.y;
    csm_dataset *d = case_dataset(ctx, &t, prec, how);
    csm_model *m = NULL;
    ck_assert_int_eq(csm_model_create(ctx, &m, prec, C, t.k), CSM_OK);
    csm_train_options opt;
    csm_train_options_init(&opt, sizeof opt);
    opt.C = c->c_reg;
    opt.l1_ratio = c->r;
    opt.tol = f64 ? 1e-8 : 1e-5;
    opt.max_iter = 10000;
    csm_train_result r = {.struct_size = sizeof r};
    ck_assert_int_eq(csm_train(m, d, &opt, &r), CSM_OK);
    const size_t nw = C * t.k;
    double *theta = malloc((nw + C) * sizeof *theta);
    ck_assert_int_eq(csm_model_get_params(m, theta, theta + nw), CSM_OK);
    /* J in double at the weights returned */
    const double l2 = (1 - c->r) * (C == 2 ? 2.0 : 1.0) / (c->c_reg * (double)t.n);
    const double l1 = c->r / (c->c_reg * (double)t.n);
    double J = ref_loss(t.X, y, NULL, NULL, theta, theta + nw, t.n, t.k, C, l2);
    size_t zeros = 0, differ = 0;
    for (size_t i = 0; i < nw; i++) {
        J += l1 * fabs(theta[i]);
        zeros += theta[i] == 0;
        differ += (theta[i] == 0) != (c->mask[i] == '1');
    }
    ck_assert_msg(csm_close(r.objective, J, 0, f64 ? 1e-12 : 1e-5), "%s: csm_train's J %.15g, "
                  "the reference's %.15g", c->name, r.objective, J);
    const double rel = (J - c->J) / c->J;
    fprintf(stderr,
            "# %s %s %s: J %.15g, saga %.15g, rel %.2g; %zu zeros (saga %zu), %zu differ; %d "
            "iterations, %s\n",
            c->name, f64 ? "float64" : "float32", storage_name[how], J, c->J, rel, zeros,
            c->zeros, differ, r.n_iter, csm_stop_string(r.stop));
    ck_assert_msg(rel <= (f64 ? 1e-6 : 1e-4), "%s %s: J %.15g above saga's %.15g (rel %.2g)",
                  c->name, storage_name[how], J, c->J, rel);
    if (f64) {
        ck_assert_msg(r.converged, "%s: %s", c->name, csm_stop_string(r.stop));
        ck_assert_msg(differ == 0, "%s %s: %zu weights differ from saga's zero pattern", c->name,
                      storage_name[how], differ);
    } else {
        ck_assert_msg(differ <= nw / 50, "%s float32: %zu of %zu weights differ from saga's zero "
                      "pattern", c->name, differ, nw);
    }
    free(theta);
    fixture_free(&t);
    csm_model_free(m);
    csm_dataset_free(d);
    csm_context_free(ctx);
}

START_TEST(test_reaches_saga_optimum)
{
    l1_case *cases = malloc(16 * sizeof *cases);
    size_t n = read_cases(cases, 16);
    for (size_t i = 0; i < n; i++) {
        check_case(&cases[i], CSM_FLOAT64, DENSE);
        check_case(&cases[i], CSM_FLOAT32, DENSE);
    }
    free(cases);
}
END_TEST

/* digits at l1_ratio 1 from CSR rows and streamed in chunks */
START_TEST(test_saga_optimum_csr_streamed)
{
    l1_case *cases = malloc(16 * sizeof *cases);
    size_t n = read_cases(cases, 16);
    int found = 0;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(cases[i].name, "digits-l1_1")) {
            check_case(&cases[i], CSM_FLOAT64, CSR);
            check_case(&cases[i], CSM_FLOAT64, STREAMED);
            found = 1;
        }
    ck_assert(found);
    free(cases);
}
END_TEST

/* ------------------------------------------------------------- resume */

static int stop_at(csm_model *m, const csm_epoch_info *info, void *user)
{
    (void)m;
    return info->epoch >= *(const int *)user;
}

START_TEST(test_resume_one_run)
{
    csm_context *ctx = test_context();
    const csm_precision prec = test_has_fp64(ctx) ? CSM_FLOAT64 : CSM_FLOAT32;
    problem p = problem_make(211, 13, 4, prec, 0, 5);
    memset(p.W, 0, p.C * p.k * sizeof *p.W);
    memset(p.b, 0, p.C * sizeof *p.b);
    csm_dataset *d = problem_dataset(&p, ctx);
    csm_model *a = problem_model(&p, ctx), *b = problem_model(&p, ctx);
    csm_train_options o;
    csm_train_options_init(&o, sizeof o);
    o.C = 0.05;
    o.l1_ratio = 0.7;
    o.tol = 0;
    o.max_iter = 12;
    csm_train_result r = {.struct_size = sizeof r};
    ck_assert_int_eq(csm_train(a, d, &o, &r), CSM_OK);
    int stop = 5;
    o.callback = stop_at;
    o.user = &stop;
    ck_assert_int_eq(csm_train(b, d, &o, &r), CSM_OK);
    ck_assert_int_eq(r.stop, CSM_STOP_CALLBACK);
    o.callback = NULL;
    o.resume = 1;
    o.max_iter = 7;
    ck_assert_int_eq(csm_train(b, d, &o, &r), CSM_OK);
    const size_t nw = p.C * p.k, np = nw + p.C;
    double *wa = malloc(np * sizeof *wa), *wb = malloc(np * sizeof *wb);
    ck_assert_int_eq(csm_model_get_params(a, wa, wa + nw), CSM_OK);
    ck_assert_int_eq(csm_model_get_params(b, wb, wb + nw), CSM_OK);
    size_t zeros = 0;
    for (size_t i = 0; i < np; i++) {
        ck_assert_msg(wa[i] == wb[i], "theta[%zu]: one run %.17g, resumed %.17g", i, wa[i],
                      wb[i]);
        zeros += i < nw && wa[i] == 0;
    }
    ck_assert_uint_gt(zeros, 0);
    free(wa);
    free(wb);
    csm_model_free(a);
    csm_model_free(b);
    csm_dataset_free(d);
    problem_free(&p);
    csm_context_free(ctx);
}
END_TEST

/* ------------------------------------------------------------ bad input */

START_TEST(test_bad_l1_ratio)
{
    csm_context *ctx = test_context();
    problem p = problem_make(31, 5, 3, CSM_FLOAT32, 0, 3);
    csm_dataset *d = problem_dataset(&p, ctx);
    csm_model *m = problem_model(&p, ctx);
    csm_train_options o;
    ck_assert_int_eq(csm_train_options_init(&o, sizeof o), CSM_OK);
    ck_assert(o.l1_ratio == 0.0);
    const double bad[] = {-0.1, 1.0000001, NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        o.l1_ratio = bad[i];
        ck_assert_int_eq(csm_train(m, d, &o, NULL), CSM_ERR_INVALID_VALUE);
        ck_assert_ptr_nonnull(strstr(csm_context_last_error(ctx), "l1_ratio"));
    }
    o.l1_ratio = 0.5;
    o.solver = CSM_ADAM;
    ck_assert_int_eq(csm_train(m, d, &o, NULL), CSM_ERR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(csm_context_last_error(ctx), "adam"));
    csm_model_free(m);
    csm_dataset_free(d);
    problem_free(&p);
    csm_context_free(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("l1");
    TCase *tc = tcase_create("l1");
    tcase_set_timeout(tc, CSM_DEVICE_TIMEOUT);
    tcase_add_test(tc, test_bad_l1_ratio);
    tcase_add_test(tc, test_pseudo_gradient_differences);
    tcase_add_test(tc, test_resume_one_run);
    tcase_add_test(tc, test_reaches_saga_optimum);
    tcase_add_test(tc, test_saga_optimum_csr_streamed);
    suite_add_tcase(s, tc);
    return csm_test_main(s, 1);
}
