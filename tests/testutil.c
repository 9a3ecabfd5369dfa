#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

void csm_suite_add_clblast_only(Suite *s, const TTest *const *tests, size_t n)
{
    TCase *tc = tcase_create("clblast-only");
    tcase_set_timeout(tc, CSM_DEVICE_TIMEOUT);
    tcase_add_checked_fixture(tc, path_clblast, NULL);
    for (size_t i = 0; i < n; i++)
        tcase_add_test(tc, tests[i]);
    suite_add_tcase(s, tc);
}

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

/* Skips are passed from the test (a forked child, or this process with
 * CK_FORK=no) to csm_test_main() through a file of "N<TAB>reason" lines,
 * N the test's number in the TAP stream. Check writes the TAP to a file
 * here, one flushed line per finished test and the plan only at the end,
 * so a running test's number is the count of lines so far plus one. */
static char tap_path[4096], skip_path[4096];

void csm_test_skip(const char *reason)
{
    if (!tap_path[0]) {
        fprintf(stderr, "# SKIP %s\n", reason);
        return;
    }
    FILE *tap = fopen(tap_path, "r");
    size_t lines = 0;
    int ch;
    while (tap && (ch = fgetc(tap)) != EOF)
        lines += ch == '\n';
    if (tap)
        fclose(tap);
    char rec[512];
    int len = snprintf(rec, sizeof rec, "%zu\t%s", lines + 1, reason);
    if (len < 0)
        return;
    if ((size_t)len >= sizeof rec - 1)
        len = (int)sizeof rec - 2;
    for (int i = 0; i < len; i++)
        if (rec[i] == '\n' || rec[i] == '#')
            rec[i] = ' ';
    rec[len++] = '\n';
    /* no ck_assert on success: it would move the test's reported location here */
    int fd = open(skip_path, O_WRONLY | O_APPEND);
    if (fd < 0 || write(fd, rec, (size_t)len) != len) /* one append: atomic */
        ck_abort_msg("cannot record the skip in %s", skip_path);
    close(fd);
}

/* The reason recorded for test number n, or NULL. */
static const char *skip_reason(char *const *reasons, const size_t *numbers, size_t count,
                               size_t n)
{
    for (size_t i = 0; i < count; i++)
        if (numbers[i] == n)
            return reasons[i];
    return NULL;
}

/* Copies Check's TAP to stdout, turning "ok N - where: Passed" into
 * "ok N - where # SKIP reason" for the tests that skipped. */
static void emit_tap(void)
{
    size_t count = 0, numbers[256];
    char *reasons[256];
    FILE *f = fopen(skip_path, "r");
    char line[4096];
    while (f && count < 256 && fgets(line, sizeof line, f)) {
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        *tab = '\0';
        char *why = tab + 1;
        why[strcspn(why, "\n")] = '\0';
        numbers[count] = (size_t)strtoul(line, NULL, 10);
        reasons[count++] = strdup(why);
    }
    if (f)
        fclose(f);
    f = fopen(tap_path, "r");
    while (f && fgets(line, sizeof line, f)) {
        size_t n = 0;
        const char *why = NULL;
        size_t len = strlen(line);
        static const char passed[] = ": Passed\n";
        if (sscanf(line, "ok %zu - ", &n) == 1 && len > sizeof passed - 1 &&
            strcmp(line + len - (sizeof passed - 1), passed) == 0)
            why = skip_reason(reasons, numbers, count, n);
        if (why)
            printf("%.*s # SKIP %s\n", (int)(len - (sizeof passed - 1)), line, why);
        else
            fputs(line, stdout);
    }
    if (f)
        fclose(f);
    fflush(stdout);
    for (size_t i = 0; i < count; i++)
        free(reasons[i]);
}

int csm_test_main(Suite *suite, int needs_device)
{
    if (needs_device && !csm_test_have_device()) {
        printf("1..0 # SKIP no OpenCL device\n");
        srunner_free(srunner_create(suite)); /* frees the suite */
        return 0;
    }
    SRunner *sr = srunner_create(suite);
    const char *tap_env = getenv("CK_TAP_LOG_FILE_NAME");
    const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    int rewrite = tap_env && strcmp(tap_env, "-") == 0 && strlen(tmp) < sizeof tap_path - 32;
    if (rewrite) {
        snprintf(tap_path, sizeof tap_path, "%s/csm-tap-XXXXXX", tmp);
        snprintf(skip_path, sizeof skip_path, "%s/csm-skip-XXXXXX", tmp);
        int a = mkstemp(tap_path), b = a >= 0 ? mkstemp(skip_path) : -1;
        if (a >= 0)
            close(a);
        if (b >= 0)
            close(b);
        rewrite = a >= 0 && b >= 0;
        if (!rewrite) {
            if (a >= 0)
                unlink(tap_path);
            tap_path[0] = skip_path[0] = '\0';
            printf("# cannot make temporary files in %s: skipped tests will read as passed\n",
                   tmp);
        } else {
            srunner_set_tap(sr, tap_path);
        }
    }
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr); /* closes the TAP file */
    if (rewrite) {
        emit_tap();
        unlink(tap_path);
        unlink(skip_path);
    }
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

static char scratch[4096];

void csm_test_dir_make(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(scratch, sizeof scratch, "%s/csm_check_XXXXXX", t && *t ? t : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(scratch));
}

void csm_test_dir_remove(void)
{
    DIR *d = opendir(scratch);
    struct dirent *e;
    char path[8192];
    while (d && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(path, sizeof path, "%s/%s", scratch, e->d_name);
            unlink(path);
        }
    }
    if (d)
        closedir(d);
    rmdir(scratch);
}

const char *csm_test_dir(void)
{
    return scratch;
}

const char *csm_test_put(const char *name, const void *data, size_t n)
{
    static char path[8192];
    snprintf(path, sizeof path, "%s/%s", scratch, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

double test_C(const csm_dataset *d, double l2)
{
    const double c_scale = csm_dataset_n_classes(d) == 2 ? 2.0 : 1.0;
    return l2 > 0 ? c_scale / (l2 * csm_dataset_weight_sum(d)) : INFINITY;
}

double csm_test_weight_sum(const double *w, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += w ? w[i] : 1.0;
    return s;
}

int csm_test_one_process(double *values, size_t count, void *user)
{
    (void)values;
    (void)count;
    (void)user;
    return 0;
}
