/* Device operations on blocks of rows, shared by the public ops (ops.c)
 * and the training loop (train.c). Everything here only enqueues: the
 * host waits only where a caller reads results back. */
#ifndef CSM_OPS_H
#define CSM_OPS_H

#include "internal.h"

/* Which implementation computes a step: CLBlast GEMMs plus small kernels,
 * or one fused pass over the rows (kernels/fused.cl). */
typedef enum csm_path {
    CSM_PATH_CLBLAST = 0,
    CSM_PATH_FUSED = 1,
    CSM_PATH_SPARSE = 2,
    CSM_PATH_TILED = 3
} csm_path;

/* The fixed rule, for steps too small to be worth measuring and for
 * CLSOFTMAX_CALIBRATE=off (calibrate.c measures otherwise):
 * the "path" option (CLSOFTMAX_PATH=clblast|fused|tiled) forces one; else on CPU devices the
 * fused kernel up to CSM_FUSED_RULE_C classes (one read of X per step; at
 * C = 10 it measured 1.4x the tiled path's speed, at C = 100 a sixth of
 * it) and the tiled kernels above; CLBlast on other devices, where its
 * tuned GEMMs are the engine. The fused kernel keeps C accumulators in
 * registers: past CSM_FUSED_MAX_C it is not a candidate at all. */
#define CSM_FUSED_RULE_C 16
#define CSM_FUSED_MAX_C 256
csm_status csm_choose_path(csm_context *ctx, size_t C, csm_path *out);
const char *csm_path_name(csm_path p);
/* The device's preferred vector width for prec, clamped to the widths the
 * kernels implement (4, 8, 16). */
unsigned csm_vector_width(const csm_context *ctx, csm_precision prec);

/* Fused kernel geometry (its FL and RB): CPUs run one work-item per group
 * over blocks of 32 rows (a block of 8-bit rows stays in L1); other
 * devices cooperate 64 items per group over 64-row blocks. Less where the
 * device's work-group size or local memory (RB C reals) falls short, and
 * the tiled or CLBlast path where not even one row fits. */
#define CSM_FUSED_CPU_FL 1
#define CSM_FUSED_CPU_RB 32
#define CSM_FUSED_GPU_FL 64
#define CSM_FUSED_GPU_RB 64
/* Row groups of a fused step (ops.c, fused_groups): one per default RB
 * rows, at most GROUPS of them and BUDGET bytes of partial sums. */
#define CSM_FUSED_CPU_GROUPS 32
#define CSM_FUSED_GPU_GROUPS 2048
#define CSM_FUSED_CPU_BUDGET ((size_t)64 << 20)
#define CSM_FUSED_GPU_BUDGET ((size_t)256 << 20)

/* Tile geometry of the tiled path (kernels/tiled.cl): NV vectors per
 * tile, RT rows per logits tile, QC classes per gradient tile, KC rows per
 * gradient panel, FTI feature tiles per gradient work-item. */
typedef struct csm_tile {
    unsigned nv, rt, qc, kc, fti;
} csm_tile;
#define CSM_TILE_DEFAULT ((csm_tile){4, 5, 6, 64, 4})

/* Buffers and kernels for blocks of up to `cap` rows of one model shape. */
typedef struct csm_work {
    csm_context *ctx;
    csm_precision prec;
    size_t C, k, cap, slots;
    csm_path path;
    cl_mem logits;      /* (cap, C) */
    cl_mem out;         /* (cap, C) probabilities or delta */
    cl_mem row_loss;    /* (cap) */
    cl_mem row_correct; /* (cap) int */
    cl_mem dweight;     /* (C, k) */
    cl_mem dbias;       /* (C) */
    cl_mem stats;       /* (slots) summed loss per block */
    cl_mem correct;     /* (slots) int, correct predictions per block */
    cl_mem sumsq;       /* (slots) ||W||^2 per block */
    cl_kernel k_softmax, k_reduce, k_sumsq, k_bias_grad;
    size_t rwg, sumsq_wg; /* work-group sizes of the reductions (csm_reduce_group) */
    /* CLBlast path, split-K gradient: dW over `split` row chunks at once */
    size_t split;
    cl_mem dpartial;    /* (split, C, k) */
    int rebased;        /* an operand has been rebased (logged once) */
    cl_kernel k_sum_partials;
    /* fused path */
    size_t groups;      /* work-groups per step (at most) */
    size_t max_groups;  /* the bound on them (fused_groups) */
    size_t group_rows;  /* rows per group, at most groups (fused_groups) */
    size_t fl, rb;      /* work-items per group, rows per block */
    cl_mem partial;     /* (groups, C*k + C) */
    cl_mem gstats;      /* (groups) */
    cl_mem gcorrect;    /* (groups) int */
    cl_kernel k_fused, k_fused_reduce;
    /* sparse path (CSR datasets): the products; softmax etc. as CLBlast's */
    cl_kernel k_csr_logits, k_csc_grad, k_csr_grad_rows, k_transpose;
    size_t sparse_cb, sparse_ncb; /* classes per item, class blocks */
    size_t sparse_q;    /* feature chunks per class block of csr_grad_rows */
    cl_mem wt;          /* sparse: (k, C) transposed weights, made on first need;
                           tiled: (k, CP) packed by class tiles */
    /* tiled path */
    csm_tile tile;
    unsigned tiled_vec; /* vector width */
    size_t tiled_cp;    /* C rounded up to the vector width */
    size_t tiled_nfi;   /* gradient items along the features */
    size_t tiled_rows;  /* rows per logits item (a multiple of RT) */
    size_t tiled_cch, tiled_nch; /* classes per gradient chunk, chunks */
    cl_mem dbias_comp;  /* (C) compensation of the bias gradient's sums */
    cl_kernel k_tiled_transpose, k_tiled_logits, k_tiled_dweight;
} csm_work;

/* B rows of a step. CLBlast path: contiguous rows at x (row offset
 * x_row0), targets at labels / targets (row offset row0). Fused path:
 * dataset d's rows idx[start + r] (idx non-NULL) or start + r, with d's
 * targets used when labels / targets here are non-NULL. */
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

/* Contiguous copies of shuffled minibatch rows for the CLBlast path, whose
 * GEMMs need them contiguous (the fused path reads through the permutation). */
typedef struct csm_gather {
    csm_context *ctx;
    cl_kernel k_batch;
    cl_mem xb; /* (cap, k) */
    cl_mem yb; /* (cap) int labels */
    cl_mem tb; /* (cap, C) soft targets, or a placeholder */
    cl_mem wb; /* (cap) sample weights, or a placeholder */
    int in_place; /* rows stay where they are (the path reads them through idx) */
} csm_gather;

/* rows_in_place: the work's path reads rows through the permutation (the
 * tiled and sparse paths), so only targets and weights are gathered. */
csm_status csm_gather_init(csm_gather *g, csm_model *m, const csm_dataset *d, size_t cap,
                           int rows_in_place);
void csm_gather_free(csm_gather *g);
/* xb, yb/tb, wb = dataset rows idx[start .. start + B), in one launch */
csm_status csm_enqueue_gather(csm_gather *g, const csm_dataset *d, cl_mem idx, size_t start,
                              size_t B);
/* The gathered rows idx[start .. start + B) as a block: contiguous copies
 * for the CLBlast path, the targets only (rows through idx) for CSR data. */
csm_block csm_gather_block(const csm_gather *g, const csm_dataset *d, cl_mem idx, size_t start,
                           size_t B);

/* Work for model m over dataset d (d may be NULL: real-typed features),
 * on the path calibrate.c chooses. */
csm_status csm_work_init_data(csm_work *w, csm_model *m, const csm_dataset *d, size_t cap,
                              size_t slots);
/* The same on a given path (tile: the tiled path's geometry; the "tile"
 * option still wins). */
csm_status csm_work_init_path(csm_work *w, csm_model *m, const csm_dataset *d, size_t cap,
                              size_t slots, csm_path path, const csm_tile *tile);
void csm_work_free(csm_work *w);

/* logits = X W^T (no bias yet) */
csm_status csm_enqueue_logits(csm_work *w, csm_model *m, const csm_block *b);
/* Bias, softmax, per-row loss/correctness and the output `mode` selects
 * (CSM_WRITE_* flags of kernels/common.cl; target flags are added here). */
csm_status csm_enqueue_softmax(csm_work *w, csm_model *m, const csm_block *b, int mode,
                               double scale);
/* stats[slot], correct[slot] = sums over the block's rows */
csm_status csm_enqueue_reduce(csm_work *w, size_t slot, size_t B);
/* Reads stats and correct of slots [0, nblocks) back (blocking) and totals
 * them in double; either output may be NULL. */
csm_status csm_read_sums(csm_work *w, size_t nblocks, double *loss_sum, double *correct_sum);
/* sumsq[slot] = ||W||^2 */
csm_status csm_enqueue_sumsq(csm_work *w, csm_model *m, size_t slot);
/* What csm_enqueue_grad's bias-sum launch also does, so a step needs no
 * launch of its own for these one-work-group reductions. */
enum {
    CSM_GRAD_LOSS = 1, /* stats[slot], correct[slot], as csm_enqueue_reduce */
    CSM_GRAD_SUMSQ = 2 /* sumsq[slot] = ||W||^2, as csm_enqueue_sumsq (m's W) */
};
/* dweight (+)= delta^T X; dbias (+)= column sums of delta; the `extras`
 * (CSM_GRAD_* flags) into slot. m is read only for CSM_GRAD_SUMSQ. */
csm_status csm_enqueue_grad(csm_work *w, const csm_model *m, const csm_block *b, int accumulate,
                            int extras, size_t slot);
/* The whole backward-ready step for one block: logits, softmax delta scaled
 * by `scale`, loss into slot, gradient (accumulated if asked), and with
 * `sumsq` ||W||^2 into sumsq[slot] (the weights the step's gradient sees). */
csm_status csm_enqueue_batch_grad(csm_work *w, csm_model *m, const csm_block *b, double scale,
                                  size_t slot, int accumulate, int sumsq);
/* Forward-only pass of a block on either path: loss and correctness into
 * slot (with targets), and the outputs `mode` asks for (CSM_WRITE_LOGITS:
 * S + b into w->logits, CSM_WRITE_PROBS: into w->out; without targets the
 * argmax goes to w->row_correct). */
csm_status csm_enqueue_block_forward(csm_work *w, csm_model *m, const csm_block *b, int mode,
                                     size_t slot);

csm_status csm_set_real_arg(csm_context *ctx, cl_kernel k, cl_uint idx, csm_precision prec,
                            double v);
csm_status csm_set_arg(csm_context *ctx, cl_kernel k, cl_uint idx, size_t size, const void *v);
csm_status csm_launch(csm_context *ctx, cl_kernel k, cl_uint dims, const size_t *global,
                      const size_t *local, const char *name);

/* Flags mirrored from kernels/common.cl */
enum {
    CSM_WRITE_LOGITS = 1,
    CSM_WRITE_PROBS = 2,
    CSM_WRITE_DELTA = 4,
    CSM_HAS_LABELS = 8,
    CSM_HAS_TARGETS = 16,
    CSM_COMPUTE_GRAD = 32,
    CSM_HAS_WEIGHTS = 128,
    CSM_WG = 64
};

/* Rows per block for whole-dataset operations (bounded device memory;
 * the "block_rows" option lowers it to test block seams). */
size_t csm_block_rows(const csm_model *m, size_t n);
/* The same for a pass over d (within one chunk when streamed), and the
 * blocks (stats slots) that pass takes. */
size_t csm_pass_rows(const csm_model *m, const csm_dataset *d);
size_t csm_pass_blocks(const csm_dataset *d, size_t cap);
/* Contiguous rows [row0, row0 + B) of d, with its targets and weights,
 * described for both paths. */
csm_block csm_dataset_block(const csm_dataset *d, size_t row0, size_t B);

/* ---- path_tiled.c: S = X W^T and dW = D^T X by register-blocked kernels */
/* *fits = 0 (nothing built) when even the smallest panel does not fit the
 * device's local memory */
csm_status csm_tiled_init(csm_work *w, const csm_dataset *d, int *fits);
csm_status csm_tiled_enqueue_logits(csm_work *w, csm_model *m, const csm_block *b);
/* dweight and dbias (+)= the block's gradient (one launch: the bias sums
 * are taken while the gradient kernel has the deltas in cache) */
csm_status csm_tiled_enqueue_grad(csm_work *w, const csm_block *b, int accumulate);

/* ---- path_sparse.c: S = X W^T and dW = D^T X for CSR datasets */
csm_status csm_sparse_init(csm_work *w);
csm_status csm_sparse_enqueue_logits(csm_work *w, csm_model *m, const csm_block *b);
/* dweight (+)= delta^T X of the block (contiguous rows: the CSC copy;
 * permuted rows: a row walk per class and feature chunk) */
csm_status csm_sparse_enqueue_dweight(csm_work *w, const csm_block *b, int accumulate);

/* stream.c: every row block of d in turn (blocks of w->cap rows within
 * each chunk, one stats slot each, csm_pass_blocks of them): the loss and
 * gradient of the weighted mean, accumulated over the blocks (grad), or
 * the forward pass only. */
csm_status csm_enqueue_dataset(csm_work *w, csm_model *m, const csm_dataset *d, int grad);

/* Checks a model and dataset belong together (context, precision, k, C
 * when the dataset has targets, targets present when `need_targets`). */
csm_status csm_check_pair(csm_model *m, const csm_dataset *d, int need_targets, const char *fn);

#endif
