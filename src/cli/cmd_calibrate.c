/* clsoftmax calibrate: measure which implementation of a training step is
 * fastest on this device for a shape (csm_calibrate), show the saved
 * choices, or clear them. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "read_file.h"

static void help(void)
{
    printf("Usage: clsoftmax calibrate [OPTIONS]\n"
           "Measure which implementation of a training step is fastest on the device\n"
           "CLSOFTMAX_DEVICE picks, for one shape, and save the choice where training\n"
           "finds it. Training measures by itself the first time it meets a shape\n"
           "class (device, driver, precision, feature storage, ceil(log2 C),\n"
           "ceil(log2 k), rows per step in bands <= 256, <= 2048, <= 16384, more);\n"
           "this command redoes it, for example after a driver update.\n"
           "\n"
           "A measurement reflects the host as it was: one made beside another busy\n"
           "process may keep a choice that is not the fastest on a quiet host. Run\n"
           "this command again with the shape (or --clear) when the host is quiet.\n"
           "sgd, momentum and adam also compare their second epoch with the saved\n"
           "measurement: steps more than 3x slower than measured, in two runs in a\n"
           "row, make the next run measure the shape again.\n"
           "\n"
           "The candidates: fused (one pass over the rows; C <= 256), tiled\n"
           "(register-blocked kernels; CPU devices; each tile geometry) and clblast\n"
           "(CLBlast's GEMMs). Each runs a few gradient steps of up to 1024 rows of\n"
           "random data of the shape; the fastest is kept.\n"
           "\n"
           "Options:\n"
           "  --classes C       classes (default: 10)\n"
           "  --features K      features (default: 784)\n"
           "  --rows N          rows of data (default: 20000)\n"
           "  --batch-size B    rows per step to calibrate for: the minibatch size, or\n"
           "                    0 for full batch and L-BFGS (default: 0)\n"
           "  --u8              features stored as bytes, as IDX files are\n"
           "  --double          float64 (default: float32)\n"
           "  --show            list the saved choices of every device, then exit\n"
           "  --clear           delete the calibration file (every device), then exit\n"
           "  -h, --help        show this help\n"
           "\n"
           "The file: $CLSOFTMAX_CACHE_DIR/calibration.json, else\n"
           "$XDG_CACHE_HOME/clsoftmax/calibration.json, else\n"
           "~/.cache/clsoftmax/calibration.json. CLSOFTMAX_PATH=fused|tiled|clblast\n"
           "overrides every choice; CLSOFTMAX_CALIBRATE=off makes training use a fixed\n"
           "rule instead (fused on CPUs for C <= 256, then tiled; clblast on GPUs).\n");
}

enum { O_CLASSES, O_FEATURES, O_ROWS, O_BATCH, O_U8, O_DOUBLE, O_SHOW, O_CLEAR, O_HELP };
static const cli_option options[] = {
    {"classes", 0, 1}, {"features", 0, 1}, {"rows", 0, 1}, {"batch-size", 0, 1},
    {"u8", 0, 0},      {"double", 0, 0},   {"show", 0, 0}, {"clear", 0, 0},
    {"help", 'h', 0},  {NULL, 0, 0}};

/* Every candidate's time, as the library measures it. */
static void print_measurements(csm_log_level level, const char *message, void *user)
{
    (void)level;
    (void)user;
    if (!strncmp(message, "calibration: ", 13))
        printf("  %s\n", message + 13);
}

static int show(const char *file)
{
    json_error_t jerr;
    char *text = NULL, why[1200];
    size_t len = 0;
    /* as the library reads it: a regular file of at most 1 MB */
    int rc = csm_read_regular(file, "calibration cache", CSM_CALIBRATION_FILE_MAX, &text, &len,
                              why, sizeof why);
    if (rc == CSM_FILE_MISSING) {
        printf("%s: no calibration saved yet\n", file);
        return CLI_OK;
    }
    if (rc != CSM_FILE_OK) {
        cli_error("%s", why);
        return CLI_FAIL;
    }
    json_t *root = json_loadb(text, len, 0, &jerr);
    free(text);
    if (!root) {
        cli_error("%s: %s (line %d)", file, jerr.text, jerr.line);
        return CLI_FAIL;
    }
    json_t *entries = json_object_get(root, "entries");
    printf("%s\n", file);
    const char *key;
    json_t *e;
    json_object_foreach(entries, key, e)
    {
        /* key: platform|device|driver|precision|storage|C|k|rows */
        const char *path = json_string_value(json_object_get(e, "path"));
        const char *tile = json_string_value(json_object_get(e, "tile"));
        printf("%s\n  -> %s%s%s\n", key, path ? path : "?",
               path && !strcmp(path, "tiled") ? " " : "",
               path && !strcmp(path, "tiled") && tile ? tile : "");
        const char *cand;
        json_t *secs;
        json_object_foreach(json_object_get(e, "seconds_per_step"), cand, secs)
            printf("     %-20s %10.3f ms per step\n", cand, json_real_value(secs) * 1e3);
    }
    json_decref(root);
    return CLI_OK;
}

typedef struct calibrate_args {
    size_t C, k, n, batch; /* the shape measured */
    int u8, dbl, show, clear;
} calibrate_args;

/* 0, CLI_USAGE after the error, or -1 after --help. */
static int parse_args(int argc, char **argv, calibrate_args *a)
{
    cli_args it;
    const char *v;
    int id, rc = 0;
    *a = (calibrate_args){.C = 10, .k = 784, .n = 20000};
    cli_args_init(&it, "calibrate", argc, argv);
    while (rc == 0 && (id = cli_args_next(&it, options, &v)) != CLI_ARG_END) {
        switch (id) {
        case CLI_ARG_ERROR:
            return CLI_USAGE;
        case CLI_ARG_POSITIONAL:
            return cli_usage_error("calibrate", "unexpected argument '%s'", v);
        case O_CLASSES:
            rc = cli_parse_size("calibrate", "--classes", v, &a->C);
            if (rc == 0 && a->C < 2)
                return cli_usage_error("calibrate", "--classes: at least 2");
            break;
        case O_FEATURES:
            rc = cli_parse_size("calibrate", "--features", v, &a->k);
            if (rc == 0 && a->k < 1)
                return cli_usage_error("calibrate", "--features: at least 1");
            break;
        case O_ROWS:
            rc = cli_parse_size("calibrate", "--rows", v, &a->n);
            if (rc == 0 && a->n < 1)
                return cli_usage_error("calibrate", "--rows: at least 1");
            break;
        case O_BATCH:
            rc = cli_parse_size("calibrate", "--batch-size", v, &a->batch);
            break;
        case O_U8:
            a->u8 = 1;
            break;
        case O_DOUBLE:
            a->dbl = 1;
            break;
        case O_SHOW:
            a->show = 1;
            break;
        case O_CLEAR:
            a->clear = 1;
            break;
        case O_HELP:
            help();
            return -1;
        }
    }
    return rc;
}

/* What a measurement holds, freed in one place. */
typedef struct calibrate_run {
    unsigned char *x; /* (n, k) random features, bytes or floats */
    int32_t *y;       /* (n) labels, every class in turn */
    csm_context *ctx;
    csm_dataset *d;
    csm_model *m;
} calibrate_run;

/* Random data of the shape (the timing does not depend on the values),
 * then the library's measurement, each candidate's time printed. */
static int measure(const calibrate_args *a, const char *file, calibrate_run *r)
{
    const size_t C = a->C, k = a->k, n = a->n;
    if (n > SIZE_MAX / k) {
        cli_error("--rows x --features is too large");
        return CLI_FAIL;
    }
    const size_t es = a->u8 ? 1 : sizeof(float);
    r->x = malloc(n * k * es);
    r->y = malloc(n * sizeof *r->y);
    if (!r->x || !r->y) {
        cli_error("out of memory for %zu x %zu features", n, k);
        return CLI_FAIL;
    }
    uint64_t s = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < n * k; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        if (a->u8)
            r->x[i] = (unsigned char)(s >> 56);
        else
            ((float *)r->x)[i] = (float)((double)(s >> 40) / (double)(1ull << 24));
    }
    for (size_t i = 0; i < n; i++)
        r->y[i] = (int32_t)(i % C);
    if (!(r->ctx = cli_context_create()))
        return CLI_FAIL;
    const csm_precision prec = a->dbl ? CSM_FLOAT64 : CSM_FLOAT32;
    csm_status st = csm_dataset_create(r->ctx, &r->d, prec, r->x,
                                       a->u8 ? CSM_DTYPE_U8 : CSM_DTYPE_F32, n, k, r->y, NULL, C);
    if (st == CSM_OK)
        st = csm_model_create(r->ctx, &r->m, prec, C, k);
    if (st == CSM_OK)
        st = csm_model_init(r->m, CSM_INIT_NORMAL, 1);
    if (st != CSM_OK)
        return cli_lib_error(r->ctx, st);
    printf("device: %s\n", csm_context_device(r->ctx)->device_name);
    printf("shape: %zu rows, %zu features (%s), %zu classes, %s; steps of %zu rows\n", n, k,
           a->u8 ? "bytes" : "real", C, a->dbl ? "float64" : "float32",
           a->batch && a->batch < n ? a->batch : n);
    csm_context_set_log_callback(r->ctx, print_measurements, NULL);
    char choice[96] = "";
    if ((st = csm_calibrate(r->m, r->d, a->batch, choice, sizeof choice)) != CSM_OK)
        return cli_lib_error(r->ctx, st);
    printf("choice: %s\nsaved in: %s\n", choice, file);
    return CLI_OK;
}

int cmd_calibrate(int argc, char **argv)
{
    calibrate_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    char file[1024];
    if (csm_calibration_path(file, sizeof file) != CSM_OK) {
        cli_error("no directory for the calibration file: set CLSOFTMAX_CACHE_DIR, "
                  "XDG_CACHE_HOME or HOME");
        return CLI_FAIL;
    }
    if (a.show)
        return show(file);
    if (a.clear) {
        if (unlink(file) != 0 && errno != ENOENT) {
            cli_error("%s: %s", file, strerror(errno));
            return CLI_FAIL;
        }
        printf("removed %s\n", file);
        return CLI_OK;
    }
    calibrate_run r;
    memset(&r, 0, sizeof r);
    rc = measure(&a, file, &r);
    csm_model_free(r.m);
    csm_dataset_free(r.d);
    csm_context_free(r.ctx);
    free(r.x);
    free(r.y);
    return rc;
}
