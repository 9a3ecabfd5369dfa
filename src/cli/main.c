/* clsoftmax: the command. Dispatches to the subcommands; shared error
 * reporting. Exit status: 0 success, 1 runtime or data error, 2 usage error. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mpi.h"

/* "ERROR: [rank R: ]message\n" written whole by one call, so that the
 * lines of ranks reporting at once under mpirun do not interleave. */
static void error_line(const char *fmt, va_list ap)
{
    char line[4096];
    int at = snprintf(line, sizeof line, "ERROR: ");
    if (cli_mpi_size() > 1)
        at += snprintf(line + at, sizeof line - (size_t)at, "rank %d: ", cli_mpi_rank());
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

int cli_verbosity = 0;

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
    if (st == CSM_OK)
        csm_context_set_log_callback(ctx, log_to_stderr, NULL);
    if (st != CSM_OK) {
        if (*err)
            cli_error("%s: %s", csm_status_string(st), err);
        else
            cli_error("%s", csm_status_string(st));
        if (st == CSM_ERR_DEVICE_NOT_FOUND)
            fprintf(stderr, "Run 'clsoftmax devices' to see the devices and their selectors.\n");
        return NULL;
    }
    return ctx;
}

static void print_help(FILE *f)
{
    fprintf(f, "Usage: clsoftmax COMMAND [OPTIONS] ARGS...\n"
           "Softmax regression (multinomial logistic regression) on OpenCL devices.\n"
           "\n"
           "Commands:\n"
           "  devices                           list OpenCL devices and their selectors\n"
           "  train [OPTIONS] DATA MODEL        train a model on DATA and write MODEL\n"
           "  predict [--proba] [--no-labels] [-q] DATA MODEL [OUTPUT]\n"
           "                                    predicted labels (or probabilities)\n"
           "  eval [--confusion] [--plot FILE.svg] [-q] DATA MODEL\n"
           "                                    loss, accuracy, per-class report,\n"
           "                                    confusion matrix\n"
           "  show [--all] MODEL                what a model holds: classes, training,\n"
           "                                    data format, weights by feature name\n"
           "  gradcheck [DATA [MODEL]]          check the device gradient numerically\n"
           "  calibrate [--show|--clear|SHAPE]  measure the fastest step implementation\n"
           "\n"
           "Options:\n"
           "  -h, --help      show this help (or 'clsoftmax COMMAND --help')\n"
           "  -V, --version   show the version\n"
           "\n"
           "Data files: CSV (as pandas, R and NumPy write it), libsvm/svmlight or IDX\n"
           "(MNIST), optionally gzipped; '-' is standard input. CSV columns are counted\n"
           "from 0. Models: safetensors. Short options combine (-qv); -q hides notes,\n"
           "-q -q or --silent warnings too. The device is chosen by CLSOFTMAX_DEVICE\n"
           "(see 'clsoftmax devices'). Exit status: 0 success, 1 runtime or data\n"
           "error, 2 usage error; train interrupted by a signal (Ctrl-C) saves its\n"
           "model and exits 128 + the signal. See clsoftmax(1).\n");
}

static int run(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        if (argc > 2 && strcmp(cmd, "help") == 0) {
            /* "clsoftmax help train" == "clsoftmax train --help" */
            char *sub[] = {argv[2], (char *)"--help", NULL};
            if (!strcmp(argv[2], "devices"))
                return cmd_devices(2, sub);
            if (!strcmp(argv[2], "train"))
                return cmd_train(2, sub);
            if (!strcmp(argv[2], "predict"))
                return cmd_predict(2, sub);
            if (!strcmp(argv[2], "eval"))
                return cmd_eval(2, sub);
            if (!strcmp(argv[2], "gradcheck"))
                return cmd_gradcheck(2, sub);
            if (!strcmp(argv[2], "calibrate"))
                return cmd_calibrate(2, sub);
            if (!strcmp(argv[2], "show"))
                return cmd_show(2, sub);
            return cli_usage_error(NULL, "unknown command '%s'", argv[2]);
        }
        print_help(stdout);
        return CLI_OK;
    }
    if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
        printf("clsoftmax %s\n", csm_version());
        return CLI_OK;
    }
    if (!strcmp(cmd, "devices"))
        return cmd_devices(argc - 1, argv + 1);
    if (!strcmp(cmd, "train"))
        return cmd_train(argc - 1, argv + 1);
    if (!strcmp(cmd, "predict"))
        return cmd_predict(argc - 1, argv + 1);
    if (!strcmp(cmd, "eval"))
        return cmd_eval(argc - 1, argv + 1);
    if (!strcmp(cmd, "gradcheck"))
        return cmd_gradcheck(argc - 1, argv + 1);
    if (!strcmp(cmd, "calibrate"))
        return cmd_calibrate(argc - 1, argv + 1);
    if (!strcmp(cmd, "show"))
        return cmd_show(argc - 1, argv + 1);
    if (cmd[0] == '-')
        return cli_usage_error(NULL, "unknown option '%s'", cmd);
    return cli_usage_error(NULL, "unknown command '%s'", cmd);
}

/* `mpirun -np N clsoftmax train ...` runs N ranks (src/cli/mpi_train.c);
 * any other use is one process, MPI untouched. */
int main(int argc, char **argv)
{
    if (argc >= 2 && cli_mpi_start(argv[1], &argc, &argv))
        return cli_mpi_finish(CLI_FAIL);
    return cli_mpi_finish(run(argc, argv));
}
