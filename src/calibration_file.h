/* The calibration cache on disk (calibration_file.c): kept safe and
 * small; calibrate.c and choose.c decide what goes in it. */
#ifndef CSM_CALIBRATION_FILE_H
#define CSM_CALIBRATION_FILE_H

#include <jansson.h>

#include "internal.h"

/* csm_cache_usable: whether the file's directory is one to trust (owned by this user, not writable by group or
 * others; a missing one will be made, ours); else warns, saying why, and
 * returns 0. csm_cache_entries: its entries object (a new empty one when
 * there is no usable file: a named pipe, a file over 1 MB or a damaged one
 * is ignored, with a warning for the first two). csm_cache_store: one
 * entry (consumed) added, or with entry NULL the key's removed, the file
 * pruned and replaced whole. */
int csm_cache_usable(csm_context *ctx, const char *file);
json_t *csm_cache_entries(csm_context *ctx, const char *file);
void csm_cache_store(csm_context *ctx, const char *file, const char *key, json_t *entry);

/* The trust rule of the cache directory, shared with the kept programs
 * (program_cache.c): NULL when the directory of `file` is missing or
 * ours alone, else why not (its name written into dir, len bytes). */
const char *csm_cache_dir_problem(const char *file, char *dir, size_t len);
/* mkdir -p of the directory of `file`, new directories 0755; -1: errno */
int csm_cache_make_dirs(const char *file);

#endif
