/* Writing an output file safely: readers see the old file or the new one,
 * never a part, a process killed while writing leaves nothing behind, and
 * nothing but a regular file is ever replaced.
 *
 * The bytes go to an unnamed file in the target's directory (O_TMPFILE,
 * Linux 3.11+, on file systems that support it), which disappears by
 * itself if the process dies; only once it is complete and synced is it
 * given a name (linkat through /proc/self/fd) and renamed over the target.
 * Where that is not possible (other systems, NFS, no /proc) the bytes go
 * to a named temporary, PATH.tmp.HOST.PID.XXXXXX, created with O_EXCL and
 * O_NOFOLLOW (never a file or link someone else put there); a kill leaves
 * that one behind, so every save first removes the temporaries of PATH
 * whose process is gone. The host in the name keeps a save from judging
 * the PIDs of another machine sharing the directory.
 *
 * A path that exists and is not a regular file is never replaced: renamed
 * over, a device node or a pipe would become a regular file (as root,
 * /dev/null). Pipes and character devices are written through when the
 * caller allows it (predictions to - or /dev/stdout), everything else is
 * refused.
 *
 * No context here: the library (save_file.c: models, the calibration
 * cache) and the command (src/cli/outputs.c) both call this and turn the
 * error text into their own kind of error. */
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

/* Six random characters into x (the XXXXXX of a template), from *r. */
static void random_suffix(char *x, uint64_t *r)
{
    static const char alphabet[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    for (int i = 0; i < 6; i++) {
        *r = *r * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = alphabet[(*r >> 33) % (sizeof alphabet - 1)];
    }
}

static uint64_t random_seed(int salt)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ((uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)(unsigned)salt << 32) ^
           (uint64_t)getpid();
}

/* Tries names of temp_template(path) until `attempt` succeeds on one (0)
 * or fails otherwise than EEXIST. Returns the name, or NULL (errno set). */
static char *fresh_name(const char *path, int salt, int (*attempt)(const char *name, void *user),
                        void *user)
{
    char *name = temp_template(path);
    if (!name) {
        errno = ENOMEM;
        return NULL;
    }
    char *x = name + strlen(name) - 6;
    uint64_t r = random_seed(salt);
    for (int i = 0; i < 100; i++) {
        random_suffix(x, &r);
        if (attempt(name, user) == 0)
            return name;
        if (errno != EEXIST)
            break;
    }
    int e = errno;
    free(name);
    errno = e;
    return NULL;
}

static int link_attempt(const char *name, void *proc)
{
    return linkat(AT_FDCWD, (const char *)proc, AT_FDCWD, name, AT_SYMLINK_FOLLOW);
}

/* Gives the unnamed file fd a name next to path: a fresh temporary name,
 * since linkat cannot replace the target. Returns the name, or NULL (errno
 * set) when it cannot be linked. */
static char *link_anonymous(int fd, const char *path)
{
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    return fresh_name(path, fd, link_attempt, proc);
}

/* A new file of that name, created by this call (O_EXCL): never a file
 * or link someone else put there (O_NOFOLLOW), 0600 until it is filled. */
static int create_attempt(const char *name, void *fd)
{
    int f = open(name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    *(int *)fd = f;
    return f >= 0 ? 0 : -1;
}

/* "a character device" etc. for what st is */
static const char *kind_of(const struct stat *st)
{
    if (S_ISDIR(st->st_mode))
        return "a directory";
    if (S_ISCHR(st->st_mode))
        return "a character device";
    if (S_ISBLK(st->st_mode))
        return "a block device";
    if (S_ISFIFO(st->st_mode))
        return "a named pipe (FIFO)";
    if (S_ISSOCK(st->st_mode))
        return "a socket";
    return "not a regular file";
}

/* How path is to be written: replaced whole (0), written through in
 * place (1: a pipe or character device the caller allows), or refused
 * (-1, err written). Whatever exists there and is not a regular file is
 * refused otherwise: renaming over it would put a file where a device,
 * a pipe or a socket was (as root, /dev/null), and writing into a block
 * device or a directory is never what an output means. */
static int target_way(char *err, size_t err_len, const char *path, int flags)
{
    struct stat st;
    if (!*path) {
        fail(err, err_len, CSM_REPLACE_FAIL_IO, "an empty file name is not a place to write to");
        return -1;
    }
    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        fail(err, err_len, CSM_REPLACE_FAIL_IO, "%s: cannot write there: %s", path,
             strerror(errno));
        return -1;
    }
    if (S_ISREG(st.st_mode))
        return 0;
    if ((flags & CSM_REPLACE_SPECIAL_IN_PLACE) && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)))
        return 1;
    if (S_ISDIR(st.st_mode))
        fail(err, err_len, CSM_REPLACE_FAIL_IO, "%s: is a directory, not a file to write", path);
    else if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))
        fail(err, err_len, CSM_REPLACE_FAIL_IO,
             "%s: is %s, not a regular file: refusing to replace it with one (write the file "
             "elsewhere)",
             path, kind_of(&st));
    else
        fail(err, err_len, CSM_REPLACE_FAIL_IO,
             "%s: is %s, not a regular file: refusing to write to it", path, kind_of(&st));
    return -1;
}

/* The directory that will hold path's temporary, checked: it exists and
 * is a directory (the error says which). */
static int check_dir(char *err, size_t err_len, const char *path, const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        int e = errno;
        fail(err, err_len, CSM_REPLACE_FAIL_IO, "%s: cannot write there: %s %s: %s", path,
             e == ENOENT ? "no directory" : "directory", dir, strerror(e));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        fail(err, err_len, CSM_REPLACE_FAIL_IO, "%s: cannot write there: %s is not a directory",
             path, dir);
        return -1;
    }
    return 0;
}

void csm_output_discard(csm_output *o)
{
    if (o->fd >= 0)
        close(o->fd);
    if (o->tmp)
        unlink(o->tmp);
    free(o->tmp);
    free(o->dir);
    free(o->path);
    memset(o, 0, sizeof *o);
    o->fd = -1;
}

csm_replace_result csm_output_open(csm_output *o, char *err, size_t err_len, const char *path,
                                   int flags, csm_replace_log_fn log, void *log_user)
{
    memset(o, 0, sizeof *o);
    o->fd = -1;
    int way = target_way(err, err_len, path, flags);
    if (way < 0)
        return CSM_REPLACE_FAIL_IO;
    o->path = strdup(path);
    if (!o->path)
        return fail(err, err_len, CSM_REPLACE_FAIL_MEMORY, "%s: out of memory", path);
    if (way == 1) {
        /* a pipe or a device gets the bytes directly: there is nothing to
         * replace whole, and no fsync (a pipe refuses it) */
        o->in_place = 1;
        o->fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
        if (o->fd < 0) {
            int e = errno;
            csm_output_discard(o);
            return fail(err, err_len, CSM_REPLACE_FAIL_IO, "%s: cannot write: %s", path,
                        strerror(e));
        }
        return CSM_REPLACE_OK;
    }
    o->dir = csm_parent_dir(path);
    if (!o->dir) {
        csm_output_discard(o);
        return fail(err, err_len, CSM_REPLACE_FAIL_MEMORY, "%s: out of memory", path);
    }
    if (check_dir(err, err_len, path, o->dir) != 0) {
        csm_output_discard(o);
        return CSM_REPLACE_FAIL_IO;
    }
    remove_stale_temporaries(o->dir, path, log, log_user);
    mode_t mode = target_mode(path);
#ifdef O_TMPFILE
    /* the unnamed file is named at the end through /proc/self/fd: without
     * /proc it could never be, so the named way from the start */
    if (!(flags & CSM_REPLACE_NO_TMPFILE) && access("/proc/self/fd", X_OK) == 0)
        o->fd = open(o->dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
#endif
    if (o->fd < 0) {
        /* no O_TMPFILE here (other systems, NFS, old kernels): a named one */
        o->tmp = fresh_name(path, 0, create_attempt, &o->fd);
        if (!o->tmp) {
            int e = errno;
            char *t = temp_template(path);
            fail(err, err_len, CSM_REPLACE_FAIL_IO, "%s: cannot create a temporary file %s: %s",
                 path, t ? t : "", strerror(e));
            free(t);
            csm_output_discard(o);
            return CSM_REPLACE_FAIL_IO;
        }
    }
    if (mode != 0 && fchmod(o->fd, mode) != 0) {
        int e = errno;
        csm_output_discard(o);
        return fail(err, err_len, CSM_REPLACE_FAIL_IO,
                    "%s: cannot set the permissions of a temporary file in %s: %s", path, o->dir,
                    strerror(e));
    }
    return CSM_REPLACE_OK;
}

csm_replace_result csm_output_write(csm_output *o, char *err, size_t err_len, const void *data,
                                    size_t len)
{
    if (write_all(o->fd, data, len) == 0)
        return CSM_REPLACE_OK;
    int e = errno;
    if (o->in_place)
        return fail(err, err_len, CSM_REPLACE_FAIL_IO, "%s: write error: %s", o->path,
                    e ? strerror(e) : "the device took no bytes");
    return fail(err, err_len, CSM_REPLACE_FAIL_IO, "%s: cannot write a temporary file in %s: %s",
                o->path, o->dir, e ? strerror(e) : "short write");
}

csm_replace_result csm_output_commit(csm_output *o, char *err, size_t err_len)
{
    csm_replace_result rc = CSM_REPLACE_OK;
    if (o->in_place) {
        if (close(o->fd) != 0)
            rc = fail(err, err_len, CSM_REPLACE_FAIL_IO, "%s: write error: %s", o->path,
                      strerror(errno));
        o->fd = -1;
        csm_output_discard(o);
        return rc;
    }
    const char *what = NULL;
    int e = 0;
    if (fsync(o->fd) != 0) {
        e = errno;
        what = "cannot sync";
    }
    if (!what && !o->tmp) {
        /* the unnamed file gets a name; NULL (no /proc, ...): its bytes go
         * to a named temporary instead, the way without O_TMPFILE */
        o->tmp = link_anonymous(o->fd, o->path);
        if (!o->tmp) {
            e = errno;
            what = "cannot name";
        }
    }
    if (close(o->fd) != 0 && !what) {
        e = errno;
        what = "cannot close";
    }
    o->fd = -1;
    if (!what && rename(o->tmp, o->path) != 0) {
        e = errno;
        what = "cannot rename into place";
    }
    if (what) {
        if (o->tmp)
            rc = fail(err, err_len, CSM_REPLACE_FAIL_IO, "%s: %s temporary file %s: %s", o->path,
                      what, o->tmp, e ? strerror(e) : "short write");
        else
            rc = fail(err, err_len, CSM_REPLACE_FAIL_IO, "%s: %s an unnamed temporary file in %s: %s",
                      o->path, what, o->dir, e ? strerror(e) : "short write");
        csm_output_discard(o); /* removes the named temporary */
        return rc;
    }
    free(o->tmp);
    o->tmp = NULL; /* renamed: nothing to remove */
    sync_dir(o->dir);
    csm_output_discard(o);
    return CSM_REPLACE_OK;
}

csm_replace_result csm_output_check(char *err, size_t err_len, const char *path, int flags,
                                    csm_replace_log_fn log, void *log_user)
{
    /* a pipe or device is only looked at: opened, a FIFO would wait for
     * its reader, and the reader would see an end of file after the check */
    int way = target_way(err, err_len, path, flags);
    if (way < 0)
        return CSM_REPLACE_FAIL_IO;
    if (way == 1)
        return CSM_REPLACE_OK;
    csm_output o;
    csm_replace_result rc = csm_output_open(&o, err, err_len, path, flags, log, log_user);
    if (rc != CSM_REPLACE_OK)
        return rc;
    csm_output_discard(&o);
    return CSM_REPLACE_OK;
}

int csm_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    if (stat(a, &sa) == 0 || stat(b, &sb) == 0)
        return 0;
    /* neither exists yet: the same name in the same directory */
    const char *ba = strrchr(a, '/'), *bb = strrchr(b, '/');
    ba = ba ? ba + 1 : a;
    bb = bb ? bb + 1 : b;
    if (strcmp(ba, bb) != 0)
        return 0;
    char *da = csm_parent_dir(a), *db = csm_parent_dir(b);
    int same = da && db && stat(da, &sa) == 0 && stat(db, &sb) == 0 && sa.st_dev == sb.st_dev &&
               sa.st_ino == sb.st_ino;
    free(da);
    free(db);
    return same;
}

csm_replace_result csm_replace_file_raw(char *err, size_t err_len, const char *path,
                                        const void *data, size_t len, int flags,
                                        csm_replace_log_fn log, void *log_user)
{
    csm_output o;
    csm_replace_result rc = csm_output_open(&o, err, err_len, path, flags, log, log_user);
    if (rc == CSM_REPLACE_OK)
        rc = csm_output_write(&o, err, err_len, data, len);
    if (rc == CSM_REPLACE_OK)
        return csm_output_commit(&o, err, err_len);
    csm_output_discard(&o);
    return rc;
}
