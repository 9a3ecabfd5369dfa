/* The clock and the sort of the CSV reader benchmarks (bench_csv.c and
 * bench_libcsv.c, which is built by hand and so includes this header
 * rather than a library). */
#ifndef CSM_BENCH_CLOCK_H
#define CSM_BENCH_CLOCK_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

/* Monotonic seconds. */
static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The arguments FILE [REPEAT]: the repeat count (1 to 100, default 5) and
 * the file's size in MB. Returns 0, or the exit status after a message. */
static inline int bench_args(int argc, char **argv, int *repeat, double *mb)
{
    struct stat sb;
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE [REPEAT]\n", argv[0]);
        return 2;
    }
    if (stat(argv[1], &sb) != 0) {
        perror(argv[1]);
        return 1;
    }
    *repeat = argc > 2 ? atoi(argv[2]) : 5;
    if (*repeat < 1 || *repeat > 100)
        *repeat = 5;
    *mb = (double)sb.st_size / 1e6;
    return 0;
}

#endif
