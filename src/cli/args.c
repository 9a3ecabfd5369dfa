/* Command-line parsing: long options ("--name value", "--name=value"), a few
 * short ones, and strict number parsing (the whole argument must be a number
 * within range, or it is a usage error). */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_args_init(cli_args *it, const char *cmd, int argc, char **argv)
{
    it->cmd = cmd;
    it->argc = argc;
    it->argv = argv;
    it->i = 1; /* argv[0] is the subcommand */
    it->options_done = 0;
    it->cluster = NULL;
}

/* The next flag of a cluster "-qv": the short option it->cluster[0]. */
static int next_short(cli_args *it, const cli_option *opts, const char **value)
{
    char c = *it->cluster++;
    char shown[8];
    snprintf(shown, sizeof shown, "-%c", c);
    int index = -1;
    for (int j = 0; opts[j].name; j++) {
        if (opts[j].short_name && opts[j].short_name == c) {
            index = j;
            break;
        }
    }
    if (index < 0) {
        it->cluster = NULL;
        return (cli_usage_error(it->cmd, "unknown option '%s'", shown), CLI_ARG_ERROR);
    }
    if (opts[index].takes_value) {
        if (*it->cluster) {
            *value = it->cluster; /* "-ofile" */
        } else if (it->i < it->argc) {
            *value = it->argv[it->i++];
        } else {
            it->cluster = NULL;
            cli_usage_error(it->cmd, "option '%s' needs a value", shown);
            return CLI_ARG_ERROR;
        }
        it->cluster = NULL;
    } else if (!*it->cluster) {
        it->cluster = NULL;
    }
    return index;
}

int cli_args_next(cli_args *it, const cli_option *opts, const char **value)
{
    *value = NULL;
    if (it->cluster)
        return next_short(it, opts, value);
    if (it->i >= it->argc)
        return CLI_ARG_END;
    const char *arg = it->argv[it->i++];
    if (it->options_done || arg[0] != '-' || arg[1] == '\0') {
        *value = arg;
        return CLI_ARG_POSITIONAL;
    }
    if (!strcmp(arg, "--")) {
        it->options_done = 1;
        return cli_args_next(it, opts, value);
    }
    int index = -1;
    const char *inline_value = NULL;
    char shown[64];
    if (arg[1] == '-') {
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        for (int j = 0; opts[j].name; j++) {
            if (strlen(opts[j].name) == len && !strncmp(opts[j].name, name, len)) {
                index = j;
                break;
            }
        }
        snprintf(shown, sizeof shown, "--%.*s", (int)(len > 50 ? 50 : len), name);
        if (index < 0)
            return (cli_usage_error(it->cmd, "unknown option '%s'", shown), CLI_ARG_ERROR);
        if (eq)
            inline_value = eq + 1;
    } else {
        it->cluster = arg + 1;
        return next_short(it, opts, value);
    }
    if (opts[index].takes_value) {
        if (inline_value) {
            *value = inline_value;
        } else if (it->i < it->argc) {
            *value = it->argv[it->i++];
        } else {
            cli_usage_error(it->cmd, "option '%s' needs a value", shown);
            return CLI_ARG_ERROR;
        }
    } else if (inline_value) {
        cli_usage_error(it->cmd, "option '%s' takes no value", shown);
        return CLI_ARG_ERROR;
    }
    return index;
}

/* Rejects leading white space, which strtol/strtod would skip. */
static int starts_ok(const char *s)
{
    return s && *s && !isspace((unsigned char)*s);
}

int cli_parse_long(const char *cmd, const char *opt, const char *s, long min, long max, long *out)
{
    char *end = NULL;
    if (!starts_ok(s))
        return cli_usage_error(cmd, "%s: '%s' is not a number", opt, s ? s : "");
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0') {
        /* "1.5" or "1e3": a number, but not an integer */
        char *dend = NULL;
        double d = strtod(s, &dend);
        (void)d;
        if (dend != s && *dend == '\0')
            return cli_usage_error(cmd, "%s: '%s' is not an integer", opt, s);
        return cli_usage_error(cmd, "%s: '%s' is not a number", opt, s);
    }
    if (errno == ERANGE || v < min || v > max) {
        if (max == LONG_MAX)
            return cli_usage_error(cmd, "%s: '%s' is out of range (must be >= %ld)", opt, s, min);
        return cli_usage_error(cmd, "%s: '%s' is out of range (must be %ld to %ld)", opt, s, min,
                               max);
    }
    *out = v;
    return 0;
}

int cli_parse_u64(const char *cmd, const char *opt, const char *s, uint64_t *out)
{
    char *end = NULL;
    if (!starts_ok(s) || !isdigit((unsigned char)s[0]))
        return (s && s[0] == '-' && isdigit((unsigned char)s[1]))
                   ? cli_usage_error(cmd, "%s: '%s' is out of range (must be >= 0)", opt, s)
                   : cli_usage_error(cmd, "%s: '%s' is not a number", opt, s ? s : "");
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0')
        return cli_usage_error(cmd, "%s: '%s' is not an integer", opt, s);
    if (errno == ERANGE || v > UINT64_MAX)
        return cli_usage_error(cmd, "%s: '%s' is out of range (must be 0 to %llu)", opt, s,
                               (unsigned long long)UINT64_MAX);
    *out = (uint64_t)v;
    return 0;
}

int cli_parse_size(const char *cmd, const char *opt, const char *s, size_t *out)
{
    uint64_t v;
    int rc = cli_parse_u64(cmd, opt, s, &v);
    if (rc)
        return rc;
    if (v > SIZE_MAX)
        return cli_usage_error(cmd, "%s: '%s' is out of range", opt, s);
    *out = (size_t)v;
    return 0;
}

int cli_parse_double(const char *cmd, const char *opt, const char *s, double min, int min_open,
                     double max, int max_open, double *out)
{
    char *end = NULL;
    if (!starts_ok(s))
        return cli_usage_error(cmd, "%s: '%s' is not a number", opt, s ? s : "");
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0')
        return cli_usage_error(cmd, "%s: '%s' is not a number", opt, s);
    if (!isfinite(v))
        return cli_usage_error(cmd, "%s: '%s' is not a finite number", opt, s);
    int below = min_open ? !(v > min) : !(v >= min);
    int above = max_open ? !(v < max) : !(v <= max);
    if (below || above) {
        if (isinf(max))
            return cli_usage_error(cmd, "%s: '%s' is out of range (must be %s %g)", opt, s,
                                   min_open ? ">" : ">=", min);
        return cli_usage_error(cmd, "%s: '%s' is out of range (must be in %c%g, %g%c)", opt, s,
                               min_open ? '(' : '[', min, max, max_open ? ')' : ']');
    }
    *out = v;
    return 0;
}

int cli_parse_double_list(const char *cmd, const char *opt, const char *s, double min,
                          int min_open, double max, int max_open, double **out, size_t *n)
{
    size_t cap = 1, len = strlen(s);
    for (const char *p = s; *p; p++)
        cap += *p == ',';
    char *item = malloc(len + 1);
    double *v = malloc(cap * sizeof *v);
    *out = NULL;
    *n = 0;
    if (!item || !v) {
        free(item);
        free(v);
        cli_error("out of memory");
        return CLI_USAGE;
    }
    size_t m = 0;
    for (const char *p = s;; m++) {
        const char *comma = strchr(p, ',');
        size_t l = comma ? (size_t)(comma - p) : strlen(p);
        memcpy(item, p, l);
        item[l] = '\0';
        int rc = l == 0 ? cli_usage_error(cmd, "%s: '%s' has an empty item: give numbers "
                                          "separated by commas", opt, s)
                        : cli_parse_double(cmd, opt, item, min, min_open, max, max_open, &v[m]);
        for (size_t j = 0; !rc && j < m; j++)
            if (v[j] == v[m])
                rc = cli_usage_error(cmd, "%s: %g is given twice in '%s'", opt, v[m], s);
        if (rc) {
            free(item);
            free(v);
            return CLI_USAGE;
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    free(item);
    *out = v;
    *n = m + 1;
    return 0;
}

int cli_parse_choice(const char *cmd, const char *opt, const char *s, const char *const *choices,
                     int *out)
{
    char list[256] = "";
    for (int j = 0; choices[j]; j++) {
        if (!strcmp(s, choices[j])) {
            *out = j;
            return 0;
        }
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", j ? ", " : "", choices[j]);
    }
    return cli_usage_error(cmd, "%s: '%s' is not one of: %s", opt, s, list);
}

const char *const cli_format_help =
    "Data format options (columns are counted from 0, here and in messages):\n"
    "  --format FMT           auto, csv, libsvm (or svm, svmlight) or idx (default\n"
    "                         auto: from the file name: *.csv, *.tsv -> csv;\n"
    "                         *.svm, *.libsvm, *.svmlight -> libsvm; a name with\n"
    "                         'idx' or '-ubyte' -> idx; any other name (heart_scale,\n"
    "                         *.txt, '-') by the content: IDX magic, INDEX:VALUE\n"
    "                         pairs -> libsvm, ',' ';' tab, or numbers between\n"
    "                         blanks -> csv); *.gz is read with zlib. DATA '-' is\n"
    "                         standard input\n"
    "  --label-column N       CSV: the column of the label, from 0, or 'last'\n"
    "                         (default 0). Integer labels are classes in numeric\n"
    "                         order; labels that are not numbers (setosa) make\n"
    "                         every label a name, classes in byte order of the names\n"
    "  --weight-column N      CSV: a column of sample weights (finite, >= 0), not a\n"
    "                         feature; 'none' for none (default none). They\n"
    "                         multiply --class-weight and --weights (train)\n"
    "  --header               CSV: the first row is a header\n"
    "  --no-header            CSV: the first row is data (default: a header when a\n"
    "                         field of it has another type than its column below:\n"
    "                         text over numbers, an integer over floats, or a text\n"
    "                         label that no other row has; its names are kept in\n"
    "                         the model). A header one name short of the rows, or\n"
    "                         without a name for the first column, marks row names\n"
    "                         (R, pandas' index), which are left out\n"
    "  --delimiter D          CSV: ',', ';', 'tab' or 'blank' (runs of spaces and\n"
    "                         tabs) (default auto). auto: the most frequent of ',',\n"
    "                         ';' and tab outside quotes on the first row, else\n"
    "                         blanks. Fields may be quoted (\"a, b\", \"say \"\"hi\"\"\")\n"
    "  --labels FILE          IDX: the labels file (default: from the images file\n"
    "                         name: *-images-idx3-ubyte -> *-labels-idx1-ubyte)\n"
    "  --sparse               hold the features sparse (CSR), from file to device:\n"
    "                         memory and work follow the non-zeros. CSV and IDX\n"
    "                         are read dense, then compressed\n"
    "  --dense                hold the features as a dense n x k table\n"
    "                         (default: libsvm data is sparse when under "
    CLI_STRINGIFY(CSM_SPARSE_AUTO_PERCENT) "% of\n"
    "                         its n x k values are non-zero, else dense; CSV and\n"
    "                         IDX are dense. Results are the same either way)\n";

int cli_format_option(const char *cmd, const char *name, const char *value, csm_read_options *ro)
{
    if (!strcmp(name, "format")) {
        if (csm_parse_format(value, &ro->format) != 0)
            return cli_usage_error(cmd, "--format: '%s' is not one of: auto, csv, libsvm, idx",
                                   value);
        return 0;
    }
    if (!strcmp(name, "label-column")) {
        if (!strcmp(value, "last")) {
            ro->label_column = -1;
            return 0;
        }
        long v;
        if (cli_parse_long(cmd, "--label-column", value, 0, INT_MAX, &v))
            return CLI_USAGE;
        ro->label_column = (int)v;
        return 0;
    }
    if (!strcmp(name, "weight-column")) {
        long v;
        if (!strcmp(value, "none")) {
            ro->weight_column = -1;
            return 0;
        }
        if (cli_parse_long(cmd, "--weight-column", value, 0, INT_MAX, &v))
            return CLI_USAGE;
        ro->weight_column = (int)v;
        return 0;
    }
    if (!strcmp(name, "header")) {
        ro->header = 1;
        return 0;
    }
    if (!strcmp(name, "no-header")) {
        ro->header = 0;
        return 0;
    }
    if (!strcmp(name, "delimiter")) {
        if (csm_parse_delimiter(value, &ro->delimiter) != 0)
            return cli_usage_error(cmd,
                                   "--delimiter: '%s' is not one of: ',', ';', tab, blank, auto",
                                   value);
        return 0;
    }
    if (!strcmp(name, "labels")) {
        ro->labels_path = value;
        return 0;
    }
    if (!strcmp(name, "sparse") || !strcmp(name, "dense")) {
        csm_storage want = name[0] == 's' ? CSM_STORAGE_SPARSE : CSM_STORAGE_DENSE;
        if (ro->storage != CSM_STORAGE_AUTO && ro->storage != want)
            return cli_usage_error(cmd, "--sparse and --dense exclude each other");
        ro->storage = want;
        return 0;
    }
    return -1;
}
