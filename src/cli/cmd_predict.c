/* clsoftmax predict [--proba] DATA MODEL [OUTPUT]: the class of every
 * sample (or the probability of each class), replaced whole. */
#include <errno.h>
#include <stdint.h>
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

typedef struct predict_args {
    const char *data_path, *model_path;
    const char *out_path; /* NULL: standard output */
    int proba;
    csm_read_options ro;
} predict_args;

/* 0, CLI_USAGE after the error, or -1 after --help. */
static int parse_args(int argc, char **argv, predict_args *a)
{
    cli_args it;
    const char *v, *pos[3] = {NULL, NULL, NULL};
    int id, npos = 0, no_labels = 0;
    memset(a, 0, sizeof *a);
    cli_format_unset(&a->ro);
    cli_args_init(&it, "predict", argc, argv);
    while ((id = cli_args_next(&it, options, &v)) != CLI_ARG_END) {
        if (id == CLI_ARG_ERROR)
            return CLI_USAGE;
        if (id == CLI_ARG_POSITIONAL) {
            if (npos >= 3)
                return cli_usage_error("predict", "unexpected argument '%s'", v);
            pos[npos++] = v;
        } else if (id == O_PROBA) {
            a->proba = 1;
        } else if (id == O_NO_LABELS) {
            no_labels = 1;
        } else if (id == O_QUIET || id == O_SILENT || id == O_VERBOSE) {
            cli_output_option(options[id].name);
        } else if (id == O_HELP) {
            help();
            return -1;
        } else if (cli_format_option("predict", options[id].name, v, &a->ro)) {
            return CLI_USAGE;
        }
    }
    if (npos < 2)
        return cli_usage_error("predict", npos == 0 ? "missing DATA and MODEL arguments"
                                                    : "missing MODEL argument");
    a->data_path = pos[0];
    a->model_path = pos[1];
    a->out_path = (pos[2] && strcmp(pos[2], "-") != 0) ? pos[2] : NULL;
    a->ro.no_labels = no_labels ? 1 : -1;
    return 0;
}

/* What a run holds, freed in one place. */
typedef struct predict_run {
    cli_model_data md;
    csm_dataset *data;
    size_t n, C;
    int32_t *cls;  /* (n) predicted classes, or */
    double *probs; /* (n, C) --proba */
    cli_out *file; /* OUTPUT's temporary, until it is committed */
    FILE *out;
} predict_run;

static int predict_all(const predict_args *a, predict_run *r)
{
    csm_status st;
    if (a->proba) {
        if (r->n > SIZE_MAX / r->C / sizeof *r->probs ||
            !(r->probs = malloc(r->n * r->C * sizeof *r->probs))) {
            cli_error("out of memory");
            return CLI_FAIL;
        }
        st = csm_predict_proba(r->md.model, r->data, r->probs);
    } else {
        if (!(r->cls = malloc(r->n * sizeof *r->cls))) {
            cli_error("out of memory");
            return CLI_FAIL;
        }
        st = csm_predict(r->md.model, r->data, r->cls);
    }
    if (st != CSM_OK)
        return cli_lib_error(r->md.ctx, st);
    return r->cls ? cli_check_predictions(r->cls, r->n, r->C) : 0;
}

/* A label a line, or with --proba a CSV header naming the classes and a
 * row of probabilities a sample. */
static void write_predictions(const predict_run *r)
{
    char num[32];
    const cli_classes *cls = &r->md.classes;
    if (r->probs) {
        for (size_t c = 0; c < r->C; c++) {
            if (c)
                fputc(',', r->out);
            cli_write_csv_field(r->out, cli_class_name(cls, c, num, sizeof num));
        }
        fputc('\n', r->out);
        for (size_t i = 0; i < r->n; i++) {
            for (size_t c = 0; c < r->C; c++)
                fprintf(r->out, "%s%.9g", c ? "," : "", r->probs[i * r->C + c]);
            fputc('\n', r->out);
        }
        return;
    }
    for (size_t i = 0; i < r->n; i++) {
        fputs(cli_class_name(cls, (size_t)r->cls[i], num, sizeof num), r->out);
        fputc('\n', r->out);
    }
}

static int predict(const predict_args *a, predict_run *r)
{
    /* the output's checks, and its temporary, before any work: a bad place
     * to write fails now, and the old OUTPUT stays whole until the new one
     * is complete */
    if (cli_check_model_io(a->data_path, &a->ro, a->model_path, a->out_path, "predictions") ||
        (a->out_path && !(r->file = cli_out_open(a->out_path, &r->out))))
        return CLI_FAIL;
    csm_read_options ro = a->ro;
    if (cli_model_data_open(&r->md, a->model_path, a->data_path, &ro) ||
        cli_make_dataset(r->md.ctx, &r->data, csm_model_precision(r->md.model), &r->md.tab, NULL,
                         0))
        return CLI_FAIL;
    r->n = r->md.tab.n;
    r->C = r->md.classes.C;
    csm_table_free(&r->md.tab); /* on the device now */
    if (predict_all(a, r))
        return CLI_FAIL;
    if (!a->out_path)
        r->out = stdout;
    write_predictions(r);
    if (r->file) {
        int rc = cli_out_commit(r->file);
        r->file = NULL;
        if (rc)
            return CLI_FAIL;
    } else if (ferror(r->out) || fflush(r->out) != 0) {
        cli_error("standard output: write error: %s", strerror(errno));
        return CLI_FAIL;
    }
    /* after the output: an error is then the first line on stderr */
    cli_model_data_note(&r->md);
    return CLI_OK;
}

int cmd_predict(int argc, char **argv)
{
    predict_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    predict_run r;
    memset(&r, 0, sizeof r);
    rc = predict(&a, &r);
    cli_out_discard(r.file);
    free(r.cls);
    free(r.probs);
    csm_dataset_free(r.data);
    cli_model_data_free(&r.md);
    return rc;
}
