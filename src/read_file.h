/* Opening a file for reading only when it is a regular file of a bounded
 * size: the one way the library and the command read the files they did
 * not get as data (kernel sources, the calibration cache, model files).
 * A named pipe there would block the open or the read forever, and a link
 * to /dev/zero would grow memory without bound. Not part of the API:
 * compiled into the library and the command (src/libreplace.la). */
#ifndef CSM_READ_FILE_H
#define CSM_READ_FILE_H

#include <stddef.h>
#include <stdint.h>

/* Results: */
#define CSM_FILE_OK 0
#define CSM_FILE_FAIL (-1)    /* err says why */
#define CSM_FILE_MISSING (-2) /* no such file (ENOENT); err says so too */
#define CSM_FILE_NOMEM (-3)

/* The calibration cache (calibration.json), as the library reads it and
 * `clsoftmax calibrate --show` shows it: a larger file is ignored. */
#define CSM_CALIBRATION_FILE_MAX ((size_t)1 << 20)

/* Opens path read-only without blocking (O_NONBLOCK, so that a named pipe
 * cannot stall the open; cleared afterwards) and checks with fstat that it
 * is a regular file of at most `cap` bytes (0: any size). *fd is then the
 * open descriptor (close it) and *size the file's size. `what` names the
 * file in the messages ("kernel source", "model file"): "PATH: WHAT of N
 * bytes, over the limit of CAP", "PATH: WHAT is a named pipe (FIFO), not a
 * regular file". */
int csm_open_regular(const char *path, const char *what, uint64_t cap, int *fd, uint64_t *size,
                     char *err, size_t err_len);

/* csm_open_regular, then the whole file into *data (malloc'd, with a NUL
 * after its *len bytes). A file that grows past `cap` while it is read is
 * refused too. */
int csm_read_regular(const char *path, const char *what, size_t cap, char **data, size_t *len,
                     char *err, size_t err_len);

#endif
