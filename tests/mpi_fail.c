/* A PMPI interposer for tests/cli/mpi.sh, preloaded (LD_PRELOAD) into the
 * ranks of `mpirun ... clsoftmax train`: with CSM_MPI_FAIL=RANK:N, rank
 * RANK's N-th MPI_Allreduce returns an error instead of reducing, as a rank
 * whose device or data failed mid-training would leave the others waiting
 * in theirs. The test then sees every rank stop, the error naming the rank,
 * and no hang. The shipped command has no such hook: the MPI standard's
 * profiling interface (every MPI_X is also PMPI_X) lets a library in front
 * of libmpi stand in for one call. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int MPI_Allreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype type, MPI_Op op,
                  MPI_Comm comm)
{
    static int read_env;
    static long fail_rank = -1, fail_call, calls;
    if (!read_env) {
        const char *f = getenv("CSM_MPI_FAIL");
        if (!f || sscanf(f, "%ld:%ld", &fail_rank, &fail_call) != 2)
            fail_rank = -1;
        read_env = 1;
    }
    int rank = -1;
    PMPI_Comm_rank(comm, &rank);
    if (++calls == fail_call && rank == fail_rank) {
        fprintf(stderr, "mpi_fail.c: rank %d fails its MPI_Allreduce %ld here\n", rank, calls);
        return MPI_ERR_OTHER;
    }
    return PMPI_Allreduce(sendbuf, recvbuf, count, type, op, comm);
}
