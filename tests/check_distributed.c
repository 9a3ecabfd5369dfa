/* Distributed training through the library's reduce hook, without MPI:
 * P threads, each with its own context (contexts are independent across
 * threads) holding one partition of a dataset, sum through a barrier in
 * rank order. The trained model must equal one process's training on the
 * whole dataset, and every partition's model must be the same bits. */
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clsoftmax.h"
#include "problem.h"
#include "testutil.h"

#define MAXP 3

/* The "network": each rank publishes its vector, every rank sums them all
 * in rank order (so all get the same bits), then takes the sum. */
typedef struct bus {
    int P;
    pthread_barrier_t bar;
    double *vec[MAXP];
    size_t count[MAXP];
    int fail_rank;  /* this rank's reduce reports failure (-1: none) */
    int fail_after; /* ... from its call number fail_after on */
} bus;

typedef struct rank_ctx {
    bus *b;
    int rank, calls;
} rank_ctx;

static int bus_reduce(double *values, size_t count, void *user)
{
    rank_ctx *r = user;
    bus *b = r->b;
    b->vec[r->rank] = values;
    b->count[r->rank] = count;
    pthread_barrier_wait(&b->bar);
    int ok = 1;
    for (int p = 0; p < b->P; p++)
        ok = ok && b->count[p] == count;
    double *sum = calloc(count ? count : 1, sizeof *sum);
    for (size_t i = 0; ok && sum && i < count; i++)
        for (int p = 0; p < b->P; p++)
            sum[i] += b->vec[p][i];
    pthread_barrier_wait(&b->bar); /* everyone has read every vector */
    if (ok && sum)
        memcpy(values, sum, count * sizeof *sum);
    free(sum);
    r->calls++;
    if (r->rank == b->fail_rank && r->calls > b->fail_after)
        return -1;
    return ok && sum ? 0 : -1;
}

/* What a run trains and how. */
typedef struct job {
    const problem *p;
    double *weights;   /* sample weights of the global rows, or NULL */
    int sparse;        /* CSR datasets */
    csm_solver solver;
    size_t batch_size;
    int max_iter;
    double tol;
    int stop_rank;     /* this rank's callback stops at epoch 2 (-1: none) */
} job;

typedef struct result {
    csm_status st;
    char err[512];
    double *W, *b;
    csm_train_result res;
} result;

typedef struct worker {
    const job *j;
    rank_ctx rc;
    size_t row0, n; /* its rows */
    int distributed;
    result out;
} worker;

static int stop_at_two(csm_model *m, const csm_epoch_info *info, void *user)
{
    (void)m;
    return *(int *)user && info->epoch == 2;
}

/* CSR of rows [row0, row0 + n) of the dense X, its zeros left out. */
static csm_status make_csr(csm_context *ctx, csm_dataset **out, const problem *p, size_t row0,
                           size_t n)
{
    int64_t *rp = malloc((n + 1) * sizeof *rp);
    int32_t *ci = malloc(n * p->k * sizeof *ci);
    double *v = malloc(n * p->k * sizeof *v);
    csm_status st = CSM_ERR_OUT_OF_MEMORY;
    if (rp && ci && v) {
        rp[0] = 0;
        for (size_t i = 0; i < n; i++) {
            rp[i + 1] = rp[i];
            for (size_t j = 0; j < p->k; j++) {
                double x = p->X[(row0 + i) * p->k + j];
                if (x != 0) {
                    ci[rp[i + 1]] = (int32_t)j;
                    v[rp[i + 1]++] = x;
                }
            }
        }
        st = csm_dataset_create_csr(ctx, out, p->prec, n, p->k, rp, ci, v, p->y + row0, NULL,
                                    p->C);
    }
    free(rp);
    free(ci);
    free(v);
    return st;
}

static void *work(void *arg)
{
    worker *w = arg;
    const job *j = w->j;
    const problem *p = j->p;
    result *r = &w->out;
    csm_context *ctx = NULL;
    csm_dataset *d = NULL;
    csm_model *m = NULL;
    r->W = calloc(p->C * p->k, sizeof *r->W);
    r->b = calloc(p->C, sizeof *r->b);
    r->st = csm_context_create(&ctx, NULL, r->err, sizeof r->err);
    if (r->st == CSM_OK)
        r->st = j->sparse ? make_csr(ctx, &d, p, w->row0, w->n)
                          : csm_dataset_create(ctx, &d, p->prec, p->X + w->row0 * p->k,
                                               CSM_DTYPE_F64, w->n, p->k, p->y + w->row0, NULL,
                                               p->C);
    if (r->st == CSM_OK && j->weights)
        r->st = csm_dataset_set_weights(d, j->weights + w->row0);
    if (r->st == CSM_OK && w->distributed)
        r->st = csm_dataset_set_partition(d, w->row0, p->n);
    if (r->st == CSM_OK) r->st = csm_model_create(ctx, &m, p->prec, p->C, p->k);
    if (r->st == CSM_OK) r->st = csm_model_init(m, CSM_INIT_NORMAL, 5);
    csm_train_options o;
    csm_train_options_init(&o, sizeof o);
    o.solver = j->solver;
    o.batch_size = j->batch_size;
    o.max_iter = j->max_iter;
    o.tol = j->tol;
    o.seed = 11;
    /* well conditioned (lambda = 10 / n): max|grad| 1e-12 pins the weights
     * to ~1e-11 relative, so what remains is the summation order */
    o.C = 0.1;
    int stops = w->rc.rank == j->stop_rank;
    o.callback = stop_at_two;
    o.user = &stops;
    if (w->distributed) {
        o.reduce = bus_reduce;
        o.reduce_user = &w->rc;
    }
    r->res.struct_size = sizeof r->res;
    if (r->st == CSM_OK) r->st = csm_train(m, d, &o, &r->res);
    if (r->st == CSM_OK) r->st = csm_model_get_params(m, r->W, r->b);
    if (r->st != CSM_OK && ctx)
        snprintf(r->err + strlen(r->err), sizeof r->err - strlen(r->err), "%s",
                 csm_context_last_error(ctx));
    csm_model_free(m);
    csm_dataset_free(d);
    csm_context_free(ctx);
    return NULL;
}

/* Trains j on P partitions (bounds: P + 1 row offsets) in P threads. */
static void run_parts(const job *j, int P, const size_t *bounds, worker *w, bus *b)
{
    memset(b, 0, sizeof *b);
    b->P = P;
    b->fail_rank = -1;
    ck_assert_int_eq(pthread_barrier_init(&b->bar, NULL, (unsigned)P), 0);
    /* The OpenCL platform initialised before the threads: several threads
     * making the process's first contexts at once hung in POCL's set-up */
    csm_context *first = test_context();
    pthread_t th[MAXP];
    for (int r = 0; r < P; r++) {
        memset(&w[r], 0, sizeof w[r]);
        w[r].j = j;
        w[r].rc.b = b;
        w[r].rc.rank = r;
        w[r].row0 = bounds[r];
        w[r].n = bounds[r + 1] - bounds[r];
        w[r].distributed = 1;
    }
    for (int r = 0; r < P; r++)
        ck_assert_int_eq(pthread_create(&th[r], NULL, work, &w[r]), 0);
    for (int r = 0; r < P; r++)
        ck_assert_int_eq(pthread_join(th[r], NULL), 0);
    pthread_barrier_destroy(&b->bar);
    csm_context_free(first);
}

static void free_result(result *r)
{
    free(r->W);
    free(r->b);
}

/* max |a - b| / max |b| over the weights and biases */
static double rel_diff(const result *a, const result *ref, size_t C, size_t k)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < C * k; i++) {
        num = fmax(num, fabs(a->W[i] - ref->W[i]));
        den = fmax(den, fabs(ref->W[i]));
    }
    for (size_t c = 0; c < C; c++) {
        num = fmax(num, fabs(a->b[c] - ref->b[c]));
        den = fmax(den, fabs(ref->b[c]));
    }
    return num / den;
}

/* One process on the whole data, then 2 and 3 partitions of uneven sizes:
 * each partition's model the same bits as rank 0's, and within `rtol` of
 * the one-process model (the sums run in another order: float64 rounding,
 * amplified a little by the iterations; L-BFGS runs to max|grad| 1e-12,
 * where both are at the optimum to ~1e-10). */
static void check_against_one(const job *j, double rtol)
{
    const problem *p = j->p;
    worker one;
    memset(&one, 0, sizeof one);
    one.j = j;
    one.rc.rank = -2;
    one.n = p->n;
    work(&one);
    ck_assert_msg(one.out.st == CSM_OK, "one process: %s", one.out.err);
    const size_t n = p->n;
    const size_t parts[2][MAXP + 1] = {{0, n / 3, n, 0}, {0, 70, 71, n}};
    const int Ps[2] = {2, 3};
    for (int t = 0; t < 2; t++) {
        worker w[MAXP];
        bus b;
        run_parts(j, Ps[t], parts[t], w, &b);
        for (int r = 0; r < Ps[t]; r++)
            ck_assert_msg(w[r].out.st == CSM_OK, "P = %d, rank %d: %s", Ps[t], r, w[r].out.err);
        for (int r = 1; r < Ps[t]; r++)
            ck_assert_msg(!memcmp(w[r].out.W, w[0].out.W, p->C * p->k * sizeof(double)) &&
                              !memcmp(w[r].out.b, w[0].out.b, p->C * sizeof(double)),
                          "P = %d: rank %d's model differs from rank 0's", Ps[t], r);
        double e = rel_diff(&w[0].out, &one.out, p->C, p->k);
        ck_assert_msg(e <= rtol, "P = %d: max relative difference %.3g from one process > %.1g",
                      Ps[t], e, rtol);
        if (j->tol == 0) /* fixed epochs; L-BFGS may take a step more or less */
            ck_assert_int_eq(w[0].out.res.n_iter, one.out.res.n_iter);
        ck_assert_int_eq(w[0].out.res.stop, one.out.res.stop);
        ck_assert(csm_close(w[0].out.res.objective, one.out.res.objective, 0, rtol));
        for (int r = 0; r < Ps[t]; r++)
            free_result(&w[r].out);
    }
    free_result(&one.out);
}

static int fp64_or_skip(void)
{
    csm_context *ctx = test_context();
    int has = test_has_fp64(ctx);
    csm_context_free(ctx);
    return has;
}

START_TEST(test_lbfgs_float64)
{
    if (!fp64_or_skip())
        CSM_TEST_SKIP("no float64 on this device");
    problem p = problem_make(301, 13, 5, CSM_FLOAT64, 0, 7);
    job j = {&p, NULL, 0, CSM_LBFGS, 0, 300, 1e-12, -1};
    check_against_one(&j, 1e-9);
    problem_free(&p);
}
END_TEST

/* Full-batch gradient descent: one step per epoch over every row. */
START_TEST(test_full_batch_float64)
{
    if (!fp64_or_skip())
        CSM_TEST_SKIP("no float64 on this device");
    problem p = problem_make(301, 13, 5, CSM_FLOAT64, 0, 8);
    job j = {&p, NULL, 0, CSM_SGD, 0, 20, 0, -1};
    check_against_one(&j, 1e-9);
    problem_free(&p);
}
END_TEST

/* Shuffled minibatches with sample weights: the global batch sequence,
 * whatever the partition (a batch may miss a partition entirely: batches
 * of 16 rows, a partition of 1 row). */
START_TEST(test_minibatch_weighted_float64)
{
    if (!fp64_or_skip())
        CSM_TEST_SKIP("no float64 on this device");
    problem p = problem_make(301, 13, 5, CSM_FLOAT64, 0, 9);
    double *wt = malloc(p.n * sizeof *wt);
    uint64_t s = 3;
    csm_fill_uniform(wt, p.n, &s, 0.5, 2.0);
    job j = {&p, wt, 0, CSM_ADAM, 16, 4, 0, -1};
    check_against_one(&j, 1e-9);
    j.solver = CSM_MOMENTUM;
    check_against_one(&j, 1e-9);
    free(wt);
    problem_free(&p);
}
END_TEST

START_TEST(test_sparse_float64)
{
    if (!fp64_or_skip())
        CSM_TEST_SKIP("no float64 on this device");
    problem p = problem_make(301, 13, 5, CSM_FLOAT64, 0, 10);
    for (size_t i = 0; i < p.n * p.k; i += 3)
        p.X[i] = 0; /* a third of the features absent */
    job j = {&p, NULL, 1, CSM_SGD, 32, 3, 0, -1};
    check_against_one(&j, 1e-9);
    j.solver = CSM_LBFGS;
    j.max_iter = 300;
    j.tol = 1e-12;
    check_against_one(&j, 1e-9);
    problem_free(&p);
}
END_TEST

/* float32: the same batches and steps, rounded in float (sums in another
 * order move the last bits, which iterations amplify a little). */
START_TEST(test_float32)
{
    problem p = problem_make(301, 13, 5, CSM_FLOAT32, 0, 12);
    job j = {&p, NULL, 0, CSM_SGD, 32, 3, 0, -1};
    check_against_one(&j, 1e-4);
    problem_free(&p);
}
END_TEST

/* A callback that stops on one rank stops every rank at the same epoch. */
START_TEST(test_callback_stop_on_one_rank)
{
    problem p = problem_make(120, 5, 3, CSM_FLOAT32, 0, 13);
    job j = {&p, NULL, 0, CSM_SGD, 16, 6, 0, 1};
    worker w[MAXP];
    bus b;
    const size_t bounds[] = {0, 50, 90, 120};
    run_parts(&j, 3, bounds, w, &b);
    for (int r = 0; r < 3; r++) {
        ck_assert_msg(w[r].out.st == CSM_OK, "rank %d: %s", r, w[r].out.err);
        ck_assert_int_eq(w[r].out.res.n_iter, 2);
        ck_assert_int_eq(w[r].out.res.stop, CSM_STOP_CALLBACK);
        free_result(&w[r].out);
    }
    problem_free(&p);
}
END_TEST

/* Partitions that do not cover the global dataset, a partition without a
 * reduce, bad partition arguments, and a failing reduce. */
START_TEST(test_bad_partitions)
{
    problem p = problem_make(60, 4, 3, CSM_FLOAT32, 0, 14);
    job j = {&p, NULL, 0, CSM_LBFGS, 0, 5, 0, -1};
    worker w[MAXP];
    bus b;
    const size_t gap[] = {0, 20, 40}; /* rows [0, 40) of 60 */
    run_parts(&j, 2, gap, w, &b);
    for (int r = 0; r < 2; r++) {
        ck_assert_int_eq(w[r].out.st, CSM_ERR_DISTRIBUTED);
        ck_assert_msg(strstr(w[r].out.err, "hold 40 rows in all"), "%s", w[r].out.err);
        free_result(&w[r].out);
    }

    csm_context *ctx = test_context();
    csm_dataset *d = NULL;
    csm_model *m = NULL;
    ck_assert_int_eq(csm_dataset_create(ctx, &d, CSM_FLOAT32, p.X, CSM_DTYPE_F64, 20, p.k, p.y,
                                        NULL, p.C), CSM_OK);
    ck_assert_int_eq(csm_dataset_set_partition(NULL, 0, 20), CSM_ERR_NULL_ARGUMENT);
    ck_assert_int_eq(csm_dataset_set_partition(d, 41, 60), CSM_ERR_INVALID_SIZE);
    ck_assert_int_eq(csm_dataset_set_partition(d, 0, 19), CSM_ERR_INVALID_SIZE);
    /* global rows are permuted as int indices */
    ck_assert_int_eq(csm_dataset_set_partition(d, 0, (size_t)INT_MAX + 1), CSM_ERR_INVALID_SIZE);
    ck_assert_int_eq(csm_dataset_set_partition(d, 0, INT_MAX), CSM_OK);
    ck_assert_int_eq(csm_dataset_set_partition(d, 0, 20), CSM_OK); /* whole */
    ck_assert_int_eq(csm_dataset_partition(d, NULL), 20);
    ck_assert_int_eq(csm_dataset_set_partition(d, 40, 60), CSM_OK);
    size_t row0 = 0;
    ck_assert_int_eq(csm_dataset_partition(d, &row0), 60);
    ck_assert_int_eq(row0, 40);
    ck_assert_int_eq(csm_model_create(ctx, &m, CSM_FLOAT32, p.C, p.k), CSM_OK);
    csm_train_options o;
    csm_train_options_init(&o, sizeof o);
    ck_assert_int_eq(csm_train(m, d, &o, NULL), CSM_ERR_INVALID_VALUE);
    ck_assert_msg(strstr(csm_context_last_error(ctx), "options->reduce is NULL"), "%s",
                  csm_context_last_error(ctx));
    ck_assert_int_eq(csm_dataset_set_partition(d, 0, 20), CSM_OK); /* whole again */
    ck_assert_int_eq(csm_dataset_partition(d, &row0), 20);
    ck_assert_int_eq(row0, 0);
    /* a reduce over one process is the process alone */
    bus one;
    memset(&one, 0, sizeof one);
    one.P = 1;
    one.fail_rank = 0;
    one.fail_after = 3; /* fails at its fourth call, mid-training */
    ck_assert_int_eq(pthread_barrier_init(&one.bar, NULL, 1), 0);
    rank_ctx rc = {&one, 0, 0};
    o.reduce = bus_reduce;
    o.reduce_user = &rc;
    ck_assert_int_eq(csm_train(m, d, &o, NULL), CSM_ERR_DISTRIBUTED);
    ck_assert_msg(strstr(csm_context_last_error(ctx), "reduce callback failed"), "%s",
                  csm_context_last_error(ctx));
    pthread_barrier_destroy(&one.bar);
    csm_model_free(m);
    csm_dataset_free(d);
    csm_context_free(ctx);
    problem_free(&p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("distributed");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, CSM_DEVICE_TIMEOUT);
    tcase_add_test(tc, test_lbfgs_float64);
    tcase_add_test(tc, test_full_batch_float64);
    tcase_add_test(tc, test_minibatch_weighted_float64);
    tcase_add_test(tc, test_sparse_float64);
    tcase_add_test(tc, test_float32);
    tcase_add_test(tc, test_callback_stop_on_one_rank);
    tcase_add_test(tc, test_bad_partitions);
    suite_add_tcase(s, tc);
    return csm_test_main(s, 1);
}
