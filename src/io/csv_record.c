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

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Whether c ends a field: the delimiter, or any blank when blanks are. */
static int is_delim(char c, char delim)
{
    return c == delim || (delim == CSM_DELIM_BLANKS && c == '\t');
}

/* Blanks around a field that are not its delimiter. */
static int is_pad(char c, char delim)
{
    return c == ' ' || (c == '\t' && delim != '\t');
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
        if (is_blank(p[i])) {
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
        } else if (is_delim(c, delim)) {
            at_start = 1;
        } else if (c == '"' && at_start) {
            open = 1;
            at_start = 0;
        } else if (!is_pad(c, delim)) {
            at_start = 0;
        }
    }
    return open;
}

static int add_field(csv_record *r, char *p, size_t n)
{
    if (r->nf == r->cap_f &&
        csm_grow((void **)&r->f, &r->cap_f, r->nf + 1, sizeof *r->f) < 0)
        return -1;
    r->f[r->nf].p = p;
    r->f[r->nf].n = n;
    r->nf++;
    return 0;
}

int csv_split(csv_record *r, char *p, size_t n, char delim)
{
    size_t i = 0;
    int blanks = delim == CSM_DELIM_BLANKS;
    r->nf = 0;
    if (blanks) {
        while (i < n && is_blank(p[i]))
            i++;
        if (i == n)
            return 0; /* nothing but blanks: no field */
    }
    for (;;) {
        while (i < n && is_pad(p[i], delim))
            i++;
        char *start = p + i, *w = start;
        char *keep = start; /* the end of what trimming may not remove */
        if (i < n && p[i] == '"') {
            for (i++; i < n; i++) {
                if (p[i] == '"') {
                    if (i + 1 < n && p[i + 1] == '"') {
                        i++;
                    } else {
                        i++;
                        break;
                    }
                }
                *w++ = p[i];
            }
            keep = w;
        }
        /* an unquoted field, or what follows a closing quote */
        while (i < n && !is_delim(p[i], delim))
            *w++ = p[i++];
        while (w > keep && is_pad(w[-1], delim))
            w--;
        char *end_of_field = p + i;
        *w = '\0'; /* w <= p + i: the delimiter, or the spare byte at p[n] */
        if (add_field(r, start, (size_t)(w - start)) < 0)
            return -1;
        if (end_of_field == p + n)
            return 0;
        i++; /* past the delimiter */
        if (blanks) {
            while (i < n && is_blank(p[i]))
                i++;
            if (i == n)
                return 0; /* trailing blanks end the record */
        }
    }
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
