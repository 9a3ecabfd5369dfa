/* Device limits. The paths size themselves from the device's work-group
 * size and local memory (and the kernels' own limits once built): fewer
 * rows per block for the fused kernel, shorter panels for the tiled one,
 * another path when not even one row fits, narrower work-groups for the
 * reductions. The test hooks (hooks.h) shrink the limits of the CPU
 * device right after a context is created so that each of
 * these happens here: the results must match the reference (tolerances as
 * check_ops.c), the log must say what was done, and where only the
 * reductions' work-group size changed, the results must not change at all:
 * their order is a function of the data's shape alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hooks.h"
#include "problem.h"
#include "reference.h"
#include "testutil.h"

static double atol_for(csm_precision p) { return p == CSM_FLOAT32 ? 2e-5 : 1e-12; }
static double rtol_for(csm_precision p) { return p == CSM_FLOAT32 ? 1e-4 : 1e-10; }

static void expect_close(const char *what, const double *got, const double *want, size_t n,
                         csm_precision prec)
{
    size_t at = 0;
    double worst = csm_worst(got, want, n, atol_for(prec), rtol_for(prec), &at);
    ck_assert_msg(worst <= 1.0, "%s (%s): element %zu: got %.17g want %.17g", what,
                  prec == CSM_FLOAT32 ? "float32" : "float64", at, got[at], want[at]);
}

typedef struct logbuf {
    char text[1 << 17];
} logbuf;

static void collect(csm_log_level level, const char *message, void *user)
{
    (void)level;
    logbuf *b = user;
    size_t used = strlen(b->text);
    snprintf(b->text + used, sizeof b->text - used, "%s\n", message);
}

/* A context under the given limits (NULL: the device's own), on a device
 * of `type` (NULL: its own), on `path`, logging into *log. */
static csm_context *limited_as(const char *local_mem, const char *max_wg, const char *type,
                               const char *path, logbuf *log)
{
    csm_context *ctx = test_context();
    hook_limits(ctx, max_wg ? strtoull(max_wg, NULL, 10) : 0,
                local_mem ? strtoull(local_mem, NULL, 10) : 0, 0);
    if (type)
        hook_device_type(ctx, type);
    ck_assert_int_eq(csm_context_set_option(ctx, "path", path), CSM_OK);
    if (log) {
        memset(log, 0, sizeof *log);
        csm_context_set_log_callback(ctx, collect, log);
    }
    return ctx;
}

static csm_context *limited(const char *local_mem, const char *max_wg, const char *path,
                            logbuf *log)
{
    return limited_as(local_mem, max_wg, NULL, path, log);
}

/* Forward, loss and gradient (with L2) against the reference. */
static void check_ops(csm_context *ctx, size_t n, size_t k, size_t C, csm_precision prec,
                      int soft)
{
    problem p = problem_make(n, k, C, prec, soft, 31 + C);
    csm_dataset *d = problem_dataset(&p, ctx);
    csm_model *m = problem_model(&p, ctx);
    const size_t nc = n * C, ck = C * k;
    double *pr = malloc(nc * sizeof *pr), *rl = malloc(nc * sizeof *rl);
    double *rp = malloc(nc * sizeof *rp), *dW = malloc(ck * sizeof *dW);
    double *rW = malloc(ck * sizeof *rW), *db = malloc(C * sizeof *db), *rb = malloc(C * sizeof *rb);
    ck_assert(pr && rl && rp && dW && rW && db && rb);
    ck_assert_msg(csm_forward(m, d, NULL, pr) == CSM_OK, "%s", csm_context_last_error(ctx));
    ref_forward(rl, rp, p.X, p.W, p.b, n, k, C);
    expect_close("probabilities", pr, rp, nc, prec);
    double loss = 0;
    ck_assert_msg(csm_gradient(m, d, test_C(d, 0.05), &loss, dW, db) == CSM_OK, "%s",
                  csm_context_last_error(ctx));
    const double want = ref_loss(p.X, p.y, p.T, NULL, p.W, p.b, n, k, C, 0.05);
    ref_backward(rW, rb, p.X, p.y, p.T, NULL, p.W, p.b, n, k, C, 0.05);
    expect_close("loss", &loss, &want, 1, prec);
    expect_close("dW", dW, rW, ck, prec);
    expect_close("db", db, rb, C, prec);
    free(pr), free(rl), free(rp), free(dW), free(rW), free(db), free(rb);
    csm_model_free(m);
    csm_dataset_free(d);
    problem_free(&p);
}

static void expect_log(const logbuf *log, const char *what)
{
    ck_assert_msg(strstr(log->text, what) != NULL, "'%s' not in the log:\n%s", what, log->text);
}

/* 800 bytes: a fused block of 32 rows of 10 float32 classes needs 1408,
 * of float64 ones 2688; fewer rows fit. */
START_TEST(test_fused_fewer_rows)
{
    logbuf *log = calloc(1, sizeof *log);
    ck_assert_ptr_nonnull(log);
    csm_context *ctx = limited("800", NULL, "fused", log);
    for (int pi = 0; pi < 2; pi++) {
        csm_precision prec = pi ? CSM_FLOAT64 : CSM_FLOAT32;
        if (prec == CSM_FLOAT64 && !test_has_fp64(ctx))
            continue;
        check_ops(ctx, 77, 23, 10, prec, pi);
    }
    expect_log(log, "rows per block (default 1 x 32)");
    ck_assert_msg(strstr(log->text, "instead") == NULL, "fell back:\n%s", log->text);
    csm_context_free(ctx);
    free(log);
}
END_TEST

/* NVIDIA's 48 KiB: a 32-row block of 256 float64 classes needs 64 KiB. */
START_TEST(test_fused_48k)
{
    logbuf *log = calloc(1, sizeof *log);
    ck_assert_ptr_nonnull(log);
    csm_context *ctx = limited("49152", NULL, "fused", log);
    const csm_precision prec = test_has_fp64(ctx) ? CSM_FLOAT64 : CSM_FLOAT32;
    check_ops(ctx, 40, 9, 256, prec, 0);
    if (prec == CSM_FLOAT64)
        expect_log(log, "1 work-items x 16 rows per block (default 1 x 32)");
    csm_context_free(ctx);
    free(log);
}
END_TEST

/* The same on a GPU's geometry (the device taken for a GPU): 64 items
 * over 64 rows of 256 float32 classes need 65 KiB; 32 over 32 fit. */
START_TEST(test_fused_48k_gpu_geometry)
{
    logbuf *log = calloc(1, sizeof *log);
    ck_assert_ptr_nonnull(log);
    csm_context *ctx = limited_as("49152", NULL, "gpu", "fused", log);
    check_ops(ctx, 70, 9, 256, CSM_FLOAT32, 1);
    expect_log(log, "32 work-items x 32 rows per block (default 64 x 64)");
    csm_context_free(ctx);
    free(log);
}
END_TEST

/* 1000 bytes: not even one row of 256 classes fits the fused kernel; the
 * tiled path takes over (with shorter panels), and training works there. */
START_TEST(test_fused_falls_back)
{
    logbuf *log = calloc(1, sizeof *log);
    ck_assert_ptr_nonnull(log);
    csm_context *ctx = limited("1000", NULL, "fused", log);
    check_ops(ctx, 30, 7, 256, CSM_FLOAT32, 0);
    expect_log(log, "fused path cannot run C=256");
    expect_log(log, "fused path does not fit");
    expect_log(log, "tiled path instead");
    expect_log(log, "tiled path for C=256: panels of");
    csm_context_free(ctx);
    free(log);
}
END_TEST

/* 4 KiB: the default tiled panel (4 tiles x 64 rows x 4 vectors) needs
 * 64 KiB at 16 float32 or 8 float64 lanes: shorter panels, fewer tiles. */
START_TEST(test_tiled_shorter_panels)
{
    logbuf *log = calloc(1, sizeof *log);
    ck_assert_ptr_nonnull(log);
    csm_context *ctx = limited("4096", NULL, "tiled", log);
    for (int pi = 0; pi < 2; pi++) {
        csm_precision prec = pi ? CSM_FLOAT64 : CSM_FLOAT32;
        if (prec == CSM_FLOAT64 && !test_has_fp64(ctx))
            continue;
        check_ops(ctx, 70, 200, 37, prec, pi);
    }
    expect_log(log, "tiled path for C=37: panels of");
    csm_context_free(ctx);
    free(log);
}
END_TEST

/* ------------------------------------------- work-group size, bit for bit */

typedef struct outcome {
    double loss, dW[13 * 29], db[13];
    double W[3][13 * 29], b[3][13];
} outcome;

/* Loss and gradient, then SGD, Adam and L-BFGS from the same start: the
 * reductions (loss, bias, ||W||^2, the L-BFGS dot products), the updates
 * and the fused kernel's own sums all take part. */
static void run_all(csm_context *ctx, csm_precision prec, outcome *out)
{
    const size_t n = 150, k = 29, C = 13;
    problem p = problem_make(n, k, C, prec, 0, 5);
    csm_dataset *d = problem_dataset(&p, ctx);
    csm_model *m = problem_model(&p, ctx);
    ck_assert_msg(csm_gradient(m, d, test_C(d, 0.01), &out->loss, out->dW, out->db) == CSM_OK, "%s",
                  csm_context_last_error(ctx));
    static const csm_solver solvers[3] = {CSM_SGD, CSM_ADAM, CSM_LBFGS};
    for (int s = 0; s < 3; s++) {
        ck_assert_int_eq(csm_model_set_params(m, p.W, p.b), CSM_OK);
        csm_train_options o;
        csm_train_options_init(&o, sizeof o);
        o.solver = solvers[s];
        o.max_iter = solvers[s] == CSM_LBFGS ? 8 : 2;
        o.batch_size = 32;
        o.tol = 0;
        ck_assert_msg(csm_train(m, d, &o, NULL) == CSM_OK, "%s", csm_context_last_error(ctx));
        ck_assert_int_eq(csm_model_get_params(m, out->W[s], out->b[s]), CSM_OK);
    }
    csm_model_free(m);
    csm_dataset_free(d);
    problem_free(&p);
}

/* Work-groups of 1 and 16 items against the device's own (64 for the
 * reductions) on every dense path: the same numbers, bit for bit; and
 * 1100 bytes of local memory, where multi-dot passes take two or four
 * history rows instead of eight and the fused kernel 8 rows per block
 * instead of 32: the same numbers again (not on the tiled path, whose
 * shorter panels do sum differently). */
START_TEST(test_group_size_changes_nothing)
{
    static const char *const paths[3] = {"clblast", "fused", "tiled"};
    const char *path = paths[_i];
    outcome *ref = calloc(1, sizeof *ref), *got = calloc(1, sizeof *got);
    ck_assert(ref && got);
    for (int pi = 0; pi < 2; pi++) {
        csm_context *ctx = limited(NULL, NULL, path, NULL);
        csm_precision prec = pi ? CSM_FLOAT64 : CSM_FLOAT32;
        if (prec == CSM_FLOAT64 && !test_has_fp64(ctx)) {
            csm_context_free(ctx);
            continue;
        }
        run_all(ctx, prec, ref);
        csm_context_free(ctx);
        static const char *const limits[3][2] = {{NULL, "1"}, {NULL, "16"}, {"1100", NULL}};
        for (int l = 0; l < 3; l++) {
            if (limits[l][0] && !strcmp(path, "tiled"))
                continue;
            logbuf *log = calloc(1, sizeof *log);
            ck_assert_ptr_nonnull(log);
            ctx = limited(limits[l][0], limits[l][1], path, log);
            run_all(ctx, prec, got);
            if (limits[l][1])
                expect_log(log, "work-groups of");
            else if (!strcmp(path, "fused"))
                expect_log(log, "rows per block (default 1 x 32)");
            ck_assert_msg(got->loss == ref->loss, "%s: loss %.17g vs %.17g", path, got->loss,
                          ref->loss);
            ck_assert_msg(!memcmp(got->dW, ref->dW, sizeof got->dW), "%s: dW differs", path);
            ck_assert_msg(!memcmp(got->db, ref->db, sizeof got->db), "%s: db differs", path);
            for (int s = 0; s < 3; s++)
                ck_assert_msg(!memcmp(got->W[s], ref->W[s], sizeof got->W[s]) &&
                                  !memcmp(got->b[s], ref->b[s], sizeof got->b[s]),
                              "%s, limits %s/%s: solver %d's weights differ", path,
                              limits[l][0] ? limits[l][0] : "-", limits[l][1] ? limits[l][1] : "-",
                              s);
            csm_context_free(ctx);
            free(log);
        }
    }
    free(ref);
    free(got);
}
END_TEST

/* The library has no test door: the variables that once were one change
 * nothing (the device keeps its kind and its limits). */
START_TEST(test_no_test_variables)
{
    csm_context *plain = test_context();
    char kind[16];
    snprintf(kind, sizeof kind, "%s", csm_context_device(plain)->device_type);
    csm_context_free(plain);
    static const char *const vars[][2] = {{"CLSOFTMAX_TEST_LOCAL_MEM", "lots"},
                                          {"CLSOFTMAX_TEST_MAX_WG", "-4"},
                                          {"CLSOFTMAX_TEST_MAX_OFFSET", "0"},
                                          {"CLSOFTMAX_TEST_DEVICE_TYPE", "fpga"}};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        setenv(vars[i][0], vars[i][1], 1);
    csm_context *ctx = test_context();
    ck_assert_str_eq(csm_context_device(ctx)->device_type, kind);
    logbuf *log = calloc(1, sizeof *log);
    ck_assert_ptr_nonnull(log);
    csm_context_set_log_callback(ctx, collect, log);
    check_ops(ctx, 20, 5, 3, CSM_FLOAT32, 0);
    ck_assert_msg(strstr(log->text, "work-groups of") == NULL, "limits changed:\n%s", log->text);
    csm_context_free(ctx);
    free(log);
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        unsetenv(vars[i][0]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("limits");
    TCase *tc = tcase_create("limits");
    tcase_set_timeout(tc, CSM_DEVICE_TIMEOUT);
    tcase_add_test(tc, test_fused_fewer_rows);
    tcase_add_test(tc, test_fused_48k);
    tcase_add_test(tc, test_fused_48k_gpu_geometry);
    tcase_add_test(tc, test_fused_falls_back);
    tcase_add_test(tc, test_tiled_shorter_panels);
    tcase_add_loop_test(tc, test_group_size_changes_nothing, 0, 3);
    tcase_add_test(tc, test_no_test_variables);
    suite_add_tcase(s, tc);
    return csm_test_main(s, 1);
}
