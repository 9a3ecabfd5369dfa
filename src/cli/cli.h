/* Shared declarations of the clsoftmax command-line tool. The tool uses only
 * the public library API (clsoftmax.h) and the data readers (dataio.h). */
#ifndef CSM_CLI_H
#define CSM_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "clsoftmax.h"
#include "dataio.h"

#if defined(__GNUC__)
#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CLI_PRINTF(a, b)
#endif

/* Exit statuses. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* ---------------------------------------------------------- messages.c */

/* "ERROR: <text>" on stderr. */
void cli_error(const char *fmt, ...) CLI_PRINTF(1, 2);
/* "ERROR: <text>" and the hint to `clsoftmax CMD --help`; returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) CLI_PRINTF(2, 3);
/* "ERROR: <status string>: <last error>"; returns CLI_FAIL. ctx may be NULL. */
int cli_lib_error(const csm_context *ctx, csm_status st);
/* Under mpirun with several ranks (mpi.c): every error line names `rank`. */
void cli_error_rank(int rank);
/* -q: 1 (no notes, no progress), -q -q or --silent: 2 (no warnings
 * either). */
extern int cli_quiet;
/* -v: the library's INFO messages on stderr; -v -v: DEBUG too. Set before
 * cli_context_create(). */
extern int cli_verbosity;
/* "WARNING: <text>" on stderr, unless cli_quiet >= 2. */
void cli_warning(const char *fmt, ...) CLI_PRINTF(1, 2);
/* "<text>" on stderr, unless cli_quiet >= 1. */
void cli_note(const char *fmt, ...) CLI_PRINTF(1, 2);
/* -q/--quiet, --silent, -v/--verbose: the same for every command. */
#define CLI_OUTPUT_OPTIONS {"quiet", 'q', 0}, {"silent", 0, 0}, {"verbose", 'v', 0}
extern const char *const cli_output_help;
/* Applies one of CLI_OUTPUT_OPTIONS by its long name; -1 when it is not
 * one. */
int cli_output_option(const char *name);
/* Creates the command's context (CLSOFTMAX_DEVICE picks the device), its
 * log on stderr as -v says; prints the error and returns NULL on failure. */
csm_context *cli_context_create(void);

/* ------------------------------------------------------------ args.c */

typedef struct cli_option {
    const char *name; /* long name without "--" */
    char short_name;  /* 0 if none */
    int takes_value;
} cli_option;

typedef struct cli_args {
    const char *cmd;   /* subcommand name, for messages */
    int argc;
    char **argv;
    int i;             /* next argument */
    int options_done;  /* after "--" */
    const char *cluster; /* the rest of "-qv" after its first flag */
} cli_args;

#define CLI_ARG_END (-1)
#define CLI_ARG_POSITIONAL (-2)
#define CLI_ARG_ERROR (-3)

void cli_args_init(cli_args *it, const char *cmd, int argc, char **argv);
/* Next argument: the index of the option in `opts` (terminated by a NULL
 * name) with *value set for options that take one; CLI_ARG_POSITIONAL with
 * *value = the argument; CLI_ARG_END; or CLI_ARG_ERROR after printing a usage
 * error (unknown option, missing value, value given to a flag). Short flags
 * combine: "-qv" is "-q -v"; a short option that takes a value takes the
 * rest of its argument or the next ("-ofile", "-o file"). */
int cli_args_next(cli_args *it, const cli_option *opts, const char **value);

/* Strict number parsing: the whole string must be a number in range. On
 * failure they print "ERROR: --opt: ..." with the help hint and return
 * CLI_USAGE; on success 0. */
int cli_parse_long(const char *cmd, const char *opt, const char *s, long min, long max,
                   long *out);
int cli_parse_u64(const char *cmd, const char *opt, const char *s, uint64_t *out);
int cli_parse_size(const char *cmd, const char *opt, const char *s, size_t *out);
/* Finite double in [min, max]; with min_open the minimum itself is excluded,
 * with max_open the maximum. */
int cli_parse_double(const char *cmd, const char *opt, const char *s, double min, int min_open,
                     double max, int max_open, double *out);
/* A comma-separated list of such numbers ("0.1,1,10"), each checked as
 * cli_parse_double does, none empty or given twice, into *out (malloc'd,
 * *n of them, in the order given). */
int cli_parse_double_list(const char *cmd, const char *opt, const char *s, double min,
                          int min_open, double max, int max_open, double **out, size_t *n);
/* Index of `s` in the NULL-terminated `choices`, or CLI_USAGE after an error
 * naming the valid values (*out untouched). */
int cli_parse_choice(const char *cmd, const char *opt, const char *s, const char *const *choices,
                     int *out);

/* The data-format options shared by train, predict, eval and gradcheck:
 * --format, --label-column, --weight-column, --header, --no-header,
 * --delimiter, --labels, and the storage: --sparse, --dense. */
extern const char *const cli_format_help;
/* If `name` is a data-format option, applies it to `ro` and returns 0 (or
 * CLI_USAGE on a bad value); returns -1 when it is not one. */
int cli_format_option(const char *cmd, const char *name, const char *value, csm_read_options *ro);
#define CLI_FORMAT_OPTIONS                                                                       \
    {"format", 0, 1}, {"label-column", 0, 1}, {"header", 0, 0}, {"no-header", 0, 0},            \
        {"labels", 0, 1}, {"sparse", 0, 0}, {"dense", 0, 0}, {"delimiter", 0, 1},               \
        {"weight-column", 0, 1}

/* ---------------------------------------------------------- outputs.c */

/* The files a command reads and writes, checked before any work (see
 * outputs.c): cli_io_input() names an input, cli_io_output() an output
 * (`what`: "model", "history file", ...; stream: a pipe or character
 * device there is written through, else refused), the first output given
 * being the one in_place may name: an input it may replace (train --resume
 * MODEL ... MODEL continues the model in place). */
#define CLI_IO_MAX 8
typedef struct cli_io {
    const char *in[CLI_IO_MAX];
    size_t n_in;
    const char *out[CLI_IO_MAX], *out_what[CLI_IO_MAX];
    int out_stream[CLI_IO_MAX];
    size_t n_out;
    size_t n_stdin; /* data inputs given as "-": standard input */
    const char *in_place;
    char *owned; /* a derived input name (cli_io_data), freed by cli_io_free */
} cli_io;
void cli_io_input(cli_io *io, const char *path);
/* An input read by the data readers (DATA, --validation, --weights,
 * --labels), where "-" is standard input: at most one may be, and no
 * output may be the file it reads. */
void cli_io_reader_input(cli_io *io, const char *path);
/* A data file read with `ro`: the file, and its labels file (IDX: --labels,
 * or the one found by name). */
void cli_io_data(cli_io *io, const char *data, const csm_read_options *ro);
void cli_io_free(cli_io *io);
void cli_io_output(cli_io *io, const char *path, const char *what, int stream);
/* Every output: not an input, not another output, a regular file or
 * nothing (or a pipe or device where allowed), in a directory where a new
 * file can be made. Prints the first problem, returns CLI_FAIL. */
int cli_io_check(const cli_io *io);

/* predict and eval: DATA (read with ro) and MODEL in, `out` (NULL: none) a
 * stream output named `what`, checked by cli_io_check. */
int cli_check_model_io(const char *data, const csm_read_options *ro, const char *model,
                       const char *out, const char *what);

/* Replaces the file at path with len bytes, whole, as the library saves a
 * model (src/replace_file.c): a reader sees the old file or the new one,
 * and a process killed while writing leaves no temporary for long. A pipe
 * or character device there (/dev/stdout) is written directly; anything
 * else that is not a regular file is refused. Prints the error, returns
 * CLI_FAIL. */
int cli_replace_file(const char *path, const void *data, size_t len);

/* An output written as it is made, replaced whole at the end (a pipe or
 * device is written through): cli_out_open() creates the temporary and
 * hands out a FILE to write to; cli_out_commit() closes it and puts the
 * file in place (CLI_FAIL after printing a write error); cli_out_discard()
 * drops it, leaving the old file as it was. */
typedef struct cli_out cli_out;
cli_out *cli_out_open(const char *path, FILE **f);
int cli_out_commit(cli_out *c);
void cli_out_discard(cli_out *c);

/* ---------------------------------------------------------- signals.c */

/* Training keeps its work when interrupted: between cli_signals_catch() and
 * cli_signals_release() the first SIGINT, SIGTERM or SIGHUP is only noted
 * (with a line on stderr), for the epoch callback to stop at the end of
 * the iteration; a second one ends the process at once. Signals ignored
 * at the start stay ignored. cli_signal_caught(): the signal noted, or 0;
 * the command then exits 128 + it. */
void cli_signals_catch(void);
void cli_signals_release(void);
int cli_signal_caught(void);
const char *cli_signal_name(int sig); /* "SIGINT", ... */

/* ------------------------------------------------------------ data.c */

/* Reads a data file; on failure prints "ERROR: <reader message>" and returns
 * CLI_FAIL. */
int cli_read_table(const char *path, const csm_read_options *ro, csm_table *t);
/* cli_read_table, with `hint` appended to a reader error. */
int cli_read_table_hint(const char *path, const csm_read_options *ro, csm_table *t,
                        const char *hint);
/* Checks that the table has `k` features (those of `model_path`). */
int cli_check_features(const char *path, const csm_table *t, size_t k, const char *model_path);
/* Loads a model, printing the error. */
int cli_load_model(csm_context *ctx, const char *path, csm_model **out);
/* Builds a dataset from the table, dense or CSR as the table is, with
 * labels `labels` (C classes) or none (C = 0). */
int cli_make_dataset(csm_context *ctx, csm_dataset **out, csm_precision prec, const csm_table *t,
                     const int32_t *labels, size_t C);
/* "WARNING: PATH: N non-zeros in F features beyond the model's K were
 * ignored" when the reader skipped some (csm_read_options.skip_extra_features),
 * once per file, whatever -q says (not with --silent). */
void cli_warn_skipped(const char *path, const csm_table *t, size_t k);
/* "NNZ non-zeros (P%): sparse|dense (why)" for the progress output: the
 * storage of `t` and what chose it (`asked`: the --sparse/--dense option). */
void cli_describe_storage(char *buf, size_t len, const csm_table *t, csm_storage asked);

#define CLI_STRINGIFY_(x) #x
#define CLI_STRINGIFY(x) CLI_STRINGIFY_(x)
/* Copies a model into a new one at `prec` (weights, labels, metadata). */
int cli_convert_model(csm_model *src, csm_precision prec, csm_model **out);

/* ------------------------------------------------------------ random.c */

/* A tiny deterministic generator (splitmix64) for shuffles and random data. */
uint64_t cli_rand(uint64_t *state);
double cli_rand_uniform(uint64_t *state); /* [0, 1) */
double cli_rand_normal(uint64_t *state);
/* Fisher-Yates shuffle of idx[0..n). */
void cli_shuffle(size_t *idx, size_t n, uint64_t *state);

/* ------------------------------------------------------- standardize.c */

/* Per-feature mean and scale (population standard deviation over all n
 * rows; 1 where it is 0 or not finite) of the table. A sparse table is not
 * centred: mean comes back 0 (the scale is still the deviation about the
 * true mean, the implicit zeros included). Returns -1 when memory is short. */
int cli_standardize_fit_table(const csm_table *t, double *mean, double *scale);
/* (x - mean) / scale in place: a dense table becomes float64, a sparse one
 * keeps its pattern (mean must then be 0). Returns -1 when memory is short. */
int cli_standardize_table(csm_table *t, const double *mean, const double *scale);
/* The model's weights made those of raw features (to_raw: W'_cj = W_cj /
 * s_j, b'_c = b_c - sum_j W'_cj m_j, the weights trained on standardized
 * features folded for saving), or back (a resumed model trained on
 * standardized features). Prints the error, returns CLI_FAIL. */
int cli_standardize_model(csm_model *m, const double *mean, const double *scale, int to_raw);
/* JSON array of %.17g numbers, malloc'd. */
char *cli_vector_to_json(const double *v, size_t n);
/* Parses a JSON array of exactly n numbers; 0 on success. */
int cli_vector_from_json(const char *s, double *v, size_t n);

/* ----------------------------------------------------------- progress.c */

typedef struct cli_progress {
    int enabled;   /* 0 with --quiet */
    int tty;       /* stderr is a terminal: redraw one line */
    int epochs;    /* max_iter */
    int lbfgs;     /* iterations, toward max|grad| <= tol, rather than epochs */
    double tol;
    double start;  /* cli_now() at the start of training */
    int drawn;     /* a live line is on screen */
    /* not a terminal: a line every `every` epochs or 10 s, and the last */
    int every;
    double printed_at;
    int pending;   /* `last` is not printed yet */
    csm_epoch_info last;
    int last_has_val;
    double last_val_loss, last_val_acc;
} cli_progress;

/* Whether the solver runs full-batch iterations to a gradient tolerance
 * (lbfgs, newton), not epochs of minibatch steps. */
int train_full_batch(csm_solver solver);

/* Monotonic seconds. */
double cli_now(void);
/* Set cli_verbosity first: -v prints every epoch in a pipe too. */
void cli_progress_init(cli_progress *p, int quiet, const csm_train_options *opt);
/* One epoch's report; has_val says whether val_loss / val_acc are meaningful. */
void cli_progress_epoch(cli_progress *p, const csm_epoch_info *info, int has_val, double val_loss,
                        double val_acc);
/* Prints the last epoch's line if a pipe has not had it yet, and ends the
 * live line, if any. */
void cli_progress_done(cli_progress *p);
/* Prints a message line on stderr unless quiet (ends a live line first). */
void cli_progress_note(cli_progress *p, const char *fmt, ...) CLI_PRINTF(2, 3);

/* -------------------------------------------------------- class_weight.c */

typedef struct cli_classes cli_classes;

/* --class-weight: "balanced" (scikit-learn's n / (C count_c)) or
 * LABEL:WEIGHT,... naming the data's classes (integer values or names;
 * unlisted classes 1). */
typedef struct cli_class_weight {
    int balanced;
    size_t n;         /* explicit entries */
    char **labels;    /* (n) the LABEL texts, matched by cli_class_index */
    double *weights;  /* (n) */
} cli_class_weight;

/* Checks the syntax (a usage error, before any file is read). */
int cli_class_weight_parse(const char *cmd, const char *text, cli_class_weight *cw);
void cli_class_weight_free(cli_class_weight *cw);
/* The weight of each of the n samples of class index y[i] into `cls`,
 * malloc'd into *out. A label that is not a class is a usage error naming
 * it and the classes ("not a class of <whose>"); so are two labels of one
 * class and weights that are all zero. */
int cli_class_weight_samples(const char *cmd, const cli_class_weight *cw,
                             const cli_classes *cls, const char *whose, const int32_t *y,
                             size_t n, double **out);
/* The same, times `given` (n weights per sample: --weight-column and
 * --weights, or NULL): the weights training uses. */
int cli_sample_weights(const char *cmd, const cli_class_weight *cw, const cli_classes *cls,
                       const char *whose, const int32_t *y, size_t n, const double *given,
                       double **out);

/* ------------------------------------------------------------- labels.c */

/* The classes: integer label values, or names (string labels; the model
 * keeps labels 0..C-1 and the metadata label_names / label_type). */
struct cli_classes {
    size_t C;
    int64_t *values; /* (C) sorted label values; NULL when named */
    char **names;    /* (C) class names in class order; NULL for integers */
    int numeric;     /* names of numbers (label_type "float"): a label matches a
                        class by value too ("0.50" is "0.5", "1" is "1.0") */
};

/* The data's classes: its sorted distinct labels or names. Fewer than 2 is
 * an error ("... `who` needs at least 2 classes"), and so is a name that
 * holds a control character (a quoted line break in a CSV label). */
int cli_table_classes(const char *path, const csm_table *t, const char *who, cli_classes *out);
/* A model's classes (label_names when present). Prints the error. */
int cli_model_classes(const csm_model *m, const char *model_path, cli_classes *out);
/* Sets the model's labels (and label_names / label_type, or removes them). */
int cli_classes_to_model(csm_model *m, const cli_classes *c);
void cli_classes_free(cli_classes *c);
/* The text of class i (buf holds an integer's). */
const char *cli_class_name(const cli_classes *c, size_t i, char *buf, size_t len);
/* "a, b, c" (at most 20 shown). */
void cli_classes_list(char *buf, size_t len, const cli_classes *c);
/* The index of the class that `text` names into *index: a name's exact
 * text (or its value, for numeric names), or an integer class's value
 * (strict: the whole text is the integer). Returns -1 when none does. */
int cli_class_index(const cli_classes *c, const char *text, size_t *index);
/* The table's labels as class indices, matched by text (by value for
 * numeric names); prints "ERROR:
 * PATH: sample N has label L, which WHOSE (classes: ...)" for one that is
 * not a class. `out` has t->n entries. */
int cli_map_table(const char *path, const csm_table *t, const cli_classes *cls, const char *whose,
                  int32_t *out);
/* Labels of a file that are no class of the model (eval counts their
 * samples as errors, as liblinear does). */
typedef struct cli_unseen {
    size_t n;        /* such labels */
    char **names;    /* (n) their texts, in the order of the file's sorted labels */
    size_t samples;  /* samples that have one */
    size_t first;    /* the first such sample (0-based) */
} cli_unseen;
/* cli_map_table, except that a label of no class maps to C + its index in
 * unseen->names instead of failing. */
int cli_map_table_unseen(const char *path, const csm_table *t, const cli_classes *cls,
                         int32_t *out, cli_unseen *unseen);
void cli_unseen_free(cli_unseen *u);
/* Writes s as one CSV field (quoted when needed). */
void cli_write_csv_field(FILE *out, const char *s);

/* -------------------------------------------------------- data_format.c */

/* predict and eval: the read options start unset, so that what the model
 * remembers (metadata data_*) fills what the command line did not give. */
void cli_format_unset(csm_read_options *ro);
/* The defaults for the options still unset (train without --resume). */
void cli_format_defaults(csm_read_options *ro);
/* Fills the unset options of `ro` from the model's metadata, else with the
 * defaults; the format only when the file name does not tell. `from`
 * receives the settings and where they came from, for messages. */
int cli_format_from_model(csm_read_options *ro, const csm_model *m, const char *model_path,
                          const char *data_path, char *from, size_t from_len);
/* train: the data_* keys of data read with `ro` as `format`. */
int cli_format_to_metadata(csm_model *m, const csm_read_options *ro, csm_format format);
/* predict and eval: fills `ro` from the model (cli_format_from_model),
 * reads DATA with the model's feature count (unseen libsvm features
 * ignored with a WARNING) and checks the feature count. `note` receives
 * the lines that say how the file was read (and that it was found to have
 * no labels), for the command to print once the data proved good. Errors
 * name the settings used and the options that change them. */
int cli_read_for_model(const char *data_path, const csm_model *m, const char *model_path,
                       csm_read_options *ro, csm_table *t, char *note, size_t note_len);

/* ------------------------------------------------------- model_data.c */

/* What predict, eval, gradcheck DATA MODEL and show start from. */
typedef struct cli_model_data {
    csm_context *ctx;
    csm_model *model;
    cli_classes classes; /* the model's */
    csm_table tab;       /* DATA, read for the model (none for show) */
    char note[3072];     /* how DATA was read: cli_model_data_note() */
} cli_model_data;

/* Creates the context, loads MODEL and its classes, then (data_path not
 * NULL) reads DATA with `ro` filled from what the model remembers
 * (cli_read_for_model). Prints the error, returns CLI_FAIL; whatever was
 * made is freed by cli_model_data_free() either way. */
int cli_model_data_open(cli_model_data *md, const char *model_path, const char *data_path,
                        csm_read_options *ro);
/* The lines that say how DATA was read, unless -q: printed after the
 * results, so that an error is the first line on stderr. */
void cli_model_data_note(const cli_model_data *md);
void cli_model_data_free(cli_model_data *md);
/* Every prediction is a class index below C; otherwise the device erred,
 * and the error names the first sample. Returns 0 or CLI_FAIL. */
int cli_check_predictions(const int32_t *pred, size_t n, size_t C);

/* ------------------------------------------------------ feature_names.c */

/* Keeps the table's header names in the model's metadata (feature_names,
 * label_name); nothing when the table has none. Prints the error. */
int cli_names_to_model(csm_model *m, const csm_table *t);
/* The model's feature names (k, malloc'd) or NULL when it has none.
 * Prints the error and returns CLI_FAIL for malformed metadata. */
int cli_model_names(const csm_model *m, const char *model_path, char ***out);
void cli_names_free(char **names, size_t k);
/* Compares a file's header names with the model's: 1 when they are the
 * same, 0 when either has none or they differ (then with a WARNING), -1
 * on malformed metadata (error printed). */
int cli_check_names(const char *data_path, const csm_table *t, const csm_model *m,
                    const char *model_path);
/* Appends to buf the lines that say how the reader took the file's first
 * rows: row names left out, a header decided by its label. */
void cli_table_notes(char *buf, size_t len, const char *path, const csm_table *t);

/* ------------------------------------------------------------- report.c */

typedef struct cli_report_row {
    size_t cls;                  /* the matrix row (class) it reports */
    double precision, recall, f1;
    unsigned long long support;  /* samples of that true class */
} cli_report_row;

typedef struct cli_report {
    cli_report_row *rows;        /* (n) the classes that occur, in row order */
    size_t n;
    cli_report_row macro, weighted; /* support: all samples */
    double accuracy;
} cli_report;

/* scikit-learn's classification_report from a confusion matrix conf (R x C,
 * rows true: the model's C classes, then R - C classes it never saw;
 * columns predicted). Returns -1 when memory is short. */
int cli_report_compute(const unsigned long long *conf, size_t R, size_t C, cli_report *out);
void cli_report_free(cli_report *r);
/* Prints it as scikit-learn does (4 decimals), names[row] naming each row. */
void cli_report_print(FILE *f, const cli_report *r, const char *const *names);

/* ------------------------------------------------------------ history.c */

typedef struct cli_history {
    FILE *f;
    const char *path;
} cli_history;

/* Opens FILE and writes the CSV header; prints the error and returns CLI_FAIL. */
int cli_history_open(cli_history *h, const char *path);
int cli_history_row(cli_history *h, const csm_epoch_info *info, int has_val, double val_loss,
                    double val_acc);
/* Closes, reporting a write error. */
int cli_history_close(cli_history *h);

/* ------------------------------------------------------------ commands */

int cmd_devices(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_gradcheck(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_cv(int argc, char **argv);

#endif
