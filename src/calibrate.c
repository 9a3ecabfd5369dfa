/* Measuring which path is fastest, and the file that keeps what was
 * measured. Which implementation of a step is fastest depends on the
 * device, its driver, the precision and the shape (on a 2-core EPYC: fused
 * at C = 10, tiled at C = 100 and 1000, CLBlast's untuned GEMMs never; on a
 * GPU, CLBlast), so each candidate path (and each tile geometry of the
 * tiled path) runs a few steps on the caller's own first rows and the
 * fastest is kept in a JSON file in the user's cache directory, by
 * (device, driver, precision, feature storage, shape class); choose.c
 * decides when to measure and when to read the file.
 *
 * The shape class is (ceil log2 C, ceil log2 k, the step's row count in
 * four bands): shapes within a factor of two of each other behave alike.
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
#include "step.h"

#define CACHE_FILE "calibration.json"
/* rows a calibration step uses at most: enough to reach the steady state
 * of every path, few enough that a slow candidate costs a second, not a
 * minute (CLBlast's untuned GEMM at k = 4096, C = 1000 runs at ~10 GFLOP/s) */
#define CALIBRATE_ROWS 1024
/* Another path replaces the fixed rule's (the caller's *path) only when
 * its step is at least this much faster: a step of at most CALIBRATE_ROWS
 * rows reads X from cache, which flatters a path that reads it twice
 * (the tiled path's two products) against one that reads it once (the
 * fused kernel): at C = 10, k = 784 (Fashion-MNIST) the tiled path's
 * 1024-row step measured 3% faster than the fused one, its 60000-row
 * epoch 35% slower. A near tie is the host's noise, not a reason to leave
 * the rule. */
#define RULE_MARGIN 1.1

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

const char *csm_rows_band(size_t B)
{
    return B <= 256 ? "rows<=256" : B <= 2048 ? "rows<=2048" : B <= 16384 ? "rows<=16384" : "rows>16384";
}

void csm_calibration_key(const csm_context *ctx, csm_precision prec, int x_u8, size_t C, size_t k,
                         size_t B, char *key, size_t len)
{
    snprintf(key, len, "%s|%s|%s|%s|%s|C<=2^%u|k<=2^%u|%s", ctx->info.platform_name,
             ctx->info.device_name, ctx->info.driver_version,
             prec == CSM_FLOAT64 ? "float64" : "float32", x_u8 ? "u8" : "real", ceil_log2(C),
             ceil_log2(k), csm_rows_band(B));
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

/* The chosen candidate's name in seconds_per_step ("fused", "tiled 4,5,6,64,4"). */
static void candidate_name(csm_path path, const csm_tile *t, char *name, size_t len)
{
    if (path == CSM_PATH_TILED)
        snprintf(name, len, "tiled %u,%u,%u,%u,%u", t->nv, t->rt, t->qc, t->kc, t->fti);
    else
        snprintf(name, len, "%s", csm_path_name(path));
}

/* What the entry measured for its choice: seconds per step of *rows rows
 * (0 when the entry does not say). */
static void entry_speed(json_t *e, csm_path path, const csm_tile *tile, csm_speed *speed)
{
    char name[64];
    candidate_name(path, tile, name, sizeof name);
    double s = json_number_value(json_object_get(json_object_get(e, "seconds_per_step"), name));
    json_int_t rows = json_integer_value(json_array_get(json_object_get(e, "measured_shape"), 0));
    speed->seconds = s > 0 && rows > 0 ? s : 0;
    speed->rows = rows > 0 ? (size_t)rows : 0;
}

int csm_calibration_lookup(csm_context *ctx, const char *file, const char *key, csm_path *path,
                           csm_tile *tile, csm_speed *speed)
{
    json_t *entries = csm_cache_entries(ctx, file);
    json_t *e = json_object_get(entries, key);
    int found = -1;
    if (json_is_object(e) && parse_path(json_string_value(json_object_get(e, "path")), path) == 0) {
        found = 0;
        if (*path == CSM_PATH_TILED &&
            parse_tile(json_string_value(json_object_get(e, "tile")), tile) != 0)
            found = -1;
        if (found == 0)
            entry_speed(e, *path, tile, speed);
    }
    json_decref(entries);
    return found;
}

void csm_calibration_observed(csm_context *ctx, const char *file, const char *key,
                              const char *path_name, const csm_speed *expect, double seconds,
                              size_t rows)
{
    const double expected = expect->seconds * (double)rows / (double)expect->rows;
    const int slow = seconds > CSM_SLOW_FACTOR * expected;
    json_t *entries = csm_cache_entries(ctx, file);
    json_t *e = json_object_get(entries, key);
    if (!json_is_object(e)) { /* measured again meanwhile, or cleared */
        json_decref(entries);
        return;
    }
    json_int_t before = json_integer_value(json_object_get(e, "slow_runs"));
    json_int_t now = slow ? before + 1 : 0;
    if (now != before) {
        if (now >= CSM_SLOW_RUNS)
            csm_log(ctx, CSM_LOG_INFO,
                    "calibration: the %s path ran %.1fx slower than measured (%.3g ms vs %.3g "
                    "ms per step of %zu rows) in %d runs in a row: the next run measures again",
                    path_name, seconds / expected, seconds * 1e3, expected * 1e3, rows,
                    CSM_SLOW_RUNS);
        else if (slow)
            csm_log(ctx, CSM_LOG_INFO,
                    "calibration: the %s path ran %.1fx slower than measured (%.3g ms vs %.3g "
                    "ms per step of %zu rows); after %d such runs in a row it is measured again",
                    path_name, seconds / expected, seconds * 1e3, expected * 1e3, rows,
                    CSM_SLOW_RUNS);
        json_t *entry = NULL;
        if (now < CSM_SLOW_RUNS) {
            entry = json_deep_copy(e);
            if (now)
                json_object_set_new(entry, "slow_runs", json_integer(now));
            else
                json_object_del(entry, "slow_runs");
        }
        csm_cache_store(ctx, file, key, entry); /* NULL: the entry goes */
    }
    json_decref(entries);
}

/* ---------------------------------------------------------- measurement */

/* Seconds per step of `path` on the first B rows of d: the best of a few
 * timed runs of 3 steps after one untimed step (which also builds the
 * kernels). Returns a negative time when the path cannot run this shape. */
static double time_path(csm_model *m, const csm_dataset *d, size_t B, csm_path path,
                        const csm_tile *tile, double give_up)
{
    csm_context *ctx = m->ctx;
    csm_step w;
    if (csm_step_init(&w, m, d, B, 1, path, tile) != CSM_OK)
        return -1;
    if (w.path->id != path) { /* it does not fit the device: another path ran in its place */
        csm_step_free(&w);
        return -1;
    }
    csm_block b = csm_block_of(d, 0, B);
    const double scale = 1.0 / (double)B;
    double best = INFINITY, spent = 0;
    csm_status st = csm_step_grad(&w, m, &b, scale, 0, 0, 0);
    if (st == CSM_OK && clFinish(ctx->queue) != CL_SUCCESS)
        st = CSM_ERR_OPENCL;
    for (int rep = 0; st == CSM_OK && rep < 5 && spent < 0.25; rep++) {
        double t0 = csm_now_seconds();
        for (int i = 0; st == CSM_OK && i < 3; i++)
            st = csm_step_grad(&w, m, &b, scale, 0, 0, 0);
        if (st == CSM_OK && clFinish(ctx->queue) != CL_SUCCESS)
            st = CSM_ERR_OPENCL;
        double dt = csm_now_seconds() - t0;
        spent += dt;
        if (dt / 3 < best)
            best = dt / 3;
        if (best > give_up) /* far behind the best so far: no need for more */
            break;
    }
    csm_step_free(&w);
    return st == CSM_OK ? best : -1;
}

static json_t *measure(csm_model *m, const csm_dataset *d, size_t B, csm_path *path,
                       csm_tile *tile)
{
    csm_context *ctx = m->ctx;
    const size_t rows = B < CALIBRATE_ROWS ? B : CALIBRATE_ROWS;
    json_t *secs = json_object();
    double best = INFINITY, rule_best = INFINITY;
    const csm_path rule = *path;
    csm_tile rule_tile = *tile;
    char name[64];
    /* candidates: the fused kernel while its per-class registers last,
     * the tiled kernels on CPUs (one work-item per group), CLBlast */
    for (int p = 0; p < 3; p++) {
        csm_path cand = p == 0 ? CSM_PATH_FUSED : p == 1 ? CSM_PATH_TILED : CSM_PATH_CLBLAST;
        const csm_shape shape = {m->precision, m->C, m->k, 0, d->x_u8 != NULL};
        if (!csm_path_get(cand)->fits(ctx, &shape))
            continue;
        const size_t ntiles = cand == CSM_PATH_TILED ? N_TILES : 1;
        for (size_t ti = 0; ti < ntiles; ti++) {
            const csm_tile *t = &tile_candidates[ti];
            double s = time_path(m, d, rows, cand, t, 4 * best);
            candidate_name(cand, t, name, sizeof name);
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
            if (cand == rule && s < rule_best) {
                rule_best = s;
                rule_tile = *t;
            }
        }
    }
    if (*path != rule && rule_best < RULE_MARGIN * best) {
        *path = rule;
        *tile = rule_tile;
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

int csm_calibration_measure(csm_model *m, const csm_dataset *d, size_t B, const char *file,
                            const char *key, csm_path *path, csm_tile *tile, csm_speed *speed)
{
    csm_path p = *path;
    csm_tile t = *tile;
    const int had_real_x = d->x != NULL;
    json_t *entry = measure(m, d, B < d->n ? B : d->n, &p, &t);
    /* the CLBlast candidate widened byte features into a real copy: keep
     * it only if that path won */
    if (!had_real_x && d->x && p != CSM_PATH_CLBLAST)
        csm_buffer_release(&((csm_dataset *)d)->x);
    if (!entry)
        return 0; /* nothing ran */
    *path = p;
    *tile = t;
    entry_speed(entry, p, &t, speed);
    if (file)
        csm_cache_store(m->ctx, file, key, entry);
    else
        json_decref(entry);
    return 1;
}

csm_status csm_calibration_path(char *path, size_t len)
{
    if (!path || len == 0)
        return CSM_ERR_NULL_ARGUMENT;
    /* what a context created now reads: CLSOFTMAX_CACHE_DIR, else the
     * default directory */
    csm_env env;
    csm_env_read(&env);
    const char *dir = csm_env_cache_dir(&env);
    if (dir && *dir)
        return file_in(dir, path, len);
    char *def = csm_default_cache_dir(&env);
    csm_status st = file_in(def, path, len);
    free(def);
    return st;
}
