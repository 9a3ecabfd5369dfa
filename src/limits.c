/* What the device allows, read once per context: work-items per group,
 * local memory, the alignment of sub-buffer origins and the largest
 * element offset a CLBlast call may be given; and whether a built kernel
 * runs within them. (Test builds shrink these after creation,
 * tests/hooks.c, to reach on a small machine the code paths that only
 * huge data or small devices need.) */
#include "config.h"

#include <limits.h>

#include "internal.h"

void csm_limits_init(csm_context *ctx)
{
    csm_limits *l = &ctx->limits;
    cl_uint bits = 0;
    if (clGetDeviceInfo(ctx->device, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof bits, &bits, NULL) !=
            CL_SUCCESS ||
        bits < 8 * sizeof(double))
        bits = 1024; /* the largest any device reports: safe for all */
    l->base_align = bits / 8;
    /* CLBlast takes size_t offsets but computes its indices in int, its
     * operand included: offset + span past INT_MAX reads the wrong rows */
    l->max_offset = INT_MAX;

    size_t wg = 0, items[3] = {0, 0, 0};
    clGetDeviceInfo(ctx->device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg, NULL);
    /* the launches are one-dimensional: dimension 0's bound applies too */
    if (clGetDeviceInfo(ctx->device, CL_DEVICE_MAX_WORK_ITEM_SIZES, sizeof items, items, NULL) ==
            CL_SUCCESS &&
        items[0] && items[0] < wg)
        wg = items[0];
    cl_ulong local = 0;
    clGetDeviceInfo(ctx->device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof local, &local, NULL);
    /* a device that cannot say is taken at its word of nothing: no bound */
    l->max_wg = wg ? wg : (size_t)1 << 20;
    l->local_mem = local ? local : (cl_ulong)1 << 40;
}

int csm_kernel_fits(csm_context *ctx, cl_kernel k, size_t local, char *why, size_t len)
{
    size_t kwg = 0;
    cl_ulong kmem = 0;
    /* a driver that cannot say is trusted with the device's limits */
    if (clGetKernelWorkGroupInfo(k, ctx->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof kwg, &kwg,
                                 NULL) != CL_SUCCESS ||
        kwg == 0)
        kwg = ctx->limits.max_wg;
    if (clGetKernelWorkGroupInfo(k, ctx->device, CL_KERNEL_LOCAL_MEM_SIZE, sizeof kmem, &kmem,
                                 NULL) != CL_SUCCESS)
        kmem = 0;
    if (local > kwg || local > ctx->limits.max_wg) {
        csm_snprintf(why, len, "groups of %zu work-items, the device runs %zu",
                     local, kwg < ctx->limits.max_wg ? kwg : ctx->limits.max_wg);
        return 0;
    }
    if (kmem > ctx->limits.local_mem) {
        csm_snprintf(why, len, "%llu bytes of local memory, the device has %llu",
                     (unsigned long long)kmem, (unsigned long long)ctx->limits.local_mem);
        return 0;
    }
    return 1;
}

csm_status csm_reduce_group(csm_context *ctx, cl_kernel k, const char *name, size_t *out)
{
    size_t wg = CSM_WG;
    char why[160];
    while (wg > 1 && !csm_kernel_fits(ctx, k, wg, NULL, 0))
        wg /= 2;
    if (!csm_kernel_fits(ctx, k, wg, why, sizeof why))
        return csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "kernel %s cannot run on %s: it needs %s",
                        name, ctx->info.device_name, why);
    if (wg < CSM_WG)
        csm_log(ctx, CSM_LOG_DEBUG, "%s: work-groups of %zu items (the device's limit)", name, wg);
    *out = wg;
    return CSM_OK;
}
