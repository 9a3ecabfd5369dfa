/* Replacing a file whole, without a context: the one implementation behind
 * the library's csm_replace_file() (models) and the command's
 * cli_replace_file() (the pictures of --plot). Not part of the API: it is
 * compiled into both (src/libreplace.la, hidden in libclsoftmax.so). */
#ifndef CSM_REPLACE_FILE_H
#define CSM_REPLACE_FILE_H

#include <stddef.h>

/* flags of csm_replace_file_raw() (and of the library's csm_replace_file()) */
/* the named temporary even where O_TMPFILE works (for tests of that way) */
#define CSM_REPLACE_NO_TMPFILE 1
/* a path that exists and is not a regular file or a directory (a pipe,
 * /dev/stdout) is written directly: renaming over it would replace the
 * pipe or device with a file */
#define CSM_REPLACE_SPECIAL_IN_PLACE 2

/* what went wrong; the text in err says the rest */
typedef enum {
    CSM_REPLACE_OK = 0,
    CSM_REPLACE_FAIL_IO,
    CSM_REPLACE_FAIL_MEMORY
} csm_replace_result;

/* Room for a message: that of the library's error text, which it goes to. */
#define CSM_REPLACE_ERR_LEN 1024

/* Receives a one-line notice (a stale temporary removed). */
typedef void (*csm_replace_log_fn)(const char *message, void *user);

/* Replaces the file at path with len bytes of data, whole: a reader, or a
 * crash at any point, sees the old file or the new one, and a process
 * killed while writing leaves no temporary behind (an unnamed O_TMPFILE
 * where the file system has it; otherwise a named temporary
 * PATH.tmp.HOST.PID.XXXXXX that the next save removes once its process is
 * gone). The new file keeps the old one's permissions, else gets 0666 less
 * the umask. On failure writes "PATH: what failed: why" into err (err_len
 * bytes, truncated; err may be NULL). log may be NULL. */
csm_replace_result csm_replace_file_raw(char *err, size_t err_len, const char *path,
                                        const void *data, size_t len, int flags,
                                        csm_replace_log_fn log, void *log_user);

/* The directory part of path ("." for a bare name, "/" for "/name"),
 * malloc'd; NULL when out of memory. */
char *csm_parent_dir(const char *path);

#endif
