/* clsoftmax: the command's entry, which hands each subcommand to its
 * cmd_*.c. Exit status: 0 success, 1 runtime or data error, 2 usage error. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "mpi.h"

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
           "  cv [OPTIONS] DATA                 stratified K-fold cross-validation over\n"
           "                                    C (and l1_ratio) values, warm-started\n"
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

typedef int (*command_fn)(int argc, char **argv);

static const struct command {
    const char *name;
    command_fn run;
} commands[] = {{"devices", cmd_devices}, {"train", cmd_train},         {"predict", cmd_predict},
                {"eval", cmd_eval},       {"gradcheck", cmd_gradcheck}, {"calibrate", cmd_calibrate},
                {"show", cmd_show},       {"cv", cmd_cv}};

static command_fn find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(name, commands[i].name))
            return commands[i].run;
    return NULL;
}

static int run(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    command_fn fn;
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        if (argc > 2 && strcmp(cmd, "help") == 0) {
            /* "clsoftmax help train" == "clsoftmax train --help" */
            char *sub[] = {argv[2], (char *)"--help", NULL};
            if ((fn = find_command(argv[2])) != NULL)
                return fn(2, sub);
            return cli_usage_error(NULL, "unknown command '%s'", argv[2]);
        }
        print_help(stdout);
        return CLI_OK;
    }
    if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
        printf("clsoftmax %s\n", csm_version());
        return CLI_OK;
    }
    if ((fn = find_command(cmd)) != NULL)
        return fn(argc - 1, argv + 1);
    if (cmd[0] == '-')
        return cli_usage_error(NULL, "unknown option '%s'", cmd);
    return cli_usage_error(NULL, "unknown command '%s'", cmd);
}

/* `mpirun -np N clsoftmax train|cv ...` runs N ranks (src/cli/mpi_train.c,
 * cv_fit.c);
 * any other use is one process, MPI untouched. */
int main(int argc, char **argv)
{
    if (argc >= 2 && cli_mpi_start(argv[1], &argc, &argv))
        return cli_mpi_finish(CLI_FAIL);
    return cli_mpi_finish(run(argc, argv));
}
