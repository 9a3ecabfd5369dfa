/*
 * clsoftmax: softmax regression (multinomial logistic regression) trained on
 * any OpenCL device.
 *
 * For a batch of n samples X (n x k), weights W (C x k), bias b (C) and
 * targets T (n x C, rows summing to 1; one-hot for integer labels):
 *
 *   S = X W^T + b                      logits            (n, C)
 *   O = softmax(S) by row              probabilities     (n, C)
 *   J = -(1/n) sum_i sum_c T_ic log O_ic + (lambda/2) ||W||^2   (natural log)
 *   dJ/dW = (1/n) (O - T)^T X + lambda W                 (C, k)
 *   dJ/db = (1/n) sum_i (O_i - T_i)                      (C)
 *
 * Conventions: matrices are row-major; host arrays passed to and from the
 * library are double precision whatever the device precision, so that no
 * information is lost on the way in (float -> double is exact) and results
 * can be compared with a double reference directly. Every function returns a
 * csm_status; on failure the context's last-error text says why in detail.
 * The library never exits and never prints: diagnostics go to the log
 * callback set with csm_context_set_log_callback().
 *
 * Threads: a context and the models and datasets made on it must be used
 * by one thread at a time (they share one OpenCL queue and its kernels);
 * separate contexts are independent and may be used from different threads
 * at once, each with the results it would have alone (what the library
 * keeps per process, CLBlast's compiled kernels, is released with the last
 * context).
 *
 * Structures: every public structure starts with `size_t struct_size`, so
 * that later versions can append fields without breaking programs built
 * against this header. In the structures the caller allocates and the
 * library reads or fills (csm_train_options, csm_train_result, arrays of
 * csm_device_info) the caller sets it to sizeof the structure, directly or
 * through csm_train_options_init(); this version accepts exactly its own
 * sizes and fails with CSM_ERR_INVALID_VALUE otherwise (a later version
 * will also accept the sizes of this one). In the structures the library
 * owns (csm_context_device(), csm_epoch_info) the library sets it.
 *
 * Lifetimes: models and datasets belong to the context they were made on
 * and must be freed before it (csm_context_free() does not free them, and
 * they are unusable, even for freeing, once it has run). Host arrays passed
 * in (features, labels, targets, weights, parameters, label values, option
 * structures) are copied or used only during the call: free them when it
 * returns. Pointers the library returns:
 *   - csm_status_string(), csm_stop_string(), csm_solver_name(),
 *     csm_version(), csm_model_solver_state(): static strings, valid forever;
 *   - csm_context_last_error(): until the next failing call on that context
 *     or csm_context_free() (copy it to keep it);
 *   - csm_context_device(): until csm_context_free();
 *   - csm_model_labels(): until csm_model_free() (csm_model_set_labels()
 *     rewrites the values in place);
 *   - csm_model_get_metadata(): until that key is set or removed, or the
 *     model is freed; csm_model_metadata_key(): until any
 *     csm_model_set_metadata() on the model (indices may change) or the
 *     model is freed;
 *   - the message of a log callback and the csm_epoch_info of an epoch
 *     callback: during the callback only.
 */
#ifndef CLSOFTMAX_H
#define CLSOFTMAX_H

#include <stddef.h>
#include <stdint.h>

#include "clsoftmax_version.h" /* CSM_VERSION_MAJOR etc., see csm_version() */

/* Marks the library's interface. The shared library is built with
 * -fvisibility=hidden, so only declarations carrying CSM_API are exported:
 * an internal function can never become part of the ABI by accident. */
#if defined(__GNUC__) && __GNUC__ >= 4
#define CSM_API __attribute__((visibility("default")))
#else
#define CSM_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef struct csm_context csm_context; /* one OpenCL device, queue, kernels */
typedef struct csm_model csm_model;     /* weights (C, k) and bias (C) on the device */
typedef struct csm_dataset csm_dataset; /* features and targets on the device */

typedef enum csm_status {
    CSM_OK = 0,
    CSM_ERR_NULL_ARGUMENT,    /* a required pointer argument was NULL */
    CSM_ERR_INVALID_SIZE,     /* n, k or C is zero, too large, or sizes disagree */
    CSM_ERR_INVALID_VALUE,    /* an option is out of range (learning rate <= 0, ...) */
    CSM_ERR_NONFINITE,        /* NaN or Inf in features, targets or weights */
    CSM_ERR_LABEL_RANGE,      /* an integer label outside [0, C) */
    CSM_ERR_TARGETS,          /* soft targets negative or a row not summing to 1 */
    CSM_ERR_NO_TARGETS,       /* loss/gradient/training on a dataset without targets */
    CSM_ERR_MISMATCH,         /* model and dataset differ in k, C, precision or context */
    CSM_ERR_NO_DEVICE,        /* no OpenCL platform or device at all */
    CSM_ERR_DEVICE_NOT_FOUND, /* the device selector matched no device, or is malformed */
    CSM_ERR_NO_FP64,          /* float64 asked for on a device without cl_khr_fp64 */
    CSM_ERR_KERNEL_NOT_FOUND, /* a .cl file was not found in any searched directory */
    CSM_ERR_KERNEL_BUILD,     /* the OpenCL compiler rejected a kernel (log attached) */
    CSM_ERR_OPENCL,           /* an OpenCL call failed (code name attached) */
    CSM_ERR_CLBLAST,          /* a CLBlast call failed (code attached) */
    CSM_ERR_OUT_OF_MEMORY,    /* host or device allocation failed */
    CSM_ERR_IO,               /* a file could not be opened, read or written */
    CSM_ERR_FORMAT,           /* a model file is malformed or inconsistent */
    CSM_ERR_DISTRIBUTED       /* distributed training: the reduce callback failed,
                                 or the processes disagree (see csm_reduce_fn) */
} csm_status;

/* A short, static description of a status ("invalid size", ...). */
CSM_API const char *csm_status_string(csm_status status);

/* The version of the library linked at run time, e.g. "0.1.0". The header
 * compiled against states its own in CSM_VERSION_MAJOR, CSM_VERSION_MINOR,
 * CSM_VERSION_PATCH, CSM_VERSION_STRING and CSM_VERSION (one comparable
 * number; #if CSM_VERSION >= CSM_VERSION_NUMBER(0, 2, 0)), generated by
 * configure from the same version (clsoftmax_version.h). */
CSM_API const char *csm_version(void);

typedef enum csm_precision { CSM_FLOAT32 = 0, CSM_FLOAT64 = 1 } csm_precision;

/* Element type of host feature arrays given to csm_dataset_create(). */
typedef enum csm_dtype {
    CSM_DTYPE_F32 = 0, /* float */
    CSM_DTYPE_F64 = 1, /* double */
    CSM_DTYPE_U8 = 2   /* unsigned char; the feature value is byte / 255 */
} csm_dtype;

/* ------------------------------------------------------------------ devices */

/* One OpenCL device as seen by the selector syntax of CLSOFTMAX_DEVICE:
 * "PLATFORM[:DEVICE]", each field a decimal index or a case-insensitive
 * substring of the platform / device name; the device field may also be
 * "cpu", "gpu" or "accelerator". Empty or unset: first device of the first
 * platform. */
typedef struct csm_device_info {
    size_t struct_size; /* sizeof(csm_device_info); see "Structures" above */
    unsigned platform_index;
    unsigned device_index; /* index within its platform */
    char platform_name[128];
    char device_name[128];
    char device_type[16];    /* "cpu", "gpu", "accelerator", "other" */
    char driver_version[64];
    char selector[32];       /* "P:D", the index selector that picks this device */
    int has_fp64;
    unsigned compute_units;
    uint64_t global_mem_bytes;
    uint64_t max_alloc_bytes;
} csm_device_info;

/* Lists every device of every platform. `list` may be NULL to count only;
 * otherwise up to `capacity` entries are written and *count is the total.
 * Before the call set list[0].struct_size = sizeof(csm_device_info); the
 * library fills every entry written, struct_size included. */
CSM_API csm_status csm_list_devices(csm_device_info *list, size_t capacity, size_t *count,
                                    char *err, size_t err_len);

/* Resolves a selector (NULL: the CLSOFTMAX_DEVICE variable) to an index into
 * csm_list_devices()'s list. On no match, `err` lists every device with the
 * selector that picks it. */
CSM_API csm_status csm_select_device(const char *selector, size_t *index, char *err,
                                     size_t err_len);

/* ----------------------------------------------------------------- contexts */

typedef enum csm_log_level { CSM_LOG_DEBUG = 0, CSM_LOG_INFO = 1, CSM_LOG_WARN = 2 } csm_log_level;
/* `message` is valid during the call only. */
typedef void (*csm_log_fn)(csm_log_level level, const char *message, void *user);

/* Creates a context on the device picked by `selector` (NULL: the
 * CLSOFTMAX_DEVICE variable). On failure *out is NULL and `err` (if not NULL)
 * holds the reason. Kernels are read from the "kernel_dir" option
 * (CLSOFTMAX_KERNEL_DIR) when it is set; otherwise from the installed data
 * directory, then from the source tree the library was built from. The
 * context's options are read from the environment here, once (see
 * csm_context_set_option). */
CSM_API csm_status csm_context_create(csm_context **out, const char *selector, char *err,
                                      size_t err_len);
/* Frees the context: free its models and datasets first. NULL is a no-op. */
CSM_API void csm_context_free(csm_context *ctx);

/* Detail about the last failure in this context ("" if none yet); it stays
 * until the next failure replaces it: a later success does not clear it.
 * Valid until then or csm_context_free(). */
CSM_API const char *csm_context_last_error(const csm_context *ctx);
CSM_API void csm_context_set_log_callback(csm_context *ctx, csm_log_fn fn, void *user);
/* Information about the context's device; valid until csm_context_free(). */
CSM_API const csm_device_info *csm_context_device(const csm_context *ctx);

/* Options of a context, by name. csm_context_create() sets each from its
 * environment variable, read once: changing the environment later does
 * not affect an existing context (a malformed variable makes the creation
 * fail with CSM_ERR_INVALID_VALUE, naming it). Options:
 *
 *   name          values                         variable
 *   "path"        auto | fused | tiled | clblast CLSOFTMAX_PATH
 *                 the dense path (auto: chosen per shape, see csm_calibrate)
 *   "calibrate"   auto | always | off            CLSOFTMAX_CALIBRATE
 *   "cache_dir"   directory of calibration.json  CLSOFTMAX_CACHE_DIR
 *                 (default $XDG_CACHE_HOME/clsoftmax, else ~/.cache/clsoftmax)
 *   "split_k"     1..1024 | auto                 CLSOFTMAX_SPLIT_K
 *                 row chunks of the CLBlast path's gradient GEMM
 *   "block_rows"  N >= 1 | auto                  CLSOFTMAX_BLOCK_ROWS
 *                 at most N rows per block of whole-dataset passes
 *   "cl_options"  extra OpenCL C compiler options CLSOFTMAX_CL_OPTIONS
 *   "kernel_dir"  the directory of the .cl files CLSOFTMAX_KERNEL_DIR
 *   "max_alloc"   BYTES[K|M|G] | auto            CLSOFTMAX_MAX_ALLOC
 *                 device bytes a dataset may hold (more: it streams, see
 *                 csm_dataset_chunks) and a pass's row blocks may take;
 *                 K, M, G are powers of 1024 (auto: the device's limits)
 *   "profile"     on | off (default off)        CLSOFTMAX_PROFILE
 *                 after each training iteration, log (CSM_LOG_INFO) the
 *                 device time of every kernel (OpenCL profiling events),
 *                 its launches and work-groups, and the device's idle
 *                 time between kernels; the queue is remade with
 *                 profiling when it turns on or off
 *
 * csm_context_set_option(): value NULL or "" restores the default (so does
 * "auto" where it is a value); an unknown name or a malformed value fails with CSM_ERR_INVALID_VALUE
 * and leaves the option unchanged. A change applies to the operations
 * that follow it. csm_context_get_option() writes the current value
 * ("auto" for an automatic choice) into value, CSM_ERR_INVALID_SIZE when
 * len is too small for it. */
CSM_API csm_status csm_context_set_option(csm_context *ctx, const char *name, const char *value);
CSM_API csm_status csm_context_get_option(csm_context *ctx, const char *name, char *value,
                                          size_t len);

/* ----------------------------------------------------------------- datasets */

/* Uploads n samples of k features, once, to the device at `precision`.
 * Targets: either `labels` (n integers in [0, n_classes)) or `targets`
 * (n x n_classes soft targets, each row >= 0 and summing to 1 within 1e-6),
 * or neither (n_classes = 0) for a dataset used only for prediction.
 * Features must be finite. */
CSM_API csm_status csm_dataset_create(csm_context *ctx, csm_dataset **out,
                                      csm_precision precision, const void *features,
                                      csm_dtype dtype, size_t n, size_t k,
                                      const int32_t *labels, const double *targets,
                                      size_t n_classes);
/* A sparse dataset in CSR form: row i's non-zeros are
 * values[row_ptr[i] .. row_ptr[i+1]) at columns col_idx[same], row_ptr
 * (n + 1 entries, 64-bit so nnz may pass 2^31) starting at 0 and
 * non-decreasing. Columns within a row may come in any order (they are
 * sorted on upload); a column repeated within a row is rejected
 * (CSM_ERR_INVALID_VALUE), as is a column outside [0, k). Explicit zeros
 * are kept. Targets, sample weights and every operation and solver are as
 * for csm_dataset_create(), with the same results as the dense dataset of
 * the same matrix; the device holds the CSR arrays and a CSC copy (for the
 * gradient X^T D, without float atomics), nothing of size n k. */
CSM_API csm_status csm_dataset_create_csr(csm_context *ctx, csm_dataset **out,
                                          csm_precision precision, size_t n, size_t k,
                                          const int64_t *row_ptr, const int32_t *col_idx,
                                          const double *values,
                                          const int32_t *labels, const double *targets,
                                          size_t n_classes);
/* 1 for a CSR dataset; its stored non-zeros (n k for a dense one). */
CSM_API int csm_dataset_is_sparse(const csm_dataset *data);
CSM_API uint64_t csm_dataset_nnz(const csm_dataset *data);
/* Streaming: a dataset whose device storage would pass the context's
 * "max_alloc" option (CLSOFTMAX_MAX_ALLOC), the device's largest
 * allocation, or half its memory is kept on the host (a copy in the
 * device precision; 8-bit features as bytes) and streamed through the
 * device in chunks of rows, two staging slots of at most max_alloc / 2
 * bytes each (a chunk is at least one row, even past that), the next
 * chunk's transfer overlapping the current one's kernels. Every operation and solver takes it, with the results of the
 * resident dataset up to summation order. Minibatch epochs then visit the
 * chunks in an order drawn from (seed, epoch) and each chunk's rows in a
 * permutation drawn next from the same stream; a batch never straddles
 * two chunks, and a batch_size over the largest chunk is cut to it (see
 * README, "Streaming"). The choice is made at creation: a dataset made
 * resident stays so whatever max_alloc later says. Returns the number of
 * chunks, or 0 for a resident dataset. */
CSM_API size_t csm_dataset_chunks(const csm_dataset *data);

/* Per-sample weights (n values, finite, >= 0, not all zero), copied to the
 * device: the loss becomes J = sum_i w_i l_i / sum_i w_i + (lambda/2)||W||^2
 * in every operation and solver, and a minibatch step scales its gradient
 * so that it estimates that J's. NULL restores uniform weights. Accuracy
 * stays the unweighted fraction of correct predictions. */
CSM_API csm_status csm_dataset_set_weights(csm_dataset *data, const double *weights);
/* 1 when the dataset has sample weights; their sum (n without weights). */
CSM_API int csm_dataset_has_weights(const csm_dataset *data);
CSM_API double csm_dataset_weight_sum(const csm_dataset *data);
/* Before csm_context_free() of its context; NULL is a no-op. */
CSM_API void csm_dataset_free(csm_dataset *data);
CSM_API size_t csm_dataset_n_samples(const csm_dataset *data);
CSM_API size_t csm_dataset_n_features(const csm_dataset *data);
/* 0 when it has no targets */
CSM_API size_t csm_dataset_n_classes(const csm_dataset *data);

/* ------------------------------------------------------------------- models */

typedef enum csm_init { CSM_INIT_ZEROS = 0, CSM_INIT_NORMAL = 1 } csm_init;

/* A model of n_classes >= 2 classes over n_features >= 1 features,
 * initialised to zeros; class labels default to 0..C-1. */
CSM_API csm_status csm_model_create(csm_context *ctx, csm_model **out, csm_precision precision,
                                    size_t n_classes, size_t n_features);
/* Before csm_context_free() of its context; NULL is a no-op. */
CSM_API void csm_model_free(csm_model *model);
/* Zeros, or weights drawn from N(0, 0.01^2) by `seed` (bias zero). */
CSM_API csm_status csm_model_init(csm_model *model, csm_init init, uint64_t seed);
/* weight (C, k) row-major and bias (C); bias may be NULL (left unchanged / not read). */
CSM_API csm_status csm_model_set_params(csm_model *model, const double *weight,
                                        const double *bias);
CSM_API csm_status csm_model_get_params(csm_model *model, double *weight, double *bias);
CSM_API size_t csm_model_n_classes(const csm_model *model);
CSM_API size_t csm_model_n_features(const csm_model *model);
CSM_API csm_precision csm_model_precision(const csm_model *model);
CSM_API csm_context *csm_model_context(const csm_model *model);

/* The original label value of each class (C values, strictly increasing). */
CSM_API csm_status csm_model_set_labels(csm_model *model, const int64_t *label_values);
/* C values owned by the model, valid until csm_model_free(). */
CSM_API const int64_t *csm_model_labels(const csm_model *model);
/* Free-form string metadata saved with the model ("training options", ...).
 * The keys csm_model_save() writes itself ("format", "format_version",
 * "labels", "n_features", "n_classes", "solver_state", "solver_iterations",
 * "solver_steps", "solver_lbfgs") are reserved: setting one fails with
 * CSM_ERR_INVALID_VALUE. value NULL removes the key. */
CSM_API csm_status csm_model_set_metadata(csm_model *model, const char *key, const char *value);
/* The value, or NULL if absent; owned by the model and valid until the key
 * is set or removed, or the model freed. */
CSM_API const char *csm_model_get_metadata(const csm_model *model, const char *key);
CSM_API size_t csm_model_metadata_count(const csm_model *model);
/* The i-th key (i < csm_model_metadata_count()), or NULL; owned by the
 * model and valid until the next csm_model_set_metadata() (which may
 * reorder the keys) or csm_model_free(). */
CSM_API const char *csm_model_metadata_key(const csm_model *model, size_t i);

/* safetensors file: tensors "weight" (C, k) and "bias" (C), F32 or F64 by the
 * model's precision, plus __metadata__; a model that carries solver state
 * (csm_train, for resume) also holds its moments ("state.m.weight",
 * "state.m.bias", "state.v.weight", "state.v.bias", those the solver
 * uses), or for an L-BFGS run that did not converge its history
 * ("state.lbfgs.s" and "state.lbfgs.y", lbfgs_memory rows of the C k + C
 * parameters each, and the metadata "solver_lbfgs"), and the metadata
 * "solver_state", "solver_iterations" and "solver_steps". Saving replaces the file whole: a reader, or a crash,
 * sees the old file or the new one, and a save killed midway leaves no
 * temporary file (the bytes go to an unnamed O_TMPFILE in the directory
 * where the file system supports it; elsewhere to PATH.tmp.HOST.PID.XXXXXX,
 * which the next save of PATH removes once that process is gone; it is
 * created with O_CREAT|O_EXCL|O_NOFOLLOW, never through a link). The new
 * file keeps the permissions of the one it replaces. PATH must be a
 * regular file or not exist, in an existing directory: a named pipe, a
 * device (/dev/null), a socket or a directory there, or a symbolic link to
 * one, is refused with CSM_ERR_IO and left as it is (renaming over it
 * would put a regular file in its place).
 * Loading reads only a regular file (a named pipe or device is refused
 * with CSM_ERR_IO, never waited on), reads the data only once the header
 * and the file's size agree, validates everything and creates the model
 * at the file's precision. */
CSM_API csm_status csm_model_save(csm_model *model, const char *path);
CSM_API csm_status csm_model_load(csm_context *ctx, csm_model **out, const char *path);

/* --------------------------------------------------------------- operations */

/* Logits S = X W^T + b and probabilities O = softmax(S), each (n, C) and
 * either may be NULL. */
CSM_API csm_status csm_forward(csm_model *model, const csm_dataset *data, double *logits,
                               double *probs);
/* Mean cross-entropy over the dataset (weighted mean with sample weights)
 * plus (lambda/2)||W||^2, where C is the inverse regularisation strength,
 * as in csm_train_options: lambda = 1 / (C * csm_dataset_weight_sum(data))
 * (1 / (C n) without weights; twice that for a model of two classes);
 * C = INFINITY: no penalty. C must be > 0. No L1 term: the elastic-net
 * J of l1_ratio r > 0 (csm_train_options) is csm_loss at C / (1 - r) (at
 * INFINITY for r = 1) plus r ||W||_1 / (C * csm_dataset_weight_sum(data)),
 * which csm_train_result.objective reports. */
CSM_API csm_status csm_loss(csm_model *model, const csm_dataset *data, double C, double *loss);
/* Loss and gradient (dJ/dW includes lambda W, with lambda from C as for
 * csm_loss): dweight (C, k), dbias (C); loss, dweight or dbias may be NULL. */
CSM_API csm_status csm_gradient(csm_model *model, const csm_dataset *data, double C,
                                double *loss, double *dweight, double *dbias);
/* Class index (0..C-1) of the largest probability of each sample; ties go
 * to the lowest index. */
CSM_API csm_status csm_predict(csm_model *model, const csm_dataset *data, int32_t *classes);
/* Probabilities (n, C). */
CSM_API csm_status csm_predict_proba(csm_model *model, const csm_dataset *data, double *probs);
/* Mean cross-entropy (no L2 term) and accuracy; either may be NULL. For soft
 * targets a prediction counts as correct when it is the argmax of the row. */
CSM_API csm_status csm_evaluate(csm_model *model, const csm_dataset *data, double *loss,
                                double *accuracy);

/* ----------------------------------------------------------------- training */

/* ---------------------------------------------------------------- path choice */

/* A dense training step runs on one of three implementations: the fused
 * kernel (one pass over the rows, small C), the tiled kernels
 * (register-blocked products, CPUs) or CLBlast's GEMMs. The first time a
 * (device, driver, precision, feature storage, shape class) is met, the
 * library times each candidate on a few steps of the caller's own rows and
 * keeps the fastest, in memory and in the file csm_calibration_path()
 * names; later runs read it back. Shape classes: ceil(log2 C),
 * ceil(log2 k) and the step's rows in four bands (<= 256, <= 2048,
 * <= 16384, more). Steps under 2^22 multiply-adds use a fixed rule.
 * The context's options "path" (CLSOFTMAX_PATH=fused|tiled|clblast) force
 * a path, "calibrate" (CLSOFTMAX_CALIBRATE=auto|always|off) and
 * "cache_dir" (CLSOFTMAX_CACHE_DIR) replace the directory
 * ($XDG_CACHE_HOME/clsoftmax, else ~/.cache/clsoftmax).
 *
 * csm_calibrate() measures now for steps of batch_rows rows of data (0:
 * all rows, as full-batch training and L-BFGS use them), replacing any
 * cached choice, and writes the winner ("tiled 4,5,6,64,4", "fused",
 * "clblast", "sparse") into choice. */
CSM_API csm_status csm_calibrate(csm_model *model, const csm_dataset *data, size_t batch_rows,
                                 char *choice, size_t choice_len);
/* The calibration file's path a context created now would use (from the
 * environment); CSM_ERR_INVALID_VALUE when no directory can be named (no
 * CLSOFTMAX_CACHE_DIR, XDG_CACHE_HOME or HOME). */
CSM_API csm_status csm_calibration_path(char *path, size_t len);

/* ------------------------------------------------------ distributed training
 *
 * Data-parallel training over P processes (MPI ranks, or threads with one
 * context each, or any other engine), without the library depending on any
 * of them. Each process holds a consecutive slice of the rows of one global
 * dataset in a dataset of its own, marked with csm_dataset_set_partition();
 * every process calls csm_train() with the same options and initial weights,
 * and with options.reduce set to a function that sums `count` doubles
 * elementwise across the processes, in place, leaving the same sum on every
 * process (an all-reduce), and returns 0 (non-zero: failure). Sum in a fixed
 * order (MPI: MPI_Allreduce with a non-commutative MPI_Op summing in rank
 * order), so that every process gets the same bits and a run repeats.
 *
 * csm_train() calls it synchronously, at the same points on every process:
 *   - once at the start: the process count, rows and weight sum of the
 *     whole dataset (the rows of the partitions must add up to global_n,
 *     and every process must agree on global_n and the model's size);
 *   - per full pass (each L-BFGS evaluation, the final objective): the data
 *     part of J's gradient, this process's rows weighted by 1 / (global
 *     weight sum), with its loss sum and correct count (C k + C + 2 values);
 *   - per minibatch step (first-order solvers): the step's gradient over the
 *     rows of the global batch this process holds (C k + C values, zeros
 *     when it holds none), and per epoch the loss and correct counts;
 *   - per epoch or iteration: whether an epoch callback asked to stop (one
 *     process stopping stops all: a callback may stop on any process).
 * Each vector carries one more value, a call counter, checked after the
 * sum: processes that fall out of step fail with CSM_ERR_DISTRIBUTED rather
 * than mix unrelated vectors. The L2 term is added after the sum.
 *
 * Every process then applies the same gradient to the same weights, so the
 * models stay identical (on devices of one kind: the update runs on each
 * device), and the result equals one process's training on the whole
 * dataset up to the order of the sums (float64: ~1e-16 relative after
 * fixed first-order epochs; ~1e-10 for L-BFGS to a tight tol, whose
 * iterates follow the rounding).
 * Minibatches are global: epoch e's permutation is drawn over global_n rows
 * from (seed, e) exactly as in one process, step s takes its slice
 * [s B, (s + 1) B), and each process computes the gradient of the rows of
 * that slice it holds: the same batch sequence for any P.
 *
 * A process that fails on its own (a device error) returns from csm_train()
 * while the others wait in reduce: the engine must then stop them (MPI:
 * MPI_Abort). The epoch callback's `samples` is global_n.
 *
 * Engines with their own loop need no more than csm_gradient() on each
 * partition with C = INFINITY (its result is that partition's own mean:
 * scale it by csm_dataset_weight_sum() / the global weight sum before
 * summing, and add the L2 term lambda W once, lambda = 1 / (C * the global
 * weight sum)), csm_model_get_params() and csm_model_set_params(). */
typedef int (*csm_reduce_fn)(double *values, size_t count, void *user);

/* The dataset holds rows [row0, row0 + n) of a global dataset of global_n
 * rows (n its own row count): csm_train() with options.reduce then trains on
 * the global dataset. row0 = 0 and global_n = n restore the default (the
 * whole dataset). Only csm_train() sees the partition: the other operations
 * work on the dataset's own rows. CSM_ERR_INVALID_SIZE when row0 + n >
 * global_n, or global_n > INT_MAX (the limit of csm_dataset_create's n). */
CSM_API csm_status csm_dataset_set_partition(csm_dataset *data, size_t row0, size_t global_n);
/* global_n (n when not partitioned); *row0 if row0 is not NULL. */
CSM_API size_t csm_dataset_partition(const csm_dataset *data, size_t *row0);

/* How csm_train() minimises J. */
typedef enum csm_solver {
    CSM_SGD = 0,      /* minibatch stochastic gradient descent */
    CSM_MOMENTUM = 1, /* minibatch SGD with heavy-ball momentum */
    CSM_ADAM = 2,     /* minibatch Adam (Kingma & Ba) */
    CSM_LBFGS = 3,    /* full-batch limited-memory BFGS with a strong-Wolfe line
                         search, on the device (the default) */
    CSM_NEWTON = 4    /* full-batch trust-region Newton-CG (liblinear's TRON),
                         on the device: Hessian-vector products with a
                         diagonal preconditioner, 5 vectors */
} csm_solver;

typedef struct csm_epoch_info {
    size_t struct_size; /* set by the library: sizeof its csm_epoch_info */
    int epoch;        /* 1-based iteration (L-BFGS, Newton) or epoch of this call */
    int epochs;       /* max_iter */
    double loss;      /* L-BFGS, Newton: J at the new iterate; first-order: mean
                         training loss over the epoch's steps, incl. L2 term */
    double accuracy;  /* training accuracy (unweighted) over the same passes */
    double seconds;   /* wall time of this iteration / epoch */
    size_t samples;   /* samples processed */
    double grad_max_abs; /* L-BFGS, Newton: max |dJ/dtheta| at the new iterate (with
                            an L1 term its pseudo-gradient's); NAN otherwise */
    int evaluations;  /* L-BFGS, Newton: loss-and-gradient passes of this iteration
                         (Newton's Hessian-vector products not counted); 0 otherwise */
} csm_epoch_info;

/* Called after every epoch / iteration with the model's current weights;
 * return non-zero to stop training early (csm_train then returns CSM_OK
 * with result->stop = CSM_STOP_CALLBACK). `info` is valid during the call
 * only. The callback may use the model (csm_model_get_params(),
 * csm_evaluate() on a validation set, as the clsoftmax command does) but
 * must not free it or its dataset. */
typedef int (*csm_epoch_fn)(csm_model *model, const csm_epoch_info *info, void *user);

/* Options of csm_train(). csm_train_options_init() sets the defaults, which
 * are those of the clsoftmax command: L-BFGS on scikit-learn's objective
 * with C = 1, tol 1e-4, at most 1000 iterations. */
typedef struct csm_train_options {
    size_t struct_size;   /* sizeof(csm_train_options): set by
                             csm_train_options_init() */
    csm_solver solver;    /* default CSM_LBFGS */
    int max_iter;         /* L-BFGS or Newton iterations, or epochs of the
                             first-order solvers; default 1000 */
    double tol;           /* L-BFGS, Newton: stop when max |dJ/dtheta| <= tol
                             (scikit-learn's lbfgs criterion; with an L1 term
                             the pseudo-gradient's); first-order: stop when the
                             epoch loss has not improved by more than tol for
                             n_iter_no_change epochs (scikit-learn's SGD
                             criterion); 0 = run max_iter; default 1e-4 */
    int n_iter_no_change; /* first-order solvers; default 5 */
    double C;             /* the penalty: inverse regularisation strength
                             (scikit-learn, liblinear), > 0: lambda = 1 / (C *
                             sum of sample weights), i.e. 1 / (C n) without
                             weights (over the global dataset when
                             distributed); for two classes 2 / (C * sum of
                             sample weights), which makes the two-row optimum
                             scikit-learn's binary one (there W1 = -W0, so
                             ||W0||^2 + ||W1||^2 = ||W1 - W0||^2 / 2);
                             INFINITY: no penalty; default 1. A lambda of
                             your own is the C that gives it, up to rounding */
    size_t batch_size;    /* first-order solvers: samples per step, 0 = full
                             batch; default 256 (L-BFGS and Newton are always
                             full batch) */
    double learning_rate; /* first-order solvers; 0 = the solver's default,
                             csm_default_learning_rate(); default 0 */
    double momentum;      /* CSM_MOMENTUM; default 0.9 */
    double beta1, beta2, epsilon; /* CSM_ADAM; defaults 0.9, 0.999, 1e-8 */
    int lbfgs_memory;     /* L-BFGS history pairs m; default 10 */
    int max_linesearch;   /* L-BFGS (and OWL-QN): loss-and-gradient evaluations
                             per line search; default 50 (scikit-learn's maxls) */
    uint64_t seed;        /* shuffling; default 1 */
    int shuffle;          /* reshuffle every epoch; default 1. Epoch e (counted
                             over resumed runs) uses the permutation drawn from
                             (seed, e) alone, so a resumed run sees the same
                             batches as an uninterrupted one */
    int resume;           /* 1: continue the solver state the model carries from
                             an earlier csm_train() or a saved model file (Adam
                             moments, momentum, the iteration count; L-BFGS its
                             history of pairs when the run that made it did not
                             converge and lbfgs_memory is the same, so that a
                             run stopped by the callback and resumed ends with
                             the weights of one run, bit for bit; otherwise
                             L-BFGS restarts its history at the current
                             weights); 0: start the solver afresh; default 0 */
    csm_epoch_fn callback;
    void *user;
    csm_reduce_fn reduce; /* distributed training (see csm_reduce_fn): sums
                             over the processes; NULL: this process alone;
                             default NULL */
    void *reduce_user;    /* passed to reduce */
    int fit_intercept;    /* 1: train the bias (default); 0: no bias, as
                             scikit-learn's fit_intercept=False: csm_train sets
                             the model's bias to 0 and keeps it there */
    double l1_ratio;      /* elastic-net mixing r in [0, 1]: the penalty is (1 / (C n)) (r ||W||_1 + (1 - r)/2 ||W||^2) (scikit-learn's l1_ratio); 0: L2 only (default) */
} csm_train_options;

/* Why csm_train() stopped. */
typedef enum csm_stop {
    CSM_STOP_TOL = 0,      /* converged: the tolerance was met */
    CSM_STOP_MAX_ITER,     /* max_iter was reached before the tolerance */
    CSM_STOP_CALLBACK,     /* the epoch callback asked to stop */
    CSM_STOP_LINE_SEARCH,  /* L-BFGS: no step met the Wolfe conditions within
                              max_linesearch evaluations, also along the steepest
                              descent direction; the weights are the best point */
    CSM_STOP_PRECISION     /* L-BFGS, Newton: the objective stopped changing at
                              the device precision before the tolerance was met
                              (float32 and a very small tol: use float64) */
} csm_stop;

/* Set struct_size = sizeof(csm_train_result) before passing one to
 * csm_train(), e.g. csm_train_result r = {.struct_size = sizeof r}; */
typedef struct csm_train_result {
    size_t struct_size;
    int converged;        /* 1 when stop == CSM_STOP_TOL */
    csm_stop stop;
    int n_iter;           /* iterations (epochs) run by this call */
    long total_iter;      /* including those of resumed runs */
    long n_evals;         /* full-data loss-and-gradient passes (L-BFGS,
                             Newton), or minibatch steps (first-order solvers) */
    double objective;     /* J at the final weights, with its L2 (and L1) term */
    double grad_max_abs;  /* max |dJ/dW|, |dJ/db| at the final weights */
    double l2;            /* the lambda used (from C; times 1 - l1_ratio) */
    double seconds;       /* wall time of csm_train() */
} csm_train_result;

/* Sets every option to its default and struct_size to `struct_size`, which
 * must be sizeof(csm_train_options) as the caller sees it:
 * csm_train_options_init(&options, sizeof options). Passing the size lets a
 * later library fill only the fields an older caller has. Fails with
 * CSM_ERR_INVALID_VALUE, writing nothing, for a size this version does not
 * know, and with CSM_ERR_NULL_ARGUMENT for NULL. */
CSM_API csm_status csm_train_options_init(csm_train_options *options, size_t struct_size);
/* The learning rate a first-order solver uses when learning_rate is 0:
 * 0.1 (SGD), 0.01 (momentum), 0.001 (Adam); 0 for L-BFGS. */
CSM_API double csm_default_learning_rate(csm_solver solver);
/* "sgd", "momentum", "adam", "lbfgs" (NULL for an unknown value) and back
 * (-1 for an unknown name). */
CSM_API const char *csm_solver_name(csm_solver solver);
CSM_API int csm_solver_from_name(const char *name);
/* A short description of a stop reason ("tolerance reached", ...). */
CSM_API const char *csm_stop_string(csm_stop stop);

/* Trains in place, starting from the model's weights. The dataset stays on
 * the device; the host reads back only scalars (the loss, accuracy, line-
 * search quantities). `result` may be NULL; otherwise its struct_size must
 * be set (see csm_train_result). A struct_size this version does not know,
 * in either, fails with CSM_ERR_INVALID_VALUE before training starts (the
 * last error says which and what it expects). Hitting max_iter is not an
 * error: the result says so. The model keeps the solver state afterwards
 * (see `resume`); csm_model_save() writes it with the weights. */
CSM_API csm_status csm_train(csm_model *model, const csm_dataset *data,
                             const csm_train_options *options, csm_train_result *result);
/* The solver state a model carries: the solver ("sgd", ...; NULL when
 * none) and the iterations run so far. */
CSM_API const char *csm_model_solver_state(const csm_model *model, long *iterations);
/* Drops the solver state (the next csm_train starts afresh even with resume). */
CSM_API void csm_model_clear_solver_state(csm_model *model);

#ifdef __cplusplus
}
#endif
#endif /* CLSOFTMAX_H */
