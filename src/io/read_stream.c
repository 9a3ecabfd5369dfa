/* The input stream under every reader: zlib's gzopen/gzread, which read
 * gzipped and plain files alike, pulled in large chunks (byte-at-a-time
 * reads would make a 47 MB MNIST file take seconds), plus the helpers that
 * format "FILE:LINE: reason" and "FILE: byte OFFSET: reason" messages. */
#include "read_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Bytes requested per gzread: large enough that zlib's per-call cost
 * vanishes, small enough to keep the line buffer modest. */
#define CSM_CHUNK ((size_t)1 << 20)
/* zlib's own input/output buffer; its default (8 KiB) costs ~10% speed. */
#define CSM_GZBUFFER (256u * 1024u)
/* Bytes per gzread call. zlib drops the bytes of a call that hits corrupt
 * data, so this is also how precisely a gzip error is located. */
#define CSM_GZREAD_MAX ((size_t)256 << 10)

/* Where a message points: the whole file, a line, or a byte offset. */
enum { AT_FILE, AT_LINE, AT_BYTE };

static void vformat(char *err, size_t err_len, const char *path, int kind, uint64_t where,
                    const char *fmt, va_list ap)
{
    if (!err || err_len == 0)
        return;
    int n;
    if (kind == AT_LINE)
        n = snprintf(err, err_len, "%s:%llu: ", path, (unsigned long long)where);
    else if (kind == AT_BYTE)
        n = snprintf(err, err_len, "%s: byte %llu: ", path, (unsigned long long)where);
    else
        n = snprintf(err, err_len, "%s: ", path);
    if (n < 0)
        n = 0;
    if ((size_t)n < err_len)
        vsnprintf(err + n, err_len - (size_t)n, fmt, ap);
}

int csm_fail_line(csm_stream *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat(s->err, s->err_len, s->path, AT_LINE, s->line ? s->line : 1, fmt, ap);
    va_end(ap);
    return -1;
}

int csm_fail_byte(char *err, size_t err_len, const char *path, uint64_t offset, const char *fmt,
                  ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat(err, err_len, path, AT_BYTE, offset, fmt, ap);
    va_end(ap);
    return -1;
}

int csm_fail_file(char *err, size_t err_len, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat(err, err_len, path, AT_FILE, 0, fmt, ap);
    va_end(ap);
    return -1;
}

const char *csm_quote(char *out, size_t out_len, const char *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (out_len < 8) {
        if (out_len)
            out[0] = '\0';
        return out;
    }
    out[o++] = '\'';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        /* room for "\xHH", "...'" and the NUL */
        if (o + 4 + 5 > out_len) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out[o++] = (char)c;
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o++] = '\'';
    out[o] = '\0';
    return out;
}

int csm_grow(void **buf, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 64;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            ncap = need;
        else
            ncap *= 2;
    }
    if (ncap > SIZE_MAX / size)
        return -1;
    void *p = realloc(*buf, ncap * size);
    if (!p)
        return -1;
    *buf = p;
    *cap = ncap;
    return 0;
}

const char *csm_path_name(const char *path)
{
    return path && strcmp(path, "-") == 0 ? "<stdin>" : path;
}

/* "-" is standard input, read through a duplicate of descriptor 0 so that
 * closing the stream leaves the process's own stdin open. */
static gzFile open_stdin(void)
{
    int fd = dup(STDIN_FILENO);
    if (fd < 0)
        return NULL;
    gzFile gz = gzdopen(fd, "rb");
    if (!gz)
        close(fd);
    return gz;
}

int csm_stream_open(csm_stream *s, const char *path, char *err, size_t err_len)
{
    memset(s, 0, sizeof *s);
    s->path = csm_path_name(path);
    s->err = err;
    s->err_len = err_len;
    errno = 0;
    s->gz = strcmp(path, "-") == 0 ? open_stdin() : gzopen(path, "rb");
    if (!s->gz) {
        return csm_fail_file(err, err_len, s->path, "cannot open: %s",
                             errno ? strerror(errno) : "out of memory");
    }
    gzbuffer(s->gz, CSM_GZBUFFER);
    return 0;
}

void csm_stream_close(csm_stream *s)
{
    if (s->gz)
        gzclose(s->gz);
    free(s->buf);
    s->gz = NULL;
    s->buf = NULL;
}

/* The zlib error state after a short read: 0 if the file simply ended,
 * else 1 with the reason written to `why`: zlib's text for a damaged gzip
 * stream ("unexpected end of file" when it is cut short, "invalid ..." or
 * "incorrect data check" when corrupt), the system's for a read error. */
static int gz_problem(gzFile gz, const char *path, char *why, size_t why_len)
{
    int code = Z_OK;
    const char *msg = gzerror(gz, &code);
    if (code == Z_OK || code == Z_STREAM_END)
        return 0;
    if (!msg || !*msg)
        msg = "unknown error";
    /* zlib writes "PATH: reason"; our messages name the file already */
    size_t n = strlen(path);
    if (strncmp(msg, path, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
        msg += n + 2;
    if (code == Z_ERRNO)
        snprintf(why, why_len, "read error: %s", msg);
    else
        snprintf(why, why_len, "corrupt or truncated gzip data (zlib: %s)", msg);
    return 1;
}

/* Reads up to `want` bytes at dst; *got is how many arrived, also when it
 * fails. Returns 0, or -1 with the reason in s->why. */
static int gz_fill(csm_stream *s, char *dst, size_t want, size_t *got)
{
    *got = 0;
    while (*got < want) {
        size_t ask = want - *got;
        if (ask > CSM_GZREAD_MAX)
            ask = CSM_GZREAD_MAX;
        int r = gzread(s->gz, dst + *got, (unsigned)ask);
        /* zlib reports a truncated gzip stream as a plain end of file
         * (0) from gzread; only gzerror tells the difference */
        if (r <= 0) {
            if (gz_problem(s->gz, s->path, s->why, sizeof s->why))
                return -1;
            if (r < 0) {
                snprintf(s->why, sizeof s->why, "read error");
                return -1;
            }
            break;
        }
        *got += (size_t)r;
    }
    return 0;
}

/* Makes more bytes available after buf[len], keeping buf[pos, len). */
static int stream_refill(csm_stream *s)
{
    if (s->pos > 0) {
        memmove(s->buf, s->buf + s->pos, s->len - s->pos);
        s->len -= s->pos;
        s->pos = 0;
    }
    /* keep one byte free for the NUL after a final unterminated line */
    if (s->cap - s->len < CSM_CHUNK + 1) {
        size_t ncap = s->cap ? s->cap : CSM_CHUNK + 1;
        while (ncap - s->len < CSM_CHUNK + 1) {
            if (ncap > SIZE_MAX / 2)
                return csm_fail_line(s, "line too long");
            ncap *= 2;
        }
        char *p = realloc(s->buf, ncap);
        if (!p)
            return csm_fail_line(s, "out of memory for a line of %zu bytes", s->len);
        s->buf = p;
        s->cap = ncap;
    }
    size_t got = 0;
    /* on failure, the lines that did arrive are still handed out; the
     * error is reported where the good data ends */
    if (gz_fill(s, s->buf + s->len, CSM_CHUNK, &got) < 0)
        s->failed = 1;
    if (s->failed || got < CSM_CHUNK)
        s->eof = 1;
    s->len += got;
    return 0;
}

int csm_stream_line(csm_stream *s, char **line, size_t *len)
{
    for (;;) {
        /* before the first read there is no buffer, and NULL + 0 is
         * undefined behaviour (UBSan, found by fuzz/fuzz_csv) */
        char *start = s->buf ? s->buf + s->pos : NULL;
        size_t avail = s->len - s->pos;
        char *nl = s->scanned < avail ? memchr(start + s->scanned, '\n', avail - s->scanned)
                                      : NULL;
        if (nl || (s->eof && !s->failed && avail > 0)) {
            size_t n = nl ? (size_t)(nl - start) : avail;
            size_t used = nl ? n + 1 : n;
            start[n] = '\0'; /* the '\n', or the spare byte after the data */
            if (n > 0 && start[n - 1] == '\r')
                start[--n] = '\0';
            s->pos += used;
            s->offset += used;
            s->scanned = 0;
            s->line++;
            *line = start;
            *len = n;
            return 1;
        }
        if (s->failed) {
            s->line++; /* the line being read */
            return csm_fail_line(s, "%s", s->why);
        }
        if (s->eof)
            return 0;
        s->scanned = avail;
        if (stream_refill(s) < 0)
            return -1;
    }
}

int csm_stream_peek(csm_stream *s, size_t n, const unsigned char **head, size_t *got)
{
    while (s->len - s->pos < n && !s->eof) {
        s->scanned = 0;
        if (stream_refill(s) < 0)
            return -1;
    }
    *head = s->buf ? (const unsigned char *)s->buf + s->pos : (const unsigned char *)"";
    *got = s->len - s->pos;
    if (*got > n)
        *got = n;
    /* a read error is reported where the good data ends, by the reader */
    return 0;
}

int csm_stream_read(csm_stream *s, void *dst, size_t n, size_t *got)
{
    char *out = dst;
    size_t done = 0;
    /* first whatever a previous line read left buffered */
    if (s->pos < s->len) {
        size_t take = s->len - s->pos;
        if (take > n)
            take = n;
        memcpy(out, s->buf + s->pos, take);
        s->pos += take;
        s->offset += take;
        done = take;
    }
    if (done < n && !s->eof) {
        size_t want = n - done, r = 0;
        int rc = gz_fill(s, out + done, want, &r);
        done += r;
        s->offset += r;
        if (rc < 0) {
            *got = done;
            return csm_fail_byte(s->err, s->err_len, s->path, s->offset, "%s", s->why);
        }
        if (r < want)
            s->eof = 1;
    }
    *got = done;
    return 0;
}
