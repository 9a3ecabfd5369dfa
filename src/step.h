/* Running a path (path.h) on blocks of rows: a step's buffers, the
 * forward pass and the gradient step of a block on whichever path was
 * chosen, and the softmax, loss and bias kernels the product paths share.
 * Everything here only enqueues, except csm_step_read_sums. */
#ifndef CSM_STEP_H
#define CSM_STEP_H

#include "path.h"

/* A step for model m on `path` (tile: the tiled path's geometry) over
 * blocks of up to cap rows with `slots` loss slots; d (NULL: real-typed
 * rows) has rows on the device. A path that does not fit the device hands
 * over to its fallback (paths.c), saying so at debug level. */
csm_status csm_step_init(csm_step *w, const csm_model *m, const csm_dataset *d, size_t cap,
                         size_t slots, csm_path path, const csm_tile *tile);
void csm_step_free(csm_step *w);

/* Forward pass of a block: loss and correctness into slot (with targets),
 * and the outputs `mode` asks for (CSM_WRITE_LOGITS: S + b into w->logits,
 * CSM_WRITE_PROBS: into w->out; without targets the argmax goes to
 * w->row_correct). */
csm_status csm_step_forward(csm_step *w, const csm_model *m, const csm_block *b, int mode,
                            size_t slot);
/* The gradient step of a block: dweight, dbias (+)= the gradient of the
 * block's loss scaled by `scale` (accumulated if asked), its loss sums
 * into slot, and with `sumsq` ||W||^2 (of the weights the step sees) into
 * sumsq[slot]. */
csm_status csm_step_grad(csm_step *w, const csm_model *m, const csm_block *b, double scale,
                         size_t slot, int accumulate, int sumsq);
/* A kept copy of the probabilities P = softmax(X W^T + b) of a whole
 * pass's rows (n, C), which every Hessian product at the same weights
 * shares: buf (NULL: none, computed every time), the block's first row in
 * it, and whether this pass computes and keeps them (fill) or reads them. */
typedef struct csm_probs {
    cl_mem buf;
    size_t row;
    int fill;
} csm_probs;
/* The Hessian of a block's loss (scaled by `scale`) times the direction
 * v, a parameter vector (vec.h: V (C, k), then its bias part): dweight,
 * dbias (+)= sum_i D_i (x_i, 1), D_i = w_i P_i * (z_i - (P_i . z_i)) with
 * P_i = softmax(W x_i + b) and z_i = V x_i + v_b (P from pr where it says
 * so; pr NULL: computed). Product paths only. */
csm_status csm_step_hv(csm_step *w, const csm_model *m, const csm_block *b, cl_mem v,
                       double scale, int accumulate, const csm_probs *pr);
/* The diagonal of the same Hessian (contiguous rows): dweight, dbias (+)=
 * sum_i D_i (x_i o x_i, 1), D_ic = scale w_i P_ic (1 - P_ic). */
csm_status csm_step_hess_diag(csm_step *w, const csm_model *m, const csm_block *b,
                              double scale, int accumulate, const csm_probs *pr);
/* Whether the path can apply the solver's update to a step of B rows
 * itself, and that step: csm_step_grad (slot, sumsq; not accumulated),
 * then W and b updated by u (vec.h's csm_update) in the gradient's launch,
 * as csm_vec_update would, with no launch of its own; dweight and dbias
 * hold the gradient after it. kept: the caller's last call on w was such
 * a step and nothing else has written W since. */
int csm_step_fuses_update(const csm_step *w, size_t B);
csm_status csm_step_grad_update(csm_step *w, const csm_model *m, const csm_block *b,
                                double scale, size_t slot, int sumsq,
                                const struct csm_update *u, int kept);
/* sumsq[slot] = ||W||^2 */
csm_status csm_step_sumsq(csm_step *w, const csm_model *m, size_t slot);
/* Reads stats and correct of slots [0, nblocks) back (blocking) and totals
 * them in double; either output may be NULL. */
csm_status csm_step_read_sums(csm_step *w, size_t nblocks, double *loss_sum,
                              double *correct_sum);
/* "tiled 4,5,6,64,4", "clblast gradient GEMM in 4 row chunks": the path
 * and how it runs. */
void csm_step_describe(const csm_step *w, char *buf, size_t len);

/* The product paths' pieces (for the benchmark's phases): logits = X W^T
 * by the path; bias, softmax, per-row loss and the `mode` output; the
 * loss sums of a block into slot; dweight, dbias (+)= delta^T (X, 1) with
 * the `extras` (CSM_STEP_*) in the bias launch. */
enum {
    CSM_STEP_LOSS = 1, /* stats[slot], correct[slot], as csm_step_reduce */
    CSM_STEP_SUMSQ = 2 /* sumsq[slot] = ||W||^2, as csm_step_sumsq */
};
csm_status csm_step_softmax(csm_step *w, const csm_model *m, const csm_block *b, int mode,
                            double scale);
/* mode (CSM_WRITE_*) with the block's targets' flags (CSM_HAS_*) */
int csm_step_mode(const csm_block *b, int mode);
csm_status csm_step_reduce(csm_step *w, size_t slot, size_t B);
csm_status csm_step_products_grad(csm_step *w, const csm_model *m, const csm_block *b,
                                  int accumulate, int extras, size_t slot);

/* Contiguous rows [row0, row0 + B) of d, with its targets and weights. */
csm_block csm_block_of(const csm_dataset *d, size_t row0, size_t B);

/* Whole-dataset passes: rows per block (bounded device memory; the
 * "block_rows" option lowers it to test block seams), for a pass over d
 * (within one chunk when streamed), and the blocks (loss slots) it takes. */
size_t csm_block_cap(const csm_model *m, size_t n);
size_t csm_pass_rows(const csm_model *m, const csm_dataset *d);
size_t csm_pass_blocks(const csm_dataset *d, size_t cap);
/* Every row block of d in turn (blocks of w->cap rows within each chunk,
 * one loss slot each): the gradient of the weighted mean loss accumulated
 * over the blocks (grad), or the forward pass only. */
csm_status csm_step_dataset(csm_step *w, const csm_model *m, const csm_dataset *d, int grad);
/* The same pass for csm_step_hv: the weighted mean loss's Hessian times v
 * accumulated in dweight, dbias. */
csm_status csm_step_dataset_hv(csm_step *w, const csm_model *m, const csm_dataset *d, cl_mem v,
                               const csm_probs *probs);
/* ... and its diagonal (csm_step_hess_diag). probs: as csm_probs, for the
 * whole dataset (row fields ignored), or NULL. */
csm_status csm_step_dataset_diag(csm_step *w, const csm_model *m, const csm_dataset *d,
                                 const csm_probs *probs);

#endif
