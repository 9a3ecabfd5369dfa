/* Random softmax-regression problems for the device tests, with inputs
 * rounded to the device precision so the double reference sees exactly the
 * numbers the device sees. */
#ifndef CSM_TEST_PROBLEM_H
#define CSM_TEST_PROBLEM_H

#include <stddef.h>
#include <stdint.h>

#include "clsoftmax.h"

typedef struct problem {
    size_t n, k, C;
    csm_precision prec;
    double *X;   /* (n, k) */
    double *W;   /* (C, k) */
    double *b;   /* (C) */
    int32_t *y;  /* (n) labels, or NULL */
    double *T;   /* (n, C) soft targets, or NULL */
} problem;

problem problem_make(size_t n, size_t k, size_t C, csm_precision prec, int soft, uint64_t seed);
void problem_free(problem *p);
/* Dataset and model on ctx holding the problem (ck_assert on failure). */
csm_dataset *problem_dataset(const problem *p, csm_context *ctx);
csm_model *problem_model(const problem *p, csm_context *ctx);
/* A CSR dataset of the non-zero entries of the rows X (n, k), with labels y
 * of C classes (ck_assert on failure). */
csm_dataset *problem_csr_of(csm_context *ctx, csm_precision prec, const double *X, size_t n,
                            size_t k, const int32_t *y, size_t C);
/* Zeroes about half of p's features (by seed), then a CSR dataset of the
 * rows that remain, with p's labels (ck_assert on failure). */
csm_dataset *problem_sparse_dataset(problem *p, csm_context *ctx, uint64_t seed);
/* p's features as bytes, xb[i] = i * 37 % 256 (malloc'd), and p->X set to
 * the values they stand for, byte / 255 (rounded to float in float32). */
unsigned char *problem_bytes(problem *p);
/* A context on the default device (ck_assert on failure). */
csm_context *test_context(void);
/* Whether the context's device has float64; always 0 when the variable
 * CSM_TEST_NO_FP64 is set (not "0"), to exercise the float32-only paths of
 * the tests on a device that has it. */
int test_has_fp64(csm_context *ctx);

#endif
