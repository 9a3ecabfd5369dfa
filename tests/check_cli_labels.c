/* The command's class matching, without a device: what a LABEL text names
 * (src/cli/labels.c, cli_class_index: a name's text, an integer's value, a
 * float name's value), --class-weight LABEL:W parsed into texts and turned
 * into per-sample weights by class name (src/cli/class_weight.c), and the
 * labels of a table mapped onto numeric class names by value. The commands
 * end to end are tests/cli/remember.sh and tests/cli/mpi.sh. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "testutil.h"

/* messages.c's printing, which this test does not link: the last message is
 * kept for the assertions. */
static char last_error[2048];

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    (void)cmd;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return CLI_USAGE;
}

int cli_lib_error(const csm_context *ctx, csm_status st)
{
    (void)ctx;
    snprintf(last_error, sizeof last_error, "%s", csm_status_string(st));
    return CLI_FAIL;
}

static char *names_abc[] = {"a", "b", "c"};
static char *names_num[] = {"0.5", "1.25", "2.0"};
static int64_t values[] = {-1, 1, 3};

static long index_of(const cli_classes *c, const char *text)
{
    size_t i = 99;
    if (cli_class_index(c, text, &i) != 0)
        return -1;
    return (long)i;
}

START_TEST(test_index_names)
{
    cli_classes c = {3, NULL, names_abc, 0};
    ck_assert_int_eq(index_of(&c, "a"), 0);
    ck_assert_int_eq(index_of(&c, "c"), 2);
    ck_assert_int_eq(index_of(&c, "A"), -1);
    ck_assert_int_eq(index_of(&c, "a "), -1);
    ck_assert_int_eq(index_of(&c, ""), -1);
}
END_TEST

START_TEST(test_index_integers)
{
    cli_classes c = {3, values, NULL, 0};
    ck_assert_int_eq(index_of(&c, "-1"), 0);
    ck_assert_int_eq(index_of(&c, "1"), 1);
    ck_assert_int_eq(index_of(&c, "+1"), 1);
    ck_assert_int_eq(index_of(&c, "03"), 2);
    ck_assert_int_eq(index_of(&c, "2"), -1);
    ck_assert_int_eq(index_of(&c, "1.0"), -1);
    ck_assert_int_eq(index_of(&c, " 1"), -1);
    ck_assert_int_eq(index_of(&c, "1x"), -1);
    ck_assert_int_eq(index_of(&c, "setosa"), -1);
    ck_assert_int_eq(index_of(&c, ""), -1);
    ck_assert_int_eq(index_of(&c, "99999999999999999999999"), -1);
}
END_TEST

START_TEST(test_index_float_names)
{
    cli_classes c = {3, NULL, names_num, 1};
    ck_assert_int_eq(index_of(&c, "0.5"), 0);
    ck_assert_int_eq(index_of(&c, "0.50"), 0);
    ck_assert_int_eq(index_of(&c, "5e-1"), 0);
    ck_assert_int_eq(index_of(&c, "+.5"), 0);
    ck_assert_int_eq(index_of(&c, "1.250"), 1);
    ck_assert_int_eq(index_of(&c, "2"), 2);
    ck_assert_int_eq(index_of(&c, "0.75"), -1);
    ck_assert_int_eq(index_of(&c, "nan"), -1);
    ck_assert_int_eq(index_of(&c, "0.5 "), -1);
    ck_assert_int_eq(index_of(&c, " 0.5"), -1);
    /* the same names as "str": by text only */
    c.numeric = 0;
    ck_assert_int_eq(index_of(&c, "0.5"), 0);
    ck_assert_int_eq(index_of(&c, "0.50"), -1);
    ck_assert_int_eq(index_of(&c, "2"), -1);
}
END_TEST

START_TEST(test_parse_texts)
{
    cli_class_weight cw;
    ck_assert_int_eq(cli_class_weight_parse("train", "setosa:2,virginica:0.5,-1:3", &cw), 0);
    ck_assert_uint_eq(cw.n, 3);
    ck_assert_str_eq(cw.labels[0], "setosa");
    ck_assert_str_eq(cw.labels[1], "virginica");
    ck_assert_str_eq(cw.labels[2], "-1");
    ck_assert_double_eq(cw.weights[0], 2.0);
    ck_assert_double_eq(cw.weights[1], 0.5);
    ck_assert_double_eq(cw.weights[2], 3.0);
    cli_class_weight_free(&cw);
    ck_assert_ptr_null(cw.labels);
    ck_assert_int_eq(cli_class_weight_parse("train", "balanced", &cw), 0);
    ck_assert_int_eq(cw.balanced, 1);
    cli_class_weight_free(&cw);
}
END_TEST

START_TEST(test_parse_errors)
{
    cli_class_weight cw;
    ck_assert_int_eq(cli_class_weight_parse("train", "a:1,a:2", &cw), CLI_USAGE);
    ck_assert_str_eq(last_error, "--class-weight: label a is given twice");
    ck_assert_ptr_null(cw.labels);
    ck_assert_int_eq(cli_class_weight_parse("train", "a:1,b:", &cw), CLI_USAGE);
    ck_assert_str_eq(last_error, "--class-weight: label b has no weight");
    ck_assert_int_eq(cli_class_weight_parse("train", "x:-1", &cw), CLI_USAGE);
    ck_assert_msg(strstr(last_error, "(weight of label x)") != NULL, "%s", last_error);
    ck_assert_int_eq(cli_class_weight_parse("train", ":1", &cw), CLI_USAGE);
    ck_assert_msg(strstr(last_error, "entry without a label") != NULL, "%s", last_error);
    ck_assert_int_eq(cli_class_weight_parse("train", "a:1,,b:2", &cw), CLI_USAGE);
    ck_assert_msg(strstr(last_error, "empty entry") != NULL, "%s", last_error);
    ck_assert_int_eq(cli_class_weight_parse("train", "setosa", &cw), CLI_USAGE);
    ck_assert_msg(strstr(last_error, "is not 'balanced' or a list") != NULL, "%s", last_error);
}
END_TEST

/* weights of the samples y over the classes, or the status */
static int weigh(const char *spec, const cli_classes *c, const int32_t *y, size_t n, double *w)
{
    cli_class_weight cw;
    double *got = NULL;
    ck_assert_int_eq(cli_class_weight_parse("train", spec, &cw), 0);
    int rc = cli_class_weight_samples("train", &cw, c, "the data", y, n, &got);
    cli_class_weight_free(&cw);
    if (rc == 0) {
        memcpy(w, got, n * sizeof *w);
        free(got);
    } else {
        ck_assert_ptr_null(got);
    }
    return rc;
}

START_TEST(test_samples_by_name)
{
    cli_classes abc = {3, NULL, names_abc, 0};
    cli_classes num = {3, NULL, names_num, 1};
    cli_classes ints = {3, values, NULL, 0};
    int32_t y[5] = {0, 1, 2, 1, 0};
    double w[5];
    ck_assert_int_eq(weigh("c:2,a:0.5", &abc, y, 5, w), 0);
    ck_assert_double_eq(w[0], 0.5);
    ck_assert_double_eq(w[1], 1.0);
    ck_assert_double_eq(w[2], 2.0);
    ck_assert_double_eq(w[3], 1.0);
    ck_assert_double_eq(w[4], 0.5);
    ck_assert_int_eq(weigh("1.250:4", &num, y, 5, w), 0);
    ck_assert_double_eq(w[1], 4.0);
    ck_assert_double_eq(w[3], 4.0);
    ck_assert_double_eq(w[0], 1.0);
    ck_assert_int_eq(weigh("+3:5,-1:0", &ints, y, 5, w), 0);
    ck_assert_double_eq(w[0], 0.0);
    ck_assert_double_eq(w[1], 1.0);
    ck_assert_double_eq(w[2], 5.0);
}
END_TEST

START_TEST(test_samples_errors)
{
    cli_classes abc = {3, NULL, names_abc, 0};
    cli_classes num = {3, NULL, names_num, 1};
    cli_classes ints = {3, values, NULL, 0};
    int32_t y[3] = {0, 1, 2};
    double w[3];
    ck_assert_int_eq(weigh("a:1,d:1", &abc, y, 3, w), CLI_USAGE);
    ck_assert_str_eq(last_error, "--class-weight: label d is not a class of the data (classes: a, "
                                 "b, c)");
    ck_assert_int_eq(weigh("2:1", &ints, y, 3, w), CLI_USAGE);
    ck_assert_str_eq(last_error, "--class-weight: label 2 is not a class of the data (classes: -1, "
                                 "1, 3)");
    ck_assert_int_eq(weigh("0.5:1,0.50:2", &num, y, 3, w), CLI_USAGE);
    ck_assert_str_eq(last_error, "--class-weight: labels 0.5 and 0.50 are the same class");
    ck_assert_int_eq(weigh("1:1,+1:2", &ints, y, 3, w), CLI_USAGE);
    ck_assert_str_eq(last_error, "--class-weight: labels 1 and +1 are the same class");
    ck_assert_int_eq(weigh("a:0,b:0,c:0", &abc, y, 3, w), CLI_USAGE);
    ck_assert_str_eq(last_error, "--class-weight: every training sample has weight 0");
}
END_TEST

START_TEST(test_map_table_by_value)
{
    /* a file's labels as texts, as the reader gives them with
     * fraction_labels: sorted names, labels index them */
    char *texts[] = {"0.50", "2", "5e-1"};
    int64_t labels[4] = {0, 2, 1, 0};
    csm_table t;
    memset(&t, 0, sizeof t);
    t.n = 4;
    t.labels = labels;
    t.label_names = texts;
    t.n_label_names = 3;
    int32_t out[4] = {-1, -1, -1, -1};
    cli_classes num = {3, NULL, names_num, 1};
    ck_assert_int_eq(cli_map_table("f.csv", &t, &num, "the model does not know", out), 0);
    ck_assert_int_eq(out[0], 0);
    ck_assert_int_eq(out[1], 0);
    ck_assert_int_eq(out[2], 2);
    ck_assert_int_eq(out[3], 0);
    /* "str" names match by text only */
    num.numeric = 0;
    ck_assert_int_eq(cli_map_table("f.csv", &t, &num, "the model does not know", out), CLI_FAIL);
    ck_assert_str_eq(last_error, "f.csv: sample 1 has label 0.50, which the model does not know "
                                 "(classes: 0.5, 1.25, 2.0)");
    /* integer labels of a file (no label_names) against float names */
    int64_t ints[2] = {2, 2};
    csm_table ti;
    memset(&ti, 0, sizeof ti);
    ti.n = 2;
    ti.labels = ints;
    num.numeric = 1;
    ck_assert_int_eq(cli_map_table("g.csv", &ti, &num, "the model does not know", out), 0);
    ck_assert_int_eq(out[0], 2);
    ck_assert_int_eq(out[1], 2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli_labels");
    TCase *tc = tcase_create("cli_labels");
    tcase_add_test(tc, test_index_names);
    tcase_add_test(tc, test_index_integers);
    tcase_add_test(tc, test_index_float_names);
    tcase_add_test(tc, test_parse_texts);
    tcase_add_test(tc, test_parse_errors);
    tcase_add_test(tc, test_samples_by_name);
    tcase_add_test(tc, test_samples_errors);
    tcase_add_test(tc, test_map_table_by_value);
    suite_add_tcase(s, tc);
    return csm_test_main(s, 0);
}
