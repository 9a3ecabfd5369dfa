/* The CSV reader on files as pandas, R and NumPy write them, each written
 * here next to the call that writes it, and RFC 4180's quoting: quoted
 * fields holding delimiters, doubled quotes and line breaks; the header
 * rule; row names; blank-separated columns; a BOM and CRLF; the weight
 * column; missing values; and the messages that say what to do. No OpenCL
 * device is needed. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/dataio.h"
#include "testutil.h"

/* Writes `text` into the test's scratch directory; the path in a static
 * buffer. */
static const char *put(const char *name, const char *text)
{
    return csm_test_put(name, text, strlen(text));
}

static csm_read_options last_label(void)
{
    csm_read_options o;
    csm_read_options_init(&o);
    o.label_column = -1;
    return o;
}

static void read_ok(const char *path, const csm_read_options *o, csm_table *t)
{
    char err[1024] = "";
    ck_assert_msg(csm_read_table(path, o, t, err, sizeof err) == 0, "%s", err);
}

/* The read fails on `line` with a message holding `a` and `b` (b may be
 * NULL). */
static void read_fails(const char *path, const csm_read_options *o, size_t line, const char *a,
                       const char *b)
{
    char err[2048] = "", at[64];
    csm_table t;
    ck_assert_msg(csm_read_table(path, o, &t, err, sizeof err) != 0, "%s: no error", path);
    snprintf(at, sizeof at, ":%zu: ", line);
    ck_assert_msg(strstr(err, at) != NULL, "expected %s in: %s", at, err);
    ck_assert_msg(strstr(err, a) != NULL, "expected '%s' in: %s", a, err);
    ck_assert_msg(!b || strstr(err, b) != NULL, "expected '%s' in: %s", b, err);
}

static void names_are(const csm_table *t, const char *const *want, const char *label)
{
    ck_assert_ptr_nonnull(t->feature_names);
    for (size_t j = 0; j < t->k; j++)
        ck_assert_str_eq(t->feature_names[j], want[j]);
    if (label)
        ck_assert_str_eq(t->label_name, label);
}

/* The iris rows every dialect below holds: 3 samples, 4 features. */
static void is_iris3(const csm_table *t)
{
    static const double x[] = {5.1, 3.5, 1.4, 0.2, 7, 3.2, 4.7, 1.4, 6.3, 3.3, 6, 2.5};
    ck_assert_uint_eq(t->n, 3);
    ck_assert_uint_eq(t->k, 4);
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 4; j++)
            ck_assert(csm_table_value(t, i, j) == x[i * 4 + j]);
    ck_assert_uint_eq(t->n_label_names, 3);
    ck_assert_str_eq(t->label_names[0], "setosa");
    ck_assert_str_eq(t->label_names[2], "virginica");
    for (int64_t i = 0; i < 3; i++)
        ck_assert_int_eq(t->labels[i], i);
}

/* pd.DataFrame(X).assign(y=names).to_csv(index=False): integer names over
 * floats, and a text label: a header, not a sample and a class "y". */
START_TEST(pandas_default_header)
{
    const char *p = put("pd.csv", "0,1,2,3,y\n"
                                  "5.1,3.5,1.4,0.2,setosa\n"
                                  "7.0,3.2,4.7,1.4,versicolor\n"
                                  "6.3,3.3,6.0,2.5,virginica\n");
    csm_read_options o = last_label();
    csm_table t;
    read_ok(p, &o, &t);
    ck_assert_int_eq(t.header, 1);
    is_iris3(&t);
    static const char *const names[] = {"0", "1", "2", "3"};
    names_are(&t, names, "y");
    csm_table_free(&t);
    /* and with integer classes: `y` over integers */
    p = put("pdn.csv", "0,1,2,3,y\n5.1,3.5,1.4,0.2,0\n7.0,3.2,4.7,1.4,1\n6.3,3.3,6.0,2.5,2\n");
    read_ok(p, &o, &t);
    ck_assert_int_eq(t.header, 1);
    ck_assert_uint_eq(t.n, 3);
    ck_assert_ptr_null(t.label_names);
    ck_assert_int_eq(t.labels[2], 2);
    csm_table_free(&t);
    /* an integer name over integer data tells nothing: --header says it */
    p = put("ints.csv", "0,1,2\n3,4,1\n5,6,0\n");
    read_ok(p, &o, &t);
    ck_assert_int_eq(t.header, 0);
    ck_assert_uint_eq(t.n, 3);
    csm_table_free(&t);
    o.header = 1;
    read_ok(p, &o, &t);
    ck_assert_int_eq(t.header, 1);
    ck_assert_uint_eq(t.n, 2);
    csm_table_free(&t);
}
END_TEST

/* to_csv(quoting=csv.QUOTE_ALL): every field quoted, numbers too. */
START_TEST(pandas_quote_all)
{
    const char *p = put("qa.csv", "\"sepal length (cm)\",\"sepal width (cm)\","
                                  "\"petal length (cm)\",\"petal width (cm)\",\"species\"\n"
                                  "\"5.1\",\"3.5\",\"1.4\",\"0.2\",\"setosa\"\n"
                                  "\"7.0\",\"3.2\",\"4.7\",\"1.4\",\"versicolor\"\n"
                                  "\"6.3\",\"3.3\",\"6.0\",\"2.5\",\"virginica\"\n");
    csm_read_options o = last_label();
    csm_table t;
    read_ok(p, &o, &t);
    is_iris3(&t);
    static const char *const names[] = {"sepal length (cm)", "sepal width (cm)",
                                        "petal length (cm)", "petal width (cm)"};
    names_are(&t, names, "species");
    csm_table_free(&t);
    /* quoted integer labels are integers */
    p = put("qi.csv", "\"a\",\"y\"\n\"0.5\",\"1\"\n\"1.5\",\"-1\"\n");
    read_ok(p, &o, &t);
    ck_assert_ptr_null(t.label_names);
    ck_assert_int_eq(t.labels[1], -1);
    csm_table_free(&t);
}
END_TEST

/* R: write.csv(iris, row.names = FALSE) quotes names and text only, and
 * writes 7 for 7.0; on Windows its lines end in CRLF. */
START_TEST(r_write_csv)
{
    const char *p = put("r.csv", "\"Sepal.Length\",\"Sepal.Width\",\"Petal.Length\","
                                 "\"Petal.Width\",\"Species\"\r\n"
                                 "5.1,3.5,1.4,0.2,\"setosa\"\r\n"
                                 "7,3.2,4.7,1.4,\"versicolor\"\r\n"
                                 "6.3,3.3,6,2.5,\"virginica\"\r\n");
    csm_read_options o = last_label();
    csm_table t;
    read_ok(p, &o, &t);
    is_iris3(&t);
    ck_assert_int_eq(t.row_names, 0);
    static const char *const names[] = {"Sepal.Length", "Sepal.Width", "Petal.Length",
                                        "Petal.Width"};
    names_are(&t, names, "Species");
    csm_table_free(&t);
}
END_TEST

/* write.csv(iris) keeps the row names: a first column with no name, and
 * pandas' to_csv() writes its index the same way; both are left out. */
START_TEST(row_names_without_a_name)
{
    const char *r = put("rn.csv", "\"\",\"Sepal.Length\",\"Sepal.Width\",\"Petal.Length\","
                                  "\"Petal.Width\",\"Species\"\n"
                                  "\"1\",5.1,3.5,1.4,0.2,\"setosa\"\n"
                                  "\"51\",7,3.2,4.7,1.4,\"versicolor\"\n"
                                  "\"101\",6.3,3.3,6,2.5,\"virginica\"\n");
    csm_read_options o = last_label();
    csm_table t;
    read_ok(r, &o, &t);
    ck_assert_int_eq(t.row_names, 1);
    is_iris3(&t);
    csm_table_free(&t);
    const char *pd = put("pdi.csv", ",0,1,2,3,y\n"
                                    "0,5.1,3.5,1.4,0.2,setosa\n"
                                    "50,7.0,3.2,4.7,1.4,versicolor\n"
                                    "100,6.3,3.3,6.0,2.5,virginica\n");
    read_ok(pd, &o, &t);
    ck_assert_int_eq(t.row_names, 1);
    is_iris3(&t);
    csm_table_free(&t);
    /* columns are counted without them: the label is column 4 */
    o.label_column = 4;
    read_ok(pd, &o, &t);
    is_iris3(&t);
    csm_table_free(&t);
}
END_TEST

/* R: write.table(iris): blanks between fields, a header one name short
 * (the row names have none), quoted names and text. */
START_TEST(r_write_table)
{
    const char *p = put("iris.txt", "\"Sepal.Length\" \"Sepal.Width\" \"Petal.Length\" "
                                    "\"Petal.Width\" \"Species\"\n"
                                    "\"1\" 5.1 3.5 1.4 0.2 \"setosa\"\n"
                                    "\"51\" 7 3.2 4.7 1.4 \"versicolor\"\n"
                                    "\"101\" 6.3 3.3 6 2.5 \"virginica\"\n");
    csm_read_options o = last_label();
    csm_table t;
    read_ok(p, &o, &t);
    ck_assert_int_eq(t.format, CSM_FORMAT_CSV); /* guessed from the content */
    ck_assert_int_eq(t.delimiter, CSM_DELIM_BLANKS);
    ck_assert_int_eq(t.row_names, 1);
    is_iris3(&t);
    ck_assert_str_eq(t.feature_names[3], "Petal.Width");
    csm_table_free(&t);
    /* a quoted field may hold blanks */
    p = put("sp.txt", "\"a\" \"y\"\n1.5 \"Iris setosa\"\n2.5 \"Iris virginica\"\n");
    read_ok(p, &o, &t);
    ck_assert_str_eq(t.label_names[0], "Iris setosa");
    csm_table_free(&t);
}
END_TEST

/* NumPy: np.savetxt("x.txt", np.column_stack([X, y])) writes %.18e with
 * single spaces and no header; header="..." adds a '#' comment. */
START_TEST(numpy_savetxt)
{
    const char *p = put("np.txt", "5.099999999999999645e+00 3.500000000000000000e+00 "
                                  "0.000000000000000000e+00\n"
                                  "7.000000000000000000e+00 3.200000000000000178e+00 "
                                  "1.000000000000000000e+00\n");
    csm_read_options o = last_label();
    csm_table t;
    read_ok(p, &o, &t);
    ck_assert_int_eq(t.format, CSM_FORMAT_CSV);
    ck_assert_int_eq(t.delimiter, CSM_DELIM_BLANKS);
    ck_assert_int_eq(t.header, 0);
    ck_assert_uint_eq(t.n, 2);
    ck_assert(csm_table_value(&t, 0, 0) == 5.1);
    ck_assert_int_eq(t.labels[1], 1);
    ck_assert_ptr_null(t.feature_names);
    csm_table_free(&t);
    /* savetxt(..., fmt="%g", delimiter=" ", header="a b y"): runs of
     * blanks and tabs, leading blanks, the header as a comment */
    p = put("nph.txt", "# a b y\n  1.5\t 2  0\n -1  0.25\t1  \n");
    read_ok(p, &o, &t);
    ck_assert_uint_eq(t.n, 2);
    ck_assert(csm_table_value(&t, 1, 1) == 0.25);
    static const char *const names[] = {"a", "b"};
    names_are(&t, names, "y");
    csm_table_free(&t);
}
END_TEST

/* RFC 4180: quoted delimiters, doubled quotes, line breaks (lines are
 * counted as lines: the next record starts after the break), a quote
 * inside an unquoted field, a BOM, CRLF, and a final line without its
 * line break. */
START_TEST(rfc4180_quoting)
{
    const char *p = put("q.csv", "\xEF\xBB\xBF" "\"x, first\",\"say \"\"hi\"\"\",label\r\n"
                                 "1.5,2,\"a, b\"\r\n"
                                 "3,4,\"two\r\nlines\"\r\n"
                                 "  5 , 6 ,  \"c\"\"d\"  \r\n"
                                 "7,8,5'11\"");
    csm_read_options o = last_label();
    csm_table t;
    read_ok(p, &o, &t);
    ck_assert_int_eq(t.header, 1);
    ck_assert_uint_eq(t.n, 4);
    static const char *const names[] = {"x, first", "say \"hi\""};
    names_are(&t, names, "label");
    ck_assert_uint_eq(t.n_label_names, 4);
    ck_assert_str_eq(t.label_names[0], "5'11\"");
    ck_assert_str_eq(t.label_names[1], "a, b");
    ck_assert_str_eq(t.label_names[2], "c\"d");
    ck_assert_str_eq(t.label_names[3], "two\nlines");
    ck_assert(csm_table_value(&t, 2, 1) == 6.0);
    csm_table_free(&t);
    /* a line number after a record of two lines is the file's */
    p = put("q2.csv", "a,b,y\n1,2,\"x\ny\"\n3,oops,z\n");
    read_fails(p, &o, 4, "column 1 ('b'): not a number 'oops'", NULL);
    /* a quote never closed is found, on the line it opened */
    p = put("q3.csv", "a,b,y\n1,2,x\n3,4,\"z\n5,6,x\n");
    read_fails(p, &o, 3, "quoted field", "never closed");
}
END_TEST

/* The weight column: not a feature, finite and >= 0. */
START_TEST(weight_column)
{
    const char *p = put("w.csv", "x0,w,x1,y\n0.5,2,1,0\n1.5,0.25,-1,1\n");
    csm_read_options o = last_label();
    o.weight_column = 1;
    csm_table t;
    read_ok(p, &o, &t);
    ck_assert_uint_eq(t.k, 2);
    ck_assert_ptr_nonnull(t.weights);
    ck_assert(t.weights[0] == 2.0 && t.weights[1] == 0.25);
    ck_assert(csm_table_value(&t, 1, 1) == -1.0);
    static const char *const names[] = {"x0", "x1"};
    names_are(&t, names, "y");
    /* weights follow their rows into a subset */
    csm_table sub;
    const size_t rows[] = {1};
    ck_assert_int_eq(csm_table_take_rows(&t, rows, 1, &sub), 0);
    ck_assert(sub.weights[0] == 0.25);
    csm_table_free(&sub);
    csm_table_free(&t);
    p = put("wneg.csv", "0.5,2,1,0\n1.5,-1,-1,1\n");
    read_fails(p, &o, 2, "weight column 1: negative weight '-1'", NULL);
    p = put("wna.csv", "0.5,NA,1,0\n1.5,1,-1,1\n");
    read_fails(p, &o, 1, "weight column 1: missing value 'NA'", NULL);
    o.weight_column = 3;
    read_fails(p, &o, 1, "cannot be both the label", "--weight-column");
    o.weight_column = 9;
    read_fails(p, &o, 1, "weight column 9 is out of range for 4 columns", NULL);
}
END_TEST

/* Missing values name themselves and what to do; a label error names the
 * option and the columns that could hold labels. */
START_TEST(messages_say_what_to_do)
{
    csm_read_options o;
    csm_read_options_init(&o);
    csm_table t;
    /* R writes NA, pandas an empty field */
    const char *p = put("na.csv", "\"a\",\"b\",\"y\"\n1,NA,\"x\"\n");
    o.label_column = -1;
    read_fails(p, &o, 2, "column 1 ('b'): missing value 'NA'", "dropna");
    p = put("empty.csv", "a,b,y\n1,,x\n");
    read_fails(p, &o, 2, "column 1 ('b'): missing value (empty field)", NULL);
    p = put("nal.csv", "a,b,y\n1,2,NA\n");
    read_fails(p, &o, 2, "label 'NA' in column 2 ('y'): a missing label", "--label-column");
    /* the case: iris with the label last, read with label column 0 */
    p = put("iris.csv", "6.7,3.1,4.4,1.4,versicolor\n6.3,2.5,5.0,1.9,virginica\n"
                        "5.8,2.7,5.1,1.9,virginica\n");
    csm_read_options_init(&o);
    read_fails(p, &o, 1, "label '6.7' in column 0: not an integer",
               "--label-column N (counted from 0) or 'last' picks the label column; columns "
               "of integers or text: 4");
    /* a fractional label in a file of floats: no column could be */
    p = put("fl.csv", "0.5,1.5\n2.5,3.5\n");
    read_fails(p, &o, 1, "not an integer", "no column holds only integers or text");
    (void)t;
}
END_TEST

/* The header rule's edges: text over numbers at any width of window, a
 * header alone, a header of names over a header-like first data row. */
START_TEST(header_rule_edges)
{
    csm_read_options o = last_label();
    csm_table t;
    /* a header over one row */
    const char *p = put("h1.csv", "a,b,y\n1.5,2,0\n");
    read_ok(p, &o, &t);
    ck_assert_int_eq(t.header, 1);
    ck_assert_uint_eq(t.n, 1);
    csm_table_free(&t);
    /* one row of data and nothing else */
    p = put("d1.csv", "1.5,2,0\n");
    read_ok(p, &o, &t);
    ck_assert_int_eq(t.header, 0);
    csm_table_free(&t);
    /* --no-header reads a header as data, and fails on its text */
    o.header = 0;
    p = put("h2.csv", "a,b,y\n1.5,2,0\n");
    read_fails(p, &o, 1, "column 0: not a number 'a'", NULL);
}
END_TEST

static Suite *csv_suite(void)
{
    Suite *s = suite_create("csv");
    TCase *tc = tcase_create("dialects");
    tcase_add_checked_fixture(tc, csm_test_dir_make, csm_test_dir_remove);
    tcase_add_test(tc, pandas_default_header);
    tcase_add_test(tc, pandas_quote_all);
    tcase_add_test(tc, r_write_csv);
    tcase_add_test(tc, row_names_without_a_name);
    tcase_add_test(tc, r_write_table);
    tcase_add_test(tc, numpy_savetxt);
    tcase_add_test(tc, rfc4180_quoting);
    tcase_add_test(tc, weight_column);
    tcase_add_test(tc, messages_say_what_to_do);
    tcase_add_test(tc, header_rule_edges);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return csm_test_main(csv_suite(), 0);
}
