/* The MPI layer of the clsoftmax command: a few primitives (mpi.c with Open
 * MPI, mpi_none.c without: one process) that mpi_train.c builds the
 * distributed `train` on, and cv_fit.c the distributed folds of `cv`. Nothing else in the command calls MPI. */
#ifndef CSM_CLI_MPI_H
#define CSM_CLI_MPI_H

#include <stddef.h>

/* MPI_Init when `cmd` is "train" or "cv" and the process was started by mpirun
 * (OMPI_COMM_WORLD_SIZE or PMIX_RANK set); a plain `clsoftmax` never
 * touches MPI. Returns 0, or CLI_FAIL after printing the error. */
int cli_mpi_start(const char *cmd, int *argc, char ***argv);
/* The command's exit: MPI_Finalize after success, and after an
 * interruption every rank agreed on (status 128 + the signal); after a
 * failure on any rank, MPI_Abort with the status, which stops every rank
 * (one waiting in a collective for the failed one would wait forever).
 * Returns status. */
int cli_mpi_finish(int status);
/* 0 and 1 outside mpirun or without MPI. */
int cli_mpi_rank(void);
int cli_mpi_size(void);
/* Point to point and broadcast (from rank 0) of any number of bytes;
 * 0, or non-zero after printing the error. */
int cli_mpi_send(int dest, const void *buf, size_t bytes);
int cli_mpi_recv(int src, void *buf, size_t bytes);
int cli_mpi_bcast(void *buf, size_t bytes);
/* csm_reduce_fn: the sum over every rank, in rank order (see mpi.c). */
int cli_mpi_reduce(double *values, size_t count, void *user);

#endif
