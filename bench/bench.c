/* clsoftmax-bench: epoch times, per-phase times, start-up times and time to
 * accuracy of softmax regression on Fashion-MNIST-sized data (or synthetic
 * data of any shape, --shape NxKxC), and the device's peak FMA throughput
 * (--peak), for the device CLSOFTMAX_DEVICE (or --device) selects. Built by
 * `make bench`; BENCHMARKS.md explains the method and records results.
 *
 * What is measured, and how:
 *   epochs   csm_train() with an epoch callback collecting each epoch's wall
 *            time (csm_epoch_info.seconds); repeats + 1 epochs, the first is
 *            a warm-up and dropped; median / min / max of the rest.
 *   phases   the building blocks of src/step.h for the path the library
 *            binds (choose.c: CLSOFTMAX_PATH, else automatic). Each
 *            phase is enqueued for every step of one epoch, then clFinish;
 *            the same repeats, after one warm-up epoch of every phase.
 *            CLBlast path: gather, forward GEMM, softmax/loss, gradient GEMM
 *            + bias and loss sums, update. Fused path: a forward-only fused
 *            pass, the whole fused step, update (the gradient is step minus
 *            forward). The update is solver_first.c's sgd_update kernel on W
 *            and b (one launch).
 *   startup  this program run again as a child (--first-epoch-only), timed
 *            from fork to exit: data load, context, upload, kernel builds
 *            (warm POCL cache) and one epoch. --cold repeats that once with
 *            POCL_CACHE_DIR pointed at a new empty directory.
 *   accuracy a model trained from zeros on standardized features (momentum
 *            0.9, lr 0.01, batch 256 by default), test accuracy after every
 *            epoch; training time is the sum of the epochs' seconds, so the
 *            evaluation in between does not count.
 *   peak     --peak: an OpenCL kernel of independent FMA chains on the same
 *            device and queue (bench_peak.c), float32 and float64.
 * Epochs are also reported as GFLOP/s, 4nkC floating-point operations an
 * epoch (the forward and the gradient GEMM).
 */
#define _XOPEN_SOURCE 700
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_data.h"
#include "bench_peak.h"
#include "choose.h"
#include "gather.h"
#include "rng.h"
#include "vec.h"

#define NCLASSES 10
#define DEFAULT_DATA_DIR "/usr/share/datasets/fashion-mnist"
#define SYNTH_N 60000
#define SYNTH_K 784
#define SYNTH_MAX_K ((1L << 20) - 2) /* the generator's limit (bench_data.h) */
#define MAX_REPEATS 1000
#define ACC_TARGET 0.84
#define PEAK_TARGET_S 0.05 /* seconds per launch of the peak kernel */
#define PEAK_REPEATS 10

/* ------------------------------------------------------------------ options */

typedef struct options {
    int repeats;
    int epochs; /* accuracy run */
    size_t batch;
    double lr;
    csm_solver optimizer;
    const char *data_dir;
    int synthetic;
    int dbl;
    const char *device;
    const char *json;
    int cold;
    int first_epoch_only;
    int no_startup, no_phases, no_accuracy;
    int standardize; /* accuracy run on standardized features */
    /* synthetic shape (--shape / --n / --features / --classes; these imply
     * --synthetic); the default is Fashion-MNIST's 60000 x 784, 10 classes */
    size_t n, k, C;
    int modes; /* MODE_FULL | MODE_MINI: which epoch measurements run */
    int peak;  /* --peak: measure the device's FMA peak only */
    int input_f32; /* --input float32: the features given to the library as
                    * float32 (byte / 255), as a CSV or NumPy array reaches
                    * it, instead of the 8-bit storage of IDX files */
} options;

enum { MODE_FULL = 1, MODE_MINI = 2 };

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: clsoftmax-bench [OPTIONS]\n"
            "Benchmarks softmax-regression training on one OpenCL device with\n"
            "Fashion-MNIST (or synthetic data of the same shape): full-batch and\n"
            "minibatch epochs, each phase of a step, start-up time, time to accuracy.\n"
            "\n"
            "  --repeats N       timed repetitions of each measurement (default 5);\n"
            "                    one more untimed warm-up runs first\n"
            "  --batch-size N    minibatch size (default 256); the full-batch measurement\n"
            "                    always uses all rows\n"
            "  --epochs N        epochs of the accuracy run (default 5)\n"
            "  --lr F            learning rate of the accuracy run (default 0.01)\n"
            "  --optimizer NAME  sgd, momentum or adam for the accuracy run (default momentum)\n"
            "  --standardize     accuracy run on per-feature standardized features (float32\n"
            "                    input; mean and scale from the training set), as\n"
            "                    `clsoftmax train --standardize` (the default)\n"
            "  --raw-features    accuracy run on the raw features byte / 255 instead\n"
            "  --data DIR        directory with train-images-idx3-ubyte.gz,\n"
            "                    train-labels-idx1-ubyte.gz, t10k-*.gz (default\n"
            "                    " DEFAULT_DATA_DIR "); synthetic data when absent\n"
            "  --synthetic       use synthetic data of the same shape (60000 x 784, 10 classes)\n"
            "  --shape NxKxC     synthetic data of N rows, K features, C classes (implies\n"
            "                    --synthetic; the test set, used by the accuracy run only,\n"
            "                    has N/6 rows); or one at a time:\n"
            "  --n N, --features K, --classes C\n"
            "  --modes LIST      epoch measurements to run: full, mini or full,mini (default)\n"
            "  --input TYPE      how the training features reach the library: u8 (the\n"
            "                    bytes, feature = byte / 255, as IDX files; default) or\n"
            "                    float32 (byte / 255 as float32, as a CSV file or a NumPy\n"
            "                    array becomes)\n"
            "  --peak            only measure the device's peak: an FMA kernel in float32\n"
            "                    and float64 (with --json: written there), then exit\n"
            "  --double          train in float64 (default float32)\n"
            "  --device SEL      device selector (default: CLSOFTMAX_DEVICE)\n"
            "  --json FILE       also write the results as JSON to FILE\n"
            "  --cold            also measure a cold start (empty POCL kernel cache;\n"
            "                    takes tens of seconds on a CPU device)\n"
            "  --no-startup      skip the start-up measurement\n"
            "  --no-phases       skip the per-phase measurement\n"
            "  --no-accuracy     skip the accuracy run\n"
            "  --first-epoch-only  load, upload, train one minibatch epoch, print timings\n"
            "                    and exit (what --startup and --cold run as a child)\n"
            "  --help            this text\n"
            "\n"
            "Environment: CLSOFTMAX_DEVICE, CLSOFTMAX_KERNEL_DIR, CLSOFTMAX_PATH\n"
            "(clblast | fused; unset = automatic), POCL_CACHE_DIR.\n");
}

static int parse_int(const char *opt, const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi) {
        fprintf(stderr, "clsoftmax-bench: %s wants an integer in [%ld, %ld], got '%s'\n", opt,
                lo, hi, v);
        return -1;
    }
    *out = x;
    return 0;
}

/* NxKxC: rows, features, classes of the synthetic data. */
static int parse_shape(const char *v, options *o)
{
    char buf[96];
    snprintf(buf, sizeof buf, "%s", v);
    char *parts[3] = {buf, NULL, NULL};
    for (int i = 1; i < 3; i++) {
        char *xp = parts[i - 1] ? strpbrk(parts[i - 1], "xX") : NULL;
        if (!xp)
            break;
        *xp = '\0';
        parts[i] = xp + 1;
    }
    long n, k, C;
    if (!parts[2] || strpbrk(parts[2], "xX")) {
        fprintf(stderr, "clsoftmax-bench: --shape wants NxKxC (e.g. 20000x784x10), got '%s'\n", v);
        return -1;
    }
    if (parse_int("--shape N", parts[0], 1, 1L << 30, &n) ||
        parse_int("--shape K", parts[1], 1, SYNTH_MAX_K, &k) ||
        parse_int("--shape C", parts[2], 2, 1L << 20, &C))
        return -1;
    o->n = (size_t)n;
    o->k = (size_t)k;
    o->C = (size_t)C;
    return 0;
}

/* Comma-separated full / mini. */
static int parse_modes(const char *v, int *modes)
{
    int m = 0;
    const char *p = v;
    while (*p) {
        size_t len = strcspn(p, ",");
        if (len == 4 && !strncmp(p, "full", 4))
            m |= MODE_FULL;
        else if (len == 4 && !strncmp(p, "mini", 4))
            m |= MODE_MINI;
        else {
            fprintf(stderr, "clsoftmax-bench: --modes is a comma-separated list of full and "
                            "mini, got '%s'\n", v);
            return -1;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    if (!m) {
        fprintf(stderr, "clsoftmax-bench: --modes is empty\n");
        return -1;
    }
    *modes = m;
    return 0;
}

static int parse_options(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    o->repeats = 5;
    o->epochs = 5;
    o->batch = 256;
    o->lr = 0.01;
    o->optimizer = CSM_MOMENTUM;
    o->standardize = 1;
    o->data_dir = DEFAULT_DATA_DIR;
    o->n = SYNTH_N;
    o->k = SYNTH_K;
    o->C = NCLASSES;
    o->modes = MODE_FULL | MODE_MINI;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char name[64];
        const char *val = NULL;
        const char *eq = strchr(a, '=');
        if (strncmp(a, "--", 2) == 0 && eq && (size_t)(eq - a) < sizeof name) {
            memcpy(name, a, (size_t)(eq - a));
            name[eq - a] = '\0';
            val = eq + 1;
        } else {
            snprintf(name, sizeof name, "%s", a);
        }
        static const char *const with_value[] = {"--repeats", "--batch-size", "--epochs",
                                                 "--lr",      "--optimizer",  "--data",
                                                 "--device",  "--json",       "--shape",
                                                 "--n",       "--features",   "--classes",
                                                 "--modes",   "--input",      NULL};
        int wants = 0;
        for (int j = 0; with_value[j]; j++)
            wants |= !strcmp(name, with_value[j]);
        if (wants && !val) {
            if (i + 1 >= argc) {
                fprintf(stderr, "clsoftmax-bench: %s needs a value\n", name);
                return -1;
            }
            val = argv[++i];
        } else if (!wants && val) {
            fprintf(stderr, "clsoftmax-bench: %s takes no value\n", name);
            return -1;
        }
        long x;
        if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(name, "--repeats")) {
            if (parse_int(name, val, 1, MAX_REPEATS, &x)) return -1;
            o->repeats = (int)x;
        } else if (!strcmp(name, "--epochs")) {
            if (parse_int(name, val, 1, 100000, &x)) return -1;
            o->epochs = (int)x;
        } else if (!strcmp(name, "--batch-size")) {
            if (parse_int(name, val, 1, 1L << 30, &x)) return -1;
            o->batch = (size_t)x;
        } else if (!strcmp(name, "--lr")) {
            char *end;
            o->lr = strtod(val, &end);
            if (end == val || *end || !(o->lr > 0) || !isfinite(o->lr)) {
                fprintf(stderr, "clsoftmax-bench: --lr wants a number > 0, got '%s'\n", val);
                return -1;
            }
        } else if (!strcmp(name, "--optimizer")) {
            if (!strcmp(val, "sgd")) o->optimizer = CSM_SGD;
            else if (!strcmp(val, "momentum")) o->optimizer = CSM_MOMENTUM;
            else if (!strcmp(val, "adam")) o->optimizer = CSM_ADAM;
            else {
                fprintf(stderr, "clsoftmax-bench: --optimizer is sgd, momentum or adam\n");
                return -1;
            }
        } else if (!strcmp(name, "--data")) {
            o->data_dir = val;
        } else if (!strcmp(name, "--device")) {
            o->device = val;
        } else if (!strcmp(name, "--json")) {
            o->json = val;
        } else if (!strcmp(name, "--synthetic")) {
            o->synthetic = 1;
        } else if (!strcmp(name, "--shape")) {
            if (parse_shape(val, o) != 0)
                return -1;
            o->synthetic = 1;
        } else if (!strcmp(name, "--n")) {
            if (parse_int(name, val, 1, 1L << 30, &x)) return -1;
            o->n = (size_t)x;
            o->synthetic = 1;
        } else if (!strcmp(name, "--features")) {
            if (parse_int(name, val, 1, SYNTH_MAX_K, &x)) return -1;
            o->k = (size_t)x;
            o->synthetic = 1;
        } else if (!strcmp(name, "--classes")) {
            if (parse_int(name, val, 2, 1L << 20, &x)) return -1;
            o->C = (size_t)x;
            o->synthetic = 1;
        } else if (!strcmp(name, "--modes")) {
            if (parse_modes(val, &o->modes) != 0)
                return -1;
        } else if (!strcmp(name, "--input")) {
            if (!strcmp(val, "u8"))
                o->input_f32 = 0;
            else if (!strcmp(val, "float32"))
                o->input_f32 = 1;
            else {
                fprintf(stderr, "clsoftmax-bench: --input is u8 or float32, got '%s'\n", val);
                return -1;
            }
        } else if (!strcmp(name, "--peak")) {
            o->peak = 1;
        } else if (!strcmp(name, "--double")) {
            o->dbl = 1;
        } else if (!strcmp(name, "--cold")) {
            o->cold = 1;
        } else if (!strcmp(name, "--no-startup")) {
            o->no_startup = 1;
        } else if (!strcmp(name, "--no-phases")) {
            o->no_phases = 1;
        } else if (!strcmp(name, "--standardize")) {
            o->standardize = 1;
        } else if (!strcmp(name, "--raw-features")) {
            o->standardize = 0;
        } else if (!strcmp(name, "--no-accuracy")) {
            o->no_accuracy = 1;
        } else if (!strcmp(name, "--first-epoch-only")) {
            o->first_epoch_only = 1;
        } else {
            fprintf(stderr, "clsoftmax-bench: unknown option '%s' (see --help)\n", a);
            return -1;
        }
    }
    return 0;
}

/* -------------------------------------------------------------- utilities */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct stats {
    double median, min, max;
    int count;
} stats;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static stats stats_of(const double *v, int count)
{
    stats s = {NAN, NAN, NAN, count};
    if (count <= 0)
        return s;
    double *c = malloc((size_t)count * sizeof *c);
    if (!c)
        return s;
    memcpy(c, v, (size_t)count * sizeof *c);
    qsort(c, (size_t)count, sizeof *c, cmp_double);
    s.min = c[0];
    s.max = c[count - 1];
    s.median = count % 2 ? c[count / 2] : 0.5 * (c[count / 2 - 1] + c[count / 2]);
    free(c);
    return s;
}

static int fail_ctx(csm_context *ctx, csm_status st, const char *what)
{
    fprintf(stderr, "clsoftmax-bench: %s: %s: %s\n", what, csm_status_string(st),
            ctx ? csm_context_last_error(ctx) : "");
    return 1;
}

/* The first library log message that names the path a step ran on
 * (step.c logs it at debug level): confirms what the binding said. */
static char g_path_log[256];

static int contains_nocase(const char *s, const char *word)
{
    size_t n = strlen(word);
    for (; *s; s++) {
        size_t i = 0;
        while (i < n && s[i] && (s[i] | 0x20) == (word[i] | 0x20))
            i++;
        if (i == n)
            return 1;
    }
    return 0;
}

static void log_fn(csm_log_level level, const char *message, void *user)
{
    (void)level;
    (void)user;
    if (!g_path_log[0] && contains_nocase(message, " path"))
        snprintf(g_path_log, sizeof g_path_log, "%s", message);
}

static const char *path_env(void)
{
    const char *p = getenv("CLSOFTMAX_PATH");
    return p && *p ? p : "unset (automatic)";
}

/* ------------------------------------------------------------------- data */

typedef struct bench_data {
    bench_set train, test; /* test.n == 0 when there is none */
    size_t C;              /* classes */
    const char *source;    /* "fashion-mnist DIR" or "synthetic" */
    char source_buf[512];
} bench_data;

static int file_exists(const char *path) { return access(path, R_OK) == 0; }

static int load_data(const options *o, bench_data *bd, int want_test, int quiet)
{
    memset(bd, 0, sizeof *bd);
    char img[1024], lab[1024];
    snprintf(img, sizeof img, "%s/train-images-idx3-ubyte.gz", o->data_dir);
    snprintf(lab, sizeof lab, "%s/train-labels-idx1-ubyte.gz", o->data_dir);
    if (!o->synthetic && file_exists(img) && file_exists(lab)) {
        char err[1024];
        if (bench_load_idx(img, lab, &bd->train, err, sizeof err) != 0) {
            fprintf(stderr, "clsoftmax-bench: %s\n", err);
            return -1;
        }
        snprintf(img, sizeof img, "%s/t10k-images-idx3-ubyte.gz", o->data_dir);
        snprintf(lab, sizeof lab, "%s/t10k-labels-idx1-ubyte.gz", o->data_dir);
        if (want_test && file_exists(img) && file_exists(lab) &&
            bench_load_idx(img, lab, &bd->test, err, sizeof err) != 0) {
            fprintf(stderr, "clsoftmax-bench: %s\n", err);
            bench_set_free(&bd->train);
            return -1;
        }
        if (bd->test.n && bd->test.k != bd->train.k) {
            fprintf(stderr, "clsoftmax-bench: test images have %zu pixels, training %zu\n",
                    bd->test.k, bd->train.k);
            bench_set_free(&bd->train);
            bench_set_free(&bd->test);
            return -1;
        }
        snprintf(bd->source_buf, sizeof bd->source_buf, "fashion-mnist %s", o->data_dir);
        bd->source = bd->source_buf;
        bd->C = NCLASSES;
        return 0;
    }
    if (!o->synthetic && !quiet)
        printf("note: %s not found: using synthetic data of the same shape\n", img);
    /* test rows: n / 6 (Fashion-MNIST's 10000 for 60000) */
    size_t n_test = o->n / 6 ? o->n / 6 : 1;
    bd->C = o->C;
    if (bench_synthetic(&bd->train, o->n, o->k, o->C, 0) != 0 ||
        (want_test && bench_synthetic(&bd->test, n_test, o->k, o->C, UINT64_C(1) << 30) != 0)) {
        fprintf(stderr, "clsoftmax-bench: out of memory for synthetic data\n");
        bench_set_free(&bd->train);
        return -1;
    }
    bd->source = "synthetic";
    return 0;
}

static void free_data(bench_data *bd)
{
    bench_set_free(&bd->train);
    bench_set_free(&bd->test);
}

/* ------------------------------------------------------- epoch timing */

typedef struct epoch_log {
    double *seconds;
    double *loss;
    int cap, count;
    /* accuracy run */
    csm_dataset *test;
    double *test_acc;
    csm_status eval_status;
} epoch_log;

static int epoch_cb(csm_model *m, const csm_epoch_info *info, void *user)
{
    epoch_log *lg = user;
    if (lg->count < lg->cap) {
        lg->seconds[lg->count] = info->seconds;
        lg->loss[lg->count] = info->loss;
        if (lg->test && lg->eval_status == CSM_OK) {
            double acc = NAN;
            lg->eval_status = csm_evaluate(m, lg->test, NULL, &acc);
            lg->test_acc[lg->count] = acc;
        }
        lg->count++;
    }
    return 0;
}

static int epoch_log_init(epoch_log *lg, int cap)
{
    memset(lg, 0, sizeof *lg);
    lg->seconds = calloc((size_t)cap, sizeof *lg->seconds);
    lg->loss = calloc((size_t)cap, sizeof *lg->loss);
    lg->test_acc = calloc((size_t)cap, sizeof *lg->test_acc);
    lg->cap = cap;
    return lg->seconds && lg->loss && lg->test_acc ? 0 : -1;
}

static void epoch_log_free(epoch_log *lg)
{
    free(lg->seconds);
    free(lg->loss);
    free(lg->test_acc);
}

/* Trains a fresh zero model for `epochs` epochs with plain SGD. */
static csm_status train_epochs(csm_context *ctx, csm_dataset *d, csm_precision prec,
                               size_t batch, int epochs, double lr, csm_solver opt,
                               epoch_log *lg)
{
    csm_model *m = NULL;
    csm_status st = csm_model_create(ctx, &m, prec, csm_dataset_n_classes(d),
                                     csm_dataset_n_features(d));
    if (st != CSM_OK)
        return st;
    csm_train_options to;
    csm_train_options_init(&to, sizeof to);
    to.max_iter = epochs;
    to.tol = 0;
    to.C = INFINITY;
    to.batch_size = batch;
    to.learning_rate = lr;
    to.solver = opt;
    to.callback = epoch_cb;
    to.user = lg;
    st = csm_train(m, d, &to, NULL);
    if (st == CSM_OK && lg->eval_status != CSM_OK)
        st = lg->eval_status;
    csm_model_free(m);
    return st;
}

/* ------------------------------------------------------------ phases */

enum {
    PH_GATHER,     /* CLBlast path, shuffled minibatches */
    PH_FORWARD,    /* CLBlast path */
    PH_SOFTMAX,    /* CLBlast path */
    PH_GRAD,       /* CLBlast path */
    PH_FUSED_FWD,  /* fused path: forward-only pass (contained in the step) */
    PH_FUSED_STEP, /* fused path: the whole step but the update */
    PH_UPDATE,
    NPH
};
static const char *const phase_names[NPH] = {"gather",      "forward",            "softmax_loss",
                                             "gradient",    "fused_forward_loss", "fused_step",
                                             "update"};
static const char *const phase_desc[NPH] = {
    "gather (shuffled rows -> batch)", "forward   S = X W^T (GEMM)",
    "softmax + loss + delta",          "gradient  dW (GEMM), db, loss sum",
    "forward + softmax + loss (fused)", "whole step but update (fused)",
    "update    SGD W, b"};

/* Whether a path runs a phase; `gather`: shuffled minibatches. */
static int phase_applies(csm_path path, int gather, int ph)
{
    switch (ph) {
    case PH_GATHER:
        return path == CSM_PATH_CLBLAST && gather;
    case PH_FORWARD:
    case PH_SOFTMAX:
    case PH_GRAD:
        return path == CSM_PATH_CLBLAST;
    case PH_FUSED_FWD:
    case PH_FUSED_STEP:
        return path == CSM_PATH_FUSED;
    default:
        return 1;
    }
}

/* Whether a phase's time is part of a step (the fused forward-only pass is
 * a measurement inside the fused step, not an extra cost). */
static int phase_in_step(int ph) { return ph != PH_FUSED_FWD; }

typedef struct phaser {
    csm_context *ctx;
    csm_model *m;
    const csm_dataset *d;
    csm_step w;
    int have_work;
    csm_path path;
    size_t B, steps;
    int permute, gather;
    cl_mem x; /* real-typed features (CLBlast path) */
    csm_vecops v; /* the SGD update */
    csm_gather g;
    cl_mem idx;
} phaser;

static csm_status phaser_init(phaser *p, csm_context *ctx, csm_model *m, const csm_dataset *d,
                              size_t batch)
{
    p->ctx = ctx;
    p->m = m;
    p->d = d;
    p->B = batch == 0 || batch >= d->n ? d->n : batch;
    p->steps = (d->n + p->B - 1) / p->B;
    p->permute = p->B < d->n;
    csm_status st = csm_bind_step(&p->w, m, d, p->B, p->steps, CSM_MEASURE_ALLOWED);
    if (st != CSM_OK)
        return st;
    p->have_work = 1;
    p->path = p->w.path->id;
    p->gather = p->permute && p->path == CSM_PATH_CLBLAST;
    if (p->path == CSM_PATH_CLBLAST)
        st = csm_dataset_real_x(d, &p->x);
    if (st == CSM_OK)
        st = csm_vec_init(&p->v, m, 0);
    if (st == CSM_OK && p->gather)
        st = csm_gather_init(&p->g, m, d, p->B, p->w.path);
    if (st == CSM_OK && p->permute) {
        st = csm_buffer_create(ctx, &p->idx, d->n * sizeof(cl_int), "permutation");
        int32_t *perm = st == CSM_OK ? malloc(d->n * sizeof *perm) : NULL;
        if (st == CSM_OK && !perm)
            st = csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
        if (st == CSM_OK) {
            for (size_t i = 0; i < d->n; i++)
                perm[i] = (int32_t)i;
            csm_rng rng;
            csm_rng_seed(&rng, 1);
            csm_rng_shuffle(&rng, perm, d->n);
            cl_int rc = clEnqueueWriteBuffer(ctx->queue, p->idx, CL_TRUE, 0, d->n * sizeof(cl_int),
                                             perm, 0, NULL, NULL);
            if (rc != CL_SUCCESS)
                st = csm_cl_fail(ctx, rc, "clEnqueueWriteBuffer (permutation)");
        }
        free(perm);
    }
    return st;
}

static void phaser_free(phaser *p)
{
    if (p->have_work) {
        csm_step_free(&p->w);
        csm_vec_free(&p->v);
    }
    csm_gather_free(&p->g);
    csm_buffer_release(&p->idx);
}

static csm_status enqueue_update(phaser *p)
{
    const csm_update u = {.solver = CSM_SGD, .lr = 1e-3, .l2 = 0.0};
    return csm_vec_update(&p->v, &u, p->w.dweight, p->w.dbias);
}

/* One phase of step s, as csm_train's step enqueues it. */
static csm_status enqueue_phase(phaser *p, int phase, size_t s)
{
    const csm_dataset *d = p->d;
    size_t start = s * p->B;
    size_t B = d->n - start < p->B ? d->n - start : p->B;
    csm_block b;
    if (p->gather)
        b = csm_gather_block(&p->g, d, p->idx, start, B);
    else
        b = (csm_block){p->x, start, d->labels, NULL, start, B, d, p->permute ? p->idx : NULL,
                        start, NULL};
    switch (phase) {
    case PH_GATHER:
        return csm_gather_enqueue(&p->g, p->d, p->idx, start, B);
    case PH_FORWARD:
        return p->w.path->logits(&p->w, p->m->weight, &b);
    case PH_SOFTMAX:
        return csm_step_softmax(&p->w, p->m, &b, CSM_WRITE_DELTA, 1.0 / (double)B);
    case PH_GRAD:
        /* the loss sums ride in the bias-sum launch, as in csm_train */
        return csm_step_products_grad(&p->w, p->m, &b, 0, CSM_STEP_LOSS, s);
    case PH_FUSED_FWD:
        return csm_step_forward(&p->w, p->m, &b, 0, s);
    case PH_FUSED_STEP:
        return csm_step_grad(&p->w, p->m, &b, 1.0 / (double)B, s, 0, 0);
    case PH_UPDATE:
        return enqueue_update(p);
    }
    return CSM_OK;
}

/* Per-epoch time of each phase of the path the library picks: repeats x
 * (every step of one phase, then clFinish), after one untimed epoch of
 * every phase in step order. Phases the path does not run get count 0. */
static csm_status time_phases(csm_context *ctx, csm_dataset *d, csm_precision prec,
                              size_t batch, int repeats, stats *out)
{
    for (int ph = 0; ph < NPH; ph++)
        out[ph] = (stats){NAN, NAN, NAN, 0};
    csm_model *m = NULL;
    csm_status st = csm_model_create(ctx, &m, prec, csm_dataset_n_classes(d),
                                     csm_dataset_n_features(d));
    if (st == CSM_OK)
        st = csm_model_init(m, CSM_INIT_NORMAL, 1);
    phaser p;
    memset(&p, 0, sizeof p);
    if (st == CSM_OK)
        st = phaser_init(&p, ctx, m, d, batch);
    double *t = calloc((size_t)repeats * NPH, sizeof *t);
    if (!t && st == CSM_OK)
        st = csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
    for (size_t s = 0; st == CSM_OK && s < p.steps; s++)
        for (int ph = 0; st == CSM_OK && ph < NPH; ph++)
            if (phase_applies(p.path, p.gather, ph))
                st = enqueue_phase(&p, ph, s);
    if (st == CSM_OK)
        clFinish(ctx->queue);
    for (int r = 0; st == CSM_OK && r < repeats; r++)
        for (int ph = 0; st == CSM_OK && ph < NPH; ph++) {
            if (!phase_applies(p.path, p.gather, ph))
                continue;
            double t0 = now();
            for (size_t s = 0; st == CSM_OK && s < p.steps; s++)
                st = enqueue_phase(&p, ph, s);
            cl_int rc = clFinish(ctx->queue);
            if (st == CSM_OK && rc != CL_SUCCESS)
                st = csm_cl_fail(ctx, rc, "clFinish");
            t[ph * repeats + r] = now() - t0;
        }
    for (int ph = 0; st == CSM_OK && ph < NPH; ph++)
        if (phase_applies(p.path, p.gather, ph))
            out[ph] = stats_of(t + ph * repeats, repeats);
    phaser_free(&p);
    free(t);
    csm_model_free(m);
    return st;
}

/* ------------------------------------------------------ cross-check */

/* Deterministic initial weights that compare.py reproduces exactly. */
static void crosscheck_weights(double *w, double *b, size_t C, size_t k)
{
    for (size_t c = 0; c < C; c++) {
        for (size_t j = 0; j < k; j++)
            w[c * k + j] = (double)((long)(((c * k + j) * 7919) % 2001) - 1000) * 1e-5;
        b[c] = ((double)c - 4.5) * 0.01;
    }
}

/* Loss at the cross-check weights and after one full-batch SGD step of lr 0.1. */
static csm_status crosscheck(csm_context *ctx, csm_dataset *d, csm_precision prec, double *loss0,
                             double *loss1)
{
    size_t k = csm_dataset_n_features(d), C = csm_dataset_n_classes(d);
    double *w = malloc(C * k * sizeof *w), *b = malloc(C * sizeof *b);
    csm_model *m = NULL;
    csm_status st = w && b ? csm_model_create(ctx, &m, prec, C, k) : CSM_ERR_OUT_OF_MEMORY;
    if (st == CSM_OK) {
        crosscheck_weights(w, b, C, k);
        st = csm_model_set_params(m, w, b);
    }
    if (st == CSM_OK)
        st = csm_loss(m, d, INFINITY, loss0);
    epoch_log lg;
    if (st == CSM_OK && epoch_log_init(&lg, 1) == 0) {
        csm_train_options to;
        csm_train_options_init(&to, sizeof to);
        to.max_iter = 1;
        to.tol = 0;
        to.C = INFINITY;
        to.batch_size = 0;
        to.learning_rate = 0.1;
        to.solver = CSM_SGD;
        to.shuffle = 0;
        to.callback = epoch_cb;
        to.user = &lg;
        st = csm_train(m, d, &to, NULL);
        /* the epoch's reported loss is the loss before its one step */
        if (st == CSM_OK && fabs(lg.loss[0] - *loss0) > 1e-4)
            fprintf(stderr, "warning: csm_train's epoch loss %.6f differs from csm_loss %.6f\n",
                    lg.loss[0], *loss0);
        if (st == CSM_OK)
            st = csm_loss(m, d, INFINITY, loss1);
        epoch_log_free(&lg);
    }
    csm_model_free(m);
    free(w);
    free(b);
    return st;
}

/* ------------------------------------------------------ standardize */

/* Per-feature mean and standard deviation of the training pixels (byte /
 * 255); a constant feature gets scale 1. */
static int standardize_fit(const bench_set *s, double **mean_out, double **scale_out)
{
    double *mean = calloc(s->k, sizeof *mean), *scale = calloc(s->k, sizeof *scale);
    if (!mean || !scale) {
        free(mean);
        free(scale);
        return -1;
    }
    for (size_t i = 0; i < s->n; i++)
        for (size_t j = 0; j < s->k; j++)
            mean[j] += s->x[i * s->k + j] / 255.0;
    for (size_t j = 0; j < s->k; j++)
        mean[j] /= (double)s->n;
    for (size_t i = 0; i < s->n; i++)
        for (size_t j = 0; j < s->k; j++) {
            double d = s->x[i * s->k + j] / 255.0 - mean[j];
            scale[j] += d * d;
        }
    for (size_t j = 0; j < s->k; j++) {
        scale[j] = sqrt(scale[j] / (double)s->n);
        if (!(scale[j] > 1e-12))
            scale[j] = 1.0;
    }
    *mean_out = mean;
    *scale_out = scale;
    return 0;
}

/* Uploads s as the library's dataset: its bytes (CSM_DTYPE_U8), or with
 * input_f32 byte / 255 widened to float32 on the host first (CSM_DTYPE_F32),
 * the same values the library computes from the bytes. */
static csm_status upload_set(csm_context *ctx, csm_dataset **out, csm_precision prec,
                             const bench_set *s, size_t C, int input_f32)
{
    if (!input_f32)
        return csm_dataset_create(ctx, out, prec, s->x, CSM_DTYPE_U8, s->n, s->k, s->y, NULL, C);
    size_t nk = s->n * s->k;
    float *x = malloc((nk ? nk : 1) * sizeof *x);
    if (!x)
        return CSM_ERR_OUT_OF_MEMORY;
    for (size_t i = 0; i < nk; i++)
        x[i] = (float)s->x[i] / 255.0f;
    csm_status st = csm_dataset_create(ctx, out, prec, x, CSM_DTYPE_F32, s->n, s->k, s->y, NULL, C);
    free(x);
    return st;
}

/* Uploads (byte / 255 - mean) / scale as float32 host input. */
static csm_status upload_standardized(csm_context *ctx, csm_dataset **out, csm_precision prec,
                                      const bench_set *s, size_t C, const double *mean,
                                      const double *scale)
{
    float *x = malloc(s->n * s->k * sizeof *x);
    if (!x)
        return CSM_ERR_OUT_OF_MEMORY;
    for (size_t i = 0; i < s->n; i++)
        for (size_t j = 0; j < s->k; j++)
            x[i * s->k + j] = (float)((s->x[i * s->k + j] / 255.0 - mean[j]) / scale[j]);
    csm_status st = csm_dataset_create(ctx, out, prec, x, CSM_DTYPE_F32, s->n, s->k, s->y, NULL,
                                       C);
    free(x);
    return st;
}

/* --------------------------------------------------------- start-up */

/* Timings the child reports on stdout. */
typedef struct startup_run {
    double to_first_epoch; /* fork to the child's report of its first epoch done */
    double wall;        /* fork to exit (includes the child's clean-up) */
    double load, context, upload, epoch, in_process; /* reported by the child */
} startup_run;

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Runs this program with --first-epoch-only; cache_dir, when not NULL,
 * becomes the child's POCL_CACHE_DIR. */
static int run_child(const options *o, const char *data_kind, const char *cache_dir,
                     startup_run *r)
{
    char bs[32];
    snprintf(bs, sizeof bs, "%zu", o->batch);
    const char *argv[16];
    int a = 0;
    argv[a++] = "clsoftmax-bench";
    argv[a++] = "--first-epoch-only";
    argv[a++] = "--batch-size";
    argv[a++] = bs;
    char shape[96];
    if (!strcmp(data_kind, "synthetic")) {
        snprintf(shape, sizeof shape, "%zux%zux%zu", o->n, o->k, o->C);
        argv[a++] = "--shape";
        argv[a++] = shape;
    } else {
        argv[a++] = "--data";
        argv[a++] = o->data_dir;
    }
    if (o->dbl)
        argv[a++] = "--double";
    if (o->input_f32) {
        argv[a++] = "--input";
        argv[a++] = "float32";
    }
    if (o->device) {
        argv[a++] = "--device";
        argv[a++] = o->device;
    }
    argv[a] = NULL;

    int fds[2];
    if (pipe(fds) != 0) {
        perror("clsoftmax-bench: pipe");
        return -1;
    }
    fflush(NULL);
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0) {
        perror("clsoftmax-bench: fork");
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        if (dup2(fds[1], STDOUT_FILENO) < 0)
            _exit(127);
        close(fds[1]);
        if (cache_dir)
            setenv("POCL_CACHE_DIR", cache_dir, 1);
        execv("/proc/self/exe", (char *const *)argv);
        fprintf(stderr, "clsoftmax-bench: exec /proc/self/exe: %s\n", strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    char buf[1024];
    size_t used = 0;
    ssize_t got;
    r->to_first_epoch = NAN;
    while ((got = read(fds[0], buf + used, sizeof buf - 1 - used)) > 0) {
        used += (size_t)got;
        buf[used] = '\0';
        /* the child flushes its one line when the first epoch is done */
        if (isnan(r->to_first_epoch) && strstr(buf, "first-epoch") &&
            strchr(strstr(buf, "first-epoch"), '\n'))
            r->to_first_epoch = now() - t0;
        if (used >= sizeof buf - 1)
            break;
    }
    buf[used] = '\0';
    while (got > 0) { /* drain anything beyond the buffer */
        char sink[256];
        got = read(fds[0], sink, sizeof sink);
    }
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    r->wall = now() - t0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "clsoftmax-bench: the --first-epoch-only child failed (status %d)\n",
                status);
        return -1;
    }
    const char *line = strstr(buf, "first-epoch");
    if (!line || sscanf(line, "first-epoch load=%lf context=%lf upload=%lf epoch=%lf total=%lf",
                        &r->load, &r->context, &r->upload, &r->epoch, &r->in_process) != 5) {
        fprintf(stderr, "clsoftmax-bench: unexpected child output: %s\n", buf);
        return -1;
    }
    return 0;
}

/* --first-epoch-only: the child side. */
static int first_epoch_only(const options *o, double t_main)
{
    bench_data bd;
    if (load_data(o, &bd, 0, 1) != 0)
        return 1;
    double t_load = now();
    csm_context *ctx = NULL;
    char err[1024];
    csm_status st = csm_context_create(&ctx, o->device, err, sizeof err);
    if (st != CSM_OK) {
        fprintf(stderr, "clsoftmax-bench: %s\n", err);
        free_data(&bd);
        return 1;
    }
    double t_ctx = now();
    csm_precision prec = o->dbl ? CSM_FLOAT64 : CSM_FLOAT32;
    csm_dataset *d = NULL;
    st = upload_set(ctx, &d, prec, &bd.train, bd.C, o->input_f32);
    double t_up = now();
    epoch_log lg;
    if (st == CSM_OK && epoch_log_init(&lg, 1) != 0)
        st = CSM_ERR_OUT_OF_MEMORY;
    if (st == CSM_OK) {
        st = train_epochs(ctx, d, prec, o->batch, 1, o->lr, CSM_SGD, &lg);
        epoch_log_free(&lg);
    }
    double t_done = now();
    int rc = 0;
    if (st != CSM_OK)
        rc = fail_ctx(ctx, st, "first epoch");
    else
        printf("first-epoch load=%.6f context=%.6f upload=%.6f epoch=%.6f total=%.6f\n",
               t_load - t_main, t_ctx - t_load, t_up - t_ctx, t_done - t_up, t_done - t_main);
    fflush(stdout); /* the parent times the arrival of this line */
    csm_dataset_free(d);
    csm_context_free(ctx);
    free_data(&bd);
    return rc;
}

/* ------------------------------------------------------------- report */

typedef struct results {
    char device[400];
    const char *path; /* the path a model of this shape is bound to */
    const char *precision;
    const char *source;
    size_t n, k, C, n_test, batch;
    int repeats;
    double load_s, context_s, upload_s;
    double xc_loss0, xc_loss1;
    const char *device_type;
    int modes;          /* MODE_FULL | MODE_MINI measured */
    stats full, mini;
    double *full_all, *mini_all; /* every timed epoch, in order */
    const char *features; /* how the device holds X after the epochs */
    int have_phases;
    stats ph_full[NPH], ph_mini[NPH];
    int have_acc;
    int acc_epochs, acc_epoch_target;
    double acc_lr, acc_train_s, acc_test, acc_time_to_target;
    const char *acc_optimizer;
    int acc_standardized;
    double *acc_curve, *acc_times;
    int have_warm;
    stats warm, warm_exit, warm_load, warm_context, warm_upload, warm_epoch, warm_in_process;
    int have_cold;
    startup_run cold;
} results;

/* An epoch's floating-point operations: the forward GEMM S = X W^T and the
 * gradient GEMM dW = (O - T)^T X, 2nkC each (the softmax, bias and update
 * are O(nC + kC) and not counted). */
static double flops_per_epoch(const results *r)
{
    return 4.0 * (double)r->n * (double)r->k * (double)r->C;
}

/* A JSON number, or null for NaN and infinities. */
static void json_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.9g", v);
    else
        fputs("null", f);
}

static void json_stats(FILE *f, const char *name, stats s, const char *tail)
{
    fprintf(f, "\"%s\": {\"median\": ", name);
    json_num(f, s.median);
    fputs(", \"min\": ", f);
    json_num(f, s.min);
    fputs(", \"max\": ", f);
    json_num(f, s.max);
    fprintf(f, ", \"count\": %d}%s", s.count, tail);
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static int write_json(const char *path, const results *r)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "clsoftmax-bench: %s: %s\n", path, strerror(errno));
        return -1;
    }
    fprintf(f, "{\n  \"version\": \"%s\",\n  \"device\": ", csm_version());
    json_string(f, r->device);
    fprintf(f, ",\n  \"path\": \"%s\",\n  \"path_env\": ", r->path);
    json_string(f, path_env());
    fprintf(f, ",\n  \"path_log\": ");
    json_string(f, g_path_log);
    fprintf(f, ",\n  \"precision\": \"%s\",\n  \"data\": ", r->precision);
    json_string(f, r->source);
    fprintf(f,
            ",\n  \"n\": %zu, \"k\": %zu, \"classes\": %zu, \"n_test\": %zu, \"batch_size\": %zu, "
            "\"repeats\": %d,\n",
            r->n, r->k, r->C, r->n_test, r->batch, r->repeats);
    fprintf(f, "  \"setup\": {\"load_s\": %.6f, \"context_s\": %.6f, \"upload_s\": %.6f},\n",
            r->load_s, r->context_s, r->upload_s);
    fprintf(f, "  \"crosscheck\": {\"loss_init\": %.9g, \"loss_after_step\": %.9g},\n",
            r->xc_loss0, r->xc_loss1);
    fprintf(f, "  \"device_type\": ");
    json_string(f, r->device_type);
    fprintf(f, ", \"features_on_device\": ");
    json_string(f, r->features ? r->features : "");
    fprintf(f, ",\n  \"flops_per_epoch\": %.17g,\n", flops_per_epoch(r));
    for (int which = 0; which < 2; which++) {
        if (!(r->modes & (which ? MODE_MINI : MODE_FULL)))
            continue;
        stats s = which ? r->mini : r->full;
        const double *all = which ? r->mini_all : r->full_all;
        fprintf(f, "  \"%s\": {", which ? "minibatch" : "full_batch");
        if (which)
            fprintf(f, "\"batch_size\": %zu, ", r->batch);
        json_stats(f, "epoch_s", s, ", ");
        fprintf(f, "\"epoch_s_all\": [");
        for (int e = 0; e < s.count; e++) {
            fputs(e ? ", " : "", f);
            json_num(f, all ? all[e] : NAN);
        }
        fprintf(f, "], \"samples_per_s\": ");
        json_num(f, (double)r->n / s.median);
        fprintf(f, ", \"gflops_median\": ");
        json_num(f, flops_per_epoch(r) / s.median * 1e-9);
        fprintf(f, ", \"gflops_best\": ");
        json_num(f, flops_per_epoch(r) / s.min * 1e-9);
        fprintf(f, "},\n");
    }
    if (r->have_phases) {
        for (int which = 0; which < 2; which++) {
            const stats *ph = which ? r->ph_mini : r->ph_full;
            fprintf(f, "  \"phases_%s\": {", which ? "minibatch" : "full_batch");
            int first = 1;
            for (int i = 0; i < NPH; i++) {
                if (ph[i].count == 0)
                    continue;
                fprintf(f, "%s", first ? "" : ", ");
                json_stats(f, phase_names[i], ph[i], "");
                first = 0;
            }
            fprintf(f, "},\n");
        }
    }
    if (r->have_acc) {
        fprintf(f,
                "  \"accuracy\": {\"epochs\": %d, \"lr\": %g, \"optimizer\": \"%s\", "
                "\"standardized\": %s, \"batch_size\": %zu, \"train_s\": %.6f, "
                "\"test_accuracy\": ",
                r->acc_epochs, r->acc_lr, r->acc_optimizer,
                r->acc_standardized ? "true" : "false", r->batch, r->acc_train_s);
        json_num(f, r->acc_test);
        fprintf(f, ", \"target\": %g, \"epoch_reaching_target\": %d, \"train_s_to_target\": ",
                ACC_TARGET, r->acc_epoch_target);
        json_num(f, r->acc_time_to_target);
        fprintf(f, ", \"test_accuracy_per_epoch\": [");
        for (int e = 0; e < r->acc_epochs; e++) {
            fputs(e ? ", " : "", f);
            json_num(f, r->acc_curve ? r->acc_curve[e] : NAN);
        }
        fprintf(f, "], \"train_s_per_epoch_cumulative\": [");
        for (int e = 0; e < r->acc_epochs; e++) {
            fputs(e ? ", " : "", f);
            json_num(f, r->acc_times ? r->acc_times[e] : NAN);
        }
        fprintf(f, "]},\n");
    }
    if (r->have_warm) {
        fprintf(f, "  \"startup_warm\": {");
        json_stats(f, "to_first_epoch_s", r->warm, ", ");
        json_stats(f, "to_exit_s", r->warm_exit, ", ");
        json_stats(f, "load_s", r->warm_load, ", ");
        json_stats(f, "context_s", r->warm_context, ", ");
        json_stats(f, "upload_s", r->warm_upload, ", ");
        json_stats(f, "first_epoch_s", r->warm_epoch, ", ");
        json_stats(f, "main_to_first_epoch_s", r->warm_in_process, "},\n");
    }
    if (r->have_cold)
        fprintf(f,
                "  \"startup_cold\": {\"to_first_epoch_s\": %.6f, \"to_exit_s\": %.6f, "
                "\"load_s\": %.6f, \"context_s\": %.6f, \"upload_s\": %.6f, "
                "\"first_epoch_s\": %.6f},\n",
                r->cold.to_first_epoch, r->cold.wall, r->cold.load, r->cold.context,
                r->cold.upload, r->cold.epoch);
    fprintf(f, "  \"complete\": true\n}\n");
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        fprintf(stderr, "clsoftmax-bench: writing %s failed\n", path);
        return -1;
    }
    return 0;
}

static void print_stats_line(const char *label, stats s, double per_samples)
{
    printf("  %-34s median %8.4f s  min %8.4f  max %8.4f", label, s.median, s.min, s.max);
    if (per_samples > 0)
        printf("  %10.0f samples/s", per_samples / s.median);
    printf("\n");
}

static void print_phases(const char *title, const stats *ph, stats epoch, size_t steps)
{
    printf("%s (per epoch, %zu step%s)\n", title, steps, steps == 1 ? "" : "s");
    double sum = 0;
    for (int i = 0; i < NPH; i++) {
        if (ph[i].count == 0)
            continue;
        printf("  %-34s median %8.4f s  min %8.4f  max %8.4f  (%8.1f us/step)\n", phase_desc[i],
               ph[i].median, ph[i].min, ph[i].max, 1e6 * ph[i].median / (double)steps);
        if (phase_in_step(i))
            sum += ph[i].median;
    }
    if (ph[PH_FUSED_FWD].count && ph[PH_FUSED_STEP].count)
        printf("  %-34s median %8.4f s (step - forward; derived)\n", "  of which gradient",
               ph[PH_FUSED_STEP].median - ph[PH_FUSED_FWD].median);
    printf("  %-34s median %8.4f s  (epoch median %.4f s: %+.4f s outside the phases)\n",
           "sum of a step's phases", sum, epoch.median, epoch.median - sum);
}

/* ------------------------------------------------------------ peak */

static void print_peak(const char *label, const bench_peak *p)
{
    if (!p->supported) {
        printf("  %-8s not supported by the device\n", label);
        return;
    }
    printf("  %-8s %9.1f GFLOP/s  (vectors of %u; preferred width %u)\n", label, p->gflops,
           p->best_vec, p->preferred);
    for (int i = 0; i < p->n_widths; i++)
        printf("             width %2u: %9.1f GFLOP/s  (%.3g GFLOP in %.4f s)\n", p->width[i].vec,
               p->width[i].gflops, p->width[i].flops * 1e-9, p->width[i].seconds);
}

static void json_peak(FILE *f, const char *name, const bench_peak *p, const char *tail)
{
    fprintf(f, "    \"%s\": ", name);
    if (!p->supported) {
        fprintf(f, "null%s\n", tail);
        return;
    }
    fprintf(f, "{\"gflops\": %.6g, \"vector_width\": %u, \"preferred_width\": %u, "
               "\"chains\": %d, \"global\": %zu, \"local\": %zu, \"repeats\": %d, "
               "\"widths\": [",
            p->gflops, p->best_vec, p->preferred, p->chains, p->global, p->local, p->repeats);
    for (int i = 0; i < p->n_widths; i++)
        fprintf(f, "%s{\"vec\": %u, \"gflops\": %.6g, \"seconds\": %.6g, \"flops\": %.6g}",
                i ? ", " : "", p->width[i].vec, p->width[i].gflops, p->width[i].seconds,
                p->width[i].flops);
    fprintf(f, "]}%s\n", tail);
}

/* --peak: the device's FMA throughput in float32 and float64. */
static int peak_only(const options *o)
{
    csm_context *ctx = NULL;
    char err[2048];
    csm_status st = csm_context_create(&ctx, o->device, err, sizeof err);
    if (st != CSM_OK) {
        fprintf(stderr, "clsoftmax-bench: %s\n", err);
        return 1;
    }
    const csm_device_info *di = csm_context_device(ctx);
    char device[400];
    snprintf(device, sizeof device, "%s / %s (%s, %u compute units, driver %s)",
             di->platform_name, di->device_name, di->device_type, di->compute_units,
             di->driver_version);
    printf("clsoftmax-bench (clsoftmax %s)\n", csm_version());
    printf("device:    %s\n", device);
    printf("peak: %d independent FMA chains per work-item, best of %d launches of about %.2f s "
           "(2 FLOP per FMA lane)\n", BENCH_PEAK_CHAINS, PEAK_REPEATS, PEAK_TARGET_S);
    fflush(stdout);
    bench_peak p[2];
    int rc = 0;
    for (int dbl = 0; dbl < 2 && rc == 0; dbl++) {
        if (bench_peak_measure(ctx, dbl, PEAK_TARGET_S, PEAK_REPEATS, &p[dbl], err,
                               sizeof err) != 0) {
            fprintf(stderr, "clsoftmax-bench: peak (%s): %s\n", dbl ? "float64" : "float32", err);
            rc = 1;
            break;
        }
        print_peak(dbl ? "float64" : "float32", &p[dbl]);
        fflush(stdout);
    }
    if (rc == 0) {
        printf("  (%u work-items in groups of %zu)\n", (unsigned)p[0].global, p[0].local);
    }
    if (rc == 0 && o->json) {
        FILE *f = fopen(o->json, "w");
        if (!f) {
            fprintf(stderr, "clsoftmax-bench: %s: %s\n", o->json, strerror(errno));
            rc = 1;
        } else {
            fprintf(f, "{\n  \"version\": \"%s\",\n  \"device\": ", csm_version());
            json_string(f, device);
            fprintf(f, ",\n  \"device_type\": ");
            json_string(f, di->device_type);
            fprintf(f, ",\n  \"compute_units\": %u,\n  \"peak\": {\n", di->compute_units);
            json_peak(f, "float32", &p[0], ",");
            json_peak(f, "float64", &p[1], "");
            fprintf(f, "  },\n  \"complete\": true\n}\n");
            int bad = ferror(f);
            if (fclose(f) != 0 || bad) {
                fprintf(stderr, "clsoftmax-bench: writing %s failed\n", o->json);
                rc = 1;
            }
        }
    }
    csm_context_free(ctx);
    return rc;
}

/* -------------------------------------------------------------- main */

int main(int argc, char **argv)
{
    const double t_main = now();
    options o;
    if (parse_options(argc, argv, &o) != 0)
        return 2;
    if (o.first_epoch_only)
        return first_epoch_only(&o, t_main);
    if (o.peak)
        return peak_only(&o);

    results r;
    memset(&r, 0, sizeof r);
    r.repeats = o.repeats;
    r.batch = o.batch;
    r.precision = o.dbl ? "float64" : "float32";
    csm_precision prec = o.dbl ? CSM_FLOAT64 : CSM_FLOAT32;

    printf("clsoftmax-bench (clsoftmax %s)\n", csm_version());
    double t0 = now();
    bench_data bd;
    if (load_data(&o, &bd, !o.no_accuracy, 0) != 0)
        return 1;
    r.load_s = now() - t0;
    r.source = bd.source;
    r.n = bd.train.n;
    r.k = bd.train.k;
    r.n_test = bd.test.n;
    r.C = bd.C;

    t0 = now();
    csm_context *ctx = NULL;
    char err[2048];
    csm_status st = csm_context_create(&ctx, o.device, err, sizeof err);
    if (st != CSM_OK) {
        fprintf(stderr, "clsoftmax-bench: %s\n", err);
        free_data(&bd);
        return 1;
    }
    csm_context_set_log_callback(ctx, log_fn, NULL);
    r.context_s = now() - t0;
    const csm_device_info *di = csm_context_device(ctx);
    snprintf(r.device, sizeof r.device, "%s / %s (%s, %u compute units, driver %s)",
             di->platform_name, di->device_name, di->device_type, di->compute_units,
             di->driver_version);
    r.device_type = di->device_type;

    t0 = now();
    csm_dataset *train = NULL, *test = NULL;
    st = upload_set(ctx, &train, prec, &bd.train, bd.C, o.input_f32);
    if (st == CSM_OK && bd.test.n)
        st = upload_set(ctx, &test, prec, &bd.test, bd.C, o.input_f32);
    r.upload_s = now() - t0;
    int rc = 0;
    if (st != CSM_OK) {
        rc = fail_ctx(ctx, st, "uploading the data");
        goto done;
    }
    /* the path a model of this shape is bound to for steps of the batch */
    {
        csm_model *m0 = NULL;
        csm_step w0;
        st = csm_model_create(ctx, &m0, prec, bd.C, bd.train.k);
        if (st == CSM_OK)
            st = csm_bind_step(&w0, m0, train, o.batch ? o.batch : bd.train.n, 1,
                               CSM_MEASURE_ALLOWED);
        if (st == CSM_OK) {
            r.path = csm_path_name(w0.path->id);
            csm_step_free(&w0);
        }
        csm_model_free(m0);
        if (st != CSM_OK) {
            rc = fail_ctx(ctx, st, "binding the path");
            goto done;
        }
    }

    printf("device:    %s\n", r.device);
    printf("path:      %s (CLSOFTMAX_PATH=%s)\n", r.path, path_env());
    printf("data:      %s: %zu x %zu, %zu classes, %zu test rows; %s; input %s\n", r.source,
           r.n, r.k, r.C, r.n_test, r.precision, o.input_f32 ? "float32" : "u8");
    printf("setup:     load %.3f s, context %.3f s, upload %.3f s\n", r.load_s, r.context_s,
           r.upload_s);
    printf("repeats:   %d (+1 warm-up)\n\n", o.repeats);
    fflush(stdout);

    /* correctness cross-check for compare.py (and a warm-up of every kernel) */
    st = crosscheck(ctx, train, prec, &r.xc_loss0, &r.xc_loss1);
    if (st != CSM_OK) {
        rc = fail_ctx(ctx, st, "cross-check");
        goto done;
    }
    printf("cross-check: loss at the fixed weights %.6f, after one full-batch SGD step "
           "(lr 0.1) %.6f\n\n",
           r.xc_loss0, r.xc_loss1);

    epoch_log lg;
    int E = o.repeats + 1;
    r.modes = o.modes;
    printf("epochs (csm_train, SGD lr 0.1, zero init; first epoch dropped; %.4g GFLOP an epoch "
           "= 4nkC)\n", flops_per_epoch(&r) * 1e-9);
    for (int which = 0; which < 2; which++) {
        if (!(o.modes & (which ? MODE_MINI : MODE_FULL)))
            continue;
        if (epoch_log_init(&lg, E) != 0) {
            rc = 1;
            goto done;
        }
        size_t batch = which ? o.batch : 0;
        st = train_epochs(ctx, train, prec, batch, E, 0.1, CSM_SGD, &lg);
        if (st != CSM_OK) {
            epoch_log_free(&lg);
            rc = fail_ctx(ctx, st, which ? "minibatch epochs" : "full-batch epochs");
            goto done;
        }
        stats s = stats_of(lg.seconds + 1, lg.count - 1);
        char label[64];
        if (which)
            snprintf(label, sizeof label, "minibatch-%zu epoch", o.batch);
        else
            snprintf(label, sizeof label, "full-batch epoch");
        print_stats_line(label, s, (double)r.n);
        printf("  %-34s median %8.2f    best %8.2f\n", "  GFLOP/s", flops_per_epoch(&r) / s.median * 1e-9,
               flops_per_epoch(&r) / s.min * 1e-9);
        fflush(stdout);
        double *all = malloc((size_t)(lg.count > 1 ? lg.count - 1 : 1) * sizeof *all);
        if (all && lg.count > 1)
            memcpy(all, lg.seconds + 1, (size_t)(lg.count - 1) * sizeof *all);
        if (which) {
            r.mini = s;
            r.mini_all = all;
        } else {
            r.full = s;
            r.full_all = all;
        }
        epoch_log_free(&lg);
    }
    /* 8-bit input stays bytes on the device; the CLBlast GEMMs need a
     * float copy of X, made on first use (csm_dataset_real_x) */
    r.features = !train->x_u8 ? r.precision
                 : train->x    ? (o.dbl ? "u8 + float64 copy" : "u8 + float32 copy")
                               : "u8";
    printf("  features on the device: %s\n", r.features);
    if (g_path_log[0])
        printf("  library log: \"%s\"\n", g_path_log);
    printf("\n");

    if (!o.no_phases) {
        if (o.modes & MODE_FULL)
            st = time_phases(ctx, train, prec, 0, o.repeats, r.ph_full);
        if (st == CSM_OK && (o.modes & MODE_MINI))
            st = time_phases(ctx, train, prec, o.batch, o.repeats, r.ph_mini);
        if (st != CSM_OK) {
            rc = fail_ctx(ctx, st, "phase timing");
            goto done;
        }
        r.have_phases = 1;
        printf("phases of the %s path (src/ops.h blocks, each enqueued for every step of an "
               "epoch, then clFinish)\n", r.path);
        if (o.modes & MODE_FULL)
            print_phases("full batch", r.ph_full, r.full, 1);
        if (o.modes & MODE_MINI)
            print_phases("minibatch", r.ph_mini, r.mini, (r.n + o.batch - 1) / o.batch);
        printf("\n");
        fflush(stdout);
    }

    if (!o.no_accuracy && test) {
        if (epoch_log_init(&lg, o.epochs) != 0) {
            rc = 1;
            goto done;
        }
        lg.test = test;
        csm_dataset *acc_train = train, *acc_test = test;
        if (o.standardize) {
            double *mean = NULL, *scale = NULL;
            acc_train = acc_test = NULL;
            st = standardize_fit(&bd.train, &mean, &scale) == 0 ? CSM_OK : CSM_ERR_OUT_OF_MEMORY;
            if (st == CSM_OK)
                st = upload_standardized(ctx, &acc_train, prec, &bd.train, bd.C, mean, scale);
            if (st == CSM_OK)
                st = upload_standardized(ctx, &acc_test, prec, &bd.test, bd.C, mean, scale);
            free(mean);
            free(scale);
            lg.test = acc_test;
        }
        if (st == CSM_OK)
            st = train_epochs(ctx, acc_train, prec, o.batch, o.epochs, o.lr, o.optimizer, &lg);
        if (acc_train != train) {
            csm_dataset_free(acc_train);
            csm_dataset_free(acc_test);
        }
        if (st != CSM_OK) {
            epoch_log_free(&lg);
            rc = fail_ctx(ctx, st, "accuracy run");
            goto done;
        }
        r.have_acc = 1;
        r.acc_epochs = lg.count;
        r.acc_lr = o.lr;
        r.acc_standardized = o.standardize;
        r.acc_optimizer = o.optimizer == CSM_SGD ? "sgd" : o.optimizer == CSM_ADAM ? "adam" : "momentum";
        r.acc_curve = calloc((size_t)lg.count + 1, sizeof *r.acc_curve);
        r.acc_times = calloc((size_t)lg.count + 1, sizeof *r.acc_times);
        r.acc_epoch_target = 0;
        r.acc_time_to_target = NAN;
        printf("accuracy run (%s, lr %g, batch %zu, zero init, %s features; test set %zu "
               "rows)\n",
               r.acc_optimizer, o.lr, o.batch, o.standardize ? "standardized" : "raw (byte/255)",
               r.n_test);
        double cum = 0;
        for (int e = 0; e < lg.count; e++) {
            cum += lg.seconds[e];
            if (r.acc_curve) r.acc_curve[e] = lg.test_acc[e];
            if (r.acc_times) r.acc_times[e] = cum;
            printf("  epoch %2d: train loss %.4f  test accuracy %.4f  training time %.3f s\n",
                   e + 1, lg.loss[e], lg.test_acc[e], cum);
            if (!r.acc_epoch_target && lg.test_acc[e] >= ACC_TARGET) {
                r.acc_epoch_target = e + 1;
                r.acc_time_to_target = cum;
            }
        }
        r.acc_train_s = cum;
        r.acc_test = lg.count ? lg.test_acc[lg.count - 1] : NAN;
        if (r.acc_epoch_target)
            printf("  test accuracy >= %.2f after epoch %d: %.3f s of training\n\n", ACC_TARGET,
                   r.acc_epoch_target, r.acc_time_to_target);
        else
            printf("  test accuracy never reached %.2f in %d epochs\n\n", ACC_TARGET, lg.count);
        epoch_log_free(&lg);
        fflush(stdout);
    }

    /* Free the device data before the children run, so they do not compete
     * for memory with this process. */
    csm_dataset_free(train);
    csm_dataset_free(test);
    train = test = NULL;

    if (!o.no_startup) {
        startup_run *runs = calloc((size_t)o.repeats + 1, sizeof *runs);
        enum { NV = 7 };
        double *v[NV];
        for (int i = 0; i < NV; i++)
            v[i] = calloc((size_t)o.repeats, sizeof *v[i]);
        int ok = runs != NULL;
        for (int i = 0; i < NV; i++)
            ok = ok && v[i];
        for (int i = 0; ok && i <= o.repeats; i++)
            ok = run_child(&o, r.source, NULL, &runs[i]) == 0;
        if (ok) {
            for (int i = 0; i < o.repeats; i++) {
                const startup_run *x = &runs[i + 1];
                v[0][i] = x->wall;
                v[1][i] = x->load;
                v[2][i] = x->context;
                v[3][i] = x->upload;
                v[4][i] = x->epoch;
                v[5][i] = x->in_process;
                v[6][i] = x->to_first_epoch;
            }
            r.warm = stats_of(v[6], o.repeats);
            r.warm_exit = stats_of(v[0], o.repeats);
            r.warm_load = stats_of(v[1], o.repeats);
            r.warm_context = stats_of(v[2], o.repeats);
            r.warm_upload = stats_of(v[3], o.repeats);
            r.warm_epoch = stats_of(v[4], o.repeats);
            r.warm_in_process = stats_of(v[5], o.repeats);
            r.have_warm = 1;
            const char *cache = getenv("POCL_CACHE_DIR");
            printf("warm start: process start to first minibatch-%zu epoch done (POCL cache %s)\n",
                   o.batch, cache && *cache ? cache : "default");
            print_stats_line("fork to first epoch done", r.warm, 0);
            print_stats_line("  data load", r.warm_load, 0);
            print_stats_line("  context", r.warm_context, 0);
            print_stats_line("  upload", r.warm_upload, 0);
            print_stats_line("  first epoch (incl. kernel builds)", r.warm_epoch, 0);
            print_stats_line("fork to exit (+ clean-up)", r.warm_exit, 0);
            printf("\n");
        } else {
            rc = 1;
        }
        free(runs);
        for (int i = 0; i < NV; i++)
            free(v[i]);
        fflush(stdout);
    }

    if (o.cold && rc == 0) {
        char dir[] = "/tmp/clsoftmax-bench-cold-XXXXXX";
        if (!mkdtemp(dir)) {
            perror("clsoftmax-bench: mkdtemp");
            rc = 1;
        } else {
            printf("cold start: empty POCL cache %s (this compiles every kernel)...\n", dir);
            fflush(stdout);
            if (run_child(&o, r.source, dir, &r.cold) == 0) {
                r.have_cold = 1;
                printf("  fork to first epoch done %8.3f s: load %.3f, context %.3f, upload "
                       "%.3f, first epoch (incl. kernel builds) %.3f; to exit %.3f s\n\n",
                       r.cold.to_first_epoch, r.cold.load, r.cold.context, r.cold.upload,
                       r.cold.epoch, r.cold.wall);
            } else {
                rc = 1;
            }
            nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        }
    }

    printf("summary:");
    const char *sep = " ";
    if (o.modes & MODE_FULL) {
        printf("%sfull-batch epoch %.4f s (%.2f GFLOP/s)", sep, r.full.median,
               flops_per_epoch(&r) / r.full.median * 1e-9);
        sep = "; ";
    }
    if (o.modes & MODE_MINI)
        printf("%sminibatch-%zu epoch %.4f s (%.0f samples/s, %.2f GFLOP/s)", sep, o.batch,
               r.mini.median, (double)r.n / r.mini.median,
               flops_per_epoch(&r) / r.mini.median * 1e-9);
    if (r.have_warm)
        printf("; warm start %.3f s", r.warm.median);
    if (r.have_cold)
        printf("; cold start %.2f s", r.cold.to_first_epoch);
    printf("\n");

    if (o.json && write_json(o.json, &r) != 0)
        rc = 1;

done:
    free(r.full_all);
    free(r.mini_all);
    free(r.acc_curve);
    free(r.acc_times);
    csm_dataset_free(train);
    csm_dataset_free(test);
    csm_context_free(ctx);
    free_data(&bd);
    return rc;
}
