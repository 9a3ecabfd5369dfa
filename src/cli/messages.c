/* What the command says besides its results, and when: notes (how a file
 * was read, progress) hide with -q; warnings (data guessed to have no
 * labels, names that differ from the model's, features or classes the
 * model never saw, a run short of --tol) print even with -q, and hide only
 * with -q -q or --silent; errors always print. -v adds the library's own
 * account (main.c). The options are the same for every command. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cli_quiet = 0;

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
