/* The fused path for small class counts: one pass over a block of rows
 * computes logits, stable softmax, loss, O - T and the block's gradient
 * while its rows are still in cache, so X is read once per step instead of
 * twice (and no (n, C) intermediate is written and read back).
 *
 * Sizes are arguments (C classes, k features); the defines are tuning
 * knobs: CMAX, the bound of the per-class register arrays (the host builds
 * one program per bucket of C: 4, 8, 12, 16, 32, ..., 256), X_U8 = 1 when
 * features are stored as unsigned bytes on the device (value = byte / 255:
 * a quarter of the memory traffic of float), FL = work-items per group,
 * RB = rows per block (a multiple of FL), VEC = the vector width of the
 * dot products (the device's preferred width: 16 with AVX-512, 8 with
 * AVX2).
 *
 * On a CPU the host uses FL = 1: a work-group is one thread's task, the
 * work-item runs plain vector code, and there is nothing for the OpenCL
 * compiler to re-vectorise across work-items (POCL otherwise turns the
 * explicit vectors into gathers and scatters). Explicit vectors matter:
 * without fast-math no compiler may reorder a scalar float reduction, so a
 * scalar loop would stay scalar. */

#ifndef CMAX
#define CMAX 16
#endif
#ifndef FL
#define FL 1
#endif
#ifndef RB
#define RB 32
#endif
#ifndef X_U8
#define X_U8 0
#endif

/* Loops over the classes are unrolled, so that the per-class arrays stay
 * in registers, up to 32 classes; past that they do not fit anyway, and
 * unrolling 64 to 256 guarded iterations multiplied the compile time (45 s
 * for the 256 bucket) for nothing. */
#if CMAX <= 32
#define UNROLL_C _Pragma("unroll")
#else
#define UNROLL_C
#endif

/* Work-group g handles rows [g*B/G, (g+1)*B/G) of the step's B rows, in
 * blocks of RB rows: row r of the step is dataset row idx[start + r] (a
 * shuffled minibatch, gathered here rather than copied) or start + r.
 *
 * partial (G, C*k + C): the group's dW then db contribution (delta
 *   already carries the 1/B scale); gstats (G) summed loss; gcorrect (G).
 * logits/probs/row_correct (B, C)/(B, C)/(B) are written only when the mode
 * asks (forward / predict through this path). */

/* acc (C vectors) += W[:, v0*VEC .. v1*VEC) . xr[same] */
#define DOT_CHUNK(acc, xr, v0, v1)                                                          \
    for (int v = (v0); v < (v1); v++) {                                                     \
        const realv xv_ = XLOADV(v, (xr));                                                  \
        UNROLL_C for (int c = 0; c < CMAX; c++)                                    \
            if (c < C)                                                                      \
                acc[c] = fma(VLOAD(v, W + (size_t)c * k), xv_, acc[c]);                     \
    }

/* delta (RB C reals of local memory, sized by the host): a block's
 * logits, then (O - T) * scale. jv: vectors per feature chunk of W. */
__kernel __attribute__((reqd_work_group_size(FL, 1, 1)))
void fused_step(__global real *partial, __global real *gstats, __global int *gcorrect,
                __global real *logits_out, __global real *probs_out,
                __global int *row_correct,
                __global const xelem *x, __global const int *idx, const int use_idx,
                const int start, __global const int *labels, __global const real *targets,
                __global const real *weights, __global const real *W, __global const real *bias, const int B,
                const int mode, const real scale, const int C, const int k, const int jv,
                __local real *delta)
{
    const int NVEC = k / VEC; /* whole vectors per row */
    const long NPART = (long)C * k + C;
    __local int rowid[RB];
#if FL > 1
    __local real lsum[FL];
    __local int lcnt[FL];
#endif

    const int t = get_local_id(0);
    const int g = get_group_id(0);
    const int G = get_num_groups(0);
    const int r_begin = (int)(((long)B * g) / G);
    const int r_end = (int)(((long)B * (g + 1)) / G);
    __global real *part = partial + (size_t)g * NPART;
    const int grad = mode & CSM_COMPUTE_GRAD;

    if (grad) {
        for (long q = t; q < NPART; q += FL) /* long: q + FL may pass INT_MAX */
            part[q] = 0;
        barrier(CLK_GLOBAL_MEM_FENCE);
    }

    real loss_acc = 0, loss_comp = 0;
    int cnt_acc = 0;
#define NDB ((CMAX + FL - 1) / FL) /* bias classes owned: c = t, t + FL, ... */
    real db_acc[NDB], db_comp[NDB];
    for (int q = 0; q < NDB; q++)
        db_acc[q] = db_comp[q] = 0;

    for (long blk_ = r_begin; blk_ < r_end; blk_ += RB) { /* as q above */
        const int blk = blk_;
        const int nb = min(RB, r_end - blk);
        for (int b = t; b < RB; b += FL) {
            /* b < nb before blk + b: the sum may not exist past the last row */
            rowid[b] = b < nb ? (use_idx ? idx[start + blk + b] : start + blk + b) : -1;
            for (int c = 0; c < C; c++)
                delta[b * C + c] = 0;
        }
        /* Phase 1a: logits of the block's rows (item t: rows t, t + FL, ...),
         * feature chunk by feature chunk so that the chunk of W (jv vectors
         * of every class) stays in L1 while all the rows use it; two rows at
         * a time share each load of W when C is small enough for registers. */
        for (int v0 = 0; v0 < NVEC; v0 += jv) {
            const int v1 = min(v0 + jv, NVEC);
            int b = t;
#if CMAX <= 12
            for (; b + FL < nb; b += 2 * FL) {
                realv acc0[CMAX], acc1[CMAX];
UNROLL_C
                for (int c = 0; c < CMAX; c++)
                    acc0[c] = acc1[c] = (realv)(0);
                __global const xelem *x0 = x + (size_t)rowid[b] * k;
                __global const xelem *x1 = x + (size_t)rowid[b + FL] * k;
                for (int v = v0; v < v1; v++) {
                    const realv xv0 = XLOADV(v, x0), xv1 = XLOADV(v, x1);
UNROLL_C
                    for (int c = 0; c < CMAX; c++) {
                        if (c < C) {
                            const realv wv = VLOAD(v, W + (size_t)c * k);
                            acc0[c] = fma(wv, xv0, acc0[c]);
                            acc1[c] = fma(wv, xv1, acc1[c]);
                        }
                    }
                }
UNROLL_C
                for (int c = 0; c < CMAX; c++) {
                    if (c < C) {
                        delta[b * C + c] += vsum_all(acc0[c]);
                        delta[(b + FL) * C + c] += vsum_all(acc1[c]);
                    }
                }
            }
#endif
            for (; b < nb; b += FL) {
                realv acc[CMAX];
UNROLL_C
                for (int c = 0; c < CMAX; c++)
                    acc[c] = (realv)(0);
                __global const xelem *xr = x + (size_t)rowid[b] * k;
                DOT_CHUNK(acc, xr, v0, v1)
UNROLL_C
                for (int c = 0; c < CMAX; c++)
                    if (c < C)
                        delta[b * C + c] += vsum_all(acc[c]);
            }
        }
        /* Phase 1b: tail features, bias, softmax, loss and delta per row */
        for (int b = t; b < RB; b += FL) {
            if (b >= nb)
                continue; /* its delta row is already zero */
            const int r = blk + b;
            const int row = rowid[b];
            __global const xelem *xr = x + (size_t)row * k;
            real s[CMAX];
            for (int c = 0; c < C; c++)
                s[c] = delta[b * C + c];
            for (int j = NVEC * VEC; j < k; j++)
                for (int c = 0; c < C; c++)
                    s[c] = fma(W[(size_t)c * k + j], XVAL(xr[j]), s[c]);
            for (int c = 0; c < C; c++)
                s[c] += bias[c];
            int arg;
            const real lse = row_lse_private(s, C, 0, &arg, 0, 0); /* in order: nv = 0 */
            /* a sample weight scales the row's loss and delta */
            const real wr = (mode & CSM_HAS_WEIGHTS) ? weights[row] : (real)1;
            const real dscale = scale * wr;
            if (mode & CSM_WRITE_LOGITS)
                for (int c = 0; c < C; c++)
                    logits_out[(size_t)r * C + c] = s[c];
            if (mode & CSM_WRITE_PROBS)
                for (int c = 0; c < C; c++)
                    probs_out[(size_t)r * C + c] = exp(s[c] - lse);
            if (mode & CSM_HAS_LABELS) {
                const int y = labels[row];
                kahan_add(&loss_acc, &loss_comp, wr * (lse - s[y]));
                cnt_acc += (arg == y);
                for (int c = 0; c < C; c++)
                    delta[b * C + c] =
                        (exp(s[c] - lse) - (c == y ? (real)1 : (real)0)) * dscale;
            } else if (mode & CSM_HAS_TARGETS) {
                __global const real *tr = targets + (size_t)row * C;
                int targ;
                const real rl = row_xent_private(s, tr, C, 0, lse, &targ);
                for (int c = 0; c < C; c++)
                    delta[b * C + c] = (exp(s[c] - lse) - tr[c]) * dscale;
                kahan_add(&loss_acc, &loss_comp, wr * rl);
                cnt_acc += (arg == targ);
            } else {
                row_correct[r] = arg;
            }
        }
        if (!grad)
            continue; /* uniform across the group: no barrier needed */
        barrier(CLK_LOCAL_MEM_FENCE);
        /* Phase 2: dW[c, :] += sum_b delta[b, c] x[b, :] while the rows are
         * in cache. Item t owns whole vectors v = t, t + FL, ... of
         * features, plus tail feature NVEC * VEC + t, so no two items
         * write the same place. The sums carry on from the group's partial
         * (zero before the first block): one chain over the group's rows
         * in order, whatever RB cuts it into. */
        for (int v = t; v < NVEC; v += FL) {
            realv acc[CMAX];
UNROLL_C
            for (int c = 0; c < CMAX; c++)
                if (c < C)
                    acc[c] = VLOAD(v, part + (size_t)c * k);
            for (int b = 0; b < nb; b++) {
                const realv xv = XLOADV(v, x + (size_t)rowid[b] * k);
UNROLL_C
                for (int c = 0; c < CMAX; c++)
                    if (c < C)
                        acc[c] = fma((realv)(delta[b * C + c]), xv, acc[c]);
            }
UNROLL_C
            for (int c = 0; c < CMAX; c++)
                if (c < C)
                    VSTORE(acc[c], v, part + (size_t)c * k);
        }
        for (int j = NVEC * VEC + t; j < k; j += FL) {
            real acc[CMAX];
            for (int c = 0; c < C; c++)
                acc[c] = part[(size_t)c * k + j];
            for (int b = 0; b < nb; b++) {
                const real xv = XVAL(x[(size_t)rowid[b] * k + j]);
                for (int c = 0; c < C; c++)
                    acc[c] = fma(delta[b * C + c], xv, acc[c]);
            }
            for (int c = 0; c < C; c++)
                part[(size_t)c * k + j] = acc[c];
        }
        for (int q = 0; q < NDB; q++) {
            const int c = t + q * FL;
            if (c < C)
                for (int b = 0; b < nb; b++)
                    kahan_add(&db_acc[q], &db_comp[q], delta[b * C + c]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (grad)
        for (int q = 0; q < NDB; q++)
            if (t + q * FL < C)
                part[(size_t)C * k + t + q * FL] = db_acc[q];

#if FL > 1
    lsum[t] = loss_acc;
    lcnt[t] = cnt_acc;
    group_tree_sum(lsum, 1, FL, FL);
    group_tree_count(lcnt, 1, FL, FL);
    if (t == 0) {
        gstats[g] = lsum[0];
        gcorrect[g] = lcnt[0];
    }
#else
    gstats[g] = loss_acc;
    gcorrect[g] = cnt_acc;
#endif
}

/* Sums the G group partials in a fixed order: dweight (C, k), dbias (C),
 * and the step's loss and correct count into slot `slot`, one item per
 * element. Group sumsq_group (if >= 0, a group past the partials' items)
 * writes ||W||^2 of the weights before this step's update into
 * sumsq[slot], as sum_squares would in a launch of its own. */
__kernel void fused_reduce(__global real *dweight, __global real *dbias, __global real *stats,
                           __global int *correct, __global real *sumsq, const int slot,
                           __global const real *partial, __global const real *gstats,
                           __global const int *gcorrect, __global const real *w, const int G,
                           const int grad, const int accumulate, const int sumsq_group,
                           const int C, const int k)
{
    __local real ls[CSM_WG];
    const int nw = C * k, NPART = nw + C;
    if ((int)get_group_id(0) == sumsq_group) {
        const real sq = group_sum_squares(ls, w, nw);
        if (get_local_id(0) == 0)
            sumsq[slot] = sq;
        return;
    }
    const size_t gq = get_global_id(0);
    if (gq == 0) {
        real s = 0;
        int c = 0;
        for (int g = 0; g < G; g++) {
            s += gstats[g];
            c += gcorrect[g];
        }
        stats[slot] = s;
        correct[slot] = c;
    }
    if (!grad || gq >= (size_t)NPART)
        return;
    const int q = gq;
    real acc = 0;
    for (int g = 0; g < G; g++)
        acc += partial[(size_t)g * NPART + q];
    if (q < nw)
        dweight[q] = accumulate ? dweight[q] + acc : acc;
    else
        dbias[q - nw] = accumulate ? dbias[q - nw] + acc : acc;
}
