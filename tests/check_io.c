/* The data-file readers (src/io): exact values from the good files of
 * tests/data/io, and for every bad file a failure whose message names the
 * file, the line or byte offset, and the reason. The corpus is made by
 * tests/data/io/make-fixtures.py. No OpenCL device is needed. */
#define _POSIX_C_SOURCE 200809L /* mkstemp, mkdtemp */

#include <check.h>
#include <math.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "io/dataio.h"
#include "io/read_internal.h" /* the number parsers, tested directly */
#include "testutil.h"

/* ------------------------------------------------------------------ helpers */

/* Path of a corpus file. Four rotating buffers, so that an images and a
 * labels path can be in use at once. */
static const char *data(const char *name)
{
    static char buf[4][4096];
    static int next = 0;
    const char *dir = getenv("CSM_TEST_DATA");
    char *out = buf[next];
    next = (next + 1) % 4;
    snprintf(out, sizeof buf[0], "%s/io/%s", dir && *dir ? dir : "tests/data", name);
    return out;
}

static csm_read_options defaults(void)
{
    csm_read_options o;
    csm_read_options_init(&o);
    return o;
}

static void read_ok(const char *name, const csm_read_options *opt, csm_table *t)
{
    char err[1024] = "";
    int rc = csm_read_table(data(name), opt, t, err, sizeof err);
    ck_assert_msg(rc == 0, "%s failed: %s", name, err);
}

static void check_f64(const csm_table *t, size_t n, size_t k, const double *x,
                      const int64_t *labels)
{
    ck_assert_uint_eq(t->n, n);
    ck_assert_uint_eq(t->k, k);
    ck_assert_int_eq(t->dtype, CSM_DTYPE_F64);
    const double *f = t->features;
    for (size_t i = 0; i < n * k; i++)
        ck_assert_msg(f[i] == x[i], "value %zu: %.17g, expected %.17g", i, f[i], x[i]);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(t->labels[i] == labels[i], "label %zu: %lld, expected %lld", i,
                      (long long)t->labels[i], (long long)labels[i]);
}

/* Reads `name` expecting failure. The message must start with
 * "<blamed path><where>" and contain each of the reasons. `where` is
 * ":LINE: ", ": byte N: " or ": "; "#" stands for "some line number". */
static void expect_error(const char *name, const csm_read_options *opt, const char *blamed,
                         const char *where, const char *reason, const char *reason2)
{
    char err[1024] = "";
    csm_table t;
    memset(&t, 0xA5, sizeof t); /* must come back zeroed */
    const char *path = data(name);
    char blamed_path[4096];
    snprintf(blamed_path, sizeof blamed_path, "%s", blamed ? data(blamed) : path);
    int rc = csm_read_table(path, opt, &t, err, sizeof err);
    ck_assert_msg(rc != 0, "%s: expected an error, got a table of %zu x %zu", name, t.n, t.k);
    ck_assert_msg(t.features == NULL && t.labels == NULL && t.n == 0 && t.k == 0 &&
                      t.row_ptr == NULL && t.col_idx == NULL && t.values == NULL && !t.sparse,
                  "%s: a failed read left a partial table", name);
    csm_table_free(&t);

    size_t bl = strlen(blamed_path);
    ck_assert_msg(strncmp(err, blamed_path, bl) == 0, "%s: message does not start with %s: %s",
                  name, blamed_path, err);
    if (strcmp(where, ":#: ") == 0) {
        const char *p = err + bl;
        ck_assert_msg(*p == ':' && p[1] >= '1' && p[1] <= '9', "%s: no line number: %s", name,
                      err);
        p++;
        while (*p >= '0' && *p <= '9')
            p++;
        ck_assert_msg(strncmp(p, ": ", 2) == 0, "%s: no line number: %s", name, err);
    } else {
        ck_assert_msg(strncmp(err + bl, where, strlen(where)) == 0,
                      "%s: expected location '%s' in: %s", name, where, err);
    }
    ck_assert_msg(strstr(err, reason) != NULL, "%s: expected '%s' in: %s", name, reason, err);
    if (reason2)
        ck_assert_msg(strstr(err, reason2) != NULL, "%s: expected '%s' in: %s", name, reason2,
                      err);
}

/* A text-format error at `line`. */
static void expect_line(const char *name, const csm_read_options *opt, int line,
                        const char *reason, const char *reason2)
{
    char where[32];
    snprintf(where, sizeof where, ":%d: ", line);
    expect_error(name, opt, NULL, where, reason, reason2);
}

/* A binary-format error at `offset` of `blamed` (NULL: the file read). */
static void expect_byte(const char *name, const csm_read_options *opt, const char *blamed,
                        long offset, const char *reason, const char *reason2)
{
    char where[48];
    snprintf(where, sizeof where, ": byte %ld: ", offset);
    expect_error(name, opt, blamed, where, reason, reason2);
}

/* ---------------------------------------------------------------- good CSV */

static const double GOOD_X[] = {1.5, -2, 3e2, 0, 0.25, -1e-3, 4, 5, 6};
static const int64_t GOOD_Y[] = {0, 2, 1};

START_TEST(csv_good)
{
    csm_read_options o = defaults();
    csm_table t;
    read_ok("good.csv", &o, &t);
    check_f64(&t, 3, 3, GOOD_X, GOOD_Y);
    csm_table_free(&t);
    ck_assert_ptr_null(t.features);
}
END_TEST

START_TEST(csv_gzip_same_as_plain)
{
    csm_read_options o = defaults();
    csm_table t;
    read_ok("good.csv.gz", &o, &t);
    check_f64(&t, 3, 3, GOOD_X, GOOD_Y);
    csm_table_free(&t);
}
END_TEST

START_TEST(csv_header_semicolon_crlf_label_last)
{
    csm_read_options o = defaults();
    o.label_column = -1;
    csm_table t;
    read_ok("good_header_semicolon.csv", &o, &t);
    const double x[] = {1.5, 2, -1, 0};
    const int64_t y[] = {3, -1};
    check_f64(&t, 2, 2, x, y);
    csm_table_free(&t);
}
END_TEST

START_TEST(csv_tab_bom_signs_no_final_newline)
{
    csm_read_options o = defaults();
    csm_table t;
    read_ok("good_tab.tsv", &o, &t);
    const double x[] = {0.5, 2, -3, 0.4};
    const int64_t y[] = {1, 2}; /* "+1" and "2.0" */
    check_f64(&t, 2, 2, x, y);
    csm_table_free(&t);
}
END_TEST

START_TEST(csv_label_middle_column)
{
    csm_read_options o = defaults();
    o.label_column = 1;
    csm_table t;
    read_ok("good_label_middle.csv", &o, &t);
    const double x[] = {1.5, 2, -1, 3};
    const int64_t y[] = {7, -7};
    check_f64(&t, 2, 2, x, y);
    csm_table_free(&t);
}
END_TEST

START_TEST(csv_forced_header_skips_first_line)
{
    csm_read_options o = defaults();
    o.header = 1;
    csm_table t;
    read_ok("good.csv", &o, &t);
    check_f64(&t, 2, 3, GOOD_X + 3, GOOD_Y + 1);
    csm_table_free(&t);
}
END_TEST

START_TEST(csv_forced_no_header_reads_header_as_data)
{
    csm_read_options o = defaults();
    o.header = 0;
    o.label_column = -1;
    expect_line("good_header_semicolon.csv", &o, 1, "column 0: not a number", "'x1'");
}
END_TEST

START_TEST(csv_detected_header_then_label_checked)
{
    /* label column 0 holds 1.5: the header was skipped, line 2 is blamed,
     * naming the option and the columns that could be the label */
    csm_read_options o = defaults();
    expect_line("good_header_semicolon.csv", &o, 2, "label '1.5' in column 0 ('x1')",
                "not an integer; --label-column N (counted from 0) or 'last' picks the label "
                "column; columns of integers or text: 1 ('x2'), 2 ('label')");
}
END_TEST

START_TEST(csv_label_column_out_of_range)
{
    csm_read_options o = defaults();
    o.label_column = 4;
    expect_line("good.csv", &o, 1, "label column 4 is out of range for 4 columns", NULL);
    o.label_column = -2;
    expect_error("good.csv", &o, NULL, ": ", "label column -2 is invalid", NULL);
}
END_TEST

/* ----------------------------------------------------------------- bad CSV */

START_TEST(csv_empty)
{
    csm_read_options o = defaults();
    expect_line("empty.csv", &o, 1, "no samples", "empty");
}
END_TEST

START_TEST(csv_header_only)
{
    csm_read_options o = defaults();
    expect_line("header_only.csv", &o, 2, "no samples", "header");
}
END_TEST

START_TEST(csv_ragged_fewer)
{
    csm_read_options o = defaults();
    expect_line("ragged.csv", &o, 3, "expected 3 columns", "got 2");
}
END_TEST

START_TEST(csv_ragged_more)
{
    csm_read_options o = defaults();
    expect_line("ragged_more.csv", &o, 2, "expected 3 columns", "got 4");
}
END_TEST

START_TEST(csv_mixed_delimiters)
{
    csm_read_options o = defaults();
    expect_line("mixed_delim.csv", &o, 2, "expected 3 columns", "this line uses ';'");
}
END_TEST

START_TEST(csv_nonnumeric)
{
    csm_read_options o = defaults();
    expect_line("nonnumeric.csv", &o, 2, "column 1: not a number", "'abc'");
}
END_TEST

START_TEST(csv_nan)
{
    csm_read_options o = defaults();
    expect_line("nan.csv", &o, 3, "column 1: missing value 'nan'", "every value is needed");
}
END_TEST

START_TEST(csv_inf)
{
    csm_read_options o = defaults();
    expect_line("inf.csv", &o, 2, "NaN or Inf", "'-inf'");
}
END_TEST

START_TEST(csv_overflow)
{
    csm_read_options o = defaults();
    expect_line("overflow.csv", &o, 2, "out of range", "'1e999'");
}
END_TEST

START_TEST(csv_hex_rejected)
{
    csm_read_options o = defaults();
    expect_line("hex.csv", &o, 2, "not a number", "'0x10'");
}
END_TEST

START_TEST(csv_empty_field)
{
    csm_read_options o = defaults();
    expect_line("empty_field.csv", &o, 2, "column 1: missing value (empty field)", "dropna");
}
END_TEST

START_TEST(csv_label_fraction)
{
    csm_read_options o = defaults();
    expect_line("label_fraction.csv", &o, 2, "label '2.5'", "not an integer");
}
END_TEST

START_TEST(csv_label_fraction_as_text)
{
    /* fraction_labels: "2.5" is a class name, and the integer before it
     * becomes its text "0" */
    csm_read_options o = defaults();
    o.fraction_labels = 1;
    csm_table t;
    read_ok("label_fraction.csv", &o, &t);
    ck_assert_uint_eq(t.n, 2);
    ck_assert_uint_eq(t.n_label_names, 2);
    ck_assert_str_eq(t.label_names[0], "0");
    ck_assert_str_eq(t.label_names[1], "2.5");
    ck_assert_int_eq(t.labels[0], 0);
    ck_assert_int_eq(t.labels[1], 1);
    csm_table_free(&t);
}
END_TEST

START_TEST(csv_label_integers_with_fraction_option)
{
    /* without a fractional label the labels stay integers */
    csm_read_options o = defaults();
    o.fraction_labels = 1;
    csm_table t;
    read_ok("label_integral_float.csv", &o, &t);
    ck_assert_ptr_null(t.label_names);
    ck_assert_int_eq(t.labels[0], 2);
    ck_assert_int_eq(t.labels[1], -1);
    csm_table_free(&t);
}
END_TEST

START_TEST(csv_label_text)
{
    /* a label that is no number makes every label a name: "0" and "x" */
    csm_read_options o = defaults();
    csm_table t;
    read_ok("label_text.csv", &o, &t);
    ck_assert_uint_eq(t.n_label_names, 2);
    ck_assert_str_eq(t.label_names[0], "0");
    ck_assert_str_eq(t.label_names[1], "x");
    ck_assert_int_eq(t.labels[0], 0);
    ck_assert_int_eq(t.labels[1], 1);
    csm_table_free(&t);
}
END_TEST

START_TEST(csv_blank_line_inside)
{
    csm_read_options o = defaults();
    expect_line("blank_middle.csv", &o, 2, "blank line inside the data", NULL);
}
END_TEST

START_TEST(csv_one_column)
{
    csm_read_options o = defaults();
    expect_line("one_column.csv", &o, 1, "no delimiter", NULL);
}
END_TEST

START_TEST(csv_header_width_mismatch)
{
    csm_read_options o = defaults();
    /* one name short would be R's row names; two short is an error */
    expect_line("header_mismatch.csv", &o, 1, "header has 2 columns", "has 4");
}
END_TEST

START_TEST(csv_corrupt_gzip)
{
    csm_read_options o = defaults();
    expect_error("corrupt.csv.gz", &o, NULL, ":#: ", "corrupt or truncated gzip", "zlib: ");
}
END_TEST

START_TEST(csv_truncated_gzip)
{
    /* the lines before the cut are read; the cut itself is the error */
    csm_read_options o = defaults();
    expect_error("truncated.csv.gz", &o, NULL, ":#: ", "gzip", "unexpected end of file");
}
END_TEST

START_TEST(missing_file)
{
    csm_read_options o = defaults();
    expect_error("no-such-file.csv", &o, NULL, ": ", "cannot open", NULL);
}
END_TEST

/* ------------------------------------------------------------- good libsvm */

static const double SVM_X[] = {0.5, 0, -2, 0, 0, 10, 0, 0, 1, 0, 0, 4};
static const int64_t SVM_Y[] = {1, -1, 3};

START_TEST(libsvm_good)
{
    csm_read_options o = defaults();
    csm_table t;
    read_ok("good.svm", &o, &t);
    check_f64(&t, 3, 4, SVM_X, SVM_Y);
    csm_table_free(&t);
}
END_TEST

START_TEST(libsvm_gzip_same_as_plain)
{
    csm_read_options o = defaults();
    csm_table t;
    read_ok("good.svm.gz", &o, &t);
    check_f64(&t, 3, 4, SVM_X, SVM_Y);
    csm_table_free(&t);
}
END_TEST

START_TEST(libsvm_n_features_pads)
{
    csm_read_options o = defaults();
    o.n_features = 6;
    csm_table t;
    read_ok("good.svm", &o, &t);
    double x[18] = {0};
    for (size_t i = 0; i < 3; i++)
        memcpy(x + 6 * i, SVM_X + 4 * i, 4 * sizeof(double));
    check_f64(&t, 3, 6, x, SVM_Y);
    csm_table_free(&t);
}
END_TEST

START_TEST(libsvm_n_features_too_small)
{
    csm_read_options o = defaults();
    o.n_features = 3;
    expect_line("good.svm", &o, 5, "feature index '4' exceeds the feature count 3", NULL);
}
END_TEST

/* -------------------------------------------------------------- bad libsvm */

START_TEST(libsvm_empty)
{
    csm_read_options o = defaults();
    expect_line("empty.svm", &o, 3, "no samples", NULL);
}
END_TEST

START_TEST(libsvm_index0)
{
    csm_read_options o = defaults();
    expect_line("index0.svm", &o, 2, "feature index 0", "start at 1");
}
END_TEST

START_TEST(libsvm_decreasing)
{
    csm_read_options o = defaults();
    expect_line("decreasing.svm", &o, 2, "feature index 2 after 3", "increasing");
}
END_TEST

START_TEST(libsvm_duplicate)
{
    csm_read_options o = defaults();
    expect_line("duplicate.svm", &o, 1, "duplicate feature index 2", NULL);
}
END_TEST

START_TEST(libsvm_nan)
{
    csm_read_options o = defaults();
    expect_line("nan.svm", &o, 2, "feature 1: not a finite number", "'NaN'");
}
END_TEST

START_TEST(libsvm_pair_without_colon)
{
    csm_read_options o = defaults();
    expect_line("badpair.svm", &o, 2, "expected INDEX:VALUE", "'2'");
}
END_TEST

START_TEST(libsvm_negative_index)
{
    csm_read_options o = defaults();
    expect_line("badindex.svm", &o, 1, "bad feature index '-1'", NULL);
}
END_TEST

START_TEST(libsvm_fractional_label)
{
    csm_read_options o = defaults();
    expect_line("badlabel.svm", &o, 2, "label '1.5'", "not an integer");
}
END_TEST

START_TEST(libsvm_missing_label)
{
    csm_read_options o = defaults();
    expect_line("nolabel.svm", &o, 1, "label '1:1'", "must start with the label");
}
END_TEST

START_TEST(libsvm_no_features)
{
    csm_read_options o = defaults();
    expect_error("nofeatures.svm", &o, NULL, ": ", "no features", NULL);
}
END_TEST

START_TEST(libsvm_empty_value)
{
    csm_read_options o = defaults();
    expect_line("emptyvalue.svm", &o, 1, "feature 1: empty field", NULL);
}
END_TEST

START_TEST(libsvm_huge_index)
{
    csm_read_options o = defaults();
    expect_line("hugeindex.svm", &o, 1, "'99999999999' is too large", NULL);
}
END_TEST

/* ------------------------------------------------------------- sparse libsvm */

/* sparse.svm: 4 x 40, stored values at (0,2) (0,39) (2,16) (3,0) (3,1)
 * (3,39); sample 1 has none, sample 2 one. */
static const int64_t SP_ROWS[] = {0, 2, 2, 3, 6};
static const int32_t SP_COLS[] = {2, 39, 16, 0, 1, 39};
static const double SP_VALS[] = {0.5, 2, -1.25, 1e-3, 2, 0};
static const int64_t SP_Y[] = {1, 2, -1, 1};

static void check_csr(const csm_table *t, size_t n, size_t k, const int64_t *rows,
                      const int32_t *cols, const double *vals, const int64_t *labels)
{
    ck_assert_int_eq(t->sparse, 1);
    ck_assert_ptr_null(t->features);
    ck_assert_int_eq(t->dtype, CSM_DTYPE_F64);
    ck_assert_uint_eq(t->n, n);
    ck_assert_uint_eq(t->k, k);
    ck_assert_uint_eq(t->nnz, (uint64_t)rows[n]);
    for (size_t i = 0; i <= n; i++)
        ck_assert_msg(t->row_ptr[i] == rows[i], "row_ptr[%zu] = %lld, expected %lld", i,
                      (long long)t->row_ptr[i], (long long)rows[i]);
    for (int64_t at = 0; at < rows[n]; at++) {
        ck_assert_int_eq(t->col_idx[at], cols[at]);
        ck_assert_msg(t->values[at] == vals[at], "value %lld: %.17g, expected %.17g",
                      (long long)at, t->values[at], vals[at]);
    }
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(t->labels[i], labels[i]);
}

/* Every value through csm_table_value equals the dense expansion. */
static void check_values_match(const csm_table *a, const csm_table *b)
{
    ck_assert_uint_eq(a->n, b->n);
    ck_assert_uint_eq(a->k, b->k);
    for (size_t i = 0; i < a->n; i++) {
        ck_assert_int_eq(a->labels[i], b->labels[i]);
        for (size_t j = 0; j < a->k; j++)
            ck_assert_msg(csm_table_value(a, i, j) == csm_table_value(b, i, j),
                          "(%zu, %zu): %.17g vs %.17g", i, j, csm_table_value(a, i, j),
                          csm_table_value(b, i, j));
    }
}

START_TEST(libsvm_csr_exact)
{
    csm_read_options o = defaults();
    o.storage = CSM_STORAGE_SPARSE;
    csm_table t;
    read_ok("sparse.svm", &o, &t);
    check_csr(&t, 4, 40, SP_ROWS, SP_COLS, SP_VALS, SP_Y);
    ck_assert(csm_table_value(&t, 0, 2) == 0.5);
    ck_assert(csm_table_value(&t, 0, 3) == 0.0);
    ck_assert(csm_table_value(&t, 1, 0) == 0.0); /* the empty sample */
    ck_assert(csm_table_value(&t, 2, 16) == -1.25);
    ck_assert(csm_table_value(&t, 3, 39) == 0.0); /* an explicit zero */
    csm_table_free(&t);
    ck_assert_ptr_null(t.row_ptr);
}
END_TEST

START_TEST(libsvm_auto_storage_by_density)
{
    csm_read_options o = defaults();
    csm_table t;
    /* 6 of 160 values (3.75%) < 5%: sparse */
    read_ok("sparse.svm", &o, &t);
    check_csr(&t, 4, 40, SP_ROWS, SP_COLS, SP_VALS, SP_Y);
    ck_assert(csm_auto_sparse(4, 40, 6));
    csm_table_free(&t);
    /* 5 of 12 (42%): dense, as before sparse storage existed */
    read_ok("good.svm", &o, &t);
    ck_assert_int_eq(t.sparse, 0);
    check_f64(&t, 3, 4, SVM_X, SVM_Y);
    ck_assert_uint_eq(t.nnz, 5);
    csm_table_free(&t);
    /* the threshold itself is dense */
    ck_assert(!csm_auto_sparse(10, 10, 5));
    ck_assert(csm_auto_sparse(10, 10, 4));
    ck_assert(csm_auto_sparse(2, 100000000, 2));
}
END_TEST

START_TEST(libsvm_dense_and_sparse_agree)
{
    csm_read_options o = defaults();
    csm_table s, d;
    o.storage = CSM_STORAGE_SPARSE;
    read_ok("sparse.svm", &o, &s);
    o.storage = CSM_STORAGE_DENSE;
    read_ok("sparse.svm", &o, &d);
    ck_assert_int_eq(d.sparse, 0);
    ck_assert_ptr_null(d.row_ptr);
    ck_assert_uint_eq(d.nnz, 5); /* the explicit zero is not a non-zero */
    check_values_match(&s, &d);
    csm_table_free(&s);
    csm_table_free(&d);
    /* the dense-looking file forced sparse */
    o.storage = CSM_STORAGE_SPARSE;
    read_ok("good.svm", &o, &s);
    static const int64_t rows[] = {0, 2, 3, 5};
    static const int32_t cols[] = {0, 2, 1, 0, 3};
    static const double vals[] = {0.5, -2, 10, 1, 4};
    check_csr(&s, 3, 4, rows, cols, vals, SVM_Y);
    csm_table_free(&s);
}
END_TEST

START_TEST(libsvm_sparse_n_features_pads)
{
    csm_read_options o = defaults();
    o.storage = CSM_STORAGE_SPARSE;
    o.n_features = 1000;
    csm_table t;
    read_ok("sparse.svm", &o, &t);
    check_csr(&t, 4, 1000, SP_ROWS, SP_COLS, SP_VALS, SP_Y);
    csm_table_free(&t);
    o.n_features = 39;
    expect_line("sparse.svm", &o, 1, "feature index '40' exceeds the feature count 39", NULL);
}
END_TEST

/* Prediction reads with the model's feature count and skips the rest:
 * features 17 and 40 are beyond 10, in 3 stored values. */
START_TEST(libsvm_skip_extra_features)
{
    csm_read_options o = defaults();
    o.storage = CSM_STORAGE_SPARSE;
    o.n_features = 10;
    o.skip_extra_features = 1;
    csm_table t;
    read_ok("sparse.svm", &o, &t);
    static const int64_t rows[] = {0, 1, 1, 1, 3};
    static const int32_t cols[] = {2, 0, 1};
    static const double vals[] = {0.5, 1e-3, 2};
    check_csr(&t, 4, 10, rows, cols, vals, SP_Y);
    ck_assert_uint_eq(t.skipped_nnz, 3);
    ck_assert_uint_eq(t.skipped_features, 2);
    csm_table_free(&t);
    /* dense too; and nothing skipped when all fit */
    o.storage = CSM_STORAGE_DENSE;
    read_ok("sparse.svm", &o, &t);
    ck_assert_uint_eq(t.skipped_nnz, 3);
    ck_assert(csm_table_value(&t, 3, 1) == 2.0);
    csm_table_free(&t);
    o.n_features = 40;
    read_ok("sparse.svm", &o, &t);
    ck_assert_uint_eq(t.skipped_nnz, 0);
    ck_assert_uint_eq(t.skipped_features, 0);
    csm_table_free(&t);
    /* the checks of a skipped pair stay: order, value */
    o.n_features = 1;
    expect_line("decreasing.svm", &o, 2, "feature index 2 after 3", "increasing");
    expect_line("nan.svm", &o, 2, "feature 1: not a finite number", NULL);
}
END_TEST

/* Built with AddressSanitizer (the CI's sanitizer step)? */
#if defined(__SANITIZE_ADDRESS__)
#define CSM_TEST_ASAN 1 /* gcc */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CSM_TEST_ASAN 1 /* clang */
#endif
#endif

/* A 23-byte file naming feature 100000000 reads in memory proportional to
 * its two values: under an address-space limit far below the 1.6 GB of a
 * dense table, the read succeeds and the table is sparse. */
START_TEST(libsvm_wide_file_stays_small)
{
    csm_read_options o = defaults();
    csm_table t;
    char err[1024] = "";
#ifdef CSM_TEST_ASAN
    /* AddressSanitizer has already reserved terabytes of address space for
     * its shadow memory, so under any RLIMIT_AS every further mapping fails:
     * only the sparse read is checked, without the limit. */
    int rc = csm_read_table(data("wide.svm"), &o, &t, err, sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
#else
    struct rlimit old, lim;
    ck_assert_int_eq(getrlimit(RLIMIT_AS, &old), 0);
    lim = old;
    lim.rlim_cur = (rlim_t)1 << 30; /* 1 GiB of address space */
    if (old.rlim_cur != RLIM_INFINITY && old.rlim_cur < lim.rlim_cur)
        lim.rlim_cur = old.rlim_cur;
    ck_assert_int_eq(setrlimit(RLIMIT_AS, &lim), 0);
    int rc = csm_read_table(data("wide.svm"), &o, &t, err, sizeof err);
    /* the limit bites: the dense table does not fit under it, and says so */
    csm_table d;
    char derr[1024] = "";
    o.storage = CSM_STORAGE_DENSE;
    int drc = csm_read_table(data("wide.svm"), &o, &d, derr, sizeof derr);
    setrlimit(RLIMIT_AS, &old);
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_msg(drc != 0, "a 2 x 100000000 dense table fit in 1 GiB");
    ck_assert_msg(strstr(derr, "wide.svm: out of memory for a table of 2 x 100000000 doubles"),
                  "%s", derr);
    ck_assert_ptr_null(d.row_ptr);
#endif
    static const int64_t rows[] = {0, 1, 2};
    static const int32_t cols[] = {99999999, 2};
    static const double vals[] = {1, 2.5};
    static const int64_t y[] = {1, -1};
    check_csr(&t, 2, 100000000, rows, cols, vals, y);
    ck_assert(csm_table_value(&t, 0, 99999999) == 1.0);
    ck_assert(csm_table_value(&t, 0, 2) == 0.0);
    csm_table_free(&t);
}
END_TEST

/* The existing libsvm errors, with the same FILE:LINE messages whatever
 * the storage. */
START_TEST(libsvm_errors_in_every_storage)
{
    static const csm_storage all[] = {CSM_STORAGE_AUTO, CSM_STORAGE_DENSE, CSM_STORAGE_SPARSE};
    for (size_t i = 0; i < 3; i++) {
        csm_read_options o = defaults();
        o.storage = all[i];
        expect_line("empty.svm", &o, 3, "no samples", NULL);
        expect_line("index0.svm", &o, 2, "feature index 0", "start at 1");
        expect_line("decreasing.svm", &o, 2, "feature index 2 after 3", "increasing");
        expect_line("duplicate.svm", &o, 1, "duplicate feature index 2", NULL);
        expect_line("nan.svm", &o, 2, "feature 1: not a finite number", "'NaN'");
        expect_line("badpair.svm", &o, 2, "expected INDEX:VALUE", "'2'");
        expect_line("badindex.svm", &o, 1, "bad feature index '-1'", NULL);
        expect_line("badlabel.svm", &o, 2, "label '1.5'", "not an integer");
        expect_line("nolabel.svm", &o, 1, "label '1:1'", "must start with the label");
        expect_error("nofeatures.svm", &o, NULL, ": ", "no features", NULL);
        expect_line("emptyvalue.svm", &o, 1, "feature 1: empty field", NULL);
        expect_line("hugeindex.svm", &o, 1, "'99999999999' is too large", NULL);
        o.n_features = 3;
        expect_line("good.svm", &o, 5, "feature index '4' exceeds the feature count 3", NULL);
    }
}
END_TEST

/* --sparse on CSV and IDX: read dense, then compressed to the non-zeros. */
START_TEST(csv_and_idx_forced_sparse)
{
    csm_read_options o = defaults();
    csm_table s, d;
    read_ok("good.csv", &o, &d);
    ck_assert_int_eq(d.sparse, 0);
    ck_assert_uint_eq(d.nnz, 8); /* GOOD_X has one zero */
    o.storage = CSM_STORAGE_SPARSE;
    read_ok("good.csv", &o, &s);
    static const int64_t rows[] = {0, 3, 5, 8};
    static const int32_t cols[] = {0, 1, 2, 1, 2, 0, 1, 2};
    static const double vals[] = {1.5, -2, 3e2, 0.25, -1e-3, 4, 5, 6};
    check_csr(&s, 3, 3, rows, cols, vals, GOOD_Y);
    check_values_match(&s, &d);
    csm_table_free(&s);
    csm_table_free(&d);

    /* u8 pixels become byte / 255, as the dense table reads them */
    o = defaults();
    read_ok("tiny-images-idx3-ubyte", &o, &d);
    o.storage = CSM_STORAGE_SPARSE;
    read_ok("tiny-images-idx3-ubyte", &o, &s);
    ck_assert_int_eq(s.sparse, 1);
    ck_assert_uint_eq(s.nnz, 11); /* one zero pixel of 12 */
    check_values_match(&s, &d);
    csm_table_free(&s);
    csm_table_free(&d);
    /* --dense is the default for CSV: no change */
    o = defaults();
    o.storage = CSM_STORAGE_DENSE;
    read_ok("good.csv", &o, &d);
    check_f64(&d, 3, 3, GOOD_X, GOOD_Y);
    csm_table_free(&d);
}
END_TEST

/* Row subsets (--validation-split) keep the storage and the rows' values. */
START_TEST(table_take_rows)
{
    static const size_t pick[] = {3, 1, 0};
    csm_read_options o = defaults();
    for (int sparse = 0; sparse < 2; sparse++) {
        o.storage = sparse ? CSM_STORAGE_SPARSE : CSM_STORAGE_DENSE;
        csm_table t, sub;
        read_ok("sparse.svm", &o, &t);
        ck_assert_int_eq(csm_table_take_rows(&t, pick, 3, &sub), 0);
        ck_assert_int_eq(sub.sparse, sparse);
        ck_assert_uint_eq(sub.n, 3);
        ck_assert_uint_eq(sub.k, 40);
        /* rows 3, 1, 0: 5 stored values, 4 of them non-zero */
        ck_assert_uint_eq(sub.nnz, (sparse ? 5 : 4));
        for (size_t i = 0; i < 3; i++) {
            ck_assert_int_eq(sub.labels[i], t.labels[pick[i]]);
            for (size_t j = 0; j < 40; j++)
                ck_assert(csm_table_value(&sub, i, j) == csm_table_value(&t, pick[i], j));
        }
        if (sparse) {
            ck_assert_int_eq(sub.row_ptr[0], 0);
            ck_assert_int_eq(sub.row_ptr[1], 3);
            ck_assert_int_eq(sub.row_ptr[2], 3); /* the empty sample */
            ck_assert_int_eq(sub.row_ptr[3], 5);
            ck_assert_int_eq(sub.col_idx[3], 2);
        }
        csm_table_free(&sub);
        /* no rows at all */
        ck_assert_int_eq(csm_table_take_rows(&t, pick, 0, &sub), 0);
        ck_assert_uint_eq(sub.n, 0);
        csm_table_free(&sub);
        csm_table_free(&t);
    }
}
END_TEST

START_TEST(table_convert_round_trip)
{
    csm_read_options o = defaults();
    o.storage = CSM_STORAGE_SPARSE;
    csm_table t, ref;
    char err[256] = "";
    read_ok("sparse.svm", &o, &t);
    read_ok("sparse.svm", &o, &ref);
    ck_assert_int_eq(csm_table_convert(&t, CSM_STORAGE_DENSE, "x", err, sizeof err), 0);
    ck_assert_int_eq(t.sparse, 0);
    check_values_match(&t, &ref);
    ck_assert_int_eq(csm_table_convert(&t, CSM_STORAGE_AUTO, "x", err, sizeof err), 0);
    ck_assert_int_eq(t.sparse, 0); /* auto leaves a table as it is */
    ck_assert_int_eq(csm_table_convert(&t, CSM_STORAGE_SPARSE, "x", err, sizeof err), 0);
    ck_assert_int_eq(t.sparse, 1);
    ck_assert_uint_eq(t.nnz, 5); /* the explicit zero is gone */
    check_values_match(&t, &ref);
    csm_table_free(&t);
    csm_table_free(&ref);
}
END_TEST

/* ---------------------------------------------------------------- good IDX */

static const unsigned char TINY_X[] = {0, 255, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
static const int64_t TINY_Y[] = {7, 0, 7};

static void check_tiny(const csm_table *t)
{
    ck_assert_uint_eq(t->n, 3);
    ck_assert_uint_eq(t->k, 4);
    ck_assert_int_eq(t->dtype, CSM_DTYPE_U8);
    ck_assert_mem_eq(t->features, TINY_X, sizeof TINY_X);
    for (size_t i = 0; i < 3; i++)
        ck_assert_int_eq(t->labels[i], TINY_Y[i]);
}

START_TEST(idx_u8_labels_derived)
{
    csm_read_options o = defaults();
    csm_table t;
    read_ok("tiny-images-idx3-ubyte", &o, &t);
    check_tiny(&t);
    /* the library's meaning of a byte feature */
    ck_assert(csm_table_value(&t, 0, 1) == 1.0);
    ck_assert(csm_table_value(&t, 1, 0) == 3.0 / 255.0);
    csm_table_free(&t);
}
END_TEST

START_TEST(idx_gzip_both)
{
    csm_read_options o = defaults();
    csm_table t;
    read_ok("tinygz-images-idx3-ubyte.gz", &o, &t);
    check_tiny(&t);
    csm_table_free(&t);
}
END_TEST

START_TEST(idx_gzip_images_plain_labels)
{
    csm_read_options o = defaults();
    csm_table t;
    read_ok("mixgz-images-idx3-ubyte.gz", &o, &t);
    check_tiny(&t);
    csm_table_free(&t);
}
END_TEST

START_TEST(idx_explicit_labels)
{
    csm_read_options o = defaults();
    o.format = CSM_FORMAT_IDX;
    o.labels_path = data("tinygz-labels-idx1-ubyte.gz");
    csm_table t;
    read_ok("mismatch-images-idx3-ubyte", &o, &t); /* same images as tiny */
    check_tiny(&t);
    csm_table_free(&t);
}
END_TEST

START_TEST(idx_f64_images_i32_labels)
{
    csm_read_options o = defaults();
    csm_table t;
    read_ok("f64-images-idx3-ubyte", &o, &t);
    const double x[] = {-1.5, 0.0, 2.25, 1e300, -7.0, 0.125};
    const int64_t y[] = {-5, 100000};
    check_f64(&t, 2, 3, x, y);
    ck_assert(csm_table_value(&t, 1, 0) == 1e300);
    csm_table_free(&t);
}
END_TEST

START_TEST(idx_i16_images_i8_labels)
{
    csm_read_options o = defaults();
    csm_table t;
    read_ok("i16-images-idx3-ubyte", &o, &t);
    const double x[] = {-2, 300, 32767, -32768};
    const int64_t y[] = {-1, 1};
    check_f64(&t, 2, 2, x, y);
    csm_table_free(&t);
}
END_TEST

START_TEST(idx_f32_images_i16_labels)
{
    csm_read_options o = defaults();
    csm_table t;
    read_ok("f32-images-idx3-ubyte", &o, &t);
    const double x[] = {0.5, -3.0};
    const int64_t y[] = {-300};
    check_f64(&t, 1, 2, x, y);
    csm_table_free(&t);
}
END_TEST

/* ----------------------------------------------------------------- bad IDX */

START_TEST(idx_empty)
{
    csm_read_options o = defaults();
    expect_byte("empty-images-idx3-ubyte", &o, NULL, 0, "empty file", NULL);
}
END_TEST

START_TEST(idx_bad_magic)
{
    csm_read_options o = defaults();
    expect_byte("badmagic-images-idx3-ubyte", &o, NULL, 0, "bad magic 0x50350a32",
                "not an IDX file");
}
END_TEST

START_TEST(idx_bad_type)
{
    csm_read_options o = defaults();
    expect_byte("badtype-images-idx3-ubyte", &o, NULL, 2, "unknown IDX data type 0x07", NULL);
}
END_TEST

START_TEST(idx_zero_dims)
{
    csm_read_options o = defaults();
    expect_byte("zerodims-images-idx3-ubyte", &o, NULL, 3, "zero dimensions", NULL);
}
END_TEST

START_TEST(idx_short_header)
{
    csm_read_options o = defaults();
    expect_byte("shortheader-images-idx3-ubyte", &o, NULL, 12, "truncated header", NULL);
}
END_TEST

START_TEST(idx_zero_size_dimension)
{
    csm_read_options o = defaults();
    expect_byte("zerosize-images-idx3-ubyte", &o, NULL, 8, "dimension 1 has size 0", NULL);
}
END_TEST

START_TEST(idx_no_samples)
{
    csm_read_options o = defaults();
    expect_byte("nosamples-images-idx3-ubyte", &o, NULL, 4, "no samples", NULL);
}
END_TEST

START_TEST(idx_truncated)
{
    csm_read_options o = defaults();
    expect_byte("truncated-images-idx3-ubyte", &o, NULL, 26, "truncated",
                "announces 12 bytes of data");
}
END_TEST

START_TEST(idx_trailing_garbage)
{
    csm_read_options o = defaults();
    expect_byte("trailing-images-idx3-ubyte", &o, NULL, 28, "trailing data", NULL);
}
END_TEST

START_TEST(idx_size_overflow)
{
    csm_read_options o = defaults();
    expect_byte("overflow-images-idx3-ubyte", &o, NULL, 4, "overflow", NULL);
}
END_TEST

START_TEST(idx_huge_claim_is_truncated_not_malloced)
{
    /* 10^11 bytes announced, 4 present: must fail fast as truncated */
    csm_read_options o = defaults();
    expect_byte("huge-images-idx3-ubyte", &o, NULL, 20, "truncated",
                "announces 100000000000 bytes");
}
END_TEST

START_TEST(idx_label_count_mismatch)
{
    csm_read_options o = defaults();
    expect_byte("mismatch-images-idx3-ubyte", &o, "mismatch-labels-idx1-ubyte", 4,
                "label count mismatch", "2 labels");
}
END_TEST

START_TEST(idx_float_labels)
{
    csm_read_options o = defaults();
    expect_byte("floatlab-images-idx3-ubyte", &o, "floatlab-labels-idx1-ubyte", 2,
                "labels must be integers", "f32");
}
END_TEST

START_TEST(idx_labels_not_1d)
{
    csm_read_options o = defaults();
    expect_byte("labels2d-images-idx3-ubyte", &o, "labels2d-labels-idx1-ubyte", 3,
                "1 dimension", "has 2");
}
END_TEST

START_TEST(idx_truncated_labels)
{
    csm_read_options o = defaults();
    expect_byte("shortlabels-images-idx3-ubyte", &o, "shortlabels-labels-idx1-ubyte", 10,
                "truncated", NULL);
}
END_TEST

START_TEST(idx_nan_feature)
{
    csm_read_options o = defaults();
    expect_byte("nan-images-idx3-ubyte", &o, NULL, 16, "NaN or Inf", "sample 0, feature 1");
}
END_TEST

START_TEST(idx_no_labels_file)
{
    csm_read_options o = defaults();
    expect_error("nolabels-images-idx3-ubyte", &o, NULL, ": ", "no labels file",
                 "nolabels-labels-idx1-ubyte");
}
END_TEST

START_TEST(idx_labels_file_given_as_images)
{
    csm_read_options o = defaults();
    expect_byte("tiny-labels-idx1-ubyte", &o, NULL, 3, "1 dimension",
                "needs at least 2");
}
END_TEST

START_TEST(idx_corrupt_gzip)
{
    csm_read_options o = defaults();
    expect_error("corrupt-images-idx3-ubyte.gz", &o, NULL, ": byte ",
                 "corrupt or truncated gzip", "zlib: ");
}
END_TEST

/* ---------------------------------------------------------- formats, labels */

START_TEST(format_detection)
{
    ck_assert_int_eq(csm_detect_format("a/b.csv"), CSM_FORMAT_CSV);
    ck_assert_int_eq(csm_detect_format("b.TSV.gz"), CSM_FORMAT_CSV);
    /* .txt holds CSV and libsvm alike: the content decides (check_io_detect) */
    ck_assert_int_eq(csm_detect_format("b.txt"), CSM_FORMAT_AUTO);
    ck_assert_int_eq(csm_detect_format("b.svm"), CSM_FORMAT_LIBSVM);
    ck_assert_int_eq(csm_detect_format("b.libsvm.gz"), CSM_FORMAT_LIBSVM);
    ck_assert_int_eq(csm_detect_format("b.svmlight"), CSM_FORMAT_LIBSVM);
    ck_assert_int_eq(csm_detect_format("train-images-idx3-ubyte.gz"), CSM_FORMAT_IDX);
    ck_assert_int_eq(csm_detect_format("x.idx"), CSM_FORMAT_IDX);
    ck_assert_int_eq(csm_detect_format("x-ubyte"), CSM_FORMAT_IDX);
    ck_assert_int_eq(csm_detect_format("idx/data.bin"), CSM_FORMAT_AUTO);
    ck_assert_int_eq(csm_detect_format("data.gz"), CSM_FORMAT_AUTO);

    csm_format f = CSM_FORMAT_AUTO;
    ck_assert_int_eq(csm_parse_format("libsvm", &f), 0);
    ck_assert_int_eq(f, CSM_FORMAT_LIBSVM);
    ck_assert_int_eq(csm_parse_format("idx", &f), 0);
    ck_assert_int_eq(f, CSM_FORMAT_IDX);
    ck_assert_int_ne(csm_parse_format("parquet", &f), 0);
    ck_assert_str_eq(csm_format_name(CSM_FORMAT_CSV), "csv");
}
END_TEST

START_TEST(format_unknown_asks_for_option)
{
    csm_read_options o = defaults();
    expect_error("make-fixtures.py", &o, NULL, ": ", "cannot tell the format", "--format");
}
END_TEST

START_TEST(format_option_overrides_name)
{
    /* a CSV read as libsvm fails at its first label */
    csm_read_options o = defaults();
    o.format = CSM_FORMAT_LIBSVM;
    expect_line("good.csv", &o, 1, "label '0,1.5,-2,3e2'", "not a number");
}
END_TEST

START_TEST(options_defaults_and_null)
{
    csm_read_options o;
    memset(&o, 0x5A, sizeof o);
    csm_read_options_init(&o);
    ck_assert_int_eq(o.format, CSM_FORMAT_AUTO);
    ck_assert_int_eq(o.label_column, 0);
    ck_assert_int_eq(o.header, -1);
    ck_assert_ptr_null(o.labels_path);
    ck_assert_uint_eq(o.n_features, 0);
    ck_assert_int_eq(o.storage, CSM_STORAGE_AUTO);
    ck_assert_int_eq(o.skip_extra_features, 0);
    csm_table t;
    char err[256];
    ck_assert_int_eq(csm_read_table(data("good.csv"), NULL, &t, err, sizeof err), 0);
    ck_assert_uint_eq(t.n, 3);
    csm_table_free(&t);
    csm_table_free(&t); /* twice is harmless */
    csm_table_free(NULL);
}
END_TEST

START_TEST(labels_distinct_and_map)
{
    const int64_t raw[] = {3, -1, 3, 7, -1, INT64_MIN};
    int64_t *classes = NULL;
    size_t nc = 0;
    ck_assert_int_eq(csm_distinct_labels(raw, 6, &classes, &nc), 0);
    ck_assert_uint_eq(nc, 4);
    ck_assert(classes[0] == INT64_MIN);
    ck_assert_int_eq(classes[1], -1);
    ck_assert_int_eq(classes[2], 3);
    ck_assert_int_eq(classes[3], 7);
    int32_t mapped[6];
    ck_assert_uint_eq(csm_map_labels(raw, 6, classes, nc, mapped), 6);
    const int32_t want[] = {2, 1, 2, 3, 1, 0};
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(mapped[i], want[i]);
    /* a test file with a label the training file lacked */
    const int64_t other[] = {7, 3, 5, -1};
    ck_assert_uint_eq(csm_map_labels(other, 4, classes, nc, mapped), 2);
    ck_assert_uint_eq(csm_map_labels(other, 2, classes, nc, mapped), 2);
    free(classes);

    ck_assert_int_eq(csm_distinct_labels(raw, 0, &classes, &nc), 0);
    ck_assert_uint_eq(nc, 0);
    free(classes);
}
END_TEST

/* ------------------------------------------------------ number parsing */

START_TEST(numbers_strict)
{
    static const struct {
        const char *text;
        int rc;
        double value;
    } cases[] = {
        {"1.5", CSM_NUM_OK, 1.5},        {"-0.25", CSM_NUM_OK, -0.25},
        {"+3e2", CSM_NUM_OK, 300},       {".5", CSM_NUM_OK, 0.5},
        {"1.", CSM_NUM_OK, 1},           {"1e-400", CSM_NUM_OK, 0}, /* underflow is fine */
        {"0.1", CSM_NUM_OK, 0.1},        {"123456789012345678", CSM_NUM_OK, 123456789012345678.0},
        {"", CSM_NUM_EMPTY, 0},          {"1.5abc", CSM_NUM_SYNTAX, 0},
        {" 1", CSM_NUM_SYNTAX, 0},       {"1 ", CSM_NUM_SYNTAX, 0},
        {"0x10", CSM_NUM_SYNTAX, 0},     {"1e", CSM_NUM_SYNTAX, 0},
        {".", CSM_NUM_SYNTAX, 0},        {"--1", CSM_NUM_SYNTAX, 0},
        {"nan", CSM_NUM_NONFINITE, 0},   {"-Infinity", CSM_NUM_NONFINITE, 0},
        {"1e999", CSM_NUM_RANGE, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double v = -42;
        int rc = csm_parse_double(cases[i].text, strlen(cases[i].text), &v);
        ck_assert_msg(rc == cases[i].rc, "'%s': %d, expected %d", cases[i].text, rc,
                      cases[i].rc);
        if (rc == CSM_NUM_OK)
            ck_assert_msg(v == cases[i].value, "'%s': %.17g", cases[i].text, v);
    }
}
END_TEST

/* The fast decimal path must give strtod's correctly rounded double, bit
 * for bit, on every kind of decimal a data file holds. */
START_TEST(numbers_match_strtod)
{
    uint64_t state = 12345;
    char b[80];
    for (int it = 0; it < 300000; it++) {
        size_t len = 0;
        if (csm_test_rand(&state) % 3 == 0)
            b[len++] = "+-"[csm_test_rand(&state) % 2];
        int nd = (int)(csm_test_rand(&state) % 20);
        for (int i = 0; i < nd; i++)
            b[len++] = (char)('0' + csm_test_rand(&state) % 10);
        if (csm_test_rand(&state) % 2) {
            b[len++] = '.';
            int nf = (int)(csm_test_rand(&state) % 20);
            for (int i = 0; i < nf; i++)
                b[len++] = (char)('0' + csm_test_rand(&state) % 10);
        }
        if (csm_test_rand(&state) % 3 == 0) {
            b[len++] = 'e';
            if (csm_test_rand(&state) % 2)
                b[len++] = "+-"[csm_test_rand(&state) % 2];
            int ne = 1 + (int)(csm_test_rand(&state) % 3);
            for (int i = 0; i < ne; i++)
                b[len++] = (char)('0' + csm_test_rand(&state) % 10);
        }
        b[len] = '\0';
        double v = 0;
        int rc = csm_parse_double(b, len, &v);
        char *end = NULL;
        double w = strtod(b, &end);
        if (end != b + len || len == 0) {
            ck_assert_msg(rc != CSM_NUM_OK, "'%s' accepted", b);
            continue;
        }
        if (!isfinite(w)) {
            ck_assert_msg(rc == CSM_NUM_RANGE, "'%s': %d", b, rc);
            continue;
        }
        ck_assert_msg(rc == CSM_NUM_OK, "'%s' rejected: %d", b, rc);
        ck_assert_msg(memcmp(&v, &w, sizeof v) == 0, "'%s': %.17g, strtod %.17g", b, v, w);
    }
}
END_TEST

START_TEST(labels_strict)
{
    static const struct {
        const char *text;
        int rc;
        int64_t value;
    } cases[] = {
        {"3", CSM_NUM_OK, 3},
        {"+1", CSM_NUM_OK, 1},
        {"-1", CSM_NUM_OK, -1},
        {"007", CSM_NUM_OK, 7},
        {"2.0", CSM_NUM_OK, 2},
        {"1e3", CSM_NUM_OK, 1000},
        {"1.000000e+00", CSM_NUM_OK, 1},
        {"9223372036854775807", CSM_NUM_OK, INT64_MAX},
        {"-9223372036854775808", CSM_NUM_OK, INT64_MIN},
        {"9223372036854775808", CSM_NUM_RANGE, 0},
        {"1e300", CSM_NUM_RANGE, 0},
        {"2.5", CSM_NUM_NOT_INTEGER, 0},
        {"", CSM_NUM_EMPTY, 0},
        {"x", CSM_NUM_SYNTAX, 0},
        {"1,2", CSM_NUM_SYNTAX, 0},
        {"0x1", CSM_NUM_SYNTAX, 0},
        {"nan", CSM_NUM_NONFINITE, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t v = -42;
        int rc = csm_parse_label(cases[i].text, strlen(cases[i].text), &v);
        ck_assert_msg(rc == cases[i].rc, "'%s': %d, expected %d", cases[i].text, rc,
                      cases[i].rc);
        if (rc == CSM_NUM_OK)
            ck_assert_msg(v == cases[i].value, "'%s': %lld", cases[i].text, (long long)v);
    }
}
END_TEST

/* ------------------------------------------------- files larger than a chunk */

/* A temporary file name; the file is created empty. */
static void temp_name(char *name, size_t len)
{
    const char *dir = getenv("TMPDIR");
    snprintf(name, len, "%s/csm_check_io_XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(name);
    ck_assert_msg(fd >= 0, "mkstemp %s failed", name);
    close(fd);
}

/* Row i of the big CSV: label i % 5, features i + 0.5, -i, i / 8. Odd rows
 * end in CRLF, so that line ends of both kinds fall on chunk borders. */
static int big_row(char *buf, size_t len, int i)
{
    return snprintf(buf, len, "%d,%d.5,%d,%.6g%s", i % 5, i, -i, i / 8.0,
                    i % 2 ? "\r\n" : "\n");
}

static void check_big(const csm_table *t, int rows)
{
    ck_assert_uint_eq(t->n, (size_t)rows);
    ck_assert_uint_eq(t->k, 3);
    const double *x = t->features;
    for (int i = 0; i < rows; i++) {
        char want[32];
        snprintf(want, sizeof want, "%.6g", i / 8.0);
        ck_assert_int_eq(t->labels[i], i % 5);
        ck_assert(x[3 * i] == i + 0.5);
        ck_assert(x[3 * i + 1] == -i);
        ck_assert(x[3 * i + 2] == strtod(want, NULL));
    }
}

START_TEST(big_csv_plain_and_gzip)
{
    enum { ROWS = 120000 }; /* about 3 MB: several 1 MiB chunks */
    char plain[4096], gzname[4096], row[96], err[1024] = "";
    temp_name(plain, sizeof plain);
    temp_name(gzname, sizeof gzname);
    FILE *f = fopen(plain, "wb");
    gzFile g = gzopen(gzname, "wb1");
    ck_assert(f && g);
    for (int i = 0; i < ROWS; i++) {
        int n = big_row(row, sizeof row, i);
        fwrite(row, 1, (size_t)n, f);
        gzwrite(g, row, (unsigned)n);
    }
    fclose(f);
    gzclose(g);

    csm_read_options o = defaults();
    o.format = CSM_FORMAT_CSV; /* the temporary names have no extension */
    csm_table t;
    int rc = csm_read_table(plain, &o, &t, err, sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
    check_big(&t, ROWS);
    csm_table_free(&t);
    rc = csm_read_table(gzname, &o, &t, err, sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
    check_big(&t, ROWS);
    csm_table_free(&t);
    unlink(plain);
    unlink(gzname);
}
END_TEST

START_TEST(lines_longer_than_a_chunk)
{
    enum { K = 300000 }; /* a CSV line of 1.2 MB, a libsvm line of 3 MB */
    char csv[4096], svm[4096], err[1024] = "";
    temp_name(csv, sizeof csv);
    temp_name(svm, sizeof svm);
    FILE *f = fopen(csv, "wb");
    FILE *g = fopen(svm, "wb");
    ck_assert(f && g);
    for (int r = 0; r < 2; r++) {
        fprintf(f, "%d", r);
        fprintf(g, "%d", r);
        for (int j = 0; j < K; j++) {
            fprintf(f, ",%d", (j + r) % 7);
            fprintf(g, " %d:%d", j + 1, (j + r) % 7);
        }
        fputc('\n', f);
        fputc('\n', g);
    }
    fclose(f);
    fclose(g);

    csm_read_options o = defaults();
    csm_table t;
    o.format = CSM_FORMAT_CSV;
    int rc = csm_read_table(csv, &o, &t, err, sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_uint_eq(t.n, 2);
    ck_assert_uint_eq(t.k, K);
    for (size_t i = 0; i < 2; i++)
        for (size_t j = 0; j < K; j += 997)
            ck_assert(csm_table_value(&t, i, j) == (double)((j + i) % 7));
    ck_assert(csm_table_value(&t, 1, K - 1) == (double)((K - 1 + 1) % 7));
    csm_table_free(&t);

    o.format = CSM_FORMAT_LIBSVM;
    rc = csm_read_table(svm, &o, &t, err, sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_uint_eq(t.n, 2);
    ck_assert_uint_eq(t.k, K);
    ck_assert_int_eq(t.labels[1], 1);
    for (size_t i = 0; i < 2; i++)
        for (size_t j = 0; j < K; j += 997)
            ck_assert(csm_table_value(&t, i, j) == (double)((j + i) % 7));
    csm_table_free(&t);
    unlink(csv);
    unlink(svm);
}
END_TEST

/* ----------------------------------------------------------- real MNIST */

/* The bundled Fashion-MNIST sample (examples/data: the first 2000 training
 * images), always in the tree: shape, dtype, the first labels and the
 * pixel sum of the first image, checked against an independent decode
 * (Python's gzip module, when the sample was cut). The labels file is
 * found from the images file's name. */
START_TEST(fashion_mnist_sample)
{
    const char *data = getenv("CSM_TEST_DATA");
    ck_assert_ptr_nonnull(data);
    char path[4096];
    snprintf(path, sizeof path, "%s/../../examples/data/train-images-idx3-ubyte.gz", data);
    csm_read_options o = defaults();
    csm_table t;
    char err[1024] = "";
    ck_assert_msg(csm_read_table(path, &o, &t, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(t.n, 2000);
    ck_assert_uint_eq(t.k, 784);
    ck_assert_int_eq(t.dtype, CSM_DTYPE_U8);
    static const int64_t first[10] = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5};
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(t.labels[i], first[i]);
    long sum = 0;
    for (int j = 0; j < 784; j++)
        sum += ((const unsigned char *)t.features)[j];
    ck_assert_int_eq(sum, 76247);
    csm_table_free(&t);
}
END_TEST

/* The full Fashion-MNIST training set, where the machine has it
 * (CSM_FASHION_MNIST_DIR, else /usr/share/datasets/fashion-mnist; the
 * Debian package dataset-fashion-mnist): 60000 x 784 bytes, 10 classes,
 * and the same first rows as the bundled sample cut from it. */
START_TEST(fashion_mnist_train)
{
    const char *dir = getenv("CSM_FASHION_MNIST_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte.gz",
             dir && *dir ? dir : "/usr/share/datasets/fashion-mnist");
    FILE *f = fopen(path, "rb");
    if (!f)
        return; /* not installed here; the bundled sample above still runs */
    fclose(f);

    csm_read_options o = defaults();
    csm_table t;
    char err[1024] = "";
    ck_assert_msg(csm_read_table(path, &o, &t, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(t.n, 60000);
    ck_assert_uint_eq(t.k, 784);
    ck_assert_int_eq(t.dtype, CSM_DTYPE_U8);
    int64_t *classes = NULL;
    size_t nc = 0;
    ck_assert_int_eq(csm_distinct_labels(t.labels, t.n, &classes, &nc), 0);
    ck_assert_uint_eq(nc, 10);
    ck_assert_int_eq(classes[0], 0);
    ck_assert_int_eq(classes[9], 9);
    ck_assert_int_eq(t.labels[0], 9);
    ck_assert_int_eq(t.labels[9], 5);
    free(classes);
    csm_table_free(&t);
}
END_TEST

/* ------------------------------------------- gzip members and long lines */

/* One gzip member of `text` appended to file f. */
static void gz_member(FILE *f, const char *text)
{
    unsigned char out[8192];
    z_stream z;
    memset(&z, 0, sizeof z);
    ck_assert_int_eq(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)text;
    z.avail_in = (uInt)strlen(text);
    z.next_out = out;
    z.avail_out = sizeof out;
    ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    fwrite(out, 1, sizeof out - z.avail_out, f);
    deflateEnd(&z);
}

/* The rows 0..n-1 of a small CSV, "label,x" with label i % 3. */
static void csv_rows(char *buf, size_t len, int from, int to)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = from; i < to; i++) {
        used += (size_t)snprintf(buf + used, len - used, "%d,%d.25\n", i % 3, i);
        ck_assert(used < len);
    }
}

/* A .gz file of several members reads as all of them, as `gzip -d` does:
 * cat a.gz b.gz is the concatenated data. */
START_TEST(gzip_members_all_read)
{
    char name[4096], a[4096], b[4096], c[4096], err[1024] = "";
    temp_name(name, sizeof name);
    csv_rows(a, sizeof a, 0, 30);
    csv_rows(b, sizeof b, 30, 60);
    csv_rows(c, sizeof c, 60, 61);
    FILE *f = fopen(name, "wb");
    ck_assert_ptr_nonnull(f);
    gz_member(f, a);
    gz_member(f, b);
    gz_member(f, "");
    gz_member(f, c);
    fclose(f);
    csm_read_options o = defaults();
    o.format = CSM_FORMAT_CSV;
    csm_table t;
    ck_assert_msg(csm_read_table(name, &o, &t, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(t.n, 61);
    for (size_t i = 0; i < 61; i++) {
        ck_assert_int_eq(t.labels[i], (int64_t)(i % 3));
        ck_assert(((const double *)t.features)[i] == (double)i + 0.25);
    }
    csm_table_free(&t);
    unlink(name);
}
END_TEST

/* A damaged member after a good one is an error, never the end of the
 * data (zlib's gzread read such a file as its first member, silently): a
 * second member whose header is hit (gzip -t: "trailing garbage"), whose
 * data is hit (a CRC error), or that is cut short; and bytes after the
 * last member that are no member. The lines of the good member come first;
 * the message names the member. */
START_TEST(gzip_bad_second_member)
{
    char name[4096], err[1024];
    static char a[1 << 15], b[1 << 15];
    csv_rows(a, sizeof a, 0, 30);
    csv_rows(b, sizeof b, 30, 1000);
    const char *kinds[] = {"header", "data", "cut", "garbage", "zeros"};
    const char *says[] = {"are not a gzip member", "in gzip member 2",
                          "gzip member 2 is cut short", "are not a gzip member",
                          "are not a gzip member"};
    for (int kind = 0; kind < 5; kind++) {
        temp_name(name, sizeof name);
        FILE *f = fopen(name, "wb");
        ck_assert_ptr_nonnull(f);
        gz_member(f, a);
        long second = ftell(f);
        if (kind < 3)
            gz_member(f, b);
        else
            fwrite(kind == 3 ? "not gzip\n" : "\0\0\0\0", 1, kind == 3 ? 9 : 4, f);
        long end = ftell(f);
        fclose(f);
        if (kind == 0 || kind == 1) { /* flip a byte: of the magic, or mid-data */
            f = fopen(name, "r+b");
            long at = kind == 0 ? second : second + (end - second) / 2;
            fseek(f, at, SEEK_SET);
            int ch = fgetc(f);
            fseek(f, at, SEEK_SET);
            fputc(ch ^ 0x55, f);
            fclose(f);
        } else if (kind == 2) {
            ck_assert(truncate(name, end - 12) == 0);
        }
        csm_read_options o = defaults();
        o.format = CSM_FORMAT_CSV;
        csm_table t;
        err[0] = '\0';
        ck_assert_msg(csm_read_table(name, &o, &t, err, sizeof err) != 0,
                      "%s: read as %zu rows", kinds[kind], t.n);
        ck_assert_msg(strstr(err, says[kind]) != NULL, "%s: %s", kinds[kind], err);
        ck_assert_msg(strstr(err, "gzip") != NULL, "%s: %s", kinds[kind], err);
        unlink(name);
    }
}
END_TEST

/* A line over the cap is an error naming it, after the lines before it
 * were read, CSV and libsvm; a line of exactly the cap is fine. */
START_TEST(line_cap)
{
    char name[4096], err[1024];
    for (int fmt = 0; fmt < 2; fmt++) {
        temp_name(name, sizeof name);
        FILE *f = fopen(name, "wb");
        ck_assert_ptr_nonnull(f);
        /* lines 1-2 short, line 3 of 200 bytes before its '\n' */
        fputs(fmt ? "1 1:2\n0 1:3\n1 1:1" : "1,2\n0,3\n1,", f);
        long len = fmt ? 5 : 2; /* "1 1:1", "1," */
        for (; len < 200; len++)
            fputc(fmt ? ' ' : '0', f);
        fputc('\n', f);
        fputs(fmt ? "0 1:4\n" : "0,4\n", f);
        fclose(f);
        csm_read_options o = defaults();
        o.format = fmt ? CSM_FORMAT_LIBSVM : CSM_FORMAT_CSV;
        o.max_line = 200;
        csm_table t;
        err[0] = '\0';
        ck_assert_msg(csm_read_table(name, &o, &t, err, sizeof err) == 0, "%s", err);
        ck_assert_uint_eq(t.n, 4);
        csm_table_free(&t);
        o.max_line = 199;
        ck_assert(csm_read_table(name, &o, &t, err, sizeof err) != 0);
        char want[4200];
        snprintf(want, sizeof want, "%s:3: line longer than 199 bytes, the limit of a line", name);
        ck_assert_msg(strcmp(err, want) == 0, "%s", err);
        unlink(name);
    }
}
END_TEST

/* A gzip file of `head` and then 65 MiB of '7', a line break every
 * `every` bytes (0: none, one at the end), read as CSV: the read fails with
 * a message holding `want` (and `want2`, may be NULL), holding about the
 * 64 MiB cap in memory, not the file. */
static void past_default_cap(const char *head, size_t every, const char *want, const char *want2)
{
    char name[4096], err[1024] = "";
    temp_name(name, sizeof name);
    gzFile g = gzopen(name, "wb9");
    ck_assert_ptr_nonnull(g);
    gzputs(g, head);
    static char block[1 << 16];
    memset(block, '7', sizeof block);
    for (size_t i = every - 1; every && i < sizeof block; i += every)
        block[i] = '\n';
    for (int i = 0; i < 65 * 16; i++)
        ck_assert_int_eq(gzwrite(g, block, sizeof block), (int)sizeof block);
    if (!every)
        gzputs(g, "\n");
    gzclose(g);
    csm_read_options o = defaults();
    o.format = CSM_FORMAT_CSV;
    csm_table t;
    ck_assert(csm_read_table(name, &o, &t, err, sizeof err) != 0);
    ck_assert_msg(strstr(err, want) != NULL, "%s", err);
    ck_assert_msg(!want2 || strstr(err, want2) != NULL, "%s", err);
    struct rusage ru;
    ck_assert(getrusage(RUSAGE_SELF, &ru) == 0);
#if !defined(__SANITIZE_ADDRESS__)
    ck_assert_msg(ru.ru_maxrss < 200 * 1024, "peak %ld KB", ru.ru_maxrss);
#endif
    unlink(name);
}

/* The default cap, 64 MiB: a gzip file of one 65 MiB line (65 KB
 * compressed) fails naming the line, holding about the cap in memory (a
 * 14 MB .gz used to cost 6.3 GB). */
START_TEST(line_cap_default)
{
    past_default_cap("1,2\n", 0,
                     ":2: line longer than 67108864 bytes (64 MiB), the limit of a line", NULL);
}
END_TEST

/* The cap holds for a CSV record joined across lines by a quoted field:
 * its lines together, line breaks included, have at most max_line bytes
 * (a quote left open must not make the reader hold the rest of the file);
 * the error names the record's first line and its last one read. A
 * record of exactly the cap is fine, and so is each of its lines. */
START_TEST(line_cap_record)
{
    char name[4096], err[1024];
    temp_name(name, sizeof name);
    /* line 2 opens a quoted label that closes on line 5 */
    static const char rec[] = "\"two\n"
                              "0123456789012345678901234567890123456789\n"
                              "0123456789012345678901234567890123456789\n"
                              "lines\",3";
    FILE *f = fopen(name, "wb");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "one,2\n%s\none,4\n", rec);
    fclose(f);
    csm_read_options o = defaults();
    o.format = CSM_FORMAT_CSV;
    o.header = 0;
    o.max_line = strlen(rec);
    csm_table t;
    err[0] = '\0';
    ck_assert_msg(csm_read_table(name, &o, &t, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(t.n, 3);
    ck_assert_uint_eq(t.n_label_names, 2);
    ck_assert(csm_table_value(&t, 1, 0) == 3.0);
    csm_table_free(&t);
    o.max_line = strlen(rec) - 1;
    ck_assert(csm_read_table(name, &o, &t, err, sizeof err) != 0);
    char want[4400];
    snprintf(want, sizeof want,
             "%s:2: record of lines 2 to 5 longer than %zu bytes, the limit of a line (a "
             "quoted field holding line breaks, or a '\"' never closed)",
             name, o.max_line);
    ck_assert_msg(strcmp(err, want) == 0, "%s", err);
    unlink(name);
}
END_TEST

/* The default cap on a quote never closed: line 2 opens a quoted field
 * followed by 65 MiB of short lines; the read fails naming line 2. */
START_TEST(line_cap_record_default)
{
    past_default_cap("1,2\n0,\"3\n", 1024, ":2: record of lines 2 to ",
                     " longer than 67108864 bytes (64 MiB), the limit of a line");
}
END_TEST

/* An IDX file that ends early names the sample (the row) it lacks. */
START_TEST(idx_truncated_names_row)
{
    csm_read_options o = defaults();
    expect_byte("truncated-images-idx3-ubyte", &o, NULL, 26, "truncated", " in sample ");
}
END_TEST

/* ------------------------------------------------------------------- suite */

static Suite *io_suite(void)
{
    Suite *s = suite_create("io");

    TCase *tc = tcase_create("csv");
    tcase_add_test(tc, csv_good);
    tcase_add_test(tc, csv_gzip_same_as_plain);
    tcase_add_test(tc, csv_header_semicolon_crlf_label_last);
    tcase_add_test(tc, csv_tab_bom_signs_no_final_newline);
    tcase_add_test(tc, csv_label_middle_column);
    tcase_add_test(tc, csv_forced_header_skips_first_line);
    tcase_add_test(tc, csv_forced_no_header_reads_header_as_data);
    tcase_add_test(tc, csv_detected_header_then_label_checked);
    tcase_add_test(tc, csv_label_column_out_of_range);
    suite_add_tcase(s, tc);

    tc = tcase_create("csv_bad");
    tcase_add_test(tc, csv_empty);
    tcase_add_test(tc, csv_header_only);
    tcase_add_test(tc, csv_ragged_fewer);
    tcase_add_test(tc, csv_ragged_more);
    tcase_add_test(tc, csv_mixed_delimiters);
    tcase_add_test(tc, csv_nonnumeric);
    tcase_add_test(tc, csv_nan);
    tcase_add_test(tc, csv_inf);
    tcase_add_test(tc, csv_overflow);
    tcase_add_test(tc, csv_hex_rejected);
    tcase_add_test(tc, csv_empty_field);
    tcase_add_test(tc, csv_label_fraction);
    tcase_add_test(tc, csv_label_text);
    tcase_add_test(tc, csv_label_fraction_as_text);
    tcase_add_test(tc, csv_label_integers_with_fraction_option);
    tcase_add_test(tc, csv_blank_line_inside);
    tcase_add_test(tc, csv_one_column);
    tcase_add_test(tc, csv_header_width_mismatch);
    tcase_add_test(tc, csv_corrupt_gzip);
    tcase_add_test(tc, csv_truncated_gzip);
    tcase_add_test(tc, missing_file);
    suite_add_tcase(s, tc);

    tc = tcase_create("libsvm");
    tcase_add_test(tc, libsvm_good);
    tcase_add_test(tc, libsvm_gzip_same_as_plain);
    tcase_add_test(tc, libsvm_n_features_pads);
    tcase_add_test(tc, libsvm_n_features_too_small);
    suite_add_tcase(s, tc);

    tc = tcase_create("libsvm_bad");
    tcase_add_test(tc, libsvm_empty);
    tcase_add_test(tc, libsvm_index0);
    tcase_add_test(tc, libsvm_decreasing);
    tcase_add_test(tc, libsvm_duplicate);
    tcase_add_test(tc, libsvm_nan);
    tcase_add_test(tc, libsvm_pair_without_colon);
    tcase_add_test(tc, libsvm_negative_index);
    tcase_add_test(tc, libsvm_fractional_label);
    tcase_add_test(tc, libsvm_missing_label);
    tcase_add_test(tc, libsvm_no_features);
    tcase_add_test(tc, libsvm_empty_value);
    tcase_add_test(tc, libsvm_huge_index);
    suite_add_tcase(s, tc);

    tc = tcase_create("sparse");
    tcase_add_test(tc, libsvm_csr_exact);
    tcase_add_test(tc, libsvm_auto_storage_by_density);
    tcase_add_test(tc, libsvm_dense_and_sparse_agree);
    tcase_add_test(tc, libsvm_sparse_n_features_pads);
    tcase_add_test(tc, libsvm_skip_extra_features);
    tcase_add_test(tc, libsvm_wide_file_stays_small);
    tcase_add_test(tc, libsvm_errors_in_every_storage);
    tcase_add_test(tc, csv_and_idx_forced_sparse);
    tcase_add_test(tc, table_take_rows);
    tcase_add_test(tc, table_convert_round_trip);
    suite_add_tcase(s, tc);

    tc = tcase_create("idx");
    tcase_add_test(tc, idx_u8_labels_derived);
    tcase_add_test(tc, idx_gzip_both);
    tcase_add_test(tc, idx_gzip_images_plain_labels);
    tcase_add_test(tc, idx_explicit_labels);
    tcase_add_test(tc, idx_f64_images_i32_labels);
    tcase_add_test(tc, idx_i16_images_i8_labels);
    tcase_add_test(tc, idx_f32_images_i16_labels);
    suite_add_tcase(s, tc);

    tc = tcase_create("idx_bad");
    tcase_add_test(tc, idx_empty);
    tcase_add_test(tc, idx_bad_magic);
    tcase_add_test(tc, idx_bad_type);
    tcase_add_test(tc, idx_zero_dims);
    tcase_add_test(tc, idx_short_header);
    tcase_add_test(tc, idx_zero_size_dimension);
    tcase_add_test(tc, idx_no_samples);
    tcase_add_test(tc, idx_truncated);
    tcase_add_test(tc, idx_trailing_garbage);
    tcase_add_test(tc, idx_size_overflow);
    tcase_add_test(tc, idx_huge_claim_is_truncated_not_malloced);
    tcase_add_test(tc, idx_label_count_mismatch);
    tcase_add_test(tc, idx_float_labels);
    tcase_add_test(tc, idx_labels_not_1d);
    tcase_add_test(tc, idx_truncated_labels);
    tcase_add_test(tc, idx_nan_feature);
    tcase_add_test(tc, idx_no_labels_file);
    tcase_add_test(tc, idx_labels_file_given_as_images);
    tcase_add_test(tc, idx_corrupt_gzip);
    suite_add_tcase(s, tc);

    tc = tcase_create("common");
    tcase_add_test(tc, format_detection);
    tcase_add_test(tc, format_unknown_asks_for_option);
    tcase_add_test(tc, format_option_overrides_name);
    tcase_add_test(tc, options_defaults_and_null);
    tcase_add_test(tc, labels_distinct_and_map);
    suite_add_tcase(s, tc);

    tc = tcase_create("numbers");
    tcase_add_test(tc, numbers_strict);
    tcase_add_test(tc, numbers_match_strtod);
    tcase_add_test(tc, labels_strict);
    suite_add_tcase(s, tc);

    tc = tcase_create("big");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, big_csv_plain_and_gzip);
    tcase_add_test(tc, lines_longer_than_a_chunk);
    tcase_add_test(tc, gzip_members_all_read);
    tcase_add_test(tc, gzip_bad_second_member);
    tcase_add_test(tc, line_cap);
    tcase_add_test(tc, line_cap_default);
    tcase_add_test(tc, line_cap_record);
    tcase_add_test(tc, line_cap_record_default);
    tcase_add_test(tc, idx_truncated_names_row);
    suite_add_tcase(s, tc);

    tc = tcase_create("real");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, fashion_mnist_sample);
    tcase_add_test(tc, fashion_mnist_train);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return csm_test_main(io_suite(), 0);
}
