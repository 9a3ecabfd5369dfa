/* Data-file readers for the command-line tool: CSV, libsvm/svmlight and IDX
 * (MNIST), each optionally gzipped. Host-only; no OpenCL here. */
#ifndef CSM_DATAIO_H
#define CSM_DATAIO_H

#include <stddef.h>
#include <stdint.h>

#include "clsoftmax.h"

typedef enum csm_format {
    CSM_FORMAT_AUTO = 0, /* detect from the file name (".csv", ".svm"/".libsvm", "idx") */
    CSM_FORMAT_CSV,
    CSM_FORMAT_LIBSVM,
    CSM_FORMAT_IDX
} csm_format;

typedef struct csm_read_options {
    csm_format format;
    int label_column;      /* CSV: 0-based column of the label; -1 = last. default 0 */
    int header;            /* CSV: -1 detect (first line not numeric), 0 no, 1 yes. default -1 */
    const char *labels_path; /* IDX: labels file; NULL = derive from the images file name */
    size_t n_features;     /* libsvm: 0 = largest index seen; else the feature count to use
                              (an index above it is an error) */
} csm_read_options;

void csm_read_options_init(csm_read_options *opt);

/* A table read from a file: n samples of k features and one raw integer
 * label per sample (as written in the file). */
typedef struct csm_table {
    size_t n, k;
    csm_dtype dtype;  /* CSM_DTYPE_F64 (CSV, libsvm, IDX non-u8) or CSM_DTYPE_U8 (IDX u8 images) */
    void *features;   /* (n, k) row-major, malloc'd */
    int64_t *labels;  /* (n) raw label values, malloc'd */
} csm_table;

/* Reads `path`. On failure returns non-zero and writes into `err` a message
 * of the form "FILE:LINE: reason" (text formats) or "FILE: byte OFFSET:
 * reason" (binary formats), never a partial table. */
int csm_read_table(const char *path, const csm_read_options *opt, csm_table *out,
                   char *err, size_t err_len);
void csm_table_free(csm_table *t);

/* The sorted distinct label values of `labels` (n): *classes is malloc'd
 * with *n_classes entries. Returns non-zero on allocation failure. */
int csm_distinct_labels(const int64_t *labels, size_t n, int64_t **classes, size_t *n_classes);

/* Maps raw labels to class indices by binary search in `classes` (sorted).
 * Returns the index of the first sample whose label is not a class, or n
 * when all map. */
size_t csm_map_labels(const int64_t *labels, size_t n, const int64_t *classes, size_t n_classes,
                      int32_t *out);

/* Feature value of sample i, feature j as a double (whatever dtype). */
double csm_table_value(const csm_table *t, size_t i, size_t j);

/* ---- additions (the declarations above are the original contract) ----
 *
 * Notes on the contract above:
 * - csm_table_value() returns byte / 255 for a CSM_DTYPE_U8 table, the value
 *   the library gives such a feature (clsoftmax.h), not the raw byte.
 * - csm_read_table() zeroes *out first, so csm_table_free() is safe after a
 *   failure too; `opt` may be NULL for the defaults.
 * - Errors that concern the whole file (cannot open, unknown format, no
 *   labels file found) read "FILE: reason"; column numbers in messages are
 *   1-based. Feature values are parsed with strtod: keep LC_NUMERIC "C". */

/* The format a file name implies (after stripping ".gz"): ".csv", ".tsv",
 * ".txt" -> CSV; ".svm", ".libsvm", ".svmlight" -> LIBSVM; a name
 * containing "idx" or "-ubyte" -> IDX; else CSM_FORMAT_AUTO (unknown). */
csm_format csm_detect_format(const char *path);

/* "auto", "csv", "libsvm", "idx". */
const char *csm_format_name(csm_format format);

/* Parses a --format argument: "auto", "csv", "libsvm" (also "svm",
 * "svmlight") or "idx". Returns 0, or -1 if the name is unknown. */
int csm_parse_format(const char *name, csm_format *out);

#endif
