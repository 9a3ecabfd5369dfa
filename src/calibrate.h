/* Measuring the paths of a shape, and the file that keeps the fastest
 * (calibrate.c); choose.c decides when to measure. */
#ifndef CSM_CALIBRATE_H
#define CSM_CALIBRATE_H

#include <jansson.h>

#include "calibration_file.h"
#include "path.h"

/* The cache entry's key for this context and shape, and the band of B
 * ("rows<=256", ...) that is part of it. */
void csm_calibration_key(const csm_context *ctx, csm_precision prec, int x_u8, size_t C, size_t k,
                         size_t B, char *key, size_t len);
const char *csm_rows_band(size_t B);
/* The context's cache file (its "cache_dir" option); CSM_ERR_INVALID_VALUE
 * when no directory can be named. */
csm_status csm_calibration_file(const csm_context *ctx, char *path, size_t len);
/* The saved choice for key in file: 0 when found (and of a geometry this
 * build measures), -1 otherwise. */
int csm_calibration_lookup(csm_context *ctx, const char *file, const char *key, csm_path *path,
                           csm_tile *tile);
/* Times every candidate path on steps of the first B rows of d (at most
 * 1024) and sets the fastest; saves it in file under key unless file is
 * NULL. 0 when no candidate ran (nothing set). */
int csm_calibration_measure(csm_model *m, const csm_dataset *d, size_t B, const char *file,
                            const char *key, csm_path *path, csm_tile *tile);

#endif
