/* IDX.gz reader and synthetic data for the benchmark (see bench_data.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "bench_data.h"

static void set_err(char *err, size_t len, const char *fmt, ...)
{
    if (!err || !len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
}

/* Reads exactly `len` bytes; 0 on success. */
static int gz_read_all(gzFile f, void *dst, size_t len)
{
    unsigned char *p = dst;
    while (len > 0) {
        unsigned chunk = len > (1u << 30) ? (1u << 30) : (unsigned)len;
        int got = gzread(f, p, chunk);
        if (got <= 0)
            return -1;
        p += got;
        len -= (size_t)got;
    }
    return 0;
}

static uint32_t be32(const unsigned char *b)
{
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

/* Opens an IDX(.gz) file, checks the magic (u8 data, `ndims` dimensions),
 * reads the sizes and returns the open handle positioned at the data. */
static gzFile open_idx(const char *path, unsigned ndims, uint32_t *dims, char *err,
                       size_t err_len)
{
    gzFile f = gzopen(path, "rb");
    if (!f) {
        set_err(err, err_len, "%s: %s", path, errno ? strerror(errno) : "cannot open");
        return NULL;
    }
    gzbuffer(f, 1u << 17);
    unsigned char head[4 + 4 * 3];
    if (gz_read_all(f, head, 4 + 4 * (size_t)ndims) != 0) {
        set_err(err, err_len, "%s: truncated IDX header", path);
        gzclose(f);
        return NULL;
    }
    if (head[0] != 0 || head[1] != 0 || head[2] != 0x08 || head[3] != ndims) {
        set_err(err, err_len,
                "%s: not an IDX u8 file of %u dimensions (magic %02x %02x %02x %02x)", path,
                ndims, head[0], head[1], head[2], head[3]);
        gzclose(f);
        return NULL;
    }
    for (unsigned i = 0; i < ndims; i++)
        dims[i] = be32(head + 4 + 4 * i);
    return f;
}

int bench_load_idx(const char *images, const char *labels, bench_set *out, char *err,
                   size_t err_len)
{
    memset(out, 0, sizeof *out);
    uint32_t di[3], dl[1];
    gzFile fi = open_idx(images, 3, di, err, err_len);
    if (!fi)
        return -1;
    gzFile fl = open_idx(labels, 1, dl, err, err_len);
    if (!fl) {
        gzclose(fi);
        return -1;
    }
    int rc = -1;
    size_t n = di[0], k = (size_t)di[1] * di[2];
    if (n == 0 || k == 0) {
        set_err(err, err_len, "%s: empty image set", images);
    } else if (dl[0] != di[0]) {
        set_err(err, err_len, "%s has %zu images but %s has %lu labels", images, n, labels,
                (unsigned long)dl[0]);
    } else if (k > (size_t)-1 / n) {
        set_err(err, err_len, "%s: size overflows", images);
    } else {
        unsigned char *lab = malloc(n);
        out->x = malloc(n * k);
        out->y = malloc(n * sizeof *out->y);
        if (!lab || !out->x || !out->y) {
            set_err(err, err_len, "out of memory for %zu x %zu pixels", n, k);
        } else if (gz_read_all(fi, out->x, n * k) != 0) {
            set_err(err, err_len, "%s: truncated or corrupt data", images);
        } else if (gz_read_all(fl, lab, n) != 0) {
            set_err(err, err_len, "%s: truncated or corrupt data", labels);
        } else {
            for (size_t i = 0; i < n; i++)
                out->y[i] = lab[i];
            out->n = n;
            out->k = k;
            rc = 0;
        }
        free(lab);
        if (rc != 0)
            bench_set_free(out);
    }
    gzclose(fi);
    gzclose(fl);
    return rc;
}

static uint64_t mix(uint64_t x)
{
    uint64_t z = x + UINT64_C(0x9E3779B97F4A7C15);
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

int bench_synthetic(bench_set *out, size_t n, size_t k, size_t C, uint64_t first_row)
{
    memset(out, 0, sizeof *out);
    unsigned char *proto = malloc(C * k);
    out->x = malloc(n * k);
    out->y = malloc(n * sizeof *out->y);
    if (!proto || !out->x || !out->y) {
        free(proto);
        bench_set_free(out);
        return -1;
    }
    for (uint64_t c = 0; c < C; c++)
        for (uint64_t j = 0; j < k; j++)
            proto[c * k + j] = (unsigned char)(mix((UINT64_C(1) << 62) | (c << 20) | j) & 255);
    for (size_t r = 0; r < n; r++) {
        uint64_t g = first_row + r;
        int32_t y = (int32_t)(mix((g << 20) | 0xFFFFF) % C);
        out->y[r] = y;
        const unsigned char *p = proto + (size_t)y * k;
        unsigned char *x = out->x + r * k;
        for (uint64_t j = 0; j < k; j++) {
            unsigned noise = (unsigned)(mix((g << 20) | j) & 255);
            x[j] = (unsigned char)((p[j] + 3 * noise) / 4);
        }
    }
    free(proto);
    out->n = n;
    out->k = k;
    return 0;
}

void bench_set_free(bench_set *s)
{
    free(s->x);
    free(s->y);
    s->x = NULL;
    s->y = NULL;
    s->n = s->k = 0;
}
