/* Reading a regular file of a bounded size (read_file.h). */
#if !defined(_XOPEN_SOURCE) && !defined(_GNU_SOURCE)
#define _XOPEN_SOURCE 700
#endif
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "read_file.h"

#if defined(__GNUC__)
static int fail(char *err, size_t err_len, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#endif
static int fail(char *err, size_t err_len, int rc, const char *fmt, ...)
{
    if (err && err_len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static const char *kind_of(mode_t m)
{
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISFIFO(m))
        return "a named pipe (FIFO)";
    if (S_ISCHR(m))
        return "a character device";
    if (S_ISBLK(m))
        return "a block device";
    if (S_ISSOCK(m))
        return "a socket";
    return "not a regular file";
}

int csm_open_regular(const char *path, const char *what, uint64_t cap, int *fd, uint64_t *size,
                     char *err, size_t err_len)
{
    *fd = -1;
    *size = 0;
    int f = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (f < 0) {
        int e = errno;
        return fail(err, err_len, e == ENOENT ? CSM_FILE_MISSING : CSM_FILE_FAIL,
                    "%s: cannot open: %s", path, strerror(e));
    }
    struct stat st;
    if (fstat(f, &st) != 0) {
        int e = errno;
        close(f);
        return fail(err, err_len, CSM_FILE_FAIL, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(f);
        return fail(err, err_len, CSM_FILE_FAIL, "%s: %s is %s, not a regular file", path, what,
                    kind_of(st.st_mode));
    }
    if (cap > 0 && (uint64_t)st.st_size > cap) {
        close(f);
        return fail(err, err_len, CSM_FILE_FAIL,
                    "%s: %s of %llu bytes, over the limit of %llu bytes", path, what,
                    (unsigned long long)st.st_size, (unsigned long long)cap);
    }
    /* reads from here on may wait for the disk as usual */
    int fl = fcntl(f, F_GETFL);
    if (fl != -1)
        (void)fcntl(f, F_SETFL, fl & ~O_NONBLOCK);
    *fd = f;
    *size = (uint64_t)st.st_size;
    return CSM_FILE_OK;
}

int csm_read_regular(const char *path, const char *what, size_t cap, char **data, size_t *len,
                     char *err, size_t err_len)
{
    *data = NULL;
    *len = 0;
    int fd;
    uint64_t size;
    int rc = csm_open_regular(path, what, cap, &fd, &size, err, err_len);
    if (rc != CSM_FILE_OK)
        return rc;
    if (size >= SIZE_MAX) {
        close(fd);
        return fail(err, err_len, CSM_FILE_FAIL, "%s: %s of %llu bytes is too large", path, what,
                    (unsigned long long)size);
    }
    /* one byte more than the size: a file that grew since fstat is seen */
    size_t bufcap = (size_t)size + 1, got = 0;
    char *buf = malloc(bufcap + 1);
    if (!buf) {
        close(fd);
        return fail(err, err_len, CSM_FILE_NOMEM, "%s: out of memory reading %llu bytes", path,
                    (unsigned long long)size);
    }
    for (;;) {
        if (got == bufcap) {
            if (cap > 0 && got > cap) {
                free(buf);
                close(fd);
                return fail(err, err_len, CSM_FILE_FAIL,
                            "%s: %s grew past the limit of %zu bytes while it was read", path,
                            what, cap);
            }
            size_t ncap = bufcap * 2;
            char *p = ncap > bufcap ? realloc(buf, ncap + 1) : NULL;
            if (!p) {
                free(buf);
                close(fd);
                return fail(err, err_len, CSM_FILE_NOMEM, "%s: out of memory", path);
            }
            buf = p;
            bufcap = ncap;
        }
        ssize_t r = read(fd, buf + got, bufcap - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return fail(err, err_len, CSM_FILE_FAIL, "%s: cannot read: %s", path, strerror(e));
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (cap > 0 && got > cap) {
        free(buf);
        return fail(err, err_len, CSM_FILE_FAIL,
                    "%s: %s grew past the limit of %zu bytes while it was read", path, what, cap);
    }
    buf[got] = '\0';
    *data = buf;
    *len = got;
    return CSM_FILE_OK;
}
