/* Built programs kept on disk, $CLSOFTMAX_CACHE_DIR/programs/HASH.bin, so
 * that a run loads the device binary of each kernel file instead of
 * building it from source. POCL keeps its own cache, but finds an entry
 * only after running Clang's preprocessor over the source and all of
 * OpenCL C's headers to hash it: 20 to 60 ms a program, most of a small
 * run's start-up (BENCHMARKS.md, "Start-up").
 *
 * A file holds the whole key (platform, device, driver, build options and
 * every source text), compared byte for byte: the file name is only a
 * hash of it, and a collision, an edited kernel or a driver update finds
 * a key that differs and builds from source again. Anything wrong with a
 * file (damaged, refused by the driver) costs that build, nothing more.
 * Asking POCL for a binary costs as much as the cold build again (it
 * compiles every kernel of the program for any group size: 7 s more on a
 * first iris run), so the first build of a program leaves only a mark, a
 * file with the key and no binary, and the binary is kept when a second
 * run builds the same program: a one-off run pays nothing, a repeated one
 * pays once. The directory is trusted by calibration_file.c's rule (ours, writable
 * by nobody else), since a planted binary would run as our code; files
 * are written whole by replace_file.c, and the least recently used go
 * past PROGRAMS_KEPT. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "calibration_file.h"
#include "program_cache.h"
#include "read_file.h"
#include "replace_file.h"

#define PROGRAM_DIR "programs"
#define MAGIC "clsoftmax-program 1\n"
/* a binary larger than this is not one of ours (POCL's are ~100 KB) */
#define PROGRAM_FILE_MAX ((size_t)64 << 20)
/* files kept: every variant a few shapes and precisions need, ~10 MB */
#define PROGRAMS_KEPT 256

/* The key: what the binary depends on. */
static char *make_key(const csm_context *ctx, const char *options, const char *const *srcs,
                      size_t n_srcs, size_t *len)
{
    size_t cap = 64 + strlen(ctx->info.platform_name) + strlen(ctx->info.device_name) +
                 strlen(ctx->info.driver_version) + strlen(options);
    for (size_t i = 0; i < n_srcs; i++)
        cap += strlen(srcs[i]) + 24;
    char *key = malloc(cap);
    if (!key)
        return NULL;
    size_t used = (size_t)snprintf(key, cap, "%s\n%s\n%s\n%s\n", ctx->info.platform_name,
                                   ctx->info.device_name, ctx->info.driver_version, options);
    for (size_t i = 0; i < n_srcs; i++)
        used += (size_t)snprintf(key + used, cap - used, "%zu\n%s", strlen(srcs[i]), srcs[i]);
    *len = used;
    return key;
}

/* FNV-1a: names the file; the key inside decides. */
static uint64_t fnv1a(const char *p, size_t n)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* The file for key, or 0 when there is no cache directory to use. */
static int file_for(const csm_context *ctx, const char *key, size_t key_len, char *path,
                    size_t len)
{
    if (!ctx->opt.cache_dir)
        return 0;
    int n = snprintf(path, len, "%s/" PROGRAM_DIR "/%016" PRIx64 ".bin", ctx->opt.cache_dir,
                     fnv1a(key, key_len));
    if (n <= 0 || (size_t)n >= len)
        return 0;
    /* both directories: a program file is code we will run */
    char dir[1024];
    char parent[1100];
    snprintf(parent, sizeof parent, "%s/" PROGRAM_DIR, ctx->opt.cache_dir);
    return !csm_cache_dir_problem(path, dir, sizeof dir) &&
           !csm_cache_dir_problem(parent, dir, sizeof dir);
}

cl_program csm_program_cache_load(csm_context *ctx, const char *options, const char *const *srcs,
                                  size_t n_srcs, int *seen)
{
    *seen = 0;
    size_t key_len = 0;
    char *key = make_key(ctx, options, srcs, n_srcs, &key_len);
    char path[1400];
    if (!key || !file_for(ctx, key, key_len, path, sizeof path)) {
        free(key);
        return NULL;
    }
    char *data = NULL, why[1200];
    size_t len = 0;
    cl_program prog = NULL;
    int rc = csm_read_regular(path, "program cache", PROGRAM_FILE_MAX, &data, &len, why,
                              sizeof why);
    size_t ml = strlen(MAGIC), stored_key = 0, bin_len = 0;
    long by = 0;
    int head = 0;
    if (rc == CSM_FILE_OK && len > ml && !memcmp(data, MAGIC, ml) &&
        sscanf(data + ml, "%zu %zu %ld\n%n", &stored_key, &bin_len, &by, &head) == 3 &&
        head > 0) {
        size_t at = ml + (size_t)head;
        /* a mark (no binary) says an earlier run built this program; one
         * of this process (a second context) does not count */
        *seen = stored_key == key_len && bin_len < len && at + key_len + bin_len == len &&
                !memcmp(data + at, key, key_len) && (bin_len > 0 || by != (long)getpid());
        if (*seen && bin_len > 0) {
            const unsigned char *bin = (const unsigned char *)data + at + key_len;
            cl_int status = CL_SUCCESS, err = CL_SUCCESS;
            prog = clCreateProgramWithBinary(ctx->cl, 1, &ctx->device, &bin_len, &bin, &status,
                                             &err);
            if (err != CL_SUCCESS || status != CL_SUCCESS) {
                if (prog)
                    clReleaseProgram(prog);
                prog = NULL;
            } else if (clBuildProgram(prog, 1, &ctx->device, options, NULL, NULL) != CL_SUCCESS) {
                clReleaseProgram(prog);
                prog = NULL;
            }
            if (!prog)
                csm_log(ctx, CSM_LOG_DEBUG, "program cache: %s refused by the driver", path);
        }
    } else if (rc == CSM_FILE_FAIL) {
        csm_log(ctx, CSM_LOG_DEBUG, "program cache: %s", why);
    }
    if (prog) /* recently used: the last to be pruned */
        utimensat(AT_FDCWD, path, NULL, 0);
    free(data);
    free(key);
    return prog;
}

typedef struct aged_file {
    char name[64];
    time_t at;
} aged_file;

static int oldest_first(const void *a, const void *b)
{
    const aged_file *x = a, *y = b;
    return x->at < y->at ? -1 : x->at > y->at ? 1 : strcmp(x->name, y->name);
}

/* Removes the least recently used .bin files beyond PROGRAMS_KEPT. */
static void prune(const char *dir)
{
    DIR *dh = opendir(dir);
    if (!dh)
        return;
    aged_file *all = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(dh))) {
        size_t nl = strlen(de->d_name);
        if (nl < 5 || nl >= sizeof all->name || strcmp(de->d_name + nl - 4, ".bin"))
            continue;
        struct stat st;
        if (fstatat(dirfd(dh), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode))
            continue;
        if (n == cap) {
            aged_file *grown = realloc(all, (cap = cap ? 2 * cap : 64) * sizeof *all);
            if (!grown)
                break;
            all = grown;
        }
        memcpy(all[n].name, de->d_name, nl + 1); /* nl < sizeof name: checked above */
        all[n].at = st.st_mtime;
        n++;
    }
    if (n > PROGRAMS_KEPT) {
        qsort(all, n, sizeof *all, oldest_first);
        for (size_t i = 0; i < n - PROGRAMS_KEPT; i++)
            unlinkat(dirfd(dh), all[i].name, 0);
    }
    free(all);
    closedir(dh);
}

void csm_program_cache_store(csm_context *ctx, cl_program prog, const char *options,
                             const char *const *srcs, size_t n_srcs, int seen)
{
    size_t key_len = 0, bin_len = 0;
    char *key = make_key(ctx, options, srcs, n_srcs, &key_len);
    char path[1400];
    if (!key || !file_for(ctx, key, key_len, path, sizeof path) ||
        (seen && (clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof bin_len, &bin_len,
                                   NULL) != CL_SUCCESS ||
                  bin_len == 0 || bin_len > PROGRAM_FILE_MAX))) {
        free(key);
        return;
    }
    char head[64];
    int hl = snprintf(head, sizeof head, MAGIC "%zu %zu %ld\n", key_len, bin_len, (long)getpid());
    size_t total = (size_t)hl + key_len + bin_len;
    char *data = malloc(total);
    unsigned char *bin = data ? (unsigned char *)data + hl + key_len : NULL;
    char err[CSM_REPLACE_ERR_LEN] = "out of memory";
    int ok = data != NULL;
    if (ok) {
        memcpy(data, head, (size_t)hl);
        memcpy(data + hl, key, key_len);
        if (seen && clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) !=
                        CL_SUCCESS) {
            snprintf(err, sizeof err, "the driver gave no binary");
            ok = 0;
        }
    }
    if (ok && csm_cache_make_dirs(path) != 0) {
        snprintf(err, sizeof err, "cannot make its directory: %s", strerror(errno));
        ok = 0;
    }
    /* a cache that cannot be written costs a build next time, nothing more */
    if (ok && csm_replace_file_raw(err, sizeof err, path, data, total, 0, NULL, NULL) !=
                  CSM_REPLACE_OK)
        ok = 0;
    if (!ok) {
        csm_log(ctx, CSM_LOG_DEBUG, "program cache: could not write %s: %s", path, err);
    } else {
        char *slash = strrchr(path, '/');
        *slash = '\0';
        prune(path);
    }
    free(data);
    free(key);
}
