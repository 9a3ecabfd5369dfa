/* CSV records as RFC 4180 has them, and as pandas, R and NumPy write them:
 * fields separated by one delimiter (',', ';', tab) or by runs of blanks
 * (savetxt, write.table); a field may be quoted, and then holds
 * delimiters, line breaks and doubled quotes (""). A quote opens a quoted
 * field only at the start of a field (after blanks); elsewhere it is an
 * ordinary character (5'11", as pandas reads it). Text after a closing
 * quote joins the field, as in pandas and Python's csv. */
#include "csv_internal.h"

#include <stdlib.h>
#include <string.h>

void csv_record_free(csv_record *r)
{
    free(r->f);
    free(r->text);
    memset(r, 0, sizeof *r);
}

/* A character of a number: digits, sign, point, exponent. */
static int numeric_char(char c)
{
    return (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-';
}

char csv_detect_delimiter(const char *p, size_t n)
{
    static const char cand[] = {',', '\t', ';'};
    size_t count[3] = {0, 0, 0}, fields_by_blanks = 0;
    int open = 0, in_field = 0, all_numbers = 1;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '"') {
            open = !open; /* "" toggles twice: an escaped quote stays inside */
            all_numbers = 0;
        }
        if (open)
            continue;
        for (int c = 0; c < 3; c++)
            count[c] += p[i] == cand[c];
        /* fields between blanks, for the blank-separated case */
        if (csv_is_blank(p[i])) {
            in_field = 0;
        } else {
            all_numbers &= numeric_char(p[i]);
            if (!in_field) {
                in_field = 1;
                fields_by_blanks++;
            }
        }
    }
    int best = 0;
    for (int c = 1; c < 3; c++) {
        if (count[c] > count[best])
            best = c;
    }
    /* tabs and spaces both between numbers (savetxt with a tab in its
     * format, aligned columns): blanks; a tab-separated row whose fields
     * hold spaces ("Iris setosa") keeps the tab */
    if (cand[best] == '\t' && count[best] && all_numbers && fields_by_blanks > count[best] + 1)
        return CSM_DELIM_BLANKS;
    if (count[best])
        return cand[best];
    return fields_by_blanks >= 2 ? CSM_DELIM_BLANKS : 0;
}

const char *csv_delimiter_name(char delim)
{
    switch (delim) {
    case ',':
        return "','";
    case ';':
        return "';'";
    case '\t':
        return "tab";
    case CSM_DELIM_BLANKS:
        return "blanks";
    }
    return "none";
}

int csv_quote_open(const char *p, size_t n, char delim, int open)
{
    int at_start = !open; /* a new line that is not inside quotes starts a field */
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (open) {
            if (c == '"') {
                if (i + 1 < n && p[i + 1] == '"')
                    i++;
                else
                    open = 0;
            }
        } else if (csv_is_delim(c, delim)) {
            at_start = 1;
        } else if (c == '"' && at_start) {
            open = 1;
            at_start = 0;
        } else if (!csv_is_pad(c, delim)) {
            at_start = 0;
        }
    }
    return open;
}

/* A quoted field with doubled quotes or text after its closing quote:
 * its raw text [p, p+n), from the opening quote to the delimiter,
 * rewritten in place. Returns the new length. */
static size_t unquote(char *p, size_t n, char delim)
{
    size_t i = 1, w = 0;
    for (; i < n; i++) {
        if (p[i] == '"' && !(i + 1 < n && p[i + 1] == '"')) {
            i++;
            break;
        }
        i += p[i] == '"'; /* "" is one quote */
        p[w++] = p[i];
    }
    size_t keep = w; /* blanks inside the quotes stay */
    while (i < n)
        p[w++] = p[i++];
    while (w > keep && csv_is_pad(p[w - 1], delim))
        w--;
    return w;
}

/* The field that starts (after its padding) at p[i]: its text into *f,
 * *at past it (at the delimiter or the end). Returns 1 when a quoted field
 * is still open at the end of [p, p+n): the record goes on. */
static int scan_field(const char *p, size_t n, size_t i, char delim, csv_field *f, size_t *at)
{
    size_t start = i;
    f->fix = 0;
    if (i < n && p[i] == '"') {
        for (i++;; i++) {
            if (i == n)
                return 1;
            if (p[i] == '"') {
                if (i + 1 < n && p[i + 1] == '"') {
                    f->fix = 1;
                    i++;
                } else {
                    break;
                }
            }
        }
        size_t close = i++;
        while (i < n && csv_is_pad(p[i], delim))
            i++;
        if (i < n && !csv_is_delim(p[i], delim)) {
            f->fix = 1; /* text after the closing quote joins the field */
            while (i < n && !csv_is_delim(p[i], delim))
                i++;
        }
        if (f->fix) {
            f->n = i - start; /* raw, for unquote() */
        } else {
            start++;
            f->n = close - start;
        }
    } else {
        while (i < n && !csv_is_delim(p[i], delim))
            i++;
        size_t end = i;
        while (end > start && csv_is_pad(p[end - 1], delim))
            end--;
        f->n = end - start;
    }
    f->p = (char *)p + start;
    *at = i;
    return 0;
}

/* A record without quotes, fields between single delimiters: the common
 * case, one pass and no per-field call (the tokenizing is a third of
 * reading a numeric CSV, the numbers the rest). */
static int split_plain(csv_record *r, char *p, size_t n, char delim)
{
    size_t start = 0;
    for (size_t i = 0;; i++) {
        if (i < n && p[i] != delim)
            continue;
        size_t s = start, e = i;
        while (s < e && csv_is_pad(p[s], delim))
            s++;
        while (e > s && csv_is_pad(p[e - 1], delim))
            e--;
        if (r->nf == r->cap_f &&
            csm_grow((void **)&r->f, &r->cap_f, r->nf + 1, sizeof *r->f) < 0)
            return -1;
        r->f[r->nf].p = p + s;
        r->f[r->nf].n = e - s;
        r->nf++;
        p[e] = '\0'; /* the delimiter, a blank, or p[n] */
        if (i == n)
            return 0;
        start = i + 1;
    }
}

/* Two passes: the first finds the fields without writing, so that a line
 * that ends inside quotes is still intact for the lines that continue it;
 * the second unquotes and NUL-terminates in place. */
int csv_split(csv_record *r, char *p, size_t n, char delim)
{
    size_t i = 0;
    int blanks = delim == CSM_DELIM_BLANKS;
    r->nf = 0;
    if (!blanks && !memchr(p, '"', n))
        return split_plain(r, p, n, delim);
    for (;;) {
        while (i < n && (csv_is_pad(p[i], delim) || (blanks && csv_is_blank(p[i]))))
            i++;
        if (blanks && i == n)
            break; /* blanks before the first field or after the last */
        if (r->nf == r->cap_f &&
            csm_grow((void **)&r->f, &r->cap_f, r->nf + 1, sizeof *r->f) < 0)
            return -1;
        if (scan_field(p, n, i, delim, &r->f[r->nf], &i))
            return 1;
        r->nf++;
        if (i >= n)
            break;
        i++; /* past the delimiter */
    }
    for (size_t f = 0; f < r->nf; f++) {
        csv_field *x = &r->f[f];
        if (x->fix)
            x->n = unquote(x->p, x->n, delim);
        x->p[x->n] = '\0'; /* a delimiter, a quote, a blank, or p[n] */
    }
    return 0;
}

int csv_record_own(csv_record *r)
{
    size_t total = 1;
    for (size_t i = 0; i < r->nf; i++)
        total += r->f[i].n + 1;
    char *t = malloc(total);
    if (!t)
        return -1;
    size_t at = 0;
    for (size_t i = 0; i < r->nf; i++) {
        memcpy(t + at, r->f[i].p, r->f[i].n + 1); /* with its NUL */
        r->f[i].p = t + at;
        at += r->f[i].n + 1;
    }
    free(r->text);
    r->text = t;
    r->cap = total;
    return 0;
}

void csv_record_drop_first(csv_record *r)
{
    if (r->nf == 0)
        return;
    memmove(r->f, r->f + 1, (r->nf - 1) * sizeof *r->f);
    r->nf--;
}
