/* The same table as bench_csv.c, tokenized by Debian's libcsv (libcsv-dev)
 * instead of the project's reader: libcsv hands each field to a callback,
 * which parses it with the readers' strict number parsers into the same
 * growing arrays (label in the last column, integer). It does less than
 * the project's reader (no header rule, no type or width checks beyond the
 * count of fields, no line numbers), so it bounds libcsv's cost from below.
 * Not built by make (libcsv is no dependency): BENCHMARKS.md, "Reading
 * CSV", gives the command:
 *   gcc -O2 -I src/io -I include -I . bench/bench_libcsv.c \
 *       src/io/.libs/libcsmio.a -lcsv -lz -lm -o /tmp/bench-libcsv
 *   /tmp/bench-libcsv FILE [REPEAT] */
#define _POSIX_C_SOURCE 200809L
#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_clock.h"
#include "read_internal.h"

typedef struct table {
    double *x;
    int64_t *y;
    size_t n, cap_x, cap_y, k, col, ncols;
    int header_done, bad;
} table;

static void on_field(void *s, size_t len, void *data)
{
    table *t = data;
    if (!t->header_done) {
        t->ncols++;
        return;
    }
    if (t->col + 1 == t->ncols) {
        if (csm_grow((void **)&t->y, &t->cap_y, t->n + 1, sizeof *t->y) < 0 ||
            csm_parse_label(s, len, &t->y[t->n]) != CSM_NUM_OK)
            t->bad = 1;
    } else {
        size_t at = t->n * t->k + t->col;
        if (csm_grow((void **)&t->x, &t->cap_x, at + 1, sizeof *t->x) < 0 ||
            csm_parse_double(s, len, &t->x[at]) != CSM_NUM_OK)
            t->bad = 1;
    }
    t->col++;
}

static void on_record(int c, void *data)
{
    table *t = data;
    (void)c;
    if (!t->header_done) {
        t->header_done = 1;
        t->k = t->ncols - 1;
    } else {
        if (t->col != t->ncols)
            t->bad = 1;
        t->n++;
    }
    t->col = 0;
}

/* One read of the file through zlib (as the project's reader does) and
 * libcsv. */
static int read_once(const char *path, table *t)
{
    struct csv_parser p;
    static char buf[1 << 20];
    memset(t, 0, sizeof *t);
    if (csv_init(&p, CSV_APPEND_NULL) != 0)
        return -1;
    gzFile gz = gzopen(path, "rb");
    if (!gz)
        return -1;
    gzbuffer(gz, 256u * 1024u);
    int got;
    while ((got = gzread(gz, buf, sizeof buf)) > 0)
        if (csv_parse(&p, buf, (size_t)got, on_field, on_record, t) != (size_t)got)
            return -1;
    gzclose(gz);
    csv_fini(&p, on_field, on_record, t);
    csv_free(&p);
    return t->bad ? -1 : 0;
}

int main(int argc, char **argv)
{
    int repeat, rc;
    double mb;
    if ((rc = bench_args(argc, argv, &repeat, &mb)) != 0)
        return rc;
    double t[100];
    size_t n = 0, k = 0;
    for (int r = 0; r < repeat; r++) {
        table tab;
        double t0 = bench_now();
        if (read_once(argv[1], &tab) != 0) {
            fprintf(stderr, "%s: libcsv read failed\n", argv[1]);
            return 1;
        }
        t[r] = bench_now() - t0;
        n = tab.n;
        k = tab.k;
        free(tab.x);
        free(tab.y);
    }
    qsort(t, (size_t)repeat, sizeof *t, bench_cmp_double);
    printf("libcsv + strict parsers: %zu rows x %zu features, %.1f MB: best %.3f s (%.0f rows/s, "
           "%.0f MB/s), median %.3f s of %d\n",
           n, k, mb, t[0], (double)n / t[0], mb / t[0], t[repeat / 2], repeat);
    return 0;
}
