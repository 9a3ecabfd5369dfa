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
/* What a measurement found for the path it chose: seconds per step of
 * `rows` rows (seconds 0: not known). */
typedef struct csm_speed {
    double seconds;
    size_t rows;
} csm_speed;

/* A choice read from the file is measured again when training runs its
 * steps more than CSM_SLOW_FACTOR times slower than the measurement said,
 * in CSM_SLOW_RUNS runs in a row (the entry counts them in "slow_runs";
 * a run within the factor sets the count back to 0): a host busy in a
 * different way from when it was measured (or a lucky measurement) does
 * not keep a bad choice for good, and the noise of one run, or the
 * overhead of a step beyond the gradient the measurement timed, does not
 * churn. Steps measured under CSM_SLOW_MIN_SECONDS (internal.h) are
 * mostly launches and are not compared. */
#define CSM_SLOW_FACTOR 3.0
#define CSM_SLOW_RUNS 2

/* The saved choice for key in file: 0 when found (and of a geometry this
 * build measures), -1 otherwise; *speed what it measured. */
int csm_calibration_lookup(csm_context *ctx, const char *file, const char *key, csm_path *path,
                           csm_tile *tile, csm_speed *speed);
/* Times every candidate path on steps of the first B rows of d (at most
 * 1024) and sets the fastest and its speed; saves it in file under key
 * unless file is NULL. 0 when no candidate ran (nothing set). */
int csm_calibration_measure(csm_model *m, const csm_dataset *d, size_t B, const char *file,
                            const char *key, csm_path *path, csm_tile *tile, csm_speed *speed);
/* Training ran steps of `rows` rows on the choice of key in `seconds`
 * each, where the choice's measurement said *expect: counts a slow run in
 * the file's entry, or drops the entry at CSM_SLOW_RUNS, or clears the
 * count after a run within the factor (path_name: for the message). */
void csm_calibration_observed(csm_context *ctx, const char *file, const char *key,
                              const char *path_name, const csm_speed *expect, double seconds,
                              size_t rows);

#endif
