/* clsoftmax eval DATA MODEL: mean cross-entropy, accuracy, confusion matrix. */
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
           "then the confusion matrix, rows = true label, columns = predicted label,\n"
           "headed by the labels (values or names), for models of at most %d classes\n"
           "unless --confusion asks for it. Every label of DATA must be one of the\n"
           "model's classes.\n"
           "\n"
           "Options:\n"
           "  --confusion            print the confusion matrix whatever the class count\n"
           "  -q, --quiet            print nothing on stderr but errors and warnings\n"
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
           CONFUSION_MAX_CLASSES, PLOT_MAX_CLASSES, cli_format_help);
}

enum { O_CONFUSION, O_QUIET, O_HELP, O_PLOT };
static const cli_option options[] = {{"confusion", 0, 0}, {"quiet", 'q', 0}, {"help", 'h', 0},
                                     {"plot", 0, 1},      CLI_FORMAT_OPTIONS, {NULL, 0, 0}};

static int digits(unsigned long long v)
{
    int d = 1;
    while (v >= 10)
        v /= 10, d++;
    return d;
}

/* Rows = true class, columns = predicted, headed by the class labels. */
static void print_confusion(const unsigned long long *conf, const cli_classes *cls)
{
    size_t C = cls->C;
    char num[32];
    int width = 1, lw = 1;
    for (size_t c = 0; c < C; c++) {
        int w = (int)strlen(cli_class_name(cls, c, num, sizeof num));
        if (w > width)
            width = w;
        if (w > lw)
            lw = w;
    }
    for (size_t i = 0; i < C * C; i++)
        if (digits(conf[i]) > width)
            width = digits(conf[i]);
    printf("confusion matrix (rows: true label, columns: predicted label)\n");
    printf("%*s", lw, "");
    for (size_t c = 0; c < C; c++)
        printf(" %*s", width, cli_class_name(cls, c, num, sizeof num));
    putchar('\n');
    for (size_t r = 0; r < C; r++) {
        printf("%*s", lw, cli_class_name(cls, r, num, sizeof num));
        for (size_t c = 0; c < C; c++)
            printf(" %*llu", width, conf[r * C + c]);
        putchar('\n');
    }
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
    int id, npos = 0, confusion = 0, quiet = 0;
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
        } else if (id == O_QUIET) {
            quiet = 1;
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
    csm_dataset *data = NULL;
    csm_table tab;
    int32_t *labels = NULL, *pred = NULL;
    unsigned long long *conf = NULL;
    csm_status st;
    char whose[1100];
    cli_classes classes = {0};
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
    labels = malloc(tab.n * sizeof *labels);
    pred = malloc(tab.n * sizeof *pred);
    conf = calloc(C * C, sizeof *conf);
    if (!labels || !pred || !conf) {
        cli_error("out of memory");
        goto done;
    }
    snprintf(whose, sizeof whose, "the model %s does not know", model_path);
    if (cli_map_table(data_path, &tab, &classes, whose, labels))
        goto done;
    if (cli_make_dataset(ctx, &data, csm_model_precision(model), &tab, labels, C))
        goto done;
    size_t n = tab.n;
    csm_table_free(&tab); /* on the device now */
    double loss = 0, acc = 0;
    if ((st = csm_evaluate(model, data, &loss, &acc)) != CSM_OK ||
        (st = csm_predict(model, data, pred)) != CSM_OK) {
        cli_lib_error(ctx, st);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if (pred[i] < 0 || (size_t)pred[i] >= C) {
            cli_error("the device returned class %d for sample %zu (%zu classes)", (int)pred[i],
                      i + 1, C);
            goto done;
        }
        conf[(size_t)labels[i] * C + (size_t)pred[i]]++;
    }

    printf("loss %.6f\n", loss);
    printf("accuracy %.6f\n", acc);
    if (C > CONFUSION_MAX_CLASSES && !confusion)
        printf("confusion matrix omitted: %zu classes (more than %d); --confusion prints it\n",
               C, CONFUSION_MAX_CLASSES);
    else
        print_confusion(conf, &classes);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("write error on standard output");
        goto done;
    }
    if (plot && write_plot(plot, &classes, conf, data_path, model_path, loss, acc, n))
        goto done;
    if (!quiet)
        fputs(note, stderr);
    status = CLI_OK;
done:
    free(labels);
    free(pred);
    free(conf);
    cli_classes_free(&classes);
    csm_table_free(&tab);
    csm_dataset_free(data);
    csm_model_free(model);
    csm_context_free(ctx);
    return status;
}
