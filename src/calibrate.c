/* Path and tile choice by measurement. Which implementation of a step is
 * fastest depends on the device, its driver, the precision and the shape
 * (on a 2-core EPYC: fused at C = 10, tiled at C = 100 and 1000, CLBlast's
 * untuned GEMMs never; on a GPU, CLBlast), so the first time a (device,
 * driver, precision, feature storage, shape class) is seen, each candidate
 * path (and each tile geometry of the tiled path) runs a few steps on the
 * caller's own first rows and the fastest is kept, in memory and in a
 * JSON file in the user's cache directory. Later runs, and later shapes of
 * the same class, read the choice back.
 *
 * The shape class is (ceil log2 C, ceil log2 k, the step's row count in
 * four bands): shapes within a factor of two of each other behave alike.
 *
 * The context's options (options.c) steer it: "path" (CLSOFTMAX_PATH)
 * forces a path (no measurement); "calibrate" (CLSOFTMAX_CALIBRATE) off
 * uses the fixed rule of csm_choose_path, always measures every shape
 * however small (tests), and the default measures steps of at least
 * CSM_CALIBRATE_MIN_WORK multiply-adds: below that a step is a few
 * microseconds of launches on every path and the rule is as good.
 * "cache_dir" (CLSOFTMAX_CACHE_DIR) replaces the cache directory
 * ($XDG_CACHE_HOME or ~/.cache, then clsoftmax/). */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "calibrate.h"
#include "solver.h"

#define CSM_CALIBRATE_MIN_WORK ((double)(1u << 22))
#define CACHE_FILE "calibration.json"
/* rows a calibration step uses at most: enough to reach the steady state
 * of every path, few enough that a slow candidate costs a second, not a
 * minute (CLBlast's untuned GEMM at k = 4096, C = 1000 runs at ~10 GFLOP/s) */
#define CALIBRATE_ROWS 1024

/* The tiled path's candidate geometries (NV, RT, QC, KC, FTI). */
static const csm_tile tile_candidates[] = {
    {4, 5, 6, 64, 4},  /* the default */
    {4, 4, 6, 128, 2}, /* longer gradient panels, fewer logits rows per tile */
    {2, 8, 8, 64, 4},  /* narrow tiles: small C or k */
};
#define N_TILES (sizeof tile_candidates / sizeof *tile_candidates)

static unsigned ceil_log2(size_t v)
{
    unsigned b = 0;
    while (((size_t)1 << b) < v && b < 63)
        b++;
    return b;
}

static const char *rows_band(size_t B)
{
    return B <= 256 ? "rows<=256" : B <= 2048 ? "rows<=2048" : B <= 16384 ? "rows<=16384" : "rows>16384";
}

void csm_calibration_key(const csm_context *ctx, csm_precision prec, int x_u8, size_t C, size_t k,
                         size_t B, char *key, size_t len)
{
    snprintf(key, len, "%s|%s|%s|%s|%s|C<=2^%u|k<=2^%u|%s", ctx->info.platform_name,
             ctx->info.device_name, ctx->info.driver_version,
             prec == CSM_FLOAT64 ? "float64" : "float32", x_u8 ? "u8" : "real", ceil_log2(C),
             ceil_log2(k), rows_band(B));
}

/* ------------------------------------------------------------- the file */

/* The cache file in directory dir (NULL: none can be named). */
static csm_status file_in(const char *dir, char *path, size_t len)
{
    if (!dir)
        return CSM_ERR_INVALID_VALUE;
    int n = snprintf(path, len, "%s/%s", dir, CACHE_FILE);
    return n > 0 && (size_t)n < len ? CSM_OK : CSM_ERR_INVALID_VALUE;
}

csm_status csm_calibration_file(const csm_context *ctx, char *path, size_t len)
{
    return file_in(ctx->opt.cache_dir, path, len);
}

static int parse_path(const char *s, csm_path *p)
{
    if (!s)
        return -1;
    if (!strcmp(s, "clblast")) *p = CSM_PATH_CLBLAST;
    else if (!strcmp(s, "fused")) *p = CSM_PATH_FUSED;
    else if (!strcmp(s, "tiled")) *p = CSM_PATH_TILED;
    else return -1;
    return 0;
}

static int parse_tile(const char *s, csm_tile *t)
{
    unsigned v[5];
    char end;
    if (!s || sscanf(s, "%u,%u,%u,%u,%u%c", &v[0], &v[1], &v[2], &v[3], &v[4], &end) != 5)
        return -1;
    for (size_t i = 0; i < N_TILES; i++) {
        const csm_tile *c = &tile_candidates[i];
        if (c->nv == v[0] && c->rt == v[1] && c->qc == v[2] && c->kc == v[3] && c->fti == v[4]) {
            *t = *c;
            return 0;
        }
    }
    return -1; /* only geometries this build measures are trusted */
}

static int lookup(csm_context *ctx, const char *file, const char *key, csm_path *path,
                  csm_tile *tile)
{
    json_t *entries = csm_cache_entries(ctx, file);
    json_t *e = json_object_get(entries, key);
    int found = -1;
    if (json_is_object(e) && parse_path(json_string_value(json_object_get(e, "path")), path) == 0) {
        found = 0;
        if (*path == CSM_PATH_TILED &&
            parse_tile(json_string_value(json_object_get(e, "tile")), tile) != 0)
            found = -1;
    }
    json_decref(entries);
    return found;
}

/* ---------------------------------------------------------- measurement */

/* Seconds per step of `path` on the first B rows of d: the best of a few
 * timed runs of 3 steps after one untimed step (which also builds the
 * kernels). Returns a negative time when the path cannot run this shape. */
static double time_path(csm_model *m, const csm_dataset *d, size_t B, csm_path path,
                        const csm_tile *tile, double give_up)
{
    csm_context *ctx = m->ctx;
    csm_work w;
    if (csm_work_init_path(&w, m, d, B, 1, path, tile) != CSM_OK)
        return -1;
    if (w.path != path) { /* it does not fit the device: another path ran in its place */
        csm_work_free(&w);
        return -1;
    }
    csm_block b = csm_dataset_block(d, 0, B);
    const double scale = 1.0 / (double)B;
    double best = INFINITY, spent = 0;
    csm_status st = csm_enqueue_batch_grad(&w, m, &b, scale, 0, 0, 0);
    if (st == CSM_OK && clFinish(ctx->queue) != CL_SUCCESS)
        st = CSM_ERR_OPENCL;
    for (int rep = 0; st == CSM_OK && rep < 5 && spent < 0.25; rep++) {
        double t0 = csm_now_seconds();
        for (int i = 0; st == CSM_OK && i < 3; i++)
            st = csm_enqueue_batch_grad(&w, m, &b, scale, 0, 0, 0);
        if (st == CSM_OK && clFinish(ctx->queue) != CL_SUCCESS)
            st = CSM_ERR_OPENCL;
        double dt = csm_now_seconds() - t0;
        spent += dt;
        if (dt / 3 < best)
            best = dt / 3;
        if (best > give_up) /* far behind the best so far: no need for more */
            break;
    }
    csm_work_free(&w);
    return st == CSM_OK ? best : -1;
}

static json_t *measure(csm_model *m, const csm_dataset *d, size_t B, csm_path *path,
                       csm_tile *tile)
{
    csm_context *ctx = m->ctx;
    const int cpu = !strcmp(ctx->info.device_type, "cpu");
    const size_t rows = B < CALIBRATE_ROWS ? B : CALIBRATE_ROWS;
    json_t *secs = json_object();
    double best = INFINITY;
    char name[64];
    /* candidates: the fused kernel while its per-class registers last,
     * the tiled kernels on CPUs (one work-item per group), CLBlast */
    for (int p = 0; p < 3; p++) {
        csm_path cand = p == 0 ? CSM_PATH_FUSED : p == 1 ? CSM_PATH_TILED : CSM_PATH_CLBLAST;
        if (cand == CSM_PATH_FUSED && m->C > CSM_FUSED_MAX_C)
            continue;
        if (cand == CSM_PATH_TILED && !cpu)
            continue;
        const size_t ntiles = cand == CSM_PATH_TILED ? N_TILES : 1;
        for (size_t ti = 0; ti < ntiles; ti++) {
            const csm_tile *t = &tile_candidates[ti];
            double s = time_path(m, d, rows, cand, t, 4 * best);
            if (cand == CSM_PATH_TILED)
                snprintf(name, sizeof name, "tiled %u,%u,%u,%u,%u", t->nv, t->rt, t->qc, t->kc,
                         t->fti);
            else
                snprintf(name, sizeof name, "%s", csm_path_name(cand));
            csm_log(ctx, CSM_LOG_DEBUG, "calibration: %s %.3f ms per step of %zu rows", name,
                    s * 1e3, rows);
            if (s < 0)
                continue;
            json_object_set_new(secs, name, json_real(s));
            if (s < best) {
                best = s;
                *path = cand;
                *tile = *t;
            }
        }
    }
    if (!isfinite(best)) {
        json_decref(secs);
        return NULL;
    }
    char stamp[32] = "";
    time_t now = time(NULL);
    struct tm tmv;
    if (gmtime_r(&now, &tmv))
        strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    char tile_s[64];
    snprintf(tile_s, sizeof tile_s, "%u,%u,%u,%u,%u", tile->nv, tile->rt, tile->qc, tile->kc,
             tile->fti);
    return json_pack("{s:s, s:s, s:o, s:[i,i,i], s:s}", "path", csm_path_name(*path), "tile",
                     tile_s, "seconds_per_step", secs, "measured_shape", (json_int_t)rows,
                     (json_int_t)m->k, (json_int_t)m->C, "measured_at", stamp);
}

/* ------------------------------------------------------------- choosing */

/* Choices already made in this context: a model trained many times, or
 * every csm_loss() call, costs one file read per shape class at most. */
struct csm_choice {
    char *key;
    csm_path path;
    csm_tile tile;
    struct csm_choice *next;
};

static int remembered(const csm_context *ctx, const char *key, csm_path *path, csm_tile *tile)
{
    for (const struct csm_choice *c = ctx->choices; c; c = c->next)
        if (!strcmp(c->key, key)) {
            *path = c->path;
            *tile = c->tile;
            return 1;
        }
    return 0;
}

static void remember(csm_context *ctx, const char *key, csm_path path, const csm_tile *tile)
{
    struct csm_choice *c = malloc(sizeof *c);
    char *k = csm_strdup(key);
    if (!c || !k) { /* forgetting costs a file read later, nothing more */
        free(c);
        free(k);
        return;
    }
    *c = (struct csm_choice){k, path, *tile, ctx->choices};
    ctx->choices = c;
}

void csm_choices_free(csm_context *ctx)
{
    struct csm_choice *c = ctx->choices;
    while (c) {
        struct csm_choice *next = c->next;
        free(c->key);
        free(c);
        c = next;
    }
    ctx->choices = NULL;
}

static void forget(csm_context *ctx, const char *key)
{
    for (struct csm_choice **c = &ctx->choices; *c; c = &(*c)->next)
        if (!strcmp((*c)->key, key)) {
            struct csm_choice *gone = *c;
            *c = gone->next;
            free(gone->key);
            free(gone);
            return;
        }
}

/* force: measure whatever the size and whatever is cached */
static csm_status choose(csm_model *m, const csm_dataset *d, size_t B, int force, csm_path *path,
                         csm_tile *tile)
{
    csm_context *ctx = m->ctx;
    *tile = CSM_TILE_DEFAULT;
    csm_status st = csm_choose_path(ctx, m->C, path);
    if (st != CSM_OK || ctx->opt.path >= 0)
        return st;
    const int mode = ctx->opt.calibrate;
    const int x_u8 = d && d->x_u8;
    char key[512];
    csm_calibration_key(ctx, m->precision, x_u8, m->C, m->k, B, key, sizeof key);
    if (!force && remembered(ctx, key, path, tile))
        return CSM_OK;
    const int off = !force && mode == CSM_CALIBRATE_OFF;
    const int always = force || mode == CSM_CALIBRATE_ALWAYS;
    if (off || (!always && (double)B * (double)m->C * (double)m->k < CSM_CALIBRATE_MIN_WORK)) {
        csm_log(ctx, CSM_LOG_INFO, "%s path for C=%zu k=%zu, %zu rows per step (%s)",
                csm_path_name(*path), m->C, m->k, B,
                off ? "calibration off: fixed rule" : "small steps: fixed rule");
        remember(ctx, key, *path, tile);
        return CSM_OK;
    }
    char file[1024];
    const int have_file =
        csm_calibration_file(ctx, file, sizeof file) == CSM_OK && csm_cache_usable(ctx, file);
    if (!force && have_file && lookup(ctx, file, key, path, tile) == 0) {
        csm_log(ctx, CSM_LOG_INFO, "%s path for C=%zu k=%zu (calibration in %s)",
                csm_path_name(*path), m->C, m->k, file);
        remember(ctx, key, *path, tile);
        return CSM_OK;
    }
    /* measuring runs gradient steps on the caller's rows: not possible for
     * data without targets, which keeps the rule */
    if (!d || d->sparse || !d->C || d->n == 0) {
        csm_log(ctx, CSM_LOG_INFO, "%s path for C=%zu k=%zu (fixed rule: no targets to measure "
                "with)", csm_path_name(*path), m->C, m->k);
        return CSM_OK;
    }
    csm_path p = *path;
    csm_tile t = *tile;
    const int had_real_x = d->x != NULL;
    json_t *entry = measure(m, d, B < d->n ? B : d->n, &p, &t);
    /* the CLBlast candidate widened byte features into a real copy: keep
     * it only if that path won */
    if (!had_real_x && d->x && p != CSM_PATH_CLBLAST)
        csm_buffer_release(&((csm_dataset *)d)->x);
    if (!entry)
        return CSM_OK; /* nothing ran: the rule's path reports its own error */
    *path = p;
    *tile = t;
    forget(ctx, key);
    remember(ctx, key, p, &t);
    csm_log(ctx, CSM_LOG_INFO, "%s path%s%s for C=%zu k=%zu, %zu rows per step (measured now%s%s)",
            csm_path_name(p), p == CSM_PATH_TILED ? " " : "",
            p == CSM_PATH_TILED ? json_string_value(json_object_get(entry, "tile")) : "", m->C,
            m->k, B, have_file ? "; saved in " : "", have_file ? file : "");
    if (have_file)
        csm_cache_store(ctx, file, key, entry);
    else
        json_decref(entry);
    return CSM_OK;
}

csm_status csm_choose_path_for(csm_model *m, const csm_dataset *d, size_t B, csm_path *path,
                               csm_tile *tile)
{
    return choose(m, d, B, 0, path, tile);
}

csm_status csm_calibrate(csm_model *m, const csm_dataset *d, size_t batch_rows, char *choice,
                         size_t choice_len)
{
    csm_status st = csm_check_pair(m, d, 1, "csm_calibrate");
    if (st != CSM_OK)
        return st;
    if (d->n == 0)
        return csm_fail(m->ctx, CSM_ERR_INVALID_VALUE, "csm_calibrate: the dataset is empty");
    /* a streamed dataset is measured on its first chunk, as its passes run */
    const size_t full = csm_pass_rows(m, d);
    st = csm_stream_prime(d, &d);
    if (st != CSM_OK)
        return st;
    const size_t B = batch_rows == 0 || batch_rows > d->n ? d->n : batch_rows;
    csm_path path = CSM_PATH_SPARSE;
    csm_tile tile = CSM_TILE_DEFAULT;
    const char *forced = m->ctx->opt.path >= 0 ? m->ctx->opt.path_source : NULL;
    if (!d->sparse) {
        st = choose(m, d, B, 1, &path, &tile);
        /* full batch: whole-dataset passes (L-BFGS, csm_loss) run in blocks
         * of csm_block_rows(), which may fall in another band */
        const size_t blk = full;
        csm_path p2;
        csm_tile t2;
        if (st == CSM_OK && batch_rows == 0 && strcmp(rows_band(B), rows_band(blk)))
            st = choose(m, d, blk, 1, &p2, &t2);
    }
    if (st != CSM_OK || !choice || choice_len == 0)
        return st;
    if (path == CSM_PATH_TILED)
        snprintf(choice, choice_len, "tiled %u,%u,%u,%u,%u%s%s%s", tile.nv, tile.rt, tile.qc,
                 tile.kc, tile.fti, forced ? " (" : "", forced ? forced : "", forced ? ")" : "");
    else
        snprintf(choice, choice_len, "%s%s%s%s", csm_path_name(path),
                 d->sparse ? " (CSR data)" : forced ? " (" : "",
                 !d->sparse && forced ? forced : "", !d->sparse && forced ? ")" : "");
    return CSM_OK;
}

csm_status csm_calibration_path(char *path, size_t len)
{
    if (!path || len == 0)
        return CSM_ERR_NULL_ARGUMENT;
    /* what a context created now reads: CLSOFTMAX_CACHE_DIR, else the
     * default directory */
    const char *dir = getenv("CLSOFTMAX_CACHE_DIR");
    if (dir && *dir)
        return file_in(dir, path, len);
    char *def = csm_default_cache_dir();
    csm_status st = file_in(def, path, len);
    free(def);
    return st;
}
