/* Ctrl-C during `train` keeps the work: the first SIGINT, SIGTERM or SIGHUP
 * is only noted (cli_signal_caught), the epoch callback then stops the run
 * at the end of the current iteration or epoch, and `train` saves the
 * model of that iteration as usual (replaced whole), marked as interrupted,
 * and exits 128 + the signal number, as the signal itself would have. A
 * second signal ends the process at once, by the signal, writing nothing
 * (a save under way leaves the old file whole, see replace_file.c).
 *
 * A signal that was ignored when the command started (nohup, a background
 * job of a non-interactive shell) stays ignored, as careful tools do. */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const int caught_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define N_SIGNALS (sizeof caught_signals / sizeof *caught_signals)

static volatile sig_atomic_t caught;
static int installed[N_SIGNALS];

static void note(const char *s)
{
    /* write(2) only: async-signal-safe */
    ssize_t w = write(STDERR_FILENO, s, strlen(s));
    (void)w;
}

static void on_signal(int sig)
{
    if (caught) {
        /* the second: at once, by the signal, nothing written */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    caught = sig;
    note("\nclsoftmax: ");
    note(cli_signal_name(sig));
    note(": stopping at the end of this iteration and saving the model; again to abort "
         "without saving\n");
}

const char *cli_signal_name(int sig)
{
    switch (sig) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    default: return "a signal";
    }
}

void cli_signals_catch(void)
{
    for (size_t i = 0; i < N_SIGNALS; i++) {
        struct sigaction sa, old;
        memset(&sa, 0, sizeof sa);
        if (sigaction(caught_signals[i], NULL, &old) != 0 || old.sa_handler == SIG_IGN)
            continue;
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART; /* reads and MPI calls go on: the callback decides */
        installed[i] = sigaction(caught_signals[i], &sa, NULL) == 0;
    }
}

void cli_signals_release(void)
{
    for (size_t i = 0; i < N_SIGNALS; i++)
        if (installed[i]) {
            signal(caught_signals[i], SIG_DFL);
            installed[i] = 0;
        }
}

int cli_signal_caught(void)
{
    return (int)caught;
}
