/* Streaming (src/stream.c): a dataset over the "max_alloc" cap lives on
 * the host and streams through the device in chunks; every operation, on
 * every path and storage, must give what the resident dataset of the same
 * rows gives, up to summation order (float64: 1e-10 relative); minibatch
 * epochs must follow the documented sampling; bad caps are refused. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "problem.h"
#include "reference.h"
#include "rng.h"
#include "testutil.h"

enum { F32, F64, U8, CSR, N_KINDS };
static const char *const kind_names[] = {"f32", "f64", "u8", "csr"};

static double atol_for(csm_precision p) { return p == CSM_FLOAT32 ? 2e-5 : 1e-12; }
static double rtol_for(csm_precision p) { return p == CSM_FLOAT32 ? 1e-4 : 1e-10; }

/* Host rows of one storage kind; X holds the values the device sees. */
typedef struct data {
    problem p;
    int kind;
    unsigned char *bytes; /* U8 */
    int64_t *row_ptr;     /* CSR */
    int32_t *col_idx;
    double *values;
} data;

static data data_make(int kind, size_t n, size_t k, size_t C, csm_precision prec, int soft,
                      uint64_t seed)
{
    data D = {problem_make(n, k, C, prec, soft, seed), kind, NULL, NULL, NULL, NULL};
    uint64_t s = seed * 7 + 1;
    if (kind == U8) {
        D.bytes = malloc(n * k);
        for (size_t i = 0; i < n * k; i++) {
            D.bytes[i] = (unsigned char)(csm_test_rand(&s) % 256);
            D.p.X[i] = prec == CSM_FLOAT32 ? (double)(float)(D.bytes[i] / 255.0) : D.bytes[i] / 255.0;
        }
    }
    if (kind == CSR) {
        /* about half the entries zero, and an empty row */
        D.row_ptr = malloc((n + 1) * sizeof *D.row_ptr);
        D.col_idx = malloc(n * k * sizeof *D.col_idx);
        D.values = malloc(n * k * sizeof *D.values);
        D.row_ptr[0] = 0;
        for (size_t i = 0; i < n; i++) {
            int64_t q = D.row_ptr[i];
            for (size_t j = 0; j < k; j++) {
                if (i == 3 || csm_test_rand(&s) % 2) {
                    D.p.X[i * k + j] = 0;
                    continue;
                }
                D.col_idx[q] = (int32_t)j;
                D.values[q++] = D.p.X[i * k + j];
            }
            D.row_ptr[i + 1] = q;
        }
    }
    return D;
}

static void data_free(data *D)
{
    problem_free(&D->p);
    free(D->bytes);
    free(D->row_ptr);
    free(D->col_idx);
    free(D->values);
}

/* The dataset under cap (NULL: no cap), or the status of its creation. */
static csm_status data_dataset(const data *D, csm_context *ctx, const char *cap,
                               csm_dataset **out)
{
    ck_assert_int_eq(csm_context_set_option(ctx, "max_alloc", cap), CSM_OK);
    const problem *p = &D->p;
    const size_t C = p->C;
    csm_status st;
    if (D->kind == CSR) {
        st = csm_dataset_create_csr(ctx, out, p->prec, p->n, p->k, D->row_ptr, D->col_idx,
                                    D->values, p->y, p->T, C);
    } else if (D->kind == U8) {
        st = csm_dataset_create(ctx, out, p->prec, D->bytes, CSM_DTYPE_U8, p->n, p->k, p->y, p->T,
                                C);
    } else if (D->kind == F32) {
        float *x = malloc(p->n * p->k * sizeof *x);
        for (size_t i = 0; i < p->n * p->k; i++)
            x[i] = (float)p->X[i];
        st = csm_dataset_create(ctx, out, p->prec, x, CSM_DTYPE_F32, p->n, p->k, p->y, p->T, C);
        free(x);
    } else {
        st = csm_dataset_create(ctx, out, p->prec, p->X, CSM_DTYPE_F64, p->n, p->k, p->y, p->T, C);
    }
    csm_context_set_option(ctx, "max_alloc", NULL);
    return st;
}

/* The smallest cap (in steps of 16 bytes) that streams D in chunks of at
 * least `rows` rows. */
static size_t cap_for_rows(const data *D, csm_context *ctx, size_t rows)
{
    for (size_t cap = 64;; cap += 16) {
        char v[32];
        snprintf(v, sizeof v, "%zu", cap);
        csm_dataset *d = NULL;
        ck_assert_int_eq(data_dataset(D, ctx, v, &d), CSM_OK);
        const size_t got = csm_stream_max_rows(d);
        ck_assert_msg(csm_dataset_chunks(d) > 1, "%s data resident under a cap of %zu bytes",
                      kind_names[D->kind], cap);
        csm_dataset_free(d);
        if (got >= rows)
            return cap;
        ck_assert_uint_lt(cap, (size_t)1 << 30);
    }
}

static void expect_close(const char *what, const double *got, const double *want, size_t n,
                         csm_precision prec, double scale)
{
    size_t at = 0;
    double worst = csm_worst(got, want, n, scale * atol_for(prec), scale * rtol_for(prec), &at);
    ck_assert_msg(worst <= 1, "%s: [%zu] streamed %.17g resident %.17g", what, at, got[at],
                  want[at]);
}

/* Every whole-dataset operation on the streamed ds against the resident dr. */
static void compare_ops(csm_model *m, csm_dataset *dr, csm_dataset *ds, const char *what)
{
    const size_t n = csm_dataset_n_samples(dr), C = csm_model_n_classes(m);
    const size_t k = csm_model_n_features(m);
    const csm_precision prec = csm_model_precision(m);
    double *a = malloc(2 * n * C * sizeof *a), *b = malloc(2 * n * C * sizeof *b);
    int32_t *ca = malloc(n * sizeof *ca), *cb = malloc(n * sizeof *cb);
    char msg[160];
    ck_assert_int_eq(csm_forward(m, dr, a, a + n * C), CSM_OK);
    ck_assert_int_eq(csm_forward(m, ds, b, b + n * C), CSM_OK);
    snprintf(msg, sizeof msg, "%s: logits and probabilities", what);
    expect_close(msg, b, a, 2 * n * C, prec, 1);
    ck_assert_int_eq(csm_predict_proba(m, ds, b), CSM_OK);
    snprintf(msg, sizeof msg, "%s: predict_proba", what);
    expect_close(msg, b, a + n * C, n * C, prec, 1);
    ck_assert_int_eq(csm_predict(m, dr, ca), CSM_OK);
    ck_assert_int_eq(csm_predict(m, ds, cb), CSM_OK);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(ca[i] == cb[i], "%s: predict row %zu: %d vs %d", what, i, cb[i], ca[i]);
    double la, lb, acc_a, acc_b;
    ck_assert_int_eq(csm_loss(m, dr, test_C(dr, 0.01), &la), CSM_OK);
    ck_assert_int_eq(csm_loss(m, ds, test_C(ds, 0.01), &lb), CSM_OK);
    snprintf(msg, sizeof msg, "%s: loss", what);
    expect_close(msg, &lb, &la, 1, prec, 1);
    ck_assert_int_eq(csm_evaluate(m, dr, &la, &acc_a), CSM_OK);
    ck_assert_int_eq(csm_evaluate(m, ds, &lb, &acc_b), CSM_OK);
    snprintf(msg, sizeof msg, "%s: evaluate", what);
    expect_close(msg, &lb, &la, 1, prec, 1);
    ck_assert_msg(acc_a == acc_b, "%s: accuracy %g vs %g", what, acc_b, acc_a);
    ck_assert_int_eq(csm_gradient(m, dr, test_C(dr, 0.01), &la, a, a + C * k), CSM_OK);
    ck_assert_int_eq(csm_gradient(m, ds, test_C(ds, 0.01), &lb, b, b + C * k), CSM_OK);
    snprintf(msg, sizeof msg, "%s: gradient", what);
    expect_close(msg, b, a, C * k + C, prec, 1);
    expect_close(msg, &lb, &la, 1, prec, 1);
    free(a);
    free(b);
    free(ca);
    free(cb);
}

static int skip_fp64(csm_context *ctx, csm_precision prec)
{
    return prec == CSM_FLOAT64 && !test_has_fp64(ctx);
}

/* Every op, both precisions, every storage, every dense path, at two caps:
 * at least 3 rows per chunk (n = 53, a prime: the last chunk short) and one
 * row (a cap of 1 byte: a chunk is at least one row). */
START_TEST(test_ops_equal_resident)
{
    csm_context *ctx = test_context();
    static const char *const paths[] = {"fused", "tiled", "clblast"};
    for (int pi = 0; pi < 2; pi++) {
        const csm_precision prec = pi ? CSM_FLOAT64 : CSM_FLOAT32;
        if (skip_fp64(ctx, prec))
            continue;
        for (int kind = 0; kind < N_KINDS; kind++) {
            data D = data_make(kind, 53, 9, 4, prec, kind == F64, 100 + kind);
            csm_dataset *dr = NULL;
            ck_assert_int_eq(data_dataset(&D, ctx, NULL, &dr), CSM_OK);
            ck_assert_uint_eq(csm_dataset_chunks(dr), 0);
            csm_model *m = problem_model(&D.p, ctx);
            const size_t some = cap_for_rows(&D, ctx, 3);
            for (int ci = 0; ci < 2; ci++) {
                char cap[32];
                snprintf(cap, sizeof cap, "%zu", ci ? (size_t)1 : some);
                csm_dataset *ds = NULL;
                ck_assert_int_eq(data_dataset(&D, ctx, cap, &ds), CSM_OK);
                const size_t chunks = csm_dataset_chunks(ds);
                ck_assert_uint_gt(chunks, 1);
                if (ci)
                    ck_assert_uint_eq(chunks, 53);
                for (int path = 0; path < (kind == CSR ? 1 : 3); path++) {
                    if (kind != CSR)
                        ck_assert_int_eq(csm_context_set_option(ctx, "path", paths[path]), CSM_OK);
                    char what[128];
                    snprintf(what, sizeof what, "%s %s, %zu chunks, %s path", kind_names[kind],
                             pi ? "float64" : "float32", chunks, kind == CSR ? "sparse" : paths[path]);
                    const size_t before = csm_stream_uploads(ds);
                    compare_ops(m, dr, ds, what);
                    /* the chunks moved: at least once per pass after the first */
                    ck_assert_uint_gt(csm_stream_uploads(ds), before);
                }
                ck_assert_int_eq(csm_context_set_option(ctx, "path", NULL), CSM_OK);
                /* sample weights reach the chunks too */
                double *w = malloc(53 * sizeof *w);
                for (size_t i = 0; i < 53; i++)
                    w[i] = 0.25 + (double)(i % 5);
                ck_assert_int_eq(csm_dataset_set_weights(dr, w), CSM_OK);
                ck_assert_int_eq(csm_dataset_set_weights(ds, w), CSM_OK);
                ck_assert(csm_dataset_has_weights(ds));
                ck_assert(csm_dataset_weight_sum(ds) == csm_dataset_weight_sum(dr));
                compare_ops(m, dr, ds, "weighted");
                ck_assert_int_eq(csm_dataset_set_weights(dr, NULL), CSM_OK);
                ck_assert_int_eq(csm_dataset_set_weights(ds, NULL), CSM_OK);
                ck_assert(!csm_dataset_has_weights(ds));
                compare_ops(m, dr, ds, "weights removed");
                free(w);
                char choice[128];
                ck_assert_int_eq(csm_calibrate(m, ds, 0, choice, sizeof choice), CSM_OK);
                csm_dataset_free(ds);
            }
            csm_model_free(m);
            csm_dataset_free(dr);
            data_free(&D);
        }
    }
    csm_context_free(ctx);
}
END_TEST

static void expect_same_model(csm_model *a, csm_model *b, double scale, const char *what)
{
    const size_t C = csm_model_n_classes(a), k = csm_model_n_features(a);
    double *pa = malloc((C * k + C) * sizeof *pa), *pb = malloc((C * k + C) * sizeof *pb);
    ck_assert_int_eq(csm_model_get_params(a, pa, pa + C * k), CSM_OK);
    ck_assert_int_eq(csm_model_get_params(b, pb, pb + C * k), CSM_OK);
    expect_close(what, pb, pa, C * k + C, csm_model_precision(a), scale);
    free(pa);
    free(pb);
}

/* L-BFGS (csm_objective over the chunks) and full-batch SGD (one
 * accumulated gradient per step) train the resident model. */
START_TEST(test_training_equal_resident)
{
    csm_context *ctx = test_context();
    for (int pi = 0; pi < 2; pi++) {
        const csm_precision prec = pi ? CSM_FLOAT64 : CSM_FLOAT32;
        if (skip_fp64(ctx, prec))
            continue;
        for (int kind = F64; kind <= CSR; kind += CSR - F64) {
            data D = data_make(kind, 61, 6, 3, prec, 0, 300 + kind);
            csm_dataset *dr = NULL, *ds = NULL;
            ck_assert_int_eq(data_dataset(&D, ctx, NULL, &dr), CSM_OK);
            ck_assert_int_eq(data_dataset(&D, ctx, "1K", &ds), CSM_OK);
            ck_assert_uint_gt(csm_dataset_chunks(ds), 2);
            for (int solver = 0; solver < 2; solver++) {
                csm_model *mr = problem_model(&D.p, ctx), *ms = problem_model(&D.p, ctx);
                csm_train_options o;
                csm_train_options_init(&o, sizeof o);
                if (solver == 0) {
                    o.solver = CSM_LBFGS;
                    o.max_iter = 12;
                    o.tol = 0;
                } else {
                    o.solver = CSM_SGD;
                    o.batch_size = 0;
                    o.max_iter = 6;
                    o.tol = 0;
                    o.learning_rate = 0.5;
                }
                csm_train_result rr = {.struct_size = sizeof rr}, rs = {.struct_size = sizeof rs};
                ck_assert_int_eq(csm_train(mr, dr, &o, &rr), CSM_OK);
                ck_assert_int_eq(csm_train(ms, ds, &o, &rs), CSM_OK);
                ck_assert_int_eq(rr.n_iter, rs.n_iter);
                char what[96];
                snprintf(what, sizeof what, "%s %s %s", solver ? "full-batch SGD" : "L-BFGS",
                         kind_names[kind], pi ? "float64" : "float32");
                /* float32: twelve iterations from rows summed in other blocks */
                expect_same_model(mr, ms, pi ? 1 : 10, what);
                expect_close(what, &rs.objective, &rr.objective, 1, prec, 1);
                csm_model_free(mr);
                csm_model_free(ms);
            }
            csm_dataset_free(dr);
            csm_dataset_free(ds);
            data_free(&D);
        }
    }
    csm_context_free(ctx);
}
END_TEST

/* The documented sampling, reimplemented here: per epoch e, the chunks in
 * an order shuffled by the stream (seed, e), then each visited chunk's
 * rows shuffled by the same stream; batches of B rows within a chunk. */
static void host_epoch(const size_t *row0, size_t nchunks, uint64_t seed, uint64_t epoch,
                       int32_t *order, int32_t *rows)
{
    csm_rng r;
    csm_rng_seed_stream(&r, seed, epoch);
    for (size_t c = 0; c < nchunks; c++)
        order[c] = (int32_t)c;
    csm_rng_shuffle(&r, order, nchunks);
    size_t pos = 0;
    for (size_t p = 0; p < nchunks; p++) {
        size_t c = (size_t)order[p], len = row0[c + 1] - row0[c];
        int32_t *local = rows + pos;
        for (size_t i = 0; i < len; i++)
            local[i] = (int32_t)i;
        csm_rng_shuffle(&r, local, len);
        for (size_t i = 0; i < len; i++)
            local[i] += (int32_t)row0[c];
        pos += len;
    }
}

/* One storage on one path (NULL: CSR's own). */
static void minibatch_case(csm_context *ctx, csm_precision prec, int kind, const char *path)
{
    const size_t n = 47, k = 5, C = 3;
    data D = data_make(kind, n, k, C, prec, 0, 77);
    csm_dataset *ds = NULL;
    char cap[32];
    /* 8-bit staging counts a widened copy: fewer rows fit under a cap that streams */
    snprintf(cap, sizeof cap, "%zu", cap_for_rows(&D, ctx, kind == U8 ? 3 : 5));
    ck_assert_int_eq(data_dataset(&D, ctx, cap, &ds), CSM_OK);
    ck_assert_int_eq(csm_context_set_option(ctx, "path", path), CSM_OK);
    const size_t R = csm_stream_max_rows(ds), nchunks = csm_dataset_chunks(ds);
    size_t *row0 = malloc((nchunks + 1) * sizeof *row0);
    for (size_t c = 0; c <= nchunks; c++)
        row0[c] = csm_stream_row0(ds, c);
    if (kind != CSR) {
        /* dense chunks: R rows each, the last one short (n is prime) */
        ck_assert_uint_eq(nchunks, (n + R - 1) / R);
        for (size_t c = 0; c <= nchunks; c++)
            ck_assert_uint_eq(row0[c], c * R < n ? c * R : n);
    }
    ck_assert_uint_eq(row0[0], 0);
    ck_assert_uint_eq(row0[nchunks], n);
    int32_t *order = malloc(nchunks * sizeof *order), *rows = malloc(n * sizeof *rows);
    int32_t *lib_order = malloc(nchunks * sizeof *order), *lib_perm = malloc(n * sizeof *rows);
    int *seen = calloc(n, sizeof *seen);
    /* the library's order is the documented one, and a permutation */
    for (uint64_t e = 0; e < 3; e++) {
        host_epoch(row0, nchunks, 9, e, order, rows);
        csm_stream_epoch_order(ds, 9, e, lib_order, lib_perm);
        size_t pos = 0;
        for (size_t p = 0; p < nchunks; p++) {
            ck_assert_int_eq(lib_order[p], order[p]);
            for (size_t i = 0; i < row0[order[p] + 1] - row0[order[p]]; i++, pos++)
                ck_assert_int_eq(lib_perm[pos] + (int32_t)row0[order[p]], rows[pos]);
        }
        for (size_t i = 0; i < n; i++)
            seen[rows[i]]++;
    }
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(seen[i], 3);
    /* two epochs of SGD against reference steps on the documented batches:
     * batch 2, and 40 (more than a chunk, less than n: cut to the chunk) */
    static const size_t batches[] = {2, 40};
    for (int bi = 0; bi < 2; bi++) {
        const size_t B = batches[bi] < R ? batches[bi] : R;
        csm_model *m = problem_model(&D.p, ctx);
        csm_train_options o;
        csm_train_options_init(&o, sizeof o);
        o.solver = CSM_SGD;
        o.batch_size = batches[bi];
        o.max_iter = 2;
        o.tol = 0;
        o.learning_rate = 0.3;
        o.C = test_C(ds, 0.01);
        o.seed = 9;
        ck_assert_int_eq(csm_train(m, ds, &o, NULL), CSM_OK);
        size_t maxrows = 0;
        for (size_t c = 0; c < nchunks; c++)
            if (row0[c + 1] - row0[c] > maxrows)
                maxrows = row0[c + 1] - row0[c];
        ck_assert_uint_eq(maxrows, R);
        double *W = malloc(C * k * sizeof *W), *b = malloc(C * sizeof *b);
        memcpy(W, D.p.W, C * k * sizeof *W);
        memcpy(b, D.p.b, C * sizeof *b);
        double *xb = malloc(B * k * sizeof *xb);
        int32_t *yb = malloc(B * sizeof *yb);
        size_t steps = 0;
        for (uint64_t e = 0; e < 2; e++) {
            host_epoch(row0, nchunks, 9, e, order, rows);
            size_t pos = 0;
            for (size_t p = 0; p < nchunks; p++) {
                const size_t len = row0[order[p] + 1] - row0[order[p]];
                for (size_t r = 0; r < len; r += B, steps++) {
                    const size_t Bt = len - r < B ? len - r : B;
                    for (size_t i = 0; i < Bt; i++) {
                        memcpy(xb + i * k, D.p.X + (size_t)rows[pos + r + i] * k, k * sizeof *xb);
                        yb[i] = D.p.y[rows[pos + r + i]];
                    }
                    ref_sgd_step(W, b, xb, yb, NULL, NULL, Bt, k, C, 0.01, 0.3);
                }
                pos += len;
            }
        }
        csm_model *ref = problem_model(&D.p, ctx);
        ck_assert_int_eq(csm_model_set_params(ref, W, b), CSM_OK);
        char what[96];
        snprintf(what, sizeof what, "streamed minibatch SGD, %s data, %s path, batch %zu",
                 kind_names[kind], path ? path : "sparse", batches[bi]);
        expect_same_model(ref, m, (double)steps, what);
        /* the same seed: the same model, bit for bit */
        csm_model *again = problem_model(&D.p, ctx);
        ck_assert_int_eq(csm_train(again, ds, &o, NULL), CSM_OK);
        double *pa = malloc((C * k + C) * sizeof *pa), *pb = malloc((C * k + C) * sizeof *pb);
        ck_assert_int_eq(csm_model_get_params(m, pa, pa + C * k), CSM_OK);
        ck_assert_int_eq(csm_model_get_params(again, pb, pb + C * k), CSM_OK);
        ck_assert(memcmp(pa, pb, (C * k + C) * sizeof *pa) == 0);
        free(pa);
        free(pb);
        csm_model_free(again);
        csm_model_free(ref);
        csm_model_free(m);
        free(W);
        free(b);
        free(xb);
        free(yb);
    }
    free(row0);
    free(order);
    free(rows);
    free(lib_order);
    free(lib_perm);
    free(seen);
    csm_dataset_free(ds);
    data_free(&D);
    ck_assert_int_eq(csm_context_set_option(ctx, "path", NULL), CSM_OK);
}

/* f64, 8-bit and CSR data, shuffled, on every path: the CLBlast path
 * gathers each batch from its chunk (8-bit chunks widened first), the
 * fused and tiled paths read the rows through the chunk-local permutation. */
START_TEST(test_minibatch_sampling)
{
    csm_context *ctx = test_context();
    const csm_precision prec = test_has_fp64(ctx) ? CSM_FLOAT64 : CSM_FLOAT32;
    static const char *const paths[] = {"fused", "tiled", "clblast"};
    for (int kind = F64; kind <= CSR; kind++)
        for (int p = 0; p < (kind == CSR ? 1 : 3); p++)
            minibatch_case(ctx, prec, kind, kind == CSR ? NULL : paths[p]);
    csm_context_free(ctx);
}
END_TEST

/* Malformed caps are refused, naming the option or the variable. */
START_TEST(test_bad_caps)
{
    csm_context *ctx = test_context();
    static const char *const bad[] = {"0", "-5", "12X", "1.5G", "12 ", " 12", "K", "12KB",
                                      "99999999999999999999", "17179869184G", "0x100"};
    char v[64];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ck_assert_int_eq(csm_context_set_option(ctx, "max_alloc", "3M"), CSM_OK);
        ck_assert_msg(csm_context_set_option(ctx, "max_alloc", bad[i]) == CSM_ERR_INVALID_VALUE,
                      "'%s' accepted", bad[i]);
        ck_assert_ptr_nonnull(strstr(csm_context_last_error(ctx), "option max_alloc"));
        /* a refused value leaves the option as it was */
        ck_assert_int_eq(csm_context_get_option(ctx, "max_alloc", v, sizeof v), CSM_OK);
        ck_assert_str_eq(v, "3145728");
    }
    static const char *const good[][2] = {{"4096", "4096"}, {"64K", "65536"}, {"2m", "2097152"},
                                          {"1G", "1073741824"}, {"auto", "auto"}, {"", "auto"}};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        ck_assert_int_eq(csm_context_set_option(ctx, "max_alloc", good[i][0]), CSM_OK);
        ck_assert_int_eq(csm_context_get_option(ctx, "max_alloc", v, sizeof v), CSM_OK);
        ck_assert_str_eq(v, good[i][1]);
    }
    csm_context_free(ctx);
    setenv("CLSOFTMAX_MAX_ALLOC", "12kb", 1);
    char err[512] = "";
    csm_context *bad_ctx = NULL;
    ck_assert_int_eq(csm_context_create(&bad_ctx, NULL, err, sizeof err), CSM_ERR_INVALID_VALUE);
    ck_assert_ptr_null(bad_ctx);
    ck_assert_msg(strstr(err, "CLSOFTMAX_MAX_ALLOC") != NULL, "%s", err);
    unsetenv("CLSOFTMAX_MAX_ALLOC");
}
END_TEST

/* Under the variable (tests/stream_env.sh sets it for the suites it runs
 * again, and runs this case), datasets of those suites' sizes stream. */
START_TEST(test_env_cap_streams)
{
    const char *cap = getenv("CLSOFTMAX_MAX_ALLOC");
    csm_context *ctx = test_context();
    char v[64];
    ck_assert_int_eq(csm_context_get_option(ctx, "max_alloc", v, sizeof v), CSM_OK);
    ck_assert_str_ne(v, "auto");
    static const size_t shapes[][3] = {{93, 7, 2}, {200, 10, 5}, {97, 9, 3}};
    for (size_t s = 0; s < 3; s++) {
        problem p = problem_make(shapes[s][0], shapes[s][1], shapes[s][2], CSM_FLOAT32, 0, 5);
        csm_dataset *d = problem_dataset(&p, ctx);
        ck_assert_msg(csm_dataset_chunks(d) > 1, "%zu x %zu does not stream under %s",
                      p.n, p.k, cap);
        csm_dataset_free(d);
        problem_free(&p);
    }
    csm_context_free(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("stream");
    TCase *tc = tcase_create("stream");
    tcase_set_timeout(tc, CSM_DEVICE_TIMEOUT);
    tcase_add_test(tc, test_ops_equal_resident);
    tcase_add_test(tc, test_training_equal_resident);
    tcase_add_test(tc, test_minibatch_sampling);
    tcase_add_test(tc, test_bad_caps);
    suite_add_tcase(s, tc);
    /* only where the variable is set: a plain run has nothing to check */
    const char *cap = getenv("CLSOFTMAX_MAX_ALLOC");
    if (cap && *cap) {
        TCase *env = tcase_create("env");
        tcase_set_timeout(env, CSM_DEVICE_TIMEOUT);
        tcase_add_test(env, test_env_cap_streams);
        suite_add_tcase(s, env);
    }
    return csm_test_main(s, 1);
}
