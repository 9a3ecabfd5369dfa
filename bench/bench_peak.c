/* Peak FMA throughput of the library context's device (see bench_peak.h).
 *
 * Each work-item runs CHAINS independent chains x = fma(x, a, b) on vectors
 * of VEC elements: enough independent FMAs in flight to cover the FMA
 * latency of every pipe (a 4-cycle FMA on 2 pipes needs 8), and few enough
 * vectors to stay in registers (12 x double16 is 24 AVX-512 registers of
 * 32). The lanes start from different values read from a buffer, so the
 * compiler cannot fold a vector of equal lanes into one scalar; a and b are
 * kernel arguments (a just below 1), so nothing is constant-folded and the
 * values stay normal. On CPU devices a work-group is one work-item (the
 * explicit vectors are the SIMD lanes) and there are 16 groups per compute
 * unit; elsewhere groups of 64 and 2048 work-items per compute unit. */
#define _POSIX_C_SOURCE 200809L
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_peak.h"

#define CHAINS BENCH_PEAK_CHAINS
#if CHAINS != 12
#error "peak_source below writes out 12 chains"
#endif

static const char peak_source[] =
    "#if DBL\n"
    "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n"
    "typedef double T;\n"
    "#define TNAME double\n"
    "#else\n"
    "typedef float T;\n"
    "#define TNAME float\n"
    "#endif\n"
    "#define CAT_(a, b) a##b\n"
    "#define CAT(a, b) CAT_(a, b)\n"
    "typedef CAT(TNAME, VEC) VT;\n"
    "#define LOAD(i) (CAT(vload, VEC)(i, init) + off)\n"
    "#define F(x) x = fma(x, va, vb)\n"
    "__kernel void fma_peak(__global T *out, __global const T *init, const T a, const T b,\n"
    "                       const int iters)\n"
    "{\n"
    "    const VT va = (VT)(a), vb = (VT)(b);\n"
    "    const VT off = (VT)((T)get_global_id(0) * (T)1e-7);\n"
    "    VT x0 = LOAD(0), x1 = LOAD(1), x2 = LOAD(2), x3 = LOAD(3), x4 = LOAD(4), x5 = LOAD(5);\n"
    "    VT x6 = LOAD(6), x7 = LOAD(7), x8 = LOAD(8), x9 = LOAD(9), x10 = LOAD(10), x11 = LOAD(11);\n"
    "    for (int i = 0; i < iters; i++) {\n"
    "        F(x0); F(x1); F(x2); F(x3); F(x4); F(x5);\n"
    "        F(x6); F(x7); F(x8); F(x9); F(x10); F(x11);\n"
    "    }\n"
    "    VT s = ((x0 + x1) + (x2 + x3)) + ((x4 + x5) + (x6 + x7)) + ((x8 + x9) + (x10 + x11));\n"
    "    CAT(vstore, VEC)(s, get_global_id(0), out);\n"
    "}\n";

static void set_err(char *err, size_t len, const char *fmt, ...)
{
    if (!err || !len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
}

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct peak_run {
    csm_context *ctx;
    cl_kernel kernel;
    size_t global, local;
} peak_run;

/* One launch of `iters` iterations; its wall time (enqueue to clFinish) in
 * *t. */
static cl_int launch(peak_run *p, cl_int iters, double *t)
{
    cl_int rc = clSetKernelArg(p->kernel, 4, sizeof iters, &iters);
    if (rc != CL_SUCCESS)
        return rc;
    double t0 = wall();
    rc = clEnqueueNDRangeKernel(p->ctx->queue, p->kernel, 1, NULL, &p->global,
                                p->local ? &p->local : NULL, 0, NULL, NULL);
    if (rc == CL_SUCCESS)
        rc = clFinish(p->ctx->queue);
    *t = wall() - t0;
    return rc;
}

static int measure_width(csm_context *ctx, int dbl, unsigned vec, size_t global, size_t local,
                         double target_s, int repeats, bench_peak_width *out, char *err,
                         size_t err_len)
{
    const size_t es = dbl ? sizeof(cl_double) : sizeof(cl_float);
    int rc = -1;
    cl_int cr;
    cl_program prog = NULL;
    cl_kernel kern = NULL;
    cl_mem out_buf = NULL, init_buf = NULL;
    void *init = calloc((size_t)CHAINS * vec, es);
    if (!init) {
        set_err(err, err_len, "out of host memory");
        return -1;
    }
    /* lane values 0.01 .. about 0.5, all different */
    for (size_t i = 0; i < (size_t)CHAINS * vec; i++) {
        double v = 0.01 + 0.49 * (double)i / (double)(CHAINS * vec);
        if (dbl)
            ((cl_double *)init)[i] = v;
        else
            ((cl_float *)init)[i] = (cl_float)v;
    }
    const char *src = peak_source;
    prog = clCreateProgramWithSource(ctx->cl, 1, &src, NULL, &cr);
    if (cr != CL_SUCCESS) {
        set_err(err, err_len, "clCreateProgramWithSource (peak kernel) failed (%d)", cr);
        goto out;
    }
    char opts[64];
    snprintf(opts, sizeof opts, "-DVEC=%u -DDBL=%d", vec, dbl);
    cr = clBuildProgram(prog, 1, &ctx->device, opts, NULL, NULL);
    if (cr != CL_SUCCESS) {
        char log[2048] = "";
        clGetProgramBuildInfo(prog, ctx->device, CL_PROGRAM_BUILD_LOG, sizeof log - 1, log,
                              NULL);
        set_err(err, err_len, "building the peak kernel (%s) failed (%d): %s", opts, cr, log);
        goto out;
    }
    kern = clCreateKernel(prog, "fma_peak", &cr);
    if (cr == CL_SUCCESS)
        out_buf = clCreateBuffer(ctx->cl, CL_MEM_WRITE_ONLY, global * vec * es, NULL, &cr);
    if (cr == CL_SUCCESS)
        init_buf = clCreateBuffer(ctx->cl, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                                  (size_t)CHAINS * vec * es, init, &cr);
    if (cr != CL_SUCCESS) {
        set_err(err, err_len, "setting up the peak kernel failed (%d)", cr);
        goto out;
    }
    cl_double ad = 0.999999, bd = 1e-7;
    cl_float af = (cl_float)ad, bf = (cl_float)bd;
    cr = clSetKernelArg(kern, 0, sizeof out_buf, &out_buf);
    if (cr == CL_SUCCESS) cr = clSetKernelArg(kern, 1, sizeof init_buf, &init_buf);
    if (cr == CL_SUCCESS) cr = dbl ? clSetKernelArg(kern, 2, sizeof ad, &ad) : clSetKernelArg(kern, 2, sizeof af, &af);
    if (cr == CL_SUCCESS) cr = dbl ? clSetKernelArg(kern, 3, sizeof bd, &bd) : clSetKernelArg(kern, 3, sizeof bf, &bf);
    if (cr != CL_SUCCESS) {
        set_err(err, err_len, "clSetKernelArg (peak kernel) failed (%d)", cr);
        goto out;
    }
    peak_run p = {ctx, kern, global, local};
    /* calibrate: grow the iteration count until a launch takes a quarter of
     * the target, then scale it to the target */
    cl_int iters = 64;
    double t = 0;
    /* the first launch may compile (POCL builds the work-group function on
     * first enqueue): untimed */
    cr = launch(&p, 1, &t);
    while (cr == CL_SUCCESS) {
        cr = launch(&p, iters, &t);
        if (cr != CL_SUCCESS)
            break;
        if (t >= target_s / 4 || iters > INT_MAX / 8)
            break;
        iters *= 4;
    }
    if (cr == CL_SUCCESS && t > 0) {
        double scaled = (double)iters * target_s / t;
        iters = scaled > INT_MAX / 2 ? INT_MAX / 2 : scaled < 1 ? 1 : (cl_int)scaled;
    }
    double best = 0;
    for (int r = 0; cr == CL_SUCCESS && r < repeats; r++) {
        cr = launch(&p, iters, &t);
        if (cr == CL_SUCCESS && (best == 0 || t < best))
            best = t;
    }
    if (cr != CL_SUCCESS) {
        set_err(err, err_len, "running the peak kernel failed (%d)", cr);
        goto out;
    }
    out->vec = vec;
    out->seconds = best;
    out->flops = 2.0 * (double)global * vec * CHAINS * (double)iters;
    out->gflops = out->flops / best * 1e-9;
    rc = 0;
out:
    if (out_buf) clReleaseMemObject(out_buf);
    if (init_buf) clReleaseMemObject(init_buf);
    if (kern) clReleaseKernel(kern);
    if (prog) clReleaseProgram(prog);
    free(init);
    return rc;
}

int bench_peak_measure(csm_context *ctx, int dbl, double target_s, int repeats, bench_peak *out,
                       char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    out->chains = CHAINS;
    out->repeats = repeats;
    out->preferred = dbl ? ctx->vec_double : ctx->vec_float;
    if (dbl && !ctx->info.has_fp64)
        return 0;
    out->supported = 1;
    const int cpu = !strcmp(ctx->info.device_type, "cpu");
    const size_t cu = ctx->info.compute_units ? ctx->info.compute_units : 1;
    out->local = cpu ? 1 : 64;
    out->global = cu * (cpu ? 16 : 2048);
    unsigned widths[BENCH_PEAK_MAX_WIDTHS] = {4, 8, 16, 0};
    int nw = 3;
    if (out->preferred >= 2 && out->preferred <= 16 && out->preferred != 4 &&
        out->preferred != 8 && out->preferred != 16)
        widths[nw++] = out->preferred;
    for (int i = 0; i < nw; i++) {
        if (measure_width(ctx, dbl, widths[i], out->global, out->local, target_s, repeats,
                          &out->width[i], err, err_len) != 0)
            return -1;
        out->n_widths = i + 1;
        if (out->width[i].gflops > out->gflops) {
            out->gflops = out->width[i].gflops;
            out->best_vec = widths[i];
        }
    }
    return 0;
}
