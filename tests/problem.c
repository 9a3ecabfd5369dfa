#include "problem.h"

#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static double round_to(double v, csm_precision prec)
{
    return prec == CSM_FLOAT32 ? (double)(float)v : v;
}

problem problem_make(size_t n, size_t k, size_t C, csm_precision prec, int soft, uint64_t seed)
{
    problem p = {n, k, C, prec, NULL, NULL, NULL, NULL, NULL};
    uint64_t s = seed;
    p.X = malloc(n * k * sizeof *p.X);
    p.W = malloc(C * k * sizeof *p.W);
    p.b = malloc(C * sizeof *p.b);
    ck_assert(p.X && p.W && p.b);
    csm_fill_uniform(p.X, n * k, &s, -1, 1);
    csm_fill_uniform(p.W, C * k, &s, -0.5, 0.5);
    csm_fill_uniform(p.b, C, &s, -0.5, 0.5);
    for (size_t i = 0; i < n * k; i++)
        p.X[i] = round_to(p.X[i], prec);
    for (size_t i = 0; i < C * k; i++)
        p.W[i] = round_to(p.W[i], prec);
    for (size_t c = 0; c < C; c++)
        p.b[c] = round_to(p.b[c], prec);
    if (soft) {
        p.T = malloc(n * C * sizeof *p.T);
        ck_assert(p.T != NULL);
        csm_fill_uniform(p.T, n * C, &s, 0, 1);
        for (size_t i = 0; i < n; i++) {
            double sum = 0;
            for (size_t c = 0; c < C; c++)
                sum += p.T[i * C + c];
            for (size_t c = 0; c < C; c++)
                p.T[i * C + c] /= sum;
        }
    } else {
        p.y = malloc(n * sizeof *p.y);
        ck_assert(p.y != NULL);
        for (size_t i = 0; i < n; i++)
            p.y[i] = (int32_t)(csm_test_rand(&s) % C);
    }
    return p;
}

void problem_free(problem *p)
{
    free(p->X);
    free(p->W);
    free(p->b);
    free(p->y);
    free(p->T);
}

csm_dataset *problem_dataset(const problem *p, csm_context *ctx)
{
    csm_dataset *d = NULL;
    csm_status st = csm_dataset_create(ctx, &d, p->prec, p->X, CSM_DTYPE_F64, p->n, p->k, p->y,
                                       p->T, p->C);
    ck_assert_msg(st == CSM_OK, "csm_dataset_create: %s: %s", csm_status_string(st),
                  csm_context_last_error(ctx));
    return d;
}

csm_dataset *problem_csr_of(csm_context *ctx, csm_precision prec, const double *X, size_t n,
                            size_t k, const int32_t *y, size_t C)
{
    const size_t cap = n * k > 0 ? n * k : 1;
    int64_t *row_ptr = malloc((n + 1) * sizeof *row_ptr);
    int32_t *col = malloc(cap * sizeof *col);
    double *val = malloc(cap * sizeof *val);
    ck_assert(row_ptr && col && val);
    row_ptr[0] = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t q = row_ptr[i];
        for (size_t j = 0; j < k; j++)
            if (X[i * k + j] != 0) {
                col[q] = (int32_t)j;
                val[q++] = X[i * k + j];
            }
        row_ptr[i + 1] = q;
    }
    csm_dataset *d = NULL;
    csm_status st = csm_dataset_create_csr(ctx, &d, prec, n, k, row_ptr, col, val, y, NULL, C);
    ck_assert_msg(st == CSM_OK, "csm_dataset_create_csr: %s: %s", csm_status_string(st),
                  csm_context_last_error(ctx));
    free(row_ptr);
    free(col);
    free(val);
    return d;
}

csm_dataset *problem_sparse_dataset(problem *p, csm_context *ctx, uint64_t seed)
{
    for (size_t i = 0; i < p->n * p->k; i++)
        if (csm_test_rand(&seed) % 2)
            p->X[i] = 0;
    return problem_csr_of(ctx, p->prec, p->X, p->n, p->k, p->y, p->C);
}

csm_model *problem_model(const problem *p, csm_context *ctx)
{
    csm_model *m = NULL;
    csm_status st = csm_model_create(ctx, &m, p->prec, p->C, p->k);
    ck_assert_msg(st == CSM_OK, "csm_model_create: %s: %s", csm_status_string(st),
                  csm_context_last_error(ctx));
    st = csm_model_set_params(m, p->W, p->b);
    ck_assert_msg(st == CSM_OK, "csm_model_set_params: %s", csm_context_last_error(ctx));
    return m;
}

csm_context *test_context(void)
{
    csm_context *ctx = NULL;
    char err[4096];
    csm_status st = csm_context_create(&ctx, NULL, err, sizeof err);
    ck_assert_msg(st == CSM_OK, "csm_context_create: %s: %s", csm_status_string(st), err);
    return ctx;
}

int test_has_fp64(csm_context *ctx)
{
    /* CSM_TEST_NO_FP64=1 runs the float32-only branches on any device */
    const char *no = getenv("CSM_TEST_NO_FP64");
    if (no && *no && strcmp(no, "0") != 0)
        return 0;
    return csm_context_device(ctx)->has_fp64;
}

unsigned char *problem_bytes(problem *p)
{
    unsigned char *xb = malloc(p->n * p->k);
    ck_assert_ptr_nonnull(xb);
    for (size_t i = 0; i < p->n * p->k; i++) {
        xb[i] = (unsigned char)(i * 37 % 256);
        p->X[i] = xb[i] / 255.0;
        if (p->prec == CSM_FLOAT32)
            p->X[i] = (double)(float)p->X[i];
    }
    return xb;
}
