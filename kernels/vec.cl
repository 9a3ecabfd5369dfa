/* Level-1 operations on parameter vectors for the L-BFGS solver. A
 * parameter vector theta = (W (C*k), b (C)) is one buffer of n = C*k + C
 * elements. Reductions write into a small device array `scal` that the
 * host reads back in one transfer.
 *
 * Reductions use a partition fixed by n alone (group g owns a contiguous
 * chunk; each item a fixed stride within it; then a fixed tree, then the
 * groups in order), so results never depend on the device or scheduling. */

#ifndef VEC_CONTIG
#define VEC_CONTIG 0
#endif
#ifndef MD_ROWS
#define MD_ROWS 8
#endif

/* The indices lane t of a group sums over [lo, hi): a stride of CSM_WG on
 * GPUs (neighbouring items read neighbouring words), one contiguous run per
 * lane on CPUs (VEC_CONTIG), where a work-group's items run one after
 * another and a stride would load every cache line CSM_WG / 16 times. The
 * partition depends only on the length and the device type, not on the
 * work-group size (lanes, common.cl). */
#if VEC_CONTIG
#define FOR_ITEM_RANGE(i, lo, hi, t)                                                        \
    const long per_ = ((hi) - (lo) + CSM_WG - 1) / CSM_WG;                                  \
    const long a0_ = min((hi), (lo) + (t) * per_), a1_ = min((hi), a0_ + per_);             \
    for (long i = a0_; i < a1_; i++)
#else
#define FOR_ITEM_RANGE(i, lo, hi, t) for (long i = (lo) + (t); i < (hi); i += CSM_WG)
#endif

/* part[g] = sum over group g's chunk of a[i] * b[i] (op DOT), of |a[i]|
 * (op ASUM) or the max of |a[i]| (op MAXABS), in CSM_WG lanes. */
__kernel void vec_reduce_partial(__global real *part, __global const real *a,
                                 __global const real *b, const int n, const int op)
{
    __local real ls[CSM_WG];
    const int g = get_group_id(0);
    const int G = get_num_groups(0);
    const long chunk = ((long)n + G - 1) / G;
    const long lo = min((long)n, g * chunk), hi = min((long)n, lo + chunk);
    FOR_LANES(t) {
        real acc = 0, comp = 0;
        FOR_ITEM_RANGE(i, lo, hi, t) {
            if (op == CSM_VEC_DOT)
                kahan_add(&acc, &comp, a[i] * b[i]);
            else if (op == CSM_VEC_ASUM)
                kahan_add(&acc, &comp, fabs(a[i]));
            else
                acc = fmax(acc, fabs(a[i]));
        }
        ls[t] = acc;
    }
    if (op != CSM_VEC_MAXABS) /* the same branch for the whole group */
        group_tree_sum(ls, 1, CSM_WG, CSM_WG);
    else
        group_tree_max(ls, 1, CSM_WG, CSM_WG);
    if (get_local_id(0) == 0)
        part[g] = ls[0];
}

/* scal[slot] = the G partials combined in order. One work-item. */
__kernel void vec_reduce_final(__global real *scal, const int slot, __global const real *part,
                               const int G, const int op)
{
    if (get_global_id(0) != 0)
        return;
    real acc = 0;
    for (int g = 0; g < G; g++)
        acc = op != CSM_VEC_MAXABS ? acc + part[g] : fmax(acc, part[g]);
    scal[slot] = acc;
}

/* out = a - b */
__kernel void vec_sub(__global real *out, __global const real *a, __global const real *b,
                      const int n)
{
    if (get_global_id(0) >= (size_t)n)
        return;
    const int i = get_global_id(0);
    out[i] = a[i] - b[i];
}

/* The model's weight (nw) and bias (n - nw) = x + alpha d: the trial point
 * of a line search, written where the loss and gradient passes read it. */
__kernel void vec_set_params(__global real *weight, __global real *bias, __global const real *x,
                             __global const real *d, const real alpha, const int nw, const int n)
{
    if (get_global_id(0) >= (size_t)n)
        return;
    const int i = get_global_id(0);
    const real v = x[i] + alpha * d[i];
    if (i < nw)
        weight[i] = v;
    else
        bias[i - nw] = v;
}

/* x = (weight, bias): the accepted point, as the passes saw it. */
__kernel void vec_get_params(__global real *x, __global const real *weight,
                             __global const real *bias, const int nw, const int n)
{
    if (get_global_id(0) >= (size_t)n)
        return;
    const int i = get_global_id(0);
    x[i] = i < nw ? weight[i] : bias[i - nw];
}

/* g = (dW + l2 W, db): the gradient of J, whose data part the passes left
 * in dw and db. */
__kernel void vec_pack_grad(__global real *g, __global const real *dw, __global const real *db,
                            __global const real *weight, const real l2, const int nw, const int n)
{
    if (get_global_id(0) >= (size_t)n)
        return;
    const int i = get_global_id(0);
    g[i] = i < nw ? dw[i] + l2 * weight[i] : db[i - nw];
}

/* Compact L-BFGS (Byrd, Nocedal & Schnabel 1994): the history is two
 * matrices S, Y of m rows of n, and a direction needs only the 2m dot
 * products of one vector with every row, then one linear combination of
 * the rows: two passes over the history instead of 4m. */

/* Rows r of the stacked history (S's m rows, then Y's m), MD_ROWS at a
 * time, dotted with v: part[r * G + g] = sum over chunk g of row r . v.
 * global (G wg, ceil(2m / MD_ROWS)), groups of (wg, 1); v is read once per
 * MD_ROWS rows instead of once per row. MD_ROWS (the host's: 8, fewer when
 * local memory is short) sets how many rows share a pass, not how a row
 * is summed. */
__kernel void vec_multidot_partial(__global real *part, __global const real *S,
                                   __global const real *Y, __global const real *v, const int n,
                                   const int m)
{
    __local real ls[MD_ROWS][CSM_WG];
    const int g = get_group_id(0);
    const int G = get_num_groups(0);
    const int r0 = get_global_id(1) * MD_ROWS;
    const int nr = min(MD_ROWS, 2 * m - r0);
    const long chunk = ((long)n + G - 1) / G;
    const long lo = min((long)n, g * chunk), hi = min((long)n, lo + chunk);
    __global const real *row[MD_ROWS];
    for (int u = 0; u < MD_ROWS; u++) {
        const int r = r0 + min(u, nr - 1);
        row[u] = r < m ? S + (size_t)r * n : Y + (size_t)(r - m) * n;
    }
    FOR_LANES(t) {
        real acc[MD_ROWS], comp[MD_ROWS];
        for (int u = 0; u < MD_ROWS; u++)
            acc[u] = comp[u] = 0;
        FOR_ITEM_RANGE(i, lo, hi, t) {
            const real vi = v[i];
            for (int u = 0; u < nr; u++)
                kahan_add(&acc[u], &comp[u], row[u][i] * vi);
        }
        for (int u = 0; u < MD_ROWS; u++)
            ls[u][t] = acc[u];
    }
    group_tree_sum(&ls[0][0], MD_ROWS, CSM_WG, CSM_WG);
    if (get_local_id(0) == 0)
        for (int u = 0; u < nr; u++)
            part[(size_t)(r0 + u) * G + g] = ls[u][0];
}

/* scal[slot0 + r] = the G partials of row r in order; one item per row */
__kernel void vec_multidot_final(__global real *scal, const int slot0,
                                 __global const real *part, const int G, const int R)
{
    const int r = get_global_id(0);
    if (r >= R)
        return;
    real acc = 0;
    for (int g = 0; g < G; g++)
        acc += part[(size_t)r * G + g];
    scal[slot0 + r] = acc;
}

/* out = c0 v + sum_j cs[j] S[j, :] + cy[j] Y[j, :] (coef = (cs, cy), 2m
 * values; a zero coefficient skips its row, whatever it holds) */
__kernel void vec_combine(__global real *out, __global const real *v, const real c0,
                          __global const real *S, __global const real *Y,
                          __global const real *coef, const int m, const int n)
{
    if (get_global_id(0) >= (size_t)n)
        return;
    const int i = get_global_id(0);
    real acc = c0 * v[i];
    for (int j = 0; j < m; j++) {
        if (coef[j] != 0)
            acc += coef[j] * S[(size_t)j * n + i];
        if (coef[m + j] != 0)
            acc += coef[m + j] * Y[(size_t)j * n + i];
    }
    out[i] = acc;
}

/* M[row, :] = a - b */
__kernel void vec_sub_row(__global real *M, const int row, __global const real *a,
                          __global const real *b, const int n)
{
    if (get_global_id(0) >= (size_t)n)
        return;
    const int i = get_global_id(0);
    M[(size_t)row * n + i] = a[i] - b[i];
}

/* OWL-QN (Andrew & Gao, ICML 2007) for J = f + l1 ||W||_1, the bias not
 * penalised. pg = J's pseudo-gradient from f's gradient g at x: the
 * one-sided derivative of steepest descent, g + l1 sign(x) off zero; at
 * zero the side on which J decreases (g + l1 < 0, or g - l1 > 0), else 0. */
__kernel void vec_pseudo_grad(__global real *pg, __global const real *g, __global const real *x,
                              const real l1, const int nw, const int n)
{
    if (get_global_id(0) >= (size_t)n)
        return;
    const int i = get_global_id(0);
    const real gi = g[i], xi = x[i];
    real p = gi;
    if (i < nw) {
        if (xi > 0)
            p = gi + l1;
        else if (xi < 0)
            p = gi - l1;
        else
            p = gi + l1 < 0 ? gi + l1 : gi - l1 > 0 ? gi - l1 : 0;
    }
    pg[i] = p;
}

/* The direction constrained to the orthant of steepest descent: d[i] = 0
 * where its sign is not that of -pg[i]. */
__kernel void vec_orthant_dir(__global real *d, __global const real *pg, const int n)
{
    if (get_global_id(0) >= (size_t)n)
        return;
    const int i = get_global_id(0);
    if (!(d[i] * pg[i] < 0))
        d[i] = 0;
}

/* The model's weight and bias = x + alpha d, W projected onto the orthant
 * of x (sign x[i], or sign -pg[i] where x[i] is 0): a weight that would
 * cross zero stops at exactly 0. The bias, not penalised, is not projected. */
__kernel void vec_set_params_orthant(__global real *weight, __global real *bias,
                                     __global const real *x, __global const real *d,
                                     __global const real *pg, const real alpha, const int nw,
                                     const int n)
{
    if (get_global_id(0) >= (size_t)n)
        return;
    const int i = get_global_id(0);
    real v = x[i] + alpha * d[i];
    if (i < nw) {
        const real o = x[i] != 0 ? x[i] : -pg[i];
        if (!(v * o > 0))
            v = 0;
        weight[i] = v;
    } else {
        bias[i - nw] = v;
    }
}

/* out = a x + b y, elementwise (out may be x or y): the conjugate-gradient
 * updates of the Newton solver (s += alpha d, r -= alpha Hd, d = r + beta d) */
__kernel void vec_axpby(__global real *out, const real a, __global const real *x, const real b,
                        __global const real *y, const int n)
{
    if (get_global_id(0) >= (size_t)n)
        return;
    const int i = get_global_id(0);
    out[i] = a * x[i] + b * y[i];
}

/* The model's weight (nw) and bias (n - nw) += alpha d: a trial step taken
 * in place, and taken back with -alpha */
__kernel void vec_add_params(__global real *weight, __global real *bias, __global const real *d,
                             const real alpha, const int nw, const int n)
{
    if (get_global_id(0) >= (size_t)n)
        return;
    const int i = get_global_id(0);
    if (i < nw)
        weight[i] += alpha * d[i];
    else
        bias[i - nw] += alpha * d[i];
}

/* h = (dW + l2, db): J's Hessian diagonal, whose data part the passes left
 * in dw and db. */
__kernel void vec_pack_diag(__global real *h, __global const real *dw, __global const real *db,
                            const real l2, const int nw, const int n)
{
    if (get_global_id(0) >= (size_t)n)
        return;
    const int i = get_global_id(0);
    h[i] = i < nw ? dw[i] + l2 : db[i - nw];
}

/* The preconditioned conjugate gradient of the Newton solver, with a
 * diagonal preconditioner m: its dot products in as few passes as the
 * steps allow, each summed like vec_reduce_partial (the same partition,
 * Kahan sums, then a fixed tree), three at a time into part[u * G + g]
 * (vec_multidot_final combines them). DOTS_ROWS (the host's): 3, the three
 * sums' lanes side by side in local memory; 1 where local memory is short
 * (3 CSM_WG reals do not fit): one sum after the other through one row of
 * lanes, the vectors read three times (the same sums: each lane covers the
 * same elements in the same order either way). DOTS3_ITEM(i, u) loads
 * element i's terms (for sum u: in-place updates happen at u == 0). */
#ifndef DOTS_ROWS
#define DOTS_ROWS 3
#endif
#define DOTS3_CHUNK                                                                          \
    const int g = get_group_id(0);                                                          \
    const int G = get_num_groups(0);                                                        \
    const long chunk = ((long)n + G - 1) / G;                                               \
    const long lo = min((long)n, g * chunk), hi = min((long)n, lo + chunk);
#if DOTS_ROWS == 3
#define DOTS3_SUMS(A0, A1, A2)                                                               \
    __local real ls[3][CSM_WG];                                                             \
    DOTS3_CHUNK                                                                             \
    FOR_LANES(t) {                                                                          \
        real acc[3] = {0, 0, 0}, comp[3] = {0, 0, 0};                                       \
        FOR_ITEM_RANGE(i, lo, hi, t) {                                                      \
            DOTS3_ITEM(i, 0)                                                                \
            kahan_add(&acc[0], &comp[0], A0);                                               \
            kahan_add(&acc[1], &comp[1], A1);                                               \
            kahan_add(&acc[2], &comp[2], A2);                                               \
        }                                                                                   \
        for (int u = 0; u < 3; u++)                                                         \
            ls[u][t] = acc[u];                                                              \
    }                                                                                       \
    group_tree_sum(&ls[0][0], 3, CSM_WG, CSM_WG);                                           \
    if (get_local_id(0) == 0)                                                               \
        for (int u = 0; u < 3; u++)                                                         \
            part[(size_t)u * G + g] = ls[u][0];
#else
#define DOTS3_SUMS(A0, A1, A2)                                                               \
    __local real ls[CSM_WG];                                                                \
    DOTS3_CHUNK                                                                             \
    for (int u = 0; u < 3; u++) {                                                           \
        FOR_LANES(t) {                                                                      \
            real acc = 0, comp = 0;                                                         \
            FOR_ITEM_RANGE(i, lo, hi, t) {                                                  \
                DOTS3_ITEM(i, u)                                                            \
                kahan_add(&acc, &comp, u == 0 ? (A0) : u == 1 ? (A1) : (A2));               \
            }                                                                               \
            ls[t] = acc;                                                                    \
        }                                                                                   \
        group_tree_sum(ls, 1, CSM_WG, CSM_WG);                                              \
        if (get_local_id(0) == 0)                                                           \
            part[(size_t)u * G + g] = ls[0];                                                \
        barrier(CLK_LOCAL_MEM_FENCE);                                                       \
    }
#endif

/* a_u . b_u for u = 0, 1, 2, weighted by m[i] where bit u of `weighted` is
 * set (m is not read without one) */
__kernel void vec_dots3(__global real *part, __global const real *a0, __global const real *b0,
                        __global const real *a1, __global const real *b1,
                        __global const real *a2, __global const real *b2,
                        __global const real *m, const int weighted, const int n)
{
#define DOTS3_ITEM(i, u)                                                                     \
    const real mi = weighted ? m[i] : (real)1;                                              \
    const real w0 = weighted & 1 ? mi : 1, w1 = weighted & 2 ? mi : 1,                      \
               w2 = weighted & 4 ? mi : 1;
    DOTS3_SUMS(a0[i] * b0[i] * w0, a1[i] * b1[i] * w1, a2[i] * b2[i] * w2)
#undef DOTS3_ITEM
}

/* A CG step: s += alpha d, r -= alpha hd, then r . r/m, s . r and s . hd
 * of the new s and r, in one pass. */
__kernel void vec_cg_step(__global real *part, __global real *s, __global real *r,
                          __global const real *d, __global const real *hd,
                          __global const real *m, const real alpha, const int n)
{
#define DOTS3_ITEM(i, u)                                                                     \
    real si = s[i], ri = r[i];                                                              \
    if (u == 0) {                                                                           \
        si += alpha * d[i];                                                                 \
        ri -= alpha * hd[i];                                                                \
        s[i] = si;                                                                          \
        r[i] = ri;                                                                          \
    }
    DOTS3_SUMS(ri * ri / m[i], si * ri, si * hd[i])
#undef DOTS3_ITEM
}

/* d = r / m + beta d: the next CG direction from the preconditioned
 * residual */
__kernel void vec_precond_dir(__global real *d, __global const real *r, __global const real *m,
                              const real beta, const int n)
{
    if (get_global_id(0) >= (size_t)n)
        return;
    const int i = get_global_id(0);
    /* beta 0: d is not read (the first direction, d uninitialised) */
    d[i] = beta != 0 ? r[i] / m[i] + beta * d[i] : r[i] / m[i];
}

/* m = a h + c: the preconditioner from the Hessian diagonal h */
__kernel void vec_precond(__global real *m, __global const real *h, const real a, const real c,
                          const int n)
{
    if (get_global_id(0) >= (size_t)n)
        return;
    const int i = get_global_id(0);
    m[i] = a * h[i] + c;
}
