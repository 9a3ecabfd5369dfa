/* Contexts as process-wide citizens: options are read from the environment
 * once, at creation, and set through csm_context_set_option() afterwards;
 * two contexts train at the same time from two threads with the results
 * of a single-threaded run; freeing one context leaves another's work
 * intact. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "problem.h"
#include "testutil.h"

static const char *const all_options[] = {"path",       "calibrate",  "cache_dir",
                                          "split_k",    "block_rows", "cl_options",
                                          "kernel_dir", "profile"};
#define N_OPTIONS (sizeof all_options / sizeof *all_options)

static void expect_option(csm_context *ctx, const char *name, const char *want)
{
    char v[4096];
    ck_assert_int_eq(csm_context_get_option(ctx, name, v, sizeof v), CSM_OK);
    ck_assert_msg(!strcmp(v, want), "option %s is '%s', want '%s'", name, v, want);
}

/* Every option round-trips; bad values and names are refused and leave
 * the option as it was; NULL, "" and "auto" restore the default. */
START_TEST(test_options_set_get)
{
    unsetenv("CLSOFTMAX_PATH");
    unsetenv("CLSOFTMAX_SPLIT_K");
    unsetenv("CLSOFTMAX_BLOCK_ROWS");
    unsetenv("CLSOFTMAX_CL_OPTIONS");
    unsetenv("CLSOFTMAX_CALIBRATE");
    csm_context *ctx = test_context();
    expect_option(ctx, "path", "auto");
    expect_option(ctx, "split_k", "auto");
    expect_option(ctx, "block_rows", "auto");
    expect_option(ctx, "calibrate", "auto");
    expect_option(ctx, "cl_options", "");
    static const char *const good[][2] = {
        {"path", "fused"},           {"path", "tiled"},
        {"path", "clblast"},         {"calibrate", "off"},
        {"calibrate", "always"},     {"cache_dir", "/tmp/csm-options-test"},
        {"split_k", "1024"},
        {"block_rows", "7"},         {"cl_options", "-cl-opt-disable"},
        {"kernel_dir", "/tmp/csm-kernels"}, {"profile", "on"},
        {"profile", "off"},          {"profile", "on"}};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        ck_assert_int_eq(csm_context_set_option(ctx, good[i][0], good[i][1]), CSM_OK);
        expect_option(ctx, good[i][0], good[i][1]);
    }
    static const char *const bad[][2] = {
        {"path", "sparse"},     {"path", "FUSED"},          {"calibrate", "sometimes"},
        {"split_k", "0"},       {"split_k", "1025"},        {"split_k", "-1"},
        {"split_k", "3x"},      {"block_rows", "0"},        {"block_rows", " 5"},
        {"block_rows", "99999999999999999999"}, {"profile", "yes"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char before[4096];
        ck_assert_int_eq(csm_context_get_option(ctx, bad[i][0], before, sizeof before), CSM_OK);
        ck_assert_msg(csm_context_set_option(ctx, bad[i][0], bad[i][1]) == CSM_ERR_INVALID_VALUE,
                      "%s = '%s' accepted", bad[i][0], bad[i][1]);
        char name[64];
        snprintf(name, sizeof name, "option %s", bad[i][0]);
        ck_assert_msg(strstr(csm_context_last_error(ctx), name) != NULL, "%s",
                      csm_context_last_error(ctx));
        expect_option(ctx, bad[i][0], before);
    }
    char huge[5000];
    memset(huge, 'x', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    ck_assert_int_eq(csm_context_set_option(ctx, "cl_options", huge), CSM_ERR_INVALID_VALUE);
    ck_assert_int_eq(csm_context_set_option(ctx, "kernel_dir", huge), CSM_ERR_INVALID_VALUE);
    ck_assert_int_eq(csm_context_set_option(ctx, "no_such_option", "1"), CSM_ERR_INVALID_VALUE);
    ck_assert_int_eq(csm_context_set_option(ctx, NULL, "1"), CSM_ERR_NULL_ARGUMENT);
    ck_assert_int_eq(csm_context_set_option(NULL, "path", "fused"), CSM_ERR_NULL_ARGUMENT);
    char v[8];
    ck_assert_int_eq(csm_context_get_option(ctx, "no_such_option", v, sizeof v),
                     CSM_ERR_INVALID_VALUE);
    ck_assert_int_eq(csm_context_get_option(ctx, "path", NULL, 8), CSM_ERR_NULL_ARGUMENT);
    ck_assert_int_eq(csm_context_get_option(ctx, NULL, v, sizeof v), CSM_ERR_NULL_ARGUMENT);
    ck_assert_int_eq(csm_context_get_option(NULL, "path", v, sizeof v), CSM_ERR_NULL_ARGUMENT);
    ck_assert_int_eq(csm_context_get_option(ctx, "cache_dir", v, sizeof v), CSM_ERR_INVALID_SIZE);
    /* defaults back: NULL and "" for every option, "auto" where it is a value */
    const char *resets[3] = {NULL, "", "auto"};
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const int is_text = !strcmp(all_options[i], "cache_dir") ||
                            !strcmp(all_options[i], "cl_options") ||
                            !strcmp(all_options[i], "kernel_dir");
        ck_assert_int_eq(csm_context_set_option(ctx, all_options[i], resets[i % (is_text ? 2 : 3)]),
                         CSM_OK);
    }
    expect_option(ctx, "path", "auto");
    expect_option(ctx, "split_k", "auto");
    /* the tiled path's geometry is no user knob (tests reach it, hooks.h) */
    ck_assert_int_eq(csm_context_set_option(ctx, "tile", "4,5,6,64,4"), CSM_ERR_INVALID_VALUE);
    ck_assert_int_eq(csm_context_get_option(ctx, "tile", v, sizeof v), CSM_ERR_INVALID_VALUE);
    expect_option(ctx, "block_rows", "auto");
    expect_option(ctx, "calibrate", "auto");
    expect_option(ctx, "cl_options", "");
    expect_option(ctx, "kernel_dir", "");
    expect_option(ctx, "profile", "off");
    csm_context_free(ctx);
}
END_TEST

/* ------------------------------------------------------------ profile */

typedef struct log_lines {
    int epoch1, epoch2, kernel, final;
} log_lines;

static void count_profile_lines(csm_log_level level, const char *message, void *user)
{
    log_lines *l = user;
    if (level != CSM_LOG_INFO || strncmp(message, "profile of ", 11) != 0)
        return;
    l->epoch1 += strstr(message, "profile of epoch 1:") != NULL;
    l->epoch2 += strstr(message, "profile of epoch 2:") != NULL;
    l->final += strstr(message, "profile of the final objective:") != NULL;
    /* a kernel's line: launches x groups, its time */
    l->kernel += strstr(message, " groups ") != NULL && strstr(message, " ms ") != NULL;
}

/* The "profile" option logs each epoch's device time per kernel, and
 * changes nothing it measures: the model is the one trained without it,
 * bit for bit, on every dense path. */
START_TEST(test_profile_logs_and_changes_nothing)
{
    static const char *const paths[] = {"fused", "tiled", "clblast"};
    const size_t n = 93, k = 17, C = 7;
    problem p = problem_make(n, k, C, CSM_FLOAT32, 0, 5);
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        double W[2][7 * 17], b[2][7];
        log_lines lines = {0};
        for (int on = 0; on < 2; on++) {
            csm_context *ctx = test_context();
            csm_context_set_log_callback(ctx, count_profile_lines, &lines);
            ck_assert_int_eq(csm_context_set_option(ctx, "path", paths[i]), CSM_OK);
            ck_assert_int_eq(csm_context_set_option(ctx, "profile", on ? "on" : "off"), CSM_OK);
            csm_dataset *d = NULL;
            csm_model *m = NULL;
            ck_assert_int_eq(csm_dataset_create(ctx, &d, CSM_FLOAT32, p.X, CSM_DTYPE_F64, n, k,
                                                p.y, NULL, C),
                             CSM_OK);
            ck_assert_int_eq(csm_model_create(ctx, &m, CSM_FLOAT32, C, k), CSM_OK);
            csm_train_options o;
            csm_train_options_init(&o, sizeof o);
            o.solver = CSM_SGD;
            o.max_iter = 2;
            o.tol = 0;
            o.batch_size = 16;
            ck_assert_int_eq(csm_train(m, d, &o, NULL), CSM_OK);
            ck_assert_int_eq(csm_model_get_params(m, W[on], b[on]), CSM_OK);
            csm_model_free(m);
            csm_dataset_free(d);
            csm_context_free(ctx);
            if (!on)
                ck_assert_msg(lines.epoch1 + lines.epoch2 + lines.final == 0,
                              "%s path: profile lines without the option", paths[i]);
        }
        ck_assert_msg(lines.epoch1 >= 2 && lines.epoch2 >= 2 && lines.final >= 2,
                      "%s path: profile lines epoch 1: %d, epoch 2: %d, final: %d", paths[i],
                      lines.epoch1, lines.epoch2, lines.final);
        ck_assert_int_ge(lines.kernel, 3);
        ck_assert_msg(!memcmp(W[0], W[1], sizeof W[0]) && !memcmp(b[0], b[1], sizeof b[0]),
                      "%s path: profiling changed the model", paths[i]);
    }
    problem_free(&p);
}
END_TEST

/* The environment is read at creation, once: later changes do not reach
 * the context; a malformed variable fails the creation and is named. */
START_TEST(test_environment_read_once)
{
    setenv("CLSOFTMAX_SPLIT_K", "3", 1);
    setenv("CLSOFTMAX_BLOCK_ROWS", "11", 1);
    setenv("CLSOFTMAX_PATH", "fused", 1);
    setenv("CLSOFTMAX_CL_OPTIONS", "-cl-std=CL1.2", 1);
    csm_context *ctx = test_context();
    setenv("CLSOFTMAX_SPLIT_K", "5", 1);
    unsetenv("CLSOFTMAX_BLOCK_ROWS");
    setenv("CLSOFTMAX_PATH", "no such path", 1);
    expect_option(ctx, "split_k", "3");
    expect_option(ctx, "block_rows", "11");
    expect_option(ctx, "path", "fused");
    expect_option(ctx, "cl_options", "-cl-std=CL1.2");
    /* and it is used: a loss on the fused path, whatever the variable says now */
    problem p = problem_make(20, 5, 3, CSM_FLOAT32, 0, 8);
    csm_dataset *d = problem_dataset(&p, ctx);
    csm_model *m = problem_model(&p, ctx);
    double loss;
    ck_assert_msg(csm_loss(m, d, INFINITY, &loss) == CSM_OK, "%s", csm_context_last_error(ctx));
    csm_model_free(m);
    csm_dataset_free(d);
    problem_free(&p);
    csm_context_free(ctx);

    static const char *const bad[][2] = {{"CLSOFTMAX_PATH", "no such path"},
                                         {"CLSOFTMAX_SPLIT_K", "0"},
                                         {"CLSOFTMAX_BLOCK_ROWS", "many"},
                                         {"CLSOFTMAX_CALIBRATE", "never"}};
    unsetenv("CLSOFTMAX_PATH");
    unsetenv("CLSOFTMAX_SPLIT_K");
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        setenv(bad[i][0], bad[i][1], 1);
        char err[512] = "";
        csm_context *c = NULL;
        ck_assert_int_eq(csm_context_create(&c, NULL, err, sizeof err), CSM_ERR_INVALID_VALUE);
        ck_assert_ptr_null(c);
        ck_assert_msg(strstr(err, bad[i][0]) && strstr(err, bad[i][1]), "%s", err);
        unsetenv(bad[i][0]);
    }
}
END_TEST

/* ------------------------------------------------------------ threads */

/* One training run: its own context, data and model; results or a status,
 * never an assertion (Check's are for the test's own thread). */
typedef struct run {
    const char *path;
    csm_solver solver;
    csm_precision prec;
    uint64_t seed;
    csm_status st;
    char err[512];
    double W[7 * 31], b[7], objective;
} run;

static void *train_run(void *arg)
{
    run *r = arg;
    const size_t n = 300, k = 31, C = 7;
    problem p = problem_make(n, k, C, r->prec, 0, r->seed);
    csm_context *ctx = NULL;
    csm_dataset *d = NULL;
    csm_model *m = NULL;
    r->st = csm_context_create(&ctx, NULL, r->err, sizeof r->err);
    if (r->st == CSM_OK) r->st = csm_context_set_option(ctx, "path", r->path);
    if (r->st == CSM_OK)
        r->st = csm_dataset_create(ctx, &d, r->prec, p.X, CSM_DTYPE_F64, n, k, p.y, NULL, C);
    if (r->st == CSM_OK) r->st = csm_model_create(ctx, &m, r->prec, C, k);
    if (r->st == CSM_OK) r->st = csm_model_init(m, CSM_INIT_NORMAL, r->seed);
    csm_train_options o;
    csm_train_options_init(&o, sizeof o);
    o.solver = r->solver;
    o.max_iter = r->solver == CSM_LBFGS ? 30 : 4;
    o.batch_size = 32;
    o.seed = r->seed;
    csm_train_result res = {.struct_size = sizeof res};
    if (r->st == CSM_OK) r->st = csm_train(m, d, &o, &res);
    if (r->st == CSM_OK) r->st = csm_model_get_params(m, r->W, r->b);
    if (r->st == CSM_OK)
        r->objective = res.objective;
    else if (ctx)
        snprintf(r->err, sizeof r->err, "%s", csm_context_last_error(ctx));
    csm_model_free(m);
    csm_dataset_free(d);
    csm_context_free(ctx);
    problem_free(&p);
    return NULL;
}

/* L-BFGS on the fused path and shuffled Adam on the CLBlast path (whose
 * GEMMs come from CLBlast's process-wide cache), at once in two threads:
 * each the weights of the same run made alone, bit for bit. */
START_TEST(test_two_contexts_two_threads)
{
    run alone[2] = {{"fused", CSM_LBFGS, CSM_FLOAT32, 3, CSM_OK, "", {0}, {0}, 0},
                    {"clblast", CSM_ADAM, CSM_FLOAT32, 4, CSM_OK, "", {0}, {0}, 0}};
    run together[2];
    memcpy(together, alone, sizeof together);
    for (int i = 0; i < 2; i++) {
        train_run(&alone[i]);
        ck_assert_msg(alone[i].st == CSM_OK, "%s alone: %s", alone[i].path, alone[i].err);
    }
    for (int round = 0; round < 2; round++) {
        pthread_t th[2];
        for (int i = 0; i < 2; i++)
            ck_assert_int_eq(pthread_create(&th[i], NULL, train_run, &together[i]), 0);
        for (int i = 0; i < 2; i++)
            ck_assert_int_eq(pthread_join(th[i], NULL), 0);
        for (int i = 0; i < 2; i++) {
            ck_assert_msg(together[i].st == CSM_OK, "%s in a thread: %s", together[i].path,
                          together[i].err);
            ck_assert_msg(!memcmp(together[i].W, alone[i].W, sizeof alone[i].W) &&
                              !memcmp(together[i].b, alone[i].b, sizeof alone[i].b),
                          "%s: the threaded run's weights differ from the run alone",
                          alone[i].path);
            ck_assert(together[i].objective == alone[i].objective);
        }
    }
}
END_TEST

/* A freed context takes nothing another one uses with it: CLBlast GEMMs of
 * the survivor still run (and give the same gradient) after the other
 * context, which compiled the same GEMMs, is gone. */
START_TEST(test_free_leaves_other_context)
{
    problem p = problem_make(40, 9, 4, CSM_FLOAT32, 0, 21);
    csm_context *ctx[2];
    csm_dataset *d[2];
    csm_model *m[2];
    double g[2][40], again[40];
    for (int i = 0; i < 2; i++) {
        ctx[i] = test_context();
        ck_assert_int_eq(csm_context_set_option(ctx[i], "path", "clblast"), CSM_OK);
        d[i] = problem_dataset(&p, ctx[i]);
        m[i] = problem_model(&p, ctx[i]);
        ck_assert_int_eq(csm_gradient(m[i], d[i], INFINITY, NULL, g[i], g[i] + 36), CSM_OK);
    }
    ck_assert(!memcmp(g[0], g[1], sizeof g[0]));
    csm_model_free(m[0]);
    csm_dataset_free(d[0]);
    csm_context_free(ctx[0]);
    ck_assert_msg(csm_gradient(m[1], d[1], INFINITY, NULL, again, again + 36) == CSM_OK, "%s",
                  csm_context_last_error(ctx[1]));
    ck_assert(!memcmp(again, g[1], sizeof again));
    csm_model_free(m[1]);
    csm_dataset_free(d[1]);
    csm_context_free(ctx[1]);
    problem_free(&p);
}
END_TEST

/* cl_options adds compiler options, never redefines the kernels' macros
 * (-DNCLASS=2 once silently built a wrong model): a -D or -U of a name the
 * library defines for the build, or of one the sources test or define,
 * fails the first build with CSM_ERR_INVALID_VALUE naming it; a macro of
 * the user's own and other options build, with the same results. */
START_TEST(test_cl_options_own_macros)
{
    problem p = problem_make(23, 5, 3, CSM_FLOAT32, 0, 8);
    static const char *const refused[][2] = {
        {"-DCMAX=2", "-DCMAX would redefine CMAX"},
        {"-D FL=5", "-DFL would redefine FL"},
        {"-cl-opt-disable -UREAL", "-UREAL would undefine REAL"},
        {"-DCSM_WG=32", "-DCSM_WG would redefine CSM_WG"},
        {"-DCSM_HAS_LABELS", "(the kernels' sources use it)"},
    };
    double ref = 0;
    for (size_t i = 0; i < sizeof refused / sizeof *refused + 2; i++) {
        csm_context *ctx = test_context();
        const int ok = i >= sizeof refused / sizeof *refused;
        const size_t j = ok ? i - sizeof refused / sizeof *refused : 0; /* 0: none, 1: own */
        const char *opt = !ok ? refused[i][0] : j ? "-DCSM_USER_MACRO=1 -cl-opt-disable" : "";
        ck_assert_int_eq(csm_context_set_option(ctx, "cl_options", opt), CSM_OK);
        csm_dataset *d = problem_dataset(&p, ctx);
        csm_model *m = problem_model(&p, ctx);
        double loss = 0;
        csm_status st = csm_loss(m, d, test_C(d, 0.1), &loss);
        if (ok) {
            ck_assert_msg(st == CSM_OK, "%s: %s", opt, csm_context_last_error(ctx));
            if (j == 0)
                ref = loss;
            else
                ck_assert_msg(fabs(loss - ref) <= 1e-6 * fabs(ref), "%.9g vs %.9g", loss, ref);
        } else {
            ck_assert_int_eq(st, CSM_ERR_INVALID_VALUE);
            ck_assert_msg(strstr(csm_context_last_error(ctx), refused[i][1]) &&
                              strstr(csm_context_last_error(ctx), "CLSOFTMAX_CL_OPTIONS"),
                          "%s: %s", opt, csm_context_last_error(ctx));
        }
        csm_model_free(m);
        csm_dataset_free(d);
        csm_context_free(ctx);
    }
    problem_free(&p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("context");
    TCase *tc = tcase_create("options");
    tcase_set_timeout(tc, CSM_DEVICE_TIMEOUT);
    tcase_add_test(tc, test_options_set_get);
    tcase_add_test(tc, test_environment_read_once);
    tcase_add_test(tc, test_cl_options_own_macros);
    tcase_add_test(tc, test_profile_logs_and_changes_nothing);
    suite_add_tcase(s, tc);
    tc = tcase_create("threads");
    tcase_set_timeout(tc, CSM_DEVICE_TIMEOUT);
    tcase_add_test(tc, test_two_contexts_two_threads);
    tcase_add_test(tc, test_free_leaves_other_context);
    suite_add_tcase(s, tc);
    return csm_test_main(s, 1);
}
