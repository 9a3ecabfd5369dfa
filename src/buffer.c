/* Device buffers and host <-> device copies with precision conversion:
 * the host side is always double, the device side float or double. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"

csm_status csm_buffer_create(csm_context *ctx, cl_mem *out, size_t bytes, const char *what)
{
    *out = NULL;
    if (bytes == 0)
        bytes = 8; /* OpenCL rejects empty buffers; a placeholder keeps call sites simple */
    if (bytes > ctx->info.max_alloc_bytes && ctx->info.max_alloc_bytes > 0)
        return csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY,
                        "%s needs %zu bytes, over the device's largest allocation (%llu bytes)",
                        what, bytes, (unsigned long long)ctx->info.max_alloc_bytes);
    cl_int rc;
    cl_mem m = clCreateBuffer(ctx->cl, CL_MEM_READ_WRITE, bytes, NULL, &rc);
    if (rc != CL_SUCCESS)
        return csm_fail(ctx, rc == CL_INVALID_BUFFER_SIZE || rc == CL_MEM_OBJECT_ALLOCATION_FAILURE ||
                                     rc == CL_OUT_OF_RESOURCES || rc == CL_OUT_OF_HOST_MEMORY
                                 ? CSM_ERR_OUT_OF_MEMORY
                                 : CSM_ERR_OPENCL,
                        "clCreateBuffer for %s (%zu bytes) failed: %s (%d)", what, bytes,
                        csm_cl_error_name(rc), rc);
    *out = m;
    return CSM_OK;
}

void csm_buffer_release(cl_mem *m)
{
    if (*m) {
        clReleaseMemObject(*m);
        *m = NULL;
    }
}

csm_status csm_upload(csm_context *ctx, cl_mem buf, csm_precision prec, size_t offset,
                      const double *src, size_t count)
{
    if (count == 0)
        return CSM_OK;
    size_t es = csm_real_size(prec);
    void *tmp = (void *)src;
    if (prec == CSM_FLOAT32) {
        float *f = malloc(count * sizeof *f);
        if (!f)
            return csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory (%zu floats)", count);
        for (size_t i = 0; i < count; i++)
            f[i] = (float)src[i];
        tmp = f;
    }
    cl_int rc = clEnqueueWriteBuffer(ctx->queue, buf, CL_TRUE, offset * es, count * es, tmp, 0,
                                     NULL, NULL);
    if (tmp != (void *)src)
        free(tmp);
    return rc == CL_SUCCESS ? CSM_OK : csm_cl_fail(ctx, rc, "clEnqueueWriteBuffer");
}

csm_status csm_download(csm_context *ctx, double *dst, cl_mem buf, csm_precision prec,
                        size_t offset, size_t count)
{
    if (count == 0)
        return CSM_OK;
    size_t es = csm_real_size(prec);
    void *tmp = dst;
    if (prec == CSM_FLOAT32) {
        tmp = malloc(count * sizeof(float));
        if (!tmp)
            return csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory (%zu floats)", count);
    }
    cl_int rc = clEnqueueReadBuffer(ctx->queue, buf, CL_TRUE, offset * es, count * es, tmp, 0,
                                    NULL, NULL);
    if (rc == CL_SUCCESS && prec == CSM_FLOAT32) {
        const float *f = tmp;
        for (size_t i = count; i-- > 0;)
            dst[i] = (double)f[i];
    }
    if (tmp != (void *)dst)
        free(tmp);
    return rc == CL_SUCCESS ? CSM_OK : csm_cl_fail(ctx, rc, "clEnqueueReadBuffer");
}

csm_status csm_fill_zero(csm_context *ctx, cl_mem buf, size_t bytes)
{
    if (bytes == 0)
        return CSM_OK;
    const cl_uchar zero = 0;
    cl_int rc = clEnqueueFillBuffer(ctx->queue, buf, &zero, 1, 0, bytes, 0, NULL, NULL);
    return rc == CL_SUCCESS ? CSM_OK : csm_cl_fail(ctx, rc, "clEnqueueFillBuffer");
}

csm_status csm_view_at(csm_context *ctx, csm_view *v, cl_mem buf, size_t es, size_t off,
                       size_t count)
{
    *v = (csm_view){buf, off, NULL};
    if (off + count <= ctx->limits.max_offset)
        return CSM_OK;
    const size_t align = ctx->limits.base_align;
    cl_buffer_region region;
    region.origin = off * es / align * align;
    region.size = off * es + count * es - region.origin;
    cl_int rc;
    cl_mem sub = clCreateSubBuffer(buf, CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION, &region,
                                   &rc);
    if (rc != CL_SUCCESS)
        return csm_cl_fail(ctx, rc, "clCreateSubBuffer");
    *v = (csm_view){sub, (off * es - region.origin) / es, sub};
    return CSM_OK;
}

void csm_view_release(csm_view *v)
{
    csm_buffer_release(&v->sub);
}
