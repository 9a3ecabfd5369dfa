/* Bias, numerically stable softmax, cross-entropy and the (O - T) delta for
 * a block of B rows of logits S = X W^T, one work-item per row.
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
    const int NCV = C / VEC; /* whole vectors per row */
    /* compared before narrowing: the launch rounds B up, past INT_MAX for
     * the largest B */
    if (get_global_id(0) >= (size_t)B)
        return;
    const int i = get_global_id(0);
    __global real *s = logits + (size_t)i * C;

    /* S + b, and its maximum */
    realv mv = (realv)(-INFINITY);
    for (int v = 0; v < NCV; v++) {
        const realv x = VLOAD(v, s) + VLOAD(v, bias);
        VSTORE(x, v, s);
        mv = fmax(mv, x);
    }
    real m = vmax_all(mv);
    for (int c = NCV * VEC; c < C; c++) {
        s[c] += bias[c];
        m = fmax(m, s[c]);
    }
    int arg = 0;
    while (arg < C - 1 && s[arg] != m)
        arg++;
    realv zv = (realv)(0);
    for (int v = 0; v < NCV; v++)
        zv += exp(VLOAD(v, s) - m);
    real z = vsum_all(zv);
    for (int c = NCV * VEC; c < C; c++)
        z += exp(s[c] - m);
    const real lse = m + log(z); /* z >= 1: the max term contributes exp(0) */

    __global real *o = out + (size_t)i * C;
    const real wi = (mode & CSM_HAS_WEIGHTS) ? weights[row0 + i] : (real)1;
    const real dscale = scale * wi;
    const int write = mode & (CSM_WRITE_PROBS | CSM_WRITE_DELTA);
    /* probabilities, or their delta without the target term */
    const real pscale = (mode & CSM_WRITE_DELTA) ? dscale : (real)1;
    if (write) {
        for (int v = 0; v < NCV; v++)
            VSTORE(exp(VLOAD(v, s) - lse) * pscale, v, o);
        for (int c = NCV * VEC; c < C; c++)
            o[c] = exp(s[c] - lse) * pscale;
    }
    if (mode & CSM_HAS_LABELS) {
        const int y = labels[row0 + i];
        row_loss[i] = wi * (lse - s[y]);
        row_correct[i] = (arg == y);
        if (mode & CSM_WRITE_DELTA)
            o[y] -= dscale;
    } else if (mode & CSM_HAS_TARGETS) {
        __global const real *t = targets + (size_t)(row0 + i) * C;
        realv lv = (realv)(0);
        for (int v = 0; v < NCV; v++) {
            const realv tv = VLOAD(v, t);
            /* T_ic (lse - s_ic); a zero target contributes exactly 0 */
            lv += select((realv)(0), tv * (lse - VLOAD(v, s)), tv != (realv)(0));
            if (mode & CSM_WRITE_DELTA)
                VSTORE(VLOAD(v, o) - tv * dscale, v, o);
        }
        real loss = vsum_all(lv);
        for (int c = NCV * VEC; c < C; c++) {
            if (t[c] != 0)
                loss += t[c] * (lse - s[c]);
            if (mode & CSM_WRITE_DELTA)
                o[c] -= t[c] * dscale;
        }
        /* the first of equal largest targets */
        real tmax = -1;
        int targ = 0;
        for (int c = 0; c < C; c++)
            if (t[c] > tmax) {
                tmax = t[c];
                targ = c;
            }
        row_loss[i] = wi * loss;
        row_correct[i] = (arg == targ);
    } else {
        row_correct[i] = arg; /* without targets: the predicted class */
    }
}
