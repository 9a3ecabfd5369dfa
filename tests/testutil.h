/* Helpers shared by the Check suites. */
#ifndef CSM_TESTUTIL_H
#define CSM_TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "clsoftmax.h"

/* Timeout for test cases that touch the device: POCL's first compile of a
 * CLBlast GEMM takes ~15 s on a cold cache, a double one as long again. */
#define CSM_DEVICE_TIMEOUT 600

/* |a - b| <= atol + rtol * |b|: absolute part for values near zero,
 * relative part for large ones. */
int csm_close(double a, double b, double atol, double rtol);

/* Largest |a-b| / (atol + rtol*|b|) over n values: <= 1 means all close. */
double csm_worst(const double *a, const double *b, size_t n, double atol, double rtol,
                 size_t *where);

/* The sum of n sample weights; w NULL: n ones. */
double csm_test_weight_sum(const double *w, size_t n);
/* A csm_reduce_fn of one process: the sum over one process is the values. */
int csm_test_one_process(double *values, size_t count, void *user);

/* Deterministic uniform values in [lo, hi). */
void csm_fill_uniform(double *x, size_t n, uint64_t *state, double lo, double hi);
uint64_t csm_test_rand(uint64_t *state);

/* A scratch directory for one test's files, as a checked fixture
 * (tcase_add_checked_fixture(tc, csm_test_dir_make, csm_test_dir_remove):
 * made in the forked child, under $TMPDIR or /tmp), its path, and a file
 * of n bytes written into it (the path in a static buffer). */
void csm_test_dir_make(void);
void csm_test_dir_remove(void);
const char *csm_test_dir(void);
const char *csm_test_put(const char *name, const void *data, size_t n);

/* Probes for an OpenCL device in a child process, so that no OpenCL state
 * exists in this process before Check forks (POCL hangs otherwise). */
int csm_test_have_device(void);

/* A suite whose n tests run once per implementation: TCases "clblast" and
 * "fused", each setting CLSOFTMAX_PATH in the forked child through a
 * checked fixture, so the two never mix. */
Suite *csm_suite_per_path(const char *name, const TTest *const *tests, size_t n);
/* Adds a TCase "clblast-only" of tests that mean something on the CLBlast
 * path only (split-K), with CLSOFTMAX_PATH=clblast as above. */
void csm_suite_add_clblast_only(Suite *s, const TTest *const *tests, size_t n);

/* Runs the suite, printing TAP when CK_TAP_LOG_FILE_NAME=- and returns the
 * exit status for main(). If `needs_device` and there is none, reports the
 * whole program as skipped; a test that called CSM_TEST_SKIP() is reported
 * as "ok N - ... # SKIP reason" instead of passed. */
int csm_test_main(Suite *suite, int needs_device);

/* Ends the running test as skipped, with a reason: for a test that cannot
 * check anything here (no float64 on the device, ...), which must not be
 * counted as passed. Check itself has no skip result; csm_test_main()
 * rewrites the TAP line of the test. Outside TAP runs the reason goes to
 * stderr and the test counts as passed. */
#define CSM_TEST_SKIP(reason)                                                                  \
    do {                                                                                       \
        csm_test_skip(reason);                                                                 \
        return;                                                                                \
    } while (0)
void csm_test_skip(const char *reason);

/* The library takes the penalty as C (csm_loss, csm_gradient,
 * csm_train_options.C): the C whose lambda = 1 / (C sum w) over d (twice
 * that for two classes) is l2 (INFINITY for 0), for tests written with the
 * reference's lambda. */
double test_C(const csm_dataset *d, double l2);

#endif
