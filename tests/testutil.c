#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clsoftmax.h"

int csm_close(double a, double b, double atol, double rtol)
{
    if (isnan(a) || isnan(b))
        return 0;
    return fabs(a - b) <= atol + rtol * fabs(b);
}

double csm_worst(const double *a, const double *b, size_t n, double atol, double rtol,
                 size_t *where)
{
    double worst = 0.0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        double r = fabs(a[i] - b[i]) / (atol + rtol * fabs(b[i]));
        if (isnan(r) || r > worst) {
            worst = isnan(r) ? INFINITY : r;
            at = i;
        }
    }
    if (where)
        *where = at;
    return worst;
}

uint64_t csm_test_rand(uint64_t *state)
{
    /* splitmix64: tiny, and independent of the library's own generator */
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void csm_fill_uniform(double *x, size_t n, uint64_t *state, double lo, double hi)
{
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * (double)(csm_test_rand(state) >> 11) * 0x1.0p-53;
}

int csm_test_have_device(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return 0;
    if (pid == 0) {
        size_t count = 0;
        csm_status st = csm_list_devices(NULL, 0, &count, NULL, 0);
        _exit(st == CSM_OK && count > 0 ? 0 : 1);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) < 0)
        return 0;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void path_clblast(void) { setenv("CLSOFTMAX_PATH", "clblast", 1); }
static void path_fused(void) { setenv("CLSOFTMAX_PATH", "fused", 1); }
static void path_tiled(void) { setenv("CLSOFTMAX_PATH", "tiled", 1); }

Suite *csm_suite_per_path(const char *name, const TTest *const *tests, size_t n)
{
    Suite *s = suite_create(name);
    static const char *names[3] = {"clblast", "fused", "tiled"};
    void (*setups[3])(void) = {path_clblast, path_fused, path_tiled};
    for (int p = 0; p < 3; p++) {
        TCase *tc = tcase_create(names[p]);
        tcase_set_timeout(tc, CSM_DEVICE_TIMEOUT);
        tcase_add_checked_fixture(tc, setups[p], NULL);
        for (size_t i = 0; i < n; i++)
            tcase_add_test(tc, tests[i]);
        suite_add_tcase(s, tc);
    }
    return s;
}

int csm_test_main(Suite *suite, int needs_device)
{
    if (needs_device && !csm_test_have_device()) {
        printf("1..0 # SKIP no OpenCL device\n");
        srunner_free(srunner_create(suite)); /* frees the suite */
        return 0;
    }
    SRunner *sr = srunner_create(suite);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
