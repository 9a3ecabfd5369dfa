/* CSV / TSV reader: one sample per line, numeric columns, one of them the
 * integer label. The delimiter (',', ';' or tab) and the presence of a
 * header line are detected from the first lines, then every line must agree
 * with them: a row of another width, an empty field or a non-numeric field
 * is an error naming the line, never a silently skipped or zero value. */
#include "read_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != ' ' && p[i] != '\t')
            return 0;
    }
    return 1;
}

/* The delimiter of a line: the most frequent of ',', ';' and tab (ties go to
 * the first in that order), or 0 if none appears. */
static char detect_delimiter(const char *p, size_t n)
{
    static const char cand[] = {',', '\t', ';'};
    size_t count[3] = {0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        for (int c = 0; c < 3; c++)
            count[c] += p[i] == cand[c];
    }
    int best = 0;
    for (int c = 1; c < 3; c++) {
        if (count[c] > count[best])
            best = c;
    }
    return count[best] ? cand[best] : 0;
}

static const char *delimiter_name(char d)
{
    return d == ',' ? "','" : d == ';' ? "';'" : d == '\t' ? "tab" : "none";
}

/* Cuts the next field out of [*p, end): trims spaces (and tabs when tab is
 * not the delimiter), NUL-terminates it in place and advances *p past the
 * delimiter. Returns 0 when there is no field left. */
static int next_field(char **p, char *end, char delim, int *more, char **f, size_t *fn)
{
    if (!*more)
        return 0;
    char *s = *p;
    char *e = s;
    /* a plain loop: fields are a few bytes, too short for memchr to pay */
    while (e < end && *e != delim)
        e++;
    if (e < end)
        *p = e + 1;
    else
        *more = 0;
    while (s < e && (*s == ' ' || (*s == '\t' && delim != '\t')))
        s++;
    char *t = e;
    while (t > s && (t[-1] == ' ' || (t[-1] == '\t' && delim != '\t')))
        t--;
    *t = '\0';
    *f = s;
    *fn = (size_t)(t - s);
    return 1;
}

static size_t count_fields(const char *p, size_t n, char delim)
{
    size_t c = 1;
    for (size_t i = 0; i < n; i++)
        c += p[i] == delim;
    return c;
}

/* A header line is one with a feature field that is not a number; NaN or
 * an empty field still look like (bad) data, so that they are reported as
 * such. The label column does not count: a string label (`setosa`) is data. */
static int looks_like_header(const csm_read_options *opt, const char *line, size_t n)
{
    char *copy = malloc(n + 1);
    if (!copy)
        return 0;
    memcpy(copy, line, n + 1);
    char delim = opt->delimiter > 0 ? (char)opt->delimiter : detect_delimiter(copy, n);
    size_t ncols = delim ? count_fields(copy, n, delim) : 1;
    size_t label_col = opt->no_labels == 1     ? SIZE_MAX
                       : opt->label_column < 0 ? ncols - 1
                                               : (size_t)opt->label_column;
    char *p = copy, *end = copy + n, *f;
    size_t fn, col = 0;
    int more = 1, header = 0;
    while (!header && next_field(&p, end, delim ? delim : '\n', &more, &f, &fn)) {
        double v;
        header = col != label_col && csm_parse_double(f, fn, &v) == CSM_NUM_SYNTAX;
        col++;
    }
    free(copy);
    return header;
}

typedef struct csv_state {
    char delim;
    size_t ncols, k, label_col;
    size_t first_data_line;
    int unlabeled;          /* no label column (no_labels) */
    double *x;      /* (n, k) */
    int64_t *y;     /* (n) */
    size_t n, cap_x, cap_y;
    int strings;            /* labels are indices into `dict` */
    int fraction_labels;    /* csm_read_options.fraction_labels */
    csm_label_dict dict;
} csv_state;

/* The first label that is not a number turns every label into a string:
 * the integer labels read so far become their %lld texts. */
static int to_string_labels(csv_state *st)
{
    for (size_t i = 0; i < st->n; i++) {
        char t[32];
        int w = snprintf(t, sizeof t, "%lld", (long long)st->y[i]);
        if (csm_label_dict_add(&st->dict, t, (size_t)w, &st->y[i]) < 0)
            return -1;
    }
    st->strings = 1;
    return 0;
}

/* The label field [f, f+fn) into y: an integer, or (a field that is no
 * number at all) the index of its text. A fractional number stays an
 * error unless asked for (fraction_labels): it is far more often a
 * feature column taken for the label than a class name. */
static int parse_label_field(csm_stream *s, csv_state *st, size_t col, const char *f,
                             size_t fn, int64_t *y)
{
    char q[64];
    int rc = csm_parse_label(f, fn, y);
    if (rc == CSM_NUM_SYNTAX || (rc == CSM_NUM_NOT_INTEGER && st->fraction_labels)) {
        if (!st->strings && to_string_labels(st) < 0)
            return csm_fail_line(s, "out of memory");
        if (csm_label_dict_add(&st->dict, f, fn, y) < 0)
            return csm_fail_line(s, "label %s in column %zu: out of memory or a NUL byte",
                                 csm_quote(q, sizeof q, f, fn), col + 1);
        return 0;
    }
    if (rc != CSM_NUM_OK)
        return csm_fail_line(s, "label %s in column %zu: %s", csm_quote(q, sizeof q, f, fn),
                             col + 1, csm_num_reason(rc));
    if (st->strings) {
        char t[32];
        int w = snprintf(t, sizeof t, "%lld", (long long)*y);
        if (csm_label_dict_add(&st->dict, t, (size_t)w, y) < 0)
            return csm_fail_line(s, "out of memory");
    }
    return 0;
}

/* Parses one data line into row st->n. */
static int parse_row(csm_stream *s, csv_state *st, char *line, size_t len)
{
    char q[64];
    /* the width first, so that a row using another delimiter is reported
     * as such rather than as a strange number */
    size_t cols = count_fields(line, len, st->delim);
    if (cols != st->ncols) {
        char other = detect_delimiter(line, len);
        char hint[48] = "";
        if (other && other != st->delim)
            snprintf(hint, sizeof hint, "; this line uses %s", delimiter_name(other));
        return csm_fail_line(s, "expected %zu columns (as on line %zu, delimiter %s%s), got %zu",
                             st->ncols, st->first_data_line, delimiter_name(st->delim), hint,
                             cols);
    }
    if (csm_grow((void **)&st->x, &st->cap_x, st->n + 1, st->k * sizeof(double)) < 0 ||
        csm_grow((void **)&st->y, &st->cap_y, st->n + 1, sizeof(int64_t)) < 0)
        return csm_fail_line(s, "out of memory after %zu samples of %zu features", st->n,
                             st->k);
    double *row = st->x + st->n * st->k;
    st->y[st->n] = 0; /* stays 0 without a label column */
    char *p = line, *end = line + len, *f;
    size_t fn, col = 0, j = 0;
    int more = 1;
    while (col < st->ncols && next_field(&p, end, st->delim, &more, &f, &fn)) {
        if (col == st->label_col) {
            if (parse_label_field(s, st, col, f, fn, &st->y[st->n]) < 0)
                return -1;
        } else {
            int rc = csm_parse_double(f, fn, &row[j]);
            if (rc != CSM_NUM_OK)
                return csm_fail_line(s, "column %zu: %s %s", col + 1, csm_num_reason(rc),
                                     csm_quote(q, sizeof q, f, fn));
            j++;
        }
        col++;
    }
    st->n++;
    return 0;
}

/* Sets up the column layout from the first data line. */
static int first_data_line(csm_stream *s, const csm_read_options *opt, csv_state *st,
                           const char *line, size_t len, const char *header, size_t header_len)
{
    st->delim = opt->delimiter > 0 ? (char)opt->delimiter : detect_delimiter(line, len);
    st->fraction_labels = opt->fraction_labels;
    int one_feature = opt->no_labels == 1 || (opt->no_labels == -1 && opt->n_features == 1);
    if (!st->delim && !one_feature)
        return csm_fail_line(s, "no delimiter (',', ';' or tab) found: a row needs a label "
                                "column and at least one feature column");
    if (!st->delim)
        st->delim = ','; /* one feature, no label: any delimiter reads it */
    st->ncols = count_fields(line, len, st->delim);
    st->first_data_line = s->line;
    if (header) {
        size_t hc = count_fields(header, header_len, st->delim);
        if (hc != st->ncols) {
            size_t here = s->line;
            s->line = 1;
            csm_fail_line(s, "the header has %zu columns but the first data line (line %zu) "
                             "has %zu (delimiter %s)",
                          hc, here, st->ncols, delimiter_name(st->delim));
            return -1;
        }
    }
    st->unlabeled = opt->no_labels == 1 ||
                    (opt->no_labels == -1 && opt->n_features > 0 && st->ncols == opt->n_features);
    if (st->unlabeled) {
        st->label_col = SIZE_MAX;
        st->k = st->ncols;
        return 0;
    }
    if (st->ncols < 2)
        return csm_fail_line(s, "one column (delimiter %s): a row needs a label column and at "
                                "least one feature column",
                             delimiter_name(st->delim));
    if (opt->label_column == -1) {
        st->label_col = st->ncols - 1;
    } else if (opt->label_column < 0 || (size_t)opt->label_column >= st->ncols) {
        return csm_fail_line(s, "label column index %d is out of range for %zu columns "
                                "(0-based index, or -1 for the last)",
                             opt->label_column, st->ncols);
    } else {
        st->label_col = (size_t)opt->label_column;
    }
    st->k = st->ncols - 1;
    return 0;
}

int csm_read_csv(const char *path, const csm_read_options *opt, csm_table *out, char *err,
                 size_t err_len)
{
    if (opt->label_column < -1)
        return csm_fail_file(err, err_len, path,
                             "label column index %d is invalid (0-based index, or -1 for the "
                             "last)",
                             opt->label_column);
    csm_stream s;
    if (csm_stream_open(&s, path, opt, err, err_len) < 0)
        return -1;

    csv_state st;
    memset(&st, 0, sizeof st);
    char *header = NULL;
    size_t header_len = 0, blank_at = 0, last_line = 0;
    int seen_first = 0, rc = 0, ok = 0;
    char *line;
    size_t len;
    while ((rc = csm_stream_line(&s, &line, &len)) > 0) {
        if (s.line == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
            line += 3; /* UTF-8 byte-order mark, as spreadsheets write */
            len -= 3;
        }
        if (is_blank(line, len)) {
            if (!blank_at)
                blank_at = s.line;
            continue;
        }
        if (blank_at) {
            s.line = blank_at;
            csm_fail_line(&s, "blank line inside the data (only trailing blank lines are "
                              "allowed)");
            goto done;
        }
        last_line = s.line;
        if (!seen_first) {
            seen_first = 1;
            int is_header =
                opt->header == 1 || (opt->header != 0 && looks_like_header(opt, line, len));
            if (is_header) {
                header = malloc(len + 1);
                if (!header) {
                    csm_fail_line(&s, "out of memory");
                    goto done;
                }
                memcpy(header, line, len + 1);
                header_len = len;
                continue;
            }
        }
        if (st.ncols == 0 &&
            first_data_line(&s, opt, &st, line, len, header, header_len) < 0)
            goto done;
        if (parse_row(&s, &st, line, len) < 0)
            goto done;
    }
    if (rc < 0)
        goto done;
    if (st.n == 0) {
        s.line = last_line + 1;
        csm_fail_line(&s, "no samples%s", header ? " (only a header line)"
                                          : last_line == 0 ? " (the file is empty)" : "");
        goto done;
    }
    if (st.strings && csm_label_dict_finish(&st.dict, st.y, st.n, &out->label_names,
                                            &out->n_label_names) < 0) {
        csm_fail_file(err, err_len, path, "out of memory");
        goto done;
    }
    ok = 1;
done:
    csm_stream_close(&s);
    csm_label_dict_free(&st.dict);
    int had_header = header != NULL;
    free(header);
    if (!ok) {
        free(st.x);
        free(st.y);
        return -1;
    }
    out->unlabeled = st.unlabeled;
    out->delimiter = st.delim;
    out->header = had_header;
    /* hand back the slack of the geometric growth */
    double *x = st.n * st.k > 0 ? realloc(st.x, st.n * st.k * sizeof(double)) : NULL;
    int64_t *y = realloc(st.y, st.n * sizeof(int64_t));
    out->n = st.n;
    out->k = st.k;
    out->dtype = CSM_DTYPE_F64;
    out->features = x ? x : st.x;
    out->labels = y ? y : st.y;
    return 0;
}
