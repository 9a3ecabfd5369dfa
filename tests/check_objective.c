/* The objective (src/objective.h) that every solver sees: its Hessian-vector
 * product csm_objective_hv against the reference's Hessian (ref_hessian)
 * times v, and in float64 against central differences of the device's
 * gradient along v, on every dense path (the fused one through the product
 * path standing in for it), CSR rows, streamed rows, sample weights, no
 * intercept and a sum over "processes"; and fun_grad's gradient left as it
 * was by a product in between. The same setups for the Hessian's diagonal
 * (csm_objective_hessian_at, against ref_hessian_diag) and the products
 * from the probabilities it keeps. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "objective.h"
#include "problem.h"
#include "reference.h"
#include "source.h"
#include "testutil.h"
#include "vec.h"

/* H v in double on the host for problem p at its weights (W, b), weights
 * w (NULL: 1), penalty l2, from the reference's Hessian; the bias part 0
 * without an intercept. */
static void host_hv(const problem *p, const double *w, double l2, int bias, const double *v,
                    double *hv)
{
    const size_t P = p->C * (p->k + 1), nw = p->C * p->k;
    double *H = malloc(P * P * sizeof *H);
    ref_hessian(H, p->X, w, p->W, p->b, p->n, p->k, p->C, l2);
    for (size_t r = 0; r < P; r++) {
        double acc = 0;
        for (size_t q = 0; q < P; q++)
            acc += H[r * P + q] * v[q];
        hv[r] = acc;
    }
    if (!bias)
        memset(hv + nw, 0, p->C * sizeof *hv);
    free(H);
}

/* In float64: H v against central differences of the device's own
 * gradient along v, (g(theta + h v) - g(theta - h v)) / 2h with h = 1e-5:
 * an error of order h^2 |g'''| plus a rounding of order eps |g| / h, both
 * far under the tolerance. The weights are restored after. */
static void check_hv_fd(csm_objective *f, csm_vecops *ops, csm_context *ctx, const problem *p,
                        cl_mem vb, const double *got, int bias, const char *what)
{
    const size_t n = p->C * (p->k + 1), nw = p->C * p->k;
    const double h = 1e-5;
    cl_mem x = NULL, g = NULL;
    ck_assert_int_eq(csm_vec_alloc(ops, &x, "theta"), CSM_OK);
    ck_assert_int_eq(csm_vec_alloc(ops, &g, "g"), CSM_OK);
    double *gp = malloc(n * sizeof *gp), *gm = malloc(n * sizeof *gm), *fd = malloc(n * sizeof *fd);
    ck_assert_int_eq(csm_vec_get_params(ops, x), CSM_OK);
    ck_assert_int_eq(csm_vec_set_params(ops, x, vb, h), CSM_OK);
    ck_assert_int_eq(csm_objective_fun_grad(f, g), CSM_OK);
    ck_assert_int_eq(csm_download(ctx, gp, g, p->prec, 0, n), CSM_OK);
    ck_assert_int_eq(csm_vec_set_params(ops, x, vb, -h), CSM_OK);
    ck_assert_int_eq(csm_objective_fun_grad(f, g), CSM_OK);
    ck_assert_int_eq(csm_download(ctx, gm, g, p->prec, 0, n), CSM_OK);
    ck_assert_int_eq(csm_vec_set_params(ops, x, vb, 0.0), CSM_OK);
    for (size_t i = 0; i < n; i++)
        fd[i] = (gp[i] - gm[i]) / (2 * h);
    if (!bias) /* the bias is fixed: its gradient is 0 at every point */
        for (size_t i = nw; i < n; i++)
            ck_assert(fd[i] == 0);
    size_t at = 0;
    const double worst = csm_worst(got, fd, n, 1e-8, 1e-6, &at);
    ck_assert_msg(worst <= 1, "%s: Hv[%zu] = %.17g, finite differences %.17g", what, at,
                  got[at], fd[at]);
    free(gp);
    free(gm);
    free(fd);
    csm_buffer_release(&x);
    csm_buffer_release(&g);
}

typedef struct setup {
    double l2;
    int bias;
    int reduce;     /* through the reduce callback */
    const double *w; /* sample weights, or NULL */
} setup;

/* csm_objective_hessian_at: the Hessian's diagonal against the reference's
 * (ref_hessian_diag); then products at the point it fixed, from the
 * probabilities it keeps, equal to want = H v there, also once the
 * weights have moved (restored exactly after). */
static void check_hessian_at(csm_objective *f, csm_vecops *ops, csm_context *ctx,
                             const problem *p, setup S, cl_mem vb, const double *want,
                             const char *what)
{
    const size_t nw = p->C * p->k, n = nw + p->C;
    const int f32 = p->prec == CSM_FLOAT32;
    const double atol = f32 ? 1e-5 : 1e-13, rtol = f32 ? 1e-4 : 1e-10;
    cl_mem h = NULL, x = NULL, hv = NULL;
    ck_assert_int_eq(csm_vec_alloc(ops, &h, "diagonal"), CSM_OK);
    ck_assert_int_eq(csm_vec_alloc(ops, &x, "theta"), CSM_OK);
    ck_assert_int_eq(csm_vec_alloc(ops, &hv, "Hv"), CSM_OK);
    double *hwant = malloc(n * sizeof *hwant), *got = malloc(n * sizeof *got);
    ref_hessian_diag(hwant, p->X, S.w, p->W, p->b, p->n, p->k, p->C, S.l2);
    if (!S.bias)
        memset(hwant + nw, 0, p->C * sizeof *hwant);
    ck_assert_int_eq(csm_objective_hessian_at(f, h), CSM_OK);
    ck_assert_int_eq(csm_download(ctx, got, h, p->prec, 0, n), CSM_OK);
    size_t at = 0;
    double worst = csm_worst(got, hwant, n, atol, rtol, &at);
    ck_assert_msg(worst <= 1, "%s: diag H[%zu] = %.17g, want %.17g", what, at, got[at],
                  hwant[at]);
    ck_assert_int_eq(csm_vec_get_params(ops, x), CSM_OK);
    for (int moved = 0; moved < 2; moved++) {
        if (moved) /* the point stays where hessian_at fixed it */
            ck_assert_int_eq(csm_vec_set_params(ops, x, vb, 0.5), CSM_OK);
        ck_assert_int_eq(csm_objective_hv(f, vb, hv), CSM_OK);
        ck_assert_int_eq(csm_download(ctx, got, hv, p->prec, 0, n), CSM_OK);
        worst = csm_worst(got, want, n, atol, rtol, &at);
        ck_assert_msg(worst <= 1, "%s: Hv[%zu] = %.17g at the fixed point%s, want %.17g", what,
                      at, got[at], moved ? " (weights moved)" : "", want[at]);
    }
    ck_assert_int_eq(csm_vec_set_params(ops, x, vb, 0.0), CSM_OK);
    free(hwant);
    free(got);
    csm_buffer_release(&h);
    csm_buffer_release(&x);
    csm_buffer_release(&hv);
}

/* csm_objective_hv on model m over d (problem p) for a random v, against
 * host_hv; the gradient fun_grad left is the same before and after. */
static void check_hv(const problem *p, csm_model *m, csm_dataset *d, setup S, const char *what)
{
    csm_context *ctx = csm_model_context(m);
    const size_t C = p->C, nw = C * p->k, n = nw + C;
    const int f32 = p->prec == CSM_FLOAT32;
    ck_assert_int_eq(csm_dataset_set_weights(d, S.w), CSM_OK);
    csm_source src;
    ck_assert_int_eq(csm_source_init(&src, m, d, S.reduce ? csm_test_one_process : NULL, NULL),
                     CSM_OK);
    csm_objective *f = NULL;
    ck_assert_int_eq(csm_objective_create(&f, m, &src, S.l2, S.bias), CSM_OK);
    csm_vecops ops;
    ck_assert_int_eq(csm_vec_init(&ops, m, 0), CSM_OK);
    cl_mem vb = NULL, hvb = NULL, g = NULL;
    ck_assert_int_eq(csm_vec_alloc(&ops, &vb, "v"), CSM_OK);
    ck_assert_int_eq(csm_vec_alloc(&ops, &hvb, "Hv"), CSM_OK);
    ck_assert_int_eq(csm_vec_alloc(&ops, &g, "g"), CSM_OK);

    double *v = malloc(n * sizeof *v), *want = malloc(n * sizeof *want);
    double *got = malloc(n * sizeof *got), *g0 = malloc(n * sizeof *g0);
    double *g1 = malloc(n * sizeof *g1);
    uint64_t state = 99;
    csm_fill_uniform(v, n, &state, -1, 1);
    if (f32)
        for (size_t i = 0; i < n; i++)
            v[i] = (float)v[i];
    ck_assert_int_eq(csm_upload(ctx, vb, p->prec, 0, v, n), CSM_OK);
    host_hv(p, S.w, S.l2, S.bias, v, want);

    double J0 = 0, J1 = 0;
    ck_assert_int_eq(csm_objective_fun_grad(f, g), CSM_OK);
    ck_assert_int_eq(csm_download(ctx, g0, g, p->prec, 0, n), CSM_OK);
    ck_assert_int_eq(csm_objective_hv(f, vb, hvb), CSM_OK);
    ck_assert_int_eq(csm_objective_value(f, &J0, NULL), CSM_OK);
    ck_assert_int_eq(csm_download(ctx, got, hvb, p->prec, 0, n), CSM_OK);
    size_t at = 0;
    const double worst = csm_worst(got, want, n, f32 ? 1e-5 : 1e-13, f32 ? 1e-4 : 1e-10, &at);
    ck_assert_msg(worst <= 1, "%s: Hv[%zu] = %.17g, want %.17g", what, at, got[at], want[at]);
    /* the next fun_grad gives the same J and gradient: Hv took nothing away */
    ck_assert_int_eq(csm_objective_fun_grad(f, g), CSM_OK);
    ck_assert_int_eq(csm_objective_value(f, &J1, NULL), CSM_OK);
    ck_assert_int_eq(csm_download(ctx, g1, g, p->prec, 0, n), CSM_OK);
    ck_assert_msg(J0 == J1, "%s: J %.17g after Hv, %.17g before", what, J1, J0);
    ck_assert_msg(memcmp(g0, g1, n * sizeof *g0) == 0, "%s: the gradient moved", what);
    if (!f32)
        check_hv_fd(f, &ops, ctx, p, vb, got, S.bias, what);
    check_hessian_at(f, &ops, ctx, p, S, vb, want, what);

    free(v);
    free(want);
    free(got);
    free(g0);
    free(g1);
    csm_buffer_release(&vb);
    csm_buffer_release(&hvb);
    csm_buffer_release(&g);
    csm_vec_free(&ops);
    csm_objective_free(f);
    csm_source_free(&src);
    ck_assert_int_eq(csm_dataset_set_weights(d, NULL), CSM_OK);
}

/* Every setup on model m over d. */
static void check_setups(const problem *p, csm_model *m, csm_dataset *d, const char *what)
{
    double *w = malloc(p->n * sizeof *w);
    for (size_t i = 0; i < p->n; i++)
        w[i] = 0.25 + (double)(i % 5);
    const setup setups[] = {
        {0, 1, 0, NULL}, {0.03, 1, 0, NULL}, {0.03, 0, 0, NULL}, {0.03, 1, 0, w}, {0.03, 1, 1, w},
    };
    for (size_t i = 0; i < sizeof setups / sizeof *setups; i++) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s, lambda %g%s%s%s", what, setups[i].l2,
                 setups[i].bias ? "" : ", no intercept", setups[i].w ? ", weighted" : "",
                 setups[i].reduce ? ", reduce" : "");
        check_hv(p, m, d, setups[i], msg);
    }
    free(w);
}

static void dense_paths(csm_precision prec)
{
    csm_context *ctx = test_context();
    if (prec == CSM_FLOAT64 && !test_has_fp64(ctx)) {
        csm_context_free(ctx);
        CSM_TEST_SKIP("no float64 on this device");
    }
    static const char *const paths[] = {"fused", "tiled", "clblast"};
    /* 5 classes, 13 features, 61 rows: no size a multiple of a tile */
    problem p = problem_make(61, 13, 5, prec, 0, 7);
    csm_model *m = problem_model(&p, ctx);
    for (int pi = 0; pi < 3; pi++) {
        ck_assert_int_eq(csm_context_set_option(ctx, "path", paths[pi]), CSM_OK);
        csm_dataset *d = problem_dataset(&p, ctx);
        check_setups(&p, m, d, paths[pi]);
        csm_dataset_free(d);
        /* row blocks of 8 rows: the sum runs over several */
        ck_assert_int_eq(csm_context_set_option(ctx, "block_rows", "8"), CSM_OK);
        d = problem_dataset(&p, ctx);
        char what[64];
        snprintf(what, sizeof what, "%s, blocks of 8 rows", paths[pi]);
        check_setups(&p, m, d, what);
        csm_dataset_free(d);
        ck_assert_int_eq(csm_context_set_option(ctx, "block_rows", NULL), CSM_OK);
    }
    csm_model_free(m);
    problem_free(&p);
    csm_context_free(ctx);
}

/* 8-bit rows (value byte / 255) on every dense path: the products read
 * the bytes themselves (the tiled and fused paths, and the Hessian
 * diagonal's dense_sq_grad). */
START_TEST(test_hv_u8)
{
    csm_context *ctx = test_context();
    const csm_precision prec = test_has_fp64(ctx) ? CSM_FLOAT64 : CSM_FLOAT32;
    problem p = problem_make(37, 19, 3, prec, 0, 13);
    unsigned char *xb = problem_bytes(&p);
    csm_model *m = problem_model(&p, ctx);
    static const char *const paths[] = {"fused", "tiled", "clblast"};
    for (int pi = 0; pi < 3; pi++) {
        ck_assert_int_eq(csm_context_set_option(ctx, "path", paths[pi]), CSM_OK);
        csm_dataset *d = NULL;
        ck_assert_int_eq(csm_dataset_create(ctx, &d, prec, xb, CSM_DTYPE_U8, p.n, p.k, p.y,
                                            NULL, p.C),
                         CSM_OK);
        char what[64];
        snprintf(what, sizeof what, "8-bit rows, %s", paths[pi]);
        check_setups(&p, m, d, what);
        csm_dataset_free(d);
    }
    free(xb);
    csm_model_free(m);
    problem_free(&p);
    csm_context_free(ctx);
}
END_TEST

START_TEST(test_hv_dense_float64) { dense_paths(CSM_FLOAT64); }
END_TEST

START_TEST(test_hv_dense_float32) { dense_paths(CSM_FLOAT32); }
END_TEST

/* Soft targets: the Hessian does not depend on them. */
START_TEST(test_hv_soft_targets)
{
    csm_context *ctx = test_context();
    const csm_precision prec = test_has_fp64(ctx) ? CSM_FLOAT64 : CSM_FLOAT32;
    problem p = problem_make(40, 6, 3, prec, 1, 11);
    csm_model *m = problem_model(&p, ctx);
    csm_dataset *d = problem_dataset(&p, ctx);
    check_setups(&p, m, d, "soft targets");
    csm_dataset_free(d);
    csm_model_free(m);
    problem_free(&p);
    csm_context_free(ctx);
}
END_TEST

/* CSR rows (the sparse path) and streamed dense rows. */
START_TEST(test_hv_sparse_and_streamed)
{
    csm_context *ctx = test_context();
    const csm_precision prec = test_has_fp64(ctx) ? CSM_FLOAT64 : CSM_FLOAT32;
    problem p = problem_make(53, 9, 4, prec, 0, 5);
    /* about half the entries zero */
    csm_dataset *d = problem_sparse_dataset(&p, ctx, 3);
    csm_model *m = problem_model(&p, ctx);
    check_setups(&p, m, d, "CSR");
    /* row blocks of 8: the first block's transposed weights go in the
     * output's buffer, the later blocks' in the sparse path's own */
    ck_assert_int_eq(csm_context_set_option(ctx, "block_rows", "8"), CSM_OK);
    check_setups(&p, m, d, "CSR, blocks of 8 rows");
    ck_assert_int_eq(csm_context_set_option(ctx, "block_rows", NULL), CSM_OK);
    csm_dataset_free(d);
    /* the same rows dense, streamed in chunks of a few rows */
    static const char *const paths[] = {"fused", "tiled", "clblast"};
    for (int pi = 0; pi < 3; pi++) {
        ck_assert_int_eq(csm_context_set_option(ctx, "path", paths[pi]), CSM_OK);
        ck_assert_int_eq(csm_context_set_option(ctx, "max_alloc", "600"), CSM_OK);
        d = problem_dataset(&p, ctx);
        ck_assert_int_eq(csm_context_set_option(ctx, "max_alloc", NULL), CSM_OK);
        ck_assert_uint_gt(csm_dataset_chunks(d), 1);
        char what[64];
        snprintf(what, sizeof what, "streamed, %s", paths[pi]);
        check_setups(&p, m, d, what);
        csm_dataset_free(d);
    }
    csm_model_free(m);
    problem_free(&p);
    csm_context_free(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("objective");
    TCase *tc = tcase_create("hv");
    tcase_set_timeout(tc, CSM_DEVICE_TIMEOUT);
    tcase_add_test(tc, test_hv_dense_float64);
    tcase_add_test(tc, test_hv_dense_float32);
    tcase_add_test(tc, test_hv_soft_targets);
    tcase_add_test(tc, test_hv_u8);
    tcase_add_test(tc, test_hv_sparse_and_streamed);
    suite_add_tcase(s, tc);
    return csm_test_main(s, 1);
}
