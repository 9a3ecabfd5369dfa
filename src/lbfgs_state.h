/* The L-BFGS history a model carries between csm_train() calls and in its
 * model file (lbfgs_state.c), so that a resumed L-BFGS continues as if it
 * had never stopped: the m pairs (s, y) as the rows of S and Y, which rows
 * hold the pairs in use and in what order, where the next pair goes, and
 * the stall count of the precision stop. The products s_i.y_j and y_i.y_j
 * the solver keeps on the host are not stored: it computes them again from
 * S and Y with the same device reductions, to the same bits. */
#ifndef CSM_LBFGS_STATE_H
#define CSM_LBFGS_STATE_H

#include "internal.h"

typedef struct csm_lbfgs_state {
    int mem;        /* m: rows of S and Y (lbfgs_memory) */
    int count;      /* pairs in use */
    int head;       /* row of the next pair */
    int stalled;    /* iterations in a row without a decrease of J */
    int *order;     /* (mem) the rows of the pairs in use, oldest first */
    cl_mem S, Y;    /* (mem, C k + C) at the model's precision, or NULL */
} csm_lbfgs_state;

/* A state of memory `mem` without buffers (NULL: out of memory). */
csm_lbfgs_state *csm_lbfgs_state_new(int mem);
/* Releases the buffers too; NULL is a no-op. */
void csm_lbfgs_state_free(csm_lbfgs_state *s);

/* The model file's metadata "solver_lbfgs": {"memory": m, "count": c,
 * "head": h, "order": [...], "stalled": s} (malloc'd; NULL: out of
 * memory). */
char *csm_lbfgs_state_text(const csm_lbfgs_state *s);
/* Parses and checks that text (memory 1..1000, count <= memory, head
 * < memory, order: count distinct rows < memory, stalled >= 0) into a new
 * state without buffers. CSM_ERR_FORMAT naming path and the field. */
csm_status csm_lbfgs_state_parse(csm_context *ctx, const char *path, const char *text,
                                 csm_lbfgs_state **out);

#endif
