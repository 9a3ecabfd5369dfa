/* The calibration cache on disk, $CLSOFTMAX_CACHE_DIR/calibration.json
 * (calibrate.c decides what goes in it; this file keeps it safe):
 *
 *  - read only when it is a regular file of at most CSM_CALIBRATION_FILE_MAX
 *    bytes (a named pipe there would block every run, a huge file cost
 *    seconds and gigabytes at every start); anything else is ignored with a
 *    warning, as if there were no cache;
 *  - used only in a directory of the user's own that nobody else can
 *    write to (else another user could plant a file, or a link, that a
 *    root process would then write through), with a warning otherwise;
 *  - written whole through the library's one writer (replace_file.c: an
 *    O_TMPFILE or an O_EXCL|O_NOFOLLOW temporary, renamed over the file),
 *    never through a link, and never over anything but a regular file;
 *  - pruned when rewritten: entries that are not measurements are dropped,
 *    and only the CACHE_MAX_ENTRIES newest are kept, so the file stays far
 *    below its cap however many devices, drivers and shapes pass by. */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "calibration_file.h"
#include "read_file.h"

#define CACHE_FORMAT "clsoftmax-calibration"
#define CACHE_VERSION 1
/* ~600 bytes each: 256 entries are about 150 KB */
#define CACHE_MAX_ENTRIES 256

int csm_cache_make_dirs(const char *file)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", file);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return 0;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(dir, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

const char *csm_cache_dir_problem(const char *file, char *dir, size_t len)
{
    snprintf(dir, len, "%s", file);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(dir, len, ".");
    struct stat st;
    if (stat(dir, &st) != 0)
        return errno == ENOENT ? NULL : strerror(errno);
    if (!S_ISDIR(st.st_mode))
        return "is not a directory";
    if (st.st_uid != geteuid())
        return "belongs to another user";
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return "is writable by other users";
    return NULL;
}

int csm_cache_usable(csm_context *ctx, const char *file)
{
    char dir[1024];
    const char *why = csm_cache_dir_problem(file, dir, sizeof dir);
    if (!why)
        return 1;
    csm_log(ctx, CSM_LOG_WARN,
            "calibration cache not used: %s %s (set CLSOFTMAX_CACHE_DIR to a directory of "
            "your own)",
            dir, why);
    return 0;
}

json_t *csm_cache_entries(csm_context *ctx, const char *file)
{
    json_t *entries = NULL;
    char *text = NULL, why[1200];
    size_t len = 0;
    int rc = csm_read_regular(file, "calibration cache", CSM_CALIBRATION_FILE_MAX, &text, &len,
                              why, sizeof why);
    if (rc == CSM_FILE_OK) {
        json_t *root = json_loadb(text, len, 0, NULL);
        if (root && json_is_object(root)) {
            const char *fmt = json_string_value(json_object_get(root, "format"));
            json_int_t ver = json_integer_value(json_object_get(root, "version"));
            json_t *e = json_object_get(root, "entries");
            if (fmt && !strcmp(fmt, CACHE_FORMAT) && ver == CACHE_VERSION && json_is_object(e))
                entries = json_incref(e);
        }
        json_decref(root);
    } else if (rc == CSM_FILE_FAIL) {
        csm_log(ctx, CSM_LOG_WARN, "calibration cache ignored: %s", why);
    }
    free(text);
    /* a damaged or foreign file is replaced on the next write */
    return entries ? entries : json_object();
}

/* A measurement as calibrate.c writes it: the rest is junk to drop. */
static int is_entry(const char *key, json_t *e)
{
    return strlen(key) < 1024 && json_is_object(e) &&
           json_is_string(json_object_get(e, "path")) &&
           json_is_string(json_object_get(e, "measured_at"));
}

typedef struct aged {
    const char *key, *at;
} aged;

static int newest_first(const void *a, const void *b)
{
    const aged *x = a, *y = b;
    int c = strcmp(y->at, x->at);
    return c ? c : strcmp(x->key, y->key);
}

/* Keeps the valid entries, at most `keep`, the newest. */
static json_t *pruned(json_t *entries, size_t keep)
{
    size_t n = json_object_size(entries), m = 0;
    aged *all = malloc((n ? n : 1) * sizeof *all);
    json_t *out = json_object();
    if (!all || !out) {
        free(all);
        json_decref(out);
        return NULL;
    }
    const char *key;
    json_t *e;
    json_object_foreach(entries, key, e)
    {
        if (is_entry(key, e)) {
            all[m].key = key;
            all[m].at = json_string_value(json_object_get(e, "measured_at"));
            m++;
        }
    }
    qsort(all, m, sizeof *all, newest_first);
    for (size_t i = 0; i < m && i < keep; i++)
        json_object_set(out, all[i].key, json_object_get(entries, all[i].key));
    free(all);
    return out;
}

void csm_cache_store(csm_context *ctx, const char *file, const char *key, json_t *entry)
{
    json_t *entries = csm_cache_entries(ctx, file);
    if (entry)
        json_object_set_new(entries, key, entry);
    else
        json_object_del(entries, key);
    char *text = NULL;
    /* the newest CACHE_MAX_ENTRIES, fewer if even those pass the cap */
    for (size_t keep = CACHE_MAX_ENTRIES; keep > 0 && !text; keep /= 2) {
        json_t *kept = pruned(entries, keep);
        json_t *root = kept ? json_pack("{s:s, s:i, s:o}", "format", CACHE_FORMAT, "version",
                                        CACHE_VERSION, "entries", kept)
                            : NULL;
        text = root ? json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
        json_decref(root);
        if (!text)
            break;
        if (strlen(text) > CSM_CALIBRATION_FILE_MAX) {
            free(text);
            text = NULL;
        }
    }
    json_decref(entries);
    /* a cache that cannot be written costs a re-measurement next time,
     * nothing more */
    char err[CSM_REPLACE_ERR_LEN] = "out of memory";
    int ok = text != NULL;
    if (ok && csm_cache_make_dirs(file) != 0) {
        snprintf(err, sizeof err, "cannot make its directory: %s", strerror(errno));
        ok = 0;
    }
    if (ok && csm_replace_file_raw(err, sizeof err, file, text, strlen(text), 0, NULL, NULL) !=
                  CSM_REPLACE_OK)
        ok = 0;
    if (!ok)
        csm_log(ctx, CSM_LOG_DEBUG, "calibration: could not write %s: %s", file, err);
    free(text);
}
