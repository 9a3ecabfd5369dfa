/* The environment and the per-context options. csm_env_read() is the
 * library's one reader of the environment (CLSOFTMAX_DEVICE, the option
 * variables, XDG_CACHE_HOME and HOME): a context reads it once, when it is
 * created, so that a program changing its environment (or another thread
 * doing so) cannot change what a context does half-way through a run, and
 * csm_context_set_option() sets the same knobs without the environment.
 * Both go through one parser, so a value means the same whichever way it
 * arrives. The options are the knobs a user may set; test builds reach
 * the internal ones (tests/hooks.c). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"
#include "profile.h"

/* Longest option strings: the kernel build and path buffers they end up in
 * (program.c) hold them with room for our own defines. */
#define MAX_CL_OPTIONS 400
#define MAX_DIR 3000

typedef enum option_id {
    OPT_PATH,
    OPT_CALIBRATE,
    OPT_CACHE_DIR,
    OPT_SPLIT_K,
    OPT_BLOCK_ROWS,
    OPT_CL_OPTIONS,
    OPT_KERNEL_DIR,
    OPT_MAX_ALLOC,
    OPT_PROFILE,
    N_OPTIONS
} option_id;
_Static_assert(N_OPTIONS == CSM_N_OPTIONS, "csm_env's option count (internal.h)");

static const struct {
    const char *name, *env;
} option_names[N_OPTIONS] = {
    [OPT_PATH] = {"path", "CLSOFTMAX_PATH"},
    [OPT_CALIBRATE] = {"calibrate", "CLSOFTMAX_CALIBRATE"},
    [OPT_CACHE_DIR] = {"cache_dir", "CLSOFTMAX_CACHE_DIR"},
    [OPT_SPLIT_K] = {"split_k", "CLSOFTMAX_SPLIT_K"},
    [OPT_BLOCK_ROWS] = {"block_rows", "CLSOFTMAX_BLOCK_ROWS"},
    [OPT_CL_OPTIONS] = {"cl_options", "CLSOFTMAX_CL_OPTIONS"},
    [OPT_KERNEL_DIR] = {"kernel_dir", "CLSOFTMAX_KERNEL_DIR"},
    [OPT_MAX_ALLOC] = {"max_alloc", "CLSOFTMAX_MAX_ALLOC"},
    [OPT_PROFILE] = {"profile", "CLSOFTMAX_PROFILE"},
};

/* A decimal count in [lo, hi] and nothing else: 0, or -1 when malformed. */
static int parse_count(const char *s, unsigned long long lo, unsigned long long hi,
                       unsigned long long *out)
{
    if (!s || *s < '0' || *s > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* Bytes: decimal digits and an optional K, M or G (powers of 1024), at
 * least 1, nothing else: 0, or -1 when malformed or past SIZE_MAX. */
static int parse_bytes(const char *s, unsigned long long *out)
{
    if (!s || *s < '0' || *s > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    unsigned shift = 0;
    if (*end == 'K' || *end == 'k') shift = 10;
    else if (*end == 'M' || *end == 'm') shift = 20;
    else if (*end == 'G' || *end == 'g') shift = 30;
    if (shift)
        end++;
    if (errno || *end != '\0' || v < 1 || v > (unsigned long long)SIZE_MAX >> shift)
        return -1;
    *out = v << shift;
    return 0;
}

/* "auto", or the empty string, or no value at all: the default */
static int is_auto(const char *v) { return !v || !*v || !strcmp(v, "auto"); }

/* A string option's new value (NULL for the default). */
static csm_status set_string(csm_context *ctx, char **slot, const char *value, size_t max,
                             const char *source)
{
    if (value && strlen(value) > max)
        return csm_fail(ctx, CSM_ERR_INVALID_VALUE, "%s is %zu characters long: at most %zu",
                        source, strlen(value), max);
    char *copy = NULL;
    if (value && *value && !(copy = csm_strdup(value)))
        return csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
    free(*slot);
    *slot = copy;
    return CSM_OK;
}

void csm_env_read(csm_env *e)
{
    e->device = getenv("CLSOFTMAX_DEVICE");
    for (int id = 0; id < N_OPTIONS; id++)
        e->options[id] = getenv(option_names[id].env);
    e->xdg_cache_home = getenv("XDG_CACHE_HOME");
    e->home = getenv("HOME");
}

const char *csm_env_cache_dir(const csm_env *e) { return e->options[OPT_CACHE_DIR]; }

char *csm_default_cache_dir(const csm_env *e)
{
    const char *xdg = e->xdg_cache_home, *home = e->home;
    char dir[MAX_DIR + 32];
    if (xdg && *xdg == '/' && strlen(xdg) < MAX_DIR)
        snprintf(dir, sizeof dir, "%s/clsoftmax", xdg);
    else if (home && *home && strlen(home) < MAX_DIR)
        snprintf(dir, sizeof dir, "%s/.cache/clsoftmax", home);
    else
        return NULL;
    return csm_strdup(dir);
}

/* Sets option `id` from `value` (NULL, "" or "auto": the default); on a
 * bad value the option keeps its old value and the error names `source`
 * (the variable or the option). */
static csm_status set_option(csm_context *ctx, option_id id, const char *value,
                             const char *source)
{
    csm_options *o = &ctx->opt;
    unsigned long long v = 0;
    switch (id) {
    case OPT_PATH:
        if (is_auto(value))
            o->path = -1;
        else if (!strcmp(value, "clblast"))
            o->path = CSM_PATH_CLBLAST;
        else if (!strcmp(value, "fused"))
            o->path = CSM_PATH_FUSED;
        else if (!strcmp(value, "tiled"))
            o->path = CSM_PATH_TILED;
        else
            return csm_fail(ctx, CSM_ERR_INVALID_VALUE,
                            "%s is '%s': expected 'clblast', 'fused', 'tiled' or 'auto'", source,
                            value);
        o->path_source = source;
        break;
    case OPT_CALIBRATE:
        if (is_auto(value))
            o->calibrate = CSM_CALIBRATE_AUTO;
        else if (!strcmp(value, "always"))
            o->calibrate = CSM_CALIBRATE_ALWAYS;
        else if (!strcmp(value, "off"))
            o->calibrate = CSM_CALIBRATE_OFF;
        else
            return csm_fail(ctx, CSM_ERR_INVALID_VALUE,
                            "%s is '%s': expected 'auto', 'always' or 'off'", source, value);
        break;
    case OPT_CACHE_DIR:
        if (value && *value)
            return set_string(ctx, &o->cache_dir, value, MAX_DIR, source);
        /* the default, named at creation (NULL: no file, measurements stay
         * in memory) */
        free(o->cache_dir);
        o->cache_dir = o->default_cache_dir ? csm_strdup(o->default_cache_dir) : NULL;
        if (o->default_cache_dir && !o->cache_dir)
            return csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
        break;
    case OPT_SPLIT_K:
        if (!is_auto(value) && parse_count(value, 1, 1024, &v) != 0)
            return csm_fail(ctx, CSM_ERR_INVALID_VALUE,
                            "%s is '%s': expected a chunk count from 1 to 1024 (or 'auto')",
                            source, value);
        o->split_k = (size_t)v;
        break;
    case OPT_BLOCK_ROWS:
        if (!is_auto(value) && parse_count(value, 1, (unsigned long long)INT32_MAX, &v) != 0)
            return csm_fail(ctx, CSM_ERR_INVALID_VALUE,
                            "%s is '%s': expected a row count >= 1 (or 'auto')", source, value);
        o->block_rows = (size_t)v;
        break;
    case OPT_MAX_ALLOC:
        if (!is_auto(value) && parse_bytes(value, &v) != 0)
            return csm_fail(ctx, CSM_ERR_INVALID_VALUE,
                            "%s is '%s': expected a byte count >= 1 with an optional K, M or G "
                            "(or 'auto')",
                            source, value);
        o->max_alloc = (size_t)v;
        break;
    case OPT_PROFILE: {
        int on;
        if (is_auto(value) || !strcmp(value, "off"))
            on = 0;
        else if (!strcmp(value, "on"))
            on = 1;
        else
            return csm_fail(ctx, CSM_ERR_INVALID_VALUE, "%s is '%s': expected 'on' or 'off'",
                            source, value);
        csm_status st = csm_profile_set(ctx, on);
        if (st != CSM_OK)
            return st;
        o->profile = on;
        break;
    }
    case OPT_CL_OPTIONS:
        return set_string(ctx, &o->cl_options, value, MAX_CL_OPTIONS, source);
    case OPT_KERNEL_DIR:
        return set_string(ctx, &o->kernel_dir, value, MAX_DIR, source);
    case N_OPTIONS:
        break;
    }
    return CSM_OK;
}

csm_status csm_options_init(csm_context *ctx, const csm_env *e)
{
    ctx->opt.default_cache_dir = csm_default_cache_dir(e);
    /* the defaults first, so that a context is complete even when a
     * variable below is rejected */
    csm_status st = CSM_OK;
    for (int id = 0; id < N_OPTIONS && st == CSM_OK; id++)
        st = set_option(ctx, (option_id)id, NULL, option_names[id].name);
    for (int id = 0; id < N_OPTIONS && st == CSM_OK; id++) {
        const char *v = e->options[id];
        if (v && *v)
            st = set_option(ctx, (option_id)id, v, option_names[id].env);
    }
    return st;
}

void csm_options_free(csm_options *o)
{
    free(o->cache_dir);
    free(o->default_cache_dir);
    free(o->cl_options);
    free(o->kernel_dir);
    memset(o, 0, sizeof *o);
}

static int find_option(const char *name)
{
    for (int id = 0; id < N_OPTIONS; id++)
        if (!strcmp(name, option_names[id].name))
            return id;
    return -1;
}

static csm_status unknown_option(csm_context *ctx, const char *fn, const char *name)
{
    return csm_fail(ctx, CSM_ERR_INVALID_VALUE,
                    "%s: unknown option '%s' (options: path, calibrate, cache_dir, split_k, "
                    "block_rows, cl_options, kernel_dir, max_alloc, profile)",
                    fn, name);
}

csm_status csm_context_set_option(csm_context *ctx, const char *name, const char *value)
{
    if (!ctx)
        return CSM_ERR_NULL_ARGUMENT;
    if (!name)
        return csm_fail(ctx, CSM_ERR_NULL_ARGUMENT, "csm_context_set_option: name is NULL");
    const int id = find_option(name);
    if (id < 0)
        return unknown_option(ctx, "csm_context_set_option", name);
    /* the error's subject: "option path", as the variable names it at creation */
    static const char *const subjects[N_OPTIONS] = {
        "option path",       "option calibrate",  "option cache_dir", "option split_k",
        "option block_rows", "option cl_options", "option kernel_dir", "option max_alloc",
        "option profile"};
    csm_status st = set_option(ctx, (option_id)id, value, subjects[id]);
    /* path choices made under the old knobs must not outlive them */
    if (st == CSM_OK &&
        (id == OPT_PATH || id == OPT_CALIBRATE || id == OPT_CACHE_DIR || id == OPT_BLOCK_ROWS))
        ctx->opt.generation++;
    return st;
}

csm_status csm_context_get_option(csm_context *ctx, const char *name, char *value, size_t len)
{
    if (!ctx)
        return CSM_ERR_NULL_ARGUMENT;
    if (!name || !value)
        return csm_fail(ctx, CSM_ERR_NULL_ARGUMENT, "csm_context_get_option: %s is NULL",
                        name ? "value" : "name");
    const int id = find_option(name);
    if (id < 0)
        return unknown_option(ctx, "csm_context_get_option", name);
    const csm_options *o = &ctx->opt;
    char buf[MAX_DIR + 64] = "";
    switch ((option_id)id) {
    case OPT_PATH:
        snprintf(buf, sizeof buf, "%s", o->path < 0 ? "auto" : csm_path_name((csm_path)o->path));
        break;
    case OPT_CALIBRATE:
        snprintf(buf, sizeof buf, "%s",
                 o->calibrate == CSM_CALIBRATE_ALWAYS ? "always"
                 : o->calibrate == CSM_CALIBRATE_OFF  ? "off"
                                                      : "auto");
        break;
    case OPT_CACHE_DIR: snprintf(buf, sizeof buf, "%s", o->cache_dir ? o->cache_dir : ""); break;
    case OPT_SPLIT_K:
        if (o->split_k)
            snprintf(buf, sizeof buf, "%zu", o->split_k);
        else
            snprintf(buf, sizeof buf, "auto");
        break;
    case OPT_BLOCK_ROWS:
        if (o->block_rows)
            snprintf(buf, sizeof buf, "%zu", o->block_rows);
        else
            snprintf(buf, sizeof buf, "auto");
        break;
    case OPT_MAX_ALLOC:
        if (o->max_alloc)
            snprintf(buf, sizeof buf, "%zu", o->max_alloc);
        else
            snprintf(buf, sizeof buf, "auto");
        break;
    case OPT_PROFILE: snprintf(buf, sizeof buf, "%s", o->profile ? "on" : "off"); break;
    case OPT_CL_OPTIONS: snprintf(buf, sizeof buf, "%s", o->cl_options ? o->cl_options : ""); break;
    case OPT_KERNEL_DIR: snprintf(buf, sizeof buf, "%s", o->kernel_dir ? o->kernel_dir : ""); break;
    case N_OPTIONS: break;
    }
    if (len == 0 || strlen(buf) >= len)
        return csm_fail(ctx, CSM_ERR_INVALID_SIZE,
                        "csm_context_get_option: '%s' needs %zu bytes, the buffer has %zu", name,
                        strlen(buf) + 1, len);
    memcpy(value, buf, strlen(buf) + 1);
    return CSM_OK;
}
