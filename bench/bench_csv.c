/* Reading CSV (BENCHMARKS.md, "Reading CSV"): the wall time of
 * csm_read_table() on FILE, the best and the median of REPEAT runs, in
 * rows/s and MB/s. No OpenCL device is used. Built by `make bench`.
 *   bench/clsoftmax-csv-bench FILE [REPEAT] */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "dataio.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE [REPEAT]\n", argv[0]);
        return 2;
    }
    int repeat = argc > 2 ? atoi(argv[2]) : 5;
    if (repeat < 1 || repeat > 100)
        repeat = 5;
    struct stat sb;
    if (stat(argv[1], &sb) != 0) {
        perror(argv[1]);
        return 1;
    }
    double t[100];
    csm_read_options o;
    csm_read_options_init(&o);
    o.label_column = -1;
    size_t n = 0, k = 0;
    for (int r = 0; r < repeat; r++) {
        csm_table tab;
        char err[1024];
        double t0 = now();
        if (csm_read_table(argv[1], &o, &tab, err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        t[r] = now() - t0;
        n = tab.n;
        k = tab.k;
        csm_table_free(&tab);
    }
    qsort(t, (size_t)repeat, sizeof *t, cmp);
    double mb = (double)sb.st_size / 1e6;
    printf("clsoftmax reader: %zu rows x %zu features, %.1f MB: best %.3f s (%.0f rows/s, "
           "%.0f MB/s), median %.3f s of %d\n",
           n, k, mb, t[0], (double)n / t[0], mb / t[0], t[repeat / 2], repeat);
    return 0;
}
