/* Writing an output file of the command whole or not at all (the pictures
 * of --plot). The library's csm_replace_file() does this for models but is
 * not part of its API; this is the command's short version: a named
 * temporary, synced, renamed over the target. A process killed between
 * the two leaves the temporary (PATH.tmp.XXXXXX), never a partial PATH. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plot.h"

/* The directory part of path ("." for a bare name), malloc'd. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *dir = malloc(n + 1);
    if (dir) {
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    return dir;
}

int cli_check_writable(const char *path)
{
    struct stat st;
    if (!*path) {
        cli_error("an empty file name is not a place to write a picture to");
        return CLI_FAIL;
    }
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        cli_error("%s: is a directory, not a file to write", path);
        return CLI_FAIL;
    }
    char *dir = dir_of(path);
    if (!dir) {
        cli_error("out of memory");
        return CLI_FAIL;
    }
    int rc = 0;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        cli_error("%s: cannot write there: no directory %s", path, dir);
        rc = CLI_FAIL;
    } else if (access(dir, W_OK) != 0) {
        cli_error("%s: cannot write there: %s: %s", path, dir, strerror(errno));
        rc = CLI_FAIL;
    }
    free(dir);
    return rc;
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Not a regular file (a pipe, /dev/stdout): renaming over it would replace
 * the device or pipe with a file, so the bytes go to it directly. */
static int write_in_place(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    int e = 0;
    if (fd < 0 || write_all(fd, data, len) != 0)
        e = errno;
    if (fd >= 0 && close(fd) != 0 && !e)
        e = errno;
    if (e) {
        cli_error("%s: write error: %s", path, strerror(e));
        return CLI_FAIL;
    }
    return 0;
}

int cli_replace_file(const char *path, const void *data, size_t len)
{
    struct stat st;
    int exists = stat(path, &st) == 0;
    if (exists && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
        return write_in_place(path, data, len);

    size_t n = strlen(path);
    char *tmp = malloc(n + sizeof ".tmp.XXXXXX");
    if (!tmp) {
        cli_error("out of memory");
        return CLI_FAIL;
    }
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
    int fd = mkstemp(tmp);
    if (fd < 0) {
        cli_error("%s: cannot create a temporary file %s: %s", path, tmp, strerror(errno));
        free(tmp);
        return CLI_FAIL;
    }
    /* mkstemp makes it 0600: give it the old file's mode, or 0666 less the
     * umask as a new file would have (the command runs one thread, so
     * reading the umask by setting it is safe here). */
    mode_t mode;
    if (exists) {
        mode = st.st_mode & 07777;
    } else {
        mode_t mask = umask(0);
        umask(mask);
        mode = 0666 & ~mask;
    }
    const char *what = NULL;
    int e = 0;
    if (fchmod(fd, mode) != 0)
        what = "cannot set the mode of", e = errno;
    else if (write_all(fd, data, len) != 0)
        what = "cannot write", e = errno;
    else if (fsync(fd) != 0)
        what = "cannot sync", e = errno;
    if (close(fd) != 0 && !what)
        what = "cannot close", e = errno;
    if (!what && rename(tmp, path) != 0)
        what = "cannot rename into place", e = errno;
    if (what) {
        unlink(tmp);
        cli_error("%s: %s temporary file %s: %s", path, what, tmp, strerror(e));
        free(tmp);
        return CLI_FAIL;
    }
    free(tmp);
    return 0;
}
