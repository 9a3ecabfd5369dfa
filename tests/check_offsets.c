/* Offsets past the int range. CLBlast indexes its operands in int, so on
 * a dataset of more than 2^31 elements the CLBlast path hands it rows of
 * at most INT_MAX elements and rebases operands that start further in onto
 * sub-buffers. The limit is lowered here (by the test hook, right after
 * context creation) so that ordinary sizes cross it: blocks and
 * minibatches whose offsets pass the simulated limit, and blocks larger
 * than it, must give the reference's loss, gradient and training steps,
 * on every dense path, in float32 and float64. Tolerances as check_ops.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "problem.h"
#include "reference.h"
#include "hooks.h"
#include "testutil.h"

/* elements: 93 rows of 41 features cross it three times */
#define LIMIT "1000"

static double atol_for(csm_precision p) { return p == CSM_FLOAT32 ? 2e-5 : 1e-12; }
static double rtol_for(csm_precision p) { return p == CSM_FLOAT32 ? 1e-4 : 1e-10; }

static void expect_close(const char *what, const double *got, const double *want, size_t n,
                         csm_precision prec, double scale)
{
    size_t at = 0;
    double worst =
        csm_worst(got, want, n, scale * atol_for(prec), scale * rtol_for(prec), &at);
    ck_assert_msg(worst <= 1.0, "%s (%s): element %zu: got %.17g want %.17g", what,
                  prec == CSM_FLOAT32 ? "float32" : "float64", at, got[at], want[at]);
}

typedef struct logbuf {
    char text[1 << 16];
} logbuf;

static void collect(csm_log_level level, const char *message, void *user)
{
    (void)level;
    logbuf *b = user;
    size_t used = strlen(b->text);
    snprintf(b->text + used, sizeof b->text - used, "%s\n", message);
}

static csm_context *limited_context(logbuf *log)
{
    csm_context *ctx = test_context();
    hook_limits(ctx, 0, 0, (size_t)strtoull(LIMIT, NULL, 10));
    memset(log, 0, sizeof *log);
    csm_context_set_log_callback(ctx, collect, log);
    return ctx;
}

/* The CLBlast path says it rebased; the others never pass CLBlast an offset. */
static void expect_rebased(csm_context *ctx, const logbuf *log)
{
    char path[16];
    ck_assert_int_eq(csm_context_get_option(ctx, "path", path, sizeof path), CSM_OK);
    if (!strcmp(path, "clblast"))
        ck_assert_msg(strstr(log->text, "rebased onto sub-buffers") != NULL, "log:\n%s",
                      log->text);
}

/* Forward, loss and gradient in blocks of `rows` (0: one block), with
 * `split` gradient chunks (0: automatic). */
static void check_ops(csm_context *ctx, csm_precision prec, int soft, const char *rows,
                      const char *split)
{
    ck_assert_int_eq(csm_context_set_option(ctx, "block_rows", rows), CSM_OK);
    ck_assert_int_eq(csm_context_set_option(ctx, "split_k", split), CSM_OK);
    problem p = problem_make(93, 41, 5, prec, soft, 17);
    csm_dataset *d = problem_dataset(&p, ctx);
    csm_model *m = problem_model(&p, ctx);
    const size_t nc = p.n * p.C, ck = p.C * p.k;
    double *lg = malloc(nc * sizeof *lg), *pr = malloc(nc * sizeof *pr);
    double *rl = malloc(nc * sizeof *rl), *rp = malloc(nc * sizeof *rp);
    double *dW = malloc(ck * sizeof *dW), *rW = malloc(ck * sizeof *rW);
    double db[5], rb[5], loss = 0;
    ck_assert(lg && pr && rl && rp && dW && rW);
    ck_assert_msg(csm_forward(m, d, lg, pr) == CSM_OK, "%s", csm_context_last_error(ctx));
    ref_forward(rl, rp, p.X, p.W, p.b, p.n, p.k, p.C);
    expect_close("logits", lg, rl, nc, prec, 1);
    expect_close("probabilities", pr, rp, nc, prec, 1);
    ck_assert_msg(csm_gradient(m, d, test_C(d, 0.1), &loss, dW, db) == CSM_OK, "%s",
                  csm_context_last_error(ctx));
    const double want = ref_loss(p.X, p.y, p.T, NULL, p.W, p.b, p.n, p.k, p.C, 0.1);
    ref_backward(rW, rb, p.X, p.y, p.T, NULL, p.W, p.b, p.n, p.k, p.C, 0.1);
    expect_close("loss", &loss, &want, 1, prec, 1);
    expect_close("dW", dW, rW, ck, prec, 1);
    expect_close("db", db, rb, p.C, prec, 1);
    free(lg), free(pr), free(rl), free(rp), free(dW), free(rW);
    csm_model_free(m);
    csm_dataset_free(d);
    problem_free(&p);
}

static void for_precisions(void (*fn)(csm_context *, csm_precision))
{
    logbuf *log = calloc(1, sizeof *log);
    ck_assert_ptr_nonnull(log);
    csm_context *ctx = limited_context(log);
    for (int pi = 0; pi < 2; pi++) {
        csm_precision prec = pi ? CSM_FLOAT64 : CSM_FLOAT32;
        if (prec == CSM_FLOAT64 && !test_has_fp64(ctx))
            continue;
        fn(ctx, prec);
    }
    expect_rebased(ctx, log);
    csm_context_free(ctx);
    free(log);
}

static void ops_cases(csm_context *ctx, csm_precision prec)
{
    check_ops(ctx, prec, 0, NULL, NULL); /* one block of 3813 elements, in pieces */
    check_ops(ctx, prec, 1, "17", NULL); /* blocks at 697, 1394, ... elements */
    check_ops(ctx, prec, 0, "40", "3");  /* each piece's gradient split in 3 */
}

START_TEST(test_ops_across_limit) { for_precisions(ops_cases); }
END_TEST

/* Full-batch SGD (one step over every row) and unshuffled minibatches of
 * 40 rows (steps at rows 40 and 80: past the limit) against the
 * reference's steps. */
static void train_cases(csm_context *ctx, csm_precision prec)
{
    static const size_t batches[2] = {0, 40};
    for (int bi = 0; bi < 2; bi++) {
        problem p = problem_make(93, 41, 5, prec, bi, 23 + (uint64_t)bi);
        csm_dataset *d = problem_dataset(&p, ctx);
        csm_model *m = problem_model(&p, ctx);
        csm_train_options o;
        csm_train_options_init(&o, sizeof o);
        o.solver = CSM_SGD;
        o.max_iter = 2;
        o.tol = 0;
        o.learning_rate = 0.5;
        o.batch_size = batches[bi];
        o.C = test_C(d, 0.01);
        o.shuffle = 0;
        ck_assert_msg(csm_train(m, d, &o, NULL) == CSM_OK, "%s", csm_context_last_error(ctx));
        const size_t B = batches[bi] ? batches[bi] : p.n;
        for (int e = 0; e < 2; e++)
            for (size_t r = 0; r < p.n; r += B) {
                const size_t rows = p.n - r < B ? p.n - r : B;
                ref_sgd_step(p.W, p.b, p.X + r * p.k, p.y ? p.y + r : NULL,
                             p.T ? p.T + r * p.C : NULL, NULL, rows, p.k, p.C, 0.01, 0.5);
            }
        double *W = malloc(p.C * p.k * sizeof *W), b[5];
        ck_assert_ptr_nonnull(W);
        ck_assert_int_eq(csm_model_get_params(m, W, b), CSM_OK);
        expect_close("trained W", W, p.W, p.C * p.k, prec, 6);
        expect_close("trained b", b, p.b, p.C, prec, 6);
        free(W);
        csm_model_free(m);
        csm_dataset_free(d);
        problem_free(&p);
    }
}

START_TEST(test_training_across_limit) { for_precisions(train_cases); }
END_TEST

int main(void)
{
    const TTest *const tests[] = {test_ops_across_limit, test_training_across_limit};
    return csm_test_main(csm_suite_per_path("offsets", tests, sizeof tests / sizeof *tests), 1);
}
