/* Deterministic reductions: one work-group whose CSM_WG lanes each sum a
 * fixed strided subset, then a fixed tree (common.cl). The order depends
 * on neither scheduling nor the work-group size, so a seed gives the same
 * result run to run and device to device. */

/* stats[slot] = sum row_loss; correct[slot] = sum row_correct, by one
 * work-group: reduce_loss, and bias_grad's loss group. */
static inline void group_loss_sums(__global real *stats, __global int *correct, const int slot,
                                   __global const real *row_loss,
                                   __global const int *row_correct, const int B,
                                   __local real *ls, __local int *lc)
{
    FOR_LANES(l) {
        real acc = 0, comp = 0;
        int cnt = 0;
        for (long i = l; i < B; i += CSM_WG) { /* long: i + CSM_WG may pass INT_MAX */
            kahan_add(&acc, &comp, row_loss[i]);
            cnt += row_correct[i];
        }
        ls[l] = acc;
        lc[l] = cnt;
    }
    group_tree_sum(ls, 1, CSM_WG, CSM_WG);
    group_tree_count(lc, 1, CSM_WG, CSM_WG);
    if (get_local_id(0) == 0) {
        stats[slot] = ls[0];
        correct[slot] = lc[0];
    }
}

__kernel void reduce_loss(__global real *stats, __global int *correct, const int slot,
                          __global const real *row_loss, __global const int *row_correct,
                          const int B)
{
    __local real ls[CSM_WG];
    __local int lc[CSM_WG];
    group_loss_sums(stats, correct, slot, row_loss, row_correct, B, ls, lc);
}

/* out[slot] = sum of squares of w (count) */
__kernel void sum_squares(__global real *out, const int slot, __global const real *w,
                          const int count)
{
    __local real ls[CSM_WG];
    const real sum = group_sum_squares(ls, w, count);
    if (get_local_id(0) == 0)
        out[slot] = sum;
}

/* Bias gradient: db[c] (+)= sum_i delta[i, c], one work-group per class.
 * delta already carries the 1/n factor. A step's other one-group
 * reductions ride in the same launch, one launch fewer each (minibatch
 * steps on a GPU are launch-bound): group loss_group (if >= 0) does
 * reduce_loss's sums into stats/correct[slot], group sumsq_group (if >= 0)
 * sum_squares' ||W||^2 into sumsq[slot], of the weights as they are before
 * this step's update. A group takes one branch as a whole, so the barriers
 * inside stay uniform. */
__kernel void bias_grad(__global real *db, __global real *stats, __global int *correct,
                        __global real *sumsq, __global const real *delta,
                        __global const real *row_loss, __global const int *row_correct,
                        __global const real *w, const int B, const int accumulate,
                        const int slot, const int loss_group, const int sumsq_group, const int C,
                        const int nw)
{
    __local real ls[CSM_WG];
    __local int lc[CSM_WG];
    const int c = get_group_id(0);
    const int t = get_local_id(0);
    if (c == loss_group) {
        group_loss_sums(stats, correct, slot, row_loss, row_correct, B, ls, lc);
        return;
    }
    if (c == sumsq_group) {
        const real sq = group_sum_squares(ls, w, nw);
        if (t == 0)
            sumsq[slot] = sq;
        return;
    }
    FOR_LANES(l) {
        real acc = 0, comp = 0;
        for (long i = l; i < B; i += CSM_WG)
            kahan_add(&acc, &comp, delta[(size_t)i * C + c]);
        ls[l] = acc;
    }
    const real sum = group_sum(ls);
    if (t == 0)
        db[c] = accumulate ? db[c] + sum : sum;
}

/* Split-K gradient: out[q] (+)= sum_s partial[s, q], in a fixed order. */
__kernel void sum_partials(__global real *out, __global const real *partial, const int S,
                           const int count, const int accumulate)
{
    if (get_global_id(0) >= (size_t)count)
        return;
    const int q = get_global_id(0);
    real acc = accumulate ? out[q] : 0;
    for (int s = 0; s < S; s++)
        acc += partial[(size_t)s * count + q];
    out[q] = acc;
}
