/* Where the device time goes: OpenCL profiling events per kernel launch
 * (the "profile" option, CLSOFTMAX_PROFILE=on). Off by default: then the
 * queue is made without profiling and a launch carries no event. On, every
 * launch (launch.c) and CLBlast GEMM (path_clblast.c) hands its event
 * here; a report (after every training iteration, train.c) waits for them,
 * sums each kernel's start-to-end time, and logs at CSM_LOG_INFO:
 *   - the wall time the caller measured (the epoch's, from its start to its
 *     loss read back), the device's span from the first kernel's start to
 *     the last one's end, the kernels' own time, and the idle time between
 *     kernels inside the span (the host or the runtime not keeping up);
 *   - per kernel: launches, work-groups per launch, total, mean and
 *     longest time. */
#ifndef CSM_PROFILE_H
#define CSM_PROFILE_H

#include "internal.h"

/* Profiling on or off: the queue is remade with or without
 * CL_QUEUE_PROFILING_ENABLE (what was enqueued before finishes first). */
csm_status csm_profile_set(csm_context *ctx, int on);
/* A launched command's event (taken over: released here) and its
 * work-group count; name must outlive the report (a string literal). */
void csm_profile_add(csm_context *ctx, const char *name, cl_event ev, size_t groups);
/* Logs what was added since the last report under the title `what` (wall:
 * the caller's wall-clock seconds for the same work, or < 0 if none), and
 * starts over. Nothing is logged when nothing was added. */
void csm_profile_report(csm_context *ctx, const char *what, double wall);
void csm_profile_free(csm_context *ctx);

#endif
