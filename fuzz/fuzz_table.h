/* Shared by the reader harnesses: the fuzz input as a file the readers can
 * open by name, and the checks every table a reader accepts must pass.
 *
 * The readers take paths (and inflate a file that starts with the gzip
 * magic, which makes gzipped input reachable), so each input is written to a memfd and read
 * back as /proc/self/fd/N: no disk traffic, nothing left behind. A reader
 * that returns success must hand back a table that keeps its documented
 * promises (dataio.h); a broken promise aborts, so libFuzzer reports it
 * like a crash. Header-only: each harness is one program. */
#ifndef CSM_FUZZ_TABLE_H
#define CSM_FUZZ_TABLE_H

#define _GNU_SOURCE /* memfd_create */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dataio.h"

/* Dense copies are made only below this many values (the fuzzer's memory
 * limit is 2 GB; a reader may legitimately accept k = 2^31 sparse). */
#define FUZZ_MAX_DENSE ((size_t)1 << 20)

#define FUZZ_CHECK(cond)                                                                       \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "%s:%d: broken promise: %s\n", __FILE__, __LINE__, #cond);        \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

/* A memfd holding data; *path is its /proc name. One per slot, reused. */
static inline const char *fuzz_file(int slot, const uint8_t *data, size_t size)
{
    static int fds[2] = {-1, -1};
    static char paths[2][64];
    if (fds[slot] < 0) {
        fds[slot] = memfd_create("fuzz-input", 0);
        FUZZ_CHECK(fds[slot] >= 0);
        snprintf(paths[slot], sizeof paths[slot], "/proc/self/fd/%d", fds[slot]);
    }
    FUZZ_CHECK(ftruncate(fds[slot], 0) == 0);
    size_t done = 0;
    while (done < size) {
        ssize_t w = pwrite(fds[slot], data + done, size - done, (off_t)done);
        FUZZ_CHECK(w > 0);
        done += (size_t)w;
    }
    return paths[slot];
}

/* The table's own invariants: storage, sizes, sorted finite CSR. */
static inline void fuzz_check_invariants(const csm_table *t)
{
    FUZZ_CHECK(t->n >= 1 && t->k >= 1);
    FUZZ_CHECK(t->labels != NULL);
    /* string labels: distinct names in byte order, labels index them */
    if (t->label_names) {
        FUZZ_CHECK(t->n_label_names >= 1 && !t->unlabeled);
        for (size_t c = 1; c < t->n_label_names; c++)
            FUZZ_CHECK(strcmp(t->label_names[c - 1], t->label_names[c]) < 0);
        for (size_t i = 0; i < t->n; i++)
            FUZZ_CHECK(t->labels[i] >= 0 && (size_t)t->labels[i] < t->n_label_names);
    }
    if (t->unlabeled)
        for (size_t i = 0; i < t->n; i++)
            FUZZ_CHECK(t->labels[i] == 0);
    /* CSV: a name per feature column, weights finite and >= 0 */
    if (t->feature_names)
        for (size_t j = 0; j < t->k; j++)
            FUZZ_CHECK(t->feature_names[j] != NULL);
    if (t->weights)
        for (size_t i = 0; i < t->n; i++)
            FUZZ_CHECK(isfinite(t->weights[i]) && t->weights[i] >= 0);
    if (t->sparse) {
        FUZZ_CHECK(t->features == NULL && t->dtype == CSM_DTYPE_F64);
        FUZZ_CHECK(t->row_ptr && t->row_ptr[0] == 0 && (uint64_t)t->row_ptr[t->n] == t->nnz);
        for (size_t i = 0; i < t->n; i++) {
            FUZZ_CHECK(t->row_ptr[i] <= t->row_ptr[i + 1]);
            for (int64_t q = t->row_ptr[i]; q < t->row_ptr[i + 1]; q++) {
                FUZZ_CHECK(t->col_idx[q] >= 0 && (size_t)t->col_idx[q] < t->k);
                FUZZ_CHECK(q == t->row_ptr[i] || t->col_idx[q] > t->col_idx[q - 1]);
                FUZZ_CHECK(isfinite(t->values[q]));
            }
        }
    } else {
        FUZZ_CHECK(t->features != NULL && t->row_ptr == NULL);
        FUZZ_CHECK(t->k <= SIZE_MAX / t->n);
        if (t->n * t->k <= FUZZ_MAX_DENSE)
            for (size_t i = 0; i < t->n; i++)
                for (size_t j = 0; j < t->k; j++)
                    FUZZ_CHECK(isfinite(csm_table_value(t, i, j)));
    }
}

/* What the command does with a table next: classes from the labels, the
 * other storage (which must hold the same values), a row subset. */
static inline void fuzz_use_table(csm_table *t)
{
    fuzz_check_invariants(t);

    int64_t *classes = NULL;
    size_t n_classes = 0;
    if (csm_distinct_labels(t->labels, t->n, &classes, &n_classes) == 0) {
        FUZZ_CHECK(n_classes >= 1 && n_classes <= t->n);
        for (size_t c = 1; c < n_classes; c++)
            FUZZ_CHECK(classes[c] > classes[c - 1]);
        int32_t *mapped = malloc(t->n * sizeof *mapped);
        if (mapped) {
            FUZZ_CHECK(csm_map_labels(t->labels, t->n, classes, n_classes, mapped) == t->n);
            for (size_t i = 0; i < t->n; i++)
                FUZZ_CHECK(classes[mapped[i]] == t->labels[i]);
            free(mapped);
        }
        free(classes);
    }

    /* the same numbers in the other storage, and back */
    if (t->n <= FUZZ_MAX_DENSE / t->k) {
        double *before = malloc(t->n * t->k * sizeof *before);
        if (before) {
            for (size_t i = 0; i < t->n; i++)
                for (size_t j = 0; j < t->k; j++)
                    before[i * t->k + j] = csm_table_value(t, i, j);
            char err[512];
            csm_storage other = t->sparse ? CSM_STORAGE_DENSE : CSM_STORAGE_SPARSE;
            if (csm_table_convert(t, other, "fuzz", err, sizeof err) == 0) {
                fuzz_check_invariants(t);
                FUZZ_CHECK(t->sparse == (other == CSM_STORAGE_SPARSE));
                for (size_t i = 0; i < t->n; i++)
                    for (size_t j = 0; j < t->k; j++)
                        FUZZ_CHECK(csm_table_value(t, i, j) == before[i * t->k + j]);
            }
            free(before);
        }
    }

    /* every other row, in reverse */
    size_t m = (t->n + 1) / 2;
    size_t *rows = malloc(m * sizeof *rows);
    if (rows) {
        for (size_t r = 0; r < m; r++)
            rows[r] = t->n - 1 - 2 * r;
        csm_table sub;
        if (csm_table_take_rows(t, rows, m, &sub) == 0) {
            FUZZ_CHECK(sub.n == m && sub.k == t->k && sub.sparse == t->sparse);
            fuzz_check_invariants(&sub);
            for (size_t r = 0; r < m; r++) {
                FUZZ_CHECK(sub.labels[r] == t->labels[rows[r]]);
                for (size_t j = 0; j < t->k && j < 64; j++)
                    FUZZ_CHECK(csm_table_value(&sub, r, j) == csm_table_value(t, rows[r], j));
            }
            csm_table_free(&sub);
        }
        free(rows);
    }
}

/* Reads path with opt; on success checks and uses the table. On failure
 * the message must say which file. */
static inline void fuzz_read(const char *path, const csm_read_options *opt)
{
    csm_table t;
    char err[1024];
    if (csm_read_table(path, opt, &t, err, sizeof err) == 0) {
        fuzz_use_table(&t);
    } else {
        FUZZ_CHECK(err[0] != '\0');
        FUZZ_CHECK(t.features == NULL && t.labels == NULL && t.row_ptr == NULL);
    }
    csm_table_free(&t);
}

#endif
