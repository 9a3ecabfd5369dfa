/* Library-internal declarations shared by the library sources. */
#ifndef CSM_INTERNAL_H
#define CSM_INTERNAL_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include <math.h>
#include <stdarg.h>

#include "clsoftmax.h"
#include "csm_kernel_flags.h"
#include "replace_file.h"

#if defined(__GNUC__)
#define CSM_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CSM_PRINTF(a, b)
#endif

/* A compiled kernel file, specialised by -D defines for one precision and
 * one model shape (sizes are compile-time constants so loops unroll). */
typedef struct csm_program {
    char *key; /* file + defines */
    cl_program program;
    struct csm_program *next;
} csm_program;

/* Calibration modes (option "calibrate", CLSOFTMAX_CALIBRATE). */
enum { CSM_CALIBRATE_AUTO = 0, CSM_CALIBRATE_ALWAYS = 1, CSM_CALIBRATE_OFF = 2 };

/* A context's knobs (options.c): read from the environment once, at
 * creation, and changed only through csm_context_set_option(). */
typedef struct csm_options {
    int path;                /* a csm_path (path.h) forced for dense data, or -1: chosen */
    const char *path_source; /* what forced it ("CLSOFTMAX_PATH", "option path"), for messages */
    int calibrate;           /* CSM_CALIBRATE_* */
    char *cache_dir;         /* directory of calibration.json, or NULL: none */
    char *default_cache_dir; /* its default, named from the environment at creation */
    unsigned tile[5];        /* NV, RT, QC, KC, FTI of the tiled path; tile[0] == 0:
                                chosen (set by tests/hooks.c only) */
    size_t split_k;          /* row chunks of the CLBlast gradient GEMM, or 0: chosen */
    size_t block_rows;       /* upper bound on rows per block of whole-dataset passes, or 0 */
    size_t max_alloc;        /* device bytes of a dataset's storage and of a pass's row
                                blocks, or 0: the device's own limits (stream.c) */
    char *cl_options;        /* extra kernel build options, or NULL */
    char *kernel_dir;        /* the only directory searched for .cl files, or NULL */
    int profile;             /* per-kernel times logged after each iteration (profile.h) */
    unsigned generation;     /* counts changes of the options a path choice depends on */
} csm_options;

/* What the device allows (limits.c), test overrides applied. */
typedef struct csm_limits {
    size_t base_align; /* bytes: sub-buffer origins are multiples of it */
    size_t max_offset; /* the largest offset + span, in elements, of a CLBlast operand */
    size_t max_wg;     /* work-items per group */
    cl_ulong local_mem; /* bytes of local memory per group */
} csm_limits;

/* The shortest measured step the calibration compares with training's
 * (calibrate.h): under a millisecond a step is mostly launches, and an
 * epoch's read-back and update alone would make it look slow. */
#define CSM_SLOW_MIN_SECONDS 1e-3

typedef struct csm_profile csm_profile;

struct csm_context {
    cl_platform_id platform;
    cl_device_id device;
    cl_context cl;
    cl_command_queue queue;
    cl_command_queue xfer; /* streamed chunks' writes (stream.c), made on first need */
    csm_device_info info;
    unsigned vec_float, vec_double; /* preferred vector widths */
    char *last_error;
    csm_log_fn log_fn;
    void *log_user;
    csm_program *programs;
    /* path choices made in this context (choose.c), under options of
     * generation choices_gen; freed by choices_free */
    void *choices;
    unsigned choices_gen;
    void (*choices_free)(csm_context *ctx);
    csm_options opt;
    csm_limits limits;
    /* choose.c: a measured step shorter than this is not compared with
     * training's steps (CSM_SLOW_MIN_SECONDS; tests/hooks.c lowers it) */
    double slow_floor;
    csm_profile *prof; /* the profile option's events and sums (profile.c), or NULL */
};

typedef struct csm_meta_entry {
    char *key;
    char *value;
} csm_meta_entry;

/* Solver state a model carries between csm_train() calls and in its file:
 * the solver that made it, the iterations (epochs) it has run, for
 * momentum (v) and Adam (m, v) the per-parameter moments of the weight
 * [0] (C, k) and bias [1] (C), and for L-BFGS its history (lbfgs_state.h;
 * kept unless it converged). */
typedef struct csm_solver_state {
    int solver;   /* csm_solver, or -1: none */
    long iter;    /* iterations (L-BFGS) or epochs run so far */
    long steps;   /* parameter updates so far (Adam's bias-correction t) */
    cl_mem m[2];  /* Adam first moments, or NULL */
    cl_mem v[2];  /* momentum velocity / Adam second moments, or NULL */
    struct csm_lbfgs_state *lbfgs; /* L-BFGS pairs and their order, or NULL */
} csm_solver_state;

struct csm_model {
    csm_context *ctx;
    csm_precision precision;
    size_t C, k;
    cl_mem weight; /* (C, k) */
    cl_mem bias;   /* (C) */
    int64_t *labels; /* (C) original label values */
    csm_meta_entry *meta;
    size_t n_meta;
    csm_solver_state state;
};

struct csm_dataset {
    csm_context *ctx;
    csm_precision precision;
    size_t n, k, C;      /* C = 0: no targets */
    cl_mem x;            /* (n, k) at precision; for 8-bit input made on first need */
    cl_mem x_u8;         /* (n, k) bytes when created from CSM_DTYPE_U8, else NULL */
    cl_mem labels;       /* (n) int, or NULL */
    cl_mem targets;      /* (n, C) at precision, or NULL */
    cl_mem weights;      /* (n) sample weights at precision, or NULL: uniform */
    double weight_sum;   /* sum of the weights (n when uniform) */
    /* CSR datasets (x and x_u8 NULL): rows for S = X W^T, and a CSC copy for
     * dW = D^T X so that the gradient needs no float atomics */
    int sparse;
    uint64_t nnz;
    cl_mem row_ptr;      /* (n + 1) long */
    cl_mem col_idx;      /* (nnz) int, ascending within a row */
    cl_mem values;       /* (nnz) at precision */
    cl_mem col_ptr;      /* (k + 1) long */
    cl_mem row_idx;      /* (nnz) int, ascending within a column */
    cl_mem cvalues;      /* (nnz) at precision, in CSC order */
    /* non-NULL: nothing above is on the device; the rows live on the host
     * and stream through two staging slots (stream.c) */
    struct csm_stream *stream;
    /* csm_dataset_set_partition: global rows [part_row0, part_row0 + n) of
     * part_n (0: not partitioned, the dataset is the whole) */
    size_t part_row0, part_n;
};
typedef struct csm_stream csm_stream;

/* ---- status.c */
/* Sets the context's last-error text and returns `status`. ctx may be NULL. */
csm_status csm_fail(csm_context *ctx, csm_status status, const char *fmt, ...) CSM_PRINTF(3, 4);
csm_status csm_vfail(csm_context *ctx, csm_status status, const char *fmt, va_list ap);
/* "CL_INVALID_VALUE" etc. for an OpenCL error code. */
const char *csm_cl_error_name(cl_int code);
/* Fails with CSM_ERR_OPENCL (or OUT_OF_MEMORY for allocation codes) naming the call. */
csm_status csm_cl_fail(csm_context *ctx, cl_int code, const char *what);
void csm_log(csm_context *ctx, csm_log_level level, const char *fmt, ...) CSM_PRINTF(3, 4);
/* Writes printf-style text into a caller buffer, truncating safely (buf may be NULL). */
void csm_snprintf(char *buf, size_t len, const char *fmt, ...) CSM_PRINTF(3, 4);
/* strdup that returns NULL on failure. */
char *csm_strdup(const char *s);

/* ---- options.c */
/* The environment a context reads, once, at its creation. */
#define CSM_N_OPTIONS 9
typedef struct csm_env {
    const char *device;                  /* CLSOFTMAX_DEVICE */
    const char *options[CSM_N_OPTIONS];  /* CLSOFTMAX_PATH, ... (options.c's table) */
    const char *xdg_cache_home, *home;
} csm_env;
/* The library's one reader of the environment. */
void csm_env_read(csm_env *e);
/* CLSOFTMAX_CACHE_DIR as read */
const char *csm_env_cache_dir(const csm_env *e);
/* Every option from its variable in e (unset or empty: the default);
 * CSM_ERR_INVALID_VALUE names the variable that is malformed. */
csm_status csm_options_init(csm_context *ctx, const csm_env *e);
void csm_options_free(csm_options *o);
/* The default calibration directory, $XDG_CACHE_HOME/clsoftmax, else
 * ~/.cache/clsoftmax (malloc'd); NULL when neither can be named. */
char *csm_default_cache_dir(const csm_env *e);

/* ---- limits.c */
/* Reads the device's limits. */
void csm_limits_init(csm_context *ctx);
/* Whether built kernel k runs work-groups of `local` items within the
 * device's limits and its own (CL_KERNEL_WORK_GROUP_SIZE,
 * CL_KERNEL_LOCAL_MEM_SIZE); if not, why (for a log line; may be NULL). */
int csm_kernel_fits(csm_context *ctx, cl_kernel k, size_t local, char *why, size_t len);
/* The work-group size a reduction kernel launches with: CSM_WG, or
 * the largest power of two below it that the device runs; fails
 * (CSM_ERR_OUT_OF_MEMORY) when not even one item fits its local memory. */
csm_status csm_reduce_group(csm_context *ctx, cl_kernel k, const char *name, size_t *out);

/* ---- cl_options.c */
/* Refuses a -D or -U in `user` (the "cl_options" option) of a name `ours`
 * (the library's own options of a build) defines or the build's sources
 * use in a preprocessor line: CSM_ERR_INVALID_VALUE naming it. */
csm_status csm_cl_options_check(csm_context *ctx, const char *user, const char *ours,
                                 const char *const *sources, size_t n_sources);

/* ---- program.c */
/* Returns the kernel `name` from file `file` (e.g. "forward.cl", after
 * csm_kernel_flags.h and common.cl) built for the precision and the tuning
 * knobs in `extra` (-D options, e.g. "-DX_U8=1 -DFL=64"; may be NULL);
 * built once per context, on first use. */
csm_status csm_get_kernel(csm_context *ctx, cl_kernel *out, const char *file, const char *name,
                          csm_precision prec, const char *extra);

/* ---- device.c */
/* The device's preferred vector width for prec, clamped to the widths the
 * kernels implement (4, 8, 16). */
unsigned csm_vector_width(const csm_context *ctx, csm_precision prec);
/* Whether the device is a CPU (the kernels of some paths are written for one). */
int csm_is_cpu(const csm_context *ctx);

/* ---- model_names.c */
/* Whether value, a model's metadata "label_names", is a JSON array of C
 * distinct strings free of control characters; else -1 with the reason
 * (which entry, what is wrong) in why. */
int csm_check_label_names(const char *value, size_t C, char *why, size_t len);

/* ---- model.c */
/* Checks a model and dataset belong together (context, precision, k, C
 * when the dataset has targets, targets present when `need_targets`). */
csm_status csm_check_pair(csm_model *m, const csm_dataset *d, int need_targets, const char *fn);
/* Allocates (zeroed) the moment buffers `solver` needs, dropping any state
 * of another solver; iter is reset to 0 when the solver changes. */
csm_status csm_model_state_prepare(csm_model *m, int solver);

/* ---- dataset.c */
/* Checks shared by dense and CSR datasets: targets, class count, fp64. */
csm_status csm_dataset_check_common(csm_context *ctx, const char *fn, csm_precision precision,
                                    size_t n, const int32_t *labels, const double *targets,
                                    size_t n_classes);

/* ---- dataset_rows.c */
/* A dataset header with nothing on the device yet (NULL: out of memory). */
csm_dataset *csm_dataset_alloc(csm_context *ctx, csm_precision precision, size_t n, size_t k,
                               size_t n_classes);
/* Frees the header and its device buffers (not a stream: csm_dataset_free). */
void csm_dataset_release(csm_dataset *d);
/* Uploads the labels or soft targets of a new dataset (d->n, d->C set). */
csm_status csm_dataset_upload_targets(csm_dataset *d, const int32_t *labels,
                                      const double *targets);
/* The real-typed feature buffer, converting 8-bit input on the device the
 * first time it is asked for. */
csm_status csm_dataset_real_x(const csm_dataset *d, cl_mem *out);
/* dst = src / 255 at prec, count elements (enqueued) */
csm_status csm_widen_u8(csm_context *ctx, cl_mem dst, cl_mem src, size_t count,
                        csm_precision prec);
/* Features [start, start + len) of x (rows of k) converted to prec into
 * dst[0 .. len), failing on a non-finite value. */
csm_status csm_convert_features(csm_context *ctx, void *dst, csm_precision prec, const void *x,
                                csm_dtype dtype, size_t start, size_t len, size_t k);
/* CSC of `rows` CSR rows (row_ptr[0 .. rows], absolute offsets into cols
 * and vals): col_ptr (k + 1) and ridx, cval (row_ptr[rows] - row_ptr[0])
 * from 0, rows numbered from 0; next: k scratch entries. */
void csm_build_csc(size_t rows, size_t k, const int64_t *row_ptr, const int32_t *cols,
                   const double *vals, int64_t *col_ptr, int32_t *ridx, double *cval,
                   int64_t *next);

/* ---- stream.c */
/* Whether a dataset of `total` device bytes, `largest` in one buffer, must
 * stream (then `why` says why). */
int csm_stream_wanted(csm_context *ctx, size_t total, size_t largest, char *why, size_t len);
/* d (header set, nothing on the device) becomes streamed: host copies,
 * chunks, staging slots. On failure the caller frees d. */
csm_status csm_stream_init_dense(csm_dataset *d, const void *features, csm_dtype dtype,
                                 const int32_t *labels, const double *targets, const char *why);
csm_status csm_stream_init_csr(csm_dataset *d, const int64_t *row_ptr, const int32_t *cols,
                               const double *vals, const int32_t *labels, const double *targets,
                               const char *why);
void csm_stream_free(csm_dataset *d);
csm_status csm_stream_set_weights(csm_dataset *d, const double *weights);
int csm_stream_has_weights(const csm_dataset *d);
/* A dataset with rows on the device standing for d: d itself when
 * resident, else the staging slot holding chunk 0 (uploaded, waited for):
 * for path choice and buffer layouts. */
csm_status csm_stream_prime(const csm_dataset *d, const csm_dataset **first);
/* fn(user, chunk, pos) for every chunk, in `order` (NULL: in turn; else
 * a permutation of the chunk indices), each a resident dataset of its
 * rows; pos counts the rows of the chunks before it in this order. The
 * next chunk's transfer overlaps fn's kernels. real_x: 8-bit chunks are
 * also widened (CLBlast path). A resident d: fn(user, d, 0), once. */
typedef csm_status (*csm_chunk_fn)(void *user, const csm_dataset *chunk, size_t pos);
csm_status csm_stream_each(const csm_dataset *d, const int32_t *order, csm_chunk_fn fn,
                           void *user, int real_x);
/* Rows of the largest chunk (n when resident); minibatches of B rows
 * that do not straddle chunks, over the whole dataset. */
size_t csm_stream_max_rows(const csm_dataset *d);
size_t csm_stream_batches(const csm_dataset *d, size_t B);
/* The first row of chunk c (c = chunks: n); tests. */
size_t csm_stream_row0(const csm_dataset *d, size_t c);
/* Chunks written to the device so far (tests). */
size_t csm_stream_uploads(const csm_dataset *d);
/* Epoch `epoch`'s sampling (see README, "Streaming"): order (nchunks) the
 * chunks in visiting order, perm (n) each visited chunk's local row
 * permutation, concatenated in that order. */
void csm_stream_epoch_order(const csm_dataset *d, uint64_t seed, uint64_t epoch, int32_t *order,
                            int32_t *perm);
void csm_programs_free(csm_context *ctx);

/* ---- buffer.c */
csm_status csm_buffer_create(csm_context *ctx, cl_mem *out, size_t bytes, const char *what);
void csm_buffer_release(cl_mem *m);
/* Blocking copies; the host side is double, `offset`/`count` in elements. */
csm_status csm_upload(csm_context *ctx, cl_mem buf, csm_precision prec, size_t offset,
                      const double *src, size_t count);
csm_status csm_download(csm_context *ctx, double *dst, cl_mem buf, csm_precision prec,
                        size_t offset, size_t count);
csm_status csm_fill_zero(csm_context *ctx, cl_mem buf, size_t bytes);
/* Elements [off, off + count) of buf (elements of es bytes) as a buffer
 * and an offset whose sum with count stays within ctx's max_offset: buf
 * itself when it does already, else a sub-buffer from an aligned origin
 * at or below off, released by csm_view_release (commands enqueued on it
 * keep it alive until they finish). */
typedef struct csm_view {
    cl_mem mem;
    size_t off;
    cl_mem sub; /* the sub-buffer, or NULL */
} csm_view;
csm_status csm_view_at(csm_context *ctx, csm_view *v, cl_mem buf, size_t es, size_t off,
                       size_t count);
void csm_view_release(csm_view *v);

/* ---- model_file.c */
/* Parses and validates the bytes of a model file as csm_model_load() does,
 * short of creating the model: no device needed (ctx may be NULL: then
 * only the status says why). For the fuzz harness. */
csm_status csm_model_file_check(csm_context *ctx, const char *path, const unsigned char *data,
                                size_t size);

/* ---- save_file.c */
/* Replaces the file at path with len bytes of data, whole, as
 * csm_replace_file_raw() of replace_file.h does, its error in ctx and its
 * notices in ctx's log. flags: 0, or CSM_REPLACE_NO_TMPFILE to take the
 * named way (for tests of it). */
csm_status csm_replace_file(csm_context *ctx, const char *path, const void *data, size_t len,
                            int flags);

/* ---- clock */
#include <time.h>
/* Seconds on a monotonic clock. */
static inline double csm_now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- the penalty */
/* lambda = 1 / (C sum w): scikit-learn's sum_i w_i l_i + ||W||^2 / (2C)
 * divided by the weight sum; C = INFINITY: no penalty. For two classes
 * scikit-learn fits one vector w = W1 - W0 with ||w||^2 / (2C); the
 * two-row optimum has W1 = -W0, where ||W0||^2 + ||W1||^2 is ||w||^2 / 2:
 * twice the lambda gives its optimum (README, "C for two classes", says
 * why this and not a one-row sigmoid model). */
static inline double csm_lambda(double C, double weight_sum, size_t n_classes)
{
    const double c_scale = n_classes == 2 ? 2.0 : 1.0;
    return C == (double)INFINITY ? 0.0 : c_scale / (C * weight_sum);
}

/* Elastic net with mixing r (csm_train_options.l1_ratio): scikit-learn's
 * (1/C) (r ||w||_1 + (1 - r)/2 ||w||^2) over the weight sum, i.e. L2 weight
 * (1 - r) csm_lambda() and L1 weight r / (C sum w). For two classes the L1
 * weight is not doubled: at the two-row optimum W1 = -W0 = w/2, where
 * ||W0||_1 + ||W1||_1 is ||w||_1. */
static inline double csm_l1_weight(double C, double weight_sum, double l1_ratio)
{
    return C == (double)INFINITY || l1_ratio == 0 ? 0.0 : l1_ratio / (C * weight_sum);
}

/* ---- sizes */
static inline size_t csm_real_size(csm_precision p) { return p == CSM_FLOAT64 ? 8 : 4; }

#endif
