/* --history FILE: one CSV row per epoch,
 * epoch,loss,accuracy,val_loss,val_accuracy,seconds (val fields empty when
 * there is no validation data). Each row is flushed so an interrupted run
 * keeps what it did. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cli_history_open(cli_history *h, const char *path)
{
    h->path = path;
    h->f = fopen(path, "w");
    if (!h->f) {
        cli_error("%s: cannot write the history file: %s", path, strerror(errno));
        return CLI_FAIL;
    }
    fputs("epoch,loss,accuracy,val_loss,val_accuracy,seconds\n", h->f);
    fflush(h->f);
    return 0;
}

int cli_history_row(cli_history *h, const csm_epoch_info *info, int has_val, double val_loss,
                    double val_acc)
{
    if (!h->f)
        return 0;
    if (has_val)
        fprintf(h->f, "%d,%.9g,%.9g,%.9g,%.9g,%.6f\n", info->epoch, info->loss, info->accuracy,
                val_loss, val_acc, info->seconds);
    else
        fprintf(h->f, "%d,%.9g,%.9g,,,%.6f\n", info->epoch, info->loss, info->accuracy,
                info->seconds);
    if (fflush(h->f) != 0 || ferror(h->f)) {
        cli_error("%s: write error: %s", h->path, strerror(errno));
        return CLI_FAIL;
    }
    return 0;
}

int cli_history_close(cli_history *h)
{
    if (!h->f)
        return 0;
    int bad = ferror(h->f);
    if (fclose(h->f) != 0)
        bad = 1;
    h->f = NULL;
    if (bad) {
        cli_error("%s: write error: %s", h->path, strerror(errno));
        return CLI_FAIL;
    }
    return 0;
}
