/* The classes as the command sees them: integer label values (the model's
 * int64 labels), or names. String labels (`virginica`) are held by the
 * model as labels 0..C-1 plus the metadata `label_names` (a JSON array of
 * the C names in class order) and `label_type` ("str"; the Python package
 * may write "float", with names written by repr: any names are printed as
 * they are). Labels of a data file are matched to the classes by their
 * text, so a test file of names, of integers or of both maps the same way
 * whatever the model holds; "float" names by their value too, since a
 * number has many texts ("0.5", "0.50", "5e-1"). */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "names_check.h"

void cli_classes_free(cli_classes *c)
{
    if (c->names)
        for (size_t i = 0; i < c->C; i++)
            free(c->names[i]);
    free(c->names);
    free(c->values);
    memset(c, 0, sizeof *c);
}

const char *cli_class_name(const cli_classes *c, size_t i, char *buf, size_t len)
{
    if (c->names)
        return c->names[i];
    snprintf(buf, len, "%lld", (long long)c->values[i]);
    return buf;
}

void cli_classes_list(char *buf, size_t len, const cli_classes *c)
{
    size_t used = 0;
    if (len == 0)
        return;
    buf[0] = '\0';
    for (size_t i = 0; i < c->C && used + 1 < len; i++) {
        char t[32];
        int w;
        if (i == 20 && c->C > 21) {
            snprintf(buf + used, len - used, ", ... (%zu in all)", c->C);
            return;
        }
        w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", cli_class_name(c, i, t, sizeof t));
        if (w < 0)
            return;
        used += (size_t)w;
    }
    if (used + 1 >= len && len > 4)
        memcpy(buf + len - 4, "...", 4);
}

static int nomem(void)
{
    cli_error("out of memory");
    return CLI_FAIL;
}

/* name in quotes for a message, control bytes as \xHH, at most about 60
 * characters. */
static void show_name(char *buf, size_t len, const char *name)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    buf[o++] = '\'';
    for (const unsigned char *p = (const unsigned char *)name; *p && o + 9 < len && o < 64; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            buf[o++] = '\\';
            buf[o++] = 'x';
            buf[o++] = hex[*p >> 4];
            buf[o++] = hex[*p & 15];
        } else {
            buf[o++] = (char)*p;
        }
    }
    buf[o++] = '\'';
    buf[o] = '\0';
}

/* A class name with a control character (names_check.h, the library's
 * rule for label_names) fails here, naming the file and its first sample,
 * before any work. */
static int check_names(const char *path, const csm_table *t)
{
    for (size_t c = 0; c < t->n_label_names; c++) {
        if (!csm_has_control(t->label_names[c]))
            continue;
        size_t i = 0;
        while (i < t->n && t->labels[i] != (int64_t)c)
            i++;
        char shown[80];
        show_name(shown, sizeof shown, t->label_names[c]);
        cli_error("%s: the class %s (sample %zu) holds a control character (a line break, a "
                  "tab, ...): a class name must be one printable line, as predict writes one "
                  "a line; fix the labels, or pick another column with --label-column",
                  path, shown, i + 1);
        return CLI_FAIL;
    }
    return 0;
}

int cli_table_classes(const char *path, const csm_table *t, const char *who, cli_classes *out)
{
    memset(out, 0, sizeof *out);
    if (t->label_names && check_names(path, t))
        return CLI_FAIL;
    if (t->label_names) {
        out->C = t->n_label_names;
        out->names = calloc(out->C > 0 ? out->C : 1, sizeof *out->names);
        if (!out->names)
            return nomem();
        for (size_t i = 0; i < out->C; i++)
            if (!(out->names[i] = strdup(t->label_names[i]))) {
                cli_classes_free(out);
                return nomem();
            }
    } else if (csm_distinct_labels(t->labels, t->n, &out->values, &out->C) != 0) {
        return nomem();
    }
    if (out->C < 2) {
        char b[32];
        cli_error("%s: every sample has label %s: %s needs at least 2 classes", path,
                  out->C ? cli_class_name(out, 0, b, sizeof b) : "?", who);
        cli_classes_free(out);
        return CLI_FAIL;
    }
    return 0;
}

/* The whole text as a finite number (no blanks around it). */
static int as_number(const char *s, double *v)
{
    char *end;
    if (!*s || *s == ' ' || *s == '\t')
        return -1;
    errno = 0;
    *v = strtod(s, &end);
    return *end == '\0' && isfinite(*v) ? 0 : -1;
}

int cli_model_classes(const csm_model *m, const char *model_path, cli_classes *out)
{
    memset(out, 0, sizeof *out);
    size_t C = csm_model_n_classes(m);
    out->C = C;
    const char *names = csm_model_get_metadata(m, "label_names");
    if (!names) {
        out->values = malloc(C * sizeof *out->values);
        if (!out->values)
            return nomem();
        memcpy(out->values, csm_model_labels(m), C * sizeof *out->values);
        return 0;
    }
    json_error_t jerr;
    json_t *a = json_loads(names, JSON_REJECT_DUPLICATES, &jerr);
    if (!a || !json_is_array(a) || json_array_size(a) != C) {
        json_decref(a);
        cli_error("%s: metadata label_names is not a JSON array of the model's %zu class "
                  "names",
                  model_path, C);
        return CLI_FAIL;
    }
    out->names = calloc(C, sizeof *out->names);
    if (!out->names) {
        json_decref(a);
        return nomem();
    }
    for (size_t i = 0; i < C; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (!s) {
            json_decref(a);
            cli_classes_free(out);
            cli_error("%s: metadata label_names: entry %zu is not a string", model_path, i + 1);
            return CLI_FAIL;
        }
        if (!(out->names[i] = strdup(s))) {
            json_decref(a);
            cli_classes_free(out);
            return nomem();
        }
    }
    json_decref(a);
    const char *type = csm_model_get_metadata(m, "label_type");
    out->numeric = type && !strcmp(type, "float");
    /* the library refuses two equal names; fractional classes are matched
     * by value, so two names of one value ("0.5", "0.50") are as bad */
    for (size_t i = 0; out->numeric && i < C; i++) {
        double vi, vj;
        if (as_number(out->names[i], &vi) != 0)
            continue;
        for (size_t j = 0; j < i; j++)
            if (as_number(out->names[j], &vj) == 0 && vi == vj) {
                cli_error("%s: metadata label_names: classes %zu and %zu ('%s' and '%s') are "
                          "the same number (label_type float)",
                          model_path, j + 1, i + 1, out->names[j], out->names[i]);
                cli_classes_free(out);
                return CLI_FAIL;
            }
    }
    return 0;
}

int cli_classes_to_model(csm_model *m, const cli_classes *c)
{
    csm_context *ctx = csm_model_context(m);
    csm_status st;
    if (!c->names) {
        if ((st = csm_model_set_labels(m, c->values)) != CSM_OK ||
            (st = csm_model_set_metadata(m, "label_names", NULL)) != CSM_OK ||
            (st = csm_model_set_metadata(m, "label_type", NULL)) != CSM_OK)
            return cli_lib_error(ctx, st);
        return 0;
    }
    /* named classes: labels 0..C-1, the names in label_names */
    int64_t *idx = malloc(c->C * sizeof *idx);
    json_t *a = json_array();
    char *text = NULL;
    int ok = idx && a;
    for (size_t i = 0; ok && i < c->C; i++) {
        idx[i] = (int64_t)i;
        ok = json_array_append_new(a, json_string(c->names[i])) == 0;
    }
    int rc = 0;
    if (!ok || !(text = json_dumps(a, JSON_COMPACT))) {
        rc = nomem();
    } else if ((st = csm_model_set_labels(m, idx)) != CSM_OK ||
               (st = csm_model_set_metadata(m, "label_names", text)) != CSM_OK ||
               (st = csm_model_set_metadata(m, "label_type", c->numeric ? "float" : "str")) !=
                   CSM_OK) {
        rc = cli_lib_error(ctx, st);
    }
    free(idx);
    json_decref(a);
    free(text);
    return rc;
}

/* A numeric class whose name has the value of `text`, or -1. */
static long class_by_value(const cli_classes *c, const char *text)
{
    double v, name;
    if (!c->names || !c->numeric || as_number(text, &v) != 0)
        return -1;
    for (size_t i = 0; i < c->C; i++)
        if (as_number(c->names[i], &name) == 0 && name == v)
            return (long)i;
    return -1;
}

int cli_class_index(const cli_classes *c, const char *text, size_t *index)
{
    if (c->names) {
        for (size_t i = 0; i < c->C; i++)
            if (!strcmp(c->names[i], text)) {
                *index = i;
                return 0;
            }
        long at = class_by_value(c, text);
        if (at < 0)
            return -1;
        *index = (size_t)at;
        return 0;
    }
    char *end;
    if (!*text || *text == ' ' || *text == '\t')
        return -1;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (*end || errno == ERANGE)
        return -1;
    for (size_t i = 0; i < c->C; i++)
        if (c->values[i] == (int64_t)v) {
            *index = i;
            return 0;
        }
    return -1;
}

typedef struct name_ix {
    const char *name;
    size_t index;
} name_ix;

static int cmp_name_ix(const void *a, const void *b)
{
    return strcmp(((const name_ix *)a)->name, ((const name_ix *)b)->name);
}

int cli_map_table_unseen(const char *path, const csm_table *t, const cli_classes *cls,
                         int32_t *out, cli_unseen *unseen)
{
    /* the file's distinct labels, as texts */
    int64_t *distinct = NULL;
    size_t nd = 0;
    char **dtext = NULL, numbuf[32];
    name_ix *sorted = NULL;
    int32_t *to_class = NULL;
    size_t C = cls->C;
    int rc = CLI_FAIL;
    (void)path;
    memset(unseen, 0, sizeof *unseen);
    if (!t->label_names && csm_distinct_labels(t->labels, t->n, &distinct, &nd) != 0)
        goto oom;
    if (t->label_names)
        nd = t->n_label_names;
    sorted = malloc((C > 0 ? C : 1) * sizeof *sorted);
    to_class = malloc((nd > 0 ? nd : 1) * sizeof *to_class);
    dtext = calloc(C > 0 ? C : 1, sizeof *dtext);
    if (!sorted || !to_class || !dtext)
        goto oom;
    for (size_t c = 0; c < C; c++) {
        if (!cls->names) {
            snprintf(numbuf, sizeof numbuf, "%lld", (long long)cls->values[c]);
            if (!(dtext[c] = strdup(numbuf)))
                goto oom;
        }
        sorted[c].name = cls->names ? cls->names[c] : dtext[c];
        sorted[c].index = c;
    }
    qsort(sorted, C, sizeof *sorted, cmp_name_ix);
    /* known texts map to their class; the others to C, C + 1, ... in the
     * order of the file's sorted distinct labels */
    for (size_t d = 0; d < nd; d++) {
        const char *text = t->label_names ? t->label_names[d] : numbuf;
        if (!t->label_names)
            snprintf(numbuf, sizeof numbuf, "%lld", (long long)distinct[d]);
        name_ix key = {text, 0};
        name_ix *hit = bsearch(&key, sorted, C, sizeof *sorted, cmp_name_ix);
        to_class[d] = hit ? (int32_t)hit->index : (int32_t)class_by_value(cls, text);
        if (to_class[d] >= 0)
            continue;
        char **grown = realloc(unseen->names, (unseen->n + 1) * sizeof *grown);
        if (!grown)
            goto oom;
        unseen->names = grown;
        if (!(unseen->names[unseen->n] = strdup(text)))
            goto oom;
        to_class[d] = (int32_t)(C + unseen->n++);
    }
    for (size_t i = 0; i < t->n; i++) {
        size_t d;
        if (t->label_names) {
            d = (size_t)t->labels[i];
        } else {
            int32_t at;
            csm_map_labels(&t->labels[i], 1, distinct, nd, &at);
            d = (size_t)at;
        }
        out[i] = to_class[d];
        if ((size_t)out[i] >= C && unseen->samples++ == 0)
            unseen->first = i;
    }
    rc = 0;
    goto done;
oom:
    cli_error("out of memory");
    cli_unseen_free(unseen);
done:
    if (dtext)
        for (size_t c = 0; c < C; c++)
            free(dtext[c]);
    free(dtext);
    free(sorted);
    free(to_class);
    free(distinct);
    return rc;
}

void cli_unseen_free(cli_unseen *u)
{
    for (size_t i = 0; i < u->n; i++)
        free(u->names[i]);
    free(u->names);
    memset(u, 0, sizeof *u);
}

int cli_map_table(const char *path, const csm_table *t, const cli_classes *cls, const char *whose,
                  int32_t *out)
{
    cli_unseen u;
    if (cli_map_table_unseen(path, t, cls, out, &u))
        return CLI_FAIL;
    if (u.n == 0)
        return 0;
    char list[512];
    cli_classes_list(list, sizeof list, cls);
    cli_error("%s: sample %zu has label %s, which %s (classes: %s)", csm_display_name(path),
              u.first + 1, u.names[(size_t)out[u.first] - cls->C], whose, list);
    cli_unseen_free(&u);
    return CLI_FAIL;
}

/* A class name as a CSV field: quoted when it holds a delimiter, a quote
 * or a line break. */
void cli_write_csv_field(FILE *out, const char *s)
{
    if (!strpbrk(s, ",;\t\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}
