/* The kernel argument cursor and launches (launch.h). */
#include "config.h"

#include "launch.h"
#include "profile.h"

csm_args csm_args_start(csm_context *ctx, cl_kernel kernel, const char *name)
{
    csm_args a = {ctx, kernel, name, 0, CSM_OK};
    return a;
}

static void set(csm_args *a, size_t size, const void *value)
{
    if (a->st != CSM_OK)
        return;
    cl_int rc = clSetKernelArg(a->kernel, a->n, size, value);
    if (rc != CL_SUCCESS)
        a->st = csm_fail(a->ctx, CSM_ERR_OPENCL, "kernel %s: clSetKernelArg(%u) failed: %s (%d)",
                         a->name, a->n, csm_cl_error_name(rc), rc);
    a->n++;
}

void csm_arg_mem(csm_args *a, cl_mem m) { set(a, sizeof m, &m); }
void csm_arg_int(csm_args *a, cl_int v) { set(a, sizeof v, &v); }
void csm_arg_ulong(csm_args *a, cl_ulong v) { set(a, sizeof v, &v); }
void csm_arg_local(csm_args *a, size_t bytes) { set(a, bytes, NULL); }

void csm_arg_real(csm_args *a, csm_precision prec, double v)
{
    if (prec == CSM_FLOAT64) {
        set(a, sizeof v, &v);
    } else {
        const float f = (float)v;
        set(a, sizeof f, &f);
    }
}

csm_status csm_args_launch(csm_args *a, cl_uint dims, const size_t *global, const size_t *local)
{
    if (a->st != CSM_OK)
        return a->st;
    cl_uint want = 0;
    cl_int rc = clGetKernelInfo(a->kernel, CL_KERNEL_NUM_ARGS, sizeof want, &want, NULL);
    if (rc == CL_SUCCESS && want != a->n)
        return a->st = csm_fail(a->ctx, CSM_ERR_OPENCL,
                                "kernel %s takes %u arguments but %u were set", a->name, want,
                                a->n);
    cl_event ev = NULL;
    rc = clEnqueueNDRangeKernel(a->ctx->queue, a->kernel, dims, NULL, global, local, 0, NULL,
                                a->ctx->prof ? &ev : NULL);
    if (rc == CL_SUCCESS && ev) {
        size_t groups = 1;
        for (cl_uint d = 0; d < dims; d++)
            groups *= local && local[d] ? (global[d] + local[d] - 1) / local[d] : 0;
        csm_profile_add(a->ctx, a->name, ev, groups);
    }
    if (rc != CL_SUCCESS)
        a->st = csm_fail(a->ctx,
                         rc == CL_MEM_OBJECT_ALLOCATION_FAILURE || rc == CL_OUT_OF_RESOURCES
                             ? CSM_ERR_OUT_OF_MEMORY
                             : CSM_ERR_OPENCL,
                         "launching kernel %s failed: %s (%d)", a->name, csm_cl_error_name(rc),
                         rc);
    return a->st;
}
