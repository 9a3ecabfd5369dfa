/* The format of a file whose name does not tell (liblinear's `heart_scale`,
 * `a9a`, a libsvm file called `.txt`): its first bytes decide. IDX has a
 * magic number; libsvm and CSV are told apart by the first data line, the
 * one a reader would parse first. */
#include "read_internal.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

/* How many bytes the guess looks at: several lines of any sensible file. */
#define SNIFF_BYTES 4096

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

/* One line [p, p+n) without its newline: libsvm, CSV, or AUTO (not sure). */
static csm_format sniff_line(const unsigned char *p, size_t n)
{
    /* delimiters before a libsvm comment (" # ...", which may hold any) */
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '#' && (i == 0 || p[i - 1] == ' ' || p[i - 1] == '\t'))
            break;
        if (p[i] == ',' || p[i] == ';')
            return CSM_FORMAT_CSV;
    }
    /* whitespace-separated tokens: the first or the second one a pair */
    const unsigned char *tok[2];
    size_t len[2], nt = 0, i = 0;
    while (nt < 2) {
        while (i < n && (p[i] == ' ' || p[i] == '\t'))
            i++;
        if (i == n || p[i] == '#')
            break;
        tok[nt] = p + i;
        while (i < n && p[i] != ' ' && p[i] != '\t')
            i++;
        len[nt] = (size_t)(p + i - tok[nt]);
        nt++;
    }
    if ((nt >= 1 && is_pair(tok[0], len[0])) || (nt == 2 && is_pair(tok[1], len[1])))
        return CSM_FORMAT_LIBSVM;
    /* a label alone is a libsvm sample with no non-zero feature */
    if (nt == 1 && is_number_like(tok[0], len[0]))
        return CSM_FORMAT_LIBSVM;
    if (memchr(p, '\t', n))
        return CSM_FORMAT_CSV;
    return CSM_FORMAT_AUTO;
}

csm_format csm_sniff_format(const unsigned char *head, size_t n)
{
    if (is_idx_magic(head, n))
        return CSM_FORMAT_IDX;
    size_t at = 0;
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
        /* blank lines and libsvm comments say nothing */
        if (s < at + len && head[s] != '#') {
            /* a line cut by the end of the sample still has its start */
            return sniff_line(head + at, len);
        }
        if (!nl)
            break;
        at = end + 1;
    }
    return CSM_FORMAT_AUTO;
}

int csm_guess_format(const char *path, csm_format *out, const char **why, char *err,
                     size_t err_len)
{
    csm_stream s;
    unsigned char head[SNIFF_BYTES];
    size_t got = 0;
    struct stat sb;
    *out = csm_detect_format(path);
    *why = "the file name";
    /* A path that is not there gets the stream's own message, as before. */
    if (stat(path, &sb) != 0) {
        int e = errno;
        if (csm_stream_open(&s, path, NULL, err, err_len) < 0)
            return -1;
        csm_stream_close(&s);
        return csm_fail_file(err, err_len, path, "cannot stat: %s", strerror(e));
    }
    /* the name tells: the reader opens the file, once (a named pipe opened
     * twice would lose its writer's data to the first open) */
    if (*out != CSM_FORMAT_AUTO)
        return 0;
    /* Sniffing consumes what it reads of a pipe or device, and the reader
     * opens the path again: only regular files are guessed. */
    if (!S_ISREG(sb.st_mode))
        return csm_fail_file(err, err_len, path,
                             "cannot tell the format from the file name (.csv, .tsv, .svm, "
                             ".libsvm, .svmlight or an IDX name such as "
                             "train-images-idx3-ubyte, optionally .gz), and a pipe or device "
                             "cannot be read twice to guess from its content; pass --format "
                             "csv|libsvm|idx");
    if (csm_stream_open(&s, path, NULL, err, err_len) < 0)
        return -1;
    int rc = csm_stream_read(&s, head, sizeof head, &got);
    csm_stream_close(&s);
    if (rc < 0)
        return -1;
    *why = "the content";
    *out = csm_sniff_format(head, got);
    if (*out == CSM_FORMAT_AUTO)
        return csm_fail_file(err, err_len, path,
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
    else
        return -1;
    return 0;
}

const char *csm_delimiter_name(int delimiter)
{
    return delimiter == ',' ? "," : delimiter == ';' ? ";" : delimiter == '\t' ? "tab" : "auto";
}
