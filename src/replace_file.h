/* Writing output files safely, without a context: the one implementation
 * behind the library's csm_replace_file() (models, the calibration cache)
 * and the command's outputs (models, predictions, --history, the pictures
 * of --plot). Not part of the API: it is compiled into both
 * (src/libreplace.la, hidden in libclsoftmax.so). */
#ifndef CSM_REPLACE_FILE_H
#define CSM_REPLACE_FILE_H

#include <stddef.h>

/* flags of csm_replace_file_raw(), csm_output_open() and csm_output_check()
 * (and of the library's csm_replace_file()) */
/* the named temporary even where O_TMPFILE works (for tests of that way) */
#define CSM_REPLACE_NO_TMPFILE 1
/* a path that exists and is a named pipe or a character device (-,
 * /dev/stdout, /dev/null) is written through directly; without this flag
 * it is refused, since renaming over it would put a regular file where
 * the pipe or device was. Anything else that is not a regular file (a
 * directory, a block device, a socket) is always refused. */
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
 * PATH.tmp.HOST.PID.XXXXXX, created with O_CREAT|O_EXCL|O_NOFOLLOW, that
 * the next save removes once its process is gone). The new file keeps the
 * old one's permissions, else gets 0666 less the umask. A path that exists
 * and is not a regular file is refused (see CSM_REPLACE_SPECIAL_IN_PLACE).
 * On failure writes "PATH: what failed: why" into err (err_len bytes,
 * truncated; err may be NULL). log may be NULL. */
csm_replace_result csm_replace_file_raw(char *err, size_t err_len, const char *path,
                                        const void *data, size_t len, int flags,
                                        csm_replace_log_fn log, void *log_user);

/* The same in steps, for an output written piece by piece (predictions):
 * csm_output_open() checks the path as above and creates the temporary
 * (or opens the pipe or device), csm_output_write() appends (or write to
 * o->fd directly), csm_output_commit() syncs it and renames it over the
 * path, csm_output_discard() drops it and leaves the old file as it was.
 * Commit and discard free everything, whatever their outcome. */
typedef struct csm_output {
    int fd;          /* write here */
    int in_place;    /* a pipe or device, written through */
    char *path, *dir;
    char *tmp;       /* the named temporary, or NULL */
} csm_output;
csm_replace_result csm_output_open(csm_output *o, char *err, size_t err_len, const char *path,
                                   int flags, csm_replace_log_fn log, void *log_user);
csm_replace_result csm_output_write(csm_output *o, char *err, size_t err_len, const void *data,
                                    size_t len);
csm_replace_result csm_output_commit(csm_output *o, char *err, size_t err_len);
void csm_output_discard(csm_output *o);

/* Before any work: whether an output could be written at path, by the
 * rules above, proved by creating (and removing) its temporary in its
 * directory (stale temporaries of PATH are removed, as a save does); a
 * pipe or device allowed by flags is only looked at. */
csm_replace_result csm_output_check(char *err, size_t err_len, const char *path, int flags,
                                    csm_replace_log_fn log, void *log_user);

/* 1 when a and b name the same file: the same device and inode (hard and
 * symbolic links included), or, when neither exists yet, the same name in
 * the same directory. */
int csm_same_file(const char *a, const char *b);

/* The directory part of path ("." for a bare name, "/" for "/name"),
 * malloc'd; NULL when out of memory. */
char *csm_parent_dir(const char *path);

#endif
