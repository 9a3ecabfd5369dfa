/* Test builds only: what a context believes about its device, changed
 * right after csm_context_create() (before any model or dataset), so that
 * the code paths that only huge data, small devices or other kinds of
 * device need run on the CI's CPU. The shipped library has no such door:
 * these write the context's own fields (tests link against internal.h). */
#ifndef CSM_TEST_HOOKS_H
#define CSM_TEST_HOOKS_H

#include <stddef.h>

#include "clsoftmax.h"

/* Lower the device's work-group size, local memory (bytes) or the largest
 * element offset of a CLBlast operand; 0 leaves one as it is. */
void hook_limits(csm_context *ctx, size_t max_wg, unsigned long long local_mem,
                 size_t max_offset);
/* The kernel variants and geometries of another kind of device: "gpu". */
void hook_device_type(csm_context *ctx, const char *type);
/* The tiled path's geometry "NV,RT,QC,KC,FTI" instead of the chosen one
 * (NULL: chosen again); aborts the test on a malformed one. */
void hook_tile(csm_context *ctx, const char *geometry);
/* The shortest measured step the calibration compares with training's
 * (default CSM_SLOW_MIN_SECONDS): 0 compares the tiny steps of tests. */
void hook_slow_floor(csm_context *ctx, double seconds);

#endif
