/* Training progress on stderr: on a terminal one live line redrawn after
 * every epoch (epoch i/N, a bar, samples/s, loss, accuracy, ETA); otherwise
 * one plain line per epoch; nothing with --quiet. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define BAR_WIDTH 24

void cli_progress_init(cli_progress *p, int quiet, int epochs)
{
    memset(p, 0, sizeof *p);
    p->enabled = !quiet;
    p->tty = isatty(STDERR_FILENO);
    p->epochs = epochs;
    p->start = cli_now();
}

static void format_duration(char *buf, size_t len, double s)
{
    if (!(s >= 0))
        s = 0;
    unsigned long t = (unsigned long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, len, "%lu:%02lu", t / 60, t % 60);
}

void cli_progress_epoch(cli_progress *p, const csm_epoch_info *info, int has_val, double val_loss,
                        double val_acc)
{
    if (!p->enabled)
        return;
    double rate = info->seconds > 0 ? (double)info->samples / info->seconds : 0.0;
    int total = info->epochs > 0 ? info->epochs : p->epochs;
    char val[96] = "";
    if (has_val)
        snprintf(val, sizeof val, "  val_loss %.4f  val_acc %.4f", val_loss, val_acc);
    if (p->tty) {
        double elapsed = cli_now() - p->start;
        double eta = info->epoch > 0 ? elapsed / info->epoch * (total - info->epoch) : 0;
        char bar[BAR_WIDTH + 1], eta_s[32];
        int filled = total > 0 ? (int)((long)BAR_WIDTH * info->epoch / total) : BAR_WIDTH;
        for (int i = 0; i < BAR_WIDTH; i++)
            bar[i] = i < filled ? '#' : '.';
        bar[BAR_WIDTH] = '\0';
        format_duration(eta_s, sizeof eta_s, eta);
        fprintf(stderr, "\r\033[Kepoch %d/%d [%s] %.0f samples/s  loss %.4f  acc %.4f%s  ETA %s",
                info->epoch, total, bar, rate, info->loss, info->accuracy, val, eta_s);
        p->drawn = 1;
    } else {
        fprintf(stderr, "epoch %d/%d  loss %.6f  accuracy %.4f%s  %.0f samples/s  %.2fs\n",
                info->epoch, total, info->loss, info->accuracy, val, rate, info->seconds);
    }
    fflush(stderr);
}

void cli_progress_done(cli_progress *p)
{
    if (p->drawn) {
        fputc('\n', stderr);
        fflush(stderr);
        p->drawn = 0;
    }
}

void cli_progress_note(cli_progress *p, const char *fmt, ...)
{
    if (!p->enabled)
        return;
    cli_progress_done(p);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}
