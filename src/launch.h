/* Kernel launches: an argument cursor that sets a kernel's arguments in
 * order, counts them and checks the count against the kernel's own
 * (CL_KERNEL_NUM_ARGS) at the launch, so that no call site numbers its
 * arguments by hand and a missing or extra one is an error, not a launch
 * with a stale value. The first failure sticks: the calls after it do
 * nothing and the launch returns it. */
#ifndef CSM_LAUNCH_H
#define CSM_LAUNCH_H

#include "internal.h"

typedef struct csm_args {
    csm_context *ctx;
    cl_kernel kernel;
    const char *name; /* for messages */
    cl_uint n;        /* arguments set so far */
    csm_status st;    /* the first failure, or CSM_OK */
} csm_args;

csm_args csm_args_start(csm_context *ctx, cl_kernel kernel, const char *name);
void csm_arg_mem(csm_args *a, cl_mem m);
void csm_arg_int(csm_args *a, cl_int v);
void csm_arg_ulong(csm_args *a, cl_ulong v);
/* A real at the kernels' precision (float or double). */
void csm_arg_real(csm_args *a, csm_precision prec, double v);
/* `bytes` of local memory for a __local pointer argument. */
void csm_arg_local(csm_args *a, size_t bytes);
/* Enqueues the kernel (local may be NULL: the runtime's choice) once every
 * argument is set; nothing is waited for. */
csm_status csm_args_launch(csm_args *a, cl_uint dims, const size_t *global, const size_t *local);

/* v rounded up to a multiple of `to` */
static inline size_t csm_round_up(size_t v, size_t to) { return (v + to - 1) / to * to; }

#endif
