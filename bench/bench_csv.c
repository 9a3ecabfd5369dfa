/* Reading CSV (BENCHMARKS.md, "Reading CSV"): the wall time of
 * csm_read_table() on FILE, the best and the median of REPEAT runs, in
 * rows/s and MB/s. No OpenCL device is used. Built by `make bench`.
 *   bench/clsoftmax-csv-bench FILE [REPEAT] */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>

#include "bench_clock.h"
#include "dataio.h"

int main(int argc, char **argv)
{
    int repeat, rc;
    double mb;
    if ((rc = bench_args(argc, argv, &repeat, &mb)) != 0)
        return rc;
    double t[100];
    csm_read_options o;
    csm_read_options_init(&o);
    o.label_column = -1;
    size_t n = 0, k = 0;
    for (int r = 0; r < repeat; r++) {
        csm_table tab;
        char err[1024];
        double t0 = bench_now();
        if (csm_read_table(argv[1], &o, &tab, err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        t[r] = bench_now() - t0;
        n = tab.n;
        k = tab.k;
        csm_table_free(&tab);
    }
    qsort(t, (size_t)repeat, sizeof *t, bench_cmp_double);
    printf("clsoftmax reader: %zu rows x %zu features, %.1f MB: best %.3f s (%.0f rows/s, "
           "%.0f MB/s), median %.3f s of %d\n",
           n, k, mb, t[0], (double)n / t[0], mb / t[0], t[repeat / 2], repeat);
    return 0;
}
