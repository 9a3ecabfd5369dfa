/* IDX reader (the MNIST format): a 4-byte magic 00 00 TYPE NDIMS, NDIMS
 * big-endian u32 sizes, then the big-endian elements in C order. An images
 * file (NDIMS >= 2) holds the features, a 1-D integer file beside it the
 * labels. Sizes in the header are untrusted: their product is checked for
 * overflow, and memory grows only as data actually arrives, so that a
 * corrupt header claiming terabytes fails as "truncated", not as a huge
 * malloc. */
#include "read_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* First allocation for the payload; it then doubles up to the size the
 * header announces. */
#define CSM_IDX_FIRST_ALLOC ((size_t)16 << 20)

typedef struct idx_header {
    unsigned type;  /* 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64 */
    unsigned size;  /* bytes per element */
    unsigned ndims;
    uint32_t dims[255];
    uint64_t count; /* product of dims[1..] (features per sample) */
    uint64_t data_offset;
} idx_header;

static const char *type_name(unsigned type)
{
    switch (type) {
    case 0x08:
        return "u8";
    case 0x09:
        return "i8";
    case 0x0B:
        return "i16";
    case 0x0C:
        return "i32";
    case 0x0D:
        return "f32";
    case 0x0E:
        return "f64";
    }
    return "unknown";
}

static unsigned type_size(unsigned type)
{
    switch (type) {
    case 0x08:
    case 0x09:
        return 1;
    case 0x0B:
        return 2;
    case 0x0C:
    case 0x0D:
        return 4;
    case 0x0E:
        return 8;
    }
    return 0;
}

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

static uint64_t be64(const unsigned char *b)
{
    return (uint64_t)be32(b) << 32 | be32(b + 4);
}

static int read_header(csm_stream *s, idx_header *h)
{
    unsigned char m[4];
    size_t got = 0;
    if (csm_stream_read(s, m, 4, &got) < 0)
        return -1;
    if (got == 0)
        return csm_fail_byte(s->err, s->err_len, s->path, 0, "empty file (no IDX header)");
    if (got < 4)
        return csm_fail_byte(s->err, s->err_len, s->path, got,
                             "truncated header (the magic number has 4 bytes)");
    if (m[0] != 0 || m[1] != 0)
        return csm_fail_byte(s->err, s->err_len, s->path, 0,
                             "bad magic 0x%02x%02x%02x%02x (not an IDX file: it must start "
                             "with 00 00 TYPE NDIMS)",
                             m[0], m[1], m[2], m[3]);
    h->type = m[2];
    h->size = type_size(h->type);
    if (!h->size)
        return csm_fail_byte(s->err, s->err_len, s->path, 2,
                             "unknown IDX data type 0x%02x (expected 08, 09, 0b, 0c, 0d or 0e)",
                             m[2]);
    h->ndims = m[3];
    if (h->ndims == 0)
        return csm_fail_byte(s->err, s->err_len, s->path, 3, "zero dimensions");
    unsigned char d[4 * 255];
    if (csm_stream_read(s, d, 4u * h->ndims, &got) < 0)
        return -1;
    if (got < 4u * h->ndims)
        return csm_fail_byte(s->err, s->err_len, s->path, 4 + got,
                             "truncated header (%u dimension sizes announced, %zu bytes of "
                             "them present)",
                             h->ndims, got);
    for (unsigned i = 0; i < h->ndims; i++)
        h->dims[i] = be32(d + 4 * i);
    h->data_offset = 4 + 4u * (uint64_t)h->ndims;
    return 0;
}

/* Product of dims[from..] times the element size, in bytes; -1 on overflow
 * of size_t (or of 64 bits), with the message written. */
static int checked_product(csm_stream *s, const idx_header *h, unsigned from, uint64_t *elems,
                           size_t *bytes)
{
    uint64_t p = 1;
    for (unsigned i = from; i < h->ndims; i++) {
        if (h->dims[i] == 0)
            return csm_fail_byte(s->err, s->err_len, s->path, 4 + 4 * (uint64_t)i,
                                 "dimension %u has size 0", i);
        if (p > UINT64_MAX / h->dims[i])
            goto overflow;
        p *= h->dims[i];
    }
    if (p > SIZE_MAX / h->size || p > SIZE_MAX / sizeof(double))
        goto overflow;
    *elems = p;
    *bytes = (size_t)p * h->size;
    return 0;
overflow:
    return csm_fail_byte(s->err, s->err_len, s->path, 4,
                         "dimension sizes overflow: their product does not fit in memory "
                         "(corrupt header?)");
}

/* Reads exactly `bytes` bytes of payload (rows of row_bytes each: samples
 * of an images file, labels of a labels file), growing the buffer as data
 * arrives, then checks that nothing follows. A file that ends early names
 * the first row it lacks. */
static int read_payload(csm_stream *s, size_t bytes, size_t row_bytes, const char *row_name,
                        unsigned char **out)
{
    unsigned char *buf = NULL;
    size_t cap = 0, have = 0;
    while (have < bytes) {
        if (have == cap) {
            size_t ncap = cap ? (cap > bytes / 2 ? bytes : cap * 2)
                              : (bytes < CSM_IDX_FIRST_ALLOC ? bytes : CSM_IDX_FIRST_ALLOC);
            unsigned char *p = realloc(buf, ncap);
            if (!p) {
                free(buf);
                return csm_fail_byte(s->err, s->err_len, s->path, s->offset,
                                     "out of memory for %zu bytes of data", bytes);
            }
            buf = p;
            cap = ncap;
        }
        size_t got = 0;
        if (csm_stream_read(s, buf + have, cap - have, &got) < 0) {
            free(buf);
            return -1;
        }
        have += got;
        if (have < cap) {
            free(buf);
            return csm_fail_byte(s->err, s->err_len, s->path, s->offset,
                                 "truncated: the header announces %zu bytes of data, the file "
                                 "ends after %zu, in %s %zu of %zu",
                                 bytes, have, row_name, have / row_bytes + 1, bytes / row_bytes);
        }
    }
    unsigned char extra[1];
    size_t got = 0;
    if (csm_stream_read(s, extra, 1, &got) < 0) {
        free(buf);
        return -1;
    }
    if (got) {
        free(buf);
        return csm_fail_byte(s->err, s->err_len, s->path, s->offset - 1,
                             "trailing data after the %zu bytes the header announces", bytes);
    }
    *out = buf;
    return 0;
}

/* Element i of raw big-endian data as a double. */
static double element(const unsigned char *raw, unsigned type, size_t i)
{
    switch (type) {
    case 0x08:
        return raw[i];
    case 0x09:
        return (double)(int8_t)raw[i];
    case 0x0B:
        return (double)(int16_t)(uint16_t)((unsigned)raw[2 * i] << 8 | raw[2 * i + 1]);
    case 0x0C:
        return (double)(int32_t)be32(raw + 4 * i);
    case 0x0D: {
        uint32_t u = be32(raw + 4 * i);
        float f;
        memcpy(&f, &u, sizeof f);
        return (double)f;
    }
    case 0x0E: {
        uint64_t u = be64(raw + 8 * i);
        double d;
        memcpy(&d, &u, sizeof d);
        return d;
    }
    }
    return 0.0;
}

static int read_images(csm_stream *s, csm_table *t)
{
    const char *path = s->path;
    char *err = s->err;
    size_t err_len = s->err_len;
    idx_header h;
    uint64_t elems = 0;
    size_t bytes = 0;
    unsigned char *raw = NULL;
    if (read_header(s, &h) < 0)
        return -1;
    if (h.ndims < 2) {
        csm_fail_byte(err, err_len, path, 3,
                      "%u dimension: an images file needs at least 2 (samples, features...); "
                      "is this a labels file?",
                      h.ndims);
        return -1;
    }
    if (h.dims[0] == 0) {
        csm_fail_byte(err, err_len, path, 4, "no samples (dimension 0 has size 0)");
        return -1;
    }
    if (checked_product(s, &h, 0, &elems, &bytes) < 0)
        return -1;
    if (read_payload(s, bytes, bytes / h.dims[0], "sample", &raw) < 0)
        return -1;
    t->n = h.dims[0];
    t->k = (size_t)(elems / h.dims[0]);
    if (h.type == 0x08) {
        /* kept as bytes: a quarter of the upload, scaled on the device */
        t->dtype = CSM_DTYPE_U8;
        t->features = raw;
        return 0;
    }
    double *x = malloc((size_t)elems * sizeof *x);
    if (!x) {
        free(raw);
        return csm_fail_byte(err, err_len, path, h.data_offset,
                             "out of memory for %zu x %zu doubles", t->n, t->k);
    }
    for (size_t i = 0; i < (size_t)elems; i++) {
        x[i] = element(raw, h.type, i);
        if (!isfinite(x[i])) {
            free(raw);
            free(x);
            return csm_fail_byte(err, err_len, path, h.data_offset + (uint64_t)i * h.size,
                                 "non-finite value (NaN or Inf) in sample %zu, feature %zu",
                                 i / t->k, i % t->k);
        }
    }
    free(raw);
    t->dtype = CSM_DTYPE_F64;
    t->features = x;
    return 0;
}

static int read_labels(const char *path, size_t n, int64_t **labels, char *err, size_t err_len)
{
    csm_stream s;
    idx_header h;
    uint64_t elems = 0;
    size_t bytes = 0;
    unsigned char *raw = NULL;
    if (csm_stream_open(&s, path, NULL, err, err_len) < 0)
        return -1;
    if (read_header(&s, &h) < 0)
        goto fail;
    if (h.ndims != 1) {
        csm_fail_byte(err, err_len, path, 3,
                      "a labels file has 1 dimension, this one has %u; is this an images file?",
                      h.ndims);
        goto fail;
    }
    if (h.type == 0x0D || h.type == 0x0E) {
        csm_fail_byte(err, err_len, path, 2,
                      "labels must be integers (u8, i8, i16 or i32), not %s", type_name(h.type));
        goto fail;
    }
    if (h.dims[0] != n) {
        csm_fail_byte(err, err_len, path, 4,
                      "%lu labels, but the images file has %zu samples (label count mismatch)",
                      (unsigned long)h.dims[0], n);
        goto fail;
    }
    if (checked_product(&s, &h, 0, &elems, &bytes) < 0)
        goto fail;
    if (read_payload(&s, bytes, h.size, "label", &raw) < 0)
        goto fail;
    csm_stream_close(&s);
    int64_t *y = malloc(n * sizeof *y);
    if (!y) {
        free(raw);
        return csm_fail_byte(err, err_len, path, h.data_offset, "out of memory for %zu labels",
                             n);
    }
    for (size_t i = 0; i < n; i++)
        y[i] = (int64_t)element(raw, h.type, i);
    free(raw);
    *labels = y;
    return 0;
fail:
    csm_stream_close(&s);
    return -1;
}

static int file_exists(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    fclose(f);
    return 1;
}

/* train-images-idx3-ubyte.gz -> train-labels-idx1-ubyte.gz, or the same
 * without / with ".gz" when only that one exists. *labels is malloc'd. */
static int derive_labels_path(const char *images, char **labels, char *err, size_t err_len)
{
    static const char from[] = "images-idx3", to[] = "labels-idx1";
    const char *base = strrchr(images, '/');
    base = base ? base + 1 : images;
    const char *at = strstr(base, from);
    if (!at && strstr(base, to))
        return csm_fail_file(err, err_len, images,
                             "this looks like a labels file; give the images file (the labels "
                             "file is found from its name)");
    if (!at)
        return csm_fail_file(err, err_len, images,
                             "cannot derive the labels file name (the name has no '%s' to "
                             "replace by '%s'); give the labels file with --labels FILE",
                             from, to);
    size_t len = strlen(images), head = (size_t)(at - images), tail = len - head - strlen(from);
    /* the name itself, plus room to add or drop ".gz" */
    char *a = malloc(len + 4), *b = malloc(len + 4);
    if (!a || !b) {
        free(a);
        free(b);
        return csm_fail_file(err, err_len, images, "out of memory");
    }
    memcpy(a, images, head);
    memcpy(a + head, to, strlen(to));
    memcpy(a + head + strlen(to), at + strlen(from), tail + 1);
    size_t alen = strlen(a);
    memcpy(b, a, alen + 1);
    if (alen >= 3 && strcmp(a + alen - 3, ".gz") == 0)
        b[alen - 3] = '\0';
    else
        memcpy(b + alen, ".gz", 4);
    if (file_exists(a)) {
        free(b);
        *labels = a;
        return 0;
    }
    if (file_exists(b)) {
        free(a);
        *labels = b;
        return 0;
    }
    csm_fail_file(err, err_len, images,
                  "no labels file: neither '%s' nor '%s' can be opened; give the labels file "
                  "with --labels FILE",
                  a, b);
    free(a);
    free(b);
    return -1;
}

char *csm_idx_labels_path(const char *path)
{
    char *labels = NULL;
    return derive_labels_path(path, &labels, NULL, 0) == 0 ? labels : NULL;
}

int csm_read_idx(csm_stream *s, const csm_read_options *opt, csm_table *out)
{
    const char *path = s->path;
    char *err = s->err;
    size_t err_len = s->err_len;
    csm_table t;
    memset(&t, 0, sizeof t);
    char *derived = NULL;
    const char *labels_path = opt->labels_path;
    /* the images first: a problem in the file the user named is the one
     * to report, whatever the state of its labels */
    int rc = read_images(s, &t);
    int unlabeled = opt->no_labels == 1;
    if (rc == 0 && !unlabeled && !labels_path) {
        if (s->is_stdin)
            rc = csm_fail_file(err, err_len, path,
                               "standard input has no file name to find the labels file from "
                               "(images-idx3 -> labels-idx1); give the labels file with "
                               "--labels FILE");
        else
            rc = derive_labels_path(path, &derived, err, err_len);
        /* predict's detection: images without a labels file next to them
         * (but not a labels file given as the images) */
        const char *base = strrchr(path, '/');
        if (rc < 0 && opt->no_labels == -1 && !strstr(base ? base + 1 : path, "labels-idx1")) {
            rc = 0;
            unlabeled = 1;
            if (err && err_len)
                err[0] = '\0';
        }
        labels_path = derived;
    }
    if (rc == 0 && unlabeled) {
        t.unlabeled = 1;
        t.labels = calloc(t.n > 0 ? t.n : 1, sizeof *t.labels);
        if (!t.labels)
            rc = csm_fail_file(err, err_len, path, "out of memory");
    } else if (rc == 0) {
        rc = read_labels(labels_path, t.n, &t.labels, err, err_len);
    }
    free(derived);
    if (rc < 0) {
        csm_table_free(&t);
        return -1;
    }
    *out = t;
    return 0;
}
