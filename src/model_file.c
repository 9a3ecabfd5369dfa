/* Model files in the safetensors format.
 *
 * Layout: an unsigned 64-bit little-endian header length N, then N bytes of
 * UTF-8 JSON (an object, space-padded so that 8 + N is a multiple of 8), then
 * the tensor data. The header maps each tensor name to
 * {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the
 * start of the data) and may hold "__metadata__", a string -> string map.
 *
 * A clsoftmax model is two tensors, "weight" (C, k) and "bias" (C), both F32
 * or both F64, little-endian, row-major, packed with no holes. Its metadata
 * holds "format": "clsoftmax", "format_version": "1", "labels" (the class
 * label values as a JSON array text), "n_features", "n_classes" and every
 * user metadata key of the model. A file without "format" (e.g. one written
 * by PyTorch's safetensors) loads with labels 0..C-1.
 *
 * A model that carries solver state (see csm_solver_state) also has the
 * metadata "solver_state" (the solver's name), "solver_iterations" and
 * "solver_steps" (decimal), and the moment tensors that solver keeps, at the
 * dtype of weight: "state.m.weight" (C, k) and "state.m.bias" (C) for Adam's
 * first moments, "state.v.weight" and "state.v.bias" for the momentum
 * velocity or Adam's second moments (momentum: v only; Adam: m and v; SGD
 * and L-BFGS: none). They follow bias and weight in the data. L-BFGS keeps
 * its history instead, when its run did not converge: "state.lbfgs.s" and
 * "state.lbfgs.y" (m, C k + C) at the dtype of weight, the rows of its pairs
 * (each the parameters W then b, as the solver's vectors hold them), after
 * the moments, and the metadata "solver_lbfgs" (lbfgs_state.h: the memory
 * m, which rows are in use and in what order, the next row, the stall
 * count). A model without state writes none of these, so its file is
 * exactly as before. The loader accepts the state only whole and
 * consistent.
 *
 * Every byte is produced and read explicitly little-endian, so big-endian
 * hosts read and write the same files.
 */
#if !defined(_XOPEN_SOURCE) && !defined(_GNU_SOURCE)
#define _XOPEN_SOURCE 700 /* open, fstat, read */
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <jansson.h>

#include "internal.h"
#include "lbfgs_state.h"
#include "read_file.h"

/* The reference implementation refuses headers over 100 MB; so do we. */
#define CSM_MAX_HEADER_BYTES 100000000ull

#define CSM_FORMAT_NAME "clsoftmax"
#define CSM_FORMAT_VERSION "1"

/* Metadata keys that the file format itself uses; never user metadata. */
static const char *const reserved_keys[] = {
    "format",       "format_version",    "labels",       "n_features",  "n_classes",
    "solver_state", "solver_iterations", "solver_steps", "solver_lbfgs"};
#define RESERVED_KEYS_TEXT                                                                      \
    "format, format_version, labels, n_features, n_classes, solver_state, solver_iterations, " \
    "solver_steps, solver_lbfgs"

/* The solver state tensors, in the order they follow weight in the data:
 * index 2 * (0: m, 1: v) + (0: weight, 1: bias). */
#define N_STATE 4
static const char *const state_names[N_STATE] = {"state.m.weight", "state.m.bias",
                                                 "state.v.weight", "state.v.bias"};
#define STATE_NAMES_TEXT "'state.m.weight', 'state.m.bias', 'state.v.weight', 'state.v.bias'"

/* Whether `solver` keeps state tensor i: momentum the velocity v, Adam
 * both moments, SGD and L-BFGS none. */
/* The L-BFGS history's tensors, after the moments: S, then Y. */
#define N_LBFGS 2
static const char *const lbfgs_names[N_LBFGS] = {"state.lbfgs.s", "state.lbfgs.y"};

static int state_needs(int solver, int i)
{
    if (i >= 2)
        return solver == CSM_MOMENTUM || solver == CSM_ADAM;
    return solver == CSM_ADAM;
}

static cl_mem *state_buffer(csm_model *m, int i)
{
    return i < 2 ? &m->state.m[i] : &m->state.v[i - 2];
}

static int is_reserved_key(const char *key)
{
    for (size_t i = 0; i < sizeof reserved_keys / sizeof reserved_keys[0]; i++)
        if (strcmp(key, reserved_keys[i]) == 0)
            return 1;
    return 0;
}

/* ------------------------------------------------------------------ bytes */

static void put_u32le(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64le(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32le(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get_u64le(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void put_real(unsigned char *p, double x, int f64)
{
    if (f64) {
        uint64_t u;
        memcpy(&u, &x, sizeof u);
        put_u64le(p, u);
    } else {
        float f = (float)x;
        uint32_t u;
        memcpy(&u, &f, sizeof u);
        put_u32le(p, u);
    }
}

static double get_real(const unsigned char *p, int f64)
{
    if (f64) {
        uint64_t u = get_u64le(p);
        double x;
        memcpy(&x, &u, sizeof x);
        return x;
    }
    uint32_t u = get_u32le(p);
    float f;
    memcpy(&f, &u, sizeof f);
    return (double)f;
}

/* Strict UTF-8 check (no overlongs, no surrogates, at most U+10FFFF). */
static int valid_utf8(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        unsigned c = *s++;
        int extra;
        unsigned min, cp;
        if (c < 0x80)
            continue;
        if (c >= 0xC2 && c <= 0xDF) {
            extra = 1;
            min = 0x80;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            extra = 2;
            min = 0x800;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            extra = 3;
            min = 0x10000;
            cp = c & 0x07;
        } else {
            return 0;
        }
        for (int i = 0; i < extra; i++) {
            if ((*s & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (*s++ & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------- save */

/* {"dtype": dtype, "shape": [dims...], "data_offsets": [begin, end]} */
static json_t *tensor_entry(const char *dtype, const size_t *shape, size_t rank, size_t begin,
                            size_t end)
{
    json_t *entry = json_object();
    json_t *jshape = json_array();
    json_t *offsets = json_array();
    int bad = !entry || !jshape || !offsets;
    for (size_t i = 0; !bad && i < rank; i++)
        bad = json_array_append_new(jshape, json_integer((json_int_t)shape[i])) != 0;
    if (!bad)
        bad = json_array_append_new(offsets, json_integer((json_int_t)begin)) != 0 ||
              json_array_append_new(offsets, json_integer((json_int_t)end)) != 0;
    if (!bad)
        bad = json_object_set_new(entry, "dtype", json_string(dtype)) != 0;
    if (!bad) {
        bad = json_object_set_new(entry, "shape", jshape) != 0;
        jshape = NULL;
    }
    if (!bad) {
        bad = json_object_set_new(entry, "data_offsets", offsets) != 0;
        offsets = NULL;
    }
    json_decref(jshape);
    json_decref(offsets);
    if (bad) {
        json_decref(entry);
        return NULL;
    }
    return entry;
}

static int set_string(json_t *obj, const char *key, const char *value)
{
    return json_object_set_new(obj, key, json_string(value));
}

static int set_size(json_t *obj, const char *key, size_t value)
{
    char text[32];
    snprintf(text, sizeof text, "%zu", value);
    return set_string(obj, key, text);
}

/* The "__metadata__" object (with solver_lbfgs when lbfgs_text); NULL with
 * *st set on failure. */
static json_t *build_metadata(csm_model *model, const char *path, int lbfgs_text, csm_status *st)
{
    csm_context *ctx = csm_model_context(model);
    size_t C = csm_model_n_classes(model);
    const int64_t *labels = csm_model_labels(model);
    json_t *meta = json_object();
    json_t *jlabels = json_array();
    char *labels_text = NULL;
    int bad = !meta || !jlabels || !labels;

    for (size_t i = 0; !bad && i < C; i++)
        bad = json_array_append_new(jlabels, json_integer((json_int_t)labels[i])) != 0;
    if (!bad)
        bad = (labels_text = json_dumps(jlabels, JSON_COMPACT)) == NULL;
    if (!bad)
        bad = set_string(meta, "format", CSM_FORMAT_NAME) != 0 ||
              set_string(meta, "format_version", CSM_FORMAT_VERSION) != 0 ||
              set_string(meta, "labels", labels_text) != 0 ||
              set_size(meta, "n_features", csm_model_n_features(model)) != 0 ||
              set_size(meta, "n_classes", C) != 0;
    if (!bad && model->state.solver >= 0) {
        char text[32];
        snprintf(text, sizeof text, "%ld", model->state.iter);
        bad = set_string(meta, "solver_state", csm_solver_name((csm_solver)model->state.solver)) !=
                  0 ||
              set_string(meta, "solver_iterations", text) != 0;
        snprintf(text, sizeof text, "%ld", model->state.steps);
        bad = bad || set_string(meta, "solver_steps", text) != 0;
        char *lbfgs = lbfgs_text ? csm_lbfgs_state_text(model->state.lbfgs) : NULL;
        bad = bad || (lbfgs_text && (!lbfgs || set_string(meta, "solver_lbfgs", lbfgs) != 0));
        free(lbfgs);
    }
    free(labels_text);
    json_decref(jlabels);
    if (bad) {
        json_decref(meta);
        *st = csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "%s: out of memory building the header",
                       path);
        return NULL;
    }

    size_t n = csm_model_metadata_count(model);
    for (size_t i = 0; i < n; i++) {
        const char *key = csm_model_metadata_key(model, i);
        const char *value = key ? csm_model_get_metadata(model, key) : NULL;
        if (!key || !value)
            continue;
        if (is_reserved_key(key)) {
            json_decref(meta);
            *st = csm_fail(ctx, CSM_ERR_INVALID_VALUE,
                           "%s: metadata key '%s' is reserved by the model file format "
                           "(" RESERVED_KEYS_TEXT "); rename it",
                           path, key);
            return NULL;
        }
        if (!valid_utf8(key) || !valid_utf8(value)) {
            json_decref(meta);
            *st = csm_fail(ctx, CSM_ERR_INVALID_VALUE,
                           "%s: metadata key '%s' or its value is not valid UTF-8", path, key);
            return NULL;
        }
        if (set_string(meta, key, value) != 0) {
            json_decref(meta);
            *st = csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "%s: out of memory building the header",
                           path);
            return NULL;
        }
    }
    return meta;
}

/* Refuses a value the loader would refuse, naming the tensor and index. */
static csm_status check_save_finite(csm_context *ctx, const char *path, const char *name,
                                    const double *v, size_t n, size_t cols)
{
    for (size_t i = 0; i < n; i++) {
        if (isfinite(v[i]))
            continue;
        if (cols)
            return csm_fail(ctx, CSM_ERR_NONFINITE,
                            "%s: not saved: %s[%zu, %zu] is %g (the model has diverged?)", path,
                            name, i / cols, i % cols, v[i]);
        return csm_fail(ctx, CSM_ERR_NONFINITE,
                        "%s: not saved: %s[%zu] is %g (the model has diverged?)", path, name, i,
                        v[i]);
    }
    return CSM_OK;
}

/* Checks the solver state the model carries and downloads the tensors its
 * solver keeps into vals[] (NULL for the others; the caller frees them).
 * *n_pairs gets the number of (weight, bias) pairs among them. */
static csm_status get_state(csm_model *model, const char *path, double *vals[N_STATE],
                            size_t *n_pairs)
{
    csm_context *ctx = csm_model_context(model);
    const csm_solver_state *s = &model->state;
    size_t C = model->C, k = model->k;
    *n_pairs = 0;
    for (int i = 0; i < N_STATE; i++)
        vals[i] = NULL;
    if (s->solver < 0)
        return CSM_OK;
    const char *name = csm_solver_name((csm_solver)s->solver);
    if (!name)
        return csm_fail(ctx, CSM_ERR_INVALID_VALUE,
                        "%s: not saved: the model carries state of an unknown solver %d", path,
                        s->solver);
    if (s->iter < 0 || s->steps < 0)
        return csm_fail(ctx, CSM_ERR_INVALID_VALUE,
                        "%s: not saved: %s solver state has negative counts (iterations %ld, "
                        "steps %ld)",
                        path, name, s->iter, s->steps);
    for (int i = 0; i < N_STATE; i++) {
        cl_mem buf = *state_buffer(model, i);
        if (state_needs(s->solver, i) && !buf)
            return csm_fail(ctx, CSM_ERR_INVALID_VALUE,
                            "%s: not saved: %s solver state lacks %s", path, name,
                            state_names[i]);
        if (!state_needs(s->solver, i) && buf)
            return csm_fail(ctx, CSM_ERR_INVALID_VALUE,
                            "%s: not saved: %s solver state holds %s, which %s does not keep "
                            "(a file with it would not load)",
                            path, name, state_names[i], name);
    }
    for (int i = 0; i < N_STATE; i++) {
        if (!state_needs(s->solver, i))
            continue;
        size_t n = i % 2 == 0 ? C * k : C;
        vals[i] = malloc(n * sizeof *vals[i]);
        if (!vals[i])
            return csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
        csm_status st = csm_download(ctx, vals[i], *state_buffer(model, i), model->precision, 0, n);
        if (st == CSM_OK)
            st = check_save_finite(ctx, path, state_names[i], vals[i], n, i % 2 == 0 ? k : 0);
        if (st != CSM_OK)
            return st;
        if (i % 2 == 1)
            (*n_pairs)++;
    }
    return CSM_OK;
}

/* The L-BFGS history the model carries, downloaded into vals (S, then Y,
 * each rows x n, malloc'd), or nothing (vals NULL) when it has none. A
 * history that is not finite is left out: it cannot be continued, and
 * the model itself is still worth saving. */
static csm_status get_lbfgs(csm_model *model, const char *path, double *vals[N_LBFGS],
                            size_t *rows, size_t *n)
{
    csm_context *ctx = csm_model_context(model);
    const csm_lbfgs_state *h = model->state.lbfgs;
    vals[0] = vals[1] = NULL;
    *rows = *n = 0;
    if (model->state.solver != CSM_LBFGS || !h || !h->S || !h->Y)
        return CSM_OK;
    const size_t P = model->C * model->k + model->C, R = (size_t)h->mem;
    for (int t = 0; t < N_LBFGS; t++) {
        vals[t] = malloc(R * P * sizeof *vals[t]);
        if (!vals[t])
            return csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
        csm_status st = csm_download(ctx, vals[t], t ? h->Y : h->S, model->precision, 0, R * P);
        if (st != CSM_OK)
            return st;
        for (size_t i = 0; i < R * P; i++)
            if (!isfinite(vals[t][i])) {
                csm_log(ctx, CSM_LOG_INFO, "%s: the L-BFGS history is not finite: saved without "
                        "it (a resume restarts it)", path);
                free(vals[0]);
                free(vals[1]);
                vals[0] = vals[1] = NULL;
                return CSM_OK;
            }
    }
    *rows = R;
    *n = P;
    return CSM_OK;
}

/* What a save writes: the parameters, the optional state and L-BFGS
 * history, read from the model as doubles. */
typedef struct {
    size_t C, k, nw, es;
    int f64;
    const char *dtype;
    double *w, *b;
    double *svals[N_STATE];
    double *lvals[N_LBFGS];
    size_t n_pairs, lrows, lcols;
} save_data;

static void save_data_free(save_data *sd)
{
    free(sd->w);
    free(sd->b);
    for (int i = 0; i < N_STATE; i++)
        free(sd->svals[i]);
    for (int i = 0; i < N_LBFGS; i++)
        free(sd->lvals[i]);
}

/* Reads the model's values into sd, refusing what the loader would refuse
 * (non-finite values) and sizes that do not fit. */
static csm_status save_gather(csm_context *ctx, csm_model *model, const char *path,
                              save_data *sd)
{
    memset(sd, 0, sizeof *sd);
    size_t C = sd->C = csm_model_n_classes(model);
    size_t k = sd->k = csm_model_n_features(model);
    sd->f64 = csm_model_precision(model) == CSM_FLOAT64;
    sd->es = sd->f64 ? 8 : 4;
    sd->dtype = sd->f64 ? "F64" : "F32";
    if (C == 0 || k == 0 || k > SIZE_MAX / C || C * k > SIZE_MAX / sizeof(double) - C)
        return csm_fail(ctx, CSM_ERR_INVALID_SIZE, "%s: model size %zu x %zu is too large",
                        path, C, k);
    sd->nw = C * k;
    sd->w = malloc(sd->nw * sizeof *sd->w);
    sd->b = malloc(C * sizeof *sd->b);
    if (!sd->w || !sd->b)
        return csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
    csm_status st = csm_model_get_params(model, sd->w, sd->b);
    /* The loader refuses non-finite values, so do not write a file that
     * cannot be read back. */
    if (st == CSM_OK)
        st = check_save_finite(ctx, path, "bias", sd->b, C, 0);
    if (st == CSM_OK)
        st = check_save_finite(ctx, path, "weight", sd->w, sd->nw, k);
    if (st == CSM_OK)
        st = get_state(model, path, sd->svals, &sd->n_pairs);
    if (st == CSM_OK)
        st = get_lbfgs(model, path, sd->lvals, &sd->lrows, &sd->lcols);
    if (st != CSM_OK)
        return st;
    /* (C + C k) * 8 fits in size_t (checked above); so must all pairs and
     * the history: 2 m rows of C k + C values, m <= 1000 */
    if ((C + sd->nw) * sd->es > SIZE_MAX / (1 + sd->n_pairs) / (2 + 2 * sd->lrows))
        return csm_fail(ctx, CSM_ERR_INVALID_SIZE, "%s: model too large", path);
    return CSM_OK;
}

/* The header for sd: metadata, then bias, weight, the state tensors and the
 * history packed in that order; *data_bytes is where the last one ends. */
static csm_status save_header(csm_context *ctx, csm_model *model, const char *path,
                              const save_data *sd, char **header, size_t *data_bytes)
{
    size_t C = sd->C;
    size_t bias_bytes = C * sd->es, weight_bytes = sd->nw * sd->es;
    size_t pair_bytes = bias_bytes + weight_bytes;
    size_t lbfgs_bytes = sd->lrows * sd->lcols * sd->es;
    csm_status st = CSM_OK;
    json_t *meta = build_metadata(model, path, sd->lvals[0] != NULL, &st);
    if (!meta)
        return st;
    size_t wshape[2] = {C, sd->k};
    json_t *jbias = tensor_entry(sd->dtype, &C, 1, 0, bias_bytes);
    json_t *jweight = tensor_entry(sd->dtype, wshape, 2, bias_bytes, pair_bytes);
    json_t *root = json_object();
    /* json_object_set_new consumes its value even when it fails (a NULL
     * value included), so each goes to root or is freed there. */
    int bad = !root;
    if (root) {
        bad |= json_object_set_new(root, "__metadata__", meta) != 0;
        bad |= json_object_set_new(root, "bias", jbias) != 0;
        bad |= json_object_set_new(root, "weight", jweight) != 0;
    } else {
        json_decref(meta);
        json_decref(jbias);
        json_decref(jweight);
    }
    /* the state tensors follow weight, in state_names order */
    size_t offset = pair_bytes;
    for (int i = 0; i < N_STATE && !bad; i++) {
        if (!sd->svals[i])
            continue;
        size_t bytes = i % 2 == 0 ? weight_bytes : bias_bytes;
        json_t *e = i % 2 == 0 ? tensor_entry(sd->dtype, wshape, 2, offset, offset + bytes)
                               : tensor_entry(sd->dtype, &C, 1, offset, offset + bytes);
        bad = json_object_set_new(root, state_names[i], e) != 0;
        offset += bytes;
    }
    for (int t = 0; t < N_LBFGS && !bad && sd->lvals[t]; t++) {
        size_t lshape[2] = {sd->lrows, sd->lcols};
        bad = json_object_set_new(root, lbfgs_names[t],
                                  tensor_entry(sd->dtype, lshape, 2, offset,
                                               offset + lbfgs_bytes)) != 0;
        offset += lbfgs_bytes;
    }
    *header = bad ? NULL : json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(root);
    if (!*header)
        return csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "%s: out of memory building the header",
                        path);
    *data_bytes = offset;
    return CSM_OK;
}

/* The file: the header's length, the header padded with spaces to 8 bytes,
 * then sd's values in the header's order. */
static csm_status save_write(csm_context *ctx, const char *path, const save_data *sd,
                             const char *header, size_t data_bytes)
{
    size_t hlen = strlen(header);
    size_t padded = hlen + (8 - (8 + hlen) % 8) % 8;
    if (data_bytes > SIZE_MAX - 8 - padded)
        return csm_fail(ctx, CSM_ERR_INVALID_SIZE, "%s: model too large", path);
    size_t total = 8 + padded + data_bytes;
    unsigned char *buf = malloc(total);
    if (!buf)
        return csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "%s: out of memory (%zu bytes)", path,
                        total);
    put_u64le(buf, (uint64_t)padded);
    memcpy(buf + 8, header, hlen);
    memset(buf + 8 + hlen, ' ', padded - hlen);
    unsigned char *p = buf + 8 + padded;
    size_t es = sd->es;
    for (size_t i = 0; i < sd->C; i++, p += es)
        put_real(p, sd->b[i], sd->f64);
    for (size_t i = 0; i < sd->nw; i++, p += es)
        put_real(p, sd->w[i], sd->f64);
    for (int t = 0; t < N_STATE; t++) {
        size_t n = t % 2 == 0 ? sd->nw : sd->C;
        for (size_t i = 0; sd->svals[t] && i < n; i++, p += es)
            put_real(p, sd->svals[t][i], sd->f64);
    }
    for (int t = 0; t < N_LBFGS; t++)
        for (size_t i = 0; sd->lvals[t] && i < sd->lrows * sd->lcols; i++, p += es)
            put_real(p, sd->lvals[t][i], sd->f64);
    csm_status st = csm_replace_file(ctx, path, buf, total, 0);
    free(buf);
    return st;
}

csm_status csm_model_save(csm_model *model, const char *path)
{
    if (!model)
        return csm_fail(NULL, CSM_ERR_NULL_ARGUMENT, "csm_model_save: model is NULL");
    csm_context *ctx = csm_model_context(model);
    if (!path)
        return csm_fail(ctx, CSM_ERR_NULL_ARGUMENT, "csm_model_save: path is NULL");
    save_data sd;
    char *header = NULL;
    size_t data_bytes = 0;
    csm_status st = save_gather(ctx, model, path, &sd);
    if (st == CSM_OK)
        st = save_header(ctx, model, path, &sd, &header, &data_bytes);
    if (st == CSM_OK)
        st = save_write(ctx, path, &sd, header, data_bytes);
    free(header);
    save_data_free(&sd);
    return st;
}

/* ------------------------------------------------------------------- load */

/* The header length n of a file of fsize >= 8 bytes fits the file and the
 * limit. */
static csm_status check_header_length(csm_context *ctx, const char *path, uint64_t n,
                                      uint64_t fsize)
{
    if (n > CSM_MAX_HEADER_BYTES)
        return csm_fail(ctx, CSM_ERR_FORMAT,
                        "%s: header length %llu exceeds the limit of %llu bytes (not a "
                        "safetensors file?)",
                        path, (unsigned long long)n, CSM_MAX_HEADER_BYTES);
    if (n > fsize - 8)
        return csm_fail(ctx, CSM_ERR_FORMAT,
                        "%s: header length %llu is larger than the %llu bytes after the "
                        "length field (file size %llu)",
                        path, (unsigned long long)n, (unsigned long long)(fsize - 8),
                        (unsigned long long)fsize);
    return CSM_OK;
}

typedef struct tensor_info {
    const char *name;
    int f64;
    const char *dtype;
    size_t rank;
    uint64_t shape[2];
    uint64_t begin, end;
} tensor_info;

/* "[3, 7]" */
static void shape_text(char *buf, size_t len, const tensor_info *t)
{
    if (t->rank == 1)
        snprintf(buf, len, "[%llu]", (unsigned long long)t->shape[0]);
    else
        snprintf(buf, len, "[%llu, %llu]", (unsigned long long)t->shape[0],
                 (unsigned long long)t->shape[1]);
}

static int get_uint(const json_t *v, uint64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return 0;
    *out = (uint64_t)json_integer_value(v);
    return 1;
}

/* Checks one tensor entry's fields, types and rank. */
static csm_status parse_tensor(csm_context *ctx, const char *path, const char *name,
                               json_t *entry, size_t want_rank, tensor_info *t)
{
    memset(t, 0, sizeof *t);
    t->name = name;
    if (!json_is_object(entry))
        return csm_fail(ctx, CSM_ERR_FORMAT, "%s: tensor '%s': entry is not a JSON object",
                        path, name);
    const char *key;
    json_t *v;
    json_object_foreach(entry, key, v)
    {
        if (strcmp(key, "dtype") != 0 && strcmp(key, "shape") != 0 &&
            strcmp(key, "data_offsets") != 0)
            return csm_fail(ctx, CSM_ERR_FORMAT,
                            "%s: tensor '%s': unknown field '%.64s' (expected dtype, shape, "
                            "data_offsets)",
                            path, name, key);
    }
    static const char *const fields[] = {"dtype", "shape", "data_offsets"};
    for (int i = 0; i < 3; i++)
        if (!json_object_get(entry, fields[i]))
            return csm_fail(ctx, CSM_ERR_FORMAT, "%s: tensor '%s': missing field '%s'", path,
                            name, fields[i]);

    v = json_object_get(entry, "dtype");
    if (!json_is_string(v))
        return csm_fail(ctx, CSM_ERR_FORMAT, "%s: tensor '%s': dtype is not a string", path,
                        name);
    const char *dtype = json_string_value(v);
    if (strcmp(dtype, "F32") == 0)
        t->f64 = 0;
    else if (strcmp(dtype, "F64") == 0)
        t->f64 = 1;
    else
        return csm_fail(ctx, CSM_ERR_FORMAT,
                        "%s: tensor '%s' has dtype '%.32s'; only F32 and F64 are supported",
                        path, name, dtype);
    t->dtype = t->f64 ? "F64" : "F32";

    v = json_object_get(entry, "shape");
    if (!json_is_array(v))
        return csm_fail(ctx, CSM_ERR_FORMAT,
                        "%s: tensor '%s': shape must be an array of non-negative integers",
                        path, name);
    size_t rank = json_array_size(v);
    for (size_t i = 0; i < rank; i++) {
        uint64_t d;
        if (!get_uint(json_array_get(v, i), &d))
            return csm_fail(ctx, CSM_ERR_FORMAT,
                            "%s: tensor '%s': shape must be an array of non-negative integers",
                            path, name);
        if (i < 2)
            t->shape[i] = d;
    }
    if (rank != want_rank)
        return csm_fail(ctx, CSM_ERR_FORMAT, "%s: tensor '%s' has rank %zu; expected rank %zu %s",
                        path, name, rank, want_rank, want_rank == 2 ? "[C, k]" : "[C]");
    t->rank = rank;
    for (size_t i = 0; i < rank; i++)
        if (t->shape[i] == 0) {
            char s[64];
            shape_text(s, sizeof s, t);
            return csm_fail(ctx, CSM_ERR_FORMAT, "%s: tensor '%s' has a zero dimension (shape %s)",
                            path, name, s);
        }

    v = json_object_get(entry, "data_offsets");
    if (!json_is_array(v) || json_array_size(v) != 2 ||
        !get_uint(json_array_get(v, 0), &t->begin) || !get_uint(json_array_get(v, 1), &t->end) ||
        t->begin > t->end)
        return csm_fail(ctx, CSM_ERR_FORMAT,
                        "%s: tensor '%s': data_offsets must be two non-negative increasing "
                        "integers [begin, end]",
                        path, name);
    return CSM_OK;
}

/* Strict decimal: digits only, no sign, no overflow. */
static int parse_decimal(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s)
        return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return 0;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

static csm_status check_count(csm_context *ctx, const char *path, json_t *meta, const char *key,
                              uint64_t want, const char *what)
{
    json_t *v = json_object_get(meta, key);
    if (!v)
        return CSM_OK;
    const char *s = json_string_value(v);
    uint64_t n;
    if (!parse_decimal(s, &n))
        return csm_fail(ctx, CSM_ERR_FORMAT, "%s: __metadata__ %s '%.32s' is not a decimal integer",
                        path, key, s);
    if (n != want)
        return csm_fail(ctx, CSM_ERR_FORMAT, "%s: __metadata__ %s is %llu but %s is %llu", path,
                        key, (unsigned long long)n, what, (unsigned long long)want);
    return CSM_OK;
}

/* Validates the reserved metadata keys; fills labels (C values) when the
 * file has them and sets *have_labels. */
static csm_status check_metadata(csm_context *ctx, const char *path, json_t *meta, size_t C,
                                 size_t k, int64_t *labels, int *have_labels)
{
    *have_labels = 0;
    if (!meta)
        return CSM_OK;
    if (!json_is_object(meta))
        return csm_fail(ctx, CSM_ERR_FORMAT,
                        "%s: __metadata__ is not a JSON object of strings", path);
    const char *key;
    json_t *v;
    json_object_foreach(meta, key, v)
    {
        if (!json_is_string(v))
            return csm_fail(ctx, CSM_ERR_FORMAT,
                            "%s: __metadata__ value of '%.64s' is not a string", path, key);
        if (!*key)
            return csm_fail(ctx, CSM_ERR_FORMAT, "%s: __metadata__ has an empty key", path);
    }

    v = json_object_get(meta, "format");
    if (v && strcmp(json_string_value(v), CSM_FORMAT_NAME) != 0)
        return csm_fail(ctx, CSM_ERR_FORMAT,
                        "%s: __metadata__ format is '%.32s', not '" CSM_FORMAT_NAME
                        "' (files without a format key are read as plain weight/bias tensors)",
                        path, json_string_value(v));
    v = json_object_get(meta, "format_version");
    if (v && strcmp(json_string_value(v), CSM_FORMAT_VERSION) != 0)
        return csm_fail(ctx, CSM_ERR_FORMAT,
                        "%s: unsupported format_version '%.32s' (this library reads version "
                        CSM_FORMAT_VERSION ")",
                        path, json_string_value(v));

    csm_status st = check_count(ctx, path, meta, "n_classes", C, "the number of rows of weight");
    if (st == CSM_OK)
        st = check_count(ctx, path, meta, "n_features", k, "the number of columns of weight");
    if (st != CSM_OK)
        return st;
    /* the class names: one printable line each, no two alike */
    char why[256];
    v = json_object_get(meta, "label_names");
    if (v && csm_check_label_names(json_string_value(v), C, why, sizeof why))
        return csm_fail(ctx, CSM_ERR_FORMAT, "%s: __metadata__ label_names %s", path, why);

    v = json_object_get(meta, "labels");
    if (!v)
        return CSM_OK;
    json_error_t err;
    json_t *arr = json_loads(json_string_value(v), JSON_REJECT_DUPLICATES, &err);
    if (!arr)
        return csm_fail(ctx, CSM_ERR_FORMAT, "%s: __metadata__ labels is not valid JSON: %s", path,
                        err.text);
    if (!json_is_array(arr) || json_array_size(arr) != C) {
        size_t n = json_is_array(arr) ? json_array_size(arr) : 0;
        int is_arr = json_is_array(arr);
        json_decref(arr);
        if (!is_arr)
            return csm_fail(ctx, CSM_ERR_FORMAT,
                            "%s: __metadata__ labels must be a JSON array of %zu strictly "
                            "increasing integers",
                            path, C);
        return csm_fail(ctx, CSM_ERR_FORMAT,
                        "%s: __metadata__ labels has %zu values but the model has %zu classes",
                        path, n, C);
    }
    for (size_t i = 0; i < C; i++) {
        json_t *x = json_array_get(arr, i);
        if (!json_is_integer(x)) {
            json_decref(arr);
            return csm_fail(ctx, CSM_ERR_FORMAT,
                            "%s: __metadata__ labels[%zu] is not an integer (labels must be %zu "
                            "strictly increasing integers)",
                            path, i, C);
        }
        labels[i] = (int64_t)json_integer_value(x);
        if (i > 0 && labels[i] <= labels[i - 1]) {
            json_decref(arr);
            return csm_fail(ctx, CSM_ERR_FORMAT,
                            "%s: __metadata__ labels are not strictly increasing (labels[%zu] = "
                            "%lld after %lld)",
                            path, i, (long long)labels[i], (long long)labels[i - 1]);
        }
    }
    json_decref(arr);
    *have_labels = 1;
    return CSM_OK;
}

/* Decodes n values from p into out, refusing NaN and Inf. */
static csm_status decode_values(csm_context *ctx, const char *path, const tensor_info *t,
                                const unsigned char *p, size_t n, double *out)
{
    size_t es = t->f64 ? 8 : 4;
    for (size_t i = 0; i < n; i++, p += es) {
        out[i] = get_real(p, t->f64);
        if (!isfinite(out[i])) {
            if (t->rank == 2)
                return csm_fail(ctx, CSM_ERR_FORMAT,
                                "%s: tensor '%s' has a non-finite value (%g) at [%zu, %zu]",
                                path, t->name, out[i], i / (size_t)t->shape[1],
                                i % (size_t)t->shape[1]);
            return csm_fail(ctx, CSM_ERR_FORMAT,
                            "%s: tensor '%s' has a non-finite value (%g) at [%zu]", path, t->name,
                            out[i], i);
        }
    }
    return CSM_OK;
}

/* Index of `name` in state_names, or -1. */
static int state_index(const char *name)
{
    for (int i = 0; i < N_STATE; i++)
        if (strcmp(name, state_names[i]) == 0)
            return i;
    return -1;
}

/* The header's tensor names: "weight", "bias" and the optional state
 * tensors (present[], lpresent[] set); every other is named in the error. */
static csm_status header_names(csm_context *ctx, const char *path, json_t *root,
                               int present[N_STATE], int lpresent[N_LBFGS])
{
    char extra[512] = "";
    size_t n_extra = 0, used = 0;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "__metadata__") == 0 || strcmp(key, "weight") == 0 ||
            strcmp(key, "bias") == 0)
            continue;
        int si = state_index(key);
        if (si >= 0) {
            present[si] = 1;
            continue;
        }
        if (strcmp(key, lbfgs_names[0]) == 0 || strcmp(key, lbfgs_names[1]) == 0) {
            lpresent[strcmp(key, lbfgs_names[0]) != 0] = 1;
            continue;
        }
        if (used < sizeof extra - 1) {
            int w = snprintf(extra + used, sizeof extra - used, "%s'%.64s'", n_extra ? ", " : "",
                             key);
            used = w < 0 ? sizeof extra : used + (size_t)w;
        }
        n_extra++;
    }
    if (n_extra)
        return csm_fail(ctx, CSM_ERR_FORMAT,
                        "%s: unexpected tensor%s %s%s (a model file holds exactly 'weight' and "
                        "'bias', and optionally solver state tensors " STATE_NAMES_TEXT
                        ", 'state.lbfgs.s', 'state.lbfgs.y')",
                        path, n_extra > 1 ? "s" : "", extra, used >= sizeof extra - 1 ? "..." : "");
    return CSM_OK;
}

/* weight (C, k) and bias (C): the same dtype, C >= 2, C k within bounds. */
static csm_status header_model(csm_context *ctx, const char *path, json_t *root,
                               tensor_info *weight, tensor_info *bias)
{
    json_t *jw = json_object_get(root, "weight");
    json_t *jb = json_object_get(root, "bias");
    if (!jw || !jb)
        return csm_fail(ctx, CSM_ERR_FORMAT, "%s: missing tensor '%s'%s", path,
                        !jw ? "weight" : "bias",
                        !jw && !jb ? " and 'bias'" : "");
    csm_status st = parse_tensor(ctx, path, "weight", jw, 2, weight);
    if (st == CSM_OK)
        st = parse_tensor(ctx, path, "bias", jb, 1, bias);
    if (st != CSM_OK)
        return st;
    if (weight->f64 != bias->f64)
        return csm_fail(ctx, CSM_ERR_FORMAT,
                        "%s: tensors have different dtypes: weight is %s, bias is %s", path,
                        weight->dtype, bias->dtype);
    char ws[64], bs[64];
    shape_text(ws, sizeof ws, weight);
    shape_text(bs, sizeof bs, bias);
    uint64_t C = weight->shape[0], k = weight->shape[1];
    if (C < 2)
        return csm_fail(ctx, CSM_ERR_FORMAT,
                        "%s: weight has shape %s: a model needs at least 2 classes", path, ws);
    if (bias->shape[0] != C)
        return csm_fail(ctx, CSM_ERR_FORMAT,
                        "%s: inconsistent shapes: bias has shape %s but weight has shape %s "
                        "(bias needs %llu entries)",
                        path, bs, ws, (unsigned long long)C);
    /* Sizes, with overflow checks (each product must fit in the file). */
    if (k > UINT64_MAX / C || C * k > UINT64_MAX / 8 || C * k * 8 > SIZE_MAX)
        return csm_fail(ctx, CSM_ERR_FORMAT, "%s: weight shape %s is too large", path, ws);
    return CSM_OK;
}

/* The state tensors present: each like weight or bias, dtype included. */
static csm_status header_state(csm_context *ctx, const char *path, json_t *root,
                               const tensor_info *weight, const tensor_info *bias,
                               tensor_info state[N_STATE], const int present[N_STATE])
{
    char ws[64], bs[64];
    shape_text(ws, sizeof ws, weight);
    shape_text(bs, sizeof bs, bias);
    for (int i = 0; i < N_STATE; i++) {
        if (!present[i])
            continue;
        const tensor_info *like = i % 2 == 0 ? weight : bias;
        csm_status st = parse_tensor(ctx, path, state_names[i],
                                     json_object_get(root, state_names[i]), like->rank, &state[i]);
        if (st != CSM_OK)
            return st;
        if (state[i].f64 != like->f64)
            return csm_fail(ctx, CSM_ERR_FORMAT,
                            "%s: solver state tensor '%s' is %s but %s is %s", path,
                            state_names[i], state[i].dtype, like->name, like->dtype);
        if (state[i].shape[0] != like->shape[0] ||
            (like->rank == 2 && state[i].shape[1] != like->shape[1])) {
            char ss[64];
            shape_text(ss, sizeof ss, &state[i]);
            return csm_fail(ctx, CSM_ERR_FORMAT,
                            "%s: solver state tensor '%s' has shape %s but %s has shape %s", path,
                            state_names[i], ss, like->name, i % 2 == 0 ? ws : bs);
        }
    }
    return CSM_OK;
}

/* The L-BFGS history present: m rows of the C k + C parameters each, at
 * the dtype of weight (m is checked against the metadata later). */
static csm_status header_lbfgs(csm_context *ctx, const char *path, json_t *root,
                               const tensor_info *weight, tensor_info lbfgs[N_LBFGS],
                               const int lpresent[N_LBFGS])
{
    const uint64_t C = weight->shape[0], k = weight->shape[1];
    for (int i = 0; i < N_LBFGS; i++) {
        if (!lpresent[i])
            continue;
        csm_status st = parse_tensor(ctx, path, lbfgs_names[i],
                                     json_object_get(root, lbfgs_names[i]), 2, &lbfgs[i]);
        if (st != CSM_OK)
            return st;
        char ls[64];
        shape_text(ls, sizeof ls, &lbfgs[i]);
        if (lbfgs[i].f64 != weight->f64)
            return csm_fail(ctx, CSM_ERR_FORMAT, "%s: solver state tensor '%s' is %s but weight "
                            "is %s", path, lbfgs_names[i], lbfgs[i].dtype, weight->dtype);
        if (lbfgs[i].shape[1] != C * k + C || lbfgs[i].shape[0] > 1000)
            return csm_fail(ctx, CSM_ERR_FORMAT,
                            "%s: solver state tensor '%s' has shape %s; expected [m, %llu]: m <= "
                            "1000 rows of the C k + C parameters",
                            path, lbfgs_names[i], ls, (unsigned long long)(C * k + C));
    }
    if (lpresent[0] && lpresent[1] && lbfgs[0].shape[0] != lbfgs[1].shape[0])
        return csm_fail(ctx, CSM_ERR_FORMAT, "%s: solver state tensors '%s' and '%s' have "
                        "different row counts", path, lbfgs_names[0], lbfgs_names[1]);
    return CSM_OK;
}

/* The nt tensors' data: each span matches its shape, and they are packed
 * (in the order of their offsets, the first starts at 0 and each next one
 * where the one before ends) up to the end of the file. */
static csm_status header_layout(csm_context *ctx, const char *path, const tensor_info **ts,
                                size_t nt, uint64_t hlen, size_t fsize)
{
    const uint64_t C = ts[0]->shape[0], es = ts[0]->f64 ? 8 : 4;
    for (size_t i = 0; i < nt; i++) {
        /* shapes checked: weight's C k fits, the history's rows are at most 1000 */
        uint64_t need = ts[i]->rank == 2 ? ts[i]->shape[0] * ts[i]->shape[1] * es : C * es;
        uint64_t span = ts[i]->end - ts[i]->begin;
        if (span != need) {
            char s[64];
            shape_text(s, sizeof s, ts[i]);
            return csm_fail(ctx, CSM_ERR_FORMAT,
                            "%s: tensor '%s': data_offsets [%llu, %llu] span %llu bytes but shape "
                            "%s of %s needs %llu",
                            path, ts[i]->name, (unsigned long long)ts[i]->begin,
                            (unsigned long long)ts[i]->end, (unsigned long long)span, s,
                            ts[i]->dtype, (unsigned long long)need);
        }
    }
    for (size_t i = 1; i < nt; i++)
        for (size_t j = i; j > 0 && ts[j]->begin < ts[j - 1]->begin; j--) {
            const tensor_info *t = ts[j];
            ts[j] = ts[j - 1];
            ts[j - 1] = t;
        }
    if (ts[0]->begin != 0)
        return csm_fail(ctx, CSM_ERR_FORMAT,
                        "%s: hole in the data: %llu unused bytes before tensor '%s'", path,
                        (unsigned long long)ts[0]->begin, ts[0]->name);
    for (size_t i = 1; i < nt; i++) {
        const tensor_info *first = ts[i - 1], *second = ts[i];
        if (second->begin < first->end)
            return csm_fail(ctx, CSM_ERR_FORMAT,
                            "%s: tensors '%s' [%llu, %llu] and '%s' [%llu, %llu] overlap", path,
                            first->name, (unsigned long long)first->begin,
                            (unsigned long long)first->end, second->name,
                            (unsigned long long)second->begin, (unsigned long long)second->end);
        if (second->begin > first->end)
            return csm_fail(ctx, CSM_ERR_FORMAT,
                            "%s: hole in the data: %llu unused bytes between tensors '%s' and "
                            "'%s'",
                            path, (unsigned long long)(second->begin - first->end), first->name,
                            second->name);
    }
    /* No overflow: hlen <= fsize - 8 (checked on reading), hlen <= 1e8 and
     * offsets come from JSON integers, below 2^63. */
    uint64_t avail = (uint64_t)fsize - 8 - hlen;
    const tensor_info *last = ts[nt - 1];
    if (last->end != avail) {
        unsigned long long expect = (unsigned long long)(8 + hlen + last->end);
        return csm_fail(ctx, CSM_ERR_FORMAT,
                        "%s: file size is %zu bytes but the header describes %llu bytes "
                        "(8 + %llu header + %llu data)",
                        path, fsize, expect, (unsigned long long)hlen,
                        (unsigned long long)last->end);
    }
    return CSM_OK;
}

/* Validates the parsed header against the file; on success fills weight
 * and bias, the state tensors present (present[i] set) and points *meta at
 * __metadata__ (or NULL). */
static csm_status check_header(csm_context *ctx, const char *path, json_t *root, uint64_t hlen,
                               size_t fsize, tensor_info *weight, tensor_info *bias,
                               tensor_info state[N_STATE], int present[N_STATE],
                               tensor_info lbfgs[N_LBFGS], int lpresent[N_LBFGS], json_t **meta)
{
    *meta = NULL;
    memset(weight, 0, sizeof *weight);
    memset(bias, 0, sizeof *bias);
    for (int i = 0; i < N_STATE; i++) {
        memset(&state[i], 0, sizeof state[i]);
        present[i] = 0;
    }
    for (int i = 0; i < N_LBFGS; i++) {
        memset(&lbfgs[i], 0, sizeof lbfgs[i]);
        lpresent[i] = 0;
    }
    if (!json_is_object(root))
        return csm_fail(ctx, CSM_ERR_FORMAT, "%s: header is not a JSON object", path);
    csm_status st = header_names(ctx, path, root, present, lpresent);
    if (st == CSM_OK) st = header_model(ctx, path, root, weight, bias);
    if (st == CSM_OK) st = header_state(ctx, path, root, weight, bias, state, present);
    if (st == CSM_OK) st = header_lbfgs(ctx, path, root, weight, lbfgs, lpresent);
    if (st != CSM_OK)
        return st;
    /* weight first: header_layout reads C and the dtype from it */
    const tensor_info *ts[2 + N_STATE + N_LBFGS] = {weight, bias};
    size_t nt = 2;
    for (int i = 0; i < N_STATE; i++)
        if (present[i])
            ts[nt++] = &state[i];
    for (int i = 0; i < N_LBFGS; i++)
        if (lpresent[i])
            ts[nt++] = &lbfgs[i];
    st = header_layout(ctx, path, ts, nt, hlen, fsize);
    if (st == CSM_OK)
        *meta = json_object_get(root, "__metadata__");
    return st;
}

/* A count of the solver state: a decimal no larger than LONG_MAX. */
static csm_status solver_count(csm_context *ctx, const char *path, json_t *meta, const char *key,
                               const char *solver, long *out)
{
    json_t *v = json_object_get(meta, key);
    if (!v)
        return csm_fail(ctx, CSM_ERR_FORMAT,
                        "%s: __metadata__ has solver_state '%s' but no %s", path, solver, key);
    const char *s = json_string_value(v);
    uint64_t n;
    if (!parse_decimal(s, &n))
        return csm_fail(ctx, CSM_ERR_FORMAT,
                        "%s: __metadata__ %s '%.32s' is not a decimal integer", path, key, s);
    if (n > (uint64_t)LONG_MAX)
        return csm_fail(ctx, CSM_ERR_FORMAT, "%s: __metadata__ %s %llu is too large", path, key,
                        (unsigned long long)n);
    *out = (long)n;
    return CSM_OK;
}

/* Validates the solver state of a file: metadata solver_state names a
 * known solver, solver_iterations and solver_steps are counts, and the
 * state tensors present are exactly those that solver keeps. Without
 * solver_state there must be no other part of a state. (check_metadata has
 * already checked that metadata values are strings.) */
static csm_status check_solver_state(csm_context *ctx, const char *path, json_t *meta,
                                     const int present[N_STATE], int *solver, long *iter,
                                     long *steps)
{
    *solver = -1;
    *iter = 0;
    *steps = 0;
    json_t *js = meta ? json_object_get(meta, "solver_state") : NULL;
    if (!js) {
        static const char *const counts[] = {"solver_iterations", "solver_steps"};
        for (int i = 0; i < 2; i++)
            if (meta && json_object_get(meta, counts[i]))
                return csm_fail(ctx, CSM_ERR_FORMAT,
                                "%s: __metadata__ has %s but no solver_state", path, counts[i]);
        for (int i = 0; i < N_STATE; i++)
            if (present[i])
                return csm_fail(ctx, CSM_ERR_FORMAT,
                                "%s: solver state tensor '%s' but no __metadata__ solver_state "
                                "naming its solver",
                                path, state_names[i]);
        return CSM_OK;
    }

    const char *name = json_string_value(js);
    int s = csm_solver_from_name(name);
    const char *canon = s >= 0 ? csm_solver_name((csm_solver)s) : NULL;
    if (!canon || strcmp(canon, name) != 0) {
        char known[128] = "";
        size_t used = 0;
        for (int i = 0; i < 16 && used < sizeof known; i++) {
            const char *n = csm_solver_name((csm_solver)i);
            if (!n)
                break;
            int w = snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "", n);
            used = w < 0 ? sizeof known : used + (size_t)w;
        }
        return csm_fail(ctx, CSM_ERR_FORMAT,
                        "%s: __metadata__ solver_state '%.32s' is not a known solver (%s)", path,
                        name, known);
    }
    csm_status st = solver_count(ctx, path, meta, "solver_iterations", canon, iter);
    if (st == CSM_OK)
        st = solver_count(ctx, path, meta, "solver_steps", canon, steps);
    if (st != CSM_OK)
        return st;
    for (int i = 0; i < N_STATE; i++) {
        if (state_needs(s, i) && !present[i])
            return csm_fail(ctx, CSM_ERR_FORMAT,
                            "%s: solver_state '%s' needs tensor '%s', which is missing", path,
                            canon, state_names[i]);
        if (!state_needs(s, i) && present[i])
            return csm_fail(ctx, CSM_ERR_FORMAT,
                            "%s: unexpected tensor '%s': solver_state '%s' keeps %s", path,
                            state_names[i], canon,
                            s == CSM_MOMENTUM ? "only 'state.v.weight' and 'state.v.bias'"
                                              : "no moment tensors");
    }
    *solver = s;
    return CSM_OK;
}

/* A model file parsed and validated: everything csm_model_load() checks
 * before it needs a device. */
typedef struct parsed_file {
    json_t *root;
    json_t *meta; /* __metadata__ in root, or NULL */
    int f64;
    size_t C, k;
    double *w, *b;            /* (C, k), (C) */
    double *svals[N_STATE];   /* the state tensors present, else NULL */
    int64_t *labels;          /* (C), valid when have_labels */
    int have_labels;
    int solver;               /* -1: no state */
    long iter, steps;
    tensor_info tw, tb, ts[N_STATE]; /* where weight, bias and the state are in the data */
    int present[N_STATE];
    tensor_info tl[N_LBFGS];         /* the L-BFGS history: S, Y */
    int lpresent[N_LBFGS];
    double *lvals[N_LBFGS];          /* (m, C k + C) each, when present */
    csm_lbfgs_state *lbfgs;          /* its metadata (no buffers), or NULL */
} parsed_file;

static void parsed_free(parsed_file *pf)
{
    json_decref(pf->root);
    free(pf->w);
    free(pf->b);
    for (int i = 0; i < N_STATE; i++)
        free(pf->svals[i]);
    for (int i = 0; i < N_LBFGS; i++)
        free(pf->lvals[i]);
    csm_lbfgs_state_free(pf->lbfgs);
    free(pf->labels);
    memset(pf, 0, sizeof *pf);
}

/* The L-BFGS history: metadata solver_lbfgs and the tensors state.lbfgs.s
 * and state.lbfgs.y come together, only with solver_state lbfgs, and the
 * tensors have the metadata's m rows. (check_solver_state has run.) */
static csm_status check_lbfgs_state(csm_context *ctx, const char *path, parsed_file *pf)
{
    json_t *v = pf->meta ? json_object_get(pf->meta, "solver_lbfgs") : NULL;
    const int tensors = pf->lpresent[0] + pf->lpresent[1];
    if (!v && !tensors)
        return CSM_OK;
    if (pf->solver != CSM_LBFGS)
        return csm_fail(ctx, CSM_ERR_FORMAT, "%s: %s without __metadata__ solver_state 'lbfgs'",
                        path, v ? "__metadata__ solver_lbfgs" : "tensor 'state.lbfgs.s'/'y'");
    if (!v || tensors != 2)
        return csm_fail(ctx, CSM_ERR_FORMAT,
                        "%s: the L-BFGS history needs __metadata__ solver_lbfgs and both "
                        "tensors '%s' and '%s'; this file has %s",
                        path, lbfgs_names[0], lbfgs_names[1],
                        !v ? "the tensors only" : "solver_lbfgs without both tensors");
    csm_status st = csm_lbfgs_state_parse(ctx, path, json_string_value(v), &pf->lbfgs);
    if (st != CSM_OK)
        return st;
    if (pf->tl[0].shape[0] != (uint64_t)pf->lbfgs->mem)
        return csm_fail(ctx, CSM_ERR_FORMAT,
                        "%s: tensor '%s' has %llu rows but __metadata__ solver_lbfgs has memory %d",
                        path, lbfgs_names[0], (unsigned long long)pf->tl[0].shape[0],
                        pf->lbfgs->mem);
    return CSM_OK;
}

/* Parses and validates the header (hlen bytes of JSON) of a model file of
 * fsize bytes: every tensor's place and the file's size are checked
 * against it before any data is read. On failure *pf is empty. */
static csm_status parse_header(csm_context *ctx, const char *path, const char *header,
                               uint64_t hlen, size_t fsize, parsed_file *pf)
{
    memset(pf, 0, sizeof *pf);
    pf->solver = -1;
    if (hlen == 0 || header[0] != '{')
        return csm_fail(ctx, CSM_ERR_FORMAT,
                        "%s: header does not start with '{' (not a safetensors file?)", path);
    json_error_t jerr;
    pf->root = json_loadb(header, (size_t)hlen, JSON_REJECT_DUPLICATES, &jerr);
    if (!pf->root)
        return csm_fail(ctx, CSM_ERR_FORMAT,
                        "%s: header is not valid JSON: %s (byte %d of the header, line %d, "
                        "column %d)",
                        path, jerr.text, jerr.position, jerr.line, jerr.column);

    csm_status st = check_header(ctx, path, pf->root, hlen, fsize, &pf->tw, &pf->tb, pf->ts,
                                 pf->present, pf->tl, pf->lpresent, &pf->meta);
    if (st != CSM_OK)
        goto fail;
    size_t C = (size_t)pf->tw.shape[0], k = (size_t)pf->tw.shape[1];
    pf->f64 = pf->tw.f64;
    pf->C = C;
    pf->k = k;
    pf->labels = malloc(C * sizeof *pf->labels);
    if (!pf->labels) {
        st = csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
        goto fail;
    }
    st = check_metadata(ctx, path, pf->meta, C, k, pf->labels, &pf->have_labels);
    if (st == CSM_OK)
        st = check_solver_state(ctx, path, pf->meta, pf->present, &pf->solver, &pf->iter,
                                &pf->steps);
    if (st == CSM_OK)
        st = check_lbfgs_state(ctx, path, pf);
    if (st == CSM_OK)
        return CSM_OK;
fail:
    parsed_free(pf);
    return st;
}

/* Decodes the tensors from the data part of the file (after the header),
 * which parse_header has measured. On failure *pf is empty. */
static csm_status decode_data(csm_context *ctx, const char *path, const unsigned char *data,
                              parsed_file *pf)
{
    const size_t C = pf->C, k = pf->k;
    csm_status st = CSM_OK;
    pf->w = malloc(C * k * sizeof *pf->w);
    pf->b = malloc(C * sizeof *pf->b);
    if (!pf->w || !pf->b)
        st = csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
    if (st == CSM_OK)
        st = decode_values(ctx, path, &pf->tw, data + pf->tw.begin, C * k, pf->w);
    if (st == CSM_OK)
        st = decode_values(ctx, path, &pf->tb, data + pf->tb.begin, C, pf->b);
    for (int i = 0; i < N_STATE && st == CSM_OK; i++) {
        if (!pf->present[i])
            continue;
        size_t n = i % 2 == 0 ? C * k : C;
        pf->svals[i] = malloc(n * sizeof *pf->svals[i]);
        if (!pf->svals[i])
            st = csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
        else
            st = decode_values(ctx, path, &pf->ts[i], data + pf->ts[i].begin, n, pf->svals[i]);
    }
    for (int i = 0; i < N_LBFGS && st == CSM_OK && pf->lbfgs; i++) {
        size_t n = (size_t)(pf->tl[i].shape[0] * pf->tl[i].shape[1]);
        pf->lvals[i] = malloc((n ? n : 1) * sizeof *pf->lvals[i]);
        if (!pf->lvals[i])
            st = csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
        else
            st = decode_values(ctx, path, &pf->tl[i], data + pf->tl[i].begin, n, pf->lvals[i]);
    }
    if (st != CSM_OK)
        parsed_free(pf);
    return st;
}

/* Parses the bytes of a model file (fsize >= 8). On failure *pf is empty. */
static csm_status parse_model_file(csm_context *ctx, const char *path, const unsigned char *file,
                                   size_t fsize, parsed_file *pf)
{
    memset(pf, 0, sizeof *pf);
    uint64_t hlen = get_u64le(file);
    csm_status st = check_header_length(ctx, path, hlen, fsize);
    if (st == CSM_OK)
        st = parse_header(ctx, path, (const char *)file + 8, hlen, fsize, pf);
    if (st == CSM_OK)
        st = decode_data(ctx, path, file + 8 + hlen, pf);
    return st;
}

/* Reads exactly n bytes of fd into buf. */
static csm_status read_exact(csm_context *ctx, const char *path, int fd, unsigned char *buf,
                             size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = r < 0 ? errno : 0;
            return csm_fail(ctx, CSM_ERR_IO, "%s: cannot read: %s", path,
                            e ? strerror(e) : "unexpected end of file (file changed?)");
        }
        got += (size_t)r;
    }
    return CSM_OK;
}

/* Reads and parses a model file: only a regular file (a named pipe would
 * block), its length prefix and header first, and the data only once the
 * header has said, and the file's size agreed, how much there is: memory
 * follows what the model needs, whatever the file. */
static csm_status read_model_file(csm_context *ctx, const char *path, parsed_file *pf)
{
    memset(pf, 0, sizeof *pf);
    char why[1024];
    int fd;
    uint64_t fsize;
    int rc = csm_open_regular(path, "model file", 0, &fd, &fsize, why, sizeof why);
    if (rc != CSM_FILE_OK)
        return csm_fail(ctx, CSM_ERR_IO, "%s", why);
    unsigned char len8[8], *head = NULL, *data = NULL;
    csm_status st = CSM_OK;
    if (fsize < 8)
        st = csm_fail(ctx, CSM_ERR_FORMAT,
                      "%s: file is %llu bytes, shorter than the 8-byte header length of a "
                      "safetensors file",
                      path, (unsigned long long)fsize);
    else if (fsize > SIZE_MAX)
        st = csm_fail(ctx, CSM_ERR_FORMAT, "%s: file of %llu bytes is too large", path,
                      (unsigned long long)fsize);
    if (st == CSM_OK)
        st = read_exact(ctx, path, fd, len8, 8);
    uint64_t hlen = st == CSM_OK ? get_u64le(len8) : 0;
    if (st == CSM_OK)
        st = check_header_length(ctx, path, hlen, fsize);
    if (st == CSM_OK && !(head = malloc((size_t)hlen + 1)))
        st = csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
    if (st == CSM_OK)
        st = read_exact(ctx, path, fd, head, (size_t)hlen);
    if (st == CSM_OK)
        st = parse_header(ctx, path, (const char *)head, hlen, (size_t)fsize, pf);
    size_t nd = (size_t)(fsize - 8 - hlen);
    if (st == CSM_OK && !(data = malloc(nd ? nd : 1)))
        st = csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "%s: out of memory reading %zu bytes", path,
                      nd);
    if (st == CSM_OK)
        st = read_exact(ctx, path, fd, data, nd);
    if (st == CSM_OK)
        st = decode_data(ctx, path, data, pf);
    else
        parsed_free(pf);
    free(head);
    free(data);
    close(fd);
    return st;
}

csm_status csm_model_file_check(csm_context *ctx, const char *path, const unsigned char *data,
                                size_t size)
{
    if (size < 8)
        return csm_fail(ctx, CSM_ERR_FORMAT,
                        "%s: file is %zu bytes, shorter than the 8-byte header length of a "
                        "safetensors file",
                        path, size);
    parsed_file pf;
    csm_status st = parse_model_file(ctx, path, data, size, &pf);
    parsed_free(&pf);
    return st;
}

csm_status csm_model_load(csm_context *ctx, csm_model **out, const char *path)
{
    if (out)
        *out = NULL;
    if (!ctx)
        return csm_fail(NULL, CSM_ERR_NULL_ARGUMENT, "csm_model_load: ctx is NULL");
    if (!out)
        return csm_fail(ctx, CSM_ERR_NULL_ARGUMENT, "csm_model_load: out is NULL");
    if (!path)
        return csm_fail(ctx, CSM_ERR_NULL_ARGUMENT, "csm_model_load: path is NULL");

    parsed_file pf;
    csm_status st = read_model_file(ctx, path, &pf);
    if (st != CSM_OK)
        return st;

    size_t C = pf.C, k = pf.k;
    csm_precision prec = pf.f64 ? CSM_FLOAT64 : CSM_FLOAT32;
    csm_model *model = NULL;
    st = csm_model_create(ctx, &model, prec, C, k);
    if (st == CSM_OK)
        st = csm_model_set_params(model, pf.w, pf.b);
    if (st == CSM_OK && pf.have_labels)
        st = csm_model_set_labels(model, pf.labels);
    if (st == CSM_OK && pf.solver >= 0) {
        st = csm_model_state_prepare(model, pf.solver);
        for (int i = 0; i < N_STATE && st == CSM_OK; i++)
            if (pf.svals[i])
                st = csm_upload(ctx, *state_buffer(model, i), prec, 0, pf.svals[i],
                                i % 2 == 0 ? C * k : C);
        model->state.iter = pf.iter;
        model->state.steps = pf.steps;
    }
    if (st == CSM_OK && pf.lbfgs) {
        const size_t bytes = (size_t)pf.lbfgs->mem * (C * k + C) * csm_real_size(prec);
        st = csm_buffer_create(ctx, &pf.lbfgs->S, bytes, "L-BFGS history S");
        if (st == CSM_OK)
            st = csm_buffer_create(ctx, &pf.lbfgs->Y, bytes, "L-BFGS history Y");
        for (int t = 0; t < N_LBFGS && st == CSM_OK; t++)
            st = csm_upload(ctx, t ? pf.lbfgs->Y : pf.lbfgs->S, prec, 0, pf.lvals[t],
                            (size_t)pf.lbfgs->mem * (C * k + C));
        if (st == CSM_OK) {
            model->state.lbfgs = pf.lbfgs;
            pf.lbfgs = NULL;
        }
    }
    if (st != CSM_OK) {
        /* e.g. an F64 file on a device without fp64: name the file */
        char *why = csm_strdup(csm_context_last_error(ctx));
        st = csm_fail(ctx, st, "%s: %s", path, why ? why : csm_status_string(st));
        free(why);
        goto done;
    }
    if (pf.meta) {
        const char *key;
        json_t *v;
        json_object_foreach(pf.meta, key, v)
        {
            if (is_reserved_key(key))
                continue;
            st = csm_model_set_metadata(model, key, json_string_value(v));
            if (st != CSM_OK) {
                /* A key the model refuses is a defect of the file. */
                char *why = csm_strdup(csm_context_last_error(ctx));
                if (st != CSM_ERR_OUT_OF_MEMORY)
                    st = CSM_ERR_FORMAT;
                st = csm_fail(ctx, st, "%s: __metadata__ key '%.64s': %s", path, key,
                              why ? why : csm_status_string(st));
                free(why);
                break;
            }
        }
    }
    if (st != CSM_OK)
        goto done;
    *out = model;
    model = NULL;

done:
    csm_model_free(model);
    parsed_free(&pf);
    return st;
}
