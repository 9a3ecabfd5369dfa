/* The input stream under every reader: plain files read as they are, and
 * gzip files inflated with zlib's inflate() member by member, each checked
 * as `gzip -t` checks it: a corrupt or cut member, or bytes after the last
 * member that do not start another (a second member damaged in its
 * header), is an error, never a silent end of the data (zlib's gzread
 * took such bytes for trailing garbage and stopped after the first
 * member). Data is pulled in large chunks (byte-at-a-time reads would make
 * a 47 MB MNIST file take seconds); a text line is at most max_line bytes
 * (CSM_READ_MAX_LINE), so a file without line ends cannot make the reader
 * hold more. A file is opened once, "-" being standard input; the format
 * guess peeks at the inflated bytes that the reader then reads, so pipes
 * and standard input are guessed too. Also the helpers that format
 * "FILE:LINE: reason" and "FILE: byte OFFSET: reason" messages. */
#include "read_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Bytes requested per fill: large enough that the per-call cost vanishes,
 * small enough to keep the line buffer modest. */
#define CSM_CHUNK ((size_t)1 << 20)
/* Compressed bytes read at a time (zlib's gzread default of 8 KiB cost
 * ~10% speed). */
#define CSM_GZBUFFER (256u * 1024u)
/* Bytes inflated per inflate() call. */
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

static int stream_fill(csm_stream *s, char *dst, size_t want, size_t *got);

/* "PATH:LINE: message" as it is. */
static int csm_fail_line_at(csm_stream *s, const char *fmt, ...) CSM_PRINTF(2, 3);
static int csm_fail_line_at(csm_stream *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat(s->err, s->err_len, s->path, AT_LINE, s->line ? s->line : 1, fmt, ap);
    va_end(ap);
    return -1;
}

int csm_fail_line(csm_stream *s, const char *fmt, ...)
{
    char what[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    /* Inflating damaged gzip data yields garbage before zlib can tell (the
     * CRC-32 is checked at the end of the member): when the rest of the
     * stream is corrupt, that is the error to report, not the garbage's. */
    if (s->gzip && !s->failed && !s->data_end) {
        static char scratch[1 << 16];
        size_t got = 0;
        int rc;
        while ((rc = stream_fill(s, scratch, sizeof scratch, &got)) == 0 && got == sizeof scratch)
            continue;
        s->failed = rc < 0;
    }
    if (s->gzip && s->failed)
        return csm_fail_line_at(s, "%s (line %zu was damaged already: %s)", s->why,
                                s->line ? s->line : 1, what);
    return csm_fail_line_at(s, "%s", what);
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

/* Bytes of the file into dst until `want` have arrived (*got), the file
 * ends (s->in_eof) or, with `some`, at least `some` have. Returns 0, or -1
 * with the reason in s->why. */
static int file_read(csm_stream *s, unsigned char *dst, size_t want, size_t some, size_t *got)
{
    *got = 0;
    while (*got < want && !s->in_eof && (!some || *got < some)) {
        ssize_t r = read(s->fd, dst + *got, want - *got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(s->why, sizeof s->why, "read error: %s", strerror(errno));
            return -1;
        }
        if (r == 0)
            s->in_eof = 1;
        *got += (size_t)r;
    }
    return 0;
}

/* Raw bytes from the file into in[], after those not yet consumed (which
 * move to the front). Returns 0, or -1 with the reason in s->why. */
static int raw_fill(csm_stream *s)
{
    size_t keep = s->z.avail_in;
    size_t consumed = (size_t)(s->z.next_in - s->in);
    if (keep > 0 && consumed > 0)
        memmove(s->in, s->z.next_in, keep);
    s->raw_offset += consumed;
    s->in_len = keep;
    size_t got = 0;
    /* a pipe delivers what it has: any bytes will do */
    if (file_read(s, s->in + s->in_len, s->in_cap - s->in_len, 1, &got) < 0)
        return -1;
    s->in_len += got;
    s->z.next_in = s->in;
    s->z.avail_in = (uInt)s->in_len;
    return 0;
}

const char *csm_display_name(const char *path)
{
    return path && strcmp(path, "-") == 0 ? "<stdin>" : path;
}

int csm_stream_open(csm_stream *s, const char *path, const csm_read_options *opt, char *err,
                    size_t err_len)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    s->path = csm_display_name(path);
    s->err = err;
    s->err_len = err_len;
    s->member = 1;
    s->max_line = opt && opt->max_line > 0 && opt->max_line < CSM_READ_MAX_LINE
                      ? opt->max_line
                      : CSM_READ_MAX_LINE;
    /* "-" is standard input, read through a duplicate of descriptor 0 so
     * that closing the stream leaves the process's own stdin open */
    s->is_stdin = strcmp(path, "-") == 0;
    if (s->is_stdin)
        s->fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
    else
        s->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (s->fd < 0)
        return csm_fail_file(err, err_len, s->path, "cannot open: %s", strerror(errno));
    s->in_cap = CSM_GZBUFFER;
    s->in = malloc(s->in_cap);
    if (!s->in) {
        csm_stream_close(s);
        return csm_fail_file(err, err_len, s->path, "cannot open: out of memory");
    }
    /* the first bytes say whether it is gzip (1f 8b), as gzip decides */
    if (file_read(s, s->in, s->in_cap, 2, &s->in_len) < 0) {
        csm_fail_file(err, err_len, s->path, "%s", s->why);
        csm_stream_close(s);
        return -1;
    }
    s->gzip = s->in_len >= 2 && (unsigned char)s->in[0] == 0x1f &&
              (unsigned char)s->in[1] == 0x8b;
    s->z.next_in = s->in;
    s->z.avail_in = (uInt)s->in_len;
    if (s->gzip) {
        /* 15 + 16: a gzip wrapper only; zlib checks each member's CRC-32
         * and length */
        if (inflateInit2(&s->z, 15 + 16) != Z_OK) {
            csm_stream_close(s);
            return csm_fail_file(err, err_len, s->path, "cannot open: out of memory (zlib)");
        }
        s->z_ready = 1;
    }
    return 0;
}

void csm_stream_close(csm_stream *s)
{
    if (s->z_ready)
        inflateEnd(&s->z);
    if (s->fd >= 0)
        close(s->fd);
    free(s->in);
    free(s->buf);
    s->fd = -1;
    s->z_ready = 0;
    s->in = NULL;
    s->buf = NULL;
}

/* Plain bytes: first those the gzip test read, then the file's. */
static int plain_fill(csm_stream *s, char *dst, size_t want, size_t *got)
{
    *got = 0;
    if (s->z.avail_in > 0) {
        size_t take = s->z.avail_in < want ? s->z.avail_in : want;
        memcpy(dst, s->z.next_in, take);
        s->z.next_in += take;
        s->z.avail_in -= (uInt)take;
        *got = take;
    }
    size_t more = 0;
    if (file_read(s, (unsigned char *)dst + *got, want - *got, 0, &more) < 0)
        return -1;
    *got += more;
    if (*got < want)
        s->data_end = 1;
    return 0;
}

/* The file offset of the next compressed byte, for messages. */
static uint64_t raw_pos(const csm_stream *s)
{
    return s->raw_offset + (uint64_t)(s->z.next_in - s->in);
}

/* After the end of a gzip member: another member follows (its header
 * starts with 1f 8b: go on, 0), or the file ends (1), or something else
 * does, which `gzip -t` reports as trailing garbage: an error here (-1),
 * for a second member damaged in its first bytes must not pass for the
 * end of the data. */
static int next_member(csm_stream *s)
{
    while (s->z.avail_in < 2 && !s->in_eof)
        if (raw_fill(s) < 0)
            return -1;
    if (s->z.avail_in == 0)
        return 1;
    if (s->z.avail_in >= 2 && s->z.next_in[0] == 0x1f && s->z.next_in[1] == 0x8b) {
        if (inflateReset(&s->z) != Z_OK) {
            snprintf(s->why, sizeof s->why, "zlib cannot start gzip member %d", s->member + 1);
            return -1;
        }
        s->member++;
        return 0;
    }
    snprintf(s->why, sizeof s->why,
             "corrupt gzip data: the bytes after gzip member %d (from compressed byte %llu) "
             "are not a gzip member (trailing garbage, or a damaged member)",
             s->member, (unsigned long long)raw_pos(s));
    return -1;
}

/* Inflates up to `want` bytes into dst. Returns 0 (fewer than want only at
 * the end of the last member), or -1 with the reason in s->why. */
static int gzip_fill(csm_stream *s, char *dst, size_t want, size_t *got)
{
    *got = 0;
    while (*got < want) {
        if (s->z.avail_in == 0 && !s->in_eof && raw_fill(s) < 0)
            return -1;
        s->z.next_out = (Bytef *)dst + *got;
        size_t ask = want - *got;
        s->z.avail_out = ask > CSM_GZREAD_MAX ? (uInt)CSM_GZREAD_MAX : (uInt)ask;
        uInt before = s->z.avail_out;
        int rc = inflate(&s->z, Z_NO_FLUSH);
        *got += before - s->z.avail_out;
        if (rc == Z_STREAM_END) {
            int nm = next_member(s);
            if (nm < 0)
                return -1;
            if (nm > 0) {
                s->data_end = 1;
                return 0;
            }
            continue;
        }
        if (rc == Z_OK)
            continue;
        if (rc == Z_BUF_ERROR && s->z.avail_in == 0 && !s->in_eof)
            continue; /* more input needed */
        if (rc == Z_BUF_ERROR && s->z.avail_in == 0) {
            snprintf(s->why, sizeof s->why,
                     "corrupt or truncated gzip data (zlib: unexpected end of file): gzip "
                     "member %d is cut short at compressed byte %llu",
                     s->member, (unsigned long long)raw_pos(s));
            return -1;
        }
        snprintf(s->why, sizeof s->why,
                 "corrupt or truncated gzip data (zlib: %s) in gzip member %d, near compressed "
                 "byte %llu",
                 s->z.msg ? s->z.msg : rc == Z_MEM_ERROR ? "out of memory" : "error", s->member,
                 (unsigned long long)raw_pos(s));
        return -1;
    }
    return 0;
}

/* Reads up to `want` bytes at dst; *got is how many arrived, also when it
 * fails. Returns 0 (fewer than want: the data has ended), or -1 with the
 * reason in s->why. */
static int stream_fill(csm_stream *s, char *dst, size_t want, size_t *got)
{
    if (s->data_end) {
        *got = 0;
        return 0;
    }
    return s->gzip ? gzip_fill(s, dst, want, got) : plain_fill(s, dst, want, got);
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
    if (stream_fill(s, s->buf + s->len, CSM_CHUNK, &got) < 0)
        s->failed = 1;
    if (s->failed || got < CSM_CHUNK)
        s->eof = 1;
    s->len += got;
    return 0;
}

/* The one message for a line over the cap, naming the line. */
static int line_too_long(csm_stream *s)
{
    s->line++; /* the line being read */
    if (s->max_line == CSM_READ_MAX_LINE)
        return csm_fail_line(s, "line longer than %zu bytes (64 MiB), the limit of a line: not "
                             "a text file of samples, or a line without an end",
                             s->max_line);
    return csm_fail_line(s, "line longer than %zu bytes, the limit of a line", s->max_line);
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
            if (n > s->max_line)
                return line_too_long(s);
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
            return csm_fail_line_at(s, "%s", s->why);
        }
        if (s->eof)
            return 0;
        /* no end within the cap: the memory of a line stays bounded */
        if (avail > s->max_line)
            return line_too_long(s);
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
    /* first whatever a previous line read or a peek left buffered */
    if (s->pos < s->len) {
        size_t take = s->len - s->pos;
        if (take > n)
            take = n;
        memcpy(out, s->buf + s->pos, take);
        s->pos += take;
        s->offset += take;
        done = take;
    }
    /* a peek that met a read or gzip error kept it for here, where the
     * good data ends */
    if (done < n && s->failed) {
        *got = done;
        return csm_fail_byte(s->err, s->err_len, s->path, s->offset, "%s", s->why);
    }
    if (done < n && !s->eof) {
        size_t want = n - done, r = 0;
        int rc = stream_fill(s, out + done, want, &r);
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
