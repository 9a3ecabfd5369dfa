/* scikit-learn's optimum on its bundled data sets: iris, wine, breast
 * cancer and digits, standardised, and liblinear's heart_scale, written as
 * CSV fixtures with the optimal J* of scikit-learn's LogisticRegression(C)
 * objective (computed in float64 by tests/data/sklearn/make-fixtures.py,
 * checked there against a direct minimisation). The device L-BFGS with the
 * same C must reach J* within 1e-10 relative in float64 and 1e-5 in
 * float32, J judged in double by the reference at the weights it returns;
 * also with class_weight "balanced" sample weights. For two classes the
 * library's lambda is 2 / (C n) (scikit-learn's binary C), and its
 * probabilities must be scikit-learn's (CASE.proba.csv) within 1e-6 in
 * float64. The -nobias cases train without an intercept (fit_intercept 0,
 * scikit-learn's fit_intercept=False): the bias must stay exactly 0. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "problem.h"
#include "reference.h"
#include "testutil.h"

typedef struct optimum {
    char name[64], csv[64], weighting[16];
    size_t n, k, C;
    double c_reg, lambda, J;
    int fit_intercept;
} optimum;

static size_t read_optima(optimum *out, size_t cap)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/sklearn/optima.txt", getenv("CSM_TEST_DATA"));
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char line[512];
    size_t n = 0;
    while (n < cap && fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        optimum *o = &out[n];
        int got = sscanf(line, "%63s %63s %zu %zu %zu %15s %lf %lf %lf %*s %*s %d", o->name,
                         o->csv, &o->n, &o->k, &o->C, o->weighting, &o->c_reg, &o->lambda, &o->J,
                         &o->fit_intercept);
        ck_assert_msg(got == 10, "%s: bad line '%s'", path, line);
        n++;
    }
    fclose(f);
    ck_assert(n >= 5);
    return n;
}

/* Binary cases: the probabilities equal scikit-learn's at its optimum. */
static void check_proba(csm_model *m, const csm_dataset *d, const optimum *o)
{
    char path[1024], head[64];
    snprintf(path, sizeof path, "%s/sklearn/%s.proba.csv", getenv("CSM_TEST_DATA"), o->name);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    ck_assert(fgets(head, sizeof head, f) != NULL);
    double *p = malloc(o->n * 2 * sizeof *p);
    ck_assert_int_eq(csm_predict_proba(m, d, p), CSM_OK);
    double worst = 0;
    for (size_t i = 0; i < o->n; i++) {
        double ref[2];
        ck_assert_msg(fscanf(f, "%lf,%lf", &ref[0], &ref[1]) == 2, "%s: row %zu", path, i + 1);
        for (int c = 0; c < 2; c++) {
            double e = fabs(p[i * 2 + c] - ref[c]);
            worst = e > worst ? e : worst;
        }
    }
    ck_assert_msg(worst <= 1e-6, "%s: probabilities %.3g from scikit-learn's", o->name, worst);
    fprintf(stderr, "# %s float64: probabilities within %.2g of scikit-learn's\n", o->name, worst);
    free(p);
    fclose(f);
}

static void check_case(csm_context *ctx, const optimum *o, csm_precision prec)
{
    fixture t;
    fixture_read(o->csv, o->n, o->k, &t);
    const size_t C = t.C;
    ck_assert_uint_eq(C, o->C);
    const int32_t *y = t.y;
    double *w = NULL;
    if (!strcmp(o->weighting, "balanced")) {
        /* scikit-learn's class_weight="balanced": n / (C count_c) */
        size_t count[64] = {0};
        for (size_t i = 0; i < t.n; i++)
            count[y[i]]++;
        w = malloc(t.n * sizeof *w);
        for (size_t i = 0; i < t.n; i++)
            w[i] = (double)t.n / ((double)C * (double)count[y[i]]);
    }
    csm_dataset *d = NULL;
    ck_assert_int_eq(csm_dataset_create(ctx, &d, prec, t.X, CSM_DTYPE_F64, t.n, t.k, y, NULL, C),
                     CSM_OK);
    if (w)
        ck_assert_int_eq(csm_dataset_set_weights(d, w), CSM_OK);
    csm_model *m = NULL;
    ck_assert_int_eq(csm_model_create(ctx, &m, prec, C, t.k), CSM_OK);
    csm_train_options opt;
    csm_train_options_init(&opt, sizeof opt);
    opt.C = o->c_reg;
    opt.fit_intercept = o->fit_intercept;
    /* float64: far enough below the default 1e-4 for J to 1e-10; float32:
     * as far as its precision allows */
    opt.tol = prec == CSM_FLOAT64 ? 1e-8 : 1e-6;
    csm_train_result r = {.struct_size = sizeof r};
    ck_assert_int_eq(csm_train(m, d, &opt, &r), CSM_OK);
    ck_assert_msg(fabs(r.l2 - o->lambda) <= 1e-14 * o->lambda, "%s: lambda %.17g vs %.17g",
                  o->name, r.l2, o->lambda);
    double *theta = malloc((C * t.k + C) * sizeof *theta);
    ck_assert_int_eq(csm_model_get_params(m, theta, theta + C * t.k), CSM_OK);
    double J = ref_loss(t.X, y, NULL, w, theta, theta + C * t.k, t.n, t.k,
                        C, o->lambda);
    if (!o->fit_intercept) /* no intercept: b is 0 and stays 0 */
        for (size_t c = 0; c < C; c++)
            ck_assert_msg(theta[C * t.k + c] == 0.0, "%s: bias[%zu] = %g", o->name, c,
                          theta[C * t.k + c]);
    const double rtol = prec == CSM_FLOAT64 ? 1e-10 : 1e-5;
    ck_assert_msg(fabs(J - o->J) <= rtol * o->J,
                  "%s %s: J %.15g vs scikit-learn's %.15g (rel %.2g) after %d iterations, %s",
                  o->name, prec == CSM_FLOAT64 ? "float64" : "float32", J, o->J,
                  (J - o->J) / o->J, r.n_iter, csm_stop_string(r.stop));
    if (prec == CSM_FLOAT64)
        ck_assert_msg(r.converged, "%s: %s", o->name, csm_stop_string(r.stop));
    if (prec == CSM_FLOAT64 && C == 2)
        check_proba(m, d, o);
    fprintf(stderr, "# %s %s: J %.15g, optimum %.15g, rel %.2g, %d iterations, %ld evaluations, %s\n",
            o->name, prec == CSM_FLOAT64 ? "float64" : "float32", J, o->J, (J - o->J) / o->J,
            r.n_iter, r.n_evals, csm_stop_string(r.stop));
    free(theta);
    free(w);
    csm_model_free(m);
    csm_dataset_free(d);
    fixture_free(&t);
}

START_TEST(test_reaches_sklearn_optimum)
{
    optimum cases[16];
    size_t n = read_optima(cases, 16);
    csm_context *ctx = test_context();
    for (size_t i = 0; i < n; i++) {
        check_case(ctx, &cases[i], CSM_FLOAT32);
        if (test_has_fp64(ctx))
            check_case(ctx, &cases[i], CSM_FLOAT64);
    }
    csm_context_free(ctx);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {test_reaches_sklearn_optimum};
    Suite *s = csm_suite_per_path("sklearn", tests, 1);
    return csm_test_main(s, 1);
}
