/* The tiled path: register-blocked GEMMs for the two products of a step
 * when C and k are large enough that the work is compute-bound,
 *   logits (B, C) = X_rows (B, k) W^T      tiled_logits
 *   dW     (C, k) (+)= D^T (C, B) X_rows    tiled_dweight
 * written for CPU devices, where a work-group is one work-item (one
 * thread's task) running explicit vector code. Between them, a gradient
 * step's softmax, loss and delta run in the logits' tasks
 * (tiled_logits_softmax), its bias gradient, loss sums and (minibatches
 * of a first-order solver) update in the gradient's (tiled_dweight);
 * other passes use forward.cl's and reduce.cl's kernels.
 *
 * Both are outer-product micro-kernels, so neither needs a horizontal sum:
 * logits broadcast one feature of RT rows against NV vectors of classes of
 * the transposed weights WT (packed by class tiles); the gradient broadcasts the deltas of
 * QC classes against NV vectors of one row's features. RT x NV and QC x NV
 * accumulators (24 with the defaults) stay in registers.
 *
 * Rows are the dataset's rows idx[start + i] (a shuffled minibatch, read in
 * place) or start + i, as in fused.cl.
 *
 * Extra defines: VEC (vector width: the device's preferred one), NV
 * (vectors per tile), RT (rows per logits tile), QC (classes per gradient
 * tile), KC (rows per gradient panel), FTI (feature tiles per gradient
 * item), KP (features per logits panel), TJ (features per transpose
 * item), X_U8 (features stored as
 * bytes, value = byte / 255). Sizes are arguments: C classes, k features,
 * cp = C rounded up to VEC (WT's row stride). */


#ifndef NV
#define NV 4
#endif
#ifndef RT
#define RT 5
#endif
#ifndef QC
#define QC 6
#endif
#ifndef KC
#define KC 64
#endif
#ifndef FTI
#define FTI 4
#endif
#ifndef KP
#define KP 512
#endif
#ifndef TJ
#define TJ 64
#endif
#ifndef X_U8
#define X_U8 0
#endif

/* The first n (0 < n < VEC) elements of a vector to and from memory,
 * without a private array: one would make the compiler keep the whole
 * accumulator tile in memory (measured: spills in the inner loop). */
#define PART_ELEM(u) (n > (u) ? p[u] : (real)0)
static inline realv load_part(__global const real *p, const int n)
{
#if VEC == 16
    return (realv)(PART_ELEM(0), PART_ELEM(1), PART_ELEM(2), PART_ELEM(3), PART_ELEM(4),
                   PART_ELEM(5), PART_ELEM(6), PART_ELEM(7), PART_ELEM(8), PART_ELEM(9),
                   PART_ELEM(10), PART_ELEM(11), PART_ELEM(12), PART_ELEM(13), PART_ELEM(14),
                   (real)0);
#elif VEC == 8
    return (realv)(PART_ELEM(0), PART_ELEM(1), PART_ELEM(2), PART_ELEM(3), PART_ELEM(4),
                   PART_ELEM(5), PART_ELEM(6), (real)0);
#else
    return (realv)(PART_ELEM(0), PART_ELEM(1), PART_ELEM(2), (real)0);
#endif
}

static inline void store_part(const realv v, __global real *p, int n)
{
#if VEC == 16
    CAT(REAL, 8) a = v.lo;
    if (n >= 8) {
        vstore8(a, 0, p);
        a = v.hi;
        p += 8;
        n -= 8;
    }
#elif VEC == 8
    CAT(REAL, 8) a = v;
#endif
#if VEC >= 8
    CAT(REAL, 4) b = a.lo;
    if (n >= 4) {
        vstore4(b, 0, p);
        b = a.hi;
        p += 4;
        n -= 4;
    }
#else
    CAT(REAL, 4) b = v;
#endif
    CAT(REAL, 2) c = b.lo;
    if (n >= 2) {
        vstore2(c, 0, p);
        c = b.hi;
        p += 2;
        n -= 2;
    }
    if (n >= 1)
        p[0] = c.x;
}

/* WT = W^T packed by class tiles: tile t (classes [t TW, t TW + w), w =
 * min(TW, cp - t TW), TW = NV VEC) is a (k, w) row-major block at t TW k,
 * so the logits kernel streams each tile's weights contiguously; classes
 * past C are zero, so tiles are whole vectors. Work-item (t, b) packs
 * class tile t's features [b TJ, (b + 1) TJ): a block of TW x TJ reals
 * that stays in L1 while its rows are read and its columns written (one
 * work-item per element cost as much as the logits product of a 256-row
 * minibatch at C = 100, k = 1000). */
#define TW (NV * VEC)
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void tiled_transpose(__global real *WT, __global const real *W, const int C, const int k,
                     const int cp)
{
    const int t0 = get_global_id(0) * TW;
    const int j0 = get_global_id(1) * TJ;
    if (t0 >= cp || j0 >= k)
        return;
    const int w = min(TW, cp - t0), j1 = min(j0 + TJ, k);
    __global real *wt = WT + (size_t)t0 * k;
    for (int c = 0; c < w; c++) {
        __global const real *wr = W + (size_t)(t0 + c) * k;
        if (t0 + c < C)
            for (int j = j0; j < j1; j++)
                wt[(size_t)j * w + c] = wr[j];
        else
            for (int j = j0; j < j1; j++)
                wt[(size_t)j * w + c] = (real)0;
    }
}

/* S rows [i0, i0 + nr) of classes [c0, c0 + NVV VEC) (+)= their products
 * over features [j0, j1): acc[r][v] starts at zero for the first panel,
 * else from S (whose classes past C read as zero and are not stored). */
#define LOGITS_TILE(NVV)                                                                  \
    {                                                                                     \
        realv acc[RT][NVV];                                                               \
        if (j0 == 0) {                                                                    \
            _Pragma("unroll") for (int r = 0; r < RT; r++)                                \
                _Pragma("unroll") for (int v = 0; v < NVV; v++) acc[r][v] = (realv)(0);   \
        } else {                                                                          \
            _Pragma("unroll") for (int r = 0; r < RT; r++) {                              \
                __global const real *sr = S + (size_t)(i0 + min(r, nr - 1)) * C + c0; \
                _Pragma("unroll") for (int v = 0; v < NVV; v++) {                         \
                    if (c0 + (v + 1) * VEC <= C)                                     \
                        acc[r][v] = VLOAD(v, sr);                                         \
                    else                                                                  \
                        acc[r][v] = load_part(sr + v * VEC, C - c0 - v * VEC);       \
                }                                                                         \
            }                                                                             \
        }                                                                                 \
        __global const real *wt = WT + (size_t)c0 * k + (size_t)j0 * (NVV * VEC);     \
        for (int j = j0; j < j1; j++, wt += NVV * VEC) {                                  \
            realv wv[NVV];                                                                \
            _Pragma("unroll") for (int v = 0; v < NVV; v++) wv[v] = VLOAD(v, wt);         \
            _Pragma("unroll") for (int r = 0; r < RT; r++) {                              \
                const realv xs = (realv)(XVAL(xr[r][j]));                                 \
                _Pragma("unroll") for (int v = 0; v < NVV; v++)                           \
                    acc[r][v] = fma(xs, wv[v], acc[r][v]);                                \
            }                                                                             \
        }                                                                                 \
        for (int r = 0; r < nr; r++) {                                                    \
            __global real *sr = S + (size_t)(i0 + r) * C + c0;                       \
            _Pragma("unroll") for (int v = 0; v < NVV; v++) {                             \
                if (c0 + (v + 1) * VEC <= C)                                         \
                    VSTORE(acc[r][v], v, sr);                                             \
                else if (c0 + v * VEC < C)                                           \
                    store_part(acc[r][v], sr + v * VEC, C - c0 - v * VEC);           \
            }                                                                             \
        }                                                                                 \
    }

/* S rows [i_begin, i_end) (of B, C) = X_rows W^T. The features go in
 * panels of KP: a panel of WT (KP, NV VEC per class tile) stays in cache
 * while every row tile of the rows uses it, so WT comes from memory once
 * per call rather than once per RT rows (at k = 4096, C = 1000, WT is
 * 16 MB in float32, past L2 and, in float64, L3). The running sums of a
 * panel go to S. Rows past i_end repeat the last row and are not stored. */
static inline void logits_rows(__global real *S, __global const xelem *x,
                               __global const int *idx, const int use_idx, const int start,
                               const int i_begin, const int i_end, __global const real *WT,
                               const int C, const int k, const int cp)
{
    for (int j0 = 0; j0 < k; j0 += KP) {
        const int j1 = min(j0 + KP, k);
        for (int c0 = 0; c0 < cp; c0 += NV * VEC) {
            const int nvec = min(NV, (cp - c0) / VEC);
            for (int i0 = i_begin; i0 < i_end; i0 += RT) {
                const int nr = min(RT, i_end - i0);
                __global const xelem *xr[RT];
                for (int r = 0; r < RT; r++) {
                    const int i = start + min(i0 + r, i_end - 1);
                    xr[r] = x + (size_t)(use_idx ? idx[i] : i) * k;
                }
                if (nvec == NV)
                    LOGITS_TILE(NV)
#if NV > 3
                else if (nvec == 3)
                    LOGITS_TILE(3)
#endif
#if NV > 2
                else if (nvec == 2)
                    LOGITS_TILE(2)
#endif
                else
                    LOGITS_TILE(1)
            }
        }
    }
}

/* S (B, C) = X_rows W^T, step rows [i_begin, i_begin + rows) per
 * work-item (rows a multiple of RT): the products alone, for the passes
 * whose softmax is another kernel (a direction's products, a forward
 * pass, the Hessian's). */
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void tiled_logits(__global real *S, __global const xelem *x, __global const int *idx,
                  const int use_idx, const int start, const int B, __global const real *WT,
                  const int rows, const int C, const int k, const int cp)
{
    if (get_global_id(0) * (size_t)rows >= (size_t)B)
        return;
    const int i_begin = (int)(get_global_id(0) * rows);
    logits_rows(S, x, idx, use_idx, start, i_begin, min(i_begin + rows, B), WT, C, k, cp);
}

/* A gradient step's forward half in one launch: S = X_rows W^T as
 * tiled_logits, then each task's rows' bias, softmax, loss and delta
 * (common.cl's row_softmax_xent, forward.cl's row) while its rows of S are
 * in cache, one launch where two ran. The B rows' ceil(B / RT) row tiles
 * are dealt to `tasks` tasks as evenly as whole tiles allow, the first
 * tasks one tile more, so that threads taking the next task when done
 * end together (at 256 rows, RT 5, 8 tasks of 35 rows left the last 11:
 * one thread did 140 rows, the other 116; 7, 7, 7, 7, 6, 6, 6, 6 tiles
 * give 130 and 126).
 * The tasks are taken one at
 * a time from *counter, task t being the counter's value less `base` (the
 * increments of the launches before, which the host counts: every
 * work-item's last increment finds no task, so a launch adds tasks plus
 * its work-items and no fill is needed between launches); a thread that
 * loses its core holds one task, not the chunk POCL's scheduler hands out.
 * Each row is written by one task with the same arithmetic whichever
 * thread takes it. The targets and sample weights of step row i are at the
 * dataset's row idx[start + i] (use_idx) or row0 + i. */
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void tiled_logits_softmax(__global real *S, __global real *D, __global real *row_loss,
                          __global int *row_correct, volatile __global int *counter,
                          const int base, __global const xelem *x, __global const int *idx,
                          const int use_idx, const int start, const int row0, const int B,
                          __global const real *WT, __global const real *bias,
                          __global const int *labels, __global const real *targets,
                          __global const real *weights, const int tasks, const int mode,
                          const real scale, const int C, const int k, const int cp)
{
    const int tiles = (B + RT - 1) / RT, q = tiles / tasks, rem = tiles % tasks;
    for (int task = atomic_inc(counter) - base; task < tasks;
         task = atomic_inc(counter) - base) {
        const int t0 = task * q + min(task, rem), t1 = t0 + q + (task < rem);
        const int i_begin = t0 * RT, i_end = min(t1 * RT, B);
        logits_rows(S, x, idx, use_idx, start, i_begin, i_end, WT, C, k, cp);
        for (int i = i_begin; i < i_end; i++) {
            const int row = use_idx ? idx[start + i] : row0 + i;
            const int y = (mode & CSM_HAS_LABELS) ? labels[row] : 0;
            __global const real *t =
                (mode & CSM_HAS_TARGETS) ? targets + (size_t)row * C : targets;
            const real wi = (mode & CSM_HAS_WEIGHTS) ? weights[row] : (real)1;
            row_softmax_xent(S + (size_t)i * C, D + (size_t)i * C, bias, y, t, wi, mode, scale,
                             C, row_loss + i, row_correct + i);
        }
    }
}

/* db[c0 .. c1) (+)= the panel's column sums of D, by the items of the
 * first feature tile while the panel's deltas are in cache. Within a
 * panel each class sums its even and its odd rows, then adds the two; across
 * panels the sums are compensated with dbc (C) holding the running error,
 * since a float32 sum over many rows drifts by more than L-BFGS tolerates
 * (cont: a later panel of the same row chunk, whose error carries on; keep:
 * add to db). The rows are summed in vectors of VEC classes that start at
 * multiples of VEC, whatever the chunk's bounds c0, c1 (the lanes outside
 * them are summed and not stored): class c is always lane c % VEC of the
 * same vector, so its sum does not depend on the work split on any
 * runtime. (A vector loop from c0 beside a scalar tail summed alike on
 * POCL only: Intel's CPU runtime put them 2 ulps apart. One scalar loop
 * per class, its replacement, waited on each add's latency: at 256 rows
 * and C = 1000 a sixth of the gradient's time.) */
static inline void bias_panel(__global real *db, __global real *dbc, __global const real *D,
                              const int b0, const int b1, const int c0, const int c1,
                              const int keep, const int cont, const int C)
{
    for (int ca = c0 / VEC * VEC; ca < c1; ca += VEC) {
        const int n = min(VEC, C - ca);
        realv s0 = (realv)(0), s1 = (realv)(0);
        int b = b0;
        if (n == VEC) {
            for (; b + 1 < b1; b += 2) {
                s0 += VLOAD(0, D + (size_t)b * C + ca);
                s1 += VLOAD(0, D + (size_t)(b + 1) * C + ca);
            }
            if (b < b1)
                s0 += VLOAD(0, D + (size_t)b * C + ca);
        } else { /* C's last vector, the same for every split */
            for (; b + 1 < b1; b += 2) {
                s0 += load_part(D + (size_t)b * C + ca, n);
                s1 += load_part(D + (size_t)(b + 1) * C + ca, n);
            }
            if (b < b1)
                s0 += load_part(D + (size_t)b * C + ca, n);
        }
        real t[VEC];
        VSTORE(s0 + s1, 0, t);
        for (int c = max(ca, c0); c < min(ca + n, c1); c++) {
            real sum = keep ? db[c] : (real)0, comp = cont ? dbc[c] : (real)0;
            kahan_add(&sum, &comp, t[c - ca]);
            db[c] = sum;
            dbc[c] = comp;
        }
    }
}

/* Asks the cache for the bytes [p, p + bytes) without waiting for them:
 * the gradient's panels read runs of a row (a task's features of X, its
 * classes of D) k or C apart, which the hardware's prefetchers do not
 * fetch ahead, so each panel waited on memory before its arithmetic
 * (measured: a third of tiled_dweight at n 20000, k 1000, C 100). OpenCL's
 * prefetch() is a no-op on POCL; clang's builtin becomes the CPU's
 * prefetch instruction, and elsewhere this does nothing. */
static inline void prefetch_run(__global const void *p, const int bytes)
{
#if defined(__clang__) && (defined(__x86_64__) || defined(__aarch64__))
    __global const char *c = (__global const char *)p;
    for (int o = 0; o < bytes; o += 64)
        __builtin_prefetch(c + o);
#else
    (void)p;
    (void)bytes;
#endif
}

/* One panel of rows [b0, b1) for the QC classes at c (clamped to the last
 * class: duplicates are computed and not stored) and NVV vectors of the
 * packed panel xp (KC, NV VEC); features past k are zero there and are
 * not stored. */
#define DW_PANEL(NVV)                                                                     \
    {                                                                                     \
        int cq[QC];                                                                       \
        _Pragma("unroll") for (int q = 0; q < QC; q++) cq[q] = min(c + q, C - 1);    \
        const int nq = min(QC, c_end - c);                                                \
        realv acc[QC][NVV];                                                               \
        _Pragma("unroll") for (int q = 0; q < QC; q++)                                    \
            _Pragma("unroll") for (int v = 0; v < NVV; v++) acc[q][v] = (realv)(0);       \
        for (int b = b0; b < b1; b++) {                                                   \
            __local const real *xb = xp + (b - b0) * (NV * VEC);                          \
            realv xv[NVV];                                                                \
            _Pragma("unroll") for (int v = 0; v < NVV; v++) xv[v] = VLOAD(v, xb);         \
            __global const real *dr = D + (size_t)b * C;                             \
            _Pragma("unroll") for (int q = 0; q < QC; q++) {                              \
                const realv ds = (realv)(dr[cq[q]]);                                      \
                _Pragma("unroll") for (int v = 0; v < NVV; v++)                           \
                    acc[q][v] = fma(ds, xv[v], acc[q][v]);                                \
            }                                                                             \
        }                                                                                 \
        for (int q = 0; q < nq; q++) {                                                    \
            __global real *dw = ow + (size_t)(c + q) * k + f0;                        \
            _Pragma("unroll") for (int v = 0; v < NVV; v++) {                             \
                if ((v + 1) * VEC <= nf) {                                                \
                    realv o = acc[q][v];                                                  \
                    if (keep)                                                             \
                        o += VLOAD(v, dw);                                                \
                    VSTORE(o, v, dw);                                                     \
                } else if (v * VEC < nf) {                                                \
                    realv o = acc[q][v];                                                  \
                    if (keep)                                                             \
                        o += load_part(dw + v * VEC, nf - v * VEC);                       \
                    store_part(o, dw + v * VEC, nf - v * VEC);                            \
                }                                                                         \
            }                                                                             \
        }                                                                                 \
    }

/* The solver's update (common.cl's rule_one) of the block of W a
 * gradient task has just summed, classes [c0, c1) by features [j0, j1),
 * and of b[c0 .. c1) with `bias_too`; W's new entries also go to WT, packed
 * as tiled_transpose packs them, so the next step's logits need no
 * transpose. The same rule on the same values as update.cl's kernels, so
 * W and b come out as they would from the separate launch: W's rows in
 * vectors of VEC features from j0 (the item's first feature, a multiple of
 * VEC), each lane with the scalar rule's arithmetic (common.cl's
 * CSM_RULES), where one entry at a time cost about 0.025 ms of a 256-row
 * step at k 100, C 1000. */
static inline void update_block(const int rule, const int bias_too, __global real *W,
                                __global real *bias, __global real *mw, __global real *mb,
                                __global real *vw, __global real *vb, __global real *WT,
                                __global const real *dW, __global const real *db, const int c0,
                                const int c1, const int j0, const int j1, const int cp,
                                const real lr, const real mu, const real beta1,
                                const real beta2, const real eps, const real l2,
                                const real bc1, const real bc2, const int k)
{
    for (int c = c0; c < c1; c++) {
        const int t0 = c / TW * TW, w = min(TW, cp - t0);
        __global real *wt = WT + (size_t)t0 * k + (c - t0);
        const size_t r = (size_t)c * k;
        int j = j0;
        for (; j + VEC <= j1; j += VEC)
            rule_vec(rule, W, mw, vw, dW, r + j, lr, mu, beta1, beta2, eps, l2, bc1, bc2);
        for (; j < j1; j++)
            rule_one(rule, W, mw, vw, dW, r + j, lr, mu, beta1, beta2, eps, l2, bc1, bc2);
        for (j = j0; j < j1; j++)
            wt[(size_t)j * w] = W[r + j];
    }
    if (bias_too)
        for (int c = c0; c < c1; c++)
            rule_one(rule, bias, mb, vb, db, c, lr, mu, beta1, beta2, eps, 0, bc1, bc2);
}

/* stats[slot] = the sum of row_loss over B rows, correct[slot] that of
 * row_correct, in row order (compensated): a step's loss sums, by the
 * gradient's first task, where a launch of reduce.cl's group did them. */
static inline void loss_sums(__global real *stats, __global int *correct, const int slot,
                             __global const real *row_loss, __global const int *row_correct,
                             const int B)
{
    real sum = 0, comp = 0;
    int hits = 0;
    for (int i = 0; i < B; i++) {
        kahan_add(&sum, &comp, row_loss[i]);
        hits += row_correct[i];
    }
    stats[slot] = sum;
    correct[slot] = hits;
}

/* dW (C, k) (+)= D^T X_rows and db (C) (+)= D^T 1 (dbc (C): scratch for
 * the bias sums' compensation), as tasks taken one at a time from
 * *counter (task t: its value less base, as in tiled_logits_softmax);
 * with slot >= 0 task 0 also does the step's loss sums (loss_sums), and
 * with a rule (one row chunk only) each task then updates its block of W
 * and WT, and of b (update_block). Task t is feature item f = t % nfi
 * (tiles [f FTI, (f + 1) FTI) of NV VEC features each), class chunk
 * g = t / nfi % nch (classes [g CCH, (g + 1) CCH)) and row chunk
 * r = t / (nfi nch) (rows [r RCH, (r + 1) RCH)). With one row chunk a task
 * writes dW and db; with several, chunk r writes its own partial pW + r C k,
 * pb + r C (pbc + r C its compensation) and tiled_dweight_sum adds them in
 * chunk order. No two tasks write the same place and each element sums its
 * rows in order, so the result depends on the shape and the geometry (RCH
 * is chosen from them), never on which thread took which task or how many
 * there are. Taking tasks one at a time keeps a thread that loses its core
 * from holding several: POCL hands a launch's work-items out in chunks of
 * up to half of them, and with 8 items the thread holding 4 set the pace
 * beside a busy process (52 -> 83 ms a full-batch gradient).
 *
 * Rows come in panels of KC. A panel's part of the item's features is
 * packed (gathered through the permutation, converted, zero-padded past k)
 * into local memory, tile by tile, where it stays in cache while every
 * class tile of the chunk uses it; the running sums go to dW between
 * panels. FTI tiles per item make each row's read one contiguous run:
 * rows are k apart, and short runs of many rows wait on the TLB and memory
 * (measured: a quarter of the kernel at k = 1000 with one tile per item). */
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void tiled_dweight(__global real *dW, __global real *db, __global real *dbc,
                   __global real *pW, __global real *pb, __global real *pbc,
                   volatile __global int *counter, const int base,
                   __global real *stats, __global int *correct, const int slot,
                   __global const real *row_loss, __global const int *row_correct,
                   __global const real *D, __global const xelem *x, __global const int *idx,
                   const int use_idx, const int start, const int B, const int CCH,
                   const int nfi, const int nch, const int RCH, const int accumulate,
                   const int C, const int k, const int rule, const int with_bias,
                   __global real *W, __global real *bias, __global real *mw,
                   __global real *mb, __global real *vw, __global real *vb,
                   __global real *WT, const int cp, const real lr, const real mu,
                   const real beta1, const real beta2, const real eps, const real l2,
                   const real bc1, const real bc2)
{
    __local real xpack[FTI * KC * NV * VEC];
    const int FT = NV * VEC;
    const int ntiles = (k + FT - 1) / FT;
    const int nr = (B + RCH - 1) / RCH;
    const int tasks = nfi * nch * nr;
    for (int task = atomic_inc(counter) - base; task < tasks;
         task = atomic_inc(counter) - base) {
        if (task == 0 && slot >= 0)
            loss_sums(stats, correct, slot, row_loss, row_correct, B);
        const int t_begin = task % nfi * FTI;
        const int c_begin = task / nfi % nch * CCH;
        const int r = task / (nfi * nch);
        if (t_begin >= ntiles || c_begin >= C)
            continue;
        const int nt = min(FTI, ntiles - t_begin);
        const int fi0 = t_begin * FT, nfe = min(nt * FT, k - fi0); /* the item's features */
        const int c_end = min(c_begin + CCH, C);
        const int rb0 = r * RCH, rb1 = min(B - rb0, RCH) + rb0;
        /* the task's output: dW and db, or its row chunk's partial */
        __global real *ow = nr > 1 ? pW + (size_t)r * C * k : dW;
        __global real *ob = nr > 1 ? pb + (size_t)r * C : db;
        __global real *obc = nr > 1 ? pbc + (size_t)r * C : dbc;
        const int keep0 = nr > 1 ? 0 : accumulate;
        for (long b0_ = rb0; b0_ < rb1; b0_ += KC) { /* long: b0 + KC may pass INT_MAX */
            const int b0 = b0_, b1 = min(rb1 - b0, KC) + b0;
            for (int b = b0; b < b1; b++) {
                const int row = use_idx ? idx[start + b] : start + b;
                __global const xelem *xr = x + (size_t)row * k + fi0;
                for (int tt = 0; tt < nt; tt++) {
                    __local real *pr = xpack + (tt * KC + (b - b0)) * FT;
                    const int j0 = tt * FT, j1 = min(j0 + FT, nfe);
                    int j = j0;
                    for (; j + VEC <= j1; j += VEC)
                        VSTORE(XLOADV(0, xr + j), 0, pr + (j - j0));
                    for (; j < j0 + FT; j++)
                        pr[j - j0] = j < j1 ? XVAL(xr[j]) : (real)0;
                }
            }
            const int keep = keep0 || b0 > rb0;
            const int n1 = b1 < rb1 ? min(rb1 - b1, KC) + b1 : b1;
            const int units = nt * ((c_end - c_begin + QC - 1) / QC);
            const int per = (n1 - b1 + units - 1) / units;
            int np = b1;
            if (t_begin == 0)
                bias_panel(ob, obc, D, b0, b1, c_begin, c_end, keep, b0 > rb0, C);
            for (int tt = 0; tt < nt; tt++) {
                __local const real *xp = xpack + tt * KC * FT;
                const int f0 = fi0 + tt * FT;
                const int nf = min(FT, k - f0);
                const int nvec = (nf + VEC - 1) / VEC;
                for (int c = c_begin; c < c_end; c += QC) {
                    if (nvec == NV)
                        DW_PANEL(NV)
#if NV > 3
                    else if (nvec == 3)
                        DW_PANEL(3)
#endif
#if NV > 2
                    else if (nvec == 2)
                        DW_PANEL(2)
#endif
                    else
                        DW_PANEL(1)
                    const int p1 = min(np + per, n1);
                    for (; np < p1; np++) {
                        const int row = use_idx ? idx[start + np] : start + np;
                        prefetch_run(x + (size_t)row * k + fi0, nfe * (int)sizeof(xelem));
                        prefetch_run(D + (size_t)np * C + c_begin,
                                     (c_end - c_begin) * (int)sizeof(real));
                    }
                }
            }
        }
        if (rule)
            update_block(rule, with_bias && t_begin == 0, W, bias, mw, mb, vw, vb, WT, dW, db,
                         c_begin, c_end, fi0, fi0 + nfe, cp, lr, mu, beta1, beta2, eps, l2, bc1,
                         bc2, k);
    }
}

/* dW (C, k) = [dW +] pW_0 + pW_1 + ... + pW_{nr-1} and db (C) likewise
 * (compensated), the row chunks' partials of tiled_dweight in chunk order
 * (with accumulate, dW's old value first). Work-item i sums the elements
 * [i SPAN, (i + 1) SPAN) of dW in vectors; the last item also does db. */
#ifndef SPAN
#define SPAN 2048
#endif
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void tiled_dweight_sum(__global real *dW, __global real *db, __global const real *pW,
                       __global const real *pb, const int nr, const int accumulate,
                       const int C, const int k)
{
    const size_t ck = (size_t)C * k;
    const size_t e0 = get_global_id(0) * (size_t)SPAN;
    if (e0 >= ck)
        return;
    const size_t e1 = min(e0 + SPAN, ck);
    size_t e = e0;
    for (; e + VEC <= e1; e += VEC) {
        realv acc = accumulate ? VLOAD(0, dW + e) : (realv)(0);
        for (int r = 0; r < nr; r++)
            acc += VLOAD(0, pW + r * ck + e);
        VSTORE(acc, 0, dW + e);
    }
    for (; e < e1; e++) {
        real acc = accumulate ? dW[e] : (real)0;
        for (int r = 0; r < nr; r++)
            acc += pW[r * ck + e];
        dW[e] = acc;
    }
    if (e1 == ck)
        for (int c = 0; c < C; c++) {
            real sum = accumulate ? db[c] : (real)0, comp = 0;
            for (int r = 0; r < nr; r++)
                kahan_add(&sum, &comp, pb[(size_t)r * C + c]);
            db[c] = sum;
        }
}
