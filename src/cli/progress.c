/* Training progress on stderr: on a terminal one live line redrawn after
 * every epoch (epoch i/N, a bar, samples/s, loss, accuracy, ETA) or L-BFGS
 * iteration; in a pipe or a log file plain lines, one every 10% of
 * --max-iter or every 10 s, whichever comes first, and the last one (-v:
 * every one); nothing with --quiet. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* Monotonic seconds. */
double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#define BAR_WIDTH 24
/* In a pipe: a line at least every this many seconds, */
#define PIPE_SECONDS 10.0
/* and every max_iter / PIPE_LINES iterations. */
#define PIPE_LINES 10

int train_full_batch(csm_solver solver)
{
    return solver == CSM_LBFGS || solver == CSM_NEWTON;
}

void cli_progress_init(cli_progress *p, int quiet, const csm_train_options *opt)
{
    memset(p, 0, sizeof *p);
    p->enabled = !quiet;
    p->tty = isatty(STDERR_FILENO);
    p->every = cli_verbosity > 0 || opt->max_iter < PIPE_LINES ? 1 : opt->max_iter / PIPE_LINES;
    p->epochs = opt->max_iter;
    p->lbfgs = train_full_batch(opt->solver);
    p->tol = opt->tol;
    p->start = cli_now();
    p->printed_at = p->start;
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

/* L-BFGS usually stops far below max_iter, so a bar and an ETA toward it
 * would mislead: its line shows max|grad| against tol instead. */
static void lbfgs_line(cli_progress *p, const csm_epoch_info *info, int total, const char *val)
{
    char grad[64] = "";
    if (isfinite(info->grad_max_abs))
        snprintf(grad, sizeof grad, "  max|grad| %.2e", info->grad_max_abs);
    if (p->tty) {
        char elapsed[32];
        format_duration(elapsed, sizeof elapsed, cli_now() - p->start);
        fprintf(stderr, "\r\033[Kiteration %d/%d  loss %.6f  acc %.4f%s (tol %g)%s  %s",
                info->epoch, total, info->loss, info->accuracy, grad, p->tol, val, elapsed);
        p->drawn = 1;
    } else {
        fprintf(stderr, "iteration %d/%d  loss %.9f  accuracy %.4f%s%s  evals %d  %.2fs\n",
                info->epoch, total, info->loss, info->accuracy, grad, val, info->evaluations,
                info->seconds);
    }
}

static void print_epoch(cli_progress *p, const csm_epoch_info *info, int has_val, double val_loss,
                        double val_acc);

/* A pipe: whether this epoch's line is due; the others are kept, so that
 * the last one can be printed when training ends (cli_progress_done). */
static int due(cli_progress *p, const csm_epoch_info *info, int has_val, double val_loss,
               double val_acc)
{
    double now = cli_now();
    if (info->epoch % p->every == 0 || now - p->printed_at >= PIPE_SECONDS) {
        p->printed_at = now;
        p->pending = 0;
        return 1;
    }
    p->pending = 1;
    p->last = *info;
    p->last_has_val = has_val;
    p->last_val_loss = val_loss;
    p->last_val_acc = val_acc;
    return 0;
}

void cli_progress_epoch(cli_progress *p, const csm_epoch_info *info, int has_val, double val_loss,
                        double val_acc)
{
    if (!p->enabled || (!p->tty && !due(p, info, has_val, val_loss, val_acc)))
        return;
    print_epoch(p, info, has_val, val_loss, val_acc);
}

static void print_epoch(cli_progress *p, const csm_epoch_info *info, int has_val, double val_loss,
                        double val_acc)
{
    double rate = info->seconds > 0 ? (double)info->samples / info->seconds : 0.0;
    int total = info->epochs > 0 ? info->epochs : p->epochs;
    char val[96] = "";
    if (has_val)
        snprintf(val, sizeof val, "  val_loss %.4f  val_acc %.4f", val_loss, val_acc);
    if (p->lbfgs) {
        lbfgs_line(p, info, total, val);
    } else if (p->tty) {
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
    if (p->pending) {
        p->pending = 0;
        print_epoch(p, &p->last, p->last_has_val, p->last_val_loss, p->last_val_acc);
    }
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
