/* CSR datasets give the results of the dense dataset of the same matrix:
 * forward, loss, gradient (with L2 and sample weights), predict, evaluate,
 * and training with L-BFGS and with shuffled and unshuffled minibatches,
 * at odd sizes with empty rows, an empty column and a single-non-zero row;
 * float32 and float64; the dense side on both dense paths (the per-path
 * suite), block seams of the CSC gradient, and bad CSR input. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "problem.h"
#include "reference.h"
#include "testutil.h"

typedef struct sparse_problem {
    size_t n, k, C, nnz;
    double *X;       /* (n, k) dense, the same numbers */
    int64_t *row_ptr;
    int32_t *col;
    double *val;
    int32_t *y;
    double *T;       /* soft targets or NULL */
} sparse_problem;

/* About `density` of the entries non-zero; row 1 empty, row 2 a single
 * non-zero, column k - 2 empty; columns of odd rows listed in reverse
 * (unsorted input). Values rounded to the precision. */
static sparse_problem sp_make(size_t n, size_t k, size_t C, double density, csm_precision prec,
                              int soft, uint64_t seed)
{
    sparse_problem p = {n, k, C, 0, NULL, NULL, NULL, NULL, NULL, NULL};
    p.X = calloc(n * k, sizeof *p.X);
    p.row_ptr = calloc(n + 1, sizeof *p.row_ptr);
    p.col = malloc((n * k + 1) * sizeof *p.col);
    p.val = malloc((n * k + 1) * sizeof *p.val);
    p.y = malloc(n * sizeof *p.y);
    for (size_t i = 0; i < n; i++) {
        size_t first = p.nnz;
        for (size_t j = 0; j < k; j++) {
            double u;
            csm_fill_uniform(&u, 1, &seed, 0, 1);
            int keep = i == 1 ? 0 : i == 2 ? j == k / 2 : (u < density && j != k - 2);
            if (!keep)
                continue;
            double v;
            csm_fill_uniform(&v, 1, &seed, -2, 2);
            if (prec == CSM_FLOAT32)
                v = (double)(float)v;
            p.X[i * k + j] = v;
            p.col[p.nnz] = (int32_t)j;
            p.val[p.nnz++] = v;
        }
        if (i % 2) /* reverse: the library must sort */
            for (size_t a = first, b = p.nnz; a + 1 < b; a++, b--) {
                int32_t tc = p.col[a];
                double tv = p.val[a];
                p.col[a] = p.col[b - 1], p.val[a] = p.val[b - 1];
                p.col[b - 1] = tc, p.val[b - 1] = tv;
            }
        p.row_ptr[i + 1] = (int64_t)p.nnz;
        p.y[i] = (int32_t)(csm_test_rand(&seed) % C);
    }
    if (soft) {
        p.T = malloc(n * C * sizeof *p.T);
        for (size_t i = 0; i < n; i++) {
            double s = 0;
            csm_fill_uniform(p.T + i * C, C, &seed, 0.05, 1);
            for (size_t c = 0; c < C; c++)
                s += p.T[i * C + c];
            for (size_t c = 0; c < C; c++)
                p.T[i * C + c] /= s;
        }
    }
    return p;
}

static void sp_free(sparse_problem *p)
{
    free(p->X), free(p->row_ptr), free(p->col), free(p->val), free(p->y), free(p->T);
}

static void sp_datasets(const sparse_problem *p, csm_context *ctx, csm_precision prec,
                        csm_dataset **dense, csm_dataset **sparse)
{
    const int32_t *y = p->T ? NULL : p->y;
    ck_assert_int_eq(csm_dataset_create(ctx, dense, prec, p->X, CSM_DTYPE_F64, p->n, p->k, y, p->T,
                                        p->C),
                     CSM_OK);
    ck_assert_int_eq(csm_dataset_create_csr(ctx, sparse, prec, p->n, p->k, p->row_ptr, p->col,
                                            p->val, y, p->T, p->C),
                     CSM_OK);
    ck_assert(csm_dataset_is_sparse(*sparse) && !csm_dataset_is_sparse(*dense));
    ck_assert_uint_eq(csm_dataset_nnz(*sparse), p->nnz);
}

static double atol_for(csm_precision p) { return p == CSM_FLOAT32 ? 2e-5 : 1e-12; }
static double rtol_for(csm_precision p) { return p == CSM_FLOAT32 ? 1e-4 : 1e-10; }

static void expect_same(const double *a, const double *b, size_t n, csm_precision prec,
                        double scale, const char *what)
{
    size_t at;
    double worst = csm_worst(a, b, n, scale * atol_for(prec), scale * rtol_for(prec), &at);
    ck_assert_msg(worst <= 1, "%s[%zu]: sparse %.12g dense %.12g", what, at, a[at], b[at]);
}

/* forward, loss, gradient (L2, weights), predict, evaluate */
START_TEST(test_sparse_ops_equal_dense)
{
    csm_context *ctx = test_context();
    static const size_t shapes[][3] = {{7, 5, 3}, {93, 31, 2}, {13, 300, 100}};
    for (int pi = 0; pi < 2; pi++) {
        csm_precision prec = pi ? CSM_FLOAT64 : CSM_FLOAT32;
        if (prec == CSM_FLOAT64 && !test_has_fp64(ctx))
            continue;
        for (size_t s = 0; s < 3; s++)
            for (int soft = 0; soft < 2; soft++) {
                const size_t n = shapes[s][0], k = shapes[s][1], C = shapes[s][2];
                sparse_problem p = sp_make(n, k, C, 0.3, prec, soft, 100 + s);
                csm_dataset *dd, *ds;
                sp_datasets(&p, ctx, prec, &dd, &ds);
                problem q = problem_make(1, k, C, prec, 0, 7 + s); /* random W, b */
                csm_model *m = problem_model(&q, ctx);
                double *a = malloc(n * C * sizeof *a), *b = malloc(n * C * sizeof *b);
                ck_assert_int_eq(csm_forward(m, ds, a, NULL), CSM_OK);
                ck_assert_int_eq(csm_forward(m, dd, b, NULL), CSM_OK);
                expect_same(a, b, n * C, prec, 1, "logits");
                ck_assert_int_eq(csm_predict_proba(m, ds, a), CSM_OK);
                ck_assert_int_eq(csm_predict_proba(m, dd, b), CSM_OK);
                expect_same(a, b, n * C, prec, 1, "probs");
                int32_t *pa = malloc(n * sizeof *pa), *pb = malloc(n * sizeof *pb);
                ck_assert_int_eq(csm_predict(m, ds, pa), CSM_OK);
                ck_assert_int_eq(csm_predict(m, dd, pb), CSM_OK);
                /* the logits agree to rounding; classes may differ only on a near tie */
                size_t differ = 0;
                for (size_t i = 0; i < n; i++)
                    differ += pa[i] != pb[i];
                ck_assert_msg(differ <= (prec == CSM_FLOAT32 ? 1 : 0), "%zu predictions differ", differ);
                double *wts = malloc(n * sizeof *wts);
                uint64_t ws = 5;
                csm_fill_uniform(wts, n, &ws, 0.1, 2.0);
                for (int weighted = 0; weighted < 2; weighted++) {
                    if (weighted) {
                        ck_assert_int_eq(csm_dataset_set_weights(ds, wts), CSM_OK);
                        ck_assert_int_eq(csm_dataset_set_weights(dd, wts), CSM_OK);
                    }
                    double Ja, Jb, *ga = malloc((C * k + C) * sizeof *ga),
                                   *gb = malloc((C * k + C) * sizeof *gb);
                    ck_assert_int_eq(csm_gradient(m, ds, test_C(ds, 0.01), &Ja, ga, ga + C * k), CSM_OK);
                    ck_assert_int_eq(csm_gradient(m, dd, test_C(dd, 0.01), &Jb, gb, gb + C * k), CSM_OK);
                    expect_same(&Ja, &Jb, 1, prec, 1, "J");
                    expect_same(ga, gb, C * k + C, prec, 1, "gradient");
                    /* and against the reference, densified here */
                    double *gr = malloc((C * k + C) * sizeof *gr);
                    ref_backward(gr, gr + C * k, p.X, p.T ? NULL : p.y, p.T, weighted ? wts : NULL,
                                 q.W, q.b, n, k, C, 0.01);
                    expect_same(ga, gr, C * k + C, prec, 1, "gradient vs reference");
                    double la, lb, aa, ab;
                    ck_assert_int_eq(csm_evaluate(m, ds, &la, &aa), CSM_OK);
                    ck_assert_int_eq(csm_evaluate(m, dd, &lb, &ab), CSM_OK);
                    expect_same(&la, &lb, 1, prec, 1, "eval loss");
                    ck_assert(fabs(aa - ab) <= (prec == CSM_FLOAT32 ? 1.0 / (double)n : 0));
                    free(ga), free(gb), free(gr);
                }
                free(a), free(b), free(pa), free(pb), free(wts);
                csm_model_free(m);
                problem_free(&q);
                csm_dataset_free(dd);
                csm_dataset_free(ds);
                sp_free(&p);
            }
    }
    csm_context_free(ctx);
}
END_TEST

/* The CSC gradient over blocks of 4 rows (block seams fall inside the
 * columns' row lists) equals one pass. */
START_TEST(test_sparse_block_seams)
{
    csm_context *ctx = test_context();
    csm_precision prec = test_has_fp64(ctx) ? CSM_FLOAT64 : CSM_FLOAT32;
    sparse_problem p = sp_make(29, 11, 4, 0.4, prec, 0, 9);
    csm_dataset *dd, *ds;
    sp_datasets(&p, ctx, prec, &dd, &ds);
    problem q = problem_make(1, 11, 4, prec, 0, 3);
    csm_model *m = problem_model(&q, ctx);
    double ga[48], gb[48], Ja, Jb;
    ck_assert_int_eq(csm_gradient(m, dd, INFINITY, &Jb, gb, gb + 44), CSM_OK);
    ck_assert_int_eq(csm_context_set_option(ctx, "block_rows", "4"), CSM_OK);
    ck_assert_int_eq(csm_gradient(m, ds, INFINITY, &Ja, ga, ga + 44), CSM_OK);
    ck_assert_int_eq(csm_context_set_option(ctx, "block_rows", NULL), CSM_OK);
    expect_same(&Ja, &Jb, 1, prec, 1, "J");
    expect_same(ga, gb, 48, prec, 1, "gradient");
    csm_model_free(m);
    problem_free(&q);
    csm_dataset_free(dd);
    csm_dataset_free(ds);
    sp_free(&p);
    csm_context_free(ctx);
}
END_TEST

/* Training: L-BFGS to the same optimum; SGD over unshuffled minibatches
 * (contiguous blocks: CSC gradient with a row offset) and Adam over
 * shuffled ones (row walk through the permutation) to the same weights. */
START_TEST(test_sparse_training_equals_dense)
{
    csm_context *ctx = test_context();
    for (int pi = 0; pi < 2; pi++) {
        csm_precision prec = pi ? CSM_FLOAT64 : CSM_FLOAT32;
        if (prec == CSM_FLOAT64 && !test_has_fp64(ctx))
            continue;
        sparse_problem p = sp_make(61, 23, 5, 0.25, prec, 0, 77);
        csm_dataset *dd, *ds;
        sp_datasets(&p, ctx, prec, &dd, &ds);
        for (int mode = 0; mode < 3; mode++) {
            double w[2][120], b[2][5], J[2];
            /* the CSR and dense chunks of a streamed dataset differ, and so
             * do their minibatches (L-BFGS, mode 0, has been compared) */
            if (mode > 0 && (csm_dataset_chunks(dd) || csm_dataset_chunks(ds))) {
                csm_dataset_free(dd);
                csm_dataset_free(ds);
                sp_free(&p);
                csm_context_free(ctx);
                CSM_TEST_SKIP("the datasets stream (CLSOFTMAX_MAX_ALLOC, tests/stream_env.sh): "
                              "minibatches follow each one's chunks");
            }
            for (int side = 0; side < 2; side++) {
                csm_model *m = NULL;
                ck_assert_int_eq(csm_model_create(ctx, &m, prec, 5, 23), CSM_OK);
                csm_train_options o;
                csm_train_options_init(&o, sizeof o);
                if (mode == 0) {
                    o.tol = prec == CSM_FLOAT64 ? 1e-9 : 1e-5;
                } else {
                    o.solver = mode == 1 ? CSM_SGD : CSM_ADAM;
                    o.max_iter = 3;
                    o.tol = 0;
                    o.batch_size = 8;
                    o.shuffle = mode == 2;
                    o.learning_rate = mode == 1 ? 0.3 : 0.02;
                }
                csm_train_result r = {.struct_size = sizeof r};
                ck_assert_int_eq(csm_train(m, side ? dd : ds, &o, &r), CSM_OK);
                J[side] = r.objective;
                ck_assert_int_eq(csm_model_get_params(m, w[side], b[side]), CSM_OK);
                csm_model_free(m);
            }
            /* float32 steps compound rounding: 3 epochs x 8 steps */
            double scale = mode == 0 ? 1 : 24;
            if (mode == 0) {
                /* one optimum: compare J (W itself only as far as tol fixes it) */
                ck_assert_msg(fabs(J[0] - J[1]) <= (prec == CSM_FLOAT64 ? 1e-11 : 1e-6) * J[1],
                              "lbfgs J sparse %.15g dense %.15g", J[0], J[1]);
            } else {
                expect_same(w[0], w[1], 115, prec, scale, mode == 1 ? "sgd W" : "adam W");
                expect_same(b[0], b[1], 5, prec, scale, mode == 1 ? "sgd b" : "adam b");
            }
        }
        csm_dataset_free(dd);
        csm_dataset_free(ds);
        sp_free(&p);
    }
    csm_context_free(ctx);
}
END_TEST

/* Bad CSR input, each with its status; a matrix with no non-zeros at all
 * is valid (every logit is the bias). */
START_TEST(test_sparse_bad_input)
{
    csm_context *ctx = test_context();
    csm_dataset *d = NULL;
    int64_t rp[4] = {0, 2, 3, 4};
    int32_t col[4] = {0, 2, 1, 3};
    double val[4] = {1, 2, 3, 4};
    int32_t y[3] = {0, 1, 0};
#define CSR(...) csm_dataset_create_csr(ctx, &d, CSM_FLOAT32, 3, 4, __VA_ARGS__)
    ck_assert_int_eq(CSR(rp, col, val, y, NULL, 2), CSM_OK);
    csm_dataset_free(d);
    ck_assert_int_eq(CSR(NULL, col, val, y, NULL, 2), CSM_ERR_NULL_ARGUMENT);
    ck_assert_int_eq(CSR(rp, NULL, val, y, NULL, 2), CSM_ERR_NULL_ARGUMENT);
    col[1] = 4; /* outside [0, k) */
    ck_assert_int_eq(CSR(rp, col, val, y, NULL, 2), CSM_ERR_INVALID_VALUE);
    col[1] = -1;
    ck_assert_int_eq(CSR(rp, col, val, y, NULL, 2), CSM_ERR_INVALID_VALUE);
    col[1] = 0; /* row 0 has column 0 twice */
    ck_assert_int_eq(CSR(rp, col, val, y, NULL, 2), CSM_ERR_INVALID_VALUE);
    ck_assert_msg(strstr(csm_context_last_error(ctx), "twice") != NULL, "%s", csm_context_last_error(ctx));
    col[1] = 2;
    val[2] = NAN;
    ck_assert_int_eq(CSR(rp, col, val, y, NULL, 2), CSM_ERR_NONFINITE);
    val[2] = 3;
    rp[2] = 1; /* decreasing */
    ck_assert_int_eq(CSR(rp, col, val, y, NULL, 2), CSM_ERR_INVALID_VALUE);
    rp[2] = 3;
    rp[0] = 1;
    ck_assert_int_eq(CSR(rp, col, val, y, NULL, 2), CSM_ERR_INVALID_VALUE);
    rp[0] = 0;
    y[1] = 2;
    ck_assert_int_eq(CSR(rp, col, val, y, NULL, 2), CSM_ERR_LABEL_RANGE);
    y[1] = 1;
    ck_assert_int_eq(csm_dataset_create_csr(ctx, &d, CSM_FLOAT32, 0, 4, rp, col, val, y, NULL, 2),
                     CSM_ERR_INVALID_SIZE);
    /* no non-zeros */
    int64_t zero[4] = {0, 0, 0, 0};
    ck_assert_int_eq(CSR(zero, NULL, NULL, y, NULL, 2), CSM_OK);
    csm_model *m = NULL;
    ck_assert_int_eq(csm_model_create(ctx, &m, CSM_FLOAT32, 2, 4), CSM_OK);
    double bias[2] = {0.5, -0.5}, W[8] = {1, 1, 1, 1, 1, 1, 1, 1}, logits[6];
    ck_assert_int_eq(csm_model_set_params(m, W, bias), CSM_OK);
    ck_assert_int_eq(csm_forward(m, d, logits, NULL), CSM_OK);
    for (int i = 0; i < 3; i++)
        ck_assert(logits[2 * i] == 0.5 && logits[2 * i + 1] == -0.5);
    csm_train_result r = {.struct_size = sizeof r};
    csm_train_options o;
    csm_train_options_init(&o, sizeof o);
    ck_assert_int_eq(csm_train(m, d, &o, &r), CSM_OK);
    ck_assert(r.converged);
    csm_model_free(m);
    csm_dataset_free(d);
#undef CSR
    csm_context_free(ctx);
}
END_TEST

/* Rows already sorted are read from the caller's arrays, rows out of
 * order through a sorted copy (dataset_csr.c): the same rows given either
 * way make the same dataset, bit for bit in the gradient, over one block
 * and over blocks of 5 rows (the sparse path's transposed weights in the
 * gradient's buffer for the first block, in its own for the others). */
START_TEST(test_sparse_sorted_or_not)
{
    csm_context *ctx = test_context();
    const csm_precision prec = CSM_FLOAT32;
    sparse_problem p = sp_make(31, 9, 6, 0.5, prec, 0, 21); /* odd rows reversed */
    int64_t *rp = malloc((p.n + 1) * sizeof *rp);
    int32_t *col = malloc((p.nnz + 1) * sizeof *col);
    double *val = malloc((p.nnz + 1) * sizeof *val);
    size_t nz = 0;
    rp[0] = 0;
    for (size_t i = 0; i < p.n; i++) {
        for (size_t j = 0; j < p.k; j++)
            if (p.X[i * p.k + j] != 0) {
                col[nz] = (int32_t)j;
                val[nz++] = p.X[i * p.k + j];
            }
        rp[i + 1] = (int64_t)nz;
    }
    ck_assert_uint_eq(nz, p.nnz);
    csm_dataset *du = NULL, *ds = NULL;
    ck_assert_int_eq(csm_dataset_create_csr(ctx, &du, prec, p.n, p.k, p.row_ptr, p.col, p.val,
                                            p.y, NULL, p.C),
                     CSM_OK);
    ck_assert_int_eq(
        csm_dataset_create_csr(ctx, &ds, prec, p.n, p.k, rp, col, val, p.y, NULL, p.C), CSM_OK);
    problem q = problem_make(1, p.k, p.C, prec, 0, 4);
    csm_model *m = problem_model(&q, ctx);
    const size_t P = p.C * p.k + p.C;
    double *ga = malloc(P * sizeof *ga), *gb = malloc(P * sizeof *gb), Ja, Jb;
    for (int blocks = 0; blocks < 2; blocks++) {
        ck_assert_int_eq(csm_context_set_option(ctx, "block_rows", blocks ? "5" : NULL), CSM_OK);
        ck_assert_int_eq(csm_gradient(m, du, 1.0, &Ja, ga, ga + p.C * p.k), CSM_OK);
        ck_assert_int_eq(csm_gradient(m, ds, 1.0, &Jb, gb, gb + p.C * p.k), CSM_OK);
        ck_assert_msg(Ja == Jb, "J %.17g unsorted, %.17g sorted", Ja, Jb);
        ck_assert_msg(memcmp(ga, gb, P * sizeof *ga) == 0, "the gradients differ (blocks %d)",
                      blocks);
    }
    ck_assert_int_eq(csm_context_set_option(ctx, "block_rows", NULL), CSM_OK);
    free(ga), free(gb), free(rp), free(col), free(val);
    csm_model_free(m);
    problem_free(&q);
    csm_dataset_free(du);
    csm_dataset_free(ds);
    sp_free(&p);
    csm_context_free(ctx);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        test_sparse_ops_equal_dense,
        test_sparse_block_seams,
        test_sparse_sorted_or_not,
        test_sparse_training_equals_dense,
        test_sparse_bad_input,
    };
    Suite *s = csm_suite_per_path("sparse", tests, sizeof tests / sizeof *tests);
    return csm_test_main(s, 1);
}
