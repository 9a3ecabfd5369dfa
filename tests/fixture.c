#include "fixture.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "io/dataio.h"

void fixture_read(const char *csv, size_t n, size_t k, fixture *f)
{
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/sklearn/%s", getenv("CSM_TEST_DATA"), csv);
    csm_table *t = calloc(1, sizeof *t);
    ck_assert_ptr_nonnull(t);
    ck_assert_msg(csm_read_table(path, NULL, t, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(t->n == n && t->k == k && t->dtype == CSM_DTYPE_F64 && !t->sparse,
                  "%s: %zu x %zu, want %zu x %zu dense", path, t->n, t->k, n, k);
    f->n = n;
    f->k = k;
    f->X = t->features;
    f->table = t;
    ck_assert_int_eq(csm_distinct_labels(t->labels, n, &f->classes, &f->C), 0);
    f->y = malloc((n ? n : 1) * sizeof *f->y);
    ck_assert_ptr_nonnull(f->y);
    ck_assert_uint_eq(csm_map_labels(t->labels, n, f->classes, f->C, f->y), n);
}

void fixture_free(fixture *f)
{
    csm_table_free(f->table);
    free(f->table);
    free(f->classes);
    free(f->y);
}
