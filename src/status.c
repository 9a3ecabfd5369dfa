/* Names of the library's enums (status, solver, stop reason), the
 * per-context last-error text and the log callback. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

const char *csm_status_string(csm_status status)
{
    switch (status) {
    case CSM_OK: return "success";
    case CSM_ERR_NULL_ARGUMENT: return "null argument";
    case CSM_ERR_INVALID_SIZE: return "invalid size";
    case CSM_ERR_INVALID_VALUE: return "invalid value";
    case CSM_ERR_NONFINITE: return "non-finite value";
    case CSM_ERR_LABEL_RANGE: return "label out of range";
    case CSM_ERR_TARGETS: return "invalid targets";
    case CSM_ERR_NO_TARGETS: return "dataset has no targets";
    case CSM_ERR_MISMATCH: return "model and dataset mismatch";
    case CSM_ERR_NO_DEVICE: return "no OpenCL device";
    case CSM_ERR_DEVICE_NOT_FOUND: return "device not found";
    case CSM_ERR_NO_FP64: return "device lacks float64";
    case CSM_ERR_KERNEL_NOT_FOUND: return "kernel file not found";
    case CSM_ERR_KERNEL_BUILD: return "kernel build failed";
    case CSM_ERR_OPENCL: return "OpenCL error";
    case CSM_ERR_CLBLAST: return "CLBlast error";
    case CSM_ERR_OUT_OF_MEMORY: return "out of memory";
    case CSM_ERR_IO: return "I/O error";
    case CSM_ERR_FORMAT: return "malformed model file";
    case CSM_ERR_DISTRIBUTED: return "distributed training failed";
    }
    return "unknown status";
}

const char *csm_version(void) { return PACKAGE_VERSION; }

static const char *const solver_names[] = {"sgd", "momentum", "adam", "lbfgs", "newton"};
#define N_SOLVERS (sizeof solver_names / sizeof *solver_names)

const char *csm_solver_name(csm_solver solver)
{
    return (unsigned)solver < N_SOLVERS ? solver_names[solver] : NULL;
}

int csm_solver_from_name(const char *name)
{
    for (int i = 0; name && i < (int)N_SOLVERS; i++)
        if (!strcmp(name, solver_names[i]))
            return i;
    return -1;
}

const char *csm_stop_string(csm_stop stop)
{
    switch (stop) {
    case CSM_STOP_TOL: return "tolerance reached";
    case CSM_STOP_MAX_ITER: return "iteration limit reached";
    case CSM_STOP_CALLBACK: return "stopped by the callback";
    case CSM_STOP_LINE_SEARCH: return "line search failed";
    case CSM_STOP_PRECISION: return "objective no longer decreases at the device precision";
    }
    return "unknown stop reason";
}

char *csm_strdup(const char *s)
{
    size_t len = strlen(s) + 1;
    char *d = malloc(len);
    if (d)
        memcpy(d, s, len);
    return d;
}

void csm_snprintf(char *buf, size_t len, const char *fmt, ...)
{
    if (!buf || len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

csm_status csm_vfail(csm_context *ctx, csm_status status, const char *fmt, va_list ap)
{
    if (!ctx)
        return status;
    va_list copy;
    va_copy(copy, ap);
    int len = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (len < 0)
        return status;
    char *text = malloc((size_t)len + 1);
    if (!text)
        return status; /* keep the previous text rather than lose the status */
    vsnprintf(text, (size_t)len + 1, fmt, ap);
    free(ctx->last_error);
    ctx->last_error = text;
    return status;
}

csm_status csm_fail(csm_context *ctx, csm_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    csm_vfail(ctx, status, fmt, ap);
    va_end(ap);
    return status;
}

const char *csm_context_last_error(const csm_context *ctx)
{
    return ctx && ctx->last_error ? ctx->last_error : "";
}

void csm_context_set_log_callback(csm_context *ctx, csm_log_fn fn, void *user)
{
    if (!ctx)
        return;
    ctx->log_fn = fn;
    ctx->log_user = user;
}

void csm_log(csm_context *ctx, csm_log_level level, const char *fmt, ...)
{
    if (!ctx || !ctx->log_fn)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ctx->log_fn(level, msg, ctx->log_user);
}

const char *csm_cl_error_name(cl_int code)
{
    switch (code) {
#define CSM_CASE(x) case x: return #x;
    CSM_CASE(CL_SUCCESS)
    CSM_CASE(CL_DEVICE_NOT_FOUND)
    CSM_CASE(CL_DEVICE_NOT_AVAILABLE)
    CSM_CASE(CL_COMPILER_NOT_AVAILABLE)
    CSM_CASE(CL_MEM_OBJECT_ALLOCATION_FAILURE)
    CSM_CASE(CL_OUT_OF_RESOURCES)
    CSM_CASE(CL_OUT_OF_HOST_MEMORY)
    CSM_CASE(CL_PROFILING_INFO_NOT_AVAILABLE)
    CSM_CASE(CL_MEM_COPY_OVERLAP)
    CSM_CASE(CL_IMAGE_FORMAT_MISMATCH)
    CSM_CASE(CL_IMAGE_FORMAT_NOT_SUPPORTED)
    CSM_CASE(CL_BUILD_PROGRAM_FAILURE)
    CSM_CASE(CL_MAP_FAILURE)
    CSM_CASE(CL_MISALIGNED_SUB_BUFFER_OFFSET)
    CSM_CASE(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
    CSM_CASE(CL_COMPILE_PROGRAM_FAILURE)
    CSM_CASE(CL_LINKER_NOT_AVAILABLE)
    CSM_CASE(CL_LINK_PROGRAM_FAILURE)
    CSM_CASE(CL_DEVICE_PARTITION_FAILED)
    CSM_CASE(CL_KERNEL_ARG_INFO_NOT_AVAILABLE)
    CSM_CASE(CL_INVALID_VALUE)
    CSM_CASE(CL_INVALID_DEVICE_TYPE)
    CSM_CASE(CL_INVALID_PLATFORM)
    CSM_CASE(CL_INVALID_DEVICE)
    CSM_CASE(CL_INVALID_CONTEXT)
    CSM_CASE(CL_INVALID_QUEUE_PROPERTIES)
    CSM_CASE(CL_INVALID_COMMAND_QUEUE)
    CSM_CASE(CL_INVALID_HOST_PTR)
    CSM_CASE(CL_INVALID_MEM_OBJECT)
    CSM_CASE(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR)
    CSM_CASE(CL_INVALID_IMAGE_SIZE)
    CSM_CASE(CL_INVALID_SAMPLER)
    CSM_CASE(CL_INVALID_BINARY)
    CSM_CASE(CL_INVALID_BUILD_OPTIONS)
    CSM_CASE(CL_INVALID_PROGRAM)
    CSM_CASE(CL_INVALID_PROGRAM_EXECUTABLE)
    CSM_CASE(CL_INVALID_KERNEL_NAME)
    CSM_CASE(CL_INVALID_KERNEL_DEFINITION)
    CSM_CASE(CL_INVALID_KERNEL)
    CSM_CASE(CL_INVALID_ARG_INDEX)
    CSM_CASE(CL_INVALID_ARG_VALUE)
    CSM_CASE(CL_INVALID_ARG_SIZE)
    CSM_CASE(CL_INVALID_KERNEL_ARGS)
    CSM_CASE(CL_INVALID_WORK_DIMENSION)
    CSM_CASE(CL_INVALID_WORK_GROUP_SIZE)
    CSM_CASE(CL_INVALID_WORK_ITEM_SIZE)
    CSM_CASE(CL_INVALID_GLOBAL_OFFSET)
    CSM_CASE(CL_INVALID_EVENT_WAIT_LIST)
    CSM_CASE(CL_INVALID_EVENT)
    CSM_CASE(CL_INVALID_OPERATION)
    CSM_CASE(CL_INVALID_GL_OBJECT)
    CSM_CASE(CL_INVALID_BUFFER_SIZE)
    CSM_CASE(CL_INVALID_MIP_LEVEL)
    CSM_CASE(CL_INVALID_GLOBAL_WORK_SIZE)
    CSM_CASE(CL_INVALID_PROPERTY)
    CSM_CASE(CL_INVALID_IMAGE_DESCRIPTOR)
    CSM_CASE(CL_INVALID_COMPILER_OPTIONS)
    CSM_CASE(CL_INVALID_LINKER_OPTIONS)
    CSM_CASE(CL_INVALID_DEVICE_PARTITION_COUNT)
#undef CSM_CASE
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR";
    }
    return "unknown OpenCL error";
}

csm_status csm_cl_fail(csm_context *ctx, cl_int code, const char *what)
{
    csm_status st = (code == CL_MEM_OBJECT_ALLOCATION_FAILURE || code == CL_OUT_OF_HOST_MEMORY ||
                     code == CL_OUT_OF_RESOURCES || code == CL_INVALID_BUFFER_SIZE)
                        ? CSM_ERR_OUT_OF_MEMORY
                        : CSM_ERR_OPENCL;
    return csm_fail(ctx, st, "%s failed: %s (%d)", what, csm_cl_error_name(code), (int)code);
}
