/* The interface every implementation of a training step ("path") offers,
 * and the state they share. One file per path, each with its own state
 * behind `priv`:
 *   path_fused.c    one kernel per block: logits, softmax, loss and the
 *                   gradient while the rows are in cache (small C)
 *   path_clblast.c  S = X W^T and dW = D^T X as CLBlast GEMMs
 *   path_tiled.c    the same products by our register-blocked kernels (CPUs)
 *   path_sparse.c   the same products over CSR rows and a CSC copy
 * The product paths share the softmax, loss, delta and bias kernels of
 * step.c (the tiled path's gradient steps do them in its own kernels); the
 * fused path does it all itself. paths.c holds the table,
 * choose.c picks from it, step.c drives the chosen one. */
#ifndef CSM_PATH_H
#define CSM_PATH_H

#include "internal.h"

struct csm_update;

typedef enum csm_path {
    CSM_PATH_CLBLAST = 0,
    CSM_PATH_FUSED = 1,
    CSM_PATH_SPARSE = 2,
    CSM_PATH_TILED = 3,
    CSM_N_PATHS
} csm_path;

/* The path's name, as the "path" option and the calibration file spell it. */
static inline const char *csm_path_name(csm_path id)
{
    switch (id) {
    case CSM_PATH_CLBLAST: return "clblast";
    case CSM_PATH_FUSED: return "fused";
    case CSM_PATH_SPARSE: return "sparse";
    case CSM_PATH_TILED: return "tiled";
    default: return "unknown";
    }
}

/* Tile geometry of the tiled path (kernels/tiled.cl): NV vectors per
 * tile, RT rows per logits tile, QC classes per gradient tile, KC rows per
 * gradient panel, FTI feature tiles per gradient work-item. */
typedef struct csm_tile {
    unsigned nv, rt, qc, kc, fti;
} csm_tile;
#define CSM_TILE_DEFAULT ((csm_tile){4, 5, 6, 64, 4})

/* What a path is asked to run: the model's shape and the data's storage. */
typedef struct csm_shape {
    csm_precision prec;
    size_t C, k;
    int sparse; /* CSR rows */
    int x_u8;   /* dense rows stored as bytes */
} csm_shape;

/* B rows of a step. Contiguous rows: x (row offset x_row0; the real-typed
 * features or a gathered batch), targets at labels / targets (row offset
 * row0). Paths that read rows in place: dataset d's rows idx[start + r]
 * (idx non-NULL) or start + r. */
typedef struct csm_block {
    cl_mem x;
    size_t x_row0;
    cl_mem labels;  /* or NULL */
    cl_mem targets; /* or NULL */
    size_t row0;
    size_t B;
    const csm_dataset *d;
    cl_mem idx;
    size_t start;
    cl_mem weights; /* sample weights read like the targets, or NULL */
} csm_block;

/* Buffers for blocks of up to `cap` rows of one model shape, shared by
 * every path, and the path's own state. */
typedef struct csm_step {
    csm_context *ctx;
    csm_precision prec;
    size_t C, k, cap, slots;
    const struct csm_path_ops *path;
    csm_tile tile;      /* the geometry it was asked for (the tiled path's) */
    void *priv;         /* the path's state (its file's own struct) */
    cl_mem logits;      /* (cap, C) */
    cl_mem out;         /* (cap, C) probabilities or delta */
    cl_mem row_loss;    /* (cap) */
    cl_mem row_correct; /* (cap) int */
    cl_mem dweight;     /* (C, k); a whole pass's: the caller's vector (objective.c) */
    /* (C, k) or more that a block's logits may overwrite before its
     * gradient (not accumulated) overwrites it: a whole pass's first
     * block's dweight (step.c), else NULL */
    cl_mem scratch;
    cl_mem dbias;       /* (C) */
    cl_mem stats;       /* (slots) summed loss per block */
    cl_mem correct;     /* (slots) int, correct predictions per block */
    cl_mem sumsq;       /* (slots) ||W||^2 per block */
    /* step.c's kernels: the product paths' softmax, loss sums and bias
     * gradient, and ||W||^2, the Hessian-vector rows and the Hessian
     * diagonal's rows and dense products (built on first use) */
    cl_kernel k_softmax, k_reduce, k_bias_grad, k_sumsq, k_hv, k_hdiag, k_sq_grad;
    size_t rwg, sumsq_wg; /* work-group sizes of the reductions */
} csm_step;

/* How a path reads a shuffled minibatch (csm_path_ops.flags). */
enum {
    CSM_PATH_ROWS_IDX = 1,    /* rows through the permutation, in place */
    CSM_PATH_TARGETS_IDX = 2, /* targets and weights through it too: nothing is gathered */
    CSM_PATH_REAL_X = 4       /* needs real-typed rows (8-bit ones are widened) */
};

typedef struct csm_path_ops {
    csm_path id;
    unsigned flags;
    /* Whether the path runs this shape on this device at all. */
    int (*fits)(const csm_context *ctx, const csm_shape *shape);
    /* Its kernels and state for w (d: a dataset with rows on the device
     * whose storage the kernels read, or NULL; tile: the tiled path's
     * geometry). *fits = 0, nothing held, when the device's limits leave
     * no room for it after all. */
    csm_status (*init)(csm_step *w, const csm_dataset *d, const csm_tile *tile, int *fits);
    void (*free)(csm_step *w);
    /* Product paths: w->logits = X W^T for the (C, k) weights `weight` (the
     * model's, or a direction's: no bias yet); dweight (+)= w->out^T X (and
     * dbias (+)= w->out^T 1 where `sums_bias`). NULL on the fused path. */
    csm_status (*logits)(csm_step *w, cl_mem weight, const csm_block *b);
    csm_status (*grad)(csm_step *w, const csm_block *b, int accumulate);
    int sums_bias;
    /* Product paths: dweight (+)= w->out^T (X o X), the squares of X's
     * entries (the Hessian's diagonal; contiguous rows, no permutation);
     * NULL: step.c's kernel over dense rows. Never sums the bias. */
    csm_status (*grad_sq)(csm_step *w, const csm_block *b, int accumulate);
    /* The fused path: a forward pass (outputs by mode, loss sums into slot)
     * and a gradient step of a block; NULL on the product paths, whose
     * step.c composes them from the products. */
    csm_status (*forward)(csm_step *w, const csm_model *m, const csm_block *b, int mode,
                          size_t slot);
    csm_status (*step)(csm_step *w, const csm_model *m, const csm_block *b, double scale,
                       size_t slot, int accumulate, int sumsq);
    /* The tiled path: whether a step of B rows can apply the solver's
     * update itself (fuses_update), and such a step (step_update): the
     * gradient as `step` (not accumulated), then u applied to W and b by the
     * gradient's launch. kept: nothing but such steps of this step object
     * wrote W since the last one (its copy of W^T is still W's). NULL
     * elsewhere. */
    int (*fuses_update)(const csm_step *w, size_t B);
    csm_status (*step_update)(csm_step *w, const csm_model *m, const csm_block *b,
                              double scale, size_t slot, int sumsq,
                              const struct csm_update *u, int kept);
    /* How it runs, after its name ("4,5,6,64,4" for the tiled path's
     * geometry; "" when there is nothing to add); may be NULL. */
    void (*describe)(const csm_step *w, char *buf, size_t len);
} csm_path_ops;

extern const csm_path_ops csm_path_clblast, csm_path_fused, csm_path_sparse, csm_path_tiled;

/* ---- paths.c: the table */
const csm_path_ops *csm_path_get(csm_path id);
/* The path that takes over when `id` does not fit the device (none: NULL). */
const csm_path_ops *csm_path_fallback(const csm_context *ctx, csm_path id);

#endif
