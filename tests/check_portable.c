/* Portable OpenCL C: every kernel file builds, and runs, with
 * -cl-opt-disable (no optimiser to hide undefined behaviour or lean on),
 * with -cl-std=CL1.2 (nothing past OpenCL 1.2), and warning-free, added
 * through the "cl_options" option (CLSOFTMAX_CL_OPTIONS). A tiny problem
 * goes through every path (CLBlast, fused, tiled; CSR data; 8-bit
 * features) and every solver, in float32 and float64, with the device's
 * own kernel variants and, through the test hook taking it for a GPU, a
 * GPU's (64-item fused groups, strided reductions); the gradient is
 * checked against the reference and the log must show each of the ten
 * files built with the options. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "problem.h"
#include "reference.h"
#include "hooks.h"
#include "testutil.h"

static const char *const option_sets[] = {"-cl-opt-disable", "-cl-std=CL1.2",
                                          "-cl-std=CL1.2 -cl-opt-disable -Werror"};
#define N_SETS (sizeof option_sets / sizeof *option_sets)
static const char *const files[] = {"forward.cl", "reduce.cl", "update.cl", "gather.cl",
                                    "fused.cl",   "convert.cl", "vec.cl",   "sparse.cl",
                                    "tiled.cl"}; /* common.cl comes with each */

typedef struct logbuf {
    char text[1 << 18];
} logbuf;

static void collect(csm_log_level level, const char *message, void *user)
{
    (void)level;
    logbuf *b = user;
    size_t used = strlen(b->text);
    if (!strncmp(message, "built ", 6))
        snprintf(b->text + used, sizeof b->text - used, "%s\n", message);
}

static void check_gradient(csm_model *m, const csm_dataset *d, const problem *p)
{
    const size_t ck = p->C * p->k;
    double *dW = malloc(ck * sizeof *dW), *rW = malloc(ck * sizeof *rW), db[4], rb[4], loss;
    ck_assert(dW && rW);
    ck_assert_msg(csm_gradient(m, d, test_C(d, 0.1), &loss, dW, db) == CSM_OK, "%s",
                  csm_context_last_error(csm_model_context(m)));
    ref_backward(rW, rb, p->X, p->y, p->T, NULL, p->W, p->b, p->n, p->k, p->C, 0.1);
    const int f32 = p->prec == CSM_FLOAT32;
    size_t at;
    double worst = csm_worst(dW, rW, ck, f32 ? 2e-5 : 1e-12, f32 ? 1e-4 : 1e-10, &at);
    ck_assert_msg(worst <= 1, "dW[%zu] %.17g vs %.17g", at, dW[at], rW[at]);
    free(dW);
    free(rW);
}

/* Forward, predict, evaluate, then each solver a little: every kernel of
 * the context's current path. */
static void exercise(csm_context *ctx, csm_model *m, const csm_dataset *d, const problem *p)
{
    double *probs = malloc(p->n * p->C * sizeof *probs), acc;
    int32_t *cls = malloc(p->n * sizeof *cls);
    ck_assert(probs && cls);
    ck_assert_msg(csm_forward(m, d, probs, probs) == CSM_OK, "%s", csm_context_last_error(ctx));
    ck_assert_int_eq(csm_predict(m, d, cls), CSM_OK);
    ck_assert_int_eq(csm_evaluate(m, d, NULL, &acc), CSM_OK);
    free(probs);
    free(cls);
    static const csm_solver solvers[4] = {CSM_SGD, CSM_MOMENTUM, CSM_ADAM, CSM_LBFGS};
    for (int s = 0; s < 4; s++) {
        csm_train_options o;
        csm_train_options_init(&o, sizeof o);
        o.solver = solvers[s];
        o.max_iter = 2;
        o.batch_size = 8; /* shuffled: the gather kernel, or rows read in place */
        o.tol = 0;
        ck_assert_msg(csm_train(m, d, &o, NULL) == CSM_OK, "%s: %s", csm_solver_name(solvers[s]),
                      csm_context_last_error(ctx));
    }
}

START_TEST(test_every_kernel_builds)
{
    const char *options = option_sets[(size_t)_i % N_SETS];
    csm_context *ctx;
    if (_i % 2 == 0) { /* through the environment, read at creation */
        setenv("CLSOFTMAX_CL_OPTIONS", options, 1);
        ctx = test_context();
        unsetenv("CLSOFTMAX_CL_OPTIONS");
    } else { /* through the options API */
        ctx = test_context();
        ck_assert_int_eq(csm_context_set_option(ctx, "cl_options", options), CSM_OK);
    }
    if ((size_t)_i >= N_SETS)
        hook_device_type(ctx, "gpu");
    logbuf *log = calloc(1, sizeof *log);
    ck_assert_ptr_nonnull(log);
    csm_context_set_log_callback(ctx, collect, log);
    static const char *const paths[3] = {"clblast", "fused", "tiled"};
    for (int pi = 0; pi < 2; pi++) {
        const csm_precision prec = pi ? CSM_FLOAT64 : CSM_FLOAT32;
        if (prec == CSM_FLOAT64 && !test_has_fp64(ctx))
            continue;
        problem p = problem_make(21, 11, 4, prec, pi, 3);
        /* the same rows as bytes (value byte / 255) */
        unsigned char *xb = problem_bytes(&p);
        for (int path = 0; path < 3; path++) {
            ck_assert_int_eq(csm_context_set_option(ctx, "path", paths[path]), CSM_OK);
            for (int u8 = 0; u8 < 2; u8++) {
                csm_dataset *d = NULL;
                ck_assert_int_eq(csm_dataset_create(ctx, &d, prec, u8 ? (const void *)xb : p.X,
                                                    u8 ? CSM_DTYPE_U8 : CSM_DTYPE_F64, p.n, p.k,
                                                    p.y, p.T, p.C),
                                 CSM_OK);
                csm_model *m = problem_model(&p, ctx);
                /* bytes widen to within an ulp of the reference's X */
                check_gradient(m, d, &p);
                exercise(ctx, m, d, &p);
                csm_model_free(m);
                csm_dataset_free(d);
            }
        }
        /* the same matrix in CSR form: every non-zero of the dense one */
        int64_t *rp = malloc((p.n + 1) * sizeof *rp);
        int32_t *ci = malloc(p.n * p.k * sizeof *ci);
        double *v = malloc(p.n * p.k * sizeof *v);
        ck_assert(rp && ci && v);
        size_t nnz = 0;
        rp[0] = 0;
        for (size_t i = 0; i < p.n; i++) {
            for (size_t j = 0; j < p.k; j++)
                if (p.X[i * p.k + j] != 0) {
                    ci[nnz] = (int32_t)j;
                    v[nnz++] = p.X[i * p.k + j];
                }
            rp[i + 1] = (int64_t)nnz;
        }
        csm_dataset *ds = NULL;
        ck_assert_int_eq(csm_dataset_create_csr(ctx, &ds, prec, p.n, p.k, rp, ci, v, p.y, p.T, p.C),
                         CSM_OK);
        csm_model *m = problem_model(&p, ctx);
        check_gradient(m, ds, &p);
        exercise(ctx, m, ds, &p);
        csm_model_free(m);
        csm_dataset_free(ds);
        free(rp), free(ci), free(v), free(xb);
        problem_free(&p);
    }
    /* every file was built, and every build had the options */
    for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
        char want[64];
        snprintf(want, sizeof want, "built %s ", files[f]);
        ck_assert_msg(strstr(log->text, want) != NULL, "%s never built:\n%s", files[f], log->text);
    }
    if ((size_t)_i >= N_SETS) /* the GPU variants did build */
        ck_assert_msg(strstr(log->text, "-DFL=64 ") && strstr(log->text, "-DVEC_CONTIG=0 "),
                      "no GPU variants:\n%s", log->text);
    for (const char *line = log->text; *line;) {
        const char *end = strchr(line, '\n');
        char one[1024];
        snprintf(one, sizeof one, "%.*s", (int)(end - line), line);
        ck_assert_msg(strstr(one, options) != NULL, "built without %s: %s", options, one);
        line = end + 1;
    }
    csm_context_free(ctx);
    free(log);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("portable");
    TCase *tc = tcase_create("options");
    tcase_set_timeout(tc, CSM_DEVICE_TIMEOUT);
    tcase_add_loop_test(tc, test_every_kernel_builds, 0, (int)(2 * N_SETS));
    suite_add_tcase(s, tc);
    return csm_test_main(s, 1);
}
