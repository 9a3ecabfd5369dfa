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
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clsoftmax.h"
#include "internal.h" /* the solver state a model carries: set up and read back directly */
#include "problem.h"
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
    csm_context *ctx = new_context();
    int fp64 = test_has_fp64(ctx);
    csm_context_free(ctx);
    if (!fp64)
        CSM_TEST_SKIP("the device has no float64: no F64 round trip");
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
    if (f64 && !test_has_fp64(ctx)) {
        csm_context_free(ctx);
        CSM_TEST_SKIP("the device has no float64");
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
/* Solver state for the crafted model: the tensors follow weight in the data
 * (v at 36..72, and m after it where given); SMETA the metadata naming the
 * solver; STATE a header with metadata and extra tensors t. */
#define SVW ",'state.v.weight':{'dtype':'F32','shape':[3,2],'data_offsets':[36,60]}"
#define SVB ",'state.v.bias':{'dtype':'F32','shape':[3],'data_offsets':[60,72]}"
#define SMW(off) ",'state.m.weight':{'dtype':'F32','shape':[3,2],'data_offsets':" off "}"
#define SMB(off) ",'state.m.bias':{'dtype':'F32','shape':[3],'data_offsets':" off "}"
#define SMETA(solver) "'solver_state':'" solver "','solver_iterations':'4','solver_steps':'12'"
#define STATE(m, t) "{'__metadata__':{" m "}," B32 "," W32 t "}"

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
    /* solver state: tensors and metadata only whole and consistent */
    {"state tensors without metadata", HDR("{" B32 "," W32 SVW SVB "}", 72),
     "solver state tensor 'state.v.weight' but no __metadata__ solver_state", NULL},
    {"state tensors, metadata without solver_state",
     HDR(STATE("'format':'clsoftmax','a':'b'", SVW SVB), 72), "no __metadata__ solver_state",
     NULL},
    {"momentum state without tensors", HDR(META(SMETA("momentum")), 36),
     "solver_state 'momentum' needs tensor 'state.v.weight'", "missing"},
    {"adam state without tensors", HDR(META(SMETA("adam")), 36),
     "solver_state 'adam' needs tensor 'state.m.weight'", NULL},
    {"adam state with v only", HDR(STATE(SMETA("adam"), SVW SVB), 72),
     "solver_state 'adam' needs tensor 'state.m.weight'", NULL},
    {"adam state without v bias",
     HDR(STATE(SMETA("adam"), SVW SMW("[60,84]") SMB("[84,96]")), 96),
     "solver_state 'adam' needs tensor 'state.v.bias'", NULL},
    {"momentum state without v bias", HDR(STATE(SMETA("momentum"), SVW), 60),
     "solver_state 'momentum' needs tensor 'state.v.bias'", NULL},
    {"momentum state with m",
     HDR(STATE(SMETA("momentum"), SVW SVB SMW("[72,96]") SMB("[96,108]")), 108),
     "unexpected tensor 'state.m.weight'", "solver_state 'momentum' keeps only"},
    {"momentum state with m bias", HDR(STATE(SMETA("momentum"), SVW SVB SMB("[72,84]")), 84),
     "unexpected tensor 'state.m.bias'", NULL},
    {"sgd state with v", HDR(STATE(SMETA("sgd"), SVW SVB), 72),
     "unexpected tensor 'state.v.weight'", "solver_state 'sgd' keeps no moment tensors"},
    {"lbfgs state with v", HDR(STATE(SMETA("lbfgs"), SVW SVB), 72),
     "unexpected tensor 'state.v.weight'", "solver_state 'lbfgs' keeps no moment tensors"},
    {"lbfgs state with m", HDR(STATE(SMETA("lbfgs"), SMW("[36,60]") SMB("[60,72]")), 72),
     "unexpected tensor 'state.m.weight'", NULL},
    {"state weight transposed",
     HDR(STATE(SMETA("momentum"),
               ",'state.v.weight':{'dtype':'F32','shape':[2,3],'data_offsets':[36,60]}" SVB),
         72),
     "solver state tensor 'state.v.weight' has shape [2, 3] but weight has shape [3, 2]", NULL},
    {"state weight too many rows",
     HDR(STATE(SMETA("momentum"), ",'state.v.weight':{'dtype':'F32','shape':[4,2],"
                                  "'data_offsets':[36,68]},'state.v.bias':{'dtype':'F32',"
                                  "'shape':[3],'data_offsets':[68,80]}"),
         80),
     "'state.v.weight' has shape [4, 2] but weight has shape [3, 2]", NULL},
    {"state bias wrong length",
     HDR(STATE(SMETA("momentum"),
               SVW ",'state.v.bias':{'dtype':'F32','shape':[4],'data_offsets':[60,76]}"),
         76),
     "'state.v.bias' has shape [4] but bias has shape [3]", NULL},
    {"state weight rank 1",
     HDR(STATE(SMETA("momentum"),
               ",'state.v.weight':{'dtype':'F32','shape':[6],'data_offsets':[36,60]}" SVB),
         72),
     "'state.v.weight' has rank 1", "expected rank 2"},
    {"state bias rank 2",
     HDR(STATE(SMETA("momentum"),
               SVW ",'state.v.bias':{'dtype':'F32','shape':[3,1],'data_offsets':[60,72]}"),
         72),
     "'state.v.bias' has rank 2", NULL},
    {"state dtype differs",
     HDR(STATE(SMETA("momentum"), ",'state.v.weight':{'dtype':'F64','shape':[3,2],"
                                  "'data_offsets':[36,84]},'state.v.bias':{'dtype':'F32',"
                                  "'shape':[3],'data_offsets':[84,96]}"),
         96),
     "solver state tensor 'state.v.weight' is F64 but weight is F32", NULL},
    {"state dtype F16",
     HDR(STATE(SMETA("momentum"),
               SVW ",'state.v.bias':{'dtype':'F16','shape':[3],'data_offsets':[60,66]}"),
         66),
     "'state.v.bias' has dtype 'F16'", NULL},
    {"state span wrong size",
     HDR(STATE(SMETA("momentum"),
               ",'state.v.weight':{'dtype':'F32','shape':[3,2],'data_offsets':[36,64]}"
               ",'state.v.bias':{'dtype':'F32','shape':[3],'data_offsets':[64,76]}"),
         76),
     "'state.v.weight': data_offsets [36, 64] span 28 bytes", "needs 24"},
    {"hole between state tensors",
     HDR(STATE(SMETA("momentum"),
               SVW ",'state.v.bias':{'dtype':'F32','shape':[3],'data_offsets':[64,76]}"),
         76),
     "hole in the data", "4 unused bytes between tensors 'state.v.weight' and 'state.v.bias'"},
    {"state tensor overlaps weight",
     HDR(STATE(SMETA("momentum"),
               ",'state.v.weight':{'dtype':'F32','shape':[3,2],'data_offsets':[32,56]}"
               ",'state.v.bias':{'dtype':'F32','shape':[3],'data_offsets':[56,68]}"),
         68),
     "overlap", "'state.v.weight' [32, 56]"},
    {"state tensors share offsets",
     HDR(STATE(SMETA("adam"), SVW SVB SMW("[36,60]") SMB("[60,72]")), 72), "overlap", NULL},
    {"state data truncated", HDR(STATE(SMETA("momentum"), SVW SVB), 71), "file size is",
     "but the header describes"},
    {"state data missing", HDR(STATE(SMETA("momentum"), SVW SVB), 36), "file size is", NULL},
    {"NaN in state weight", STATE(SMETA("momentum"), SVW SVB), 72, 36 + 4 * 3, 0x7fc00000u, NULL,
     0, "non-finite", "'state.v.weight' has a non-finite value (nan) at [1, 1]"},
    {"Inf in state bias", STATE(SMETA("momentum"), SVW SVB), 72, 60 + 4, 0x7f800000u, NULL, 0,
     "non-finite", "'state.v.bias' has a non-finite value (inf) at [1]"},
    {"-Inf in adam m", STATE(SMETA("adam"), SVW SVB SMW("[72,96]") SMB("[96,108]")), 108, 72,
     0xff800000u, NULL, 0, "non-finite",
     "'state.m.weight' has a non-finite value (-inf) at [0, 0]"},
    {"unknown solver", HDR(META(SMETA("rmsprop")), 36),
     "solver_state 'rmsprop' is not a known solver", "sgd, momentum, adam, lbfgs"},
    {"solver name not canonical", HDR(META(SMETA("Adam")), 36),
     "solver_state 'Adam' is not a known solver", NULL},
    {"empty solver name", HDR(META(SMETA("")), 36), "solver_state '' is not a known solver", NULL},
    {"solver_iterations without solver_state", HDR(META("'solver_iterations':'3'"), 36),
     "has solver_iterations but no solver_state", NULL},
    {"solver_steps without solver_state", HDR(META("'solver_steps':'3'"), 36),
     "has solver_steps but no solver_state", NULL},
    {"solver_state without solver_iterations",
     HDR(META("'solver_state':'lbfgs','solver_steps':'1'"), 36),
     "solver_state 'lbfgs' but no solver_iterations", NULL},
    {"solver_state without solver_steps",
     HDR(META("'solver_state':'lbfgs','solver_iterations':'1'"), 36),
     "solver_state 'lbfgs' but no solver_steps", NULL},
    {"solver_steps negative",
     HDR(META("'solver_state':'lbfgs','solver_iterations':'1','solver_steps':'-1'"), 36),
     "solver_steps '-1' is not a decimal integer", NULL},
    {"solver_iterations not a number",
     HDR(META("'solver_state':'lbfgs','solver_iterations':'1e3','solver_steps':'1'"), 36),
     "solver_iterations '1e3' is not a decimal integer", NULL},
    {"solver_iterations beyond u64",
     HDR(META("'solver_state':'lbfgs','solver_iterations':'99999999999999999999',"
              "'solver_steps':'1'"),
         36),
     "not a decimal integer", NULL},
    {"solver_steps beyond long",
     HDR(META("'solver_state':'lbfgs','solver_iterations':'1',"
              "'solver_steps':'18446744073709551615'"),
         36),
     "solver_steps 18446744073709551615 is too large", NULL},
    {"solver_state not a string", HDR(META("'solver_state':2"), 36),
     "value of 'solver_state' is not a string", NULL},
    {"unknown state tensor",
     HDR("{" B32 "," W32 ",'state.m.w':{'dtype':'F32','shape':[3,2],'data_offsets':[36,60]}}",
         60),
     "unexpected tensor 'state.m.w'",
     "optionally solver state tensors 'state.m.weight', 'state.m.bias', 'state.v.weight', "
     "'state.v.bias'"},
    /* class names: one printable line each, no two alike (a newline split
     * predict's lines; a duplicate made eval score right answers wrong) */
#define NAMES(a) HDR(META("'label_names':'" a "'"), 36)
    {"label_names: a duplicate", NAMES("[\\\"a\\\",\\\"b\\\",\\\"a\\\"]"),
     "__metadata__ label_names", "the name 'a' is given to two classes"},
    {"label_names: a newline", NAMES("[\\\"a\\\\nb\\\",\\\"b\\\",\\\"c\\\"]"),
     "__metadata__ label_names", "entry 1 holds a control character"},
    {"label_names: a tab", NAMES("[\\\"a\\\",\\\"b\\\\t\\\",\\\"c\\\"]"),
     "__metadata__ label_names", "entry 2 holds a control character"},
    {"label_names: DEL", NAMES("[\\\"a\\\",\\\"b\\\",\\\"\x7f\\\"]"),
     "__metadata__ label_names", "entry 3 holds a control character"},
    {"label_names: a C1 control (U+0085)",
     NAMES("[\\\"a\\\\u0085\\\",\\\"b\\\",\\\"c\\\"]"),
     "__metadata__ label_names", "entry 1 holds a control character"},
    {"label_names: too few", NAMES("[\\\"a\\\",\\\"b\\\"]"), "__metadata__ label_names",
     "is not a JSON array of the model's 3 class names"},
    {"label_names: not strings", NAMES("[1,2,3]"), "__metadata__ label_names",
     "entry 1 is not a string"},
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
    expect_error(ctx, st, CSM_ERR_IO, "is a directory, not a regular file", "directory");
    ck_assert(m == NULL);

    /* a named pipe with no writer: refused at once, never waited on */
    snprintf(path, sizeof path, "%s/fifo.safetensors", dir);
    ck_assert(mkfifo(path, 0600) == 0);
    st = csm_model_load(ctx, &m, path);
    expect_error(ctx, st, CSM_ERR_IO, "is a named pipe (FIFO), not a regular file", "fifo");
    ck_assert(m == NULL);
    ck_assert(unlink(path) == 0);

    /* a device: /dev/zero would be an endless read */
    st = csm_model_load(ctx, &m, "/dev/zero");
    expect_error(ctx, st, CSM_ERR_IO, "is a character device, not a regular file", "/dev/zero");
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

/* The class names are checked where they enter a model: set through
 * csm_model_set_metadata (CSM_ERR_INVALID_VALUE, the model unchanged) as
 * on load; good names, any printable UTF-8, pass and travel. */
START_TEST(test_label_names_set)
{
    csm_context *ctx = new_context();
    csm_model *m = random_model(ctx, CSM_FLOAT32, 3, 2, 5);
    const char *bad[][2] = {
        {"[\"a\",\"b\",\"a\"]", "the name 'a' is given to two classes"},
        {"[\"a\\nb\",\"b\",\"c\"]", "entry 1 holds a control character"},
        {"[\"a\",\"b\\r\",\"c\"]", "entry 2 holds a control character"},
        {"[\"a\",\"b\"]", "not a JSON array of the model's 3 class names"},
        {"[\"a\",\"b\",null]", "entry 3 is not a string"},
        {"not json", "not a JSON array"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        csm_status st = csm_model_set_metadata(m, "label_names", bad[i][0]);
        expect_error(ctx, st, CSM_ERR_INVALID_VALUE, bad[i][1], bad[i][0]);
        expect_error(ctx, st, CSM_ERR_INVALID_VALUE, "metadata label_names", bad[i][0]);
        ck_assert_ptr_null(csm_model_get_metadata(m, "label_names"));
    }
    const char *good = "[\"setosa\",\"versi & color\",\"<vir gin\u00edca>\"]";
    ck_assert_int_eq(csm_model_set_metadata(m, "label_names", good), CSM_OK);
    char dir[64], path[128];
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/names.safetensors", dir);
    ck_assert_int_eq(csm_model_save(m, path), CSM_OK);
    csm_model *l = NULL;
    ck_assert_int_eq(csm_model_load(ctx, &l, path), CSM_OK);
    ck_assert_str_eq(csm_model_get_metadata(l, "label_names"), good);
    csm_model_free(l);
    ck_assert_int_eq(csm_model_set_metadata(m, "label_names", NULL), CSM_OK);
    unlink(path);
    remove_tmpdir(dir);
    csm_model_free(m);
    csm_context_free(ctx);
}
END_TEST

/* A save never replaces what is not a regular file: a named pipe, a
 * character device (as root, renaming over /dev/null made it a regular
 * file), a symbolic link to one, a directory. Each is refused with
 * CSM_ERR_IO naming the path and what it is, before any byte is written,
 * and stays what it was; nothing is left in the directory. */
START_TEST(test_save_refuses_special)
{
    csm_context *ctx = new_context();
    char dir[64], fifo[128], link[128], sub[128];
    make_tmpdir(dir, sizeof dir);
    snprintf(fifo, sizeof fifo, "%s/fifo.safetensors", dir);
    snprintf(link, sizeof link, "%s/link.safetensors", dir);
    snprintf(sub, sizeof sub, "%s/sub", dir);
    ck_assert(mkfifo(fifo, 0600) == 0);
    ck_assert(symlink("/dev/null", link) == 0);
    ck_assert(mkdir(sub, 0700) == 0);
    csm_model *m = random_model(ctx, CSM_FLOAT32, 2, 3, 1);
    const struct {
        const char *path, *says;
    } cases[] = {{fifo, "is a named pipe (FIFO), not a regular file: refusing to replace it"},
                 {link, "is a character device, not a regular file: refusing to replace it"},
                 {"/dev/null", "is a character device, not a regular file"},
                 {sub, "is a directory, not a file to write"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        csm_status st = csm_model_save(m, cases[i].path);
        expect_error(ctx, st, CSM_ERR_IO, cases[i].says, cases[i].path);
        expect_error(ctx, st, CSM_ERR_IO, cases[i].path, cases[i].path);
    }
    struct stat sb;
    ck_assert(stat(fifo, &sb) == 0 && S_ISFIFO(sb.st_mode));
    ck_assert(lstat(link, &sb) == 0 && S_ISLNK(sb.st_mode));
    ck_assert(stat("/dev/null", &sb) == 0 && S_ISCHR(sb.st_mode));
    ck_assert(stat(sub, &sb) == 0 && S_ISDIR(sb.st_mode));
    ck_assert_int_eq(count_entries(dir), 3);
    csm_model_free(m);
    ck_assert(unlink(fifo) == 0 && unlink(link) == 0 && rmdir(sub) == 0);
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

/* --------------------------------------------------------------- no litter */

/* The PID of a process that has just exited (and been reaped). */
static pid_t dead_pid(void)
{
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0)
        _exit(0);
    ck_assert(waitpid(pid, NULL, 0) == pid);
    return pid;
}

/* The host part of a temporary's name, by the rule of src/replace_file.c:
 * letters, digits and '-', anything else as '_', at most 32. */
static void host_part(char *out, size_t len)
{
    char host[256] = "";
    if (gethostname(host, sizeof host - 1) != 0 || !host[0])
        snprintf(host, sizeof host, "localhost");
    size_t o = 0;
    for (const char *c = host; *c && o + 1 < len && o < 32; c++)
        out[o++] = (isalnum((unsigned char)*c) || *c == '-') ? *c : '_';
    out[o] = '\0';
}

static void on_xfsz(int sig)
{
    (void)sig;
    raise(SIGKILL);
}

/* A save killed with SIGKILL halfway through its bytes: a child process
 * limited to 1 MiB of file size writes 4 MiB, and the SIGXFSZ of its first
 * write past the limit turns into SIGKILL, so no cleanup code of the
 * library can run. The old file must stay whole, and nothing else may be
 * left: with O_TMPFILE (_i = 0, where the file system has it) nothing at
 * all, with the named temporary (_i = 1, forced) a temporary that the next
 * save removes. */
START_TEST(test_killed_save_leaves_nothing)
{
    const int flags = _i ? CSM_REPLACE_NO_TMPFILE : 0;
    char dir[64], path[128];
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    const char old[] = "the old model, which must survive the killed save whole";
    write_bytes(path, old, sizeof old);

    const size_t big = (size_t)4 << 20;
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        struct rlimit rl = {(rlim_t)1 << 20, (rlim_t)1 << 20};
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_xfsz;
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0 || sigaction(SIGXFSZ, &sa, NULL) != 0)
            _exit(2);
        unsigned char *buf = calloc(big, 1);
        if (!buf)
            _exit(3);
        csm_replace_file(NULL, path, buf, big, flags);
        _exit(4); /* the write past the limit should have killed us */
    }
    int status = 0;
    ck_assert(waitpid(pid, &status, 0) == pid);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                  "the saving child was not killed (status 0x%x)", (unsigned)status);

    size_t len;
    unsigned char *got = read_bytes(path, &len);
    ck_assert_msg(len == sizeof old && memcmp(got, old, len) == 0, "the old file changed");
    free(got);
    int left = count_entries(dir);
    if (flags == 0 && left == 2)
        fprintf(stderr, "# %s has no O_TMPFILE: the named temporary was used\n", dir);
    ck_assert_msg(left == (flags ? 2 : 1) || (flags == 0 && left == 2), "%d entries left", left);

    /* the next save removes a temporary the killed one left, and works */
    const char fresh[] = "the new model";
    ck_assert_int_eq(csm_replace_file(NULL, path, fresh, sizeof fresh, flags), CSM_OK);
    ck_assert_int_eq(count_entries(dir), 1);
    got = read_bytes(path, &len);
    ck_assert(len == sizeof fresh && memcmp(got, fresh, len) == 0);
    free(got);
    remove_tmpdir(dir);
}
END_TEST

/* Which temporaries a save removes: only regular files named exactly
 * PATH.tmp.HOST.PID.XXXXXX for this PATH, made on this host, by a process
 * that no longer exists. A live process's, another host's, another
 * target's and anything else stay. */
START_TEST(test_stale_temporaries_removed)
{
    char dir[64], path[128], host[40], name[512];
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    host_part(host, sizeof host);
    long dead = (long)dead_pid(), live = (long)getppid();
    struct {
        const char *fmt; /* %s: host, %ld: pid */
        int removed;
    } cases[] = {
        {"model.safetensors.tmp.%s.%ld.aB3xYz", 1},
        {"model.safetensors.tmp.%s.%ld.zzzzzz", 1},
        {"model.safetensors.tmp.%s.%ld.aB3xY", 0},   /* 5 random characters */
        {"model.safetensors.tmp.%s.%ld.aB3xYz7", 0}, /* 7 */
        {"model.safetensors.tmp.%s.%ld.aB3x.z", 0},
        {"other.safetensors.tmp.%s.%ld.aB3xYz", 0},  /* another target */
        {"model.safetensors.tmp.%s-x.%ld.aB3xYz", 0}, /* another host */
        {"model.safetensors.tmp%s.%ld.aB3xYz", 0},
        {"model.safetensors.tmpXXXX%s%ld", 0},       /* an older version's temporary */
    };
    const size_t n = sizeof cases / sizeof *cases;
    for (size_t i = 0; i < n; i++) {
        snprintf(name, sizeof name, "%s/", dir);
        size_t off = strlen(name);
        snprintf(name + off, sizeof name - off, cases[i].fmt, host, dead);
        write_bytes(name, "x", 1);
    }
    /* a live process's temporary, and a directory of the right name */
    snprintf(name, sizeof name, "%s/model.safetensors.tmp.%s.%ld.LiveXy", dir, host, live);
    write_bytes(name, "x", 1);
    char sub[512];
    snprintf(sub, sizeof sub, "%s/model.safetensors.tmp.%s.%ld.DirXyz", dir, host, dead);
    ck_assert(mkdir(sub, 0700) == 0);

    const char data[] = "model";
    ck_assert_int_eq(csm_replace_file(NULL, path, data, sizeof data, 0), CSM_OK);
    for (size_t i = 0; i < n; i++) {
        snprintf(name, sizeof name, "%s/", dir);
        size_t off = strlen(name);
        snprintf(name + off, sizeof name - off, cases[i].fmt, host, dead);
        int exists = access(name, F_OK) == 0;
        ck_assert_msg(exists != cases[i].removed, "%s: %s", name,
                      cases[i].removed ? "not removed" : "removed");
    }
    ck_assert_int_eq(count_entries(dir), 1 + (int)n - 2 + 2);
    ck_assert(rmdir(sub) == 0);
    remove_tmpdir(dir);
}
END_TEST

/* The same through csm_model_save, with a model: a stale temporary of the
 * model file goes, and the logs say so. */
static void count_log(csm_log_level level, const char *msg, void *user)
{
    if (level == CSM_LOG_INFO && strstr(msg, "no longer exists"))
        (*(int *)user)++;
}

START_TEST(test_model_save_removes_stale)
{
    csm_context *ctx = new_context();
    int logged = 0;
    csm_context_set_log_callback(ctx, count_log, &logged);
    char dir[64], path[128], host[40], name[512];
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    host_part(host, sizeof host);
    snprintf(name, sizeof name, "%s.tmp.%s.%ld.Abc123", path, host, (long)dead_pid());
    write_bytes(name, "partial", 7);
    csm_model *m = random_model(ctx, CSM_FLOAT32, 2, 3, 1);
    ck_assert_msg(csm_model_save(m, path) == CSM_OK, "%s", csm_context_last_error(ctx));
    ck_assert_int_eq(count_entries(dir), 1);
    ck_assert_int_eq(logged, 1);
    csm_model_free(m);
    remove_tmpdir(dir);
    csm_context_free(ctx);
}
END_TEST

/* ------------------------------------------------------------ solver state */

/* What each solver keeps, as the file format specifies it (independent of
 * the library's own table): momentum the velocity v, Adam m and v, SGD and
 * L-BFGS only the counts. i: 0 m.weight, 1 m.bias, 2 v.weight, 3 v.bias. */
static const char *const st_names[4] = {"state.m.weight", "state.m.bias", "state.v.weight",
                                        "state.v.bias"};
static int keeps(int solver, int i)
{
    return i >= 2 ? solver == CSM_MOMENTUM || solver == CSM_ADAM : solver == CSM_ADAM;
}

static cl_mem st_buf(csm_model *m, int i)
{
    return i < 2 ? m->state.m[i] : m->state.v[i - 2];
}

/* Gives the model the state of `solver` with known values (exact at the
 * model's precision) and counts. */
static void set_state(csm_model *m, int solver, long iter, long steps, uint64_t seed)
{
    csm_context *ctx = csm_model_context(m);
    size_t C = csm_model_n_classes(m), k = csm_model_n_features(m);
    csm_precision prec = csm_model_precision(m);
    ck_assert_msg(csm_model_state_prepare(m, solver) == CSM_OK, "prepare: %s",
                  csm_context_last_error(ctx));
    ck_assert_int_eq(m->state.solver, solver);
    double *x = malloc(C * k * sizeof *x);
    ck_assert(x != NULL);
    for (int i = 0; i < 4; i++) {
        if (!keeps(solver, i)) {
            ck_assert_msg(st_buf(m, i) == NULL, "%s allocated for solver %d", st_names[i], solver);
            continue;
        }
        ck_assert_msg(st_buf(m, i) != NULL, "%s not allocated for solver %d", st_names[i], solver);
        size_t n = i % 2 == 0 ? C * k : C;
        csm_fill_uniform(x, n, &seed, i >= 2 && solver == CSM_ADAM ? 0.0 : -2.0, 2.0);
        x[0] = i >= 2 && solver == CSM_ADAM ? 1e-30 : -1e-30; /* tiny but normal in float */
        if (prec == CSM_FLOAT32)
            for (size_t j = 0; j < n; j++)
                x[j] = (float)x[j];
        ck_assert(csm_upload(ctx, st_buf(m, i), prec, 0, x, n) == CSM_OK);
    }
    free(x);
    m->state.iter = iter;
    m->state.steps = steps;
}

/* Exact comparison of the solver state of two models. */
static void assert_same_state(csm_model *a, csm_model *b)
{
    size_t C = csm_model_n_classes(a), k = csm_model_n_features(a);
    ck_assert_int_eq(b->state.solver, a->state.solver);
    ck_assert_int_eq(b->state.iter, a->state.iter);
    ck_assert_int_eq(b->state.steps, a->state.steps);
    double *xa = malloc(C * k * sizeof *xa), *xb = malloc(C * k * sizeof *xb);
    ck_assert(xa && xb);
    for (int i = 0; i < 4; i++) {
        cl_mem ba = st_buf(a, i), bb = st_buf(b, i);
        ck_assert_msg((ba == NULL) == (bb == NULL), "%s present in one model only", st_names[i]);
        if (!ba)
            continue;
        size_t n = i % 2 == 0 ? C * k : C;
        ck_assert(csm_download(csm_model_context(a), xa, ba, csm_model_precision(a), 0, n) ==
                  CSM_OK);
        ck_assert(csm_download(csm_model_context(b), xb, bb, csm_model_precision(b), 0, n) ==
                  CSM_OK);
        for (size_t j = 0; j < n; j++)
            ck_assert_msg(memcmp(&xa[j], &xb[j], sizeof xa[j]) == 0, "%s[%zu]: %a != %a",
                          st_names[i], j, xa[j], xb[j]);
    }
    free(xa);
    free(xb);
}

static int same_file(const char *a, const char *b)
{
    size_t la, lb;
    unsigned char *fa = read_bytes(a, &la), *fb = read_bytes(b, &lb);
    int same = la == lb && memcmp(fa, fb, la) == 0;
    free(fa);
    free(fb);
    return same;
}

/* Each solver's state survives a save and load bit for bit, with its
 * counts; the file holds exactly the tensors and keys the format names;
 * re-saving the loaded model writes the same bytes. Tolerance: exact.
 * _i: solver (_i % 4), F64 when _i >= 4. */
START_TEST(test_state_roundtrip)
{
    const int solver = _i % 4, f64 = _i >= 4;
    csm_context *ctx = new_context();
    if (f64 && !test_has_fp64(ctx)) {
        csm_context_free(ctx);
        CSM_TEST_SKIP("the device has no float64");
    }
    const size_t C = 4, k = 5, es = f64 ? 8 : 4;
    char dir[64], path[128], again[128];
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/state.safetensors", dir);
    snprintf(again, sizeof again, "%s/again.safetensors", dir);
    csm_model *m = random_model(ctx, f64 ? CSM_FLOAT64 : CSM_FLOAT32, C, k, 90 + _i);
    const int64_t labels[] = {-3, 0, 5, 11};
    ck_assert(csm_model_set_labels(m, labels) == CSM_OK);
    ck_assert(csm_model_set_metadata(m, "note", "state") == CSM_OK);
    const long iter = 7 + solver, steps = 1000003L * (solver + 1);
    set_state(m, solver, iter, steps, 500 + _i);
    ck_assert_msg(csm_model_save(m, path) == CSM_OK, "save: %s", csm_context_last_error(ctx));
    ck_assert_int_eq(count_entries(dir), 1);

    /* the file: the tensors the solver keeps, shaped and typed like the
     * parameters, after them in the data; the three keys */
    size_t len;
    unsigned char *file = read_bytes(path, &len);
    uint64_t n = u64le(file);
    size_t n_state = 0;
    for (int i = 0; i < 4; i++)
        n_state += keeps(solver, i);
    ck_assert_uint_eq(len, 8 + n + (1 + n_state / 2) * (C + C * k) * es);
    json_error_t err;
    json_t *root = json_loadb((const char *)file + 8, n, JSON_REJECT_DUPLICATES, &err);
    ck_assert_msg(root != NULL, "header: %s", err.text);
    ck_assert_uint_eq(json_object_size(root), 3 + n_state);
    for (int i = 0; i < 4; i++) {
        json_t *e = json_object_get(root, st_names[i]);
        ck_assert_msg((e != NULL) == keeps(solver, i), "%s for solver %d", st_names[i], solver);
        if (!e)
            continue;
        ck_assert_str_eq(json_string_value(json_object_get(e, "dtype")), f64 ? "F64" : "F32");
        json_t *shape = json_object_get(e, "shape");
        ck_assert_uint_eq(json_array_size(shape), i % 2 == 0 ? 2 : 1);
        ck_assert_int_eq(json_integer_value(json_array_get(shape, 0)), (json_int_t)C);
        if (i % 2 == 0)
            ck_assert_int_eq(json_integer_value(json_array_get(shape, 1)), (json_int_t)k);
        json_t *off = json_object_get(e, "data_offsets");
        json_int_t begin = json_integer_value(json_array_get(off, 0));
        ck_assert_int_ge(begin, (json_int_t)((C + C * k) * es)); /* after bias and weight */
    }
    json_t *meta = json_object_get(root, "__metadata__");
    const char *names[] = {"sgd", "momentum", "adam", "lbfgs"};
    ck_assert_str_eq(json_string_value(json_object_get(meta, "solver_state")), names[solver]);
    char text[32];
    snprintf(text, sizeof text, "%ld", iter);
    ck_assert_str_eq(json_string_value(json_object_get(meta, "solver_iterations")), text);
    snprintf(text, sizeof text, "%ld", steps);
    ck_assert_str_eq(json_string_value(json_object_get(meta, "solver_steps")), text);
    ck_assert_uint_eq(json_object_size(meta), 9); /* 5 format keys, 3 solver keys, note */
    json_decref(root);
    free(file);

    csm_model *loaded = NULL;
    csm_status st = csm_model_load(ctx, &loaded, path);
    ck_assert_msg(st == CSM_OK, "load: %s", csm_context_last_error(ctx));
    assert_same_model(m, loaded); /* also: the solver keys are not user metadata */
    assert_same_state(m, loaded);
    long it = -1;
    ck_assert_str_eq(csm_model_solver_state(loaded, &it), names[solver]);
    ck_assert_int_eq(it, iter);

    ck_assert_msg(csm_model_save(loaded, again) == CSM_OK, "%s", csm_context_last_error(ctx));
    ck_assert_msg(same_file(path, again), "re-saved file differs");

    csm_model_free(loaded);
    csm_model_free(m);
    remove_tmpdir(dir);
    csm_context_free(ctx);
}
END_TEST

/* A model without solver state writes the same bytes as before solver
 * state existed: compared with a file written by the library before this
 * change (a fixed model), with the file of a model whose state was
 * cleared, and plain files load without state. Tolerance: exact. */
START_TEST(test_no_state_same_bytes)
{
    csm_context *ctx = new_context();
    char dir[64], plain[128], cleared[128], with[128];
    make_tmpdir(dir, sizeof dir);
    snprintf(plain, sizeof plain, "%s/plain.safetensors", dir);
    snprintf(cleared, sizeof cleared, "%s/cleared.safetensors", dir);
    snprintf(with, sizeof with, "%s/with.safetensors", dir);

    /* the bytes the library wrote for this model before solver state */
    static const char header[] =
        "{'__metadata__':{'format':'clsoftmax','format_version':'1','labels':'[-1,1]',"
        "'n_classes':'2','n_features':'1','note':'x'},"
        "'bias':{'data_offsets':[0,8],'dtype':'F32','shape':[2]},"
        "'weight':{'data_offsets':[8,16],'dtype':'F32','shape':[2,1]}} ";
    size_t hlen = strlen(header);
    ck_assert_uint_eq((8 + hlen) % 8, 0);
    unsigned char want[8 + sizeof header + 16];
    put_u64le(want, hlen);
    for (size_t i = 0; i < hlen; i++)
        want[8 + i] = header[i] == '\'' ? '"' : (unsigned char)header[i];
    const float values[4] = {1.0f, -2.0f, 0.5f, -0.25f}; /* bias, then weight */
    for (int i = 0; i < 4; i++)
        put_f32le(want + 8 + hlen + 4 * i, values[i]);
    size_t want_len = 8 + hlen + 16;

    csm_model *m = NULL;
    ck_assert(csm_model_create(ctx, &m, CSM_FLOAT32, 2, 1) == CSM_OK);
    const double w[2] = {0.5, -0.25}, b[2] = {1.0, -2.0};
    const int64_t labels[2] = {-1, 1};
    ck_assert(csm_model_set_params(m, w, b) == CSM_OK);
    ck_assert(csm_model_set_labels(m, labels) == CSM_OK);
    ck_assert(csm_model_set_metadata(m, "note", "x") == CSM_OK);
    ck_assert_int_eq(m->state.solver, -1);
    ck_assert_msg(csm_model_save(m, plain) == CSM_OK, "%s", csm_context_last_error(ctx));
    size_t len;
    unsigned char *got = read_bytes(plain, &len);
    ck_assert_uint_eq(len, want_len);
    ck_assert_msg(memcmp(got, want, len) == 0, "file differs from the stateless format");
    free(got);

    /* with state the file differs; cleared, it is the plain file again */
    set_state(m, CSM_ADAM, 3, 30, 1);
    ck_assert_msg(csm_model_save(m, with) == CSM_OK, "%s", csm_context_last_error(ctx));
    ck_assert(!same_file(plain, with));
    csm_model_clear_solver_state(m);
    ck_assert_msg(csm_model_save(m, cleared) == CSM_OK, "%s", csm_context_last_error(ctx));
    ck_assert_msg(same_file(plain, cleared), "a model with cleared state writes other bytes");

    /* a random model of each precision: the same after state came and went */
    for (int f64 = 0; f64 < 2; f64++) {
        if (f64 && !test_has_fp64(ctx))
            break;
        csm_model *r = random_model(ctx, f64 ? CSM_FLOAT64 : CSM_FLOAT32, 3, 4, 77 + f64);
        ck_assert(csm_model_save(r, plain) == CSM_OK);
        set_state(r, CSM_MOMENTUM, 1, 1, 2);
        csm_model_clear_solver_state(r);
        ck_assert(csm_model_save(r, cleared) == CSM_OK);
        ck_assert(same_file(plain, cleared));
        csm_model_free(r);
    }

    /* plain files load without state */
    csm_model *loaded = NULL;
    ck_assert(csm_model_load(ctx, &loaded, plain) == CSM_OK);
    ck_assert_int_eq(loaded->state.solver, -1);
    for (int i = 0; i < 4; i++)
        ck_assert(st_buf(loaded, i) == NULL);
    long it = -1;
    ck_assert(csm_model_solver_state(loaded, &it) == NULL);
    ck_assert_int_eq(it, 0);
    csm_model_free(loaded);

    csm_model_free(m);
    remove_tmpdir(dir);
    csm_context_free(ctx);
}
END_TEST

/* Crafted files with solver state load, whatever the order of the tensors
 * in the header and the data, also without the format key; the values
 * arrive where they belong. Tolerance: exact. */
START_TEST(test_state_crafted)
{
    csm_context *ctx = new_context();
    char dir[64], path[128];
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/state.safetensors", dir);
    unsigned char data[108];
    const float vw[6] = {0.125f, -0.25f, 3.0f, -4.5f, 1e-20f, 7.0f}, vb[3] = {-1.0f, 0.0f, 2.5f};
    csm_model *m = NULL;
    double x[6];

    /* momentum: v before bias and weight in the data, header in another order */
    for (int i = 0; i < 6; i++)
        put_f32le(data + 4 * i, vw[i]);
    for (int i = 0; i < 3; i++)
        put_f32le(data + 24 + 4 * i, vb[i]);
    craft_data(data + 36, 0);
    write_st(path,
             "{'state.v.bias':{'dtype':'F32','shape':[3],'data_offsets':[24,36]},"
             "'__metadata__':{'solver_steps':'0','solver_iterations':'12',"
             "'solver_state':'momentum','author':'me'},"
             "'bias':{'dtype':'F32','shape':[3],'data_offsets':[36,48]},"
             "'weight':{'dtype':'F32','shape':[3,2],'data_offsets':[48,72]},"
             "'state.v.weight':{'dtype':'F32','shape':[3,2],'data_offsets':[0,24]}}",
             data, 72);
    csm_status st = csm_model_load(ctx, &m, path);
    ck_assert_msg(st == CSM_OK, "%s", csm_context_last_error(ctx));
    check_crafted(m);
    ck_assert_uint_eq(csm_model_metadata_count(m), 1);
    ck_assert_str_eq(csm_model_get_metadata(m, "author"), "me");
    ck_assert_int_eq(m->state.solver, CSM_MOMENTUM);
    ck_assert_int_eq(m->state.iter, 12);
    ck_assert_int_eq(m->state.steps, 0);
    ck_assert(m->state.m[0] == NULL && m->state.m[1] == NULL);
    ck_assert(csm_download(ctx, x, m->state.v[0], CSM_FLOAT32, 0, 6) == CSM_OK);
    for (int i = 0; i < 6; i++)
        ck_assert_msg(x[i] == vw[i], "v.weight[%d]", i);
    ck_assert(csm_download(ctx, x, m->state.v[1], CSM_FLOAT32, 0, 3) == CSM_OK);
    for (int i = 0; i < 3; i++)
        ck_assert_msg(x[i] == vb[i], "v.bias[%d]", i);
    csm_model_free(m);
    m = NULL;

    /* adam, the control of the bad cases' layout: m after v after weight */
    craft_data(data, 0);
    for (int i = 0; i < 6; i++) {
        put_f32le(data + 36 + 4 * i, vw[i] * vw[i]);
        put_f32le(data + 72 + 4 * i, vw[i]);
    }
    for (int i = 0; i < 3; i++) {
        put_f32le(data + 60 + 4 * i, vb[i] * vb[i]);
        put_f32le(data + 96 + 4 * i, vb[i]);
    }
    write_st(path,
             "{'__metadata__':{" SMETA("adam") "}," B32 "," W32 SVW SVB SMW("[72,96]")
                 SMB("[96,108]") "}",
             data, 108);
    st = csm_model_load(ctx, &m, path);
    ck_assert_msg(st == CSM_OK, "%s", csm_context_last_error(ctx));
    check_crafted(m);
    ck_assert_uint_eq(csm_model_metadata_count(m), 0);
    ck_assert_int_eq(m->state.solver, CSM_ADAM);
    ck_assert_int_eq(m->state.iter, 4);
    ck_assert_int_eq(m->state.steps, 12);
    for (int i = 0; i < 4; i++) {
        int n = i % 2 == 0 ? 6 : 3;
        ck_assert(st_buf(m, i) != NULL);
        ck_assert(csm_download(ctx, x, st_buf(m, i), CSM_FLOAT32, 0, (size_t)n) == CSM_OK);
        for (int j = 0; j < n; j++) {
            float base = i % 2 == 0 ? vw[j] : vb[j];
            float want = i >= 2 ? base * base : base;
            ck_assert_msg(x[j] == want, "%s[%d]: %g != %g", st_names[i], j, x[j], want);
        }
    }
    csm_model_free(m);
    m = NULL;

    /* L-BFGS and SGD keep only the counts */
    const char *counts_only[2] = {"lbfgs", "sgd"};
    const int solver_of[2] = {CSM_LBFGS, CSM_SGD};
    for (int s = 0; s < 2; s++) {
        char header[512];
        snprintf(header, sizeof header,
                 "{'__metadata__':{'format':'clsoftmax','solver_state':'%s',"
                 "'solver_iterations':'9223372036854775807','solver_steps':'0'}," B32 "," W32 "}",
                 counts_only[s]);
        craft_data(data, 0);
        write_st(path, header, data, 36);
        st = csm_model_load(ctx, &m, path);
        ck_assert_msg(st == CSM_OK, "%s: %s", counts_only[s], csm_context_last_error(ctx));
        check_crafted(m);
        ck_assert_int_eq(m->state.solver, solver_of[s]);
        ck_assert(m->state.iter == 9223372036854775807L || sizeof(long) < 8);
        for (int i = 0; i < 4; i++)
            ck_assert(st_buf(m, i) == NULL);
        csm_model_free(m);
        m = NULL;
    }

    remove_tmpdir(dir);
    csm_context_free(ctx);
}
END_TEST

/* Saving refuses state that would make a file the loader refuses (a
 * non-finite moment) and a user key that the state keys would collide
 * with; nothing is written then. */
START_TEST(test_state_save_errors)
{
    csm_context *ctx = new_context();
    char dir[64], path[128];
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    csm_model *m = random_model(ctx, CSM_FLOAT32, 3, 2, 5);

    set_state(m, CSM_ADAM, 2, 20, 3);
    double bad[6] = {0, 0, 0, 0, 0, 0};
    bad[4] = NAN;
    ck_assert(csm_upload(ctx, m->state.v[0], CSM_FLOAT32, 0, bad, 6) == CSM_OK);
    csm_status st = csm_model_save(m, path);
    expect_error(ctx, st, CSM_ERR_NONFINITE, "state.v.weight[2, 0] is nan", "NaN in v");
    ck_assert_int_eq(count_entries(dir), 0);
    csm_model_clear_solver_state(m);

    static const char *const keys[] = {"solver_state", "solver_iterations", "solver_steps"};
    for (int i = 0; i < 3; i++) {
        st = csm_model_set_metadata(m, keys[i], "1");
        if (st == CSM_ERR_INVALID_VALUE)
            continue; /* refused already by the model */
        ck_assert_int_eq(st, CSM_OK);
        st = csm_model_save(m, path);
        expect_error(ctx, st, CSM_ERR_INVALID_VALUE, "is reserved", keys[i]);
        ck_assert_int_eq(count_entries(dir), 0);
        ck_assert(csm_model_set_metadata(m, keys[i], NULL) == CSM_OK);
    }
    ck_assert_msg(csm_model_save(m, path) == CSM_OK, "%s", csm_context_last_error(ctx));

    csm_model_free(m);
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

    tc = tcase_create("solver_state");
    tcase_set_timeout(tc, CSM_DEVICE_TIMEOUT);
    tcase_add_loop_test(tc, test_state_roundtrip, 0, 8);
    tcase_add_test(tc, test_no_state_same_bytes);
    tcase_add_test(tc, test_state_crafted);
    tcase_add_test(tc, test_state_save_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("saving");
    tcase_set_timeout(tc, CSM_DEVICE_TIMEOUT);
    tcase_add_test(tc, test_save_missing_dir);
    tcase_add_test(tc, test_save_refuses_special);
    tcase_add_test(tc, test_label_names_set);
    tcase_add_test(tc, test_save_replaces);
    tcase_add_loop_test(tc, test_killed_save_leaves_nothing, 0, 2);
    tcase_add_test(tc, test_stale_temporaries_removed);
    tcase_add_test(tc, test_model_save_removes_stale);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return csm_test_main(model_file_suite(), 1);
}
