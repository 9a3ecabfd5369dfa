/* Path and tile choice by measurement, cached per device, driver,
 * precision and shape class (calibrate.c). */
#ifndef CSM_CALIBRATE_H
#define CSM_CALIBRATE_H

#include <jansson.h>

#include "ops.h"

/* The path (and tiled geometry) for steps of B rows of model m over d:
 * the context's "path" option if set, else a cached or new measurement, else the rule
 * of csm_choose_path. */
csm_status csm_choose_path_for(csm_model *m, const csm_dataset *d, size_t B, csm_path *path,
                               csm_tile *tile);
/* The cache entry's key for this context and shape. */
void csm_calibration_key(const csm_context *ctx, csm_precision prec, int x_u8, size_t C, size_t k,
                         size_t B, char *key, size_t len);
/* The context's cache file (its "cache_dir" option); CSM_ERR_INVALID_VALUE
 * when no directory can be named. */
csm_status csm_calibration_file(const csm_context *ctx, char *path, size_t len);

/* The cache file (calibration_file.c). csm_cache_usable: whether its
 * directory is one to trust (owned by this user, not writable by group or
 * others; a missing one will be made, ours); else warns, saying why, and
 * returns 0. csm_cache_entries: its entries object (a new empty one when
 * there is no usable file: a named pipe, a file over 1 MB or a damaged one
 * is ignored, with a warning for the first two). csm_cache_store: one
 * entry (consumed) added, the file pruned and replaced whole. */
int csm_cache_usable(csm_context *ctx, const char *file);
json_t *csm_cache_entries(csm_context *ctx, const char *file);
void csm_cache_store(csm_context *ctx, const char *file, const char *key, json_t *entry);

#endif
