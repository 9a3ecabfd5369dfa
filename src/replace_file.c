/* Replacing a file whole: readers see the old file or the new one, never a
 * part, and a process killed while writing leaves nothing behind.
 *
 * The bytes go to an unnamed file in the target's directory (O_TMPFILE,
 * Linux 3.11+, on file systems that support it), which disappears by
 * itself if the process dies; only once it is complete and synced is it
 * given a name (linkat through /proc/self/fd) and renamed over the target.
 * Where that is not possible (other systems, NFS, no /proc) the bytes go
 * to a named temporary, PATH.tmp.HOST.PID.XXXXXX; a kill leaves that one
 * behind, so every save first removes the temporaries of PATH whose
 * process is gone. The host in the name keeps a save from judging the
 * PIDs of another machine sharing the directory.
 *
 * No context here: the library (save_file.c, models) and the command
 * (src/cli/replace_file.c, the pictures of --plot) both call this and turn
 * the error text into their own kind of error. */
#if !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* O_TMPFILE; everything else here is POSIX */
#endif
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "replace_file.h"

/* Writes "printf text" into err (when there is one); returns `result`. */
#if defined(__GNUC__)
static csm_replace_result fail(char *err, size_t err_len, csm_replace_result result,
                               const char *fmt, ...) __attribute__((format(printf, 4, 5)));
#endif
static csm_replace_result fail(char *err, size_t err_len, csm_replace_result result,
                               const char *fmt, ...)
{
    if (err && err_len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return result;
}

/* Permissions for a new file: those of the file it replaces, else 0666
 * less the process umask (read from /proc, since umask() cannot be queried
 * without changing it, which would race with other threads). Returns 0
 * when unknown: the temporary's 0600 then stays. */
static mode_t target_mode(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
        return st.st_mode & 07777;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return 0;
    char line[256];
    mode_t mode = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned mask;
        if (sscanf(line, "Umask: %o", &mask) == 1) {
            mode = (mode_t)(0666 & ~mask);
            break;
        }
    }
    fclose(f);
    return mode;
}

char *csm_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    char *dir = malloc((size_t)(slash - path) + 1);
    if (dir) {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
    }
    return dir;
}

/* Best effort: makes the rename durable. Failure is not reported, since the
 * new file is already in place by then. */
static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return;
    (void)fsync(fd);
    close(fd);
}

/* This machine's name as it goes into temporary names: letters, digits and
 * '-' only (a '.' would make the name ambiguous to parse), at most 32. */
static void host_tag(char *out, size_t len)
{
    char host[256] = "";
    if (gethostname(host, sizeof host - 1) != 0 || !host[0])
        snprintf(host, sizeof host, "localhost");
    size_t o = 0;
    for (const char *c = host; *c && o + 1 < len && o < 32; c++) {
        char ch = *c;
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 ch == '-';
        out[o++] = ok ? ch : '_';
    }
    out[o] = '\0';
}

/* "PATH.tmp.HOST.PID." followed by six 'X' (mkstemp's template); NULL when
 * out of memory. */
static char *temp_template(const char *path)
{
    char host[40];
    host_tag(host, sizeof host);
    size_t len = strlen(path) + strlen(host) + 48;
    char *t = malloc(len);
    if (t)
        snprintf(t, len, "%s.tmp.%s.%ld.XXXXXX", path, host, (long)getpid());
    return t;
}

/* If `name` is a temporary of `base` made on this host, its PID; else 0. */
static long temp_owner(const char *name, const char *base, const char *host)
{
    size_t bl = strlen(base), hl = strlen(host);
    if (strncmp(name, base, bl) != 0 || strncmp(name + bl, ".tmp.", 5) != 0)
        return 0;
    const char *p = name + bl + 5;
    if (strncmp(p, host, hl) != 0 || p[hl] != '.')
        return 0;
    p += hl + 1;
    long pid = 0;
    const char *digits = p;
    while (*p >= '0' && *p <= '9' && p - digits < 10)
        pid = pid * 10 + (*p++ - '0');
    if (p == digits || *p != '.' || pid <= 0)
        return 0;
    p++;
    for (int i = 0; i < 6; i++, p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
            return 0;
    return *p == '\0' ? pid : 0;
}

/* Removes the temporaries of path in dir whose process no longer exists
 * (a save killed in the named-temporary fallback). Only regular files
 * whose whole name matches, made on this host by a PID that kill() says
 * is gone: a live process, even of another user (EPERM), keeps its file. */
static void remove_stale_temporaries(const char *dir, const char *path, csm_replace_log_fn log,
                                     void *log_user)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    char host[40];
    host_tag(host, sizeof host);
    DIR *dh = opendir(dir);
    if (!dh)
        return;
    int dfd = dirfd(dh);
    struct dirent *e;
    while ((e = readdir(dh)) != NULL) {
        long pid = temp_owner(e->d_name, base, host);
        if (pid <= 0 || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        struct stat sb;
        if (fstatat(dfd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode))
            continue;
        if (unlinkat(dfd, e->d_name, 0) == 0 && log) {
            char msg[1024];
            snprintf(msg, sizeof msg, "removed %s/%s, left by process %ld, which no longer exists",
                     dir, e->d_name, pid);
            log(msg, log_user);
        }
    }
    closedir(dh);
}

/* Writes all of buf to fd. Returns 0, or -1 with errno set (0: no progress). */
static int write_all(int fd, const unsigned char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = 0;
            return -1;
        }
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Sets the mode (unless 0), writes all of buf to fd and syncs it. Returns
 * NULL, or what failed with *err the errno value (0: no progress). */
static const char *fill(int fd, mode_t mode, const unsigned char *buf, size_t len, int *err)
{
    *err = 0;
    if (mode != 0 && fchmod(fd, mode) != 0) {
        *err = errno;
        return "cannot set the permissions of";
    }
    if (write_all(fd, buf, len) != 0) {
        *err = errno;
        return "cannot write";
    }
    if (fsync(fd) != 0) {
        *err = errno;
        return "cannot sync";
    }
    return NULL;
}

/* A pipe or device (/dev/stdout) gets the bytes directly: there is nothing
 * to replace whole, and no fsync (a pipe refuses it). */
static csm_replace_result write_in_place(char *err, size_t err_len, const char *path,
                                         const unsigned char *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    int e = 0;
    if (fd < 0 || write_all(fd, data, len) != 0)
        e = errno ? errno : EIO; /* 0: the device took no bytes */
    if (fd >= 0 && close(fd) != 0 && !e)
        e = errno;
    if (e)
        return fail(err, err_len, CSM_REPLACE_FAIL_IO, "%s: write error: %s", path, strerror(e));
    return CSM_REPLACE_OK;
}

/* Gives the unnamed file fd a name next to path: a fresh temporary name,
 * since linkat cannot replace the target. Returns the name, or NULL (errno
 * set) when it cannot be linked. */
static char *link_anonymous(int fd, const char *path)
{
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    char *name = temp_template(path);
    if (!name) {
        errno = ENOMEM;
        return NULL;
    }
    static const char alphabet[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    char *x = name + strlen(name) - 6;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t r = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull ^ (uint64_t)fd << 32;
    for (int attempt = 0; attempt < 100; attempt++) {
        for (int i = 0; i < 6; i++) {
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            x[i] = alphabet[(r >> 33) % (sizeof alphabet - 1)];
        }
        if (linkat(AT_FDCWD, proc, AT_FDCWD, name, AT_SYMLINK_FOLLOW) == 0)
            return name;
        if (errno != EEXIST)
            break;
    }
    int e = errno;
    free(name);
    errno = e;
    return NULL;
}

csm_replace_result csm_replace_file_raw(char *err, size_t err_len, const char *path,
                                        const void *data, size_t len, int flags,
                                        csm_replace_log_fn log, void *log_user)
{
    struct stat st;
    if ((flags & CSM_REPLACE_SPECIAL_IN_PLACE) && stat(path, &st) == 0 && !S_ISREG(st.st_mode) &&
        !S_ISDIR(st.st_mode))
        return write_in_place(err, err_len, path, data, len);
    char *dir = csm_parent_dir(path);
    if (!dir)
        return fail(err, err_len, CSM_REPLACE_FAIL_MEMORY, "%s: out of memory", path);
    remove_stale_temporaries(dir, path, log, log_user);
    mode_t mode = target_mode(path);
    char *tmp = NULL;
    const char *what = NULL;
    int e = 0;

#ifdef O_TMPFILE
    int fd = -1;
    if (!(flags & CSM_REPLACE_NO_TMPFILE))
        fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    if (fd >= 0) {
        what = fill(fd, mode, data, len, &e);
        if (!what)
            tmp = link_anonymous(fd, path); /* NULL (no /proc, ...): the named way below */
        if (close(fd) != 0 && !what) {
            e = errno;
            what = "cannot close";
        }
        if (what) {
            /* the bytes themselves failed: another way to name them will not help */
            fail(err, err_len, CSM_REPLACE_FAIL_IO, "%s: %s an unnamed temporary file in %s: %s",
                 path, what, dir, e ? strerror(e) : "short write");
            if (tmp)
                unlink(tmp);
            free(tmp);
            free(dir);
            return CSM_REPLACE_FAIL_IO;
        }
    }
#endif

    if (!tmp) {
        tmp = temp_template(path);
        if (!tmp) {
            free(dir);
            return fail(err, err_len, CSM_REPLACE_FAIL_MEMORY, "%s: out of memory", path);
        }
        int tfd = mkstemp(tmp);
        if (tfd < 0) {
            e = errno;
            fail(err, err_len, CSM_REPLACE_FAIL_IO, "%s: cannot create a temporary file %s: %s",
                 path, tmp, strerror(e));
            free(tmp);
            free(dir);
            return CSM_REPLACE_FAIL_IO;
        }
        what = fill(tfd, mode, data, len, &e);
        if (close(tfd) != 0 && !what) {
            e = errno;
            what = "cannot close";
        }
        if (what)
            goto failed;
    }
    if (rename(tmp, path) != 0) {
        e = errno;
        what = "cannot rename into place";
        goto failed;
    }
    free(tmp);
    sync_dir(dir);
    free(dir);
    return CSM_REPLACE_OK;

failed:
    unlink(tmp);
    fail(err, err_len, CSM_REPLACE_FAIL_IO, "%s: %s temporary file %s: %s", path, what, tmp,
         e ? strerror(e) : "short write");
    free(tmp);
    free(dir);
    return CSM_REPLACE_FAIL_IO;
}
