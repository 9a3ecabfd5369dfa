/* eval's classification report (src/cli/report.c) against scikit-learn's
 * classification_report: tests/data/report/cases.txt holds its figures for
 * pairs of true and predicted labels (written by make-fixtures.py there;
 * make check needs no Python). Each case is turned into the confusion
 * matrix eval builds (rows: the model's C classes, then the labels it never
 * saw; columns: the C classes) and every figure must agree to 1e-15
 * relative. No OpenCL device is needed. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "testutil.h"

#define MAX_N 256
#define MAX_ROWS 32

typedef struct expect_row {
    long label;
    double p, r, f;
    unsigned long long support;
} expect_row;

typedef struct fixture {
    char name[64];
    size_t C, n, nrows;
    long y[MAX_N], pred[MAX_N];
    expect_row rows[MAX_ROWS], macro, weighted;
    double accuracy;
} fixture;

static int read_labels(FILE *f, const char *tag, long *v, size_t n)
{
    char word[16];
    if (fscanf(f, "%15s", word) != 1 || strcmp(word, tag) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (fscanf(f, "%ld", &v[i]) != 1)
            return -1;
    return 0;
}

/* The next case of the file, or 0 at its end. */
static int next_case(FILE *f, fixture *c)
{
    char word[16];
    memset(c, 0, sizeof *c);
    if (fscanf(f, "%15s", word) != 1)
        return 0;
    ck_assert_str_eq(word, "case");
    ck_assert_int_eq(fscanf(f, "%63s %zu %zu", c->name, &c->C, &c->n), 3);
    ck_assert(c->n <= MAX_N);
    ck_assert_int_eq(read_labels(f, "true", c->y, c->n), 0);
    ck_assert_int_eq(read_labels(f, "pred", c->pred, c->n), 0);
    while (fscanf(f, "%15s", word) == 1 && strcmp(word, "end") != 0) {
        expect_row *e = !strcmp(word, "row")        ? &c->rows[c->nrows++]
                        : !strcmp(word, "macro")    ? &c->macro
                        : !strcmp(word, "weighted") ? &c->weighted
                                                    : NULL;
        if (!strcmp(word, "accuracy")) {
            ck_assert_int_eq(fscanf(f, "%lf", &c->accuracy), 1);
            continue;
        }
        ck_assert_msg(e != NULL, "unknown line '%s'", word);
        if (e != &c->macro && e != &c->weighted)
            ck_assert_int_eq(fscanf(f, "%ld", &e->label), 1);
        ck_assert_int_eq(fscanf(f, "%lf %lf %lf %llu", &e->p, &e->r, &e->f, &e->support), 4);
    }
    return 1;
}

static void close_to(const char *what, const char *name, double got, double want)
{
    ck_assert_msg(fabs(got - want) <= 1e-15 + 1e-15 * fabs(want), "%s %s: %.17g, want %.17g",
                  name, what, got, want);
}

static void same(const char *name, const cli_report_row *got, const expect_row *want)
{
    close_to("precision", name, got->precision, want->p);
    close_to("recall", name, got->recall, want->r);
    close_to("f1", name, got->f1, want->f);
    ck_assert_uint_eq(got->support, want->support);
}

/* The matrix eval builds: rows are the C classes, then the true labels >=
 * C in increasing order (the file's sorted labels). */
static void check_case(const fixture *c)
{
    long unseen[MAX_ROWS];
    size_t nu = 0, C = c->C;
    for (size_t i = 0; i < c->n; i++) {
        if (c->y[i] < (long)C)
            continue;
        size_t u = 0;
        while (u < nu && unseen[u] != c->y[i])
            u++;
        if (u == nu)
            unseen[nu++] = c->y[i];
    }
    for (size_t a = 1; a < nu; a++) /* sorted */
        for (size_t b = a; b > 0 && unseen[b - 1] > unseen[b]; b--) {
            long t = unseen[b];
            unseen[b] = unseen[b - 1];
            unseen[b - 1] = t;
        }
    size_t R = C + nu;
    unsigned long long *conf = calloc(R * C, sizeof *conf);
    for (size_t i = 0; i < c->n; i++) {
        size_t row = (size_t)c->y[i];
        for (size_t u = 0; row >= C && u < nu; u++)
            if (unseen[u] == c->y[i])
                row = C + u;
        conf[row * C + (size_t)c->pred[i]]++;
    }
    cli_report rep;
    ck_assert_int_eq(cli_report_compute(conf, R, C, &rep), 0);
    ck_assert_msg(rep.n == c->nrows, "%s: %zu rows, want %zu", c->name, rep.n, c->nrows);
    for (size_t i = 0; i < rep.n; i++) {
        size_t cls = rep.rows[i].cls;
        long label = cls < C ? (long)cls : unseen[cls - C];
        const expect_row *want = NULL;
        for (size_t j = 0; j < c->nrows; j++)
            if (c->rows[j].label == label)
                want = &c->rows[j];
        ck_assert_msg(want != NULL, "%s: label %ld is not in scikit-learn's report", c->name,
                      label);
        same(c->name, &rep.rows[i], want);
    }
    same(c->name, &rep.macro, &c->macro);
    same(c->name, &rep.weighted, &c->weighted);
    close_to("accuracy", c->name, rep.accuracy, c->accuracy);
    cli_report_free(&rep);
    free(conf);
}

START_TEST(report_equals_scikit_learn)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/report/cases.txt", getenv("CSM_TEST_DATA"));
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char line[512];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f)); /* the comment */
    fixture *c = malloc(sizeof *c);
    int cases = 0;
    while (next_case(f, c)) {
        check_case(c);
        cases++;
    }
    fclose(f);
    free(c);
    ck_assert_int_eq(cases, 5);
}
END_TEST

/* The printed report: scikit-learn's layout at 4 decimals. */
START_TEST(report_layout)
{
    const unsigned long long conf[] = {2, 0, 1, 1}; /* 2 x 2 */
    cli_report rep;
    ck_assert_int_eq(cli_report_compute(conf, 2, 2, &rep), 0);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    const char *names[] = {"setosa", "virginica"};
    cli_report_print(f, &rep, names);
    fclose(f);
    const char *want = "              precision    recall  f1-score   support\n"
                       "\n"
                       "      setosa     0.6667    1.0000    0.8000         2\n"
                       "   virginica     1.0000    0.5000    0.6667         2\n"
                       "\n"
                       "    accuracy                         0.7500         4\n"
                       "   macro avg     0.8333    0.7500    0.7333         4\n"
                       "weighted avg     0.8333    0.7500    0.7333         4\n";
    ck_assert_str_eq(text, want);
    free(text);
    cli_report_free(&rep);
}
END_TEST

static Suite *report_suite(void)
{
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("report");
    tcase_add_test(tc, report_equals_scikit_learn);
    tcase_add_test(tc, report_layout);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return csm_test_main(report_suite(), 0);
}
