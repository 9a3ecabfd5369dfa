/* clsoftmax show [--all] [--top N] MODEL: what a model file holds, for
 * people (a section per concern: the shape, the classes, how it was
 * trained, how it reads data, its weights), or with --all every weight as
 * CSV, for programs. Nothing here needs the data or the device's work:
 * the model is loaded and its weights read back. A model written by the
 * Python package or by hand may lack any metadata key; a section then says
 * what it does not know. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define DEF_TOP 10

static void help(void)
{
    printf("Usage: clsoftmax show [OPTIONS] MODEL\n"
           "Print what MODEL holds: its shape (classes, features, precision), its\n"
           "classes, how it was trained (solver, C or lambda, tolerance, iterations,\n"
           "whether it converged, the objective, the weights used), how it reads data\n"
           "(the data-format options predict and eval take from it, and the column\n"
           "names of the training data's header), a summary of the weights, and the\n"
           "features of largest weight for each class, by name (the header's names;\n"
           "else 'column N' of a CSV file counted from 0, 'index N' of a libsvm file,\n"
           "'feature N' from 0). The weights are those of the raw features, as\n"
           "predict uses them (--standardize is folded in).\n"
           "\n"
           "Options:\n"
           "  --top N                features shown per class, 0 for none (default %d)\n"
           "  --all                  print every weight instead, as CSV on standard\n"
           "                         output: a header class,intercept,<feature names>,\n"
           "                         then one row per class (W and b of the model file)\n"
           "%s"
           "  -h, --help             show this help\n"
           "\n"
           "Exit status: 0 success, 1 runtime or model error, 2 usage error.\n",
           DEF_TOP, cli_output_help);
}

enum { O_ALL, O_TOP, O_HELP, O_QUIET, O_SILENT, O_VERBOSE };
static const cli_option options[] = {{"all", 0, 0},      {"top", 0, 1}, {"help", 'h', 0},
                                     CLI_OUTPUT_OPTIONS, {NULL, 0, 0}};

/* The model and what show derives from it once, freed in one place. */
typedef struct shown {
    const char *path;
    cli_model_data md; /* the context, the model and its classes */
    csm_model *m;      /* md.model */
    size_t C, k;
    const cli_classes *cls;
    char **names;   /* (k) feature names, from the metadata or derived */
    double *w, *b;  /* (C, k) and (C) */
} shown;

static const char *meta(const shown *s, const char *key)
{
    return csm_model_get_metadata(s->m, key);
}

/* ---------------------------------------------------------------- names */

/* The file column of feature j of a CSV model without names: the columns
 * that are neither the label nor the weights, in order. */
static size_t csv_column(const shown *s, size_t j)
{
    const char *lc = meta(s, "data_label_column"), *wc = meta(s, "data_weight_column");
    size_t ncols = s->k + 1 + (wc != NULL);
    size_t label = !lc || !strcmp(lc, "last") ? ncols - 1 : (size_t)strtoul(lc, NULL, 10);
    size_t weight = wc ? (size_t)strtoul(wc, NULL, 10) : (size_t)-1;
    size_t col = 0;
    for (size_t seen = 0;; col++) {
        if (col == label || col == weight)
            continue;
        if (seen++ == j)
            return col;
    }
}

/* The header's names, else names that say where in the file a feature is. */
static int feature_names(shown *s)
{
    if (cli_model_names(s->m, s->path, &s->names))
        return CLI_FAIL;
    if (s->names)
        return 0;
    const char *fmt = meta(s, "data_format");
    int ok = (s->names = calloc(s->k ? s->k : 1, sizeof *s->names)) != NULL;
    for (size_t j = 0; ok && j < s->k; j++) {
        char buf[48];
        if (fmt && !strcmp(fmt, "csv"))
            snprintf(buf, sizeof buf, "column %zu", csv_column(s, j));
        else if (fmt && !strcmp(fmt, "libsvm"))
            snprintf(buf, sizeof buf, "index %zu", j + 1);
        else
            snprintf(buf, sizeof buf, "feature %zu", j);
        ok = (s->names[j] = strdup(buf)) != NULL;
    }
    if (!ok) {
        cli_error("out of memory");
        return CLI_FAIL;
    }
    return 0;
}

/* ------------------------------------------------------------- sections */

static void show_shape(const shown *s)
{
    printf("%s: %zu classes, %zu features, %s\n", s->path, s->C, s->k,
           csm_model_precision(s->m) == CSM_FLOAT64 ? "float64" : "float32");
}

static void show_classes(const shown *s)
{
    char num[32];
    printf("classes:");
    for (size_t c = 0; c < s->C; c++)
        printf(" %s", cli_class_name(s->cls, c, num, sizeof num));
    const char *label = meta(s, "label_name");
    if (label)
        printf("  (column '%s')", label);
    putchar('\n');
}

/* "key value" for each key the model has, in one line. */
static void show_keys(const shown *s, const char *title, const char *const *keys, size_t n)
{
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        const char *v = meta(s, keys[i]);
        if (!v)
            continue;
        printf("%s%s %s", any ? ", " : title, keys[i], v);
        any = 1;
    }
    if (any)
        putchar('\n');
}

static void show_training(const shown *s)
{
    const char *solver = meta(s, "solver");
    if (!solver) {
        printf("training: not recorded (no solver in the metadata)\n");
        return;
    }
    const char *conv = meta(s, "converged"), *stop = meta(s, "stop");
    const char *it = meta(s, "n_iter"), *total = meta(s, "total_iter");
    /* lbfgs with an L1 term ran as OWL-QN */
    printf("training: %s%s, %s after %s %s", solver, meta(s, "l1_ratio") ? " (OWL-QN)" : "",
           !conv                    ? "convergence not recorded"
           : !strcmp(conv, "true") ? "converged"
                                   : "did not converge",
           it ? it : "?", strcmp(solver, "lbfgs") && strcmp(solver, "newton") ? "epochs" : "iterations");
    if (total && it && strcmp(total, it))
        printf(" (%s in total over resumed runs)", total);
    if (stop)
        printf(": %s", stop);
    putchar('\n');
    static const char *const penalty[] = {"C", "l1_ratio", "l2", "lambda", "tol",
                                          "max_iter", "lbfgs_memory",
                                          "lr", "batch_size", "momentum", "n_iter_no_change"};
    show_keys(s, "  options: ", penalty, sizeof penalty / sizeof *penalty);
    static const char *const outcome[] = {"objective", "grad_max_abs"};
    show_keys(s, "  at the saved weights: ", outcome, 2);
    static const char *const weights[] = {"class_weight", "sample_weights"};
    show_keys(s, "  sample weights: ", weights, 2);
    static const char *const other[] = {"standardize", "precision", "seed", "init",
                                        "resumed_from", "validation_split", "early_stopping",
                                        "best_epoch"};
    show_keys(s, "  also: ", other, sizeof other / sizeof *other);
}

static void show_data_format(const shown *s)
{
    static const char *const keys[] = {"data_format",  "data_label_column",
                                       "data_weight_column", "data_header",
                                       "data_delimiter", "data_storage"};
    if (!meta(s, "data_format")) {
        printf("data format: not recorded (predict and eval use their defaults)\n");
        return;
    }
    show_keys(s, "data format: ", keys, sizeof keys / sizeof *keys);
}

/* A summary of the weights: a section of its own, where counts such as
 * the zero weights of an L1 penalty belong. */
static void show_weight_summary(const shown *s)
{
    double norm = 0, max = 0;
    size_t zeros = 0, n = s->C * s->k;
    for (size_t i = 0; i < n; i++) {
        norm += s->w[i] * s->w[i];
        max = fmax(max, fabs(s->w[i]));
        zeros += s->w[i] == 0;
    }
    printf("weights: %zu x %zu, ||W|| %.6g, max |W| %.6g, %zu of %zu zero (%.1f%%)\n", s->C,
           s->k, sqrt(norm), max, zeros, n, n ? 100.0 * (double)zeros / (double)n : 0.0);
}

typedef struct ranked {
    double w;
    size_t j;
} ranked;

static int by_weight_desc(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->w != y->w)
        return x->w < y->w ? 1 : -1;
    return (x->j > y->j) - (x->j < y->j); /* ties: the first feature first */
}

/* The `top` largest weights of each class: the features whose growth most
 * raises the class's score against the others. */
static int show_top(const shown *s, size_t top)
{
    char num[32];
    if (top == 0)
        return 0;
    if (top > s->k)
        top = s->k;
    ranked *r = malloc((s->k ? s->k : 1) * sizeof *r);
    if (!r) {
        cli_error("out of memory");
        return CLI_FAIL;
    }
    printf("largest weights per class (%zu of %zu features):\n", top, s->k);
    for (size_t c = 0; c < s->C; c++) {
        for (size_t j = 0; j < s->k; j++) {
            r[j].w = s->w[c * s->k + j];
            r[j].j = j;
        }
        qsort(r, s->k, sizeof *r, by_weight_desc);
        printf("  %s (intercept %.6g):\n", cli_class_name(s->cls, c, num, sizeof num), s->b[c]);
        for (size_t i = 0; i < top; i++)
            printf("    %12.6g  %s\n", r[i].w, s->names[r[i].j]);
    }
    free(r);
    return 0;
}

/* --all: W and b as CSV, one row per class. */
static void show_all(const shown *s)
{
    char num[32];
    fputs("class,intercept", stdout);
    for (size_t j = 0; j < s->k; j++) {
        putchar(',');
        cli_write_csv_field(stdout, s->names[j]);
    }
    putchar('\n');
    for (size_t c = 0; c < s->C; c++) {
        cli_write_csv_field(stdout, cli_class_name(s->cls, c, num, sizeof num));
        printf(",%.17g", s->b[c]);
        for (size_t j = 0; j < s->k; j++)
            printf(",%.17g", s->w[c * s->k + j]);
        putchar('\n');
    }
}

/* ------------------------------------------------------------------ main */

static int load(shown *s)
{
    if (cli_model_data_open(&s->md, s->path, NULL, NULL))
        return CLI_FAIL;
    s->m = s->md.model;
    s->cls = &s->md.classes;
    s->C = csm_model_n_classes(s->m);
    s->k = csm_model_n_features(s->m);
    if (feature_names(s))
        return CLI_FAIL;
    if (!(s->k > 0 && s->C > SIZE_MAX / sizeof *s->w / s->k)) {
        s->w = malloc((s->C * s->k > 0 ? s->C * s->k : 1) * sizeof *s->w);
        s->b = malloc(s->C * sizeof *s->b);
    }
    if (!s->w || !s->b) {
        cli_error("out of memory for the weights of %s", s->path);
        return CLI_FAIL;
    }
    csm_status st = csm_model_get_params(s->m, s->w, s->b);
    return st == CSM_OK ? 0 : cli_lib_error(s->md.ctx, st);
}

/* 0, CLI_USAGE after the error, or -1 after --help. */
static int parse_args(int argc, char **argv, const char **path, int *all, size_t *top)
{
    cli_args it;
    const char *v;
    int id;
    cli_args_init(&it, "show", argc, argv);
    while ((id = cli_args_next(&it, options, &v)) != CLI_ARG_END) {
        if (id == CLI_ARG_ERROR)
            return CLI_USAGE;
        if (id == CLI_ARG_POSITIONAL) {
            if (*path)
                return cli_usage_error("show", "unexpected argument '%s'", v);
            *path = v;
        } else if (id == O_ALL) {
            *all = 1;
        } else if (id == O_TOP) {
            if (cli_parse_size("show", "--top", v, top))
                return CLI_USAGE;
        } else if (id == O_HELP) {
            help();
            return -1;
        } else {
            cli_output_option(options[id].name);
        }
    }
    if (!*path)
        return cli_usage_error("show", "missing MODEL argument");
    return 0;
}

static int show(shown *s, int all, size_t top)
{
    if (load(s))
        return CLI_FAIL;
    if (all) {
        show_all(s);
    } else {
        show_shape(s);
        show_classes(s);
        show_training(s);
        show_data_format(s);
        show_weight_summary(s);
        if (show_top(s, top))
            return CLI_FAIL;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("write error on standard output");
        return CLI_FAIL;
    }
    return CLI_OK;
}

int cmd_show(int argc, char **argv)
{
    const char *path = NULL;
    int all = 0;
    size_t top = DEF_TOP;
    int rc = parse_args(argc, argv, &path, &all, &top);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    shown s;
    memset(&s, 0, sizeof s);
    s.path = path;
    rc = show(&s, all, top);
    cli_names_free(s.names, s.k);
    free(s.w);
    free(s.b);
    cli_model_data_free(&s.md);
    return rc;
}
