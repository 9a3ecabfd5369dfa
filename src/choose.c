/* Which path a model runs on a dataset, decided once when they meet
 * (csm_bind_step), from the path table alone: the paths never ask.
 *
 * The context's options steer it: "path" (CLSOFTMAX_PATH) forces a path;
 * "calibrate" (CLSOFTMAX_CALIBRATE) off keeps to the fixed rule, always
 * measures every shape however small (tests), and the default measures
 * steps of at least MIN_WORK multiply-adds: below that a step is a few
 * microseconds of launches on every path and the rule is as good. Only
 * bindings that allow it measure (training); one-shot operations use the
 * rule or what was measured before, so that a csm_gradient() on a new
 * shape costs one pass, not a benchmark. Choices are remembered per
 * context, so a model trained many times, or every csm_loss() call, costs
 * one file read per shape class at most. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "calibrate.h"
#include "choose.h"

#define MIN_WORK ((double)(1u << 22))

/* The fixed rule: on CPU devices the fused kernel up to RULE_FUSED_C
 * classes (one read of X per step; at C = 10 it measured 1.4x the tiled
 * path's speed, at C = 100 a sixth of it) and the tiled kernels above;
 * CLBlast on other devices, where its tuned GEMMs are the engine. */
#define RULE_FUSED_C 16

static csm_path rule_path(const csm_context *ctx, size_t C)
{
    if (ctx->opt.path >= 0)
        return (csm_path)ctx->opt.path;
    return !csm_is_cpu(ctx) ? CSM_PATH_CLBLAST
           : C <= RULE_FUSED_C ? CSM_PATH_FUSED
                               : CSM_PATH_TILED;
}

/* ------------------------------------------------ choices of a context */

typedef struct saved {
    char *key;
    csm_path path;
    csm_tile tile;
    csm_speed speed; /* what the file said the choice measured; seconds 0: not from it */
    struct saved *next;
} saved;

static void choices_free(csm_context *ctx)
{
    saved *c = ctx->choices;
    while (c) {
        saved *next = c->next;
        free(c->key);
        free(c);
        c = next;
    }
    ctx->choices = NULL;
}

/* Choices made under other options are stale: the generation of the
 * options they were made under tells. */
static const saved *find(csm_context *ctx, const char *key)
{
    if (ctx->choices_gen != ctx->opt.generation)
        choices_free(ctx);
    for (const saved *c = ctx->choices; c; c = c->next)
        if (!strcmp(c->key, key))
            return c;
    return NULL;
}

static int remembered(csm_context *ctx, const char *key, csm_path *path, csm_tile *tile)
{
    const saved *c = find(ctx, key);
    if (c) {
        *path = c->path;
        *tile = c->tile;
    }
    return c != NULL;
}

static void forget(csm_context *ctx, const char *key)
{
    for (saved **c = (saved **)&ctx->choices; *c; c = &(*c)->next)
        if (!strcmp((*c)->key, key)) {
            saved *gone = *c;
            *c = gone->next;
            free(gone->key);
            free(gone);
            return;
        }
}

static void remember(csm_context *ctx, const char *key, csm_path path, const csm_tile *tile,
                     const csm_speed *speed)
{
    forget(ctx, key);
    saved *c = malloc(sizeof *c);
    char *k = csm_strdup(key);
    if (!c || !k) { /* forgetting costs a file read later, nothing more */
        free(c);
        free(k);
        return;
    }
    *c = (saved){k, path, *tile, speed ? *speed : (csm_speed){0, 0}, ctx->choices};
    ctx->choices = c;
    ctx->choices_gen = ctx->opt.generation;
    ctx->choices_free = choices_free;
}

/* ------------------------------------------------------------- choosing */

static void log_choice(csm_context *ctx, csm_path path, const csm_tile *tile, size_t C, size_t k,
                       size_t B, const char *why, const char *where)
{
    char geo[48] = "";
    if (path == CSM_PATH_TILED)
        csm_snprintf(geo, sizeof geo, " %u,%u,%u,%u,%u", tile->nv, tile->rt, tile->qc, tile->kc,
                     tile->fti);
    csm_log(ctx, CSM_LOG_INFO, "%s path%s for C=%zu k=%zu, %zu rows per step (%s%s)",
            csm_path_name(path), geo, C, k, B, why, where);
}

/* force: measure whatever the size and whatever is saved (csm_calibrate).
 * as: a step already running (csm_bind_step_as), whose choice is taken
 * unless one for these rows was made earlier in the context, and then
 * remembered for them, so the one-shot passes after training (the CLI's
 * accuracy) build nothing new either. */
static void choose(csm_model *m, const csm_dataset *d, size_t B, csm_measure measure, int force,
                   const csm_step *as, csm_path *path, csm_tile *tile)
{
    csm_context *ctx = m->ctx;
    *tile = as ? as->tile : CSM_TILE_DEFAULT;
    *path = as ? as->path->id : rule_path(ctx, m->C);
    if (ctx->opt.path >= 0)
        return;
    char key[512];
    csm_calibration_key(ctx, m->precision, d && d->x_u8, m->C, m->k, B, key, sizeof key);
    if (!force && remembered(ctx, key, path, tile))
        return;
    if (as) {
        remember(ctx, key, *path, tile, NULL);
        log_choice(ctx, *path, tile, m->C, m->k, B, "the training steps' choice", "");
        return;
    }
    const int mode = ctx->opt.calibrate;
    const int off = !force && mode == CSM_CALIBRATE_OFF;
    const int always = force || mode == CSM_CALIBRATE_ALWAYS;
    if (off || (!always && (double)B * (double)m->C * (double)m->k < MIN_WORK)) {
        log_choice(ctx, *path, tile, m->C, m->k, B,
                   off ? "calibration off: fixed rule" : "small steps: fixed rule", "");
        remember(ctx, key, *path, tile, NULL);
        return;
    }
    char file[1024];
    const int have_file =
        csm_calibration_file(ctx, file, sizeof file) == CSM_OK && csm_cache_usable(ctx, file);
    csm_speed speed = {0, 0};
    if (!force && have_file && csm_calibration_lookup(ctx, file, key, path, tile, &speed) == 0) {
        log_choice(ctx, *path, tile, m->C, m->k, B, "calibration in ", file);
        remember(ctx, key, *path, tile, &speed);
        return;
    }
    /* measuring runs gradient steps on the caller's rows: not for a
     * one-shot operation, nor for data without targets */
    if (measure == CSM_MEASURE_NEVER || !d || !d->C || d->n == 0) {
        log_choice(ctx, *path, tile, m->C, m->k, B,
                   measure == CSM_MEASURE_NEVER ? "fixed rule: not measured yet"
                                                : "fixed rule: no targets to measure with",
                   "");
        return;
    }
    if (!csm_calibration_measure(m, d, B, have_file ? file : NULL, key, path, tile, &speed))
        return; /* nothing ran: the rule's path reports its own error */
    /* measured just now, on this host as it is: compared from the next run */
    remember(ctx, key, *path, tile, NULL);
    log_choice(ctx, *path, tile, m->C, m->k, B, have_file ? "measured now; saved in " : "measured now",
               have_file ? file : "");
}

/* csm_bind_step, or with `as` csm_bind_step_as */
static csm_status bind(csm_step *w, csm_model *m, const csm_dataset *d, size_t rows, size_t slots,
                       csm_measure measure, const csm_step *as)
{
    memset(w, 0, sizeof *w);
    if (d) {
        csm_status st = csm_stream_prime(d, &d);
        if (st != CSM_OK)
            return st;
    }
    csm_path path = CSM_PATH_SPARSE;
    csm_tile tile = CSM_TILE_DEFAULT;
    if (!(d && d->sparse))
        choose(m, d, rows, measure, 0, as, &path, &tile);
    return csm_step_init(w, m, d, rows, slots, path, &tile);
}

csm_status csm_bind_step(csm_step *w, csm_model *m, const csm_dataset *d, size_t rows,
                         size_t slots, csm_measure measure)
{
    return bind(w, m, d, rows, slots, measure, NULL);
}

csm_status csm_bind_step_as(csm_step *w, const csm_step *as, csm_model *m, const csm_dataset *d,
                            size_t rows, size_t slots)
{
    return bind(w, m, d, rows, slots, CSM_MEASURE_NEVER, as);
}

void csm_choice_observed(csm_model *m, const csm_dataset *d, size_t rows, double seconds)
{
    csm_context *ctx = m->ctx;
    if (ctx->opt.path >= 0 || (d && d->sparse) || rows == 0)
        return;
    char key[512];
    csm_calibration_key(ctx, m->precision, d && d->x_u8, m->C, m->k, rows, key, sizeof key);
    const saved *c = find(ctx, key);
    if (!c || c->speed.seconds <= 0 || c->speed.rows == 0 || c->speed.seconds < ctx->slow_floor)
        return;
    char file[1024];
    if (csm_calibration_file(ctx, file, sizeof file) != CSM_OK || !csm_cache_usable(ctx, file))
        return;
    csm_calibration_observed(ctx, file, key, csm_path_name(c->path), &c->speed, seconds, rows);
}

csm_status csm_bind_products_step(csm_step *w, csm_model *m, const csm_dataset *d, size_t rows,
                                  size_t slots, csm_path path)
{
    memset(w, 0, sizeof *w);
    const csm_path_ops *p = csm_path_get(path);
    while (p && !p->logits)
        p = csm_path_fallback(m->ctx, p->id);
    if (!p)
        return csm_fail(m->ctx, CSM_ERR_INVALID_VALUE, "no product path stands in for the %s path",
                        csm_path_name(path));
    if (d) {
        csm_status st = csm_stream_prime(d, &d);
        if (st != CSM_OK)
            return st;
    }
    const csm_tile tile = CSM_TILE_DEFAULT;
    return csm_step_init(w, m, d, rows, slots, p->id, &tile);
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
        choose(m, d, B, CSM_MEASURE_ALLOWED, 1, NULL, &path, &tile);
        /* full batch: whole-dataset passes (L-BFGS, csm_loss) run in blocks
         * of csm_pass_rows(), which may fall in another band */
        csm_path p2;
        csm_tile t2;
        if (batch_rows == 0 && strcmp(csm_rows_band(B), csm_rows_band(full)))
            choose(m, d, full, CSM_MEASURE_ALLOWED, 1, NULL, &p2, &t2);
    }
    if (!choice || choice_len == 0)
        return CSM_OK;
    if (path == CSM_PATH_TILED)
        csm_snprintf(choice, choice_len, "tiled %u,%u,%u,%u,%u%s%s%s", tile.nv, tile.rt, tile.qc,
                     tile.kc, tile.fti, forced ? " (" : "", forced ? forced : "",
                     forced ? ")" : "");
    else
        csm_snprintf(choice, choice_len, "%s%s%s%s", csm_path_name(path),
                     d->sparse ? " (CSR data)" : forced ? " (" : "",
                     !d->sparse && forced ? forced : "", !d->sparse && forced ? ")" : "");
    return CSM_OK;
}
