/* --history FILE: one CSV row per epoch (L-BFGS: iteration),
 * epoch,loss,accuracy,val_loss,val_accuracy,seconds,grad_max_abs; a field
 * the run does not have (validation, the gradient of a first-order solver)
 * is empty. New columns go at the end so that scripts reading the old ones
 * by position keep working. Each row is flushed so an interrupted run keeps
 * what it did. */
#include <errno.h>
#include <math.h>
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
    fputs("epoch,loss,accuracy,val_loss,val_accuracy,seconds,grad_max_abs\n", h->f);
    fflush(h->f);
    return 0;
}

int cli_history_row(cli_history *h, const csm_epoch_info *info, int has_val, double val_loss,
                    double val_acc)
{
    if (!h->f)
        return 0;
    fprintf(h->f, "%d,%.9g,%.9g,", info->epoch, info->loss, info->accuracy);
    if (has_val)
        fprintf(h->f, "%.9g,%.9g,", val_loss, val_acc);
    else
        fputs(",,", h->f);
    fprintf(h->f, "%.6f,", info->seconds);
    if (isfinite(info->grad_max_abs))
        fprintf(h->f, "%.9g", info->grad_max_abs);
    fputc('\n', h->f);
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
