/* Flags and constants that the host and the kernels share, defined once:
 * the library's C sources include this header, and program.c puts it at
 * the head of every kernel program it builds. Plain #defines, so that it
 * reads the same in C and in OpenCL C. */
#ifndef CSM_KERNEL_FLAGS_H
#define CSM_KERNEL_FLAGS_H

/* The `mode` of a forward or step kernel (softmax_xent_forward, fused_step). */
#define CSM_WRITE_LOGITS 1  /* write S + b out */
#define CSM_WRITE_PROBS 2   /* store softmax(S + b) */
#define CSM_WRITE_DELTA 4   /* store (O - T) * scale */
#define CSM_HAS_LABELS 8    /* targets are integer labels */
#define CSM_HAS_TARGETS 16  /* targets are a soft (n, C) matrix */
#define CSM_COMPUTE_GRAD 32 /* the fused step also sums the gradient */
#define CSM_HAS_WEIGHTS 128 /* per-sample weights scale each row's loss and delta */

/* The update rule a tiled gradient applies after its sums (tiled.cl's
 * tiled_dweight; 0: none). */
#define CSM_RULE_SGD 1
#define CSM_RULE_MOMENTUM 2
#define CSM_RULE_ADAM 3

/* Lanes of every reduction: its sums, and their order, do not depend on
 * the work-group size it runs with (common.cl, FOR_LANES). */
#define CSM_WG 64

/* The operation of vec_reduce_partial / vec_reduce_final (vec.cl). */
#define CSM_VEC_DOT 0
#define CSM_VEC_MAXABS 1
#define CSM_VEC_ASUM 2 /* sum |a[i]|: the L1 norm */

/* The tile of dense_sq_grad (forward.cl): features by classes per item. */
#define CSM_SQ_JT 16
#define CSM_SQ_CB 8

#endif
