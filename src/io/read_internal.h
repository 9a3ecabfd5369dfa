/* Private to the data-file readers: the gzip-transparent input stream, the
 * error-message helpers and the strict number parsers shared by the CSV,
 * libsvm and IDX readers. Not installed, not used outside src/io. */
#ifndef CSM_READ_INTERNAL_H
#define CSM_READ_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <zlib.h>

#include "dataio.h"

#if defined(__GNUC__)
#define CSM_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CSM_PRINTF(a, b)
#endif

/* One input file, gzipped or plain (read_stream.c): a file that starts
 * with the gzip magic is inflated with zlib member by member, every member
 * checked as `gzip -t` checks it (a damaged or cut member, or bytes after
 * the last member that are not one, is an error, never an early end); any
 * other file is read as it is. Data is pulled in large chunks into `buf`;
 * text readers take lines out of it (at most max_line bytes each, the cap
 * CSM_READ_MAX_LINE of dataio.h), the binary reader takes byte ranges. */
typedef struct csm_stream {
    int fd;
    int gzip;         /* 1: inflating; 0: plain bytes */
    z_stream z;       /* the inflate state (gzip) */
    int z_ready;      /* z initialised */
    int member;       /* 1-based gzip member being inflated */
    unsigned char *in;/* raw bytes read from fd: in[0, in_len), z.next_in inside */
    size_t in_cap, in_len;
    int in_eof;       /* fd has no more bytes */
    int data_end;     /* the data (the last member's, or the plain file's) has ended */
    uint64_t raw_offset; /* file offset of in[0] */
    size_t max_line;  /* longest line accepted, bytes */
    const char *path; /* as messages name it: "<stdin>" for "-" */
    int is_stdin;     /* opened as "-" */
    char *buf;        /* buffered bytes are buf[pos, len); buf[len] is room for a NUL */
    size_t cap, pos, len;
    size_t scanned;   /* bytes from pos already known to hold no '\n' */
    int eof;          /* the stream has no more bytes beyond buf */
    uint64_t offset;  /* file offset (uncompressed) of buf[pos] */
    size_t line;      /* 1-based number of the line last returned; 0 before the first */
    int failed;       /* a read failed; buf holds what arrived before it */
    char why[160];    /* the reason, once failed */
    char *err;
    size_t err_len;
} csm_stream;

/* Opens `path`; "-" is standard input (messages then name "<stdin>");
 * opt (may be NULL) gives max_line. On failure writes "PATH: cannot open:
 * REASON" to err. */
int csm_stream_open(csm_stream *s, const char *path, const csm_read_options *opt, char *err,
                    size_t err_len);
void csm_stream_close(csm_stream *s);

/* The next line, without its "\n" or "\r\n", NUL-terminated and writable
 * in place until the next call. Returns 1 with a line, 0 at the end of the
 * file, -1 on a read or gzip error or a line longer than max_line (message
 * written as "PATH:LINE: ..."). */
int csm_stream_line(csm_stream *s, char **line, size_t *len);

/* The next n bytes (fewer at the end of the file) without consuming them:
 * *head points into the stream's buffer, valid until the next call. This
 * is how the format of a pipe or of standard input is guessed: what the
 * guess looked at is still there for the reader. A read or gzip error
 * met on the way is kept (failed) for the reader to report where the good
 * data ends. Returns 0, or -1 when memory is short. */
int csm_stream_peek(csm_stream *s, size_t n, const unsigned char **head, size_t *got);

/* Reads up to n bytes into dst; *got is how many arrived (less than n only
 * at the end of the file). Returns 0, or -1 on a read or gzip error
 * (message written as "PATH: byte OFFSET: ..."). */
int csm_stream_read(csm_stream *s, void *dst, size_t n, size_t *got);

/* "PATH:LINE: message" for the current line of a text stream. Returns -1 so
 * that callers can write `return csm_fail_line(...)`. */
int csm_fail_line(csm_stream *s, const char *fmt, ...) CSM_PRINTF(2, 3);
/* "PATH: byte OFFSET: message" for a binary file. Returns -1. */
int csm_fail_byte(char *err, size_t err_len, const char *path, uint64_t offset,
                  const char *fmt, ...) CSM_PRINTF(5, 6);
/* "PATH: message". Returns -1. */
int csm_fail_file(char *err, size_t err_len, const char *path, const char *fmt, ...)
    CSM_PRINTF(4, 5);

/* Writes a short, printable, quoted rendering of field [p, p+n) into out
 * (non-printable bytes as \xHH, long fields cut with "..."). */
const char *csm_quote(char *out, size_t out_len, const char *p, size_t n);

/* Strict parse of a feature value occupying exactly [p, p+n): decimal
 * notation only (no hex), whole field consumed, no surrounding space.
 * Returns CSM_NUM_OK, or CSM_NUM_EMPTY, CSM_NUM_SYNTAX, CSM_NUM_NONFINITE
 * (NaN, Inf) or CSM_NUM_RANGE (1e999). p[n] must be a NUL: the slow path
 * hands the field to strtod. */
enum { CSM_NUM_OK = 0, CSM_NUM_EMPTY, CSM_NUM_SYNTAX, CSM_NUM_NONFINITE, CSM_NUM_NOT_INTEGER,
       CSM_NUM_RANGE };
int csm_parse_double(const char *p, size_t n, double *out);

/* Strict parse of an integer label occupying exactly [p, p+n): an optional
 * sign and digits; a decimal form with an integral value ("2.0", "1e3") is
 * accepted too, a fractional one ("2.5") is CSM_NUM_NOT_INTEGER. */
int csm_parse_label(const char *p, size_t n, int64_t *out);

/* Human-readable reason for a csm_parse_* result. */
const char *csm_num_reason(int code);

/* The per-format readers behind csm_read_table, each on the stream that
 * csm_read_table opened (once: a pipe cannot be opened twice) and closes.
 * Each fills *out only on success; on failure *out is untouched and the
 * stream's err holds the message. CSV and IDX return dense tables, libsvm
 * a CSR one; csm_read_table then settles the storage that
 * csm_read_options asks for. */
int csm_read_csv(csm_stream *s, const csm_read_options *opt, csm_table *out);
int csm_read_libsvm(csm_stream *s, const csm_read_options *opt, csm_table *out);
int csm_read_idx(csm_stream *s, const csm_read_options *opt, csm_table *out);

/* The format of the stream's first bytes (csm_sniff_format), peeked, not
 * consumed. Returns 0, or -1 with the stream's err set when nothing tells. */
int csm_stream_guess_format(csm_stream *s, csm_format *out);

/* The non-zero values among `count` dense values of `dtype`. */
uint64_t csm_count_nonzeros(const void *x, csm_dtype dtype, size_t count);

/* Grows *buf (of *cap elements of `size` bytes) to hold at least `need`
 * elements, geometrically. Returns -1 when the size would overflow or
 * memory is short. */
int csm_grow(void **buf, size_t *cap, size_t need, size_t size);

/* The distinct string labels of a file, in the order first seen
 * (label_names.c). */
typedef struct csm_label_dict {
    char **names;   /* (n) NUL-terminated copies */
    size_t n, cap;
    size_t *slots;  /* (n_slots) open addressing: name index + 1, 0 empty */
    size_t n_slots;
} csm_label_dict;

/* The index of text [s, s+len) (added if new) into *index. Returns -1 when
 * memory is short or the text holds a NUL byte. */
int csm_label_dict_add(csm_label_dict *d, const char *s, size_t len, int64_t *index);
/* Sorts the names by bytes, rewrites labels[0..n) (indices into the dict)
 * to their sorted positions and hands the names over (*names, malloc'd;
 * the dict is left empty). Returns -1 when memory is short (nothing
 * changed). */
int csm_label_dict_finish(csm_label_dict *d, int64_t *labels, size_t n, char ***names,
                          size_t *n_names);
void csm_label_dict_free(csm_label_dict *d);

#endif
