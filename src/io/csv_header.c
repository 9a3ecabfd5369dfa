/* Whether the first row of a CSV file is a header, by content: a header is
 * a row whose fields have another type than the values of their columns
 * below it. pandas writes `0,1,2,3,y` over floats and class names (an
 * integer name over floats; text over numbers), R writes quoted names;
 * with an all-text label column, the label of a header is text that no
 * other row has. The same kinds of fields tell which columns could hold
 * labels, for the message of a label that is not one. */
#include "csv_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int csv_is_missing(const char *p, size_t n)
{
    /* pandas' default na_values, and R's NA */
    static const char *const na[] = {"NA",   "N/A",  "n/a",  "NaN",  "nan", "-nan", "-NaN",
                                     "null", "NULL", "None", "<NA>", "#N/A", "#NA", "-1.#IND",
                                     "1.#QNAN", "-1.#QNAN", "1.#IND", "#N/A N/A", "NA_character_"};
    for (size_t i = 0; i < sizeof na / sizeof *na; i++)
        if (strlen(na[i]) == n && memcmp(na[i], p, n) == 0)
            return 1;
    return 0;
}

int csv_kind(const char *p, size_t n)
{
    if (n == 0)
        return CSV_EMPTY;
    size_t i = p[0] == '+' || p[0] == '-';
    size_t digits = 0;
    while (i + digits < n && p[i + digits] >= '0' && p[i + digits] <= '9')
        digits++;
    if (digits > 0 && i + digits == n)
        return CSV_INT;
    double v;
    int rc = csm_parse_double(p, n, &v);
    if (rc == CSM_NUM_OK)
        return v == floor(v) ? CSV_INTEGRAL : CSV_FRACTION;
    if (rc == CSM_NUM_NONFINITE || rc == CSM_NUM_RANGE || csv_is_missing(p, n))
        return CSV_MISSING;
    return CSV_TEXT;
}

/* Whether a field of kind `top` over a column of kinds `below` makes the
 * row a header: text over numbers, an integer over a column that also has
 * non-integer numbers (pandas' 0, 1, 2 over floats). A missing value or an
 * empty field says nothing: a data row may have one, and it is an error of
 * its own. */
static int odd_field(int top, unsigned below)
{
    if (!(below & CSV_NUMBER))
        return 0;
    if (top == CSV_TEXT)
        return !(below & CSV_TEXT);
    if (top == CSV_INT)
        return (below & (CSV_INTEGRAL | CSV_FRACTION)) && !(below & (CSV_INT | CSV_TEXT));
    return 0;
}

int csv_classify_first_row(const csv_record *first, const unsigned *below, size_t ncols,
                           size_t label_col, int label_seen)
{
    if (first->nf != ncols)
        return CSV_ROW_DATA; /* the reader handles a row of another width */
    /* Names are integers or text: a row with a value such as 5.1 or 2.0
     * in it is data, whatever its integers and its label say (savetxt's
     * %g and R write 2 for 2.0, so an integer over floats alone proves
     * nothing in such a row). Text over numbers is a header anyway. */
    unsigned kinds = 0;
    for (size_t j = 0; j < ncols; j++)
        kinds |= (unsigned)csv_kind(first->f[j].p, first->f[j].n);
    int like_names = !(kinds & (CSV_INTEGRAL | CSV_FRACTION | CSV_MISSING));
    for (size_t j = 0; j < ncols; j++) {
        int top = csv_kind(first->f[j].p, first->f[j].n);
        /* fractions in the label column are an error or class names
         * (fraction_labels), not floats below a name */
        if (odd_field(top, below[j]) && (top == CSV_TEXT || (like_names && j != label_col)))
            return CSV_ROW_HEADER;
    }
    if (like_names && label_col < ncols && below[label_col] == CSV_TEXT && !label_seen &&
        csv_kind(first->f[label_col].p, first->f[label_col].n) == CSV_TEXT)
        return CSV_ROW_LABEL_UNIQUE;
    return CSV_ROW_DATA;
}

void csv_label_hint(char *buf, size_t len, const unsigned *below, size_t ncols, size_t label_col,
                    char *const *names)
{
    size_t used = 0, shown = 0;
    int w = snprintf(buf, len, "; --label-column N (counted from 0) or 'last' picks the label "
                               "column");
    if (w < 0 || (size_t)w >= len)
        return;
    used = (size_t)w;
    for (size_t j = 0; j < ncols && used + 1 < len; j++) {
        /* integers or text, nothing fractional or missing */
        if (j == label_col || !below[j] || (below[j] & ~(unsigned)(CSV_INT | CSV_INTEGRAL |
                                                                   CSV_TEXT)))
            continue;
        if (shown == 8) {
            snprintf(buf + used, len - used, ", ...");
            return;
        }
        w = snprintf(buf + used, len - used, "%s %zu", shown ? "," : "; columns of integers or "
                                                                     "text:", j);
        if (w < 0)
            return;
        used += (size_t)w;
        if (names && names[j] && used + 1 < len) {
            char q[48];
            w = snprintf(buf + used, len - used, " (%s)", csm_quote(q, sizeof q, names[j],
                                                                    strlen(names[j])));
            if (w < 0)
                return;
            used += (size_t)w;
        }
        shown++;
    }
    if (!shown && used + 1 < len)
        snprintf(buf + used, len - used, "; no column holds only integers or text");
}
