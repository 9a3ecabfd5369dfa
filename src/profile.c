/* Per-kernel device time from OpenCL profiling events (profile.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "profile.h"

/* Events held before they are read: past this many, they are read at the
 * next launch (which waits for them; only while profiling). */
#define MAX_PENDING 8192

typedef struct pending {
    const char *name;
    cl_event ev;
    size_t groups;
} pending;

typedef struct kernel_time {
    const char *name;
    unsigned long launches;
    size_t groups_min, groups_max;
    cl_ulong ns, ns_max;
} kernel_time;

struct csm_profile {
    pending *p;
    size_t np;
    kernel_time *k;
    size_t nk, kcap;
    int any;                    /* a command was read since the last report */
    cl_ulong first, last, idle; /* device span and the gaps inside it, ns */
};

static void release_pending(csm_profile *pr)
{
    for (size_t i = 0; i < pr->np; i++)
        clReleaseEvent(pr->p[i].ev);
    pr->np = 0;
}

static kernel_time *entry(csm_profile *pr, const char *name)
{
    for (size_t i = 0; i < pr->nk; i++)
        if (!strcmp(pr->k[i].name, name))
            return &pr->k[i];
    if (pr->nk == pr->kcap) {
        size_t cap = pr->kcap ? 2 * pr->kcap : 16;
        kernel_time *k = realloc(pr->k, cap * sizeof *k);
        if (!k)
            return NULL;
        pr->k = k;
        pr->kcap = cap;
    }
    kernel_time *e = &pr->k[pr->nk++];
    *e = (kernel_time){name, 0, (size_t)-1, 0, 0, 0};
    return e;
}

/* Reads the pending events (waiting for them) into the sums. The queue is
 * in order: a command starts after the one before it ends, and a start
 * later than that end is time the device sat idle. */
static void collect(csm_context *ctx)
{
    csm_profile *pr = ctx->prof;
    if (!pr->np)
        return;
    cl_event evs[64];
    for (size_t i = 0; i < pr->np; i += 64) {
        size_t m = pr->np - i < 64 ? pr->np - i : 64;
        for (size_t j = 0; j < m; j++)
            evs[j] = pr->p[i + j].ev;
        clWaitForEvents((cl_uint)m, evs);
    }
    for (size_t i = 0; i < pr->np; i++) {
        cl_ulong t0 = 0, t1 = 0;
        if (clGetEventProfilingInfo(pr->p[i].ev, CL_PROFILING_COMMAND_START, sizeof t0, &t0,
                                    NULL) != CL_SUCCESS ||
            clGetEventProfilingInfo(pr->p[i].ev, CL_PROFILING_COMMAND_END, sizeof t1, &t1,
                                    NULL) != CL_SUCCESS ||
            t1 < t0)
            continue;
        kernel_time *e = entry(pr, pr->p[i].name);
        if (!e)
            continue;
        e->launches++;
        e->ns += t1 - t0;
        if (t1 - t0 > e->ns_max)
            e->ns_max = t1 - t0;
        if (pr->p[i].groups < e->groups_min)
            e->groups_min = pr->p[i].groups;
        if (pr->p[i].groups > e->groups_max)
            e->groups_max = pr->p[i].groups;
        if (!pr->any) {
            pr->first = t0;
            pr->last = t1;
            pr->any = 1;
        } else {
            if (t0 > pr->last)
                pr->idle += t0 - pr->last;
            if (t1 > pr->last)
                pr->last = t1;
        }
    }
    release_pending(pr);
}

csm_status csm_profile_set(csm_context *ctx, int on)
{
    if (!on == !ctx->prof)
        return CSM_OK;
    cl_int rc;
    cl_command_queue q = clCreateCommandQueue(ctx->cl, ctx->device,
                                              on ? CL_QUEUE_PROFILING_ENABLE : 0, &rc);
    if (rc != CL_SUCCESS)
        return csm_fail(ctx, CSM_ERR_OPENCL, "clCreateCommandQueue%s failed: %s (%d)",
                        on ? " (with profiling)" : "", csm_cl_error_name(rc), rc);
    if (on && !(ctx->prof = calloc(1, sizeof *ctx->prof))) {
        clReleaseCommandQueue(q);
        return csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
    }
    if (on && !(ctx->prof->p = malloc(MAX_PENDING * sizeof *ctx->prof->p))) {
        free(ctx->prof);
        ctx->prof = NULL;
        clReleaseCommandQueue(q);
        return csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
    }
    if (!on)
        csm_profile_free(ctx);
    clFinish(ctx->queue);
    clReleaseCommandQueue(ctx->queue);
    ctx->queue = q;
    return CSM_OK;
}

void csm_profile_add(csm_context *ctx, const char *name, cl_event ev, size_t groups)
{
    csm_profile *pr = ctx->prof;
    if (!pr || !ev) {
        if (ev)
            clReleaseEvent(ev);
        return;
    }
    if (pr->np == MAX_PENDING)
        collect(ctx);
    pr->p[pr->np++] = (pending){name, ev, groups};
}

static int by_time(const void *a, const void *b)
{
    const kernel_time *x = a, *y = b;
    return x->ns < y->ns ? 1 : x->ns > y->ns ? -1 : strcmp(x->name, y->name);
}

void csm_profile_report(csm_context *ctx, const char *what, double wall)
{
    csm_profile *pr = ctx->prof;
    if (!pr)
        return;
    collect(ctx);
    if (!pr->any)
        return;
    cl_ulong busy = 0;
    unsigned long launches = 0;
    for (size_t i = 0; i < pr->nk; i++) {
        busy += pr->k[i].ns;
        launches += pr->k[i].launches;
    }
    const double ms = 1e-6, span = (double)(pr->last - pr->first) * ms;
    char head[96] = "";
    if (wall >= 0)
        csm_snprintf(head, sizeof head, "%.2f ms wall, host outside the span %.2f ms; ",
                     wall * 1e3, wall * 1e3 - span);
    csm_log(ctx, CSM_LOG_INFO,
            "profile of %s: %sdevice span %.2f ms: commands %.2f ms in %lu launches, idle "
            "between them %.2f ms",
            what, head, span, (double)busy * ms, launches, (double)pr->idle * ms);
    qsort(pr->k, pr->nk, sizeof *pr->k, by_time);
    for (size_t i = 0; i < pr->nk; i++) {
        const kernel_time *e = &pr->k[i];
        char groups[48];
        if (e->groups_max == 0)
            csm_snprintf(groups, sizeof groups, "-"); /* CLBlast's own launches */
        else if (e->groups_min == e->groups_max)
            csm_snprintf(groups, sizeof groups, "%zu", e->groups_max);
        else
            csm_snprintf(groups, sizeof groups, "%zu-%zu", e->groups_min, e->groups_max);
        csm_log(ctx, CSM_LOG_INFO,
                "profile of %s:   %-22s %5lu x %6s groups %9.2f ms %5.1f%%  mean %.3f ms  "
                "max %.3f ms",
                what, e->name, e->launches, groups, (double)e->ns * ms,
                busy ? 100.0 * (double)e->ns / (double)busy : 0.0,
                (double)e->ns * ms / (double)e->launches, (double)e->ns_max * ms);
    }
    pr->nk = 0;
    pr->any = 0;
    pr->idle = 0;
}

void csm_profile_free(csm_context *ctx)
{
    csm_profile *pr = ctx->prof;
    if (!pr)
        return;
    release_pending(pr);
    free(pr->p);
    free(pr->k);
    free(pr);
    ctx->prof = NULL;
}
