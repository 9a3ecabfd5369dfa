/* The fused path for small class counts: one pass over a block of rows
 * computes logits, stable softmax, loss, O - T and the block's gradient
 * while its rows are still in cache, so X is read once per step instead of
 * twice (and no (n, C) intermediate is written and read back).
 *
 * Extra defines: X_U8 = 1 when features are stored as unsigned bytes on the
 * device (value = byte / 255: a quarter of the memory traffic of float),
 * FL = the work-group size (rows per block), VEC = the vector width the
 * dot products use (the device's preferred width: 16 with AVX-512, 8 with
 * AVX2). Explicit vectors matter: without fast-math no compiler may
 * reorder a scalar float reduction, so a scalar loop would stay scalar. */

#define CSM_COMPUTE_GRAD 32

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define REALV CAT(REAL, VEC)
typedef REALV realv;
#define VLOAD CAT(vload, VEC)
#define VSTORE CAT(vstore, VEC)
#define CONVERT_REALV CAT(convert_, REALV)

#if X_U8
typedef uchar xelem;
#define XVAL(v) ((real)(v) * (real)(1.0 / 255.0))
#define XLOADV(i, p) (CONVERT_REALV(VLOAD(i, p)) * (real)(1.0 / 255.0))
#else
typedef real xelem;
#define XVAL(v) (v)
#define XLOADV(i, p) VLOAD(i, p)
#endif

#define NVEC (NFEAT / VEC)      /* whole vectors per row */
#define NTAIL (NFEAT - NVEC * VEC) /* features after the last whole vector */

static inline real hsum(realv v)
{
#if VEC == 16
    CAT(REAL, 8) a = v.lo + v.hi;
    CAT(REAL, 4) b = a.lo + a.hi;
#elif VEC == 8
    CAT(REAL, 4) b = v.lo + v.hi;
#else
    CAT(REAL, 4) b = v;
#endif
    CAT(REAL, 2) c = b.lo + b.hi;
    return c.x + c.y;
}

#define NPART (NCLASS * NFEAT + NCLASS)

/* Work-group g handles rows [g*B/G, (g+1)*B/G) of the step's B rows, in
 * blocks of FL rows: row r of the step is dataset row idx[start + r] (a
 * shuffled minibatch, gathered here rather than copied) or start + r.
 *
 * partial (G, C*k + C): the group's dW then db contribution (delta
 *   already carries the 1/B scale); gstats (G) summed loss; gcorrect (G).
 * logits/probs/row_correct (B, C)/(B, C)/(B) are written only when the mode
 * asks (forward / predict through this path). */
__kernel __attribute__((reqd_work_group_size(FL, 1, 1)))
void fused_step(__global real *partial, __global real *gstats, __global int *gcorrect,
                __global real *logits_out, __global real *probs_out,
                __global int *row_correct,
                __global const xelem *x, __global const int *idx, const int use_idx,
                const int start, __global const int *labels, __global const real *targets,
                __global const real *W, __global const real *bias, const int B,
                const int mode, const real scale)
{
    __local real delta[FL * NCLASS];
    __local int rowid[FL];
    __local real lsum[FL];
    __local int lcnt[FL];

    const int t = get_local_id(0);
    const int g = get_group_id(0);
    const int G = get_num_groups(0);
    const int r_begin = (int)(((long)B * g) / G);
    const int r_end = (int)(((long)B * (g + 1)) / G);
    __global real *part = partial + (size_t)g * NPART;
    const int grad = mode & CSM_COMPUTE_GRAD;

    if (grad) {
        for (int q = t; q < NPART; q += FL)
            part[q] = 0;
        barrier(CLK_GLOBAL_MEM_FENCE);
    }

    real loss_acc = 0;
    int cnt_acc = 0;
#define NDB ((NCLASS + FL - 1) / FL) /* bias classes owned: c = t, t + FL, ... */
    real db_acc[NDB];
    for (int q = 0; q < NDB; q++)
        db_acc[q] = 0;

    for (int blk = r_begin; blk < r_end; blk += FL) {
        const int r = blk + t;
        const int valid = r < r_end;
        if (valid) {
            const int row = use_idx ? idx[start + r] : start + r;
            __global const xelem *xr = x + (size_t)row * NFEAT;
            real s[NCLASS];
            {
                realv acc[NCLASS];
                for (int c = 0; c < NCLASS; c++)
                    acc[c] = (realv)(0);
                for (int v = 0; v < NVEC; v++) {
                    const realv xv = XLOADV(v, xr);
                    for (int c = 0; c < NCLASS; c++)
                        acc[c] += VLOAD(v, W + c * NFEAT) * xv;
                }
                for (int c = 0; c < NCLASS; c++)
                    s[c] = hsum(acc[c]);
                for (int j = NVEC * VEC; j < NFEAT; j++) {
                    const real xv = XVAL(xr[j]);
                    for (int c = 0; c < NCLASS; c++)
                        s[c] += W[c * NFEAT + j] * xv;
                }
            }
            real m = -INFINITY;
            int arg = 0;
            for (int c = 0; c < NCLASS; c++) {
                s[c] += bias[c];
                if (s[c] > m) {
                    m = s[c];
                    arg = c;
                }
            }
            real z = 0;
            for (int c = 0; c < NCLASS; c++)
                z += exp(s[c] - m);
            const real lse = m + log(z);
            if (mode & CSM_WRITE_LOGITS)
                for (int c = 0; c < NCLASS; c++)
                    logits_out[(size_t)r * NCLASS + c] = s[c];
            if (mode & CSM_WRITE_PROBS)
                for (int c = 0; c < NCLASS; c++)
                    probs_out[(size_t)r * NCLASS + c] = exp(s[c] - lse);
            if (mode & CSM_HAS_LABELS) {
                const int y = labels[row];
                loss_acc += lse - s[y];
                cnt_acc += (arg == y);
                for (int c = 0; c < NCLASS; c++)
                    delta[t * NCLASS + c] =
                        (exp(s[c] - lse) - (c == y ? (real)1 : (real)0)) * scale;
            } else if (mode & CSM_HAS_TARGETS) {
                __global const real *tr = targets + (size_t)row * NCLASS;
                real tmax = -1;
                int targ = 0;
                for (int c = 0; c < NCLASS; c++) {
                    if (tr[c] != 0)
                        loss_acc += tr[c] * (lse - s[c]);
                    if (tr[c] > tmax) {
                        tmax = tr[c];
                        targ = c;
                    }
                    delta[t * NCLASS + c] = (exp(s[c] - lse) - tr[c]) * scale;
                }
                cnt_acc += (arg == targ);
            } else {
                row_correct[r] = arg;
            }
            rowid[t] = row;
        } else {
            for (int c = 0; c < NCLASS; c++)
                delta[t * NCLASS + c] = 0;
            rowid[t] = -1;
        }
        if (!grad)
            continue; /* uniform across the group: no barrier needed */
        barrier(CLK_LOCAL_MEM_FENCE);
        const int nb = min(FL, r_end - blk);
        /* dW[c, :] += sum_b delta[b, c] x[b, :]: work-item t owns whole
         * vectors v = t, t + FL, ... of features, plus tail feature
         * NVEC * VEC + t, so no two items write the same place. */
        for (int v = t; v < NVEC; v += FL) {
            realv acc[NCLASS];
            for (int c = 0; c < NCLASS; c++)
                acc[c] = (realv)(0);
            for (int b = 0; b < nb; b++) {
                const realv xv = XLOADV(v, x + (size_t)rowid[b] * NFEAT);
                for (int c = 0; c < NCLASS; c++)
                    acc[c] += delta[b * NCLASS + c] * xv;
            }
            for (int c = 0; c < NCLASS; c++)
                VSTORE(VLOAD(v, part + c * NFEAT) + acc[c], v, part + c * NFEAT);
        }
        if (t < NTAIL) {
            const int j = NVEC * VEC + t;
            real acc[NCLASS];
            for (int c = 0; c < NCLASS; c++)
                acc[c] = 0;
            for (int b = 0; b < nb; b++) {
                const real xv = XVAL(x[(size_t)rowid[b] * NFEAT + j]);
                for (int c = 0; c < NCLASS; c++)
                    acc[c] += delta[b * NCLASS + c] * xv;
            }
            for (int c = 0; c < NCLASS; c++)
                part[c * NFEAT + j] += acc[c];
        }
        for (int q = 0; q < NDB; q++) {
            const int c = t + q * FL;
            if (c < NCLASS)
                for (int b = 0; b < nb; b++)
                    db_acc[q] += delta[b * NCLASS + c];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (grad)
        for (int q = 0; q < NDB; q++)
            if (t + q * FL < NCLASS)
                part[NCLASS * NFEAT + t + q * FL] = db_acc[q];

    lsum[t] = loss_acc;
    lcnt[t] = cnt_acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int h = FL / 2; h > 0; h >>= 1) {
        if (t < h) {
            lsum[t] += lsum[t + h];
            lcnt[t] += lcnt[t + h];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (t == 0) {
        gstats[g] = lsum[0];
        gcorrect[g] = lcnt[0];
    }
}

/* Sums the G group partials in a fixed order: dweight (C, k), dbias (C),
 * and the step's loss and correct count into slot `slot`. */
__kernel void fused_reduce(__global real *dweight, __global real *dbias, __global real *stats,
                           __global int *correct, const int slot,
                           __global const real *partial, __global const real *gstats,
                           __global const int *gcorrect, const int G, const int grad,
                           const int accumulate)
{
    const int q = get_global_id(0);
    if (q == 0) {
        real s = 0;
        int c = 0;
        for (int g = 0; g < G; g++) {
            s += gstats[g];
            c += gcorrect[g];
        }
        stats[slot] = s;
        correct[slot] = c;
    }
    if (!grad || q >= NPART)
        return;
    real acc = 0;
    for (int g = 0; g < G; g++)
        acc += partial[(size_t)g * NPART + q];
    if (q < NCLASS * NFEAT)
        dweight[q] = accumulate ? dweight[q] + acc : acc;
    else
        dbias[q - NCLASS * NFEAT] = accumulate ? dbias[q - NCLASS * NFEAT] + acc : acc;
}
