/* The scikit-learn fixtures of tests/data/sklearn (make-fixtures.py,
 * make-l1-fixtures.py): a CSV file read by the project's own reader, its
 * labels mapped to class indices, for the suites that compare with
 * scikit-learn's optima (check_sklearn, check_l1). The reader's table
 * stays behind `table`, so that suites including the library's internals
 * need not include the reader's header too. */
#ifndef CSM_TEST_FIXTURE_H
#define CSM_TEST_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

typedef struct fixture {
    size_t n, k, C;
    const double *X; /* (n, k) the features, owned by table */
    int32_t *y;      /* (n) class indices 0..C-1 */
    int64_t *classes; /* (C) the sorted label values */
    void *table;     /* the reader's csm_table */
} fixture;

/* Reads $CSM_TEST_DATA/sklearn/<csv> (ck_assert on failure) and checks its
 * shape against n and k. */
void fixture_read(const char *csv, size_t n, size_t k, fixture *f);
void fixture_free(fixture *f);

#endif
