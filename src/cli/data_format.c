/* What a model remembers of the data it was trained on, so that predict
 * and eval read a test file the same way without the options repeated:
 * metadata data_format (csv, libsvm, idx: the format the training file was
 * read as), data_label_column (CSV: a 0-based index or "last"),
 * data_weight_column (CSV: a 0-based index, when there was one),
 * data_header (CSV: "true", "false" or "auto"), data_delimiter (CSV: ",",
 * ";", "tab" or "auto") and data_storage ("sparse", "dense" or "auto").
 * Header, delimiter and storage are kept as they were given: "auto" when
 * they were left to detection, which then runs again on each file (a header
 * remembered as present would silently swallow the first sample of a test
 * file that has none). Options given on the command line win; a file name
 * that tells its format (.csv, .svm, ...) wins over the remembered format. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define UNSET_LABEL_COLUMN INT_MIN
#define UNSET_HEADER (-2)
#define UNSET_DELIMITER (-1)
#define UNSET_WEIGHT_COLUMN INT_MIN

void cli_format_unset(csm_read_options *ro)
{
    csm_read_options_init(ro);
    ro->label_column = UNSET_LABEL_COLUMN;
    ro->header = UNSET_HEADER;
    ro->delimiter = UNSET_DELIMITER;
    ro->weight_column = UNSET_WEIGHT_COLUMN;
}

void cli_format_defaults(csm_read_options *ro)
{
    if (ro->label_column == UNSET_LABEL_COLUMN)
        ro->label_column = 0;
    if (ro->weight_column == UNSET_WEIGHT_COLUMN)
        ro->weight_column = -1;
    if (ro->header == UNSET_HEADER)
        ro->header = -1;
    if (ro->delimiter == UNSET_DELIMITER)
        ro->delimiter = 0;
}

/* Appends "NAME VALUE (ORIGIN)", or "NAME: ORIGIN" without a value, to
 * the description. */
static void describe(char *buf, size_t len, const char *name, const char *value,
                     const char *origin)
{
    size_t used = strlen(buf);
    if (used + 1 < len && value)
        snprintf(buf + used, len - used, "%s%s %s (%s)", used ? ", " : "", name, value, origin);
    else if (used + 1 < len)
        snprintf(buf + used, len - used, "%s%s: %s", used ? ", " : "", name, origin);
}

static int bad_meta(const char *model_path, const char *key, const char *value,
                    const char *expected)
{
    cli_error("%s: metadata %s '%s' is not %s", model_path, key, value, expected);
    return CLI_FAIL;
}

int cli_format_from_model(csm_read_options *ro, const csm_model *m, const char *model_path,
                          const char *data_path, char *from, size_t from_len)
{
    char origin[1100], num[32];
    const char *v;
    snprintf(origin, sizeof origin, "from the model");
    from[0] = '\0';
    /* classes that are numbers like 0.5 (label_type float, from the Python
     * package): a fraction is then a class, matched by value, not a feature
     * column misread as the label (the hint the others keep) */
    v = csm_model_get_metadata(m, "label_type");
    ro->fraction_labels = v && !strcmp(v, "float") && csm_model_get_metadata(m, "label_names");

    /* the content decides when nothing else does: the reader names it */
    if (ro->format != CSM_FORMAT_AUTO) {
        describe(from, from_len, "format", NULL, "--format");
    } else if ((v = csm_model_get_metadata(m, "data_format")) &&
               csm_detect_format(data_path) == CSM_FORMAT_AUTO) {
        if (csm_parse_format(v, &ro->format) != 0 || ro->format == CSM_FORMAT_AUTO)
            return bad_meta(model_path, "data_format", v, "csv, libsvm or idx");
        describe(from, from_len, "format", NULL, origin);
    }

    if (ro->label_column != UNSET_LABEL_COLUMN) {
        describe(from, from_len, "label column",
                 ro->label_column < 0 ? "last"
                                      : (snprintf(num, sizeof num, "%d", ro->label_column), num),
                 "--label-column");
    } else if ((v = csm_model_get_metadata(m, "data_label_column"))) {
        char *end;
        long c = strtol(v, &end, 10);
        if (!strcmp(v, "last"))
            ro->label_column = -1;
        else if (*v >= '0' && *v <= '9' && *end == '\0' && c >= 0 && c <= INT_MAX)
            ro->label_column = (int)c;
        else
            return bad_meta(model_path, "data_label_column", v, "a 0-based index or 'last'");
        describe(from, from_len, "label column", v, origin);
    } else {
        ro->label_column = 0;
    }

    if (ro->weight_column != UNSET_WEIGHT_COLUMN) {
        if (ro->weight_column >= 0)
            describe(from, from_len, "weight column",
                     (snprintf(num, sizeof num, "%d", ro->weight_column), num),
                     "--weight-column");
    } else if ((v = csm_model_get_metadata(m, "data_weight_column"))) {
        char *end;
        long c = strtol(v, &end, 10);
        if (!(*v >= '0' && *v <= '9' && *end == '\0' && c >= 0 && c <= INT_MAX))
            return bad_meta(model_path, "data_weight_column", v, "a 0-based index");
        ro->weight_column = (int)c;
        describe(from, from_len, "weight column", v, origin);
    } else {
        ro->weight_column = -1;
    }

    if (ro->header != UNSET_HEADER) {
        describe(from, from_len, "header", ro->header ? "yes" : "no",
                 ro->header ? "--header" : "--no-header");
    } else if ((v = csm_model_get_metadata(m, "data_header")) && strcmp(v, "auto") != 0) {
        if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
            return bad_meta(model_path, "data_header", v, "true, false or auto");
        ro->header = v[0] == 't';
        describe(from, from_len, "header", ro->header ? "yes" : "no", origin);
    } else {
        ro->header = -1;
    }

    if (ro->delimiter != UNSET_DELIMITER) {
        if (ro->delimiter)
            describe(from, from_len, "delimiter", csm_delimiter_name(ro->delimiter),
                     "--delimiter");
    } else if ((v = csm_model_get_metadata(m, "data_delimiter"))) {
        if (csm_parse_delimiter(v, &ro->delimiter) != 0)
            return bad_meta(model_path, "data_delimiter", v, "',', ';', 'tab' or 'auto'");
        if (ro->delimiter)
            describe(from, from_len, "delimiter", v, origin);
    } else {
        ro->delimiter = 0;
    }

    if (ro->storage != CSM_STORAGE_AUTO) {
        describe(from, from_len, "storage", ro->storage == CSM_STORAGE_SPARSE ? "sparse" : "dense",
                 ro->storage == CSM_STORAGE_SPARSE ? "--sparse" : "--dense");
    } else if ((v = csm_model_get_metadata(m, "data_storage")) && strcmp(v, "auto") != 0) {
        if (!strcmp(v, "sparse"))
            ro->storage = CSM_STORAGE_SPARSE;
        else if (!strcmp(v, "dense"))
            ro->storage = CSM_STORAGE_DENSE;
        else
            return bad_meta(model_path, "data_storage", v, "sparse, dense or auto");
        describe(from, from_len, "storage", v, origin);
    }
    return 0;
}

int cli_format_to_metadata(csm_model *m, const csm_read_options *ro, csm_format format)
{
    char col[32], wcol[32];
    int csv = format == CSM_FORMAT_CSV;
    snprintf(col, sizeof col, "%d", ro->label_column);
    snprintf(wcol, sizeof wcol, "%d", ro->weight_column);
    const char *keys[] = {"data_format",    "data_label_column", "data_header",
                          "data_delimiter", "data_storage",      "data_weight_column"};
    const char *values[] = {
        csm_format_name(format),
        !csv ? NULL : ro->label_column < 0 ? "last" : col,
        !csv ? NULL : ro->header == 1 ? "true" : ro->header == 0 ? "false" : "auto",
        !csv ? NULL : csm_delimiter_name(ro->delimiter),
        ro->storage == CSM_STORAGE_SPARSE  ? "sparse"
        : ro->storage == CSM_STORAGE_DENSE ? "dense"
                                           : "auto",
        csv && ro->weight_column >= 0 ? wcol : NULL};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        csm_status st = csm_model_set_metadata(m, keys[i], values[i]);
        if (st != CSM_OK)
            return cli_lib_error(csm_model_context(m), st);
    }
    return 0;
}

/* The note, or the warning, that the data was found to have no labels:
 * sure when the header names the model's features, a guess from the
 * column count otherwise (a test file that lost a feature column would
 * also have k columns, its label read as a feature). */
static void say_unlabeled(const char *name, const csm_table *t, size_t k, int names_match,
                          char *note, size_t note_len)
{
    if (t->format == CSM_FORMAT_CSV && names_match)
        snprintf(note, note_len,
                 "%s: the header names the model's %zu features: read as data without labels "
                 "(--no-labels)\n",
                 name, k);
    else if (t->format == CSM_FORMAT_CSV)
        cli_warning("%s: %zu columns, the model's %zu features: read as data without labels; "
                    "if a column is missing instead, the label is read as a feature (give "
                    "--no-labels to say there are none)",
                    name, k, k);
    else if (t->format == CSM_FORMAT_LIBSVM)
        snprintf(note, note_len,
                 "%s: the first line starts with INDEX:VALUE: read as data without labels "
                 "(--no-labels)\n",
                 name);
    else
        snprintf(note, note_len, "%s: no labels file: read as data without labels (--no-labels)\n",
                 name);
}

int cli_read_for_model(const char *data_path, const csm_model *m, const char *model_path,
                       csm_read_options *ro, csm_table *t, char *note, size_t note_len)
{
    note[0] = '\0';
    char from[1024], hint[1200];
    const char *name = csm_display_name(data_path);
    memset(t, 0, sizeof *t);
    if (cli_format_from_model(ro, m, model_path, data_path, from, sizeof from))
        return CLI_FAIL;
    size_t k = csm_model_n_features(m);
    ro->n_features = k;
    ro->skip_extra_features = 1; /* liblinear's rule: the model has no weights for them */
    /* the CSV settings are the usual culprits; libsvm and IDX have none */
    csm_format known = ro->format != CSM_FORMAT_AUTO ? ro->format : csm_detect_format(data_path);
    int csv_like = known == CSM_FORMAT_CSV || known == CSM_FORMAT_AUTO;
    int has_col = strstr(from, "label column") != NULL;
    snprintf(hint, sizeof hint,
             "read with %s%s%s; override with --format, --label-column N|last, "
             "--weight-column N|none, --header/--no-header, --delimiter%s",
             from, *from && !has_col ? ", " : "", has_col ? "" : "label column 0 (the default)",
             ro->no_labels ? ", --no-labels" : "");
    if (cli_read_table_hint(data_path, ro, t, csv_like ? hint : NULL))
        return CLI_FAIL;
    if (t->k != k) {
        cli_error("%s: the data has %zu features but the model %s has %zu; %s", name, t->k,
                  model_path, k, hint);
        csm_table_free(t);
        return CLI_FAIL;
    }
    int names_match = cli_check_names(data_path, t, m, model_path);
    if (names_match < 0) {
        csm_table_free(t);
        return CLI_FAIL;
    }
    cli_warn_skipped(data_path, t, k);
    if (t->unlabeled && ro->no_labels == -1)
        say_unlabeled(name, t, k, names_match, note, note_len);
    cli_table_notes(note, note_len, data_path, t);
    size_t used = strlen(note);
    if (used + 1 < note_len)
        snprintf(note + used, note_len - used, "%s: %zu samples, %zu features, read as %s%s%s%s\n",
                 name, t->n, t->k, csm_format_name(t->format), *from ? " (" : "", from,
                 *from ? ")" : "");
    return 0;
}
