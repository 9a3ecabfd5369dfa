/* The format of a file: its name tells (.csv, .svm, ...-ubyte); where it
 * does not (liblinear's `heart_scale`, `a9a`, a libsvm file called `.txt`)
 * its first bytes decide. IDX has a magic number; libsvm and CSV are told
 * apart by the first data line, the one a reader would parse first. */
#include "read_internal.h"

#include <ctype.h>
#include <string.h>

/* How many bytes the guess looks at: several lines of any sensible file. */
#define SNIFF_BYTES 4096

static int ends_with_ci(const char *s, size_t n, const char *suffix)
{
    size_t m = strlen(suffix);
    if (m > n)
        return 0;
    for (size_t i = 0; i < m; i++) {
        if (tolower((unsigned char)s[n - m + i]) != tolower((unsigned char)suffix[i]))
            return 0;
    }
    return 1;
}

static int contains_ci(const char *s, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++) {
        size_t j = 0;
        while (j < m && tolower((unsigned char)s[i + j]) == tolower((unsigned char)needle[j]))
            j++;
        if (j == m)
            return 1;
    }
    return 0;
}

csm_format csm_detect_format(const char *path)
{
    if (!path)
        return CSM_FORMAT_AUTO;
    /* only the file's own name counts: a directory called "idx" says
     * nothing about the files in it */
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (ends_with_ci(base, n, ".gz"))
        n -= 3;
    if (ends_with_ci(base, n, ".csv") || ends_with_ci(base, n, ".tsv"))
        return CSM_FORMAT_CSV;
    if (ends_with_ci(base, n, ".svm") || ends_with_ci(base, n, ".libsvm") ||
        ends_with_ci(base, n, ".svmlight"))
        return CSM_FORMAT_LIBSVM;
    if (contains_ci(base, n, "idx") || contains_ci(base, n, "-ubyte"))
        return CSM_FORMAT_IDX;
    return CSM_FORMAT_AUTO;
}

static int is_idx_magic(const unsigned char *h, size_t n)
{
    if (n < 4 || h[0] != 0 || h[1] != 0)
        return 0;
    int type = h[2];
    int known = type == 0x08 || type == 0x09 || type == 0x0B || type == 0x0C || type == 0x0D ||
                type == 0x0E;
    return known && h[3] >= 1 && h[3] <= 3;
}

/* An INDEX:VALUE token: digits, a colon, then something. */
static int is_pair(const unsigned char *t, size_t n)
{
    size_t i = 0;
    while (i < n && t[i] >= '0' && t[i] <= '9')
        i++;
    if (i == 0 && n > 4 && memcmp(t, "qid:", 4) == 0)
        return 1; /* svmlight's query id */
    return i > 0 && i + 1 < n && t[i] == ':';
}

/* A token that reads as a number: sign, digits, '.', exponent. */
static int is_number_like(const unsigned char *t, size_t n)
{
    int digits = 0;
    for (size_t i = 0; i < n; i++) {
        if (t[i] >= '0' && t[i] <= '9')
            digits = 1;
        else if (!strchr("+-.eE", t[i]))
            return 0;
    }
    return digits;
}

/* A token [t, t+n) of a whitespace-separated line that reads as a number,
 * quoted or not (R's write.table quotes its row names: "1"). */
static int is_value(const unsigned char *t, size_t n)
{
    if (n >= 2 && t[0] == '"' && t[n - 1] == '"') {
        t++;
        n -= 2;
    }
    return is_number_like(t, n);
}

/* One line [p, p+n) without its newline: libsvm, CSV, or AUTO (not sure:
 * a line of words only, such as a header). After a line of words
 * (`after_words`) only numbers separated by blanks tell: R's write.table
 * writes a header of words over them, and text of another kind (a script,
 * a README) has lines of words with commas in them too. */
static csm_format sniff_line(const unsigned char *p, size_t n, int after_words)
{
    /* delimiters before a libsvm comment (" # ...", which may hold any) */
    for (size_t i = 0; i < n && !after_words; i++) {
        if (p[i] == '#' && (i == 0 || p[i - 1] == ' ' || p[i - 1] == '\t'))
            break;
        if (p[i] == ',' || p[i] == ';')
            return CSM_FORMAT_CSV;
    }
    /* whitespace-separated tokens: libsvm when the first or the second is
     * a pair */
    size_t nt = 0, values = 0, i = 0;
    int pair = 0;
    while (i < n) {
        while (i < n && (p[i] == ' ' || p[i] == '\t'))
            i++;
        if (i == n || p[i] == '#')
            break;
        const unsigned char *tok = p + i;
        while (i < n && p[i] != ' ' && p[i] != '\t')
            i++;
        size_t len = (size_t)(p + i - tok);
        if (nt < 2 && is_pair(tok, len))
            pair = 1;
        values += is_value(tok, len);
        nt++;
    }
    if (after_words) /* numbers separated by blanks, nothing else */
        return !pair && nt >= 2 && values > 0 && !memchr(p, ',', n) && !memchr(p, ';', n)
                   ? CSM_FORMAT_CSV
                   : CSM_FORMAT_AUTO;
    if (pair)
        return CSM_FORMAT_LIBSVM;
    /* a label alone is a libsvm sample with no non-zero feature */
    if (nt == 1 && values == 1)
        return CSM_FORMAT_LIBSVM;
    if (memchr(p, '\t', n))
        return CSM_FORMAT_CSV;
    /* numbers separated by blanks, and no pair: NumPy's savetxt, R's
     * write.table */
    if (nt >= 2 && values > 0)
        return CSM_FORMAT_CSV;
    return CSM_FORMAT_AUTO;
}

/* How many lines of words alone (a header) may come before the line that
 * tells. */
#define SNIFF_HEADER_LINES 1

csm_format csm_sniff_format(const unsigned char *head, size_t n)
{
    if (is_idx_magic(head, n))
        return CSM_FORMAT_IDX;
    size_t at = 0, words = 0;
    if (n >= 3 && memcmp(head, "\xEF\xBB\xBF", 3) == 0)
        at = 3;
    while (at < n) {
        const unsigned char *nl = memchr(head + at, '\n', n - at);
        size_t end = nl ? (size_t)(nl - head) : n;
        size_t len = end - at;
        if (len > 0 && head[at + len - 1] == '\r')
            len--;
        size_t s = at;
        while (s < at + len && (head[s] == ' ' || head[s] == '\t'))
            s++;
        /* blank lines and comments (libsvm's, NumPy's header) say nothing;
         * a line cut by the end of the sample still has its start */
        if (s < at + len && head[s] != '#') {
            csm_format f = sniff_line(head + at, len, words > 0);
            if (f != CSM_FORMAT_AUTO || ++words > SNIFF_HEADER_LINES)
                return f;
        }
        if (!nl)
            break;
        at = end + 1;
    }
    return CSM_FORMAT_AUTO;
}

int csm_stream_guess_format(csm_stream *s, csm_format *out)
{
    const unsigned char *head;
    size_t got = 0;
    if (csm_stream_peek(s, SNIFF_BYTES, &head, &got) < 0)
        return -1;
    *out = csm_sniff_format(head, got);
    /* a damaged .gz that tells nothing before the damage: the damage is
     * the news */
    if (*out == CSM_FORMAT_AUTO && s->failed)
        return csm_fail_file(s->err, s->err_len, s->path, "%s", s->why);
    if (*out == CSM_FORMAT_AUTO)
        return csm_fail_file(s->err, s->err_len, s->path,
                             "cannot tell the format from the file name (.csv, .tsv, .svm, "
                             ".libsvm, .svmlight or an IDX name such as "
                             "train-images-idx3-ubyte, optionally .gz) nor from the content "
                             "(%s); pass --format csv|libsvm|idx",
                             got == 0 ? "the file is empty" : "neither IDX, libsvm nor CSV");
    return 0;
}

int csm_parse_delimiter(const char *name, int *out)
{
    if (!name)
        return -1;
    if (!strcmp(name, "auto"))
        *out = 0;
    else if (!strcmp(name, ","))
        *out = ',';
    else if (!strcmp(name, ";"))
        *out = ';';
    else if (!strcmp(name, "tab") || !strcmp(name, "\t"))
        *out = '\t';
    else if (!strcmp(name, "blank") || !strcmp(name, " "))
        *out = CSM_DELIM_BLANKS;
    else
        return -1;
    return 0;
}

const char *csm_delimiter_name(int delimiter)
{
    return delimiter == ','                ? ","
           : delimiter == ';'              ? ";"
           : delimiter == '\t'             ? "tab"
           : delimiter == CSM_DELIM_BLANKS ? "blank"
                                           : "auto";
}
