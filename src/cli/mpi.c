/* The MPI layer of the clsoftmax command, with Open MPI: start and exit,
 * byte transfers, and the all-reduce the library's training loop calls
 * (csm_reduce_fn). Only this file includes mpi.h. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mpi.h"

static int active; /* MPI_Init was called */
static int my_rank, n_ranks = 1;
static MPI_Op in_order_sum;

/* MPI reductions are fed in chunks of at most this many elements: MPI
 * counts are int. */
#define CHUNK ((size_t)1 << 30)

/* inout = in + inout elementwise. IEEE addition is commutative, so the
 * order of the two operands changes nothing; what matters is the grouping
 * of the P contributions. Declaring the operation non-commutative
 * (MPI_Op_create(..., 0, ...)) is what pins it: the MPI standard (3.1,
 * section 5.9.1) then requires the contributions to be combined in rank
 * order, which rules out the algorithms that regroup them by arrival or by
 * topology (MPI_SUM, being commutative, allows those); the standard also
 * strongly advises that the same arguments in the same order give the same
 * result, and an all-reduce returns one result to every rank. The grouping
 * then depends only on the number of ranks and the message size: a run
 * repeats bit for bit (tests/cli/mpi.sh checks it) and the ranks' models
 * stay identical. Open MPI 4.1 checks commutativity when it picks an
 * all-reduce algorithm (its tuned and base components keep rank order
 * for a non-commutative operation, e.g. reduce to rank 0 then broadcast).
 * Against one process the sums still run in another order: float64 agrees
 * to ~1e-12 relative, not bit for bit. The price: for large messages the
 * order-keeping algorithms are slower than a ring all-reduce, which does not
 * matter at a gradient of C k + C doubles per step. */
static void sum_doubles(void *in, void *inout, int *len, MPI_Datatype *type)
{
    (void)type;
    const double *a = in;
    double *b = inout;
    for (int i = 0; i < *len; i++)
        b[i] = a[i] + b[i];
}

static int mpi_failed(int rc, const char *what)
{
    char msg[MPI_MAX_ERROR_STRING] = "";
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    cli_error("%s failed: %s", what, msg);
    return CLI_FAIL;
}

int cli_mpi_start(const char *cmd, int *argc, char ***argv)
{
    if ((strcmp(cmd, "train") != 0 && strcmp(cmd, "cv") != 0) ||
        (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMIX_RANK")))
        return 0;
    int rc = MPI_Init(argc, argv);
    if (rc != MPI_SUCCESS)
        return mpi_failed(rc, "MPI_Init");
    active = 1;
    /* errors come back as codes: each is reported with the rank, then
     * cli_mpi_finish aborts every rank */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &my_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &n_ranks);
    if (n_ranks > 1)
        cli_error_rank(my_rank);
    rc = MPI_Op_create(sum_doubles, 0 /* not commutative: rank order */, &in_order_sum);
    if (rc != MPI_SUCCESS)
        return mpi_failed(rc, "MPI_Op_create");
    return 0;
}

int cli_mpi_finish(int status)
{
    if (!active)
        return status;
    /* 128 + a signal: training was interrupted, and every rank agreed to
     * stop (train_mpi_signal) and gets here while rank 0 saves: finalize,
     * which waits for it, rather than abort it mid-save */
    if (status != 0 && status < 128 && n_ranks > 1) {
        fflush(stdout);
        fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, status);
    }
    MPI_Op_free(&in_order_sum);
    MPI_Finalize();
    return status;
}

int cli_mpi_rank(void) { return my_rank; }
int cli_mpi_size(void) { return n_ranks; }

int cli_mpi_send(int dest, const void *buf, size_t bytes)
{
    const char *p = buf;
    for (size_t at = 0; at < bytes; at += CHUNK) {
        size_t len = bytes - at < CHUNK ? bytes - at : CHUNK;
        int rc = MPI_Send(p + at, (int)len, MPI_BYTE, dest, 0, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS)
            return mpi_failed(rc, "MPI_Send");
    }
    return 0;
}

int cli_mpi_recv(int src, void *buf, size_t bytes)
{
    char *p = buf;
    for (size_t at = 0; at < bytes; at += CHUNK) {
        size_t len = bytes - at < CHUNK ? bytes - at : CHUNK;
        int rc = MPI_Recv(p + at, (int)len, MPI_BYTE, src, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS)
            return mpi_failed(rc, "MPI_Recv");
    }
    return 0;
}

int cli_mpi_bcast(void *buf, size_t bytes)
{
    char *p = buf;
    for (size_t at = 0; at < bytes; at += CHUNK) {
        size_t len = bytes - at < CHUNK ? bytes - at : CHUNK;
        int rc = MPI_Bcast(p + at, (int)len, MPI_BYTE, 0, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS)
            return mpi_failed(rc, "MPI_Bcast");
    }
    return 0;
}

int cli_mpi_reduce(double *values, size_t count, void *user)
{
    (void)user;
    for (size_t at = 0; at < count; at += CHUNK) {
        size_t len = count - at < CHUNK ? count - at : CHUNK;
        int rc = MPI_Allreduce(MPI_IN_PLACE, values + at, (int)len, MPI_DOUBLE, in_order_sum,
                               MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) {
            mpi_failed(rc, "MPI_Allreduce");
            return -1;
        }
    }
    return 0;
}
