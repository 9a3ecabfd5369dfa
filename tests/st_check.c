/* An independent reader of clsoftmax's model file, for tests/cli/model_file.sh:
 * parses the safetensors bytes itself (not through csm_model_load), checks
 * the layout and metadata a PyTorch user relies on (and the optional solver
 * state tensors and keys, when the model carries them), recomputes
 * softmax(x W^T + b) in double on the raw features of DATA and compares it
 * with `clsoftmax predict` and `predict --proba` output.
 *
 * usage: st_check MODEL DATA csv|svm LABELCOL PRED.txt PROBA.csv
 * Prints "ok: ..." and exits 0, or prints the first mismatch and exits 1. */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataio.h"

#define FAIL(...)                                                                              \
    do {                                                                                       \
        printf(__VA_ARGS__);                                                                   \
        printf("\n");                                                                          \
        exit(1);                                                                               \
    } while (0)

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        FAIL("cannot open %s", path);
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    if (!buf)
        FAIL("out of memory");
    *len = n;
    return buf;
}

/* little-endian value of `size` bytes at p as a double */
static double le_value(const unsigned char *p, int size)
{
    uint64_t u = 0;
    for (int i = size - 1; i >= 0; i--)
        u = (u << 8) | p[i];
    if (size == 4) {
        uint32_t u32 = (uint32_t)u;
        float f;
        memcpy(&f, &u32, 4);
        return f;
    }
    double d;
    memcpy(&d, &u, 8);
    return d;
}

static void tensor(json_t *t, const char *name, int *size, size_t *begin, size_t *end)
{
    if (!json_is_object(t))
        FAIL("tensor %s missing", name);
    const char *dtype = json_string_value(json_object_get(t, "dtype"));
    if (!dtype || (strcmp(dtype, "F32") && strcmp(dtype, "F64")))
        FAIL("tensor %s: dtype %s", name, dtype ? dtype : "(none)");
    *size = strcmp(dtype, "F32") ? 8 : 4;
    json_t *off = json_object_get(t, "data_offsets");
    *begin = (size_t)json_integer_value(json_array_get(off, 0));
    *end = (size_t)json_integer_value(json_array_get(off, 1));
}

int main(int argc, char **argv)
{
    if (argc != 7)
        FAIL("usage: st_check MODEL DATA csv|svm LABELCOL PRED PROBA");
    size_t len;
    unsigned char *raw = slurp(argv[1], &len);
    if (len < 8)
        FAIL("file shorter than 8 bytes");
    uint64_t n = 0; /* the header length, u64 little-endian */
    for (int i = 7; i >= 0; i--)
        n = (n << 8) | raw[i];
    if (8 + n > len)
        FAIL("header length %llu past the end", (unsigned long long)n);
    json_error_t jerr;
    json_t *h = json_loadb((const char *)raw + 8, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(h))
        FAIL("header is not a JSON object: %s", jerr.text);
    json_t *meta = json_object_get(h, "__metadata__");
    if (!json_is_object(meta))
        FAIL("no __metadata__");
    json_t *w = json_object_get(h, "weight"), *b = json_object_get(h, "bias");
    int ws, bs;
    size_t wb, we, bb, be;
    tensor(w, "weight", &ws, &wb, &we);
    tensor(b, "bias", &bs, &bb, &be);
    if (ws != bs)
        FAIL("weight and bias dtypes differ");
    size_t C = (size_t)json_integer_value(json_array_get(json_object_get(w, "shape"), 0));
    size_t k = (size_t)json_integer_value(json_array_get(json_object_get(w, "shape"), 1));
    if (json_array_size(json_object_get(w, "shape")) != 2 ||
        json_array_size(json_object_get(b, "shape")) != 1 ||
        (size_t)json_integer_value(json_array_get(json_object_get(b, "shape"), 0)) != C)
        FAIL("weight shape is not [C, k] or bias shape is not [C]");
    if (we - wb != C * k * (size_t)ws || be - bb != C * (size_t)ws)
        FAIL("data_offsets do not match the shapes");

    /* Optional solver state: metadata solver_state names the solver, which
     * keeps moment tensors like weight/bias (momentum: state.v.*; adam:
     * state.m.* and state.v.*; sgd, lbfgs: none). Nothing else may appear. */
    static const char *const snames[4] = {"state.m.weight", "state.m.bias", "state.v.weight",
                                          "state.v.bias"};
    size_t sb[4] = {0}, se[4] = {0};
    int have[4] = {0}, n_state = 0;
    const char *solver = json_string_value(json_object_get(meta, "solver_state"));
    int keeps_m = 0, keeps_v = 0;
    if (solver) {
        if (!strcmp(solver, "adam"))
            keeps_m = keeps_v = 1;
        else if (!strcmp(solver, "momentum"))
            keeps_v = 1;
        else if (strcmp(solver, "sgd") && strcmp(solver, "lbfgs"))
            FAIL("metadata solver_state '%s' is not sgd, momentum, adam or lbfgs", solver);
        static const char *const counts[2] = {"solver_iterations", "solver_steps"};
        for (int i = 0; i < 2; i++) {
            const char *c = json_string_value(json_object_get(meta, counts[i]));
            if (!c || !*c || strspn(c, "0123456789") != strlen(c))
                FAIL("metadata %s missing or not a decimal count", counts[i]);
        }
    } else if (json_object_get(meta, "solver_iterations") ||
               json_object_get(meta, "solver_steps")) {
        FAIL("solver counts without solver_state");
    }
    for (int i = 0; i < 4; i++) {
        json_t *t = json_object_get(h, snames[i]);
        int want = i < 2 ? keeps_m : keeps_v;
        if (!t != !want)
            FAIL("solver_state %s: tensor %s %s", solver ? solver : "(none)", snames[i],
                 t ? "not expected" : "missing");
        if (!t)
            continue;
        int size;
        tensor(t, snames[i], &size, &sb[i], &se[i]);
        json_t *shape = json_object_get(t, "shape");
        size_t want_rank = i % 2 == 0 ? 2 : 1;
        if (size != ws || json_array_size(shape) != want_rank ||
            (size_t)json_integer_value(json_array_get(shape, 0)) != C ||
            (want_rank == 2 && (size_t)json_integer_value(json_array_get(shape, 1)) != k))
            FAIL("%s is not shaped and typed like %s", snames[i], i % 2 == 0 ? "weight" : "bias");
        if (se[i] - sb[i] != (want_rank == 2 ? C * k : C) * (size_t)ws)
            FAIL("%s: data_offsets do not match the shape", snames[i]);
        have[i] = 1;
        n_state++;
    }
    if (json_object_size(h) != 3 + (size_t)n_state)
        FAIL("expected exactly weight, bias, __metadata__ and the solver state tensors");

    /* contiguous from 0, no holes, nothing after: walk from offset 0 to the
     * tensor starting there, then on from its end */
    size_t begins[6] = {wb, bb}, ends[6] = {we, be}, nt = 2;
    for (int i = 0; i < 4; i++)
        if (have[i]) {
            begins[nt] = sb[i];
            ends[nt++] = se[i];
        }
    size_t at = 0;
    for (size_t step = 0; step < nt; step++) {
        size_t next = nt;
        for (size_t t = 0; t < nt; t++)
            if (begins[t] == at)
                next = t;
        if (next == nt)
            FAIL("tensor data is not contiguous (nothing starts at data offset %zu)", at);
        at = ends[next];
    }
    if (8 + n + at != len)
        FAIL("tensor data does not end the file");
    const unsigned char *base = raw + 8 + n;
    for (int i = 0; i < 4; i++)
        for (size_t q = 0; have[i] && q < (se[i] - sb[i]) / (size_t)ws; q++)
            if (!isfinite(le_value(base + sb[i] + q * (size_t)ws, ws)))
                FAIL("%s[%zu] is not finite", snames[i], q);
    double *W = malloc(C * k * sizeof *W), *B = malloc(C * sizeof *B);
    for (size_t q = 0; q < C * k; q++)
        W[q] = le_value(base + wb + q * (size_t)ws, ws);
    for (size_t c = 0; c < C; c++)
        B[c] = le_value(base + bb + c * (size_t)ws, ws);

    static const char *required[] = {"labels",     "n_features", "solver",    "max_iter",
                                     "tol",        "lambda",     "n_iter",    "total_iter",
                                     "converged",  "stop",       "objective", "grad_max_abs",
                                     "seed",       "shuffle",    "standardize", "precision"};
    for (size_t i = 0; i < sizeof required / sizeof *required; i++)
        if (!json_is_string(json_object_get(meta, required[i])))
            FAIL("metadata %s missing", required[i]);
    if ((size_t)atol(json_string_value(json_object_get(meta, "n_features"))) != k)
        FAIL("metadata n_features differs from the weight shape");
    json_t *labels = json_loads(json_string_value(json_object_get(meta, "labels")), 0, &jerr);
    if (!json_is_array(labels) || json_array_size(labels) != C)
        FAIL("metadata labels is not an array of C values");
    for (size_t c = 1; c < C; c++)
        if (json_integer_value(json_array_get(labels, c)) <=
            json_integer_value(json_array_get(labels, c - 1)))
            FAIL("labels not increasing");

    csm_read_options ro;
    csm_read_options_init(&ro);
    ro.format = strcmp(argv[3], "csv") ? CSM_FORMAT_LIBSVM : CSM_FORMAT_CSV;
    ro.label_column = strcmp(argv[4], "last") ? atoi(argv[4]) : -1;
    ro.n_features = ro.format == CSM_FORMAT_LIBSVM ? k : 0;
    csm_table t;
    char err[1024];
    if (csm_read_table(argv[2], &ro, &t, err, sizeof err))
        FAIL("%s", err);
    if (t.k != k)
        FAIL("data has %zu features, model %zu", t.k, k);

    FILE *pred = fopen(argv[5], "r"), *proba = fopen(argv[6], "r");
    if (!pred || !proba)
        FAIL("cannot open the prediction files");
    char line[65536], want[65536] = "";
    for (size_t c = 0; c < C; c++) {
        char v[32];
        snprintf(v, sizeof v, "%s%lld", c ? "," : "",
                 (long long)json_integer_value(json_array_get(labels, c)));
        strcat(want, v);
    }
    if (!fgets(line, sizeof line, proba) || strcmp(strtok(line, "\r\n"), want))
        FAIL("--proba header is not the label values '%s'", want);
    double worst = 0, *p = malloc(C * sizeof *p);
    for (size_t i = 0; i < t.n; i++) {
        double m = -INFINITY, z = 0;
        for (size_t c = 0; c < C; c++) {
            double s = B[c];
            for (size_t j = 0; j < k; j++)
                s += W[c * k + j] * csm_table_value(&t, i, j);
            p[c] = s;
            m = s > m ? s : m;
        }
        for (size_t c = 0; c < C; c++)
            z += (p[c] = exp(p[c] - m));
        size_t best = 0;
        for (size_t c = 0; c < C; c++) {
            p[c] /= z;
            if (p[c] > p[best])
                best = c;
        }
        double runner_up = 0;
        for (size_t c = 0; c < C; c++)
            if (c != best && p[c] > runner_up)
                runner_up = p[c];
        if (!fgets(line, sizeof line, proba))
            FAIL("--proba output ends at sample %zu", i);
        char *tok = strtok(line, ",\r\n");
        for (size_t c = 0; c < C; c++, tok = strtok(NULL, ",\r\n")) {
            if (!tok)
                FAIL("--proba row %zu has fewer than %zu values", i, C);
            double d = fabs(strtod(tok, NULL) - p[c]);
            worst = d > worst ? d : worst;
        }
        if (!fgets(line, sizeof line, pred))
            FAIL("predict output ends at sample %zu", i);
        long long got = atoll(line), expect = json_integer_value(json_array_get(labels, best));
        /* the argmax must agree unless two classes are within rounding */
        if (got != expect && p[best] - runner_up > 1e-5)
            FAIL("sample %zu: predict says %lld, the recomputed argmax is %lld", i, got, expect);
    }
    if (worst >= 1e-5)
        FAIL("probabilities differ by %.3g (tolerance 1e-5: float32 weights, %%.9g output)", worst);
    printf("ok: C=%zu k=%zu F%d, %zu samples, max |dp| %.2e\n", C, k, ws * 8, t.n, worst);
    fclose(pred);
    fclose(proba);
    csm_table_free(&t);
    json_decref(labels);
    json_decref(h);
    free(W);
    free(B);
    free(p);
    free(raw);
    return 0;
}
