/* CSV / TSV / blank-separated reader: one sample per record, numeric
 * feature columns, one label column (integers or names), optionally a
 * column of sample weights. Records are RFC 4180 (csv_record.c). The
 * delimiter and the header are decided from the first rows: the header by
 * content, over a window of the rows below the first (csv_header.c); a
 * header one name short of the rows, or with no name for its first
 * column, marks a first column of row names (R, pandas), which is left
 * out. Then every record must agree: a row of another width, an empty
 * field or a field that is not a number is an error naming the line,
 * never a silently skipped or zero value. */
#include "csv_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rows below the first that decide whether it is a header, and which
 * columns could hold labels. */
#define CSV_WINDOW 200

#define NO_COLUMN SIZE_MAX

typedef struct csv_reader {
    csm_stream *s;
    const csm_read_options *opt;
    char delim;
    int row_names;            /* field 0 of every record is left out */
    size_t ncols;             /* fields per record, without row names */
    size_t k, label_col, weight_col; /* NO_COLUMN: none */
    int unlabeled;
    size_t first_data_line;
    size_t blank_at;          /* a blank line after the data started, or 0 */
    char *join;               /* the text of a record of several lines */
    size_t join_cap;
    unsigned *below;          /* (ncols) kinds per column over the window */
    char **names;             /* (ncols) header names, or NULL */
    /* the table */
    double *x;                /* (n, k) */
    int64_t *y;               /* (n) */
    double *w;                /* (n) with a weight column */
    size_t n, cap_x, cap_y, cap_w;
    int strings;              /* labels are indices into dict */
    csm_label_dict dict;
} csv_reader;

static int only_blanks(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != ' ' && p[i] != '\t')
            return 0;
    }
    return 1;
}

/* "PATH:LINE: message" for `line` (a record's first line, which the
 * stream may have passed while looking ahead). Returns -1. */
static int fail_at(csv_reader *rd, size_t line, const char *fmt, ...) CSM_PRINTF(3, 4);
static int fail_at(csv_reader *rd, size_t line, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rd->s->line = line;
    return csm_fail_line(rd->s, "%s", msg);
}

/* The next line that is not blank: 1, 0 at the end, -1 on an error. Blank
 * lines are allowed before the data and at its end, not inside it. */
static int next_line(csv_reader *rd, int data_started, char **line, size_t *len)
{
    csm_stream *s = rd->s;
    for (;;) {
        int rc = csm_stream_line(s, line, len);
        if (rc <= 0)
            return rc;
        if (s->line == 1 && *len >= 3 && memcmp(*line, "\xEF\xBB\xBF", 3) == 0) {
            *line += 3; /* UTF-8 byte-order mark, as spreadsheets write */
            *len -= 3;
        }
        if (only_blanks(*line, *len)) {
            if (data_started && !rd->blank_at)
                rd->blank_at = s->line;
            continue;
        }
        if (rd->blank_at)
            return fail_at(rd, rd->blank_at,
                           "blank line inside the data (only trailing blank lines are "
                           "allowed)");
        return 1;
    }
}

/* A record joined across lines that passes the cap of a line (the
 * stream's max_line, CSM_READ_MAX_LINE): the memory a quote left open can
 * take is bounded as a line's is. Names the record's first line. */
static int record_too_long(csv_reader *rd, const csv_record *r)
{
    size_t max = rd->s->max_line, last = rd->s->line;
    return fail_at(rd, r->line,
                   "record of lines %zu to %zu longer than %zu bytes%s, the limit of a line "
                   "(a quoted field holding line breaks, or a '\"' never closed)",
                   r->line, last, max, max == CSM_READ_MAX_LINE ? " (64 MiB)" : "");
}

/* The record that starts with `line`: more lines while a quoted field is
 * open, at most max_line bytes in all. Its fields point into the stream's
 * buffer or into rd->join. */
static int assemble(csv_reader *rd, char *line, size_t len, csv_record *r)
{
    csm_stream *s = rd->s;
    r->line = s->line;
    int rc = csv_split(r, line, len, rd->delim);
    if (rc < 0)
        return fail_at(rd, r->line, "out of memory");
    if (rc == 0)
        goto done;
    /* a quoted field holds a line break: the record's lines joined */
    size_t used = 0;
    for (int open = 1; open;) {
        if (csm_grow((void **)&rd->join, &rd->join_cap, used + len + 2, 1) < 0)
            return fail_at(rd, r->line, "out of memory for a record of %zu bytes", used + len);
        memcpy(rd->join + used, line, len);
        used += len;
        rc = csm_stream_line(s, &line, &len);
        if (rc < 0)
            return -1;
        if (rc == 0)
            return fail_at(rd, r->line, "a quoted field that starts on this line is never "
                                        "closed (a lone '\"'?)");
        rd->join[used++] = '\n'; /* the line break inside the quotes */
        if (used > s->max_line || len > s->max_line - used)
            return record_too_long(rd, r);
        open = csv_quote_open(line, len, rd->delim, 1);
    }
    if (csm_grow((void **)&rd->join, &rd->join_cap, used + len + 1, 1) < 0)
        return fail_at(rd, r->line, "out of memory for a record of %zu bytes", used + len);
    memcpy(rd->join + used, line, len);
    if (csv_split(r, rd->join, used + len, rd->delim) != 0)
        return fail_at(rd, r->line, "out of memory");
done:
    if (rd->row_names && r->nf > 0) {
        memmove(r->f, r->f + 1, (r->nf - 1) * sizeof *r->f);
        r->nf--;
    }
    return 0;
}

/* The next record: 1, 0 at the end, -1 on an error. */
static int next_record(csv_reader *rd, csv_record *r)
{
    char *line;
    size_t len;
    int rc = next_line(rd, 1, &line, &len);
    if (rc <= 0)
        return rc;
    return assemble(rd, line, len, r) < 0 ? -1 : 1;
}

/* The first record, after blank lines and '#' comment lines (NumPy's
 * savetxt writes its header as one); *comment receives a copy of the last
 * comment without its '#', malloc'd, or NULL. Decides the delimiter. The
 * record is kept (csv_record_own): the window reads on. */
static int first_record(csv_reader *rd, csv_record *r, char **comment)
{
    char *line;
    size_t len;
    int rc;
    *comment = NULL;
    while ((rc = next_line(rd, 0, &line, &len)) > 0 && line[0] == '#') {
        size_t at = 1;
        while (at < len && (line[at] == ' ' || line[at] == '\t'))
            at++;
        free(*comment);
        if (!(*comment = malloc(len - at + 1)))
            return fail_at(rd, rd->s->line, "out of memory");
        memcpy(*comment, line + at, len - at);
        (*comment)[len - at] = '\0';
    }
    if (rc <= 0)
        return rc;
    rd->delim = rd->opt->delimiter > 0 ? (char)rd->opt->delimiter
                                       : csv_detect_delimiter(line, len);
    if (!rd->delim)
        rd->delim = ','; /* one field: any delimiter reads it */
    if (assemble(rd, line, len, r) < 0)
        return -1;
    if (csv_record_own(r) < 0)
        return fail_at(rd, r->line, "out of memory");
    return 1;
}

/* ---------------------------------------------------------------- layout */

/* Which columns are the label, the weights and the features, for records
 * of ncols fields. */
static int set_layout(csv_reader *rd, size_t ncols, size_t line)
{
    const csm_read_options *opt = rd->opt;
    rd->ncols = ncols;
    rd->first_data_line = line;
    rd->label_col = rd->weight_col = NO_COLUMN;
    /* predict's guess: as many columns as the model has features */
    int guessed = opt->no_labels == -1 && opt->n_features > 0 && ncols == opt->n_features;
    rd->unlabeled = opt->no_labels == 1 || guessed;
    if (!rd->unlabeled) {
        if (ncols < 2 && rd->opt->delimiter <= 0)
            return fail_at(rd, line, "no delimiter (',', ';', tab or blanks) found: a row needs "
                                     "a label column and at least one feature column");
        if (ncols < 2)
            return fail_at(rd, line, "one column (delimiter %s): a row needs a label column "
                                     "and at least one feature column",
                           csv_delimiter_name(rd->delim));
        if (opt->label_column == -1)
            rd->label_col = ncols - 1;
        else if ((size_t)opt->label_column < ncols)
            rd->label_col = (size_t)opt->label_column;
        else
            return fail_at(rd, line, "label column %d is out of range for %zu columns "
                                     "(--label-column counts from 0, or is 'last')",
                           opt->label_column, ncols);
    }
    if (opt->weight_column >= 0 && !guessed) {
        if ((size_t)opt->weight_column >= ncols)
            return fail_at(rd, line, "weight column %d is out of range for %zu columns "
                                     "(--weight-column counts from 0)",
                           opt->weight_column, ncols);
        if ((size_t)opt->weight_column == rd->label_col)
            return fail_at(rd, line, "column %d cannot be both the label (--label-column) and "
                                     "the weights (--weight-column)",
                           opt->weight_column);
        rd->weight_col = (size_t)opt->weight_column;
    }
    rd->k = ncols - (rd->label_col != NO_COLUMN) - (rd->weight_col != NO_COLUMN);
    if (rd->k == 0)
        return fail_at(rd, line, "no feature column: %zu columns, all taken by the label and "
                                 "the weights",
                       ncols);
    return 0;
}

/* ---------------------------------------------------------------- header */

/* The kinds of each column over the window rows of ncols fields. */
static int column_kinds(csv_reader *rd, const csv_record *win, size_t nwin, size_t ncols)
{
    free(rd->below);
    rd->below = calloc(ncols ? ncols : 1, sizeof *rd->below);
    if (!rd->below)
        return -1;
    for (size_t r = 0; r < nwin; r++) {
        if (win[r].nf != ncols)
            continue; /* reported when its turn comes */
        for (size_t j = 0; j < ncols; j++)
            rd->below[j] |= (unsigned)csv_kind(win[r].f[j].p, win[r].f[j].n);
    }
    return 0;
}

static int any_text(const csv_record *r, size_t skip)
{
    for (size_t j = 0; j < r->nf; j++)
        if (j != skip && csv_kind(r->f[j].p, r->f[j].n) == CSV_TEXT)
            return 1;
    return 0;
}

/* Whether the first row's label text occurs in the window. */
static int label_in_window(const csv_record *first, const csv_record *win, size_t nwin,
                           size_t col)
{
    if (col >= first->nf)
        return 0;
    const csv_field *l = &first->f[col];
    for (size_t r = 0; r < nwin; r++)
        if (col < win[r].nf && win[r].f[col].n == l->n && !memcmp(win[r].f[col].p, l->p, l->n))
            return 1;
    return 0;
}

/* Decides whether `first` is a header (*pending: only its label says so,
 * and the whole file must confirm it), whether the rows start with row
 * names, and the layout. Returns 1 for a header, 0 for data, -1 on an
 * error. */
static int decide_header(csv_reader *rd, csv_record *first, csv_record *win, size_t nwin,
                         int *pending)
{
    const csm_read_options *opt = rd->opt;
    /* the width of the rows below, which a header may lack one of */
    size_t below_nf = nwin ? win[0].nf : first->nf;
    int header = opt->header == 1;
    *pending = 0;
    if (opt->header == -1 && first->nf != below_nf)
        header = any_text(first, SIZE_MAX); /* else data, of the first row's width */
    size_t nf = header || first->nf == below_nf ? below_nf : first->nf;
    size_t line = header && nwin ? win[0].line : first->line;
    /* a tentative layout, for the label column of the rule */
    if (set_layout(rd, nf, line) < 0)
        return -1;
    if (column_kinds(rd, win, nwin, nf) < 0)
        return fail_at(rd, first->line, "out of memory");
    if (opt->header == -1 && first->nf == below_nf) {
        if (nwin == 0) {
            header = any_text(first, rd->label_col); /* a header alone */
        } else {
            int c = csv_classify_first_row(first, rd->below, nf, rd->label_col,
                                           label_in_window(first, win, nwin, rd->label_col));
            header = c == CSV_ROW_HEADER;
            *pending = c == CSV_ROW_LABEL_UNIQUE;
        }
    }
    /* row names: a header one name short (R's write.table, pandas' rule),
     * or without a name for the first column (pandas' index, R's
     * write.csv) */
    if (header && nwin > 0 &&
        (first->nf + 1 == nf || (first->nf == nf && nf > 1 && first->f[0].n == 0))) {
        rd->row_names = 1;
        if (first->nf == nf)
            csv_record_drop_first(first);
        for (size_t r = 0; r < nwin; r++)
            csv_record_drop_first(&win[r]);
        nf--;
        memmove(rd->below, rd->below + 1, nf * sizeof *rd->below);
        if (set_layout(rd, nf, line) < 0)
            return -1;
    }
    if (header && first->nf != nf && nwin > 0)
        return fail_at(rd, first->line, "the header has %zu columns but the first data line "
                                        "(line %zu) has %zu (delimiter %s)",
                       first->nf, win[0].line, nf + rd->row_names,
                       csv_delimiter_name(rd->delim));
    return header;
}

/* Names from the header (or a '#' comment line of as many fields), or
 * NULL. They point into `from`, which must live as long as rd. */
static int take_names(csv_reader *rd, csv_record *from)
{
    if (from->nf != rd->ncols)
        return 0;
    free(rd->names);
    rd->names = malloc(rd->ncols * sizeof *rd->names);
    if (!rd->names)
        return -1;
    for (size_t j = 0; j < rd->ncols; j++)
        rd->names[j] = from->f[j].p;
    return 0;
}

/* ------------------------------------------------------------------ rows */

/* " ('name')" for column j, or "". */
static const char *col_name(const csv_reader *rd, size_t j, char *buf, size_t len)
{
    char q[64];
    if (!rd->names || j >= rd->ncols) {
        buf[0] = '\0';
        return buf;
    }
    snprintf(buf, len, " (%s)", csm_quote(q, sizeof q, rd->names[j], strlen(rd->names[j])));
    return buf;
}

/* The first label that is not a number turns every label into a string:
 * the integer labels read so far become their %lld texts. */
static int to_string_labels(csv_reader *rd)
{
    for (size_t i = 0; i < rd->n; i++) {
        char t[32];
        int w = snprintf(t, sizeof t, "%lld", (long long)rd->y[i]);
        if (csm_label_dict_add(&rd->dict, t, (size_t)w, &rd->y[i]) < 0)
            return -1;
    }
    rd->strings = 1;
    return 0;
}

/* The label [p, p+n) into *y: an integer, or (a field that is no number
 * at all) the index of its text. A fractional number stays an error
 * unless asked for (fraction_labels): it is far more often a feature
 * column taken for the label than a class name. Returns the csm_parse_*
 * code of a label that is neither, or -1 when memory is short. */
static int take_label(csv_reader *rd, const char *p, size_t n, int64_t *y)
{
    int rc = csm_parse_label(p, n, y);
    if (rc == CSM_NUM_OK && !rd->strings)
        return 0;
    if (rc == CSM_NUM_OK) {
        char t[32];
        int w = snprintf(t, sizeof t, "%lld", (long long)*y);
        return csm_label_dict_add(&rd->dict, t, (size_t)w, y) < 0 ? -1 : 0;
    }
    /* NA is no class name */
    if ((rc == CSM_NUM_SYNTAX && !csv_is_missing(p, n)) ||
        (rc == CSM_NUM_NOT_INTEGER && rd->opt->fraction_labels)) {
        if (!rd->strings && to_string_labels(rd) < 0)
            return -1;
        return csm_label_dict_add(&rd->dict, p, n, y) < 0 ? -1 : 0;
    }
    return rc;
}

/* The message for a label that take_label() refused. */
static int bad_label(csv_reader *rd, const csv_record *r, const csv_field *f, int rc)
{
    char q[64], nm[80], hint[512];
    size_t col = rd->label_col;
    if (rc < 0)
        return fail_at(rd, r->line, "label %s in column %zu: out of memory or a NUL byte",
                       csm_quote(q, sizeof q, f->p, f->n), col);
    int missing = rc == CSM_NUM_EMPTY || csv_is_missing(f->p, f->n);
    csv_label_hint(hint, sizeof hint, rd->below, rd->ncols, col, rd->names);
    return fail_at(rd, r->line, "label %s in column %zu%s: %s%s",
                   csm_quote(q, sizeof q, f->p, f->n), col, col_name(rd, col, nm, sizeof nm),
                   missing ? "a missing label" : csm_num_reason(rc), hint);
}

/* A feature or weight field that is not a usable number. */
static int bad_value(csv_reader *rd, const csv_record *r, size_t col, const csv_field *f, int rc,
                     const char *what)
{
    char q[64], nm[80];
    col_name(rd, col, nm, sizeof nm);
    if (rc == CSM_NUM_EMPTY || csv_is_missing(f->p, f->n))
        return fail_at(rd, r->line, "%scolumn %zu%s: missing value %s: every value is needed "
                                    "(drop or fill the missing values first, e.g. pandas' "
                                    "dropna() or R's na.omit())",
                       what, col, nm, rc == CSM_NUM_EMPTY ? "(empty field)"
                                                          : csm_quote(q, sizeof q, f->p, f->n));
    if (rc == CSM_NUM_OK) /* a weight, then */
        return fail_at(rd, r->line, "weight column %zu: negative weight %s", col,
                       csm_quote(q, sizeof q, f->p, f->n));
    return fail_at(rd, r->line, "%scolumn %zu%s: %s %s", what, col, nm, csm_num_reason(rc),
                   csm_quote(q, sizeof q, f->p, f->n));
}

static int wrong_width(csv_reader *rd, const csv_record *r)
{
    char hint[48] = "";
    /* a line of one field with another delimiter in it */
    char other = r->nf == 1 ? csv_detect_delimiter(r->f[0].p, r->f[0].n) : 0;
    if (other && other != rd->delim && other != CSM_DELIM_BLANKS)
        snprintf(hint, sizeof hint, "; this line uses %s", csv_delimiter_name(other));
    return fail_at(rd, r->line, "expected %zu columns (as on line %zu, delimiter %s%s), got %zu",
                   rd->ncols + rd->row_names, rd->first_data_line, csv_delimiter_name(rd->delim),
                   hint, r->nf + rd->row_names);
}

/* Room for row rd->n. */
static int grow_rows(csv_reader *rd)
{
    if (rd->n < rd->cap_y)
        return 0;
    return csm_grow((void **)&rd->x, &rd->cap_x, rd->n + 1, rd->k * sizeof(double)) < 0 ||
                   csm_grow((void **)&rd->y, &rd->cap_y, rd->n + 1, sizeof(int64_t)) < 0 ||
                   (rd->weight_col != NO_COLUMN &&
                    csm_grow((void **)&rd->w, &rd->cap_w, rd->n + 1, sizeof(double)) < 0)
               ? -1
               : 0;
}

/* Parses one data record into row rd->n, or says what is wrong with it. */
static int parse_row(csv_reader *rd, const csv_record *r)
{
    if (r->nf != rd->ncols)
        return wrong_width(rd, r);
    if (grow_rows(rd) < 0)
        return fail_at(rd, r->line, "out of memory after %zu samples of %zu features", rd->n,
                       rd->k);
    double *row = rd->x + rd->n * rd->k;
    rd->y[rd->n] = 0; /* stays 0 without a label column */
    size_t j = 0;
    for (size_t col = 0; col < rd->ncols; col++) {
        const csv_field *f = &r->f[col];
        int rc;
        if (col == rd->label_col) {
            if ((rc = take_label(rd, f->p, f->n, &rd->y[rd->n])) != 0)
                return bad_label(rd, r, f, rc);
        } else if (col == rd->weight_col) {
            double *w = &rd->w[rd->n];
            if ((rc = csm_parse_double(f->p, f->n, w)) != CSM_NUM_OK || *w < 0)
                return bad_value(rd, r, col, f, rc, "weight ");
        } else if ((rc = csm_parse_double(f->p, f->n, &row[j++])) != CSM_NUM_OK) {
            return bad_value(rd, r, col, f, rc, "");
        }
    }
    rd->n++;
    return 0;
}

/* The common line, taken without building a record: no quotes, one
 * delimiter between fields, every field good. Tokenizing field by field
 * next to the parsing of its number reads a numeric file ~20% faster than
 * splitting the record first (measured, BENCHMARKS.md "Reading CSV").
 * Returns 0, or 1 for a line the record path must take: it then finds
 * what is wrong and says so. The line is left as it was. */
static int plain_row(csv_reader *rd, char *p, size_t n)
{
    const char delim = rd->delim;
    const size_t skip = (size_t)rd->row_names; /* the row names' field, first */
    const size_t ncols = rd->ncols + skip;
    const size_t label = rd->label_col == NO_COLUMN ? NO_COLUMN : rd->label_col + skip;
    const size_t weight = rd->weight_col == NO_COLUMN ? NO_COLUMN : rd->weight_col + skip;
    if (delim == CSM_DELIM_BLANKS || memchr(p, '"', n) || grow_rows(rd) < 0)
        return 1;
    double *row = rd->x + rd->n * rd->k;
    size_t start = 0, col = 0, j = 0;
    rd->y[rd->n] = 0;
    for (size_t i = 0;; i++) {
        if (i < n && p[i] != delim)
            continue;
        if (col == ncols)
            return 1;
        size_t s = start, e = i;
        while (s < e && csv_is_pad(p[s], delim))
            s++;
        while (e > s && csv_is_pad(p[e - 1], delim))
            e--;
        /* NUL-terminated for strtod's rare turn, then as it was */
        char saved = p[e];
        p[e] = '\0';
        int rc = CSM_NUM_OK;
        if (col == label)
            rc = take_label(rd, p + s, e - s, &rd->y[rd->n]);
        else if (col == weight)
            rc = csm_parse_double(p + s, e - s, &rd->w[rd->n]) != CSM_NUM_OK ||
                 rd->w[rd->n] < 0;
        else if (col < skip)
            rc = CSM_NUM_OK;
        else
            rc = csm_parse_double(p + s, e - s, &row[j++]);
        p[e] = saved;
        if (rc != CSM_NUM_OK)
            return 1;
        col++;
        if (i == n)
            break;
        start = i + 1;
    }
    if (col != ncols)
        return 1;
    rd->n++;
    return 0;
}

/* ---------------------------------------------------------------- finish */

/* The first row was data whose label no other row has: it was a header
 * after all (the rule's last case). Drops it and its label name. */
static int drop_first_row(csv_reader *rd, csm_table *out)
{
    int64_t h = rd->y[0];
    memmove(rd->x, rd->x + rd->k, (rd->n - 1) * rd->k * sizeof *rd->x);
    memmove(rd->y, rd->y + 1, (rd->n - 1) * sizeof *rd->y);
    if (rd->w)
        memmove(rd->w, rd->w + 1, (rd->n - 1) * sizeof *rd->w);
    rd->n--;
    free(out->label_names[h]);
    memmove(out->label_names + h, out->label_names + h + 1,
            (out->n_label_names - (size_t)h - 1) * sizeof *out->label_names);
    out->n_label_names--;
    for (size_t i = 0; i < rd->n; i++)
        rd->y[i] -= rd->y[i] > h;
    return 0;
}

static int count_label(const csv_reader *rd, int64_t label)
{
    size_t c = 0;
    for (size_t i = 0; i < rd->n && c < 2; i++)
        c += rd->y[i] == label;
    return (int)c;
}

/* The header names of the feature and label columns, copied into out. */
static int copy_names(const csv_reader *rd, csm_table *out)
{
    if (!rd->names)
        return 0;
    out->k = rd->k; /* so that csm_table_free frees what was copied */
    out->feature_names = calloc(rd->k, sizeof *out->feature_names);
    if (!out->feature_names)
        return -1;
    size_t j = 0;
    for (size_t col = 0; col < rd->ncols; col++) {
        char *copy = strdup(rd->names[col]);
        if (!copy)
            return -1;
        if (col == rd->label_col)
            out->label_name = copy;
        else if (col == rd->weight_col)
            free(copy);
        else
            out->feature_names[j++] = copy;
    }
    return 0;
}

static void *shrink(void *p, size_t bytes)
{
    void *q = bytes ? realloc(p, bytes) : NULL;
    return q ? q : p;
}

int csm_read_csv(csm_stream *s, const csm_read_options *opt, csm_table *out)
{
    if (opt->label_column < -1)
        return csm_fail_file(s->err, s->err_len, s->path,
                             "label column %d is invalid (counted from 0, or -1 for the last)",
                             opt->label_column);
    csv_reader rd;
    memset(&rd, 0, sizeof rd);
    rd.s = s;
    rd.opt = opt;
    csv_record first = {0}, rec = {0}, names_from = {0};
    csv_record *win = calloc(CSV_WINDOW, sizeof *win);
    size_t nwin = 0;
    char *comment = NULL;
    int ok = 0, header = 0, pending = 0, rc;
    csm_table t;
    memset(&t, 0, sizeof t);
    if (!win) {
        csm_fail_file(s->err, s->err_len, s->path, "out of memory");
        goto done;
    }
    if ((rc = first_record(&rd, &first, &comment)) < 0)
        goto done;
    if (rc == 0) {
        fail_at(&rd, s->line + 1, "no samples (the file is empty)");
        goto done;
    }
    while (nwin < CSV_WINDOW && (rc = next_record(&rd, &win[nwin])) > 0) {
        if (csv_record_own(&win[nwin]) < 0) {
            fail_at(&rd, win[nwin].line, "out of memory");
            goto done;
        }
        nwin++;
    }
    if (rc < 0 || (header = decide_header(&rd, &first, win, nwin, &pending)) < 0)
        goto done;
    if (header && take_names(&rd, &first) < 0)
        goto oom;
    if (!header && comment && opt->header != 0) {
        /* savetxt(header=...) writes "# a b c", whatever its delimiter */
        size_t len = strlen(comment);
        char *copy = strdup(comment);
        if (!copy || csv_split(&names_from, comment, len, rd.delim) < 0 ||
            (names_from.nf != rd.ncols &&
             csv_split(&names_from, memcpy(comment, copy, len + 1), len, CSM_DELIM_BLANKS) < 0)) {
            free(copy);
            goto oom;
        }
        free(copy);
        if (take_names(&rd, &names_from) < 0)
            goto oom;
    }
    if (!header)
        rd.first_data_line = first.line;
    if (!header && parse_row(&rd, &first) < 0)
        goto done;
    for (size_t r = 0; r < nwin; r++)
        if (parse_row(&rd, &win[r]) < 0)
            goto done;
    char *line;
    size_t len;
    while ((rc = next_line(&rd, 1, &line, &len)) > 0) {
        if (plain_row(&rd, line, len) == 0)
            continue;
        if (assemble(&rd, line, len, &rec) < 0 || parse_row(&rd, &rec) < 0)
            goto done;
    }
    if (rc < 0)
        goto done;
    if (rd.strings &&
        csm_label_dict_finish(&rd.dict, rd.y, rd.n, &t.label_names, &t.n_label_names) < 0)
        goto oom;
    if (pending && rd.strings && count_label(&rd, rd.y[0]) == 1) {
        drop_first_row(&rd, &t);
        header = 1;
        t.header_by_label = 1;
        if (take_names(&rd, &first) < 0)
            goto oom;
    }
    if (rd.n == 0) {
        fail_at(&rd, s->line + 1, "no samples (only a header line)");
        goto done;
    }
    if (copy_names(&rd, &t) < 0)
        goto oom;
    ok = 1;
    goto done;
oom:
    csm_fail_file(s->err, s->err_len, s->path, "out of memory");
done:
    csm_label_dict_free(&rd.dict);
    csv_record_free(&first);
    csv_record_free(&rec);
    csv_record_free(&names_from);
    for (size_t r = 0; win && r < nwin + (nwin < CSV_WINDOW); r++)
        csv_record_free(&win[r]);
    free(win);
    free(comment);
    free(rd.join);
    free(rd.below);
    free(rd.names);
    if (!ok) {
        csm_table_free(&t);
        free(rd.x);
        free(rd.y);
        free(rd.w);
        return -1;
    }
    t.n = rd.n;
    t.k = rd.k;
    t.dtype = CSM_DTYPE_F64;
    t.features = shrink(rd.x, rd.n * rd.k * sizeof *rd.x); /* the slack of the growth */
    t.labels = shrink(rd.y, rd.n * sizeof *rd.y);
    t.weights = rd.w ? shrink(rd.w, rd.n * sizeof *rd.w) : NULL;
    t.unlabeled = rd.unlabeled;
    t.delimiter = rd.delim;
    t.header = header;
    t.row_names = rd.row_names;
    *out = t;
    return 0;
}
