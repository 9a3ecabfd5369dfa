/* OpenCL platform/device enumeration, CLSOFTMAX_DEVICE selectors, and the
 * context (device + queue) lifecycle. */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "profile.h"

#include <clblast_c.h>

/* Contexts alive in this process. CLBlast keeps one process-wide cache of
 * compiled kernels for every OpenCL context, and CLBlastClearCache() can
 * only empty all of it: freeing one context while another trains would
 * make the other recompile its GEMMs (seconds on POCL). The cache goes
 * with the last context (until then a freed context's GEMM kernels, and
 * the OpenCL context they hold, stay cached: CLBlast offers no way to
 * drop one context's entries); the mutex keeps a creation from slipping
 * in between the count reaching zero and the clearing. */
static pthread_mutex_t contexts_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long contexts_alive;

typedef struct device_entry {
    cl_platform_id platform;
    cl_device_id device;
    csm_device_info info;
} device_entry;

static void copy_trimmed(char *dst, size_t cap, const char *src)
{
    while (*src && isspace((unsigned char)*src))
        src++;
    snprintf(dst, cap, "%s", src);
    size_t len = strlen(dst);
    while (len > 0 && isspace((unsigned char)dst[len - 1]))
        dst[--len] = '\0';
}

static void fill_info(device_entry *e, unsigned p, unsigned d, const char *platform_name)
{
    csm_device_info *info = &e->info;
    memset(info, 0, sizeof *info);
    info->struct_size = sizeof *info;
    info->platform_index = p;
    info->device_index = d;
    copy_trimmed(info->platform_name, sizeof info->platform_name, platform_name);
    char buf[1024] = "";
    if (clGetDeviceInfo(e->device, CL_DEVICE_NAME, sizeof buf - 1, buf, NULL) != CL_SUCCESS)
        strcpy(buf, "unknown");
    copy_trimmed(info->device_name, sizeof info->device_name, buf);
    buf[0] = '\0';
    if (clGetDeviceInfo(e->device, CL_DRIVER_VERSION, sizeof buf - 1, buf, NULL) != CL_SUCCESS)
        strcpy(buf, "unknown");
    copy_trimmed(info->driver_version, sizeof info->driver_version, buf);
    cl_device_type type = 0;
    clGetDeviceInfo(e->device, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    snprintf(info->device_type, sizeof info->device_type, "%s",
             (type & CL_DEVICE_TYPE_GPU)           ? "gpu"
             : (type & CL_DEVICE_TYPE_CPU)         ? "cpu"
             : (type & CL_DEVICE_TYPE_ACCELERATOR) ? "accelerator"
                                                   : "other");
    snprintf(info->selector, sizeof info->selector, "%u:%u", p, d);
    cl_device_fp_config fp64 = 0;
    if (clGetDeviceInfo(e->device, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof fp64, &fp64, NULL) ==
        CL_SUCCESS)
        info->has_fp64 = fp64 != 0;
    if (!info->has_fp64) {
        /* Some drivers report the extension but not the config (or vice versa). */
        char ext[8192] = "";
        if (clGetDeviceInfo(e->device, CL_DEVICE_EXTENSIONS, sizeof ext - 1, ext, NULL) ==
            CL_SUCCESS)
            info->has_fp64 = strstr(ext, "cl_khr_fp64") != NULL;
    }
    cl_uint cu = 0;
    clGetDeviceInfo(e->device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
    info->compute_units = cu;
    cl_ulong mem = 0;
    clGetDeviceInfo(e->device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem, NULL);
    info->global_mem_bytes = mem;
    mem = 0;
    clGetDeviceInfo(e->device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof mem, &mem, NULL);
    info->max_alloc_bytes = mem;
}

/* Every device of every platform, in (platform, device) index order. */
static csm_status enumerate(device_entry **out, size_t *count, char *err, size_t err_len)
{
    *out = NULL;
    *count = 0;
    cl_uint np = 0;
    cl_int rc = clGetPlatformIDs(0, NULL, &np);
    if (rc == -1001 /* CL_PLATFORM_NOT_FOUND_KHR: the ICD loader found no driver */ || np == 0) {
        csm_snprintf(err, err_len,
                     "no OpenCL platform found (is an ICD installed? on Debian: apt-get install "
                     "pocl-opencl-icd)");
        return CSM_ERR_NO_DEVICE;
    }
    if (rc != CL_SUCCESS) {
        csm_snprintf(err, err_len, "clGetPlatformIDs failed: %s (%d)", csm_cl_error_name(rc), rc);
        return CSM_ERR_OPENCL;
    }
    cl_platform_id *plats = calloc(np, sizeof *plats);
    if (!plats)
        return CSM_ERR_OUT_OF_MEMORY;
    rc = clGetPlatformIDs(np, plats, NULL);
    if (rc != CL_SUCCESS) {
        free(plats);
        csm_snprintf(err, err_len, "clGetPlatformIDs failed: %s (%d)", csm_cl_error_name(rc), rc);
        return CSM_ERR_OPENCL;
    }
    device_entry *list = NULL;
    size_t n = 0;
    for (cl_uint p = 0; p < np; p++) {
        char pname[256] = "";
        clGetPlatformInfo(plats[p], CL_PLATFORM_NAME, sizeof pname - 1, pname, NULL);
        cl_uint nd = 0;
        rc = clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd);
        if (rc == CL_DEVICE_NOT_FOUND || nd == 0)
            continue; /* a platform without devices is not an error */
        if (rc != CL_SUCCESS)
            continue;
        cl_device_id *devs = calloc(nd, sizeof *devs);
        device_entry *grown = realloc(list, (n + nd) * sizeof *list);
        if (!devs || !grown) {
            free(devs);
            free(grown ? grown : list);
            free(plats);
            return CSM_ERR_OUT_OF_MEMORY;
        }
        list = grown;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, nd, devs, NULL) == CL_SUCCESS) {
            for (cl_uint d = 0; d < nd; d++) {
                list[n].platform = plats[p];
                list[n].device = devs[d];
                fill_info(&list[n], p, d, pname);
                n++;
            }
        }
        free(devs);
    }
    free(plats);
    if (n == 0) {
        free(list);
        csm_snprintf(err, err_len, "OpenCL platforms exist but none has a device");
        return CSM_ERR_NO_DEVICE;
    }
    *out = list;
    *count = n;
    return CSM_OK;
}

csm_status csm_list_devices(csm_device_info *list, size_t capacity, size_t *count, char *err,
                            size_t err_len)
{
    if (!count)
        return CSM_ERR_NULL_ARGUMENT;
    /* The entries are written at our stride: an array laid out by another
     * header would be overrun. This is the first version with struct_size,
     * so there is no older size to accept yet. */
    if (list && capacity > 0 && list[0].struct_size != sizeof *list) {
        csm_snprintf(err, err_len,
                     "csm_list_devices: list[0].struct_size is %zu, but this library "
                     "(clsoftmax %s) knows only %zu, sizeof(csm_device_info) in its "
                     "clsoftmax.h: set list[0].struct_size = sizeof(csm_device_info), and build "
                     "against the clsoftmax.h of the library you link",
                     list[0].struct_size, csm_version(), sizeof *list);
        return CSM_ERR_INVALID_VALUE;
    }
    device_entry *all = NULL;
    size_t n = 0;
    csm_status st = enumerate(&all, &n, err, err_len);
    *count = n;
    if (st != CSM_OK)
        return st;
    for (size_t i = 0; list && i < n && i < capacity; i++)
        list[i] = all[i].info;
    free(all);
    return CSM_OK;
}

static int contains_nocase(const char *hay, const char *needle)
{
    size_t nl = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < nl && hay[i] &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == nl)
            return 1;
    }
    return nl == 0;
}

static int parse_index(const char *s, unsigned *out)
{
    if (!*s)
        return 0;
    unsigned long v = 0;
    for (const char *c = s; *c; c++) {
        if (!isdigit((unsigned char)*c))
            return 0;
        v = v * 10 + (unsigned long)(*c - '0');
        if (v > 1000000)
            return 0;
    }
    *out = (unsigned)v;
    return 1;
}

static int field_matches_platform(const char *field, const csm_device_info *info)
{
    unsigned idx;
    if (!*field)
        return 1;
    if (parse_index(field, &idx))
        return idx == info->platform_index;
    return contains_nocase(info->platform_name, field);
}

static int field_matches_device(const char *field, const csm_device_info *info)
{
    unsigned idx;
    if (!*field)
        return 1;
    if (parse_index(field, &idx))
        return idx == info->device_index;
    if (!strcasecmp(field, "cpu") || !strcasecmp(field, "gpu") ||
        !strcasecmp(field, "accelerator"))
        return !strcasecmp(field, info->device_type);
    return contains_nocase(info->device_name, field);
}

/* Appends "  P:D  platform / device (type)" lines for every device. */
static void describe_all(char *err, size_t err_len, const device_entry *all, size_t n)
{
    if (!err || err_len == 0)
        return; /* the caller wants the status only */
    size_t used = strlen(err);
    for (size_t i = 0; i < n && used + 1 < err_len; i++) {
        const csm_device_info *d = &all[i].info;
        int w = snprintf(err + used, err_len - used,
                         "\n  CLSOFTMAX_DEVICE=%s  (or a name part, e.g. '%.20s:%s')  %s / %s [%s]",
                         d->selector, d->platform_name, d->device_type, d->platform_name,
                         d->device_name, d->device_type);
        if (w < 0)
            break;
        used += (size_t)w;
        if (used >= err_len)
            used = err_len - 1;
    }
}

/* The device `selector` picks (NULL: the CLSOFTMAX_DEVICE of env). */
static csm_status select_entry(const device_entry *all, size_t n, const char *selector,
                               const csm_env *env, size_t *index, char *err, size_t err_len)
{
    const char *sel = selector;
    if (!sel)
        sel = env->device;
    if (!sel)
        sel = "";
    char plat[256], dev[256];
    const char *colon = strchr(sel, ':');
    size_t plen = colon ? (size_t)(colon - sel) : strlen(sel);
    if (plen >= sizeof plat || (colon && strlen(colon + 1) >= sizeof dev) ||
        (colon && strchr(colon + 1, ':'))) {
        csm_snprintf(err, err_len,
                     "malformed device selector '%s': expected PLATFORM[:DEVICE]; devices:", sel);
        describe_all(err, err_len, all, n);
        return CSM_ERR_DEVICE_NOT_FOUND;
    }
    memcpy(plat, sel, plen);
    plat[plen] = '\0';
    snprintf(dev, sizeof dev, "%s", colon ? colon + 1 : "");
    for (size_t i = 0; i < n; i++) {
        if (field_matches_platform(plat, &all[i].info) && field_matches_device(dev, &all[i].info)) {
            *index = i;
            return CSM_OK;
        }
    }
    csm_snprintf(err, err_len, "no OpenCL device matches %s'%s'; available devices:",
                 selector ? "selector " : "CLSOFTMAX_DEVICE=", sel);
    describe_all(err, err_len, all, n);
    return CSM_ERR_DEVICE_NOT_FOUND;
}

csm_status csm_select_device(const char *selector, size_t *index, char *err, size_t err_len)
{
    if (!index)
        return CSM_ERR_NULL_ARGUMENT;
    device_entry *all = NULL;
    size_t n = 0;
    csm_env env;
    csm_env_read(&env);
    csm_status st = enumerate(&all, &n, err, err_len);
    if (st == CSM_OK)
        st = select_entry(all, n, selector, &env, index, err, err_len);
    free(all);
    return st;
}

csm_status csm_context_create(csm_context **out, const char *selector, char *err, size_t err_len)
{
    if (err && err_len)
        err[0] = '\0';
    if (!out) {
        csm_snprintf(err, err_len, "csm_context_create: out is NULL");
        return CSM_ERR_NULL_ARGUMENT;
    }
    *out = NULL;
    /* the environment is read here once: a later setenv() (or another
     * thread's) cannot change a context half-way through a run */
    csm_env env;
    csm_env_read(&env);
    device_entry *all = NULL;
    size_t n = 0, idx = 0;
    csm_status st = enumerate(&all, &n, err, err_len);
    if (st == CSM_OK)
        st = select_entry(all, n, selector, &env, &idx, err, err_len);
    if (st != CSM_OK) {
        free(all);
        return st;
    }
    csm_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        free(all);
        csm_snprintf(err, err_len, "out of host memory");
        return CSM_ERR_OUT_OF_MEMORY;
    }
    ctx->platform = all[idx].platform;
    ctx->device = all[idx].device;
    ctx->info = all[idx].info;
    free(all);

    cl_int rc;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)ctx->platform,
                                     0};
    ctx->cl = clCreateContext(props, 1, &ctx->device, NULL, NULL, &rc);
    if (rc != CL_SUCCESS) {
        csm_snprintf(err, err_len, "clCreateContext on %s / %s failed: %s (%d)",
                     ctx->info.platform_name, ctx->info.device_name, csm_cl_error_name(rc), rc);
        free(ctx);
        return CSM_ERR_OPENCL;
    }
    cl_uint vw = 0;
    clGetDeviceInfo(ctx->device, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, sizeof vw, &vw, NULL);
    ctx->vec_float = vw;
    vw = 0;
    clGetDeviceInfo(ctx->device, CL_DEVICE_PREFERRED_VECTOR_WIDTH_DOUBLE, sizeof vw, &vw, NULL);
    ctx->vec_double = vw;
    ctx->queue = clCreateCommandQueue(ctx->cl, ctx->device, 0, &rc);
    if (rc != CL_SUCCESS) {
        csm_snprintf(err, err_len, "clCreateCommandQueue failed: %s (%d)", csm_cl_error_name(rc),
                     rc);
        clReleaseContext(ctx->cl);
        free(ctx);
        return CSM_ERR_OPENCL;
    }
    pthread_mutex_lock(&contexts_lock);
    contexts_alive++;
    pthread_mutex_unlock(&contexts_lock);
    csm_limits_init(ctx);
    ctx->slow_floor = CSM_SLOW_MIN_SECONDS;
    st = csm_options_init(ctx, &env);
    if (st != CSM_OK) {
        csm_snprintf(err, err_len, "%s", ctx->last_error ? ctx->last_error : "bad option");
        csm_context_free(ctx);
        return st;
    }
    *out = ctx;
    return CSM_OK;
}

void csm_context_free(csm_context *ctx)
{
    if (!ctx)
        return;
    if (ctx->queue)
        clFinish(ctx->queue);
    csm_profile_free(ctx);
    csm_programs_free(ctx);
    if (ctx->choices_free)
        ctx->choices_free(ctx);
    csm_options_free(&ctx->opt);
    pthread_mutex_lock(&contexts_lock);
    /* CLBlast's cache holds kernels of every context (see contexts_lock):
     * emptied with the last one, which also releases this context's */
    if (--contexts_alive == 0)
        CLBlastClearCache();
    pthread_mutex_unlock(&contexts_lock);
    if (ctx->queue)
        clReleaseCommandQueue(ctx->queue);
    if (ctx->xfer)
        clReleaseCommandQueue(ctx->xfer);
    if (ctx->cl)
        clReleaseContext(ctx->cl);
    free(ctx->last_error);
    free(ctx);
}

int csm_is_cpu(const csm_context *ctx) { return !strcmp(ctx->info.device_type, "cpu"); }

unsigned csm_vector_width(const csm_context *ctx, csm_precision prec)
{
    unsigned pref = prec == CSM_FLOAT64 ? ctx->vec_double : ctx->vec_float;
    return pref >= 16 ? 16 : pref >= 8 ? 8 : 4;
}

const csm_device_info *csm_context_device(const csm_context *ctx)
{
    return ctx ? &ctx->info : NULL;
}
