/* Writing an output file of the command whole or not at all (the pictures
 * of --plot): the library's way (src/replace_file.c, compiled into the
 * command too since it is not part of the API), with pipes and devices
 * written directly; and the check, before any work, that the file can be
 * made at all. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plot.h"
#include "replace_file.h"

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
    char *dir = csm_parent_dir(path);
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

/* The notice of a stale temporary removed, on stderr under -v like the
 * library's own notices. */
static void log_notice(const char *message, void *user)
{
    (void)user;
    if (cli_verbosity >= 1)
        fprintf(stderr, "clsoftmax: %s\n", message);
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
