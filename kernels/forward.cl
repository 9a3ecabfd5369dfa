/* Bias, numerically stable softmax, cross-entropy and the (O - T) delta for
 * a block of B rows of logits S = X W^T, one work-item per row. */

/* logits (B, C) in: X W^T (no bias); out: S + b (a scratch buffer the next
 *                GEMM overwrites, so the bias is always added in place)
 * out     (B, C) probabilities or scaled delta, by mode
 * row_loss (B)   -sum_c T_ic log O_ic, from log-sum-exp (never log(0))
 * row_correct (B) 1 when argmax S_i equals the label (or argmax T_i)
 * labels / targets / weights are read at row `row0 + i` (the block's place in
 * the set); a sample weight multiplies the row's loss and delta. */
__kernel void softmax_xent_forward(__global real *logits, __global real *out,
                                   __global real *row_loss, __global int *row_correct,
                                   __global const real *bias, __global const int *labels,
                                   __global const real *targets, __global const real *weights,
                                   const int row0, const int B,
                                   const int mode, const real scale)
{
    const int i = get_global_id(0);
    if (i >= B)
        return;
    __global real *s = logits + (size_t)i * NCLASS;

    real m = -INFINITY;
    int arg = 0;
    for (int c = 0; c < NCLASS; c++) {
        const real v = s[c] + bias[c];
        s[c] = v;
        if (v > m) {
            m = v;
            arg = c;
        }
    }
    real z = 0;
    for (int c = 0; c < NCLASS; c++)
        z += exp(s[c] - m);
    const real lse = m + log(z); /* z >= 1: the max term contributes exp(0) */

    __global real *o = out + (size_t)i * NCLASS;
    const real wi = (mode & CSM_HAS_WEIGHTS) ? weights[row0 + i] : (real)1;
    const real dscale = scale * wi;
    if (mode & CSM_HAS_LABELS) {
        const int y = labels[row0 + i];
        row_loss[i] = wi * (lse - s[y]);
        row_correct[i] = (arg == y);
        if (mode & (CSM_WRITE_PROBS | CSM_WRITE_DELTA)) {
            for (int c = 0; c < NCLASS; c++) {
                const real p = exp(s[c] - lse);
                o[c] = (mode & CSM_WRITE_DELTA) ? (p - (c == y ? (real)1 : (real)0)) * dscale : p;
            }
        }
    } else if (mode & CSM_HAS_TARGETS) {
        __global const real *t = targets + (size_t)(row0 + i) * NCLASS;
        real loss = 0, tmax = -1;
        int targ = 0;
        for (int c = 0; c < NCLASS; c++) {
            /* T_ic (lse - s_ic); a zero target contributes exactly 0 */
            if (t[c] != 0)
                loss += t[c] * (lse - s[c]);
            if (t[c] > tmax) {
                tmax = t[c];
                targ = c;
            }
            if (mode & (CSM_WRITE_PROBS | CSM_WRITE_DELTA)) {
                const real p = exp(s[c] - lse);
                o[c] = (mode & CSM_WRITE_DELTA) ? (p - t[c]) * dscale : p;
            }
        }
        row_loss[i] = wi * loss;
        row_correct[i] = (arg == targ);
    } else {
        if (mode & CSM_WRITE_PROBS)
            for (int c = 0; c < NCLASS; c++)
                o[c] = exp(s[c] - lse);
        row_correct[i] = arg; /* without targets: the predicted class */
    }
}
