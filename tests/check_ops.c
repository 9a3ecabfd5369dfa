/* Device forward / loss / gradient / predict against the double reference
 * at odd sizes, in float32 and (where the device has it) float64.
 *
 * Tolerances, |device - ref| <= atol + rtol |ref|:
 *  float32: inputs are rounded to float first, so the only error is float
 *    arithmetic: a k-term dot product of O(1) terms carries ~k * 6e-8 of
 *    rounding; k <= 93 gives < 1e-5 on logits, and the softmax, loss and
 *    gradient inherit that order. atol 2e-5, rtol 1e-4.
 *  float64: the same operations in double: ~k * 1e-16. atol 1e-12, rtol 1e-10. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "problem.h"
#include "reference.h"
#include "split_k.h"
#include "testutil.h"

static const size_t shapes[][3] = {
    /* n, k, C */
    {1, 1, 2}, {7, 7, 7}, {93, 7, 2}, {7, 93, 100}, {93, 93, 93}, {300, 13, 3},
};
#define N_SHAPES (sizeof shapes / sizeof *shapes)

static double atol_for(csm_precision p) { return p == CSM_FLOAT32 ? 2e-5 : 1e-12; }
static double rtol_for(csm_precision p) { return p == CSM_FLOAT32 ? 1e-4 : 1e-10; }

static void expect_close(const char *what, const double *got, const double *want, size_t n,
                         csm_precision prec, size_t shape)
{
    size_t at = 0;
    double worst = csm_worst(got, want, n, atol_for(prec), rtol_for(prec), &at);
    ck_assert_msg(worst <= 1.0, "%s (%s, shape %zu): element %zu: got %.17g want %.17g", what,
                  prec == CSM_FLOAT32 ? "float32" : "float64", shape, at, got[at], want[at]);
}

/* Runs fn for each shape in float32 and, if available, float64. */
static void for_each_case(void (*fn)(csm_context *, csm_precision, size_t, int), int soft)
{
    csm_context *ctx = test_context();
    for (int pi = 0; pi < 2; pi++) {
        csm_precision prec = pi ? CSM_FLOAT64 : CSM_FLOAT32;
        if (prec == CSM_FLOAT64 && !test_has_fp64(ctx))
            continue;
        for (size_t s = 0; s < N_SHAPES; s++)
            fn(ctx, prec, s, soft);
    }
    csm_context_free(ctx);
}

static void case_forward(csm_context *ctx, csm_precision prec, size_t s, int soft)
{
    problem p = problem_make(shapes[s][0], shapes[s][1], shapes[s][2], prec, soft, 100 + s);
    csm_dataset *d = problem_dataset(&p, ctx);
    csm_model *m = problem_model(&p, ctx);
    size_t nc = p.n * p.C;
    double *lg = malloc(nc * sizeof *lg), *pr = malloc(nc * sizeof *pr);
    double *rl = malloc(nc * sizeof *rl), *rp = malloc(nc * sizeof *rp);
    ck_assert_int_eq(csm_forward(m, d, lg, pr), CSM_OK);
    ref_forward(rl, rp, p.X, p.W, p.b, p.n, p.k, p.C);
    expect_close("logits", lg, rl, nc, prec, s);
    expect_close("probabilities", pr, rp, nc, prec, s);
    /* predict_proba is the same numbers */
    ck_assert_int_eq(csm_predict_proba(m, d, lg), CSM_OK);
    expect_close("predict_proba", lg, rp, nc, prec, s);
    free(lg), free(pr), free(rl), free(rp);
    csm_model_free(m);
    csm_dataset_free(d);
    problem_free(&p);
}

static void case_loss_grad(csm_context *ctx, csm_precision prec, size_t s, int soft)
{
    problem p = problem_make(shapes[s][0], shapes[s][1], shapes[s][2], prec, soft, 200 + s);
    csm_dataset *d = problem_dataset(&p, ctx);
    csm_model *m = problem_model(&p, ctx);
    const double l2s[2] = {0.0, 0.25};
    for (int li = 0; li < 2; li++) {
        double l2 = l2s[li];
        double loss = 0, loss2 = 0;
        double *dW = malloc(p.C * p.k * sizeof *dW), *db = malloc(p.C * sizeof *db);
        double *rW = malloc(p.C * p.k * sizeof *rW), *rb = malloc(p.C * sizeof *rb);
        ck_assert_int_eq(csm_loss(m, d, test_C(d, l2), &loss), CSM_OK);
        ck_assert_int_eq(csm_gradient(m, d, test_C(d, l2), &loss2, dW, db), CSM_OK);
        double want = ref_loss(p.X, p.y, p.T, NULL, p.W, p.b, p.n, p.k, p.C, l2);
        expect_close("loss", &loss, &want, 1, prec, s);
        expect_close("loss from csm_gradient", &loss2, &want, 1, prec, s);
        ref_backward(rW, rb, p.X, p.y, p.T, NULL, p.W, p.b, p.n, p.k, p.C, l2);
        expect_close("dW", dW, rW, p.C * p.k, prec, s);
        expect_close("db", db, rb, p.C, prec, s);
        free(dW), free(db), free(rW), free(rb);
    }
    csm_model_free(m);
    csm_dataset_free(d);
    problem_free(&p);
}

static void case_predict(csm_context *ctx, csm_precision prec, size_t s, int soft)
{
    problem p = problem_make(shapes[s][0], shapes[s][1], shapes[s][2], prec, soft, 300 + s);
    csm_dataset *d = problem_dataset(&p, ctx);
    csm_model *m = problem_model(&p, ctx);
    int32_t *cls = malloc(p.n * sizeof *cls);
    double *rp = malloc(p.n * p.C * sizeof *rp), *rl = malloc(p.n * p.C * sizeof *rl);
    ck_assert_int_eq(csm_predict(m, d, cls), CSM_OK);
    ref_forward(rl, rp, p.X, p.W, p.b, p.n, p.k, p.C);
    size_t hits = 0;
    for (size_t i = 0; i < p.n; i++) {
        size_t best = 0;
        for (size_t c = 1; c < p.C; c++)
            if (rl[i * p.C + c] > rl[i * p.C + best])
                best = c;
        /* Near-ties may break either way under rounding: then both must be
         * within the float tolerance of the maximum. */
        double gap = rl[i * p.C + best] - rl[i * p.C + (size_t)cls[i]];
        ck_assert_msg(cls[i] >= 0 && (size_t)cls[i] < p.C, "class %d out of range", cls[i]);
        ck_assert_msg(gap <= atol_for(prec) * 10, "sample %zu: predicted %d, reference %zu (gap %g)",
                      i, cls[i], best, gap);
        int32_t truth = p.y ? p.y[i] : -1;
        if (!p.y) {
            size_t t = 0;
            for (size_t c = 1; c < p.C; c++)
                if (p.T[i * p.C + c] > p.T[i * p.C + t])
                    t = c;
            truth = (int32_t)t;
        }
        hits += (size_t)cls[i] == (size_t)truth;
    }
    double loss = 0, acc = 0;
    ck_assert_int_eq(csm_evaluate(m, d, &loss, &acc), CSM_OK);
    double want = ref_loss(p.X, p.y, p.T, NULL, p.W, p.b, p.n, p.k, p.C, 0.0);
    expect_close("evaluate loss", &loss, &want, 1, prec, s);
    ck_assert_msg(fabs(acc - (double)hits / (double)p.n) < 1e-12, "accuracy %g vs %zu/%zu", acc,
                  hits, p.n);
    free(cls), free(rp), free(rl);
    csm_model_free(m);
    csm_dataset_free(d);
    problem_free(&p);
}

START_TEST(test_forward_labels) { for_each_case(case_forward, 0); }
END_TEST
START_TEST(test_loss_gradient_labels) { for_each_case(case_loss_grad, 0); }
END_TEST
START_TEST(test_loss_gradient_soft_targets) { for_each_case(case_loss_grad, 1); }
END_TEST
START_TEST(test_predict_evaluate) { for_each_case(case_predict, 0); }
END_TEST
START_TEST(test_predict_evaluate_soft) { for_each_case(case_predict, 1); }
END_TEST

/* Whole-dataset operations run in blocks; block seams must not show.
 * CLSOFTMAX_BLOCK_ROWS=7 cuts 93 rows into 14 blocks. Same tolerances. */
START_TEST(test_blocked_equals_reference)
{
    setenv("CLSOFTMAX_BLOCK_ROWS", "7", 1);
    for_each_case(case_loss_grad, 0);
    for_each_case(case_forward, 0);
    for_each_case(case_predict, 1);
    unsetenv("CLSOFTMAX_BLOCK_ROWS");
}
END_TEST

/* The CLBlast path can split the gradient GEMM into row chunks (a batched
 * GEMM plus a fixed-order sum; automatic on GPUs for large batches).
 * CLSOFTMAX_SPLIT_K=4 forces it here: 93 rows become 4 chunks of 23 and a
 * remainder row, 7 rows 4 chunks of 1 and 3 more. Same tolerances. Runs on
 * the CLBlast path only (the fused path never splits), and first makes
 * sure the split is in effect. */
START_TEST(test_split_k_gradient_equals_reference)
{
    setenv("CLSOFTMAX_SPLIT_K", "4", 1);
    {
        csm_context *ctx = test_context();
        problem p = problem_make(93, 7, 3, CSM_FLOAT32, 0, 1);
        csm_dataset *d = problem_dataset(&p, ctx);
        csm_model *m = problem_model(&p, ctx);
        expect_split_k(m, d, p.n, 4);
        csm_model_free(m);
        csm_dataset_free(d);
        problem_free(&p);
        csm_context_free(ctx);
    }
    for_each_case(case_loss_grad, 0);
    for_each_case(case_loss_grad, 1);
    setenv("CLSOFTMAX_BLOCK_ROWS", "50", 1); /* blocks of 50 rows, each split, accumulated */
    for_each_case(case_loss_grad, 0);
    unsetenv("CLSOFTMAX_BLOCK_ROWS");
    unsetenv("CLSOFTMAX_SPLIT_K");
}
END_TEST

/* Device gradient vs central finite differences of the device loss, in
 * float64: h = 1e-6 max(1,|w|) gives ~1e-10 error for smooth J; tolerance
 * 1e-6 relative (floor 1e-6 absolute for near-zero gradients). */
START_TEST(test_device_gradient_finite_differences)
{
    csm_context *ctx = test_context();
    if (!test_has_fp64(ctx)) {
        /* float32 cannot resolve central differences to 1e-6; its gradient
         * is checked against the reference instead */
        csm_context_free(ctx);
        CSM_TEST_SKIP("the device has no float64");
    }
    problem p = problem_make(17, 5, 4, CSM_FLOAT64, 0, 77);
    csm_dataset *d = problem_dataset(&p, ctx);
    csm_model *m = problem_model(&p, ctx);
    const double l2 = 0.1;
    size_t nw = p.C * p.k;
    double *dW = malloc(nw * sizeof *dW), db[4];
    ck_assert_int_eq(csm_gradient(m, d, test_C(d, l2), NULL, dW, db), CSM_OK);
    for (size_t q = 0; q < nw + p.C; q++) {
        double *param = q < nw ? &p.W[q] : &p.b[q - nw];
        double analytic = q < nw ? dW[q] : db[q - nw];
        double saved = *param, h = 1e-6 * fmax(1.0, fabs(saved)), jp, jm;
        *param = saved + h;
        ck_assert_int_eq(csm_model_set_params(m, p.W, p.b), CSM_OK);
        ck_assert_int_eq(csm_loss(m, d, test_C(d, l2), &jp), CSM_OK);
        *param = saved - h;
        ck_assert_int_eq(csm_model_set_params(m, p.W, p.b), CSM_OK);
        ck_assert_int_eq(csm_loss(m, d, test_C(d, l2), &jm), CSM_OK);
        *param = saved;
        double numeric = (jp - jm) / (2 * h);
        double rel = fabs(analytic - numeric) / fmax(fmax(fabs(analytic), fabs(numeric)), 1e-6);
        ck_assert_msg(rel < 1e-6, "param %zu: analytic %.12g numeric %.12g (rel %g)", q, analytic,
                      numeric, rel);
    }
    ck_assert_int_eq(csm_model_set_params(m, p.W, p.b), CSM_OK);
    free(dW);
    csm_model_free(m);
    csm_dataset_free(d);
    problem_free(&p);
    csm_context_free(ctx);
}
END_TEST

/* Logits of +-1e4: finite loss (exactly 2e4 nats for the wrong sample, 0
 * for the right one: mean 1e4), probabilities exactly one-hot, a finite
 * gradient. Exact comparisons: every quantity involved is representable. */
START_TEST(test_extreme_logits)
{
    csm_context *ctx = test_context();
    for (int pi = 0; pi < 2; pi++) {
        csm_precision prec = pi ? CSM_FLOAT64 : CSM_FLOAT32;
        if (prec == CSM_FLOAT64 && !test_has_fp64(ctx))
            continue;
        double X[2] = {1, -1}, W[2] = {1e4, -1e4}, b[2] = {0, 0};
        int32_t y[2] = {1, 1};
        csm_dataset *d = NULL;
        csm_model *m = NULL;
        ck_assert_int_eq(csm_dataset_create(ctx, &d, prec, X, CSM_DTYPE_F64, 2, 1, y, NULL, 2), CSM_OK);
        ck_assert_int_eq(csm_model_create(ctx, &m, prec, 2, 1), CSM_OK);
        ck_assert_int_eq(csm_model_set_params(m, W, b), CSM_OK);
        double probs[4], loss, dW[2], db[2];
        ck_assert_int_eq(csm_predict_proba(m, d, probs), CSM_OK);
        ck_assert(probs[0] == 1.0 && probs[1] == 0.0 && probs[2] == 0.0 && probs[3] == 1.0);
        ck_assert_int_eq(csm_loss(m, d, INFINITY, &loss), CSM_OK);
        ck_assert_msg(isfinite(loss) && loss == 1e4, "loss %.17g", loss);
        ck_assert_int_eq(csm_gradient(m, d, INFINITY, NULL, dW, db), CSM_OK);
        /* only sample 0 is wrong: delta = (1, -1)/2, x = 1 */
        ck_assert(dW[0] == 0.5 && dW[1] == -0.5 && db[0] == 0.5 && db[1] == -0.5);
        csm_model_free(m);
        csm_dataset_free(d);
    }
    csm_context_free(ctx);
}
END_TEST

/* 8-bit features are byte/255 on the device, exactly as the doc says. */
START_TEST(test_u8_features)
{
    csm_context *ctx = test_context();
    unsigned char xb[6] = {0, 255, 17, 128, 3, 200};
    double xd[6];
    for (int i = 0; i < 6; i++)
        xd[i] = (double)(float)(xb[i] / 255.0);
    int32_t y[3] = {0, 1, 2};
    double W[6] = {0.5, -0.25, 1, 0.125, -1, 0.75}, b[3] = {0.1, 0.2, -0.3};
    csm_dataset *d = NULL;
    csm_model *m = NULL;
    ck_assert_int_eq(csm_dataset_create(ctx, &d, CSM_FLOAT32, xb, CSM_DTYPE_U8, 3, 2, y, NULL, 3), CSM_OK);
    ck_assert_int_eq(csm_model_create(ctx, &m, CSM_FLOAT32, 3, 2), CSM_OK);
    ck_assert_int_eq(csm_model_set_params(m, W, b), CSM_OK);
    double lg[9], rl[9];
    ck_assert_int_eq(csm_forward(m, d, lg, NULL), CSM_OK);
    ref_forward(rl, NULL, xd, W, b, 3, 2, 3);
    expect_close("u8 logits", lg, rl, 9, CSM_FLOAT32, 0);
    csm_model_free(m);
    csm_dataset_free(d);
    csm_context_free(ctx);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        test_forward_labels,
        test_loss_gradient_labels,
        test_loss_gradient_soft_targets,
        test_predict_evaluate,
        test_predict_evaluate_soft,
        test_blocked_equals_reference,
        test_device_gradient_finite_differences,
        test_extreme_logits,
        test_u8_features,
    };
    Suite *s = csm_suite_per_path("ops", tests, sizeof tests / sizeof *tests);
    const TTest *const clblast_only[] = {test_split_k_gradient_equals_reference};
    csm_suite_add_clblast_only(s, clblast_only, 1);
    return csm_test_main(s, 1);
}
