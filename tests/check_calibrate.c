/* Path choice by measurement (src/calibrate.c): a measurement is made,
 * saved and read back by a later context without measuring again; the
 * saved choice is obeyed; a damaged or unwritable cache costs only a new
 * measurement; a saved choice that trains far slower than it measured is
 * measured again after two such runs, not after one; the knobs are checked, and read once per context; csm_calibrate() reports
 * its choice and refuses bad arguments. Each test works in its own cache
 * directory (CLSOFTMAX_CACHE_DIR). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hooks.h"
#include "problem.h"
#include "testutil.h"

static char dir[256];

static void fresh_dir(void)
{
    snprintf(dir, sizeof dir, "%s/csm-calibrate-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    setenv("CLSOFTMAX_CACHE_DIR", dir, 1);
    unsetenv("CLSOFTMAX_PATH");
    setenv("CLSOFTMAX_CALIBRATE", "always", 1);
}

static void remove_dir(void)
{
    char f[512];
    snprintf(f, sizeof f, "%s/calibration.json", dir);
    unlink(f);
    rmdir(dir);
}

/* Log lines of one context, concatenated. */
typedef struct logbuf {
    char text[16384];
} logbuf;

static void collect(csm_log_level level, const char *message, void *user)
{
    (void)level;
    logbuf *b = user;
    size_t used = strlen(b->text);
    snprintf(b->text + used, sizeof b->text - used, "%s\n", message);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *s = calloc(1, 1 << 16);
    if (s)
        s[fread(s, 1, (1 << 16) - 1, f)] = '\0';
    fclose(f);
    return s;
}

/* Trains 2 full-batch epochs of plain SGD with the log collected. */
static void train_logged(csm_context *ctx, const problem *p, logbuf *log)
{
    memset(log, 0, sizeof *log);
    csm_context_set_log_callback(ctx, collect, log);
    csm_dataset *d = problem_dataset(p, ctx);
    csm_model *m = problem_model(p, ctx);
    csm_train_options o;
    csm_train_options_init(&o, sizeof o);
    o.solver = CSM_SGD;
    o.max_iter = 2;
    o.tol = 0;
    o.batch_size = 0;
    ck_assert_int_eq(csm_train(m, d, &o, NULL), CSM_OK);
    csm_model_free(m);
    csm_dataset_free(d);
}

START_TEST(test_measured_saved_and_reused)
{
    fresh_dir();
    problem p = problem_make(50, 40, 12, CSM_FLOAT32, 0, 3);
    logbuf log;
    csm_context *ctx = test_context();
    train_logged(ctx, &p, &log);
    csm_context_free(ctx);
    /* every candidate the device has was timed, and the file names the winner */
    ck_assert_msg(strstr(log.text, "calibration: clblast") != NULL, "log:\n%s", log.text);
    ck_assert_msg(strstr(log.text, "measured now") != NULL, "log:\n%s", log.text);
    char f[512];
    snprintf(f, sizeof f, "%s/calibration.json", dir);
    char *json = read_file(f);
    ck_assert_msg(json != NULL, "no %s", f);
    ck_assert_msg(strstr(json, "\"format\": \"clsoftmax-calibration\"") != NULL, "%s", json);
    ck_assert_msg(strstr(json, "|float32|real|C<=2^4|k<=2^6|rows<=256\"") != NULL, "%s", json);
    ck_assert(strstr(json, "\"path\": \"fused\"") || strstr(json, "\"path\": \"tiled\"") ||
              strstr(json, "\"path\": \"clblast\""));
    free(json);

    /* a new context finds it: no measurement */
    ctx = test_context();
    train_logged(ctx, &p, &log);
    csm_context_free(ctx);
    ck_assert_msg(strstr(log.text, "calibration:") == NULL, "measured again:\n%s", log.text);
    ck_assert_msg(strstr(log.text, "(calibration in ") != NULL, "log:\n%s", log.text);
    problem_free(&p);
    remove_dir();
}
END_TEST

/* A saved choice is obeyed: the file says clblast for this shape class. */
START_TEST(test_saved_choice_obeyed)
{
    fresh_dir();
    csm_context *ctx = test_context();
    const csm_device_info *info = csm_context_device(ctx);
    char f[512];
    snprintf(f, sizeof f, "%s/calibration.json", dir);
    FILE *out = fopen(f, "w");
    ck_assert_ptr_nonnull(out);
    for (int pass = 0; pass < 2; pass++) {
        const char *path = pass ? "tiled" : "clblast";
        if (pass) {
            out = fopen(f, "w");
            ck_assert_ptr_nonnull(out);
        }
        fprintf(out,
                "{\"format\": \"clsoftmax-calibration\", \"version\": 1, \"entries\": {"
                "\"%s|%s|%s|float32|real|C<=2^4|k<=2^6|rows<=256\": {\"path\": \"%s\", "
                "\"tile\": \"4,5,6,64,4\"}}}\n",
                info->platform_name, info->device_name, info->driver_version, path);
        fclose(out);
        problem p = problem_make(50, 40, 12, CSM_FLOAT32, 0, 3);
        logbuf log;
        csm_context *c2 = test_context();
        train_logged(c2, &p, &log);
        csm_context_free(c2);
        char want[64];
        snprintf(want, sizeof want, "%s path ", path);
        ck_assert_msg(strstr(log.text, want) != NULL, "want '%s' in:\n%s", want, log.text);
        ck_assert_msg(strstr(log.text, " for C=12 k=40, 50 rows per step (calibration in ") != NULL,
                      "log:\n%s", log.text);
        problem_free(&p);
    }
    csm_context_free(ctx);
    remove_dir();
}
END_TEST

/* Writes a file whose one entry chose the fused path for the shape of
 * problem_make(50, 40, 12) in full batches, measured at `seconds` per step
 * of 50 rows, with `slow_runs` slow runs counted (0: none). */
static void write_entry(const char *f, const csm_device_info *info, const char *seconds,
                        int slow_runs)
{
    FILE *out = fopen(f, "w");
    ck_assert_ptr_nonnull(out);
    fprintf(out,
            "{\"format\": \"clsoftmax-calibration\", \"version\": 1, \"entries\": {"
            "\"%s|%s|%s|float32|real|C<=2^4|k<=2^6|rows<=256\": {\"path\": \"fused\", "
            "\"tile\": \"4,5,6,64,4\", \"seconds_per_step\": {\"fused\": %s}, "
            "\"measured_shape\": [50, 40, 12], \"measured_at\": \"2026-01-01T00:00:00Z\"%s}}}\n",
            info->platform_name, info->device_name, info->driver_version, seconds,
            slow_runs ? ", \"slow_runs\": 1" : "");
    fclose(out);
}

/* Trains 2 epochs (the second is compared) in a new context whose
 * comparisons start at `floor` seconds per measured step. */
static void train_floor(const problem *p, double floor, logbuf *log)
{
    csm_context *ctx = test_context();
    hook_slow_floor(ctx, floor);
    train_logged(ctx, p, log);
    csm_context_free(ctx);
}

/* An entry that measured its choice implausibly fast (1e-12 s a step):
 * training runs it far slower, the entry counts one slow run, and the
 * second slow run in a row drops it, so that the run after measures
 * again; an implausibly slow one (1000 s) sets the count back to 0; a
 * measured step under the floor (1 ms unless a test lowers it) is not
 * compared at all. */
START_TEST(test_slow_choice_measured_again)
{
    fresh_dir(); /* CLSOFTMAX_CALIBRATE=always: the file is read, and measured where it has
                    nothing, for the small shape too */
    csm_context *ctx = test_context();
    const csm_device_info *info = csm_context_device(ctx);
    char f[512];
    snprintf(f, sizeof f, "%s/calibration.json", dir);
    problem p = problem_make(50, 40, 12, CSM_FLOAT32, 0, 3);
    logbuf log;
    char *json;

    write_entry(f, info, "1e-12", 0);
    train_floor(&p, 0, &log);
    ck_assert_msg(strstr(log.text, "fused path for C=12 k=40, 50 rows per step (calibration in "),
                  "log:\n%s", log.text);
    ck_assert_msg(strstr(log.text, "slower than measured") && strstr(log.text, "after 2 such runs"),
                  "log:\n%s", log.text);
    json = read_file(f);
    ck_assert_msg(json && strstr(json, "\"slow_runs\": 1"), "%s", json ? json : "no file");
    free(json);

    train_floor(&p, 0, &log);
    ck_assert_msg(strstr(log.text, "the next run measures again"), "log:\n%s", log.text);
    json = read_file(f);
    ck_assert_msg(json && !strstr(json, "C<=2^4|k<=2^6|rows<=256"), "still there: %s",
                  json ? json : "no file");
    free(json);

    train_floor(&p, 0, &log);
    ck_assert_msg(strstr(log.text, "measured now"), "log:\n%s", log.text);

    write_entry(f, info, "1000", 1);
    train_floor(&p, 0, &log);
    ck_assert_msg(!strstr(log.text, "slower than measured"), "log:\n%s", log.text);
    json = read_file(f);
    ck_assert_msg(json && strstr(json, "\"path\": \"fused\"") && !strstr(json, "slow_runs"),
                  "%s", json ? json : "no file");
    free(json);

    write_entry(f, info, "1e-12", 0);
    train_floor(&p, 1e-3, &log);
    ck_assert_msg(!strstr(log.text, "slower than measured"), "log:\n%s", log.text);
    json = read_file(f);
    ck_assert_msg(json && !strstr(json, "slow_runs"), "%s", json ? json : "no file");
    free(json);

    problem_free(&p);
    csm_context_free(ctx);
    remove_dir();
}
END_TEST

/* Damaged files and unwritable directories cost a measurement, never a
 * failed run. */
START_TEST(test_bad_cache_is_harmless)
{
    fresh_dir();
    char f[512];
    snprintf(f, sizeof f, "%s/calibration.json", dir);
    FILE *out = fopen(f, "w");
    ck_assert_ptr_nonnull(out);
    fputs("{\"format\": \"clsoftmax-calibration\", \"entries\": [tru", out);
    fclose(out);
    problem p = problem_make(30, 20, 5, CSM_FLOAT32, 0, 4);
    logbuf log;
    csm_context *ctx = test_context();
    train_logged(ctx, &p, &log);
    ck_assert_msg(strstr(log.text, "measured now") != NULL, "log:\n%s", log.text);
    char *json = read_file(f);
    ck_assert_msg(json && strstr(json, "\"entries\": {"), "not rewritten: %s", json ? json : "");
    free(json);
    csm_context_free(ctx);
    remove_dir();

    setenv("CLSOFTMAX_CACHE_DIR", "/proc/csm-no-such-dir/cache", 1);
    ctx = test_context();
    train_logged(ctx, &p, &log);
    ck_assert_msg(strstr(log.text, "measured now") != NULL, "log:\n%s", log.text);
    csm_context_free(ctx);
    problem_free(&p);
}
END_TEST

/* A cache that would hang or swell a run is ignored with a warning and
 * never waited on: a named pipe in place of the file (no writer: opening it
 * for reading would block forever), a file over the 1 MB cap. The pipe
 * stays a pipe (the store refuses to rename over it); the oversized file is
 * replaced by a measured, pruned one. */
START_TEST(test_cache_not_regular_or_too_big)
{
    fresh_dir();
    char f[512];
    snprintf(f, sizeof f, "%s/calibration.json", dir);
    ck_assert(mkfifo(f, 0600) == 0);
    problem p = problem_make(30, 20, 5, CSM_FLOAT32, 0, 4);
    logbuf log;
    csm_context *ctx = test_context();
    train_logged(ctx, &p, &log);
    csm_context_free(ctx);
    ck_assert_msg(strstr(log.text, "calibration cache ignored: ") != NULL &&
                      strstr(log.text, "is a named pipe (FIFO), not a regular file") != NULL,
                  "log:\n%s", log.text);
    ck_assert_msg(strstr(log.text, "measured now") != NULL, "log:\n%s", log.text);
    struct stat sb;
    ck_assert(stat(f, &sb) == 0 && S_ISFIFO(sb.st_mode));
    ck_assert(unlink(f) == 0);

    /* 1 MB + 1 of valid JSON: ignored (a huge cache cost a minute and
     * gigabytes at every start), then rewritten small */
    FILE *out = fopen(f, "w");
    ck_assert_ptr_nonnull(out);
    fputs("{\"format\": \"clsoftmax-calibration\", \"version\": 1, \"entries\": {\"pad\": \"", out);
    long pad = (1L << 20) + 1 - ftell(out) - 4;
    for (long i = 0; i < pad; i++)
        fputc('x', out);
    fputs("\"}}\n", out);
    ck_assert_int_eq(ftell(out), (1L << 20) + 1);
    fclose(out);
    ctx = test_context();
    train_logged(ctx, &p, &log);
    csm_context_free(ctx);
    ck_assert_msg(strstr(log.text, "calibration cache of 1048577 bytes, over the limit of "
                                   "1048576 bytes") != NULL,
                  "log:\n%s", log.text);
    ck_assert(stat(f, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size < 4096);
    char *json = read_file(f);
    ck_assert_msg(json && strstr(json, "\"pad\"") == NULL && strstr(json, "\"path\":"), "%s",
                  json ? json : "");
    free(json);
    problem_free(&p);
    remove_dir();
}
END_TEST

/* Rewriting prunes: entries that are not measurements are dropped, and of
 * 300 measurements only the 256 newest stay. */
START_TEST(test_cache_pruned)
{
    fresh_dir();
    char f[512];
    snprintf(f, sizeof f, "%s/calibration.json", dir);
    FILE *out = fopen(f, "w");
    ck_assert_ptr_nonnull(out);
    fputs("{\"format\": \"clsoftmax-calibration\", \"version\": 1, \"entries\": {"
          "\"junk1\": 17, \"junk2\": {\"path\": 3}, \"junk3\": {\"path\": \"fused\"}",
          out);
    for (int i = 0; i < 300; i++) /* measured_at: entry i is i seconds after the first */
        fprintf(out, ", \"old%03d\": {\"path\": \"fused\", \"measured_at\": "
                     "\"2020-01-01T00:%02d:%02dZ\"}",
                i, i / 60, i % 60);
    fputs("}}\n", out);
    fclose(out);
    problem p = problem_make(30, 20, 5, CSM_FLOAT32, 0, 4);
    logbuf log;
    csm_context *ctx = test_context();
    train_logged(ctx, &p, &log);
    csm_context_free(ctx);
    ck_assert_msg(strstr(log.text, "measured now") != NULL, "log:\n%s", log.text);
    json_t *root = json_load_file(f, 0, NULL);
    ck_assert_ptr_nonnull(root);
    json_t *e = json_object_get(root, "entries");
    ck_assert_int_eq(json_object_size(e), 256);
    ck_assert_ptr_null(json_object_get(e, "junk1"));
    ck_assert_ptr_null(json_object_get(e, "junk2"));
    ck_assert_ptr_null(json_object_get(e, "junk3"));
    /* the new measurement (now) and the 255 newest old ones */
    ck_assert_ptr_null(json_object_get(e, "old044"));
    ck_assert_ptr_nonnull(json_object_get(e, "old045"));
    ck_assert_ptr_nonnull(json_object_get(e, "old299"));
    json_decref(root);
    problem_free(&p);
    remove_dir();
}
END_TEST

/* A cache directory that other users can write to, or that belongs to
 * another user, is not used (another user could put a file or a link
 * there), with a warning; nothing is read from or written into it. A
 * link in place of the file is replaced, never written through. */
START_TEST(test_cache_dir_not_trusted)
{
    fresh_dir();
    char f[512], target[512];
    snprintf(f, sizeof f, "%s/calibration.json", dir);
    ck_assert(chmod(dir, 0777) == 0);
    problem p = problem_make(30, 20, 5, CSM_FLOAT32, 0, 4);
    logbuf log;
    csm_context *ctx = test_context();
    train_logged(ctx, &p, &log);
    csm_context_free(ctx);
    ck_assert_msg(strstr(log.text, "calibration cache not used: ") != NULL &&
                      strstr(log.text, "is writable by other users") != NULL,
                  "log:\n%s", log.text);
    ck_assert_msg(strstr(log.text, "saved in") == NULL, "log:\n%s", log.text);
    ck_assert(access(f, F_OK) != 0);

    /* group-writable too */
    ck_assert(chmod(dir, 0770) == 0);
    ctx = test_context();
    train_logged(ctx, &p, &log);
    csm_context_free(ctx);
    ck_assert_msg(strstr(log.text, "is writable by other users") != NULL, "log:\n%s", log.text);
    ck_assert(access(f, F_OK) != 0);

    /* the user's own directory, the file a link to another file: the link
     * is replaced by the cache, the other file stays as it was */
    ck_assert(chmod(dir, 0700) == 0);
    snprintf(target, sizeof target, "%s.victim", dir);
    FILE *out = fopen(target, "w");
    ck_assert_ptr_nonnull(out);
    fputs("precious\n", out);
    fclose(out);
    ck_assert(symlink(target, f) == 0);
    ctx = test_context();
    train_logged(ctx, &p, &log);
    csm_context_free(ctx);
    struct stat sb;
    ck_assert(lstat(f, &sb) == 0 && S_ISREG(sb.st_mode));
    char *victim = read_file(target);
    ck_assert_str_eq(victim, "precious\n");
    free(victim);
    unlink(target);
    problem_free(&p);
    remove_dir();
}
END_TEST

/* The calibration knobs are read when a context is created: a malformed
 * variable fails the creation and names itself; a later change of the
 * environment does not reach an existing context; the options API checks
 * the same values. */
START_TEST(test_environment_checked)
{
    fresh_dir();
    static const char *const bad[][2] = {
        {"CLSOFTMAX_CALIBRATE", "sometimes"}, {"CLSOFTMAX_PATH", "fastest"},
        {"CLSOFTMAX_CACHE_DIR", NULL}};
    char err[512], longdir[4000];
    memset(longdir, 'd', sizeof longdir - 1);
    longdir[sizeof longdir - 1] = '\0';
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *old = getenv(bad[i][0]) ? strdup(getenv(bad[i][0])) : NULL;
        setenv(bad[i][0], bad[i][1] ? bad[i][1] : longdir, 1);
        csm_context *ctx = (csm_context *)&err; /* must come back NULL */
        ck_assert_int_eq(csm_context_create(&ctx, NULL, err, sizeof err), CSM_ERR_INVALID_VALUE);
        ck_assert_ptr_null(ctx);
        ck_assert_msg(strstr(err, bad[i][0]) != NULL, "%s", err);
        if (old)
            setenv(bad[i][0], old, 1);
        else
            unsetenv(bad[i][0]);
        free(old);
    }
    setenv("CLSOFTMAX_CALIBRATE", "off", 1);
    problem p = problem_make(30, 20, 5, CSM_FLOAT32, 0, 4);
    csm_context *ctx = test_context();
    setenv("CLSOFTMAX_PATH", "fastest", 1); /* too late for ctx */
    setenv("CLSOFTMAX_CALIBRATE", "sometimes", 1);
    csm_dataset *d = problem_dataset(&p, ctx);
    csm_model *m = problem_model(&p, ctx);
    double loss;
    ck_assert_int_eq(csm_loss(m, d, INFINITY, &loss), CSM_OK);
    unsetenv("CLSOFTMAX_PATH");
    char v[64];
    ck_assert_int_eq(csm_context_get_option(ctx, "calibrate", v, sizeof v), CSM_OK);
    ck_assert_str_eq(v, "off");
    ck_assert_int_eq(csm_context_set_option(ctx, "calibrate", "sometimes"), CSM_ERR_INVALID_VALUE);
    ck_assert_msg(strstr(csm_context_last_error(ctx), "option calibrate") != NULL, "%s",
                  csm_context_last_error(ctx));
    ck_assert_int_eq(csm_context_get_option(ctx, "calibrate", v, sizeof v), CSM_OK);
    ck_assert_str_eq(v, "off");
    ck_assert_int_eq(csm_context_set_option(ctx, "path", "fastest"), CSM_ERR_INVALID_VALUE);
    ck_assert_int_eq(csm_context_set_option(ctx, "calibrate", "always"), CSM_OK);
    ck_assert_int_eq(csm_context_set_option(ctx, "cache_dir", dir), CSM_OK);
    ck_assert_int_eq(csm_loss(m, d, INFINITY, &loss), CSM_OK);
    csm_model_free(m);
    csm_dataset_free(d);
    csm_context_free(ctx);
    problem_free(&p);
    unsetenv("CLSOFTMAX_CALIBRATE");
    remove_dir();
}
END_TEST

START_TEST(test_calibrate_call)
{
    fresh_dir();
    unsetenv("CLSOFTMAX_CALIBRATE");
    problem p = problem_make(40, 30, 7, CSM_FLOAT32, 0, 6);
    csm_context *ctx = test_context();
    csm_dataset *d = problem_dataset(&p, ctx);
    csm_model *m = problem_model(&p, ctx);
    char choice[96] = "";
    /* measured even though the steps are small, for minibatches of 16 */
    ck_assert_int_eq(csm_calibrate(m, d, 16, choice, sizeof choice), CSM_OK);
    ck_assert_msg(!strcmp(choice, "fused") || !strcmp(choice, "clblast") ||
                      !strncmp(choice, "tiled ", 6),
                  "choice '%s'", choice);
    char f[512], named[512];
    snprintf(f, sizeof f, "%s/calibration.json", dir);
    ck_assert_int_eq(csm_calibration_path(named, sizeof named), CSM_OK);
    ck_assert_str_eq(named, f);
    ck_assert_int_eq(access(f, R_OK), 0);
    ck_assert_int_eq(csm_context_set_option(ctx, "path", "clblast"), CSM_OK);
    ck_assert_int_eq(csm_calibrate(m, d, 0, choice, sizeof choice), CSM_OK);
    ck_assert_str_eq(choice, "clblast (option path)");
    ck_assert_int_eq(csm_context_set_option(ctx, "path", NULL), CSM_OK);
    /* bad arguments */
    ck_assert_int_eq(csm_calibrate(NULL, d, 0, choice, sizeof choice), CSM_ERR_NULL_ARGUMENT);
    ck_assert_int_eq(csm_calibrate(m, NULL, 0, choice, sizeof choice), CSM_ERR_NULL_ARGUMENT);
    ck_assert_int_eq(csm_calibration_path(NULL, 10), CSM_ERR_NULL_ARGUMENT);
    csm_dataset *nolabels = NULL;
    ck_assert_int_eq(csm_dataset_create(ctx, &nolabels, CSM_FLOAT32, p.X, CSM_DTYPE_F64, p.n,
                                        p.k, NULL, NULL, 0),
                     CSM_OK);
    ck_assert_int_eq(csm_calibrate(m, nolabels, 0, choice, sizeof choice), CSM_ERR_NO_TARGETS);
    csm_dataset_free(nolabels);
    csm_model_free(m);
    csm_dataset_free(d);
    csm_context_free(ctx);
    problem_free(&p);
    remove_dir();
}
END_TEST

/* A one-shot operation on a shape never measured runs one pass on the
 * fixed rule's path, no benchmark (even with "calibrate" always), and
 * saves nothing; once training has measured the shape, the one-shot
 * operations of a new context read the measurement. */
START_TEST(test_one_shot_never_measures)
{
    fresh_dir(); /* CLSOFTMAX_CALIBRATE=always */
    problem p = problem_make(50, 40, 12, CSM_FLOAT32, 0, 3);
    csm_context *ctx = test_context();
    logbuf log;
    memset(&log, 0, sizeof log);
    csm_context_set_log_callback(ctx, collect, &log);
    csm_dataset *d = problem_dataset(&p, ctx);
    csm_model *m = problem_model(&p, ctx);
    double loss, *dw = malloc(p.C * p.k * sizeof *dw);
    ck_assert_int_eq(csm_gradient(m, d, INFINITY, &loss, dw, NULL), CSM_OK);
    ck_assert_int_eq(csm_loss(m, d, INFINITY, &loss), CSM_OK);
    ck_assert_msg(strstr(log.text, "calibration:") == NULL, "measured:\n%s", log.text);
    ck_assert_msg(strstr(log.text, "fixed rule: not measured yet") != NULL, "log:\n%s",
                  log.text);
    char f[512];
    snprintf(f, sizeof f, "%s/calibration.json", dir);
    ck_assert_int_eq(access(f, F_OK), -1);
    csm_model_free(m);
    csm_dataset_free(d);
    csm_context_free(ctx);

    /* training measures: 2 full-batch epochs, the passes' shape */
    ctx = test_context();
    train_logged(ctx, &p, &log);
    csm_context_free(ctx);
    ck_assert_msg(strstr(log.text, "measured now") != NULL, "log:\n%s", log.text);

    ctx = test_context();
    memset(&log, 0, sizeof log);
    csm_context_set_log_callback(ctx, collect, &log);
    d = problem_dataset(&p, ctx);
    m = problem_model(&p, ctx);
    ck_assert_int_eq(csm_gradient(m, d, INFINITY, &loss, dw, NULL), CSM_OK);
    ck_assert_msg(strstr(log.text, "calibration:") == NULL, "measured:\n%s", log.text);
    ck_assert_msg(strstr(log.text, "(calibration in ") != NULL, "log:\n%s", log.text);
    csm_model_free(m);
    csm_dataset_free(d);
    csm_context_free(ctx);
    free(dw);
    problem_free(&p);
    remove_dir();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("calibrate");
    TCase *tc = tcase_create("calibrate");
    tcase_set_timeout(tc, CSM_DEVICE_TIMEOUT);
    tcase_add_test(tc, test_measured_saved_and_reused);
    tcase_add_test(tc, test_saved_choice_obeyed);
    tcase_add_test(tc, test_slow_choice_measured_again);
    tcase_add_test(tc, test_bad_cache_is_harmless);
    tcase_add_test(tc, test_cache_not_regular_or_too_big);
    tcase_add_test(tc, test_cache_pruned);
    tcase_add_test(tc, test_cache_dir_not_trusted);
    tcase_add_test(tc, test_environment_checked);
    tcase_add_test(tc, test_calibrate_call);
    tcase_add_test(tc, test_one_shot_never_measures);
    suite_add_tcase(s, tc);
    return csm_test_main(s, 1);
}
