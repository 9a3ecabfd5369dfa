/* clsoftmax predict [--proba] DATA MODEL [OUTPUT] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void help(void)
{
    printf("Usage: clsoftmax predict [OPTIONS] DATA MODEL [OUTPUT]\n"
           "Predict the class of every sample of DATA with MODEL. Writes to OUTPUT, or\n"
           "to standard output when OUTPUT is absent or '-' (DATA '-' is standard\n"
           "input). OUTPUT is checked before any work (it may not be DATA, MODEL or a\n"
           "link to them, nor with DATA '-' the file standard input reads; a regular\n"
           "file, a new one, or a pipe or device such as /dev/null) and replaced whole\n"
           "once complete: a failed run leaves the old file as it was.\n"
           "\n"
           "Output: one line per sample with the predicted label, in the labels the\n"
           "model was trained with (e.g. -1/1, or names such as virginica). With\n"
           "--proba: CSV, a header line naming the classes (e.g. '-1,1'), then one row\n"
           "per sample with the probability of each class (%%.9g).\n"
           "The labels in DATA are not used. DATA without labels is read as such with\n"
           "--no-labels, or when a CSV row has as many columns as the model has\n"
           "features, a libsvm line starts with INDEX:VALUE, or an IDX images file has\n"
           "no labels file beside it; a note on stderr says so.\n"
           "\n"
           "Options:\n"
           "  --proba                write class probabilities instead of labels\n"
           "  --no-labels            DATA has no label column (CSV) or labels (libsvm),\n"
           "                         or no labels file (IDX)\n"
           "%s"
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
           cli_output_help, cli_format_help);
}

enum { O_PROBA, O_NO_LABELS, O_HELP, O_QUIET, O_SILENT, O_VERBOSE };
static const cli_option options[] = {{"proba", 0, 0}, {"no-labels", 0, 0}, {"help", 'h', 0},
                                     CLI_OUTPUT_OPTIONS, CLI_FORMAT_OPTIONS, {NULL, 0, 0}};

int cmd_predict(int argc, char **argv)
{
    cli_args it;
    const char *v, *pos[3] = {NULL, NULL, NULL};
    int id, npos = 0, proba = 0, no_labels = 0;
    csm_read_options ro;
    cli_format_unset(&ro);
    cli_args_init(&it, "predict", argc, argv);
    while ((id = cli_args_next(&it, options, &v)) != CLI_ARG_END) {
        if (id == CLI_ARG_ERROR)
            return CLI_USAGE;
        if (id == CLI_ARG_POSITIONAL) {
            if (npos >= 3)
                return cli_usage_error("predict", "unexpected argument '%s'", v);
            pos[npos++] = v;
        } else if (id == O_PROBA) {
            proba = 1;
        } else if (id == O_NO_LABELS) {
            no_labels = 1;
        } else if (id == O_QUIET || id == O_SILENT || id == O_VERBOSE) {
            cli_output_option(options[id].name);
        } else if (id == O_HELP) {
            help();
            return CLI_OK;
        } else if (cli_format_option("predict", options[id].name, v, &ro)) {
            return CLI_USAGE;
        }
    }
    if (npos < 2)
        return cli_usage_error("predict", npos == 0 ? "missing DATA and MODEL arguments"
                                                    : "missing MODEL argument");
    const char *data_path = pos[0], *model_path = pos[1];
    const char *out_path = (pos[2] && strcmp(pos[2], "-") != 0) ? pos[2] : NULL;

    int status = CLI_FAIL;
    csm_context *ctx = NULL;
    csm_model *model = NULL;
    csm_dataset *data = NULL;
    csm_table tab;
    int32_t *cls = NULL;
    double *probs = NULL;
    FILE *out = NULL;
    cli_out *file = NULL;
    csm_status st;
    cli_classes classes = {0};
    char note[3072];
    memset(&tab, 0, sizeof tab);

    /* the output's checks, and its temporary, before any work: a bad place
     * to write fails now, and the old OUTPUT stays whole until the new one
     * is complete */
    if (cli_check_model_io(data_path, &ro, model_path, out_path, "predictions") ||
        (out_path && !(file = cli_out_open(out_path, &out))))
        goto done;
    if (!(ctx = cli_context_create()))
        goto done;
    if (cli_load_model(ctx, model_path, &model))
        goto done;
    size_t C = csm_model_n_classes(model);
    if (cli_model_classes(model, model_path, &classes))
        goto done;
    ro.no_labels = no_labels ? 1 : -1;
    if (cli_read_for_model(data_path, model, model_path, &ro, &tab, note, sizeof note))
        goto done;

    if (cli_make_dataset(ctx, &data, csm_model_precision(model), &tab, NULL, 0))
        goto done;
    size_t n = tab.n;
    csm_table_free(&tab); /* on the device now */
    char num[32];
    if (proba) {
        if (n > SIZE_MAX / C / sizeof *probs || !(probs = malloc(n * C * sizeof *probs))) {
            cli_error("out of memory");
            goto done;
        }
        if ((st = csm_predict_proba(model, data, probs)) != CSM_OK) {
            cli_lib_error(ctx, st);
            goto done;
        }
    } else {
        if (!(cls = malloc(n * sizeof *cls))) {
            cli_error("out of memory");
            goto done;
        }
        if ((st = csm_predict(model, data, cls)) != CSM_OK) {
            cli_lib_error(ctx, st);
            goto done;
        }
    }

    if (!out_path)
        out = stdout;
    if (proba) {
        for (size_t c = 0; c < C; c++) {
            if (c)
                fputc(',', out);
            cli_write_csv_field(out, cli_class_name(&classes, c, num, sizeof num));
        }
        fputc('\n', out);
        for (size_t i = 0; i < n; i++) {
            for (size_t c = 0; c < C; c++)
                fprintf(out, "%s%.9g", c ? "," : "", probs[i * C + c]);
            fputc('\n', out);
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            int32_t c = cls[i];
            if (c < 0 || (size_t)c >= C) {
                cli_error("the device returned class %d for sample %zu (%zu classes)", (int)c,
                          i + 1, C);
                goto done;
            }
            fputs(cli_class_name(&classes, (size_t)c, num, sizeof num), out);
            fputc('\n', out);
        }
    }
    if (file) {
        int rc = cli_out_commit(file);
        file = NULL;
        if (rc)
            goto done;
    } else if (ferror(out) || fflush(out) != 0) {
        cli_error("standard output: write error: %s", strerror(errno));
        goto done;
    }
    /* after the output: an error is then the first line on stderr */
    if (!cli_quiet)
        fputs(note, stderr);
    status = CLI_OK;
done:
    cli_out_discard(file);
    free(cls);
    free(probs);
    cli_classes_free(&classes);
    csm_table_free(&tab);
    csm_dataset_free(data);
    csm_model_free(model);
    csm_context_free(ctx);
    return status;
}
