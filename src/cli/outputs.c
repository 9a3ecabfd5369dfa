/* What the command writes, and the rules it keeps (README, "What is never
 * lost"):
 *
 *  - before any work, every output is checked (cli_io_check): it is not
 *    one of the inputs nor another output (same device and inode, links
 *    included; for a data input `-`, the file standard input reads), it
 *    is a regular file or nothing yet, or a pipe or character device
 *    where the output is a stream (predictions, the
 *    --history rows, the pictures: `-`, /dev/stdout, /dev/null), and its
 *    directory takes a new file (a temporary is created there and removed:
 *    a model path in a missing directory used to fail only after hours of
 *    training);
 *  - files are replaced whole by the library's one writer
 *    (src/replace_file.c, compiled in here as it is hidden in the
 *    library): cli_replace_file for what is made in memory (the
 *    pictures), cli_out_open/commit for what is written as it is made
 *    (predictions). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "replace_file.h"

void cli_io_input(cli_io *io, const char *path)
{
    if (path && io->n_in < CLI_IO_MAX)
        io->in[io->n_in++] = path;
}

void cli_io_reader_input(cli_io *io, const char *path)
{
    if (path && strcmp(path, "-") == 0)
        io->n_stdin++;
    else
        cli_io_input(io, path);
}

void cli_io_output(cli_io *io, const char *path, const char *what, int stream)
{
    if (!path || io->n_out >= CLI_IO_MAX)
        return;
    io->out[io->n_out] = path;
    io->out_what[io->n_out] = what;
    io->out_stream[io->n_out] = stream;
    io->n_out++;
}

/* The notice of a stale temporary removed, on stderr under -v like the
 * library's own notices. */
static void log_notice(const char *message, void *user)
{
    (void)user;
    if (cli_verbosity >= 1)
        fprintf(stderr, "clsoftmax: %s\n", message);
}

static int is_char_device(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISCHR(st.st_mode);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Whether `path` is the file standard input reads (`< FILE`). */
static int is_stdin_file(const char *path)
{
    struct stat in, out;
    return fstat(STDIN_FILENO, &in) == 0 && stat(path, &out) == 0 && in.st_dev == out.st_dev &&
           in.st_ino == out.st_ino;
}

int cli_io_check(const cli_io *io)
{
    /* what one reader takes of a pipe is gone for the next */
    if (io->n_stdin > 1) {
        cli_error("standard input ('-') can be read only once: give it for one input at most");
        return CLI_FAIL;
    }
    for (size_t o = 0; o < io->n_out; o++) {
        const char *path = io->out[o], *what = io->out_what[o];
        /* a terminal or /dev/null may well be an input and an output at once */
        const int through = is_char_device(path);
        if (io->n_stdin && !through && is_stdin_file(path)) {
            cli_error("%s: the %s is the file standard input ('-') reads: writing it would "
                      "destroy that input; write it elsewhere",
                      path, what);
            return CLI_FAIL;
        }
        for (size_t i = 0; i < io->n_in && !through; i++) {
            if (!exists(io->in[i]) || !csm_same_file(path, io->in[i]))
                continue;
            if (io->in_place && io->in[i] == io->in_place && o == 0)
                continue; /* --resume MODEL ... MODEL: read whole, then replaced whole */
            if (!strcmp(path, io->in[i]))
                cli_error("%s: the %s would overwrite an input of the command: write it "
                          "elsewhere",
                          path, what);
            else
                cli_error("%s: the %s is the same file as the input %s (a link to it): "
                          "writing it would destroy that input; write it elsewhere",
                          path, what, io->in[i]);
            return CLI_FAIL;
        }
        for (size_t p = 0; p < o && !through; p++) {
            if (csm_same_file(path, io->out[p])) {
                cli_error("%s: the %s and the %s are the same file: give each its own", path,
                          what, io->out_what[p]);
                return CLI_FAIL;
            }
        }
        char err[CSM_REPLACE_ERR_LEN];
        if (csm_output_check(err, sizeof err, path,
                             io->out_stream[o] ? CSM_REPLACE_SPECIAL_IN_PLACE : 0, log_notice,
                             NULL) != CSM_REPLACE_OK) {
            cli_error("cannot write the %s: %s", what, err);
            return CLI_FAIL;
        }
    }
    return 0;
}

int cli_replace_file(const char *path, const void *data, size_t len)
{
    char err[CSM_REPLACE_ERR_LEN] = "";
    if (csm_replace_file_raw(err, sizeof err, path, data, len, CSM_REPLACE_SPECIAL_IN_PLACE,
                             log_notice, NULL) != CSM_REPLACE_OK) {
        cli_error("%s", err);
        return CLI_FAIL;
    }
    return 0;
}

struct cli_out {
    csm_output o;
    FILE *f;
};

cli_out *cli_out_open(const char *path, FILE **f)
{
    cli_out *c = calloc(1, sizeof *c);
    char err[CSM_REPLACE_ERR_LEN] = "out of memory";
    int fd = -1;
    if (c && csm_output_open(&c->o, err, sizeof err, path, CSM_REPLACE_SPECIAL_IN_PLACE,
                             log_notice, NULL) == CSM_REPLACE_OK) {
        /* the FILE gets a copy of the descriptor: fclose flushes and closes
         * it, and the commit still has the original to sync and name */
        if ((fd = dup(c->o.fd)) >= 0 && (c->f = fdopen(fd, "w")) != NULL) {
            *f = c->f;
            return c;
        }
        snprintf(err, sizeof err, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        csm_output_discard(&c->o);
    }
    cli_error("%s", err);
    free(c);
    return NULL;
}

int cli_out_commit(cli_out *c)
{
    int bad = ferror(c->f);
    int e = errno;
    if (fclose(c->f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    char err[CSM_REPLACE_ERR_LEN];
    int rc = 0;
    if (bad) {
        cli_error("%s: write error: %s", c->o.path, strerror(e));
        csm_output_discard(&c->o);
        rc = CLI_FAIL;
    } else if (csm_output_commit(&c->o, err, sizeof err) != CSM_REPLACE_OK) {
        cli_error("%s", err);
        rc = CLI_FAIL;
    }
    free(c);
    return rc;
}

void cli_out_discard(cli_out *c)
{
    if (!c)
        return;
    fclose(c->f);
    csm_output_discard(&c->o);
    free(c);
}

void cli_io_data(cli_io *io, const char *data, const csm_read_options *ro)
{
    cli_io_reader_input(io, data);
    cli_io_reader_input(io, ro->labels_path);
    /* an IDX images file's labels file, found by name, is an input too */
    csm_format f = ro->format != CSM_FORMAT_AUTO ? ro->format : csm_detect_format(data);
    if (!ro->labels_path && f == CSM_FORMAT_IDX && !io->owned && strcmp(data, "-") != 0) {
        io->owned = csm_idx_labels_path(data);
        cli_io_input(io, io->owned);
    }
}

void cli_io_free(cli_io *io)
{
    free(io->owned);
    io->owned = NULL;
}

int cli_check_model_io(const char *data, const csm_read_options *ro, const char *model,
                       const char *out, const char *what)
{
    cli_io io;
    memset(&io, 0, sizeof io);
    cli_io_data(&io, data, ro);
    cli_io_input(&io, model);
    cli_io_output(&io, out, what, 1);
    int rc = cli_io_check(&io);
    cli_io_free(&io);
    return rc;
}
