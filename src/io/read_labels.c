/* Raw labels -> class indices: files name classes by arbitrary integers
 * ("-1"/"+1", "1".."10", digits 0..9); the library wants 0..C-1. The
 * classes are the sorted distinct values, so the mapping is the same for a
 * training and a test file that hold the same labels. */
#include "read_internal.h"

#include <stdlib.h>
#include <string.h>

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int csm_distinct_labels(const int64_t *labels, size_t n, int64_t **classes, size_t *n_classes)
{
    *classes = NULL;
    *n_classes = 0;
    if (n == 0)
        return 0;
    if (n > SIZE_MAX / sizeof(int64_t))
        return -1;
    int64_t *c = malloc(n * sizeof *c);
    if (!c)
        return -1;
    memcpy(c, labels, n * sizeof *c);
    qsort(c, n, sizeof *c, cmp_i64);
    size_t m = 1;
    for (size_t i = 1; i < n; i++) {
        if (c[i] != c[m - 1])
            c[m++] = c[i];
    }
    /* give back the (usually large) unused tail */
    int64_t *shrunk = realloc(c, m * sizeof *c);
    *classes = shrunk ? shrunk : c;
    *n_classes = m;
    return 0;
}

size_t csm_map_labels(const int64_t *labels, size_t n, const int64_t *classes, size_t n_classes,
                      int32_t *out)
{
    for (size_t i = 0; i < n; i++) {
        size_t lo = 0, hi = n_classes;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (classes[mid] < labels[i])
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == n_classes || classes[lo] != labels[i] || lo > (size_t)INT32_MAX)
            return i;
        out[i] = (int32_t)lo;
    }
    return n;
}
