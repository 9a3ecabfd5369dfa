/* What the device allows, read once per context: the alignment of
 * sub-buffer origins and the largest element offset a CLBlast call may
 * be given. Tests shrink the limits through CLSOFTMAX_TEST_* variables
 * (read at context creation, like the options) to reach, on a small
 * machine, the code paths that only huge data or small devices need. */
#include "config.h"

#include <limits.h>
#include <stdlib.h>

#include "internal.h"

/* A test override: unset or empty leaves *v as it is. */
static csm_status test_override(csm_context *ctx, const char *name, unsigned long long lo,
                                unsigned long long hi, unsigned long long *v)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return CSM_OK;
    if (csm_parse_count(s, lo, hi, v) != 0)
        return csm_fail(ctx, CSM_ERR_INVALID_VALUE, "%s is '%s': expected an integer in [%llu, %llu]",
                        name, s, lo, hi);
    return CSM_OK;
}

csm_status csm_limits_init(csm_context *ctx)
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
    unsigned long long v = INT_MAX;
    csm_status st = test_override(ctx, "CLSOFTMAX_TEST_MAX_OFFSET", 1, INT_MAX, &v);
    l->max_offset = (size_t)v;
    return st;
}
