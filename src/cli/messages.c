/* What the command says besides its results, and when: errors always
 * print ("ERROR: ...", cli_error and friends); warnings (data guessed to
 * have no labels, names that differ from the model's, features or classes
 * the model never saw, a run short of --tol) print even with -q, and hide
 * only with -q -q or --silent; notes (how a file was read, progress) hide
 * with -q; -v adds the library's own account, which reaches stderr through
 * the log callback of every context the command creates
 * (cli_context_create). The options are the same for every command. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cli_quiet = 0;
int cli_verbosity = 0;
/* under mpirun with several ranks: this one's, named in each error */
static int error_rank = -1;

const char *const cli_output_help =
    "  -q, --quiet            print no notes or progress on stderr, only warnings\n"
    "                         and errors; twice (-qq) as --silent\n"
    "  --silent               print only errors, not even warnings\n"
    "  -v, --verbose          also print what the library chose (the path of each\n"
    "                         step, its calibration, whether the data streams);\n"
    "                         twice: every kernel build\n";

int cli_output_option(const char *name)
{
    if (!strcmp(name, "quiet"))
        cli_quiet++;
    else if (!strcmp(name, "silent"))
        cli_quiet = 2;
    else if (!strcmp(name, "verbose"))
        cli_verbosity++;
    else
        return -1;
    return 0;
}

void cli_error_rank(int rank)
{
    error_rank = rank;
}

/* "ERROR: [rank R: ]message\n" written whole by one call, so that the
 * lines of ranks reporting at once under mpirun do not interleave. */
static void error_line(const char *fmt, va_list ap)
{
    char line[4096];
    int at = snprintf(line, sizeof line, "ERROR: ");
    if (error_rank >= 0)
        at += snprintf(line + at, sizeof line - (size_t)at, "rank %d: ", error_rank);
    vsnprintf(line + at, sizeof line - (size_t)at, fmt, ap);
    fflush(stdout);
    fprintf(stderr, "%s\n", line);
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_line(fmt, ap);
    va_end(ap);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_line(fmt, ap);
    va_end(ap);
    if (cmd)
        fprintf(stderr, "Try 'clsoftmax %s --help' for more information.\n", cmd);
    else
        fprintf(stderr, "Try 'clsoftmax --help' for more information.\n");
    return CLI_USAGE;
}

int cli_lib_error(const csm_context *ctx, csm_status st)
{
    const char *detail = ctx ? csm_context_last_error(ctx) : "";
    if (detail && *detail)
        cli_error("%s: %s", csm_status_string(st), detail);
    else
        cli_error("%s", csm_status_string(st));
    return CLI_FAIL;
}

void cli_warning(const char *fmt, ...)
{
    char line[4096];
    va_list ap;
    if (cli_quiet >= 2)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fflush(stdout);
    fprintf(stderr, "WARNING: %s\n", line);
    fflush(stderr);
}

void cli_note(const char *fmt, ...)
{
    va_list ap;
    if (cli_quiet >= 1)
        return;
    fflush(stdout);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

/* The library's own account of what it chose (the path, its calibration,
 * kernel builds with -v -v), on stderr when asked for; its warnings (a
 * calibration cache it will not use, a streamed row over the cap) always,
 * like the command's own. */
static void log_to_stderr(csm_log_level level, const char *message, void *user)
{
    (void)user;
    if (level >= CSM_LOG_WARN)
        fprintf(stderr, "WARNING: %s\n", message);
    else if (cli_verbosity >= 2 || (cli_verbosity >= 1 && level >= CSM_LOG_INFO))
        fprintf(stderr, "clsoftmax: %s\n", message);
}

csm_context *cli_context_create(void)
{
    char err[4096] = "";
    csm_context *ctx = NULL;
    csm_status st = csm_context_create(&ctx, NULL, err, sizeof err);
    if (st != CSM_OK) {
        if (*err)
            cli_error("%s: %s", csm_status_string(st), err);
        else
            cli_error("%s", csm_status_string(st));
        if (st == CSM_ERR_DEVICE_NOT_FOUND)
            fprintf(stderr, "Run 'clsoftmax devices' to see the devices and their selectors.\n");
        return NULL;
    }
    csm_context_set_log_callback(ctx, log_to_stderr, NULL);
    return ctx;
}
