/* Finds the .cl files, builds them for a precision and the tuning knobs
 * a caller gives as -D defines (sizes are kernel arguments), and caches
 * programs and kernels per context: a program is built on its first use. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "program_cache.h"
#include "read_file.h"

/* A kernel source larger than this is not one of ours (they are tens of
 * KB): a bound on what a wrong CLSOFTMAX_KERNEL_DIR can make us read. */
#define CSM_KERNEL_SOURCE_MAX ((size_t)1 << 20)

#ifndef CLSOFTMAX_KERNEL_DIR_DEFAULT
#define CLSOFTMAX_KERNEL_DIR_DEFAULT "kernels"
#endif

typedef struct kernel_entry {
    char *name;
    cl_kernel kernel;
    struct kernel_entry *next;
} kernel_entry;

/* Cached per program; kept beside csm_program so internal.h stays small. */
typedef struct program_cache {
    csm_program base;
    kernel_entry *kernels;
} program_cache;

/* Loads `file` from the first directory that has it; on failure the error
 * names every path tried. */
static csm_status load_source(csm_context *ctx, const char *file, char **out)
{
    /* The "kernel_dir" option (CLSOFTMAX_KERNEL_DIR) replaces the search;
     * otherwise the installed directory, then this build's source tree, so
     * a built but not yet installed clsoftmax runs from its build
     * directory. */
    const char *dirs[2];
    size_t nd = 0;
    if (ctx->opt.kernel_dir) {
        dirs[nd++] = ctx->opt.kernel_dir;
    } else {
        dirs[nd++] = CLSOFTMAX_KERNEL_DIR_DEFAULT;
#ifdef CLSOFTMAX_KERNEL_DIR_SOURCE
        dirs[nd++] = CLSOFTMAX_KERNEL_DIR_SOURCE;
#endif
    }
    char tried[2048] = "";
    size_t used = 0;
    for (size_t i = 0; i < nd; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dirs[i], file);
        char *src = NULL, why[1024];
        size_t len;
        int rc = csm_read_regular(path, "kernel source", CSM_KERNEL_SOURCE_MAX, &src, &len, why,
                                  sizeof why);
        if (rc == CSM_FILE_OK) {
            *out = src;
            return CSM_OK;
        }
        if (rc != CSM_FILE_MISSING) /* there but unusable: not another directory's */
            return csm_fail(ctx, rc == CSM_FILE_NOMEM ? CSM_ERR_OUT_OF_MEMORY : CSM_ERR_IO, "%s",
                            why);
        int w = snprintf(tried + used, sizeof tried - used, "\n  %s (%s)", path, strerror(ENOENT));
        if (w > 0 && (size_t)w < sizeof tried - used)
            used += (size_t)w;
    }
    return csm_fail(ctx, CSM_ERR_KERNEL_NOT_FOUND,
                    "kernel file %s not found; tried:%s\n(set CLSOFTMAX_KERNEL_DIR, or the "
                    "kernel_dir option, to the directory holding the .cl files)",
                    file, tried);
}

/* *cached: 1 when the binary kept by an earlier run was loaded */
static csm_status build_program(csm_context *ctx, const char *file, const char *options,
                                const char *ours, cl_program *out, int *cached)
{
    /* the flags the host shares, the kernel library, the file */
    const char *files[3] = {"csm_kernel_flags.h", "common.cl", file};
    char *srcs[3] = {NULL, NULL, NULL};
    csm_status st = CSM_OK;
    for (size_t i = 0; i < 3 && st == CSM_OK; i++)
        st = load_source(ctx, files[i], &srcs[i]);
    cl_int rc = CL_SUCCESS;
    cl_program prog = NULL;
    if (st == CSM_OK)
        st = csm_cl_options_check(ctx, ctx->opt.cl_options, ours, (const char *const *)srcs, 3);
    *cached = 0;
    int seen = 0;
    if (st == CSM_OK) {
        prog = csm_program_cache_load(ctx, options, (const char *const *)srcs, 3, &seen);
        *cached = prog != NULL;
    }
    if (st == CSM_OK && !prog)
        prog = clCreateProgramWithSource(ctx->cl, 3, (const char **)srcs, NULL, &rc);
    if (st != CSM_OK || *cached) {
        for (size_t i = 0; i < 3; i++)
            free(srcs[i]);
        *out = prog;
        return st;
    }
    if (rc != CL_SUCCESS) {
        for (size_t i = 0; i < 3; i++)
            free(srcs[i]);
        return csm_cl_fail(ctx, rc, "clCreateProgramWithSource");
    }
    rc = clBuildProgram(prog, 1, &ctx->device, options, NULL, NULL);
    if (rc != CL_SUCCESS) {
        size_t log_len = 0;
        clGetProgramBuildInfo(prog, ctx->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &log_len);
        char *log = malloc(log_len + 1);
        if (log) {
            log[0] = '\0';
            clGetProgramBuildInfo(prog, ctx->device, CL_PROGRAM_BUILD_LOG, log_len, log, NULL);
            log[log_len] = '\0';
        }
        st = csm_fail(ctx, CSM_ERR_KERNEL_BUILD,
                      "building %s (options: %s) on %s failed: %s (%d); build log:\n%s", file,
                      options, ctx->info.device_name, csm_cl_error_name(rc), rc,
                      log ? log : "(no memory for the log)");
        free(log);
        clReleaseProgram(prog);
    } else {
        csm_program_cache_store(ctx, prog, options, (const char *const *)srcs, 3, seen);
        *out = prog;
    }
    for (size_t i = 0; i < 3; i++)
        free(srcs[i]);
    return st;
}

csm_status csm_get_kernel(csm_context *ctx, cl_kernel *out, const char *file, const char *name,
                          csm_precision prec, const char *extra)
{
    if (prec == CSM_FLOAT64 && !ctx->info.has_fp64)
        return csm_fail(ctx, CSM_ERR_NO_FP64, "device %s has no cl_khr_fp64; use float32",
                        ctx->info.device_name);
    /* The "cl_options" option (CLSOFTMAX_CL_OPTIONS) adds compiler options
     * to every build, e.g. "-cl-opt-disable -cl-std=CL1.2" to check that the
     * kernels stay portable. */
    const char *more = ctx->opt.cl_options;
    char ours[768], options[1024]; /* ours: the options without cl_options */
    snprintf(ours, sizeof ours, "-DREAL=%s -DCSM_FP64=%d%s%s",
             prec == CSM_FLOAT64 ? "double" : "float", prec == CSM_FLOAT64, extra ? " " : "",
             extra ? extra : "");
    snprintf(options, sizeof options, "%s%s%s", ours, more && *more ? " " : "",
             more && *more ? more : "");
    char key[1300];
    snprintf(key, sizeof key, "%s %s", file, options);

    program_cache *pc = NULL;
    for (csm_program *p = ctx->programs; p; p = p->next)
        if (!strcmp(p->key, key)) {
            pc = (program_cache *)p;
            break;
        }
    if (!pc) {
        cl_program prog = NULL;
        int cached = 0;
        csm_status st = build_program(ctx, file, options, ours, &prog, &cached);
        if (st != CSM_OK)
            return st;
        pc = calloc(1, sizeof *pc);
        char *kcopy = csm_strdup(key);
        if (!pc || !kcopy) {
            free(pc);
            free(kcopy);
            clReleaseProgram(prog);
            return csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
        }
        pc->base.key = kcopy;
        pc->base.program = prog;
        pc->base.next = ctx->programs;
        ctx->programs = &pc->base;
        csm_log(ctx, CSM_LOG_DEBUG, "built %s%s", key, cached ? " (kept binary)" : "");
    }
    for (kernel_entry *e = pc->kernels; e; e = e->next)
        if (!strcmp(e->name, name)) {
            *out = e->kernel;
            return CSM_OK;
        }
    cl_int rc;
    cl_kernel kern = clCreateKernel(pc->base.program, name, &rc);
    if (rc != CL_SUCCESS)
        return csm_fail(ctx, CSM_ERR_OPENCL, "clCreateKernel(%s) from %s failed: %s (%d)", name,
                        file, csm_cl_error_name(rc), rc);
    kernel_entry *e = calloc(1, sizeof *e);
    char *ncopy = csm_strdup(name);
    if (!e || !ncopy) {
        free(e);
        free(ncopy);
        clReleaseKernel(kern);
        return csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
    }
    e->name = ncopy;
    e->kernel = kern;
    e->next = pc->kernels;
    pc->kernels = e;
    *out = kern;
    return CSM_OK;
}

void csm_programs_free(csm_context *ctx)
{
    csm_program *p = ctx->programs;
    while (p) {
        program_cache *pc = (program_cache *)p;
        kernel_entry *e = pc->kernels;
        while (e) {
            kernel_entry *next = e->next;
            clReleaseKernel(e->kernel);
            free(e->name);
            free(e);
            e = next;
        }
        csm_program *next = p->next;
        clReleaseProgram(p->program);
        free(p->key);
        free(p);
        p = next;
    }
    ctx->programs = NULL;
}
