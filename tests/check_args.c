/* Every argument is checked first, with a specific status and a message. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "problem.h"
#include "testutil.h"

#define EXPECT(call, status)                                                                   \
    do {                                                                                       \
        csm_status st_ = (call);                                                               \
        ck_assert_msg(st_ == (status), "%s: got %s, want %s (%s)", #call,                      \
                      csm_status_string(st_), csm_status_string(status),                      \
                      csm_context_last_error(ctx));                                            \
    } while (0)

START_TEST(test_dataset_arguments)
{
    csm_context *ctx = test_context();
    csm_dataset *d = NULL;
    double X[6] = {1, 2, 3, 4, 5, 6}, T[6] = {0.5, 0.5, 0, 1, 0.2, 0.8};
    int32_t y[3] = {0, 1, 1};
    EXPECT(csm_dataset_create(NULL, &d, CSM_FLOAT32, X, CSM_DTYPE_F64, 3, 2, y, NULL, 2), CSM_ERR_NULL_ARGUMENT);
    EXPECT(csm_dataset_create(ctx, NULL, CSM_FLOAT32, X, CSM_DTYPE_F64, 3, 2, y, NULL, 2), CSM_ERR_NULL_ARGUMENT);
    EXPECT(csm_dataset_create(ctx, &d, CSM_FLOAT32, NULL, CSM_DTYPE_F64, 3, 2, y, NULL, 2), CSM_ERR_NULL_ARGUMENT);
    EXPECT(csm_dataset_create(ctx, &d, CSM_FLOAT32, X, CSM_DTYPE_F64, 0, 2, y, NULL, 2), CSM_ERR_INVALID_SIZE);
    EXPECT(csm_dataset_create(ctx, &d, CSM_FLOAT32, X, CSM_DTYPE_F64, 3, 0, y, NULL, 2), CSM_ERR_INVALID_SIZE);
    EXPECT(csm_dataset_create(ctx, &d, CSM_FLOAT32, X, CSM_DTYPE_F64, 3, 2, y, NULL, 1), CSM_ERR_INVALID_SIZE);
    EXPECT(csm_dataset_create(ctx, &d, CSM_FLOAT32, X, CSM_DTYPE_F64, 3, 2, NULL, NULL, 2), CSM_ERR_INVALID_SIZE);
    EXPECT(csm_dataset_create(ctx, &d, CSM_FLOAT32, X, CSM_DTYPE_F64, 3, 2, y, T, 2), CSM_ERR_INVALID_VALUE);
    EXPECT(csm_dataset_create(ctx, &d, (csm_precision)7, X, CSM_DTYPE_F64, 3, 2, y, NULL, 2), CSM_ERR_INVALID_VALUE);
    EXPECT(csm_dataset_create(ctx, &d, CSM_FLOAT32, X, (csm_dtype)9, 3, 2, y, NULL, 2), CSM_ERR_INVALID_VALUE);
    EXPECT(csm_dataset_create(ctx, &d, CSM_FLOAT32, X, CSM_DTYPE_F64, (size_t)1 << 40, 2, y, NULL, 2), CSM_ERR_INVALID_SIZE);
    /* label range, both ends */
    int32_t bad_hi[3] = {0, 2, 1}, bad_lo[3] = {0, -1, 1};
    EXPECT(csm_dataset_create(ctx, &d, CSM_FLOAT32, X, CSM_DTYPE_F64, 3, 2, bad_hi, NULL, 2), CSM_ERR_LABEL_RANGE);
    ck_assert_msg(strstr(csm_context_last_error(ctx), "sample 1") != NULL, "%s", csm_context_last_error(ctx));
    EXPECT(csm_dataset_create(ctx, &d, CSM_FLOAT32, X, CSM_DTYPE_F64, 3, 2, bad_lo, NULL, 2), CSM_ERR_LABEL_RANGE);
    /* NaN / Inf features, in each dtype that can hold them */
    double Xn[6] = {1, 2, 3, NAN, 5, 6};
    float Xi[6] = {1, 2, 3, 4, INFINITY, 6};
    EXPECT(csm_dataset_create(ctx, &d, CSM_FLOAT32, Xn, CSM_DTYPE_F64, 3, 2, y, NULL, 2), CSM_ERR_NONFINITE);
    ck_assert_msg(strstr(csm_context_last_error(ctx), "feature 1 of sample 1") != NULL, "%s", csm_context_last_error(ctx));
    EXPECT(csm_dataset_create(ctx, &d, CSM_FLOAT32, Xi, CSM_DTYPE_F32, 3, 2, y, NULL, 2), CSM_ERR_NONFINITE);
    /* soft targets: negative, not summing to one, NaN */
    double Tneg[6] = {1.5, -0.5, 0, 1, 0.2, 0.8}, Tsum[6] = {0.5, 0.4, 0, 1, 0.2, 0.8}, Tnan[6] = {NAN, 1, 0, 1, 0, 1};
    EXPECT(csm_dataset_create(ctx, &d, CSM_FLOAT32, X, CSM_DTYPE_F64, 3, 2, NULL, Tneg, 2), CSM_ERR_TARGETS);
    EXPECT(csm_dataset_create(ctx, &d, CSM_FLOAT32, X, CSM_DTYPE_F64, 3, 2, NULL, Tsum, 2), CSM_ERR_TARGETS);
    EXPECT(csm_dataset_create(ctx, &d, CSM_FLOAT32, X, CSM_DTYPE_F64, 3, 2, NULL, Tnan, 2), CSM_ERR_NONFINITE);
    ck_assert_ptr_null(d);
    EXPECT(csm_dataset_create(ctx, &d, CSM_FLOAT32, X, CSM_DTYPE_F64, 3, 2, NULL, T, 2), CSM_OK);
    ck_assert_uint_eq(csm_dataset_n_samples(d), 3);
    ck_assert_uint_eq(csm_dataset_n_features(d), 2);
    ck_assert_uint_eq(csm_dataset_n_classes(d), 2);
    csm_dataset_free(d);
    csm_dataset_free(NULL);
    csm_context_free(ctx);
}
END_TEST

START_TEST(test_model_arguments)
{
    csm_context *ctx = test_context();
    csm_model *m = NULL;
    EXPECT(csm_model_create(NULL, &m, CSM_FLOAT32, 2, 2), CSM_ERR_NULL_ARGUMENT);
    EXPECT(csm_model_create(ctx, NULL, CSM_FLOAT32, 2, 2), CSM_ERR_NULL_ARGUMENT);
    EXPECT(csm_model_create(ctx, &m, CSM_FLOAT32, 1, 2), CSM_ERR_INVALID_SIZE);
    EXPECT(csm_model_create(ctx, &m, CSM_FLOAT32, 2, 0), CSM_ERR_INVALID_SIZE);
    EXPECT(csm_model_create(ctx, &m, CSM_FLOAT32, (size_t)1 << 20, (size_t)1 << 20), CSM_ERR_INVALID_SIZE);
    EXPECT(csm_model_create(ctx, &m, (csm_precision)3, 2, 2), CSM_ERR_INVALID_VALUE);
    if (!csm_context_device(ctx)->has_fp64)
        EXPECT(csm_model_create(ctx, &m, CSM_FLOAT64, 2, 2), CSM_ERR_NO_FP64);
    EXPECT(csm_model_create(ctx, &m, CSM_FLOAT32, 3, 2), CSM_OK);
    double W[6] = {0}, b[3] = {0};
    EXPECT(csm_model_set_params(m, NULL, b), CSM_ERR_NULL_ARGUMENT);
    W[4] = NAN;
    EXPECT(csm_model_set_params(m, W, b), CSM_ERR_NONFINITE);
    W[4] = 0;
    b[2] = -INFINITY;
    EXPECT(csm_model_set_params(m, W, b), CSM_ERR_NONFINITE);
    EXPECT(csm_model_get_params(m, NULL, NULL), CSM_ERR_NULL_ARGUMENT);
    EXPECT(csm_model_init(m, (csm_init)5, 1), CSM_ERR_INVALID_VALUE);
    int64_t labels_bad[3] = {1, 1, 2}, labels_ok[3] = {-1, 3, 10};
    EXPECT(csm_model_set_labels(m, labels_bad), CSM_ERR_INVALID_VALUE);
    EXPECT(csm_model_set_labels(m, NULL), CSM_ERR_NULL_ARGUMENT);
    EXPECT(csm_model_set_labels(m, labels_ok), CSM_OK);
    ck_assert(csm_model_labels(m)[2] == 10);
    EXPECT(csm_model_set_metadata(m, "labels", "[1]"), CSM_ERR_INVALID_VALUE);
    EXPECT(csm_model_set_metadata(m, "", "x"), CSM_ERR_NULL_ARGUMENT);
    EXPECT(csm_model_set_metadata(m, "note", "a"), CSM_OK);
    EXPECT(csm_model_set_metadata(m, "note", "b"), CSM_OK);
    ck_assert_str_eq(csm_model_get_metadata(m, "note"), "b");
    ck_assert_uint_eq(csm_model_metadata_count(m), 1);
    EXPECT(csm_model_set_metadata(m, "note", NULL), CSM_OK);
    ck_assert_ptr_null(csm_model_get_metadata(m, "note"));
    csm_model_free(m);
    csm_model_free(NULL);
    csm_context_free(ctx);
}
END_TEST

START_TEST(test_op_arguments)
{
    csm_context *ctx = test_context();
    problem p = problem_make(5, 3, 2, CSM_FLOAT32, 0, 1);
    csm_dataset *d = problem_dataset(&p, ctx);
    csm_model *m = problem_model(&p, ctx);
    double out[10], loss, dW[6], db[2];
    int32_t cls[5];
    EXPECT(csm_forward(m, NULL, out, NULL), CSM_ERR_NULL_ARGUMENT);
    EXPECT(csm_forward(m, d, NULL, NULL), CSM_ERR_NULL_ARGUMENT);
    ck_assert_int_eq(csm_forward(NULL, d, out, NULL), CSM_ERR_NULL_ARGUMENT);
    EXPECT(csm_loss(m, d, INFINITY, NULL), CSM_ERR_NULL_ARGUMENT);
    EXPECT(csm_loss(m, d, -1, &loss), CSM_ERR_INVALID_VALUE);
    EXPECT(csm_loss(m, d, 0, &loss), CSM_ERR_INVALID_VALUE);
    EXPECT(csm_loss(m, d, NAN, &loss), CSM_ERR_INVALID_VALUE);
    EXPECT(csm_gradient(m, d, INFINITY, NULL, NULL, NULL), CSM_ERR_NULL_ARGUMENT);
    EXPECT(csm_predict(m, d, NULL), CSM_ERR_NULL_ARGUMENT);
    EXPECT(csm_predict_proba(m, d, NULL), CSM_ERR_NULL_ARGUMENT);
    /* a dataset without targets can predict but not train */
    csm_dataset *nt = NULL;
    EXPECT(csm_dataset_create(ctx, &nt, CSM_FLOAT32, p.X, CSM_DTYPE_F64, 5, 3, NULL, NULL, 0), CSM_OK);
    EXPECT(csm_predict(m, nt, cls), CSM_OK);
    EXPECT(csm_loss(m, nt, INFINITY, &loss), CSM_ERR_NO_TARGETS);
    EXPECT(csm_gradient(m, nt, INFINITY, &loss, dW, db), CSM_ERR_NO_TARGETS);
    csm_train_options o;
    csm_train_options_init(&o, sizeof o);
    EXPECT(csm_train(m, nt, &o, NULL), CSM_ERR_NO_TARGETS);
    /* shape mismatches */
    csm_model *m4 = NULL, *k4 = NULL;
    EXPECT(csm_model_create(ctx, &m4, CSM_FLOAT32, 4, 3), CSM_OK);
    EXPECT(csm_model_create(ctx, &k4, CSM_FLOAT32, 2, 4), CSM_OK);
    EXPECT(csm_loss(m4, d, INFINITY, &loss), CSM_ERR_MISMATCH);
    EXPECT(csm_predict(k4, d, cls), CSM_ERR_MISMATCH);
    ck_assert_msg(strstr(csm_context_last_error(ctx), "features") != NULL, "%s", csm_context_last_error(ctx));
    if (csm_context_device(ctx)->has_fp64) {
        csm_model *m64 = NULL;
        EXPECT(csm_model_create(ctx, &m64, CSM_FLOAT64, 2, 3), CSM_OK);
        EXPECT(csm_loss(m64, d, INFINITY, &loss), CSM_ERR_MISMATCH);
        csm_model_free(m64);
    }
    csm_model_free(m4);
    csm_model_free(k4);
    csm_dataset_free(nt);
    csm_model_free(m);
    csm_dataset_free(d);
    problem_free(&p);
    csm_context_free(ctx);
}
END_TEST

START_TEST(test_train_options)
{
    csm_context *ctx = test_context();
    problem p = problem_make(5, 3, 2, CSM_FLOAT32, 0, 1);
    csm_dataset *d = problem_dataset(&p, ctx);
    csm_model *m = problem_model(&p, ctx);
    csm_train_options o;
    csm_train_options_init(&o, sizeof o);
    ck_assert_int_eq(o.solver, CSM_LBFGS);
    ck_assert_int_eq(o.max_iter, 1000);
    ck_assert(o.tol == 1e-4 && o.C == 1.0 && o.lbfgs_memory == 10);
    ck_assert(o.learning_rate == 0 && o.batch_size == 256 && o.shuffle == 1 && o.resume == 0);
    ck_assert_int_eq(o.fit_intercept, 1);
    ck_assert(csm_default_learning_rate(CSM_SGD) == 0.1 && csm_default_learning_rate(CSM_ADAM) == 0.001);
    EXPECT(csm_train(m, d, NULL, NULL), CSM_ERR_NULL_ARGUMENT);
#define BAD_OPTION(field, value)                                                               \
    do {                                                                                       \
        csm_train_options_init(&o, sizeof o);                                                            \
        o.field = value;                                                                       \
        o.solver = CSM_SGD;                                                                    \
        EXPECT(csm_train(m, d, &o, NULL), CSM_ERR_INVALID_VALUE);                              \
    } while (0)
    BAD_OPTION(max_iter, 0);
    BAD_OPTION(learning_rate, -0.1);
    BAD_OPTION(learning_rate, NAN);
    BAD_OPTION(C, 0);
    BAD_OPTION(C, -INFINITY);
    BAD_OPTION(C, -1);
    BAD_OPTION(C, NAN);
    BAD_OPTION(tol, -1e-3);
    BAD_OPTION(tol, NAN);
    BAD_OPTION(n_iter_no_change, 0);
    BAD_OPTION(fit_intercept, 2);
    ck_assert_msg(strstr(csm_context_last_error(ctx), "fit_intercept is 2, must be 0 or 1"), "%s",
                  csm_context_last_error(ctx));
    BAD_OPTION(fit_intercept, -1);
    csm_train_options_init(&o, sizeof o);
    o.solver = (csm_solver)9;
    EXPECT(csm_train(m, d, &o, NULL), CSM_ERR_INVALID_VALUE);
    csm_train_options_init(&o, sizeof o);
    o.lbfgs_memory = 0;
    EXPECT(csm_train(m, d, &o, NULL), CSM_ERR_INVALID_VALUE);
    csm_train_options_init(&o, sizeof o);
    o.max_linesearch = 0;
    EXPECT(csm_train(m, d, &o, NULL), CSM_ERR_INVALID_VALUE);
    csm_train_options_init(&o, sizeof o);
    o.solver = CSM_MOMENTUM;
    o.momentum = 1.0;
    EXPECT(csm_train(m, d, &o, NULL), CSM_ERR_INVALID_VALUE);
    csm_train_options_init(&o, sizeof o);
    o.solver = CSM_ADAM;
    o.epsilon = 0;
    EXPECT(csm_train(m, d, &o, NULL), CSM_ERR_INVALID_VALUE);
    ck_assert_str_eq(csm_solver_name(CSM_LBFGS), "lbfgs");
    ck_assert_int_eq(csm_solver_from_name("adam"), CSM_ADAM);
    ck_assert_int_eq(csm_solver_from_name("newton"), CSM_NEWTON);
    ck_assert_int_eq(csm_solver_from_name("tron"), -1);
    ck_assert_ptr_null(csm_solver_name((csm_solver)7));
    /* a learning rate that blows the weights up is reported, not returned as NaN */
    double big[6] = {1e20, -1e20, 3e20, 1e20, -2e20, 1e20};
    int32_t yb[2] = {0, 1};
    csm_dataset *db = NULL;
    EXPECT(csm_dataset_create(ctx, &db, CSM_FLOAT32, big, CSM_DTYPE_F64, 2, 3, yb, NULL, 2), CSM_OK);
    csm_train_options_init(&o, sizeof o);
    o.solver = CSM_SGD;
    o.learning_rate = 1e30; /* W steps of ~1e50: past float's range */
    o.max_iter = 3;
    o.batch_size = 0;
    EXPECT(csm_train(m, db, &o, NULL), CSM_ERR_NONFINITE);
    ck_assert_msg(strstr(csm_context_last_error(ctx), "diverged") != NULL, "%s", csm_context_last_error(ctx));
    csm_dataset_free(db);
    csm_model_free(m);
    csm_dataset_free(d);
    problem_free(&p);
    csm_context_free(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("args");
    TCase *tc = tcase_create("args");
    tcase_set_timeout(tc, CSM_DEVICE_TIMEOUT);
    tcase_add_test(tc, test_dataset_arguments);
    tcase_add_test(tc, test_model_arguments);
    tcase_add_test(tc, test_op_arguments);
    tcase_add_test(tc, test_train_options);
    suite_add_tcase(s, tc);
    return csm_test_main(s, 1);
}
