/* --class-weight: class weights become per-sample weights of the training
 * set (csm_dataset_set_weights), which is how scikit-learn applies them
 * too, so a weighted clsoftmax model compares with LogisticRegression(
 * class_weight=...). The syntax is checked while the options are parsed;
 * the labels are texts until the data (or the resumed model) has fixed the
 * classes, which may be integers or names (`setosa`, or numbers such as
 * 0.5 that match by value): cli_class_index decides what a text names.
 * Per-sample weights (--weight-column, --weights FILE, liblinear's -W)
 * multiply them, as scikit-learn multiplies class_weight and
 * sample_weight. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define OPT "--class-weight"

static int bad_form(const char *cmd, const char *text)
{
    return cli_usage_error(cmd, OPT ": '%s' is not 'balanced' or a list LABEL:WEIGHT,...", text);
}

int cli_class_weight_parse(const char *cmd, const char *text, cli_class_weight *cw)
{
    memset(cw, 0, sizeof *cw);
    if (!strcmp(text, "balanced")) {
        cw->balanced = 1;
        return 0;
    }
    size_t cap = 1;
    for (const char *s = text; *s; s++)
        cap += *s == ',';
    char *copy = malloc(strlen(text) + 1);
    cw->labels = malloc(cap * sizeof *cw->labels);
    cw->weights = malloc(cap * sizeof *cw->weights);
    if (!copy || !cw->labels || !cw->weights) {
        free(copy);
        cli_class_weight_free(cw);
        cli_error("out of memory");
        return CLI_FAIL;
    }
    strcpy(copy, text);
    int rc = 0;
    char *item = copy;
    while (!rc) {
        char *comma = strchr(item, ',');
        if (comma)
            *comma = '\0';
        char *colon = strchr(item, ':');
        if (!*item && cap > 1) { /* "1:2,,3:1" or "1:2,", but "" is no list at all */
            rc = cli_usage_error(cmd, OPT ": '%s' has an empty entry", text);
            break;
        }
        if (!colon) {
            rc = bad_form(cmd, text);
            break;
        }
        *colon = '\0';
        double weight;
        char what[1100];
        if (!*item) {
            rc = cli_usage_error(cmd, OPT ": '%s' has an entry without a label", text);
            break;
        }
        if (!colon[1]) {
            rc = cli_usage_error(cmd, OPT ": label %s has no weight", item);
            break;
        }
        snprintf(what, sizeof what, OPT " (weight of label %.1000s)", item);
        if ((rc = cli_parse_double(cmd, what, colon + 1, 0, 0, INFINITY, 0, &weight)))
            break;
        for (size_t i = 0; i < cw->n; i++)
            if (!strcmp(cw->labels[i], item))
                rc = cli_usage_error(cmd, OPT ": label %s is given twice", item);
        if (rc)
            break;
        if (!(cw->labels[cw->n] = strdup(item))) {
            cli_error("out of memory");
            rc = CLI_FAIL;
            break;
        }
        cw->weights[cw->n] = weight;
        cw->n++;
        if (!comma)
            break;
        item = comma + 1;
    }
    free(copy);
    if (rc)
        cli_class_weight_free(cw);
    return rc;
}

void cli_class_weight_free(cli_class_weight *cw)
{
    if (cw->labels)
        for (size_t i = 0; i < cw->n; i++)
            free(cw->labels[i]);
    free(cw->labels);
    free(cw->weights);
    cw->labels = NULL;
    cw->weights = NULL;
    cw->n = 0;
}

int cli_class_weight_samples(const char *cmd, const cli_class_weight *cw,
                             const cli_classes *cls, const char *whose, const int32_t *y,
                             size_t n, double **out)
{
    const size_t C = cls->C;
    double *per_class = malloc(C * sizeof *per_class);
    size_t *count = calloc(C, sizeof *count);
    /* which entry set each class: "1" and "+1", or "0.5" and "0.50", are
     * one class given twice */
    size_t *set_by = calloc(C, sizeof *set_by);
    double *w = malloc((n ? n : 1) * sizeof *w);
    int rc = 0;
    *out = NULL;
    if (!per_class || !count || !w || !set_by) {
        cli_error("out of memory");
        rc = CLI_FAIL;
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        count[y[i]]++;
    if (cw->balanced) {
        /* scikit-learn counts the classes present in y, which differs from
         * C when a resumed model knows classes the data lacks */
        size_t present = 0;
        for (size_t c = 0; c < C; c++)
            present += count[c] > 0;
        for (size_t c = 0; c < C; c++)
            per_class[c] = count[c] ? (double)n / ((double)present * (double)count[c]) : 0.0;
    } else {
        for (size_t c = 0; c < C; c++)
            per_class[c] = 1.0;
        for (size_t i = 0; i < cw->n; i++) {
            size_t c;
            if (cli_class_index(cls, cw->labels[i], &c) != 0) {
                char list[512];
                cli_classes_list(list, sizeof list, cls);
                rc = cli_usage_error(cmd, OPT ": label %s is not a class of %s (classes: %s)",
                                     cw->labels[i], whose, list);
                goto done;
            }
            if (set_by[c]) {
                rc = cli_usage_error(cmd, OPT ": labels %s and %s are the same class",
                                     cw->labels[set_by[c] - 1], cw->labels[i]);
                goto done;
            }
            set_by[c] = i + 1;
            per_class[c] = cw->weights[i];
        }
    }
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += w[i] = per_class[y[i]];
    if (!(sum > 0)) {
        rc = cli_usage_error(cmd, OPT ": every training sample has weight 0");
        goto done;
    }
    *out = w;
    w = NULL;
done:
    free(per_class);
    free(count);
    free(set_by);
    free(w);
    return rc;
}

int cli_sample_weights(const char *cmd, const cli_class_weight *cw, const cli_classes *cls,
                       const char *whose, const int32_t *y, size_t n, const double *given,
                       double **out)
{
    int rc = cli_class_weight_samples(cmd, cw, cls, whose, y, n, out);
    if (rc || !given)
        return rc;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (*out)[i] *= given[i];
    if (!(sum > 0)) {
        free(*out);
        *out = NULL;
        cli_error("every training sample has weight 0 (the weights of --weight-column or "
                  "--weights%s)",
                  cw->balanced || cw->n ? " times --class-weight" : "");
        return CLI_FAIL;
    }
    return 0;
}
