/* Private to the CSV reader (read_csv.c): RFC 4180 records taken from the
 * line stream (csv_record.c), and the kinds of fields that decide whether
 * the first row is a header and which columns could hold labels
 * (csv_header.c). */
#ifndef CSM_CSV_INTERNAL_H
#define CSM_CSV_INTERNAL_H

#include "read_internal.h"

/* One field of a record: unquoted ("" -> "), trimmed of the blanks around
 * it, NUL-terminated in place. */
typedef struct csv_field {
    char *p;
    size_t n;
    int fix;   /* while splitting: quoted with "" or text after the quote */
} csv_field;

/* A record: the fields of one row, which may span lines when a quoted
 * field holds a line break. The fields point into the stream's buffer
 * (valid until the next record) or into `text`, the record's own copy. */
typedef struct csv_record {
    csv_field *f;     /* (nf) */
    size_t nf, cap_f;
    size_t line;      /* the line the record starts on, 1-based */
    char *text;       /* own copy of a record of several lines, or a kept one */
    size_t cap;
} csv_record;

void csv_record_free(csv_record *r);

static inline int csv_is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Whether c ends a field: the delimiter, or any blank when blanks are. */
static inline int csv_is_delim(char c, char delim)
{
    return c == delim || (delim == CSM_DELIM_BLANKS && c == '\t');
}

/* Blanks around a field that are not its delimiter (trimmed). */
static inline int csv_is_pad(char c, char delim)
{
    return delim != CSM_DELIM_BLANKS && (c == ' ' || (c == '\t' && delim != '\t'));
}

/* The delimiter of the first row [p, p+n): the most frequent of ',', ';'
 * and tab outside quotes (ties in that order), else CSM_DELIM_BLANKS when
 * blanks separate two fields, else 0. */
char csv_detect_delimiter(const char *p, size_t n);
/* "','", "';'", "tab", "blanks" or "none", for messages. */
const char *csv_delimiter_name(char delim);

/* Whether a quoted field opened in [p, p+n) (with `open` carried from the
 * lines before) is still open at its end: the record goes on. */
int csv_quote_open(const char *p, size_t n, char delim, int open);

/* Splits the record text [p, p+n) in place into r's fields (p[n] must be
 * writable). Returns 0; 1, leaving the text as it was, when a quoted field
 * is still open at its end (the record goes on, on the next line); -1
 * when memory is short. */
int csv_split(csv_record *r, char *p, size_t n, char delim);

/* Copies r's fields into r->text, so that they outlive the stream's
 * buffer (the first rows, kept to decide the header). Returns -1 when
 * memory is short. */
int csv_record_own(csv_record *r);
/* Leaves out field 0 (row names). */
void csv_record_drop_first(csv_record *r);

/* The kind of a field's text, as bits so that a column's kinds combine. */
enum {
    CSV_EMPTY = 1,     /* "" */
    CSV_INT = 2,       /* digits with an optional sign: 42, -1 */
    CSV_INTEGRAL = 4,  /* any other number of integral value: 2.0, 1e3 */
    CSV_FRACTION = 8,  /* a number with a fractional part: 6.3 */
    CSV_MISSING = 16,  /* NA, NaN, null, inf: a missing or non-finite value */
    CSV_TEXT = 32      /* anything else: setosa, x1 */
};
#define CSV_NUMBER (CSV_INT | CSV_INTEGRAL | CSV_FRACTION)
int csv_kind(const char *p, size_t n);

/* Whether [p, p+n) is one of the texts pandas and R write for a missing
 * value (NA, NaN, N/A, null, None, ...). */
int csv_is_missing(const char *p, size_t n);

/* What the first row is, from the kinds of its fields and of the rows
 * below it (the look-ahead window). */
enum {
    CSV_ROW_DATA = 0,
    CSV_ROW_HEADER,        /* a field has another type than its column below */
    CSV_ROW_LABEL_UNIQUE   /* only the label is odd: text no row below repeats;
                              the whole file must tell (read_csv.c) */
};
/* first: the first row; below: (ncols) the OR of the kinds of each column
 * over the window; label_col: SIZE_MAX for none; label_seen: whether the
 * first row's label text occurs in the window. */
int csv_classify_first_row(const csv_record *first, const unsigned *below, size_t ncols,
                           size_t label_col, int label_seen);

/* "; --label-column N (counted from 0) or last picks the label column;
 * columns that could be: 4 ('species'), ..." from the column kinds
 * `below` (ncols) and the header names (may be NULL), into buf. */
void csv_label_hint(char *buf, size_t len, const unsigned *below, size_t ncols, size_t label_col,
                    char *const *names);

#endif
