/* --class-weight: class weights become per-sample weights of the training
 * set (csm_dataset_set_weights), which is how scikit-learn applies them
 * too, so a weighted clsoftmax model compares with LogisticRegression(
 * class_weight=...). The syntax is checked while the options are parsed;
 * the labels can only be checked once the data (or the resumed model) has
 * fixed the classes. */
#include <limits.h>
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
        long label;
        double weight;
        char what[96];
        if (!*item) {
            rc = cli_usage_error(cmd, OPT ": '%s' has an entry without a label", text);
            break;
        }
        if ((rc = cli_parse_long(cmd, OPT " (label)", item, LONG_MIN, LONG_MAX, &label)))
            break;
        if (!colon[1]) {
            rc = cli_usage_error(cmd, OPT ": label %ld has no weight", label);
            break;
        }
        snprintf(what, sizeof what, OPT " (weight of label %ld)", label);
        if ((rc = cli_parse_double(cmd, what, colon + 1, 0, 0, INFINITY, 0, &weight)))
            break;
        for (size_t i = 0; i < cw->n; i++)
            if (cw->labels[i] == label)
                rc = cli_usage_error(cmd, OPT ": label %ld is given twice", label);
        if (rc)
            break;
        cw->labels[cw->n] = label;
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
    free(cw->labels);
    free(cw->weights);
    cw->labels = NULL;
    cw->weights = NULL;
    cw->n = 0;
}

int cli_class_weight_samples(const char *cmd, const cli_class_weight *cw, const int64_t *classes,
                             size_t C, const char *whose, const int32_t *y, size_t n,
                             double **out)
{
    double *per_class = malloc(C * sizeof *per_class);
    size_t *count = calloc(C, sizeof *count);
    double *w = malloc((n ? n : 1) * sizeof *w);
    int rc = 0;
    *out = NULL;
    if (!per_class || !count || !w) {
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
            const int64_t *hit = NULL;
            for (size_t c = 0; c < C && !hit; c++)
                if (classes[c] == cw->labels[i])
                    hit = &classes[c];
            if (!hit) {
                char list[512];
                cli_format_labels(list, sizeof list, classes, C);
                rc = cli_usage_error(cmd, OPT ": label %lld is not a class of %s (classes: %s)",
                                     (long long)cw->labels[i], whose, list);
                goto done;
            }
            per_class[hit - classes] = cw->weights[i];
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
    free(w);
    return rc;
}
