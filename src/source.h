/* A dataset as training sees it (source.c): this process's rows, resident
 * or streamed through the device in chunks (stream.c), and their place in
 * the global data set when several processes train together (the reduce
 * callback of csm_train_options sums over them). The source walks the
 * rows in blocks for whole passes and in minibatches for epochs; nothing
 * above it knows whether the rows are resident, streamed or shared. */
#ifndef CSM_SOURCE_H
#define CSM_SOURCE_H

#include "step.h"

typedef struct csm_source {
    csm_context *ctx;
    const csm_dataset *data; /* this process's rows */
    /* the global data set (this process alone without reduce) */
    size_t n, row0;     /* global rows; this process's first */
    double weight_sum;  /* global sum of the sample weights */
    double local_scale; /* local weight sum / global: turns a whole pass's
                           local mean into this process's share */
    /* distributed: the caller's all-reduce (NULL: one process) */
    csm_reduce_fn reduce;
    void *user;
    double procs, seq;  /* process count; sums made (the tag) */
    size_t len;         /* C k + C */
    double *buf;        /* (len + 3) host scratch */
    /* minibatches of an epoch (csm_source_batches) */
    size_t B, steps;    /* global batch size and steps per epoch */
    int whole;          /* streamed full batch: one step over every chunk */
    int permute;        /* shuffled */
    cl_mem idx;         /* the epoch's permutation (distributed: of this
                           process's rows) on the device */
    int32_t *perm;      /* (n) host copy */
    int32_t *lperm;     /* distributed, shuffled: this process's part of each
                           global batch, step t's rows lperm[lstart[t] ..
                           lstart[t + 1]) */
    size_t *lstart;
    int32_t *order;     /* streamed, shuffled: the epoch's chunk order */
} csm_source;

/* The source for model m's training on d: the global shape, agreed with
 * the other processes through `reduce` when it is not NULL. */
csm_status csm_source_init(csm_source *s, const csm_model *m, const csm_dataset *d,
                           csm_reduce_fn reduce, void *user);
void csm_source_free(csm_source *s);

/* values[0 .. count) summed over the processes in place (values has room
 * for count + 1: the tag that catches processes out of step). One process:
 * nothing to do. */
csm_status csm_source_sum(csm_source *s, double *values, size_t count);
/* w->dweight, w->dbias := the sum over the processes of this process's
 * (times `scale`; zeros when !have: it had no rows of the step), with
 * extras[0 .. nextra) (nextra <= 2) summed along. Blocking. */
csm_status csm_source_sum_grad(csm_source *s, csm_step *w, double scale, int have,
                               double *extras, size_t nextra);

/* Minibatches of B rows of the global data set (0 or past n: full batch);
 * the batches an epoch takes, and the rows the step buffers must hold. */
csm_status csm_source_batches(csm_source *s, size_t B, int shuffle);
size_t csm_source_batch_cap(const csm_source *s);

/* One batch of an epoch as this process holds it: the global step t, its
 * global size, and the block of this process's rows (B == 0: none here). */
typedef struct csm_batch {
    size_t t;          /* global step */
    size_t global_B;   /* rows of the global batch */
    const csm_dataset *chunk; /* the (resident) rows the block reads */
    size_t B;          /* this process's rows of the batch */
    size_t row0;       /* ... chunk rows row0 + r (no permutation), */
    size_t start;      /* ... or chunk rows idx[start + r] */
    cl_mem idx;        /* the permutation, or NULL */
} csm_batch;
typedef csm_status (*csm_batch_fn)(void *user, const csm_batch *b);
/* Epoch `epoch`'s sampling (permutation drawn from (seed, epoch) alone, so
 * a resumed run sees the batches an uninterrupted one would), then fn for
 * every global step in order. `real_x`: the path reads real-typed rows
 * (streamed 8-bit chunks are widened). Nothing here waits. */
csm_status csm_source_epoch(csm_source *s, uint64_t seed, long epoch, int real_x,
                            csm_batch_fn fn, void *user);

#endif
