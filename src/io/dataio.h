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

/* How the features are held in memory (--sparse / --dense). */
typedef enum csm_storage {
    CSM_STORAGE_AUTO = 0, /* libsvm: sparse when its density is below
                             CSM_SPARSE_AUTO_DENSITY, else dense; CSV, IDX: dense */
    CSM_STORAGE_DENSE,    /* an (n, k) row-major array */
    CSM_STORAGE_SPARSE    /* CSR; CSV and IDX are read dense, then compressed */
} csm_storage;

/* The density nnz / (n k) below which CSM_STORAGE_AUTO keeps libsvm data
 * sparse. Text-like data (well under 1%) is far cheaper sparse: memory and
 * work follow the non-zeros. Denser data is faster on the dense paths
 * (the fused kernel streams contiguous rows). Measured on POCL, 2-core
 * EPYC, float32, uniform random patterns, sparse / dense train time:
 *   L-BFGS, 10000 x 784, C 10:    1%: 0.5x, 3%: 0.6x, 5%: 0.9x, 7%: 0.9x,
 *                                 10%: 1.4x, 20%: 2.4x, 40%: 3.9x
 *   L-BFGS, 5000 x 20000, C 20:   0.1%: 0.2x, 1%: 0.3x, 5%: 0.7x, 7%: 0.9x,
 *                                 10%: 1.3x, 20%: 2.3x
 *   Adam (batch 256), 784 / 20000: 1%: 1.4x / 0.5x, 5%: 2.4x / 1.0x,
 *                                 10%: 3.4x / 1.7x
 * L-BFGS (the default) crosses over near 7%, minibatch Adam near 5% on wide
 * data (on narrow data minibatches were faster dense at every density).
 * Below 5% sparse is faster for L-BFGS and no slower for wide minibatches,
 * and a dense table chosen at 5% or more costs at most 20x the non-zeros'
 * values. Measured on a CPU only: GPUs may cross over elsewhere. */
#define CSM_SPARSE_AUTO_PERCENT 5
#define CSM_SPARSE_AUTO_DENSITY (CSM_SPARSE_AUTO_PERCENT / 100.0)

/* The longest line a text file (CSV, libsvm) may have: 64 MiB, far beyond
 * any real row (a million features of 60 bytes), and a bound on what a
 * file without line ends (a binary file, a runaway generator) can make the
 * reader hold. A longer line (or CSV record joined across lines by quoted
 * line breaks) is an error naming it (csm_read_options.max_line lowers the
 * bound). */
#define CSM_READ_MAX_LINE ((size_t)64 << 20)

/* --delimiter blank: fields separated by runs of spaces and tabs (NumPy's
 * savetxt, R's write.table). */
#define CSM_DELIM_BLANKS ' '

typedef struct csm_read_options {
    csm_format format;
    int label_column;      /* CSV: 0-based column of the label; -1 = last. default 0.
                              Columns are counted from 0, without a row-names
                              column (see csm_table.row_names) */
    int header;            /* CSV: -1 detect, 0 no, 1 yes. default -1. Detected: the
                              first row is a header when one of its fields has
                              another type than its column below (text over
                              numbers, an integer over floats), or when its label
                              is text that no other row has */
    const char *labels_path; /* IDX: labels file; NULL = derive from the images file name */
    size_t n_features;     /* libsvm: 0 = largest index seen; else the feature count to use
                              (an index above it is an error) */
    csm_storage storage;   /* default CSM_STORAGE_AUTO */
    int skip_extra_features; /* libsvm with n_features > 0: an index above it is
                              skipped and counted (csm_table.skipped_*), not an
                              error: a model cannot use features it never saw
                              (liblinear's rule at prediction). default 0 */
    int delimiter;         /* CSV: ',', ';', '\t' or CSM_DELIM_BLANKS; 0 = detect
                              (the most frequent of ',', ';' and tab outside quotes
                              on the first row, else blanks). default 0 */
    int weight_column;     /* CSV: 0-based column of per-sample weights (finite,
                              >= 0), not a feature; -1 none. default -1 */
    int no_labels;         /* 0: every sample has a label (default); 1: none (CSV: every
                              column is a feature; libsvm: lines are INDEX:VALUE only;
                              IDX: no labels file); -1: detect: none when a CSV row has
                              n_features columns (n_features > 0), or when the first
                              libsvm line starts with INDEX:VALUE */
    int fraction_labels;   /* CSV: 1: a label with a fractional part ("0.5") is read as a
                              string label (its text, see csm_table.label_names), for
                              models whose classes are such numbers (metadata label_type
                              "float"); 0: an error, as it is far more often a feature
                              column taken for the label. default 0 */
    size_t max_line;       /* CSV, libsvm: the longest line accepted, in bytes (CSV: a
                              record whose quoted fields hold line breaks counts its
                              lines together); 0 (the default) or more than
                              CSM_READ_MAX_LINE: CSM_READ_MAX_LINE */
} csm_read_options;

void csm_read_options_init(csm_read_options *opt);

/* A table read from a file: n samples of k features and one raw integer
 * label per sample (as written in the file). Dense (features) or sparse
 * (CSR: row_ptr, col_idx, values; features NULL), by csm_read_options.storage. */
typedef struct csm_table {
    size_t n, k;
    csm_dtype dtype;  /* CSM_DTYPE_F64 (CSV, libsvm, IDX non-u8) or CSM_DTYPE_U8 (IDX u8
                         images); always CSM_DTYPE_F64 when sparse */
    void *features;   /* (n, k) row-major, malloc'd; NULL when sparse */
    int64_t *labels;  /* (n) raw label values, malloc'd */
    int sparse;       /* 1: CSR below */
    uint64_t nnz;     /* sparse: stored values (explicit zeros of a libsvm file
                         included); dense: the non-zero values */
    int64_t *row_ptr; /* (n + 1), row_ptr[0] = 0: row i is [row_ptr[i], row_ptr[i+1]) */
    int32_t *col_idx; /* (nnz) 0-based, strictly increasing within a row */
    double *values;   /* (nnz) */
    uint64_t skipped_nnz;    /* skip_extra_features: values dropped ... */
    size_t skipped_features; /* ... in this many distinct features */
    /* CSV labels that are not numbers (`virginica`) make every label of the
     * file a string: labels[i] is then an index into label_names, the
     * distinct label texts sorted by bytes (an integer label is kept as its
     * %lld text). NULL with integer labels. */
    char **label_names;      /* (n_label_names) malloc'd strings */
    size_t n_label_names;
    int unlabeled;           /* no labels (csm_read_options.no_labels): labels are all 0 */
    csm_format format;       /* the format the file was read as */
    int delimiter;           /* CSV: the delimiter used */
    int header;              /* CSV: 1 when the first line was taken as a header */
    /* CSV with a header: the names of the k feature columns and of the
     * label column (NULL without a header or a label column). */
    char **feature_names;    /* (k) malloc'd strings, or NULL */
    char *label_name;
    /* CSV with csm_read_options.weight_column: the weight of each sample. */
    double *weights;         /* (n) or NULL */
    /* CSV: the first column held row names and was left out: the header had
     * one name fewer than the rows have fields (R's write.table, pandas'
     * rule), or no name for the first column (pandas' to_csv index, R's
     * write.csv row names). */
    int row_names;
    /* CSV: the rule guessed the header from the label column alone (its
     * first value is text found nowhere else), for a note. */
    int header_by_label;
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

/* Feature value of sample i, feature j as a double (whatever dtype or
 * storage; a binary search in the row when sparse). */
double csm_table_value(const csm_table *t, size_t i, size_t j);

/* ---- additions (the declarations above are the original contract) ----
 *
 * Notes on the contract above:
 * - csm_table_value() returns byte / 255 for a CSM_DTYPE_U8 table, the value
 *   the library gives such a feature (clsoftmax.h), not the raw byte.
 * - csm_read_table() zeroes *out first, so csm_table_free() is safe after a
 *   failure too; `opt` may be NULL for the defaults.
 * - Errors that concern the whole file (cannot open, unknown format, no
 *   labels file found) read "FILE: reason"; CSV column numbers in messages
 *   are 0-based, as csm_read_options counts them. Feature values are parsed
 *   with strtod: keep LC_NUMERIC "C".
 * - The path "-" is standard input; messages name it "<stdin>".
 * - CSV is RFC 4180: a field may be quoted ("..."), holding delimiters,
 *   line breaks and doubled quotes (""); a quoted number is a number. */

/* The format a file name implies (after stripping ".gz"): ".csv", ".tsv"
 * -> CSV; ".svm", ".libsvm", ".svmlight" -> LIBSVM; a name containing "idx"
 * or "-ubyte" -> IDX; else CSM_FORMAT_AUTO (unknown: ".txt" is both CSV and
 * libsvm in the wild, so it tells nothing). */
csm_format csm_detect_format(const char *path);

/* The format of a file's first `n` bytes (decompressed): IDX by its magic
 * (00 00, a known type byte, 1 to 3 dimensions); libsvm when the first line
 * that is not blank or a '#' comment is whitespace-separated tokens whose
 * second (or first) is INDEX:VALUE, or a lone number; CSV when that line
 * holds ',' or ';' (before a libsvm comment, " # ...") or a tab, or is
 * numbers separated by blanks (NumPy's savetxt); a line of words alone (a
 * header) defers to the next line; else CSM_FORMAT_AUTO. */
csm_format csm_sniff_format(const unsigned char *head, size_t n);

/* Reads a file of n sample weights, one per line (liblinear's train -W),
 * each finite and >= 0, into *out (malloc'd). On failure returns -1 with
 * "FILE:LINE: reason" or "FILE: reason" in err. */
int csm_read_weights(const char *path, size_t n, double **out, char *err, size_t err_len);

/* The labels file the IDX reader would open for images file `path` (its
 * "images-idx3" replaced by "labels-idx1", with or without ".gz", whichever
 * exists), malloc'd; NULL when the name derives none or none exists. For
 * the command's check that no output is one of its inputs. */
char *csm_idx_labels_path(const char *path);

/* How messages name `path`: "<stdin>" for "-", else the path itself. */
const char *csm_display_name(const char *path);

/* Parses a --delimiter value: ",", ";", "tab" (or a tab character),
 * "blank" (or a space: runs of blanks, CSM_DELIM_BLANKS), or "auto" (0).
 * Returns 0, or -1 if unknown. */
int csm_parse_delimiter(const char *name, int *out);
/* ",", ";", "tab", "blank" or "auto" (0). */
const char *csm_delimiter_name(int delimiter);

/* Whether CSM_STORAGE_AUTO keeps data of this density sparse:
 * nnz < CSM_SPARSE_AUTO_DENSITY * n * k. */
int csm_auto_sparse(size_t n, size_t k, uint64_t nnz);

/* Converts a table in place to `storage` (dense or sparse; AUTO leaves it
 * as it is). Densifying checks n k against memory first. On failure the
 * table is unchanged and err holds "PATH: reason". */
int csm_table_convert(csm_table *t, csm_storage storage, const char *path, char *err,
                      size_t err_len);

/* A new table of rows `rows[0..n)` of `src` (labels and weights too), in
 * src's storage, with src's column names. Returns -1 when memory is short
 * (out zeroed). */
int csm_table_take_rows(const csm_table *src, const size_t *rows, size_t n, csm_table *out);

/* "auto", "csv", "libsvm", "idx". */
const char *csm_format_name(csm_format format);

/* Parses a --format argument: "auto", "csv", "libsvm" (also "svm",
 * "svmlight") or "idx". Returns 0, or -1 if the name is unknown. */
int csm_parse_format(const char *name, csm_format *out);

#endif
