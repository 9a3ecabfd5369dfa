/* Model files (safetensors): round trips, the exact byte layout, files as
 * PyTorch writes them, and every malformed file the loader must refuse.
 *
 * Tolerance everywhere: exact. A model file stores the parameters at the
 * model's precision and float -> double is exact, so loaded parameters must
 * be bit-identical to the saved ones. Bad files are crafted at run time into
 * a temporary directory, byte by byte. */
#if !defined(_XOPEN_SOURCE) && !defined(_GNU_SOURCE)
#define _XOPEN_SOURCE 700 /* mkdtemp */
#endif

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clsoftmax.h"
#include "testutil.h"

/* ---------------------------------------------------------------- helpers */

static csm_context *new_context(void)
{
    char err[1024] = "";
    csm_context *ctx = NULL;
    csm_status st = csm_context_create(&ctx, NULL, err, sizeof err);
    ck_assert_msg(st == CSM_OK, "csm_context_create: %s: %s", csm_status_string(st), err);
    return ctx;
}

static int has_fp64(csm_context *ctx)
{
    return csm_context_device(ctx)->has_fp64;
}

static void make_tmpdir(char *dir, size_t len)
{
    snprintf(dir, len, "/tmp/csm-model-file-XXXXXX");
    ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
}

/* Number of entries in `dir` other than . and .. */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "opendir %s: %s", dir, strerror(errno));
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

/* Removes the files of a flat temporary directory, then the directory. */
static void remove_tmpdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static void write_bytes(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "fopen %s: %s", path, strerror(errno));
    ck_assert(fwrite(data, 1, len, f) == len);
    ck_assert(fclose(f) == 0);
}

/* Reads a whole file; *len gets its size. */
static unsigned char *read_bytes(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "fopen %s: %s", path, strerror(errno));
    ck_assert(fseek(f, 0, SEEK_END) == 0);
    long n = ftell(f);
    ck_assert(n >= 0);
    ck_assert(fseek(f, 0, SEEK_SET) == 0);
    unsigned char *buf = malloc((size_t)n + 1);
    ck_assert(buf != NULL);
    ck_assert(fread(buf, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static uint64_t u64le(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void put_u64le(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_f32le(unsigned char *p, float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(u >> (8 * i));
}

static double get_le(const unsigned char *p, int f64)
{
    if (f64) {
        uint64_t u = u64le(p);
        double x;
        memcpy(&x, &u, sizeof x);
        return x;
    }
    uint32_t u = 0;
    for (int i = 3; i >= 0; i--)
        u = (u << 8) | p[i];
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Writes a safetensors file: length of `header`, `header` with every '
 * turned into " (so that the tests can spell JSON legibly), then `data`. */
static void write_st(const char *path, const char *header, const unsigned char *data,
                     size_t data_len)
{
    size_t n = strlen(header);
    unsigned char *buf = malloc(8 + n + data_len + 1);
    ck_assert(buf != NULL);
    put_u64le(buf, n);
    for (size_t i = 0; i < n; i++)
        buf[8 + i] = header[i] == '\'' ? '"' : (unsigned char)header[i];
    if (data_len)
        memcpy(buf + 8 + n, data, data_len);
    write_bytes(path, buf, 8 + n + data_len);
    free(buf);
}

static void expect_error(csm_context *ctx, csm_status got, csm_status want, const char *phrase,
                         const char *what)
{
    const char *msg = csm_context_last_error(ctx);
    ck_assert_msg(got == want, "%s: status %s (%s), want %s", what, csm_status_string(got), msg,
                  csm_status_string(want));
    if (phrase)
        ck_assert_msg(strstr(msg, phrase) != NULL, "%s: message \"%s\" lacks \"%s\"", what, msg,
                      phrase);
}

/* A model with random parameters over the full double range of digits. */
static csm_model *random_model(csm_context *ctx, csm_precision prec, size_t C, size_t k,
                               uint64_t seed)
{
    csm_model *m = NULL;
    csm_status st = csm_model_create(ctx, &m, prec, C, k);
    ck_assert_msg(st == CSM_OK, "create: %s", csm_context_last_error(ctx));
    double *w = malloc(C * k * sizeof *w), *b = malloc(C * sizeof *b);
    ck_assert(w && b);
    uint64_t state = seed;
    csm_fill_uniform(w, C * k, &state, -3.0, 3.0);
    csm_fill_uniform(b, C, &state, -1.0, 1.0);
    ck_assert(csm_model_set_params(m, w, b) == CSM_OK);
    free(w);
    free(b);
    return m;
}

/* Exact comparison of two models: shape, precision, parameter bits,
 * labels and metadata. */
static void assert_same_model(csm_model *a, csm_model *b)
{
    size_t C = csm_model_n_classes(a), k = csm_model_n_features(a);
    ck_assert_uint_eq(csm_model_n_classes(b), C);
    ck_assert_uint_eq(csm_model_n_features(b), k);
    ck_assert_int_eq(csm_model_precision(b), csm_model_precision(a));
    double *wa = malloc(C * k * sizeof *wa), *wb = malloc(C * k * sizeof *wb);
    double *ba = malloc(C * sizeof *ba), *bb = malloc(C * sizeof *bb);
    ck_assert(wa && wb && ba && bb);
    ck_assert(csm_model_get_params(a, wa, ba) == CSM_OK);
    ck_assert(csm_model_get_params(b, wb, bb) == CSM_OK);
    for (size_t i = 0; i < C * k; i++)
        ck_assert_msg(memcmp(&wa[i], &wb[i], sizeof wa[i]) == 0, "weight[%zu]: %a != %a", i,
                      wa[i], wb[i]);
    for (size_t i = 0; i < C; i++)
        ck_assert_msg(memcmp(&ba[i], &bb[i], sizeof ba[i]) == 0, "bias[%zu]: %a != %a", i, ba[i],
                      bb[i]);
    const int64_t *la = csm_model_labels(a), *lb = csm_model_labels(b);
    for (size_t i = 0; i < C; i++)
        ck_assert_msg(la[i] == lb[i], "label %zu: %lld != %lld", i, (long long)la[i],
                      (long long)lb[i]);
    size_t n = csm_model_metadata_count(a);
    ck_assert_uint_eq(csm_model_metadata_count(b), n);
    for (size_t i = 0; i < n; i++) {
        const char *key = csm_model_metadata_key(a, i);
        const char *va = csm_model_get_metadata(a, key), *vb = csm_model_get_metadata(b, key);
        ck_assert_msg(vb != NULL, "metadata '%s' lost", key);
        ck_assert_str_eq(va, vb);
    }
    free(wa);
    free(wb);
    free(ba);
    free(bb);
}

/* ------------------------------------------------------------- round trips */

static void roundtrip(csm_precision prec, size_t C, size_t k, const int64_t *labels,
                      int with_metadata)
{
    csm_context *ctx = new_context();
    if (prec == CSM_FLOAT64 && !has_fp64(ctx)) {
        fprintf(stderr, "# device has no fp64: F64 round trip not run\n");
        csm_context_free(ctx);
        return;
    }
    char dir[64], path[128];
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);

    csm_model *m = random_model(ctx, prec, C, k, 42 + C * 10 + k);
    if (labels)
        ck_assert(csm_model_set_labels(m, labels) == CSM_OK);
    if (with_metadata) {
        ck_assert(csm_model_set_metadata(m, "note", "héllo, \"wörld\"\n\ttab") == CSM_OK);
        ck_assert(csm_model_set_metadata(m, "options", "{\"lr\":0.1,\"epochs\":20}") == CSM_OK);
        ck_assert(csm_model_set_metadata(m, "empty", "") == CSM_OK);
    }
    if (prec == CSM_FLOAT32) {
        /* the F32 model holds floats: the file must store them unrounded */
        double *w = malloc(C * k * sizeof *w);
        ck_assert(csm_model_get_params(m, w, NULL) == CSM_OK);
        for (size_t i = 0; i < C * k; i++)
            ck_assert(w[i] == (double)(float)w[i]);
        free(w);
    }

    csm_status st = csm_model_save(m, path);
    ck_assert_msg(st == CSM_OK, "save: %s", csm_context_last_error(ctx));
    ck_assert_int_eq(count_entries(dir), 1); /* no temporary file left */

    csm_model *loaded = NULL;
    st = csm_model_load(ctx, &loaded, path);
    ck_assert_msg(st == CSM_OK, "load: %s", csm_context_last_error(ctx));
    assert_same_model(m, loaded);
    if (!labels)
        for (size_t i = 0; i < C; i++)
            ck_assert_int_eq(csm_model_labels(loaded)[i], (int64_t)i);

    csm_model_free(loaded);
    csm_model_free(m);
    remove_tmpdir(dir);
    csm_context_free(ctx);
}

/* Tolerance: exact (bit equality of parameters). */
START_TEST(test_roundtrip_f32)
{
    const int64_t labels3[] = {1, 2, 3};
    const int64_t labels2[] = {-1, 1};
    roundtrip(CSM_FLOAT32, 3, 7, labels3, 1);
    roundtrip(CSM_FLOAT32, 2, 1, labels2, 0);
    roundtrip(CSM_FLOAT32, 5, 3, NULL, 1);
}
END_TEST

/* Tolerance: exact (bit equality of parameters; full double digits). */
START_TEST(test_roundtrip_f64)
{
    const int64_t labels3[] = {1, 2, 3};
    const int64_t labels2[] = {-1, 1};
    const int64_t big[] = {INT64_MIN, -5, INT64_MAX};
    roundtrip(CSM_FLOAT64, 3, 7, labels3, 1);
    roundtrip(CSM_FLOAT64, 2, 1, labels2, 1);
    roundtrip(CSM_FLOAT64, 3, 2, big, 0);
}
END_TEST

/* ------------------------------------------------------------ byte layout */

/* The saved file, byte by byte. Tolerance: exact. _i: 0 = F32, 1 = F64. */
START_TEST(test_file_layout)
{
    int f64 = _i;
    csm_context *ctx = new_context();
    if (f64 && !has_fp64(ctx)) {
        csm_context_free(ctx);
        return;
    }
    const size_t C = 3, k = 7, es = f64 ? 8 : 4;
    char dir[64], path[128];
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    csm_model *m = random_model(ctx, f64 ? CSM_FLOAT64 : CSM_FLOAT32, C, k, 7);
    const int64_t labels[] = {1, 2, 3};
    ck_assert(csm_model_set_labels(m, labels) == CSM_OK);
    ck_assert(csm_model_set_metadata(m, "note", "x") == CSM_OK);
    ck_assert_msg(csm_model_save(m, path) == CSM_OK, "%s", csm_context_last_error(ctx));
    double w[21], b[3];
    ck_assert(csm_model_get_params(m, w, b) == CSM_OK);

    size_t len;
    unsigned char *file = read_bytes(path, &len);
    ck_assert_uint_ge(len, 8);
    uint64_t n = u64le(file);
    ck_assert_uint_eq((8 + n) % 8, 0);
    ck_assert_uint_eq(len, 8 + n + (C + C * k) * es);
    ck_assert_int_eq(file[8], '{');

    json_error_t err;
    json_t *root = json_loadb((const char *)file + 8, n, JSON_REJECT_DUPLICATES, &err);
    ck_assert_msg(root != NULL, "header: %s", err.text);
    ck_assert_uint_eq(json_object_size(root), 3);

    const char *names[2] = {"bias", "weight"};
    const size_t counts[2] = {C, C * k};
    const double *values[2] = {b, w};
    uint64_t begins[2], ends[2];
    for (int t = 0; t < 2; t++) {
        json_t *e = json_object_get(root, names[t]);
        ck_assert_msg(json_is_object(e), "tensor %s", names[t]);
        ck_assert_uint_eq(json_object_size(e), 3);
        ck_assert_str_eq(json_string_value(json_object_get(e, "dtype")), f64 ? "F64" : "F32");
        json_t *shape = json_object_get(e, "shape");
        ck_assert_uint_eq(json_array_size(shape), (size_t)(t + 1));
        ck_assert_int_eq(json_integer_value(json_array_get(shape, 0)), (json_int_t)C);
        if (t == 1)
            ck_assert_int_eq(json_integer_value(json_array_get(shape, 1)), (json_int_t)k);
        json_t *off = json_object_get(e, "data_offsets");
        ck_assert_uint_eq(json_array_size(off), 2);
        begins[t] = (uint64_t)json_integer_value(json_array_get(off, 0));
        ends[t] = (uint64_t)json_integer_value(json_array_get(off, 1));
        ck_assert_uint_eq(ends[t] - begins[t], counts[t] * es);
        const unsigned char *p = file + 8 + n + begins[t];
        for (size_t i = 0; i < counts[t]; i++)
            ck_assert_msg(get_le(p + i * es, f64) == values[t][i], "%s[%zu]", names[t], i);
    }
    /* contiguous, no holes, covering exactly the data section */
    ck_assert(begins[0] == 0 ? begins[1] == ends[0] : (begins[1] == 0 && begins[0] == ends[1]));
    ck_assert_uint_eq(8 + n + (ends[0] > ends[1] ? ends[0] : ends[1]), len);

    json_t *meta = json_object_get(root, "__metadata__");
    ck_assert(json_is_object(meta));
    ck_assert_uint_eq(json_object_size(meta), 6);
    ck_assert_str_eq(json_string_value(json_object_get(meta, "format")), "clsoftmax");
    ck_assert_str_eq(json_string_value(json_object_get(meta, "format_version")), "1");
    ck_assert_str_eq(json_string_value(json_object_get(meta, "labels")), "[1,2,3]");
    ck_assert_str_eq(json_string_value(json_object_get(meta, "n_features")), "7");
    ck_assert_str_eq(json_string_value(json_object_get(meta, "n_classes")), "3");
    ck_assert_str_eq(json_string_value(json_object_get(meta, "note")), "x");
    json_decref(root);

    free(file);
    csm_model_free(m);
    remove_tmpdir(dir);
    csm_context_free(ctx);
}
END_TEST

/* ----------------------------------------------------- files from elsewhere */

/* Data for the crafted files: C = 3, k = 2, F32. bias {0.5, -1.25, 2},
 * weight {0.25, 0.5, ..., 1.5}: exactly representable. */
#define B32 "'bias':{'dtype':'F32','shape':[3],'data_offsets':[0,12]}"
#define W32 "'weight':{'dtype':'F32','shape':[3,2],'data_offsets':[12,36]}"
static const float craft_bias[3] = {0.5f, -1.25f, 2.0f};
static const float craft_weight[6] = {0.25f, 0.5f, 0.75f, 1.0f, 1.25f, 1.5f};

/* Bias then weight, or weight then bias, as 36 data bytes. */
static void craft_data(unsigned char *data, int weight_first)
{
    unsigned char *pb = data + (weight_first ? 24 : 0), *pw = data + (weight_first ? 0 : 12);
    for (int i = 0; i < 3; i++)
        put_f32le(pb + 4 * i, craft_bias[i]);
    for (int i = 0; i < 6; i++)
        put_f32le(pw + 4 * i, craft_weight[i]);
}

static void check_crafted(csm_model *m)
{
    ck_assert_int_eq(csm_model_precision(m), CSM_FLOAT32);
    ck_assert_uint_eq(csm_model_n_classes(m), 3);
    ck_assert_uint_eq(csm_model_n_features(m), 2);
    double w[6], b[3];
    ck_assert(csm_model_get_params(m, w, b) == CSM_OK);
    for (int i = 0; i < 6; i++)
        ck_assert(w[i] == craft_weight[i]);
    for (int i = 0; i < 3; i++)
        ck_assert(b[i] == craft_bias[i]);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(csm_model_labels(m)[i], i);
}

/* A file as PyTorch's safetensors writes it: no __metadata__, tensors in
 * either order, no padding. Tolerance: exact. */
START_TEST(test_pytorch_style)
{
    csm_context *ctx = new_context();
    char dir[64], path[128];
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/torch.safetensors", dir);
    unsigned char data[36];
    csm_model *m = NULL;

    craft_data(data, 0);
    write_st(path, "{" B32 "," W32 "}", data, sizeof data);
    csm_status st = csm_model_load(ctx, &m, path);
    ck_assert_msg(st == CSM_OK, "%s", csm_context_last_error(ctx));
    check_crafted(m);
    ck_assert_uint_eq(csm_model_metadata_count(m), 0);
    csm_model_free(m);

    /* weight first in the data, written first in the header */
    craft_data(data, 1);
    write_st(path,
             "{'weight':{'dtype':'F32','shape':[3,2],'data_offsets':[0,24]},"
             "'bias':{'shape':[3],'dtype':'F32','data_offsets':[24,36]}}",
             data, sizeof data);
    st = csm_model_load(ctx, &m, path);
    ck_assert_msg(st == CSM_OK, "%s", csm_context_last_error(ctx));
    check_crafted(m);
    csm_model_free(m);

    /* user metadata but no format key: kept, labels default */
    craft_data(data, 0);
    write_st(path, "{'__metadata__':{'author':'someone'}," B32 "," W32 "}", data, sizeof data);
    st = csm_model_load(ctx, &m, path);
    ck_assert_msg(st == CSM_OK, "%s", csm_context_last_error(ctx));
    check_crafted(m);
    ck_assert_uint_eq(csm_model_metadata_count(m), 1);
    ck_assert_str_eq(csm_model_get_metadata(m, "author"), "someone");
    csm_model_free(m);

    /* our own keys, in full, with space padding and labels */
    write_st(path,
             "{'__metadata__':{'format':'clsoftmax','format_version':'1','labels':'[-7, 0, 9]',"
             "'n_features':'2','n_classes':'3'}," B32 "," W32 "}      ",
             data, sizeof data);
    st = csm_model_load(ctx, &m, path);
    ck_assert_msg(st == CSM_OK, "%s", csm_context_last_error(ctx));
    ck_assert_int_eq(csm_model_labels(m)[0], -7);
    ck_assert_int_eq(csm_model_labels(m)[1], 0);
    ck_assert_int_eq(csm_model_labels(m)[2], 9);
    ck_assert_uint_eq(csm_model_metadata_count(m), 0);
    csm_model_free(m);

    remove_tmpdir(dir);
    csm_context_free(ctx);
}
END_TEST

/* ---------------------------------------------------------------- bad files */

typedef struct bad_case {
    const char *name;
    const char *header;        /* NULL: the file is `raw` */
    size_t data_len;           /* data bytes after the header: the crafted data, zero-extended */
    int poke_at;               /* >= 0: a float with bits `poke` at this data offset */
    uint32_t poke;
    const char *raw;
    size_t raw_len;
    const char *phrase, *phrase2; /* must appear in the error message */
} bad_case;

#define HDR(h, len) h, len, -1, 0, NULL, 0
#define RAW(r) NULL, 0, -1, 0, r, sizeof r - 1
#define GOOD "{" B32 "," W32 "}"
#define META(m) "{'__metadata__':{" m "}," B32 "," W32 "}"

static const bad_case bad_cases[] = {
    {"empty file", RAW(""), "shorter than the 8-byte", "0 bytes"},
    {"short file", RAW("\x02\0\0\0"), "shorter than the 8-byte", "4 bytes"},
    {"header length past the end", RAW("\xe8\x03\0\0\0\0\0\0{}"), "header length 1000",
     "2 bytes"},
    {"absurd header length", RAW("\0\0\0\0\0\0\0\x40{}"), "exceeds the limit", NULL},
    {"zero header length", RAW("\0\0\0\0\0\0\0\0"), "does not start with '{'", NULL},
    {"header not an object", HDR("[1,2]", 36), "does not start with '{'", NULL},
    {"header leading space", HDR(" " GOOD, 36), "does not start with '{'", NULL},
    {"header truncated JSON", HDR("{'bias':", 36), "not valid JSON", "byte"},
    {"header trailing garbage", HDR(GOOD "x", 36), "not valid JSON", NULL},
    {"header control byte", HDR(GOOD "\x01", 36), "not valid JSON", NULL},
    {"duplicate key", HDR("{" B32 "," B32 "," W32 "}", 36), "not valid JSON", "duplicate"},
    {"invalid UTF-8", HDR(META("'a':'\xff\xfe'"), 36), "not valid JSON", NULL},
    {"missing weight", HDR("{" B32 "}", 12), "missing tensor 'weight'", NULL},
    {"missing bias", HDR("{" W32 "}", 36), "missing tensor 'bias'", NULL},
    {"no tensors", HDR("{}", 0), "missing tensor 'weight' and 'bias'", NULL},
    {"extra tensor",
     HDR("{" B32 "," W32 ",'extra':{'dtype':'F32','shape':[1],'data_offsets':[36,40]}}", 40),
     "unexpected tensor", "'extra'"},
    {"two extra tensors",
     HDR("{" B32 "," W32 ",'x':{},'y':{}}", 36), "unexpected tensors", "'x', 'y'"},
    {"entry not an object", HDR("{'bias':[0,12]," W32 "}", 36), "'bias': entry is not a JSON object",
     NULL},
    {"unknown field",
     HDR("{'bias':{'dtype':'F32','shape':[3],'data_offsets':[0,12],'foo':1}," W32 "}", 36),
     "unknown field 'foo'", NULL},
    {"missing dtype", HDR("{'bias':{'shape':[3],'data_offsets':[0,12]}," W32 "}", 36),
     "missing field 'dtype'", NULL},
    {"dtype not a string",
     HDR("{'bias':{'dtype':32,'shape':[3],'data_offsets':[0,12]}," W32 "}", 36),
     "dtype is not a string", NULL},
    {"dtype F16", HDR("{'bias':{'dtype':'F16','shape':[3],'data_offsets':[0,6]}," W32 "}", 36),
     "dtype 'F16'", "only F32 and F64"},
    {"dtypes differ",
     HDR("{'bias':{'dtype':'F64','shape':[3],'data_offsets':[0,24]},"
         "'weight':{'dtype':'F32','shape':[3,2],'data_offsets':[24,48]}}",
         48),
     "different dtypes", "weight is F32, bias is F64"},
    {"weight rank 1",
     HDR("{" B32 ",'weight':{'dtype':'F32','shape':[6],'data_offsets':[12,36]}}", 36),
     "'weight' has rank 1", NULL},
    {"weight rank 3",
     HDR("{" B32 ",'weight':{'dtype':'F32','shape':[3,2,1],'data_offsets':[12,36]}}", 36),
     "'weight' has rank 3", NULL},
    {"bias rank 2",
     HDR("{'bias':{'dtype':'F32','shape':[3,1],'data_offsets':[0,12]}," W32 "}", 36),
     "'bias' has rank 2", NULL},
    {"zero features",
     HDR("{" B32 ",'weight':{'dtype':'F32','shape':[3,0],'data_offsets':[12,12]}}", 12),
     "zero dimension", "[3, 0]"},
    {"zero classes",
     HDR("{'bias':{'dtype':'F32','shape':[0],'data_offsets':[0,0]},"
         "'weight':{'dtype':'F32','shape':[0,2],'data_offsets':[0,0]}}",
         0),
     "zero dimension", NULL},
    {"one class",
     HDR("{'bias':{'dtype':'F32','shape':[1],'data_offsets':[0,4]},"
         "'weight':{'dtype':'F32','shape':[1,2],'data_offsets':[4,12]}}",
         12),
     "at least 2 classes", NULL},
    {"bias and weight disagree",
     HDR("{'bias':{'dtype':'F32','shape':[4],'data_offsets':[0,16]},"
         "'weight':{'dtype':'F32','shape':[3,2],'data_offsets':[16,40]}}",
         40),
     "inconsistent shapes", "bias has shape [4] but weight has shape [3, 2]"},
    {"negative dimension",
     HDR("{" B32 ",'weight':{'dtype':'F32','shape':[3,-2],'data_offsets':[12,36]}}", 36),
     "shape must be an array of non-negative integers", NULL},
    {"real dimension",
     HDR("{" B32 ",'weight':{'dtype':'F32','shape':[3,2.0],'data_offsets':[12,36]}}", 36),
     "shape must be an array of non-negative integers", NULL},
    {"huge dimensions",
     HDR("{" B32 ",'weight':{'dtype':'F32','shape':[3,4611686018427387904],"
         "'data_offsets':[12,36]}}",
         36),
     "too large", NULL},
    {"one offset", HDR("{" B32 ",'weight':{'dtype':'F32','shape':[3,2],'data_offsets':[12]}}", 36),
     "data_offsets must be two", NULL},
    {"decreasing offsets",
     HDR("{" B32 ",'weight':{'dtype':'F32','shape':[3,2],'data_offsets':[36,12]}}", 36),
     "data_offsets must be two", NULL},
    {"string offsets",
     HDR("{" B32 ",'weight':{'dtype':'F32','shape':[3,2],'data_offsets':['12','36']}}", 36),
     "data_offsets must be two", NULL},
    {"offsets span wrong size",
     HDR("{" B32 ",'weight':{'dtype':'F32','shape':[3,2],'data_offsets':[12,40]}}", 40),
     "span 28 bytes", "needs 24"},
    {"overlap",
     HDR("{" B32 ",'weight':{'dtype':'F32','shape':[3,2],'data_offsets':[8,32]}}", 32),
     "overlap", NULL},
    {"same offsets",
     HDR("{'bias':{'dtype':'F32','shape':[3],'data_offsets':[0,12]},"
         "'weight':{'dtype':'F32','shape':[3,1],'data_offsets':[0,12]}}",
         12),
     "overlap", NULL},
    {"hole between",
     HDR("{" B32 ",'weight':{'dtype':'F32','shape':[3,2],'data_offsets':[16,40]}}", 40),
     "hole in the data", "4 unused bytes between"},
    {"hole at start",
     HDR("{'bias':{'dtype':'F32','shape':[3],'data_offsets':[4,16]},"
         "'weight':{'dtype':'F32','shape':[3,2],'data_offsets':[16,40]}}",
         40),
     "hole in the data", "4 unused bytes before"},
    {"trailing byte", HDR(GOOD, 37), "file size is", "but the header describes"},
    {"truncated data", HDR(GOOD, 35), "file size is", "but the header describes"},
    {"NaN in weight", GOOD, 36, 12 + 4 * 3, 0x7fc00000u, NULL, 0, "non-finite",
     "'weight' has a non-finite value (nan) at [1, 1]"},
    {"Inf in bias", GOOD, 36, 4, 0x7f800000u, NULL, 0, "non-finite",
     "'bias' has a non-finite value (inf) at [1]"},
    {"-Inf in weight", GOOD, 36, 32, 0xff800000u, NULL, 0, "non-finite", "at [2, 1]"},
    {"metadata not an object", HDR("{'__metadata__':['a']," B32 "," W32 "}", 36),
     "__metadata__ is not a JSON object", NULL},
    {"metadata value not a string", HDR(META("'epochs':20"), 36), "value of 'epochs' is not a string",
     NULL},
    {"metadata empty key", HDR(META("'':'x'"), 36), "empty key", NULL},
    {"foreign format", HDR(META("'format':'pt'"), 36), "format is 'pt'", NULL},
    {"future version", HDR(META("'format':'clsoftmax','format_version':'2'"), 36),
     "unsupported format_version '2'", NULL},
    {"labels not JSON", HDR(META("'labels':'[1,2'"), 36), "labels is not valid JSON", NULL},
    {"labels not an array", HDR(META("'labels':'{\\'a\\':1}'"), 36), "must be a JSON array",
     NULL},
    {"labels too few", HDR(META("'labels':'[1,2]'"), 36), "labels has 2 values", "3 classes"},
    {"labels too many", HDR(META("'labels':'[1,2,3,4]'"), 36), "labels has 4 values", NULL},
    {"labels not increasing", HDR(META("'labels':'[1,3,2]'"), 36), "strictly increasing", NULL},
    {"labels repeated", HDR(META("'labels':'[1,1,2]'"), 36), "strictly increasing", NULL},
    {"labels not integers", HDR(META("'labels':'[1,2,3.5]'"), 36), "labels[2] is not an integer",
     NULL},
    {"n_classes wrong", HDR(META("'n_classes':'4'"), 36), "n_classes is 4", NULL},
    {"n_features wrong", HDR(META("'n_features':'5'"), 36), "n_features is 5", NULL},
    {"n_features not a number", HDR(META("'n_features':'2x'"), 36), "not a decimal integer",
     NULL},
};
#define N_BAD_CASES ((int)(sizeof bad_cases / sizeof bad_cases[0]))

/* Each malformed file is refused with CSM_ERR_FORMAT and a message naming
 * the file and the defect; nothing is returned. */
START_TEST(test_bad_file)
{
    const bad_case *c = &bad_cases[_i];
    csm_context *ctx = new_context();
    char dir[64], path[128];
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/bad.safetensors", dir);

    if (c->header) {
        unsigned char *data = calloc(c->data_len + 1, 1);
        ck_assert(data != NULL);
        unsigned char good[36];
        craft_data(good, 0);
        memcpy(data, good, c->data_len < 36 ? c->data_len : 36);
        if (c->poke_at >= 0) {
            float f;
            memcpy(&f, &c->poke, sizeof f);
            put_f32le(data + c->poke_at, f);
        }
        write_st(path, c->header, data, c->data_len);
        free(data);
    } else {
        write_bytes(path, c->raw, c->raw_len);
    }

    csm_model *m = (csm_model *)&m; /* must be reset to NULL */
    csm_status st = csm_model_load(ctx, &m, path);
    expect_error(ctx, st, CSM_ERR_FORMAT, c->phrase, c->name);
    if (c->phrase2)
        expect_error(ctx, st, CSM_ERR_FORMAT, c->phrase2, c->name);
    expect_error(ctx, st, CSM_ERR_FORMAT, path, c->name);
    ck_assert_msg(m == NULL, "%s: *out not NULL after failure", c->name);

    remove_tmpdir(dir);
    csm_context_free(ctx);
}
END_TEST

/* The well-formed version of the crafted file loads, so that each bad case
 * fails for its own defect only. */
START_TEST(test_bad_file_control)
{
    csm_context *ctx = new_context();
    char dir[64], path[128];
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/good.safetensors", dir);
    unsigned char data[36];
    craft_data(data, 0);
    write_st(path, META("'format':'clsoftmax','format_version':'1','labels':'[1,2,3]',"
                        "'n_classes':'3','n_features':'2','a':'b'"),
             data, sizeof data);
    csm_model *m = NULL;
    ck_assert_msg(csm_model_load(ctx, &m, path) == CSM_OK, "%s", csm_context_last_error(ctx));
    csm_model_free(m);
    remove_tmpdir(dir);
    csm_context_free(ctx);
}
END_TEST

/* ---------------------------------------------------------- I/O and args */

START_TEST(test_load_io_errors)
{
    csm_context *ctx = new_context();
    char dir[64], path[128];
    make_tmpdir(dir, sizeof dir);
    csm_model *m = NULL;

    snprintf(path, sizeof path, "%s/absent.safetensors", dir);
    csm_status st = csm_model_load(ctx, &m, path);
    expect_error(ctx, st, CSM_ERR_IO, "No such file or directory", "absent file");
    expect_error(ctx, st, CSM_ERR_IO, path, "absent file");
    ck_assert(m == NULL);

    st = csm_model_load(ctx, &m, dir);
    expect_error(ctx, st, CSM_ERR_IO, "Is a directory", "directory");
    ck_assert(m == NULL);

    remove_tmpdir(dir);
    csm_context_free(ctx);
}
END_TEST

START_TEST(test_null_arguments)
{
    csm_context *ctx = new_context();
    csm_model *m = NULL;
    ck_assert(csm_model_create(ctx, &m, CSM_FLOAT32, 2, 1) == CSM_OK);
    csm_model *out = m;
    ck_assert_int_eq(csm_model_save(NULL, "/tmp/x"), CSM_ERR_NULL_ARGUMENT);
    expect_error(ctx, csm_model_save(m, NULL), CSM_ERR_NULL_ARGUMENT, "path is NULL", "save");
    ck_assert_int_eq(csm_model_load(NULL, &out, "/tmp/x"), CSM_ERR_NULL_ARGUMENT);
    ck_assert(out == NULL);
    expect_error(ctx, csm_model_load(ctx, NULL, "/tmp/x"), CSM_ERR_NULL_ARGUMENT, "out is NULL",
                 "load");
    out = m;
    expect_error(ctx, csm_model_load(ctx, &out, NULL), CSM_ERR_NULL_ARGUMENT, "path is NULL",
                 "load");
    ck_assert(out == NULL);
    csm_model_free(m);
    csm_context_free(ctx);
}
END_TEST

/* A save into a missing directory fails with CSM_ERR_IO and creates
 * nothing. */
START_TEST(test_save_missing_dir)
{
    csm_context *ctx = new_context();
    char dir[64], sub[96], path[160];
    make_tmpdir(dir, sizeof dir);
    snprintf(sub, sizeof sub, "%s/missing", dir);
    snprintf(path, sizeof path, "%s/model.safetensors", sub);
    csm_model *m = random_model(ctx, CSM_FLOAT32, 2, 3, 1);
    csm_status st = csm_model_save(m, path);
    expect_error(ctx, st, CSM_ERR_IO, "No such file or directory", "missing dir");
    expect_error(ctx, st, CSM_ERR_IO, path, "missing dir");
    struct stat sb;
    ck_assert(stat(sub, &sb) != 0 && errno == ENOENT);
    ck_assert_int_eq(count_entries(dir), 0);
    csm_model_free(m);
    remove_tmpdir(dir);
    csm_context_free(ctx);
}
END_TEST

/* Saving over an existing file replaces it whole, keeps its permissions
 * and leaves no temporary file. Tolerance: exact. */
START_TEST(test_save_replaces)
{
    csm_context *ctx = new_context();
    char dir[64], path[128];
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    const char junk[] = "the previous contents, which must disappear entirely";
    write_bytes(path, junk, sizeof junk);
    ck_assert(chmod(path, 0640) == 0);

    csm_model *a = random_model(ctx, CSM_FLOAT32, 3, 4, 11);
    csm_model *b = random_model(ctx, CSM_FLOAT32, 2, 1, 12);
    ck_assert_msg(csm_model_save(a, path) == CSM_OK, "%s", csm_context_last_error(ctx));
    ck_assert_int_eq(count_entries(dir), 1);
    struct stat sb;
    ck_assert(stat(path, &sb) == 0);
    ck_assert_uint_eq(sb.st_mode & 0777, 0640);

    csm_model *loaded = NULL;
    ck_assert(csm_model_load(ctx, &loaded, path) == CSM_OK);
    assert_same_model(a, loaded);
    csm_model_free(loaded);

    /* a smaller model over the bigger file: nothing of the old one stays */
    ck_assert_msg(csm_model_save(b, path) == CSM_OK, "%s", csm_context_last_error(ctx));
    ck_assert_int_eq(count_entries(dir), 1);
    ck_assert(csm_model_load(ctx, &loaded, path) == CSM_OK);
    assert_same_model(b, loaded);
    csm_model_free(loaded);

    csm_model_free(a);
    csm_model_free(b);
    remove_tmpdir(dir);
    csm_context_free(ctx);
}
END_TEST

static Suite *model_file_suite(void)
{
    Suite *s = suite_create("model_file");
    TCase *tc = tcase_create("roundtrip");
    tcase_set_timeout(tc, CSM_DEVICE_TIMEOUT);
    tcase_add_test(tc, test_roundtrip_f32);
    tcase_add_test(tc, test_roundtrip_f64);
    tcase_add_loop_test(tc, test_file_layout, 0, 2);
    tcase_add_test(tc, test_pytorch_style);
    suite_add_tcase(s, tc);

    tc = tcase_create("bad_files");
    tcase_set_timeout(tc, CSM_DEVICE_TIMEOUT);
    tcase_add_test(tc, test_bad_file_control);
    tcase_add_loop_test(tc, test_bad_file, 0, N_BAD_CASES);
    tcase_add_test(tc, test_load_io_errors);
    tcase_add_test(tc, test_null_arguments);
    suite_add_tcase(s, tc);

    tc = tcase_create("saving");
    tcase_set_timeout(tc, CSM_DEVICE_TIMEOUT);
    tcase_add_test(tc, test_save_missing_dir);
    tcase_add_test(tc, test_save_replaces);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return csm_test_main(model_file_suite(), 1);
}
