/* The names of the features: a CSV header's names go into the model's
 * metadata (feature_names, a JSON array of k strings, and label_name, the
 * label column's), so that `show` prints weights by name and predict and
 * eval can tell a file whose columns are not the model's: other names, or
 * the same names in another order, are a warning, since the numbers would
 * then be read into the wrong features without any error. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_names_to_model(csm_model *m, const csm_table *t)
{
    csm_status st;
    if (!t->feature_names)
        return 0; /* a file without a header: a resumed model keeps its names */
    json_t *a = json_array();
    char *text = NULL;
    int ok = a != NULL;
    for (size_t j = 0; ok && j < t->k; j++)
        ok = json_array_append_new(a, json_string(t->feature_names[j])) == 0;
    if (ok)
        ok = (text = json_dumps(a, JSON_COMPACT)) != NULL;
    json_decref(a);
    if (!ok) {
        /* json_string refuses text that is not UTF-8: the names are
         * then not kept, which loses nothing the model needs */
        free(text);
        cli_warning("the header's names are not UTF-8 text: the model keeps no feature names");
        return 0;
    }
    st = csm_model_set_metadata(m, "feature_names", text);
    free(text);
    if (st == CSM_OK)
        st = csm_model_set_metadata(m, "label_name", t->label_name);
    return st == CSM_OK ? 0 : cli_lib_error(csm_model_context(m), st);
}

void cli_names_free(char **names, size_t k)
{
    if (names)
        for (size_t j = 0; j < k; j++)
            free(names[j]);
    free(names);
}

int cli_model_names(const csm_model *m, const char *model_path, char ***out)
{
    size_t k = csm_model_n_features(m);
    const char *text = csm_model_get_metadata(m, "feature_names");
    *out = NULL;
    if (!text)
        return 0;
    json_error_t jerr;
    json_t *a = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    char **names = a && json_is_array(a) && json_array_size(a) == k
                       ? calloc(k ? k : 1, sizeof *names)
                       : NULL;
    int bad = !names;
    for (size_t j = 0; !bad && j < k; j++) {
        const char *s = json_string_value(json_array_get(a, j));
        bad = !s || !(names[j] = strdup(s));
    }
    json_decref(a);
    if (bad) {
        cli_names_free(names, k);
        cli_error("%s: metadata feature_names is not a JSON array of the model's %zu names",
                  model_path, k);
        return CLI_FAIL;
    }
    *out = names;
    return 0;
}

/* Where the header's names first part from the model's: "column 2 is
 * 'petal width' where the model has 'petal length'", or that they are the
 * same names in another order. */
static void describe_difference(char *buf, size_t len, char *const *file, char *const *model,
                                size_t k)
{
    size_t same_set = 1, first = k;
    for (size_t j = 0; j < k; j++) {
        if (first == k && strcmp(file[j], model[j]) != 0)
            first = j;
        int found = 0;
        for (size_t i = 0; i < k && !found; i++)
            found = !strcmp(file[j], model[i]);
        same_set &= (size_t)found;
    }
    if (same_set)
        snprintf(buf, len, "the same names in another order (feature %zu is '%.200s', the "
                           "model's feature %zu is '%.200s')",
                 first, file[first], first, model[first]);
    else
        snprintf(buf, len, "feature %zu is '%.200s' where the model has '%.200s'", first,
                 file[first], model[first]);
}

int cli_check_names(const char *data_path, const csm_table *t, const csm_model *m,
                    const char *model_path)
{
    char **model = NULL;
    if (!t->feature_names || t->k != csm_model_n_features(m))
        return 0;
    if (cli_model_names(m, model_path, &model))
        return -1;
    if (!model)
        return 0;
    size_t j = 0;
    while (j < t->k && !strcmp(t->feature_names[j], model[j]))
        j++;
    int same = j == t->k;
    if (!same) {
        char what[600];
        describe_difference(what, sizeof what, t->feature_names, model, t->k);
        cli_warning("%s: the header's feature names differ from those %s was trained on: %s; "
                    "are the columns in the model's order?",
                    csm_display_name(data_path), model_path, what);
    }
    cli_names_free(model, t->k);
    return same;
}

void cli_table_notes(char *buf, size_t len, const char *path, const csm_table *t)
{
    size_t used = strlen(buf);
    const char *name = csm_display_name(path);
    if (t->row_names && used + 1 < len)
        used += (size_t)snprintf(buf + used, len - used,
                                 "%s: the first column holds row names (R's row.names, "
                                 "pandas' index): left out; columns are counted after it\n",
                                 name);
    if (t->header_by_label && used + 1 < len)
        snprintf(buf + used, len - used,
                 "%s: the first row is taken as a header: its label '%.200s' is found in no "
                 "other row (--no-header if it is a sample)\n",
                 name, t->label_name ? t->label_name : "");
}
