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

/* The predictions of every sample, and the mean loss over those of a class
 * the model knows (all of them, unless some are unseen). */
static int predict_and_loss(csm_context *ctx, csm_model *model, csm_table *tab,
                            const int32_t *labels, size_t C, const cli_unseen *u, int32_t *pred,
                            double *loss)
{
    csm_precision prec = csm_model_precision(model);
    csm_dataset *all = NULL, *known = NULL;
    csm_table kt;
    size_t *rows = NULL;
    int32_t *kl = NULL;
    int rc = CLI_FAIL;
    csm_status st;
    memset(&kt, 0, sizeof kt);
    *loss = NAN;
    if (cli_make_dataset(ctx, &all, prec, tab, u->n ? NULL : labels, u->n ? 0 : C))
        return CLI_FAIL;
    if ((st = csm_predict(model, all, pred)) != CSM_OK)
        goto liberr;
    if (!u->n) {
        if ((st = csm_evaluate(model, all, loss, NULL)) != CSM_OK)
            goto liberr;
        rc = 0;
        goto done;
    }
    size_t nk = tab->n - u->samples;
    if (nk == 0) {
        rc = 0;
        goto done;
    }
    rows = malloc(nk * sizeof *rows);
    kl = malloc(nk * sizeof *kl);
    if (!rows || !kl) {
        cli_error("out of memory");
        goto done;
    }
    for (size_t i = 0, at = 0; i < tab->n; i++)
        if ((size_t)labels[i] < C) {
            rows[at] = i;
            kl[at++] = labels[i];
        }
    if (csm_table_take_rows(tab, rows, nk, &kt) != 0) {
        cli_error("out of memory");
        goto done;
    }
    if (cli_make_dataset(ctx, &known, prec, &kt, kl, C))
        goto done;
    if ((st = csm_evaluate(model, known, loss, NULL)) != CSM_OK)
        goto liberr;
    rc = 0;
    goto done;
liberr:
    rc = cli_lib_error(ctx, st);
done:
    csm_dataset_free(all);
    csm_dataset_free(known);
    csm_table_free(&kt);
    free(rows);
    free(kl);
    return rc;
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
                csm_path_name(data_path), u->samples, n, list, n - u->samples);
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

int cmd_eval(int argc, char **argv)
{
    cli_args it;
    const char *v, *pos[2] = {NULL, NULL}, *plot = NULL;
    int id, npos = 0, confusion = 0;
    csm_read_options ro;
    cli_format_unset(&ro);
    cli_args_init(&it, "eval", argc, argv);
    while ((id = cli_args_next(&it, options, &v)) != CLI_ARG_END) {
        if (id == CLI_ARG_ERROR)
            return CLI_USAGE;
        if (id == CLI_ARG_POSITIONAL) {
            if (npos >= 2)
                return cli_usage_error("eval", "unexpected argument '%s'", v);
            pos[npos++] = v;
        } else if (id == O_CONFUSION) {
            confusion = 1;
        } else if (id == O_QUIET || id == O_SILENT || id == O_VERBOSE) {
            cli_output_option(options[id].name);
        } else if (id == O_HELP) {
            help();
            return CLI_OK;
        } else if (id == O_PLOT) {
            plot = v;
        } else if (cli_format_option("eval", options[id].name, v, &ro)) {
            return CLI_USAGE;
        }
    }
    if (npos < 2)
        return cli_usage_error("eval", npos == 0 ? "missing DATA and MODEL arguments"
                                                 : "missing MODEL argument");
    const char *data_path = pos[0], *model_path = pos[1];

    int status = CLI_FAIL;
    csm_context *ctx = NULL;
    csm_model *model = NULL;
    csm_table tab;
    int32_t *labels = NULL, *pred = NULL;
    unsigned long long *conf = NULL;
    cli_classes classes = {0};
    cli_unseen unseen = {0};
    cli_report report = {0};
    const char **names = NULL;
    char *ints = NULL;
    char note[3072];
    memset(&tab, 0, sizeof tab);

    if (cli_check_model_io(data_path, &ro, model_path, plot, "picture (--plot)"))
        goto done;
    if (!(ctx = cli_context_create()))
        goto done;
    if (cli_load_model(ctx, model_path, &model))
        goto done;
    size_t C = csm_model_n_classes(model);
    if (cli_model_classes(model, model_path, &classes))
        goto done;
    if (cli_read_for_model(data_path, model, model_path, &ro, &tab, note, sizeof note))
        goto done;
    size_t n = tab.n;
    labels = malloc(n * sizeof *labels);
    pred = malloc(n * sizeof *pred);
    ints = malloc(C * 32);
    if (!labels || !pred || !ints)
        goto nomem;
    if (cli_map_table_unseen(data_path, &tab, &classes, labels, &unseen))
        goto done;
    size_t R = C + unseen.n; /* rows of the matrix */
    if (!(conf = calloc(R * C, sizeof *conf)) || !(names = row_names(&classes, &unseen, ints)))
        goto nomem;
    if (unseen.n)
        warn_unseen(data_path, &unseen, n);
    double loss;
    if (predict_and_loss(ctx, model, &tab, labels, C, &unseen, pred, &loss))
        goto done;
    csm_table_free(&tab);
    for (size_t i = 0; i < n; i++) {
        if (pred[i] < 0 || (size_t)pred[i] >= C) {
            cli_error("the device returned class %d for sample %zu (%zu classes)", (int)pred[i],
                      i + 1, C);
            goto done;
        }
        conf[(size_t)labels[i] * C + (size_t)pred[i]]++;
    }
    if (cli_report_compute(conf, R, C, &report) != 0)
        goto nomem;

    printf("loss %.6f\n", loss);
    printf("accuracy %.6f\n", report.accuracy);
    putchar('\n');
    cli_report_print(stdout, &report, names);
    putchar('\n');
    if (C > CONFUSION_MAX_CLASSES && !confusion)
        printf("confusion matrix omitted: %zu classes (more than %d); --confusion prints it\n",
               C, CONFUSION_MAX_CLASSES);
    else
        print_confusion(conf, R, C, names);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("write error on standard output");
        goto done;
    }
    /* the model's classes: the first C rows */
    if (plot && write_plot(plot, &classes, conf, data_path, model_path, loss, report.accuracy, n))
        goto done;
    if (!cli_quiet)
        fputs(note, stderr);
    status = CLI_OK;
    goto done;
nomem:
    cli_error("out of memory");
done:
    free(labels);
    free(pred);
    free(conf);
    free(names);
    free(ints);
    cli_report_free(&report);
    cli_unseen_free(&unseen);
    cli_classes_free(&classes);
    csm_table_free(&tab);
    csm_model_free(model);
    csm_context_free(ctx);
    return status;
}
