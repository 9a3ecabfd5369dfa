/* The MPI layer of a command built without MPI (configure --without-mpi,
 * or no Open MPI found): always one process. The train command only calls
 * the transfers when cli_mpi_size() > 1, which never happens here. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mpi.h"

/* Under mpirun each rank of this build would train alone on all the data
 * and write the same file: say so instead. */
int cli_mpi_start(const char *cmd, int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *size = getenv("OMPI_COMM_WORLD_SIZE");
    if ((strcmp(cmd, "train") == 0 || strcmp(cmd, "cv") == 0) && size && atoi(size) > 1) {
        cli_error("started by mpirun (%s ranks), but this clsoftmax was built without MPI: "
                  "configure it with Open MPI installed (apt-get install libopenmpi-dev "
                  "openmpi-bin), or run it without mpirun", size);
        return CLI_FAIL;
    }
    return 0;
}

int cli_mpi_finish(int status) { return status; }
int cli_mpi_rank(void) { return 0; }
int cli_mpi_size(void) { return 1; }

static int no_mpi(void)
{
    cli_error("this clsoftmax was built without MPI (configure found no Open MPI)");
    return CLI_FAIL;
}

int cli_mpi_send(int dest, const void *buf, size_t bytes)
{
    (void)dest;
    (void)buf;
    (void)bytes;
    return no_mpi();
}

int cli_mpi_recv(int src, void *buf, size_t bytes)
{
    (void)src;
    (void)buf;
    (void)bytes;
    return no_mpi();
}

int cli_mpi_bcast(void *buf, size_t bytes)
{
    (void)buf;
    (void)bytes;
    return no_mpi();
}

int cli_mpi_reduce(double *values, size_t count, void *user)
{
    (void)values;
    (void)count;
    (void)user;
    return no_mpi();
}
