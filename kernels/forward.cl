/* Bias, numerically stable softmax, cross-entropy (common.cl's row
 * functions) and the (O - T) delta for a block of B rows of logits
 * S = X W^T, one work-item per row.
 *
 * Each row is processed in vectors of VEC classes (the host passes the
 * device's preferred width): with hundreds of classes the exp() calls are
 * the cost of this kernel, and the vector exp is several times the scalar
 * one's throughput on CPUs. The classes past the last whole vector are
 * done one by one. */

/* logits (B, C) in: X W^T (no bias); out: S + b (a scratch buffer the next
 *                GEMM overwrites, so the bias is always added in place)
 * out     (B, C) probabilities or scaled delta, by mode
 * row_loss (B)   -sum_c T_ic log O_ic, from log-sum-exp (never log(0))
 * row_correct (B) 1 when argmax S_i equals the label (or argmax T_i; the
 *                first of equal maxima)
 * labels / targets / weights are read at row `row0 + i` (the block's place in
 * the set); a sample weight multiplies the row's loss and delta. */
__kernel void softmax_xent_forward(__global real *logits, __global real *out,
                                   __global real *row_loss, __global int *row_correct,
                                   __global const real *bias, __global const int *labels,
                                   __global const real *targets, __global const real *weights,
                                   const int row0, const int B,
                                   const int mode, const real scale, const int C)
{
    /* compared before narrowing: the launch rounds B up, past INT_MAX for
     * the largest B */
    if (get_global_id(0) >= (size_t)B)
        return;
    const int i = get_global_id(0);
    const int y = (mode & CSM_HAS_LABELS) ? labels[row0 + i] : 0;
    __global const real *t =
        (mode & CSM_HAS_TARGETS) ? targets + (size_t)(row0 + i) * C : targets;
    const real wi = (mode & CSM_HAS_WEIGHTS) ? weights[row0 + i] : (real)1;
    row_softmax_xent(logits + (size_t)i * C, out + (size_t)i * C, bias, y, t, wi, mode, scale,
                     C, row_loss + i, row_correct + i);
}

/* The rows of a Hessian-vector product (step.c's csm_step_hv): out holds
 * the block's probabilities P, zl its logits Z = X V^T for a direction V
 * whose bias part is v[vb .. vb + C). In place, row by row:
 *   out_i = scale w_i P_i * (z_i - P_i . z_i),  z_i = Z_i + v_b
 * (w_i the sample weight, or 1), whose product with (X, 1) is the block's
 * Hessian times V. */
__kernel void hessian_rows(__global real *out, __global const real *zl,
                           __global const real *v, const ulong vb,
                           __global const real *weights, const int has_weights,
                           const int row0, const int B, const real scale, const int C)
{
    if (get_global_id(0) >= (size_t)B)
        return;
    const int i = get_global_id(0);
    __global real *p = out + (size_t)i * C;
    __global const real *z = zl + (size_t)i * C;
    __global const real *vbias = v + vb;
    real pz = 0;
    for (int c = 0; c < C; c++)
        pz += p[c] * (z[c] + vbias[c]);
    const real f = scale * (has_weights ? weights[row0 + i] : (real)1);
    for (int c = 0; c < C; c++)
        p[c] = f * p[c] * (z[c] + vbias[c] - pz);
}

/* The rows of the Hessian's diagonal (step.c's csm_step_hess_diag): out
 * holds the block's probabilities P; in place, out_ic = scale w_i P_ic
 * (1 - P_ic) (w_i the sample weight, or 1), whose product with
 * (X o X, 1) is the diagonal of the block's Hessian. */
__kernel void hessian_diag_rows(__global real *out, __global const real *weights,
                                const int has_weights, const int row0, const int B,
                                const real scale, const int C)
{
    if (get_global_id(0) >= (size_t)B)
        return;
    const int i = get_global_id(0);
    __global real *p = out + (size_t)i * C;
    const real f = scale * (has_weights ? weights[row0 + i] : (real)1);
    for (int c = 0; c < C; c++)
        p[c] = f * p[c] * (1 - p[c]);
}

/* dense_sq_grad's tile (csm_kernel_flags.h): SQ_JT neighbouring features
 * (a cache line of floats) by SQ_CB classes per item, its sums in
 * registers. */
#define SQ_JT CSM_SQ_JT
#define SQ_CB CSM_SQ_CB

/* dW (C, k) (+)= D^T (X o X) for the dense rows [row0, row0 + B) of x
 * (real) or xb (bytes, `bytes`): the Hessian's diagonal on the dense
 * paths, once per Newton iteration. One item per tile of SQ_JT features
 * and SQ_CB classes walks down the rows: each reads its features of a row
 * as one run (an item per feature, walking a column alone, loaded a cache
 * line per row and value: 6x slower on Fashion-MNIST). */
__kernel void dense_sq_grad(__global real *dW, __global const real *D, __global const real *x,
                            __global const uchar *xb, const int bytes, const ulong row0,
                            const int B, const int accumulate, const int C, const int k)
{
    const int j0 = get_global_id(0) * SQ_JT, c0 = get_global_id(1) * SQ_CB;
    if (j0 >= k || c0 >= C)
        return;
    const int nj = min(SQ_JT, k - j0), nc = min(SQ_CB, C - c0);
    real acc[SQ_CB][SQ_JT];
    for (int u = 0; u < SQ_CB; u++)
        for (int t = 0; t < SQ_JT; t++)
            acc[u][t] = 0;
    for (int i = 0; i < B; i++) {
        const size_t q = (row0 + i) * k + j0;
        real v2[SQ_JT];
        for (int t = 0; t < SQ_JT; t++) {
            /* bytes: value = byte / 255, as common.cl's XVAL */
            const real v = t < nj ? (bytes ? (real)xb[q + t] * (real)(1.0 / 255.0) : x[q + t]) : 0;
            v2[t] = v * v;
        }
        __global const real *d = D + (size_t)i * C + c0;
        for (int u = 0; u < SQ_CB; u++) {
            const real du = u < nc ? d[u] : 0;
            for (int t = 0; t < SQ_JT; t++)
                acc[u][t] += du * v2[t];
        }
    }
    for (int u = 0; u < nc; u++)
        for (int t = 0; t < nj; t++) {
            const size_t o = (size_t)(c0 + u) * k + j0 + t;
            dW[o] = accumulate ? dW[o] + acc[u][t] : acc[u][t];
        }
}
