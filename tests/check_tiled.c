/* The tiled path's kernels (kernels/tiled.cl) at tile geometries and
 * shapes chosen to hit every remainder: rows not a multiple of RT, classes
 * not a multiple of the vector width (a partial last vector of WT's padded
 * columns) nor of NV vectors (the 1-, 2- and 3-vector class tiles), features
 * not a multiple of a tile (the 1..3-vector feature tiles and a tail inside
 * the last vector), chunks of classes not a multiple of QC, panels of KC
 * rows with a remainder, FTI tiles per item with fewer left, and rows
 * split into chunks whose partial gradients are summed afterwards (at the
 * geometries with small panels, and at the last shape). Each
 * geometry (hook_tile, a test-only override) and shape is compared
 * with the double reference: logits, loss, dW and db, whole and in blocks
 * (accumulated gradients and compensated bias sums across blocks), in
 * float32 and float64; shuffled minibatch training (rows read through the
 * permutation) must match the CLBlast path's (rows gathered by their own
 * kernel, products by CLBlast).
 *
 * Tolerances as check_ops.c: |got - want| <= atol + rtol |want| with
 * float32 2e-5 / 1e-4 (k <= 200 terms: < 2e-5 of rounding per product),
 * float64 1e-12 / 1e-10. */
#include <stdio.h>
#include <stdlib.h>

#include "problem.h"
#include "reference.h"
#include "hooks.h"
#include "testutil.h"

/* NV, RT, QC, KC, FTI */
static const char *const geometries[] = {
    "4,5,6,64,4", /* the default */
    "1,1,1,1,1",  /* every loop at its smallest */
    "4,6,6,64,4", /* the largest register tile */
    "3,5,5,7,3",  /* odd everything */
    "2,4,7,3,2",
    "4,8,3,16,1",
};
#define N_GEOM (sizeof geometries / sizeof *geometries)

static const size_t shapes[][3] = {
    /* n, k, C */
    {1, 1, 2},     /* one row, one feature */
    {7, 7, 7},     /* k and C below one vector */
    {13, 93, 100}, /* k: a whole tile and a 2-vector tile with a tail; C: 4 + 3 vectors */
    {50, 200, 37}, /* k: 3 whole tiles and a partial one; C: 3 vectors, the last partial */
    {6, 17, 129},  /* C: two whole class tiles and one vector with a single class */
    {613, 70, 21}, /* rows in 2 gradient chunks of whole panels (4 at least), the last short */
};
#define N_SHAPES (sizeof shapes / sizeof *shapes)

static double atol_for(csm_precision p) { return p == CSM_FLOAT32 ? 2e-5 : 1e-12; }
static double rtol_for(csm_precision p) { return p == CSM_FLOAT32 ? 1e-4 : 1e-10; }

static void expect_close(const char *what, const double *got, const double *want, size_t n,
                         csm_precision prec, size_t g, size_t s)
{
    size_t at = 0;
    double worst = csm_worst(got, want, n, atol_for(prec), rtol_for(prec), &at);
    ck_assert_msg(worst <= 1.0, "%s (%s, tile %s, shape %zux%zux%zu): element %zu: got %.17g want %.17g",
                  what, prec == CSM_FLOAT32 ? "float32" : "float64", geometries[g],
                  shapes[s][0], shapes[s][1], shapes[s][2], at, got[at], want[at]);
}

static void check_case(csm_context *ctx, csm_precision prec, size_t g, size_t s, int soft)
{
    problem p = problem_make(shapes[s][0], shapes[s][1], shapes[s][2], prec, soft, 900 + s);
    csm_dataset *d = problem_dataset(&p, ctx);
    csm_model *m = problem_model(&p, ctx);
    const size_t nc = p.n * p.C, ck = p.C * p.k;
    double *lg = malloc(nc * sizeof *lg), *rl = malloc(nc * sizeof *rl);
    double *rp = malloc(nc * sizeof *rp);
    double *dW = malloc(ck * sizeof *dW), *rW = malloc(ck * sizeof *rW);
    double *db = malloc(p.C * sizeof *db), *rb = malloc(p.C * sizeof *rb);
    ck_assert(lg && rl && rp && dW && rW && db && rb);

    ref_forward(rl, rp, p.X, p.W, p.b, p.n, p.k, p.C);
    ref_backward(rW, rb, p.X, p.y, p.T, NULL, p.W, p.b, p.n, p.k, p.C, 0.1);
    const double want = ref_loss(p.X, p.y, p.T, NULL, p.W, p.b, p.n, p.k, p.C, 0.1);
    /* whole, then in blocks of 4 rows (gradients accumulated across calls) */
    for (int blocked = 0; blocked < 2; blocked++) {
        if (blocked)
            ck_assert_int_eq(csm_context_set_option(ctx, "block_rows", "4"), CSM_OK);
        ck_assert_int_eq(csm_forward(m, d, lg, NULL), CSM_OK);
        expect_close("logits", lg, rl, nc, prec, g, s);
        double loss = 0;
        ck_assert_int_eq(csm_gradient(m, d, test_C(d, 0.1), &loss, dW, db), CSM_OK);
        expect_close("loss", &loss, &want, 1, prec, g, s);
        expect_close("dW", dW, rW, ck, prec, g, s);
        expect_close("db", db, rb, p.C, prec, g, s);
        ck_assert_int_eq(csm_context_set_option(ctx, "block_rows", NULL), CSM_OK);
    }
    free(lg), free(rl), free(rp), free(dW), free(rW), free(db), free(rb);
    csm_model_free(m);
    csm_dataset_free(d);
    problem_free(&p);
}

/* The default geometry at every shape; the others at the two shapes that
 * reach their remainders (a partial group of FTI tiles; 3- and 1-vector
 * class tiles; row chunks where KC is small), each compiled per shape. */
static void for_geometry(size_t g, int soft)
{
    setenv("CLSOFTMAX_PATH", "tiled", 1);
    csm_context *ctx = test_context();
    hook_tile(ctx, geometries[g]);
    for (int pi = 0; pi < 2; pi++) {
        csm_precision prec = pi ? CSM_FLOAT64 : CSM_FLOAT32;
        if (prec == CSM_FLOAT64 && !test_has_fp64(ctx))
            continue;
        for (size_t s = g == 0 ? 0 : 3; s < (g == 0 ? N_SHAPES : 5); s++)
            check_case(ctx, prec, g, s, soft);
    }
    csm_context_free(ctx);
}

START_TEST(test_geometry_labels) { for_geometry((size_t)_i, 0); }
END_TEST

/* soft targets change only the softmax kernel's input: one geometry */
START_TEST(test_geometry_soft_targets) { for_geometry(0, 1); }
END_TEST

/* Shuffled minibatches of 16 over 3 epochs with sample weights and an L2
 * term, for each solver (test i: geometry i % 3, solver i / 3; soft targets
 * and no intercept in every other): the tiled path reads rows and targets
 * through the permutation and, at the geometries whose panels hold a
 * whole batch (0 and 2), applies the update in its gradient's launch and
 * keeps W^T from step to step; the CLBlast path gathers them and updates
 * by its own launch. Same seed, same permutations, so the same weights
 * within float32 rounding of the 3 x 7 steps. Momentum takes lr 0.02 (a
 * step of lr / (1 - 0.9) = 0.2 in the long run, SGD's): at 0.2, under
 * tests/stream_env.sh's 2K cap (chunks, hence batches, of one row: 300
 * steps) its weights amplified rounding; the CLBlast path alone came out
 * 0.0167 on POCL and 0.0102 on Intel's runtime for the same W entry. */
static const csm_solver minibatch_solvers[] = {CSM_SGD, CSM_MOMENTUM, CSM_ADAM};
START_TEST(test_shuffled_minibatches_match_clblast)
{
    csm_context *ctx = test_context();
    hook_tile(ctx, geometries[(size_t)_i % 3]);
    const int odd = _i % 2;
    problem p = problem_make(100, 93, 37, CSM_FLOAT32, odd, 77);
    double *wts = malloc(p.n * sizeof *wts);
    ck_assert_ptr_nonnull(wts);
    for (size_t i = 0; i < p.n; i++)
        wts[i] = 0.5 + (double)(i % 5) * 0.25;
    double *w[2], b[2][37];
    for (int run = 0; run < 2; run++) {
        ck_assert_int_eq(csm_context_set_option(ctx, "path", run ? "tiled" : "clblast"), CSM_OK);
        csm_dataset *d = problem_dataset(&p, ctx);
        ck_assert_int_eq(csm_dataset_set_weights(d, wts), CSM_OK);
        csm_model *m = problem_model(&p, ctx);
        csm_train_options o;
        csm_train_options_init(&o, sizeof o);
        o.solver = minibatch_solvers[_i / 3];
        o.learning_rate = o.solver == CSM_SGD ? 0.2 : 0.02;
        o.fit_intercept = !odd;
        o.max_iter = 3;
        o.tol = 0;
        o.C = test_C(d, 0.01);
        o.batch_size = 16;
        ck_assert_int_eq(csm_train(m, d, &o, NULL), CSM_OK);
        w[run] = malloc(p.C * p.k * sizeof *w[run]);
        ck_assert_ptr_nonnull(w[run]);
        ck_assert_int_eq(csm_model_get_params(m, w[run], b[run]), CSM_OK);
        csm_model_free(m);
        csm_dataset_free(d);
    }
    size_t at;
    double worst = csm_worst(w[1], w[0], p.C * p.k, 21 * 2e-5, 21 * 1e-4, &at);
    ck_assert_msg(worst <= 1, "W[%zu] %.9g vs %.9g", at, w[1][at], w[0][at]);
    worst = csm_worst(b[1], b[0], p.C, 21 * 2e-5, 21 * 1e-4, &at);
    ck_assert_msg(worst <= 1, "b[%zu] %.9g vs %.9g", at, b[1][at], b[0][at]);
    free(w[0]), free(w[1]), free(wts);
    problem_free(&p);
    csm_context_free(ctx);
}
END_TEST

/* The gradient's work split (classes per chunk follows the device's
 * compute units) never changes the order of a sum: the same gradient,
 * bit for bit, under every geometry that keeps the row order, whichever
 * thread takes which task. Here: the default against one item per feature
 * tile (FTI 1), at 613 rows: two row chunks, their partials summed after. */
START_TEST(test_gradient_independent_of_split)
{
    problem p = problem_make(613, 200, 37, CSM_FLOAT32, 0, 5);
    double *dW[2], db[2][37];
    const char *geo[2] = {"4,5,6,64,4", "4,5,6,64,1"};
    for (int run = 0; run < 2; run++) {
        setenv("CLSOFTMAX_PATH", "tiled", 1);
        csm_context *ctx = test_context();
        hook_tile(ctx, geo[run]);
        csm_dataset *d = problem_dataset(&p, ctx);
        csm_model *m = problem_model(&p, ctx);
        dW[run] = malloc(p.C * p.k * sizeof *dW[run]);
        ck_assert_ptr_nonnull(dW[run]);
        ck_assert_int_eq(csm_gradient(m, d, INFINITY, NULL, dW[run], db[run]), CSM_OK);
        csm_model_free(m);
        csm_dataset_free(d);
        csm_context_free(ctx);
    }
    for (size_t i = 0; i < p.C * p.k; i++)
        ck_assert_msg(dW[0][i] == dW[1][i], "dW[%zu] %.9g vs %.9g", i, dW[0][i], dW[1][i]);
    for (size_t c = 0; c < p.C; c++)
        ck_assert_msg(db[0][c] == db[1][c], "db[%zu] %.9g vs %.9g", c, db[0][c], db[1][c]);
    free(dW[0]), free(dW[1]);
    problem_free(&p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tiled");
    TCase *tc = tcase_create("geometries");
    tcase_set_timeout(tc, CSM_DEVICE_TIMEOUT);
    tcase_add_loop_test(tc, test_geometry_labels, 0, (int)N_GEOM);
    tcase_add_test(tc, test_geometry_soft_targets);
    tcase_add_loop_test(tc, test_shuffled_minibatches_match_clblast, 0, 9);
    tcase_add_test(tc, test_gradient_independent_of_split);
    suite_add_tcase(s, tc);
    return csm_test_main(s, 1);
}
