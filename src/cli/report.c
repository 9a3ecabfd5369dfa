/* eval's classification report: per class precision, recall, F1 and
 * support, their macro and weighted averages, as scikit-learn's
 * classification_report computes them (tests/check_report compares with
 * its figures): over the classes that occur as a true label or as a
 * prediction; precision tp / (tp + fp), recall tp / (tp + fn), F1 their
 * harmonic mean, each 0 where it divides by 0 (zero_division=0, what its
 * default "warn" returns); the macro average is the plain mean over those
 * classes, the weighted one weights each by its support. Classes the model
 * never saw are rows of the matrix with no column: their samples are
 * errors, and their recall is 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static double ratio(unsigned long long a, unsigned long long b)
{
    return b ? (double)a / (double)b : 0.0;
}

int cli_report_compute(const unsigned long long *conf, size_t R, size_t C, cli_report *out)
{
    memset(out, 0, sizeof *out);
    out->rows = malloc((R > 0 ? R : 1) * sizeof *out->rows);
    if (!out->rows)
        return -1;
    unsigned long long correct = 0, total = 0;
    for (size_t r = 0; r < R; r++) {
        unsigned long long tp = r < C ? conf[r * C + r] : 0, support = 0, predicted = 0;
        for (size_t c = 0; c < C; c++)
            support += conf[r * C + c];
        for (size_t q = 0; r < C && q < R; q++)
            predicted += conf[q * C + r];
        correct += tp;
        total += support;
        if (support == 0 && predicted == 0)
            continue; /* neither a true label nor a prediction: not reported */
        cli_report_row *row = &out->rows[out->n++];
        row->cls = r;
        row->support = support;
        row->precision = ratio(tp, predicted);
        row->recall = ratio(tp, support);
        double pr = row->precision + row->recall;
        row->f1 = pr > 0 ? 2 * row->precision * row->recall / pr : 0.0;
    }
    for (size_t i = 0; i < out->n; i++) {
        const cli_report_row *row = &out->rows[i];
        double w = ratio(row->support, total);
        out->macro.precision += row->precision / (double)out->n;
        out->macro.recall += row->recall / (double)out->n;
        out->macro.f1 += row->f1 / (double)out->n;
        out->weighted.precision += row->precision * w;
        out->weighted.recall += row->recall * w;
        out->weighted.f1 += row->f1 * w;
    }
    out->macro.support = out->weighted.support = total;
    out->accuracy = ratio(correct, total);
    return 0;
}

void cli_report_free(cli_report *r)
{
    free(r->rows);
    memset(r, 0, sizeof *r);
}

/* scikit-learn's layout: names right-aligned to the longest, then
 * columns 9 wide, one space apart; a blank line after the header and
 * before the averages. */
static void print_row(FILE *f, int width, const char *name, const cli_report_row *r)
{
    fprintf(f, "%*s  %9.4f %9.4f %9.4f %9llu\n", width, name, r->precision, r->recall, r->f1,
            r->support);
}

void cli_report_print(FILE *f, const cli_report *r, const char *const *names)
{
    int width = (int)strlen("weighted avg");
    for (size_t i = 0; i < r->n; i++) {
        int w = (int)strlen(names[r->rows[i].cls]);
        if (w > width)
            width = w;
    }
    fprintf(f, "%*s  %9s %9s %9s %9s\n\n", width, "", "precision", "recall", "f1-score",
            "support");
    for (size_t i = 0; i < r->n; i++)
        print_row(f, width, names[r->rows[i].cls], &r->rows[i]);
    fprintf(f, "\n%*s  %9s %9s %9.4f %9llu\n", width, "accuracy", "", "", r->accuracy,
            r->macro.support);
    print_row(f, width, "macro avg", &r->macro);
    print_row(f, width, "weighted avg", &r->weighted);
}
