/* Minibatch gather (kernels/gather.cl): copies of a shuffled minibatch's
 * rows, targets and weights into contiguous batch buffers, for paths that
 * cannot read them through the permutation. */
#ifndef CSM_GATHER_H
#define CSM_GATHER_H

#include "path.h"

typedef struct csm_gather {
    csm_context *ctx;
    cl_kernel k_batch;
    cl_mem xb; /* (cap, k) */
    cl_mem yb; /* (cap) int labels */
    cl_mem tb; /* (cap, C) soft targets, or a placeholder */
    cl_mem wb; /* (cap) sample weights, or a placeholder */
    int in_place; /* rows stay where they are (the path reads them through idx) */
    size_t C, k;
} csm_gather;

/* For batches of up to cap rows of d (its layout: a streamed dataset's
 * first chunk) on `path`: rows too unless the path reads them in place. */
csm_status csm_gather_init(csm_gather *g, const csm_model *m, const csm_dataset *d, size_t cap,
                           const csm_path_ops *path);
void csm_gather_free(csm_gather *g);
/* xb, yb/tb, wb = dataset rows idx[start .. start + B), in one launch */
csm_status csm_gather_enqueue(csm_gather *g, const csm_dataset *d, cl_mem idx, size_t start,
                              size_t B);
/* The gathered rows idx[start .. start + B) as a block: contiguous copies,
 * or the targets only (rows through idx) for paths that read rows in place. */
csm_block csm_gather_block(const csm_gather *g, const csm_dataset *d, cl_mem idx, size_t start,
                           size_t B);

#endif
