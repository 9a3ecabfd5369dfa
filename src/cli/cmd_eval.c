/* clsoftmax eval DATA MODEL: mean cross-entropy, accuracy, the
 * classification report (report.c), the confusion matrix. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "plot.h"

/* A larger matrix is a wall of numbers wider than a terminal. */
#define CONFUSION_MAX_CLASSES 30

static void help(void)
{
    printf("Usage: clsoftmax eval [OPTIONS] DATA MODEL\n"
           "Evaluate MODEL on the labelled samples of DATA. Prints to standard output:\n"
           "  loss X        mean cross-entropy (natural log, no L2 term)\n"
           "  accuracy X    fraction of samples predicted correctly\n"
           "then the classification report of scikit-learn: precision, recall, F1 and\n"
           "support of each class, and their macro (plain) and weighted (by support)\n"
           "averages, over the classes that are a true label or a prediction (0 where\n"
           "a figure divides by 0); then the confusion matrix, rows = true label,\n"
           "columns = predicted label, headed by the labels (values or names), for\n"
           "models of at most %d classes unless --confusion asks for it.\n"
           "A label of DATA that is none of the model's classes is a class the model\n"
           "never saw: its samples count as errors (liblinear's rule), with a WARNING;\n"
           "the loss is then the mean over the other samples.\n"
           "\n"
           "Options:\n"
           "  --confusion            print the confusion matrix whatever the class count\n"
           "%s"
           "  --plot FILE.svg        also draw the confusion matrix as a heatmap in an\n"
           "                         SVG picture, with the class names and the counts\n"
           "                         (at most %d classes; data-* attributes hold the\n"
           "                         numbers)\n"
           "  -h, --help             show this help\n"
           "\n"
           "%s"
           "The data-format options default to those the model was trained with (its\n"
           "metadata data_format, data_label_column, data_header, data_delimiter,\n"
           "data_storage); options given here win, and so does a file name that tells\n"
           "the format (*.csv, *.svm, ...).\n"
           "libsvm data takes its feature count from the model; features beyond it\n"
           "(never seen in training) are ignored, with one WARNING giving their count.\n"
           "\n"
           "Exit status: 0 success, 1 runtime or data error, 2 usage error.\n",
           CONFUSION_MAX_CLASSES, cli_output_help, PLOT_MAX_CLASSES, cli_format_help);
}

enum { O_CONFUSION, O_HELP, O_PLOT, O_QUIET, O_SILENT, O_VERBOSE };
static const cli_option options[] = {{"confusion", 0, 0}, {"help", 'h', 0}, {"plot", 0, 1},
                                     CLI_OUTPUT_OPTIONS,  CLI_FORMAT_OPTIONS, {NULL, 0, 0}};

static int digits(unsigned long long v)
{
    int d = 1;
    while (v >= 10)
        v /= 10, d++;
    return d;
}

/* Rows = true class (the model's, then those it never saw), columns =
 * predicted, headed by the class labels. */
static void print_confusion(const unsigned long long *conf, size_t R, size_t C,
                            const char *const *names)
{
    int width = 1, lw = 1;
    for (size_t r = 0; r < R; r++) {
        int w = (int)strlen(names[r]);
        if (r < C && w > width)
            width = w;
        if (w > lw)
            lw = w;
    }
    for (size_t i = 0; i < R * C; i++)
        if (digits(conf[i]) > width)
            width = digits(conf[i]);
    printf("confusion matrix (rows: true label, columns: predicted label)\n");
    printf("%*s", lw, "");
    for (size_t c = 0; c < C; c++)
        printf(" %*s", width, names[c]);
    putchar('\n');
    for (size_t r = 0; r < R; r++) {
        printf("%*s", lw, names[r]);
        for (size_t c = 0; c < C; c++)
            printf(" %*llu", width, conf[r * C + c]);
        putchar('\n');
    }
}

/* The names of the matrix rows: the model's classes, then the labels it
 * never saw. Integer names live in `ints` (C x 32 bytes). */
static const char **row_names(const cli_classes *cls, const cli_unseen *u, char *ints)
{
    size_t C = cls->C;
    const char **names = malloc((C + u->n) * sizeof *names);
    if (!names)
        return NULL;
    for (size_t c = 0; c < C; c++)
        names[c] = cli_class_name(cls, c, ints + 32 * c, 32);
    for (size_t e = 0; e < u->n; e++)
        names[C + e] = u->names[e];
    return names;
}

/* The mean loss over the nk samples of a class the model knows. */
static int known_loss(csm_context *ctx, csm_model *model, const csm_table *tab,
                      const int32_t *labels, size_t C, size_t nk, double *loss)
{
    size_t *rows = malloc(nk * sizeof *rows);
    int32_t *kl = malloc(nk * sizeof *kl);
    csm_dataset *known = NULL;
    csm_table kt;
    int rc = CLI_FAIL;
    memset(&kt, 0, sizeof kt);
    if (rows && kl) {
        for (size_t i = 0, at = 0; i < tab->n; i++)
            if ((size_t)labels[i] < C) {
                rows[at] = i;
                kl[at++] = labels[i];
            }
    }
    if (!rows || !kl || csm_table_take_rows(tab, rows, nk, &kt) != 0) {
        cli_error("out of memory");
    } else if (!cli_make_dataset(ctx, &known, csm_model_precision(model), &kt, kl, C)) {
        csm_status st = csm_evaluate(model, known, loss, NULL);
        rc = st == CSM_OK ? 0 : cli_lib_error(ctx, st);
    }
    csm_dataset_free(known);
    csm_table_free(&kt);
    free(rows);
    free(kl);
    return rc;
}

/* The predictions of every sample, and the mean loss over those of a class
 * the model knows (all of them, unless some are unseen). */
static int predict_and_loss(csm_context *ctx, csm_model *model, const csm_table *tab,
                            const int32_t *labels, size_t C, const cli_unseen *u, int32_t *pred,
                            double *loss)
{
    csm_dataset *all = NULL;
    *loss = NAN;
    if (cli_make_dataset(ctx, &all, csm_model_precision(model), tab, u->n ? NULL : labels,
                         u->n ? 0 : C))
        return CLI_FAIL;
    csm_status st = csm_predict(model, all, pred);
    if (st == CSM_OK && !u->n)
        st = csm_evaluate(model, all, loss, NULL);
    int rc = st == CSM_OK ? 0 : cli_lib_error(ctx, st);
    csm_dataset_free(all);
    if (rc || !u->n || tab->n == u->samples)
        return rc;
    return known_loss(ctx, model, tab, labels, C, tab->n - u->samples, loss);
}

/* liblinear counts the samples of a class the model never saw as errors;
 * so does eval, saying which. */
static void warn_unseen(const char *data_path, const cli_unseen *u, size_t n)
{
    char list[512] = "";
    size_t used = 0;
    for (size_t e = 0; e < u->n && used + 1 < sizeof list; e++) {
        if (e == 10) {
            snprintf(list + used, sizeof list - used, ", ... (%zu in all)", u->n);
            break;
        }
        int w = snprintf(list + used, sizeof list - used, "%s%s", e ? ", " : "", u->names[e]);
        used += w > 0 ? (size_t)w : 0;
    }
    cli_warning("%s: %zu of %zu samples have a label the model never saw (%s): counted as "
                "errors; the loss is over the other %zu",
                csm_display_name(data_path), u->samples, n, list, n - u->samples);
}

/* --plot: the matrix drawn, titled with the files and the scores. */
static int write_plot(const char *path, const cli_classes *cls, const unsigned long long *conf,
                      const char *data_path, const char *model_path, double loss, double acc,
                      size_t n)
{
    char title[2400], sub[200];
    snprintf(title, sizeof title, "clsoftmax eval %s %s", data_path, model_path);
    snprintf(sub, sizeof sub, "%zu samples, accuracy %.4f, loss %.4f", n, acc, loss);
    return plot_confusion_write(path, cls, conf, title, sub);
}

typedef struct eval_args {
    const char *data_path, *model_path;
    const char *plot; /* --plot FILE.svg */
    int confusion;
    csm_read_options ro;
} eval_args;

/* 0, CLI_USAGE after the error, or -1 after --help. */
static int parse_args(int argc, char **argv, eval_args *a)
{
    cli_args it;
    const char *v, *pos[2] = {NULL, NULL};
    int id, npos = 0;
    memset(a, 0, sizeof *a);
    cli_format_unset(&a->ro);
    cli_args_init(&it, "eval", argc, argv);
    while ((id = cli_args_next(&it, options, &v)) != CLI_ARG_END) {
        if (id == CLI_ARG_ERROR)
            return CLI_USAGE;
        if (id == CLI_ARG_POSITIONAL) {
            if (npos >= 2)
                return cli_usage_error("eval", "unexpected argument '%s'", v);
            pos[npos++] = v;
        } else if (id == O_CONFUSION) {
            a->confusion = 1;
        } else if (id == O_QUIET || id == O_SILENT || id == O_VERBOSE) {
            cli_output_option(options[id].name);
        } else if (id == O_HELP) {
            help();
            return -1;
        } else if (id == O_PLOT) {
            a->plot = v;
        } else if (cli_format_option("eval", options[id].name, v, &a->ro)) {
            return CLI_USAGE;
        }
    }
    if (npos < 2)
        return cli_usage_error("eval", npos == 0 ? "missing DATA and MODEL arguments"
                                                 : "missing MODEL argument");
    a->data_path = pos[0];
    a->model_path = pos[1];
    return 0;
}

/* What a run holds, freed in one place. */
typedef struct eval_run {
    cli_model_data md;
    size_t n, C, R;            /* samples, the model's classes, rows of the matrix */
    int32_t *labels, *pred;    /* (n) true (unseen: C + their index) and predicted */
    cli_unseen unseen;
    unsigned long long *conf;  /* (R, C) */
    const char **names;        /* (R) the rows' labels */
    char *ints;                /* integer labels written out for names */
    cli_report report;
    double loss;
} eval_run;

/* The true and predicted class of every sample into the confusion matrix,
 * and the loss. */
static int confusion(const eval_args *a, eval_run *r)
{
    r->labels = malloc(r->n * sizeof *r->labels);
    r->pred = malloc(r->n * sizeof *r->pred);
    r->ints = malloc(r->C * 32);
    if (!r->labels || !r->pred || !r->ints) {
        cli_error("out of memory");
        return CLI_FAIL;
    }
    if (cli_map_table_unseen(a->data_path, &r->md.tab, &r->md.classes, r->labels, &r->unseen))
        return CLI_FAIL;
    r->R = r->C + r->unseen.n;
    if (!(r->conf = calloc(r->R * r->C, sizeof *r->conf)) ||
        !(r->names = row_names(&r->md.classes, &r->unseen, r->ints))) {
        cli_error("out of memory");
        return CLI_FAIL;
    }
    if (r->unseen.n)
        warn_unseen(a->data_path, &r->unseen, r->n);
    if (predict_and_loss(r->md.ctx, r->md.model, &r->md.tab, r->labels, r->C, &r->unseen,
                         r->pred, &r->loss))
        return CLI_FAIL;
    csm_table_free(&r->md.tab);
    if (cli_check_predictions(r->pred, r->n, r->C))
        return CLI_FAIL;
    for (size_t i = 0; i < r->n; i++)
        r->conf[(size_t)r->labels[i] * r->C + (size_t)r->pred[i]]++;
    return 0;
}

static int print_results(const eval_args *a, const eval_run *r)
{
    printf("loss %.6f\n", r->loss);
    printf("accuracy %.6f\n", r->report.accuracy);
    putchar('\n');
    cli_report_print(stdout, &r->report, r->names);
    putchar('\n');
    if (r->C > CONFUSION_MAX_CLASSES && !a->confusion)
        printf("confusion matrix omitted: %zu classes (more than %d); --confusion prints it\n",
               r->C, CONFUSION_MAX_CLASSES);
    else
        print_confusion(r->conf, r->R, r->C, r->names);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("write error on standard output");
        return CLI_FAIL;
    }
    return 0;
}

static int eval(const eval_args *a, eval_run *r)
{
    csm_read_options ro = a->ro;
    if (cli_check_model_io(a->data_path, &ro, a->model_path, a->plot, "picture (--plot)") ||
        cli_model_data_open(&r->md, a->model_path, a->data_path, &ro))
        return CLI_FAIL;
    r->n = r->md.tab.n;
    r->C = r->md.classes.C;
    if (confusion(a, r))
        return CLI_FAIL;
    if (cli_report_compute(r->conf, r->R, r->C, &r->report) != 0) {
        cli_error("out of memory");
        return CLI_FAIL;
    }
    if (print_results(a, r))
        return CLI_FAIL;
    /* the model's classes: the first C rows */
    if (a->plot && write_plot(a->plot, &r->md.classes, r->conf, a->data_path, a->model_path,
                              r->loss, r->report.accuracy, r->n))
        return CLI_FAIL;
    cli_model_data_note(&r->md);
    return CLI_OK;
}

int cmd_eval(int argc, char **argv)
{
    eval_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    eval_run r;
    memset(&r, 0, sizeof r);
    rc = eval(&a, &r);
    free(r.labels);
    free(r.pred);
    free(r.conf);
    free(r.names);
    free(r.ints);
    cli_report_free(&r.report);
    cli_unseen_free(&r.unseen);
    cli_model_data_free(&r.md);
    return rc;
}
