/* The kernel library, prepended to every kernel file (after
 * csm_kernel_flags.h, the flags the host shares). The host defines REAL
 * (float or double, the training precision) and CSM_FP64 (1 when REAL is
 * double), and the tuning knobs a file asks for (VEC, the vector width of
 * the device, among them); sizes are kernel arguments, so one program
 * serves every shape. */
#if CSM_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

typedef REAL real;
#if CSM_FP64
typedef double4 real4;
#else
typedef float4 real4;
#endif

/* Compensated (Kahan) summation: *sum += v with the rounding error kept in
 * *comp. A float32 sum over thousands of rows otherwise drifts by 1e-4
 * relative, which L-BFGS's line search and its tolerance can see. */
static inline void kahan_add(real *sum, real *comp, const real v)
{
    const real y = v - *comp;
    const real t = *sum + y;
    *comp = (t - *sum) - y;
    *sum = t;
}

/* Reductions sum in CSM_WG lanes, then combine the lanes by a fixed tree,
 * so the order never depends on scheduling. A work-group has CSM_WG items
 * where the device allows it, fewer (a power of two) where it does not:
 * item t then carries lanes t, t + get_local_size(0), ... in turn, and
 * every lane still sums the same elements in the same order. */
#define FOR_LANES(l) for (int l = get_local_id(0); l < CSM_WG; l += get_local_size(0))

/* The group reduction, written once: for each of `rows` rows of n lanes
 * (row r at ls + r * stride, n a power of two), lane 0 becomes the sum (or
 * maximum) of the row by a fixed tree, the upper half of the lanes folded
 * onto the lower half until one is left; the work-group's items share the
 * lanes of each level whatever their number. Every item of the group must
 * call it (it has barriers); it starts with one, so the lanes written just
 * before are seen, and ends with one. */
#define CSM_ADD(a, b) ((a) + (b))
#define CSM_GROUP_TREE(NAME, T, OP)                                                         \
    static inline void NAME(__local T *ls, const int rows, const int stride, const int n)   \
    {                                                                                       \
        barrier(CLK_LOCAL_MEM_FENCE);                                                       \
        for (int h = n / 2; h > 0; h >>= 1) {                                               \
            for (int l = get_local_id(0); l < h; l += get_local_size(0))                    \
                for (int r = 0; r < rows; r++)                                              \
                    ls[r * stride + l] = OP(ls[r * stride + l], ls[r * stride + l + h]);    \
            barrier(CLK_LOCAL_MEM_FENCE);                                                   \
        }                                                                                   \
    }
CSM_GROUP_TREE(group_tree_sum, real, CSM_ADD)
CSM_GROUP_TREE(group_tree_count, int, CSM_ADD)
CSM_GROUP_TREE(group_tree_max, real, fmax)

/* ls[0] = sum of the CSM_WG lanes ls[0 .. CSM_WG), returned to every item. */
static inline real group_sum(__local real *ls)
{
    group_tree_sum(ls, 1, CSM_WG, CSM_WG);
    return ls[0];
}

/* The value of ||w||^2 over count entries (to every item), by one work-group
 * in a fixed order: lane l sums the runs of 4 entries at 4 l, 4 (l +
 * CSM_WG), ... in 4 compensated sums (a vector of 4 whatever VEC is, so
 * the order is the same in every kernel file), adds them as (s0 + s1) +
 * (s2 + s3), lane 0 adds the last count % 4 entries, then the tree of
 * group_sum. sum_squares and the launches that fold it in (bias_grad,
 * fused_reduce) share it so they agree bit for bit. One entry per step of
 * a lane's loop took 0.19 ms of a 1 ms minibatch step at C k = 10^5. */
static inline real group_sum_squares(__local real *ls, __global const real *w, const int count)
{
    const long quads = count / 4;
    FOR_LANES(l) {
        real4 acc = (real4)(0), comp = (real4)(0);
        for (long q = l; q < quads; q += CSM_WG) {
            const real4 v = vload4(q, w);
            const real4 y = v * v - comp;
            const real4 t = acc + y;
            comp = (t - acc) - y;
            acc = t;
        }
        real sum = (acc.x + acc.y) + (acc.z + acc.w);
        if (l == 0)
            for (long i = quads * 4; i < count; i++)
                sum += w[i] * w[i];
        ls[l] = sum;
    }
    return group_sum(ls);
}

#ifndef VEC
#define VEC 4
#endif
/* Vectors of VEC reals (the device's preferred width: forward.cl,
 * fused.cl and tiled.cl are built with it). */
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define REALV CAT(REAL, VEC)
typedef REALV realv;
#define VLOAD CAT(vload, VEC)
#define VSTORE CAT(vstore, VEC)

/* Features as the dataset stores them: bytes (X_U8 = 1, the value is
 * byte / 255, a quarter of the memory traffic of float) or reals. */
#if X_U8
typedef uchar xelem;
#define XVAL(v) ((real)(v) * (real)(1.0 / 255.0))
#define XLOADV(i, p) (CAT(convert_, REALV)(VLOAD(i, p)) * (real)(1.0 / 255.0))
#else
typedef real xelem;
#define XVAL(v) (v)
#define XLOADV(i, p) VLOAD(i, p)
#endif

/* The sum and the maximum of a vector's lanes, by a fixed tree. */
static inline real vsum_all(realv v)
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

static inline real vmax_all(realv v)
{
#if VEC == 16
    CAT(REAL, 8) a = fmax(v.lo, v.hi);
    CAT(REAL, 4) b = fmax(a.lo, a.hi);
#elif VEC == 8
    CAT(REAL, 4) b = fmax(v.lo, v.hi);
#else
    CAT(REAL, 4) b = v;
#endif
    CAT(REAL, 2) c = fmax(b.lo, b.hi);
    return fmax(c.x, c.y);
}

/* The comparison mask of two realv (the type select() takes with them):
 * ints for float, longs for double. */
#if CSM_FP64
typedef CAT(long, VEC) realv_mask;
typedef long real_mask;
#else
typedef CAT(int, VEC) realv_mask;
typedef int real_mask;
#endif

/* The row softmax and cross-entropy, written once for rows in global
 * memory (forward.cl) and in private memory (fused.cl). A row s holds the
 * C logits S + b of one sample; the first nv whole vectors of VEC classes
 * are summed in vector lanes (then the lanes by vsum_all), the classes
 * after them one by one in order (nv = 0: all in order, as the fused
 * kernel sums its register rows).
 *
 * row_lse: the maximum m, the first class attaining it (*arg), and
 *   lse = m + log(z), z = sum_c exp(s_c - m) (at least 1: the maximum's
 *   term is exp(0)); log O_c = s_c - lse, never log(0). With e non-null,
 *   e_c = exp(s_c - m) is kept and *rz = 1 / z, so O_c = e_c / z costs
 *   no second exp (at C = 1000 the exps are this kernel's time). The
 *   argmax is found in the maximum's pass: each lane keeps the first
 *   vector where its maximum rose, and of the lanes holding m the lowest
 *   class wins, as a scan from class 0 would find.
 * row_xent: -sum_c T_c log O_c of soft targets t, a zero target
 *   contributing exactly 0, and the first of their largest values (*targ);
 *   with labels the loss is lse - s_y. */
#define CSM_ROW_FUNCTIONS(SP, SFX)                                                          \
    static inline real row_lse_##SFX(SP const real *s, const int C, const int nv, int *arg, \
                                      __global real *e, real *rz)                            \
    {                                                                                       \
        realv mv = (realv)(-INFINITY);                                                      \
        realv_mask iv = (realv_mask)(0);                                                    \
        for (int v = 0; v < nv; v++) {                                                      \
            const realv sv = VLOAD(v, s);                                                   \
            const realv_mask up = sv > mv;                                                  \
            mv = select(mv, sv, up);                                                        \
            iv = select(iv, (realv_mask)(v), up);                                           \
        }                                                                                   \
        real m = -INFINITY;                                                                 \
        int a = 0;                                                                          \
        if (nv > 0) {                                                                       \
            m = vmax_all(mv);                                                               \
            real ml[VEC];                                                                   \
            real_mask il[VEC];                                                              \
            VSTORE(mv, 0, ml);                                                              \
            VSTORE(iv, 0, il);                                                              \
            a = C;                                                                          \
            for (int u = 0; u < VEC; u++)                                                   \
                if (ml[u] == m)                                                             \
                    a = min(a, (int)il[u] * VEC + u);                                       \
            a = a < C ? a : 0;                                                              \
        }                                                                                   \
        for (int c = nv * VEC; c < C; c++)                                                  \
            if (s[c] > m) {                                                                 \
                m = s[c];                                                                   \
                a = c;                                                                      \
            }                                                                               \
        *arg = a;                                                                           \
        realv zv = (realv)(0);                                                              \
        for (int v = 0; v < nv; v++) {                                                      \
            const realv ev = exp(VLOAD(v, s) - m);                                          \
            if (e)                                                                          \
                VSTORE(ev, v, e);                                                           \
            zv += ev;                                                                       \
        }                                                                                   \
        real z = nv > 0 ? vsum_all(zv) : 0;                                                 \
        for (int c = nv * VEC; c < C; c++) {                                                \
            const real ec = exp(s[c] - m);                                                  \
            if (e)                                                                          \
                e[c] = ec;                                                                  \
            z += ec;                                                                        \
        }                                                                                   \
        if (rz)                                                                             \
            *rz = (real)1 / z;                                                              \
        return m + log(z);                                                                  \
    }                                                                                       \
    static inline real row_xent_##SFX(SP const real *s, __global const real *t, const int C, \
                                      const int nv, const real lse, int *targ)              \
    {                                                                                       \
        realv lv = (realv)(0);                                                              \
        for (int v = 0; v < nv; v++) {                                                      \
            const realv tv = VLOAD(v, t);                                                   \
            lv += select((realv)(0), tv * (lse - VLOAD(v, s)), tv != (realv)(0));           \
        }                                                                                   \
        real loss = nv > 0 ? vsum_all(lv) : 0;                                              \
        for (int c = nv * VEC; c < C; c++)                                                  \
            if (t[c] != 0)                                                                  \
                loss += t[c] * (lse - s[c]);                                                \
        real tmax = -1;                                                                     \
        int a = 0;                                                                          \
        for (int c = 0; c < C; c++)                                                         \
            if (t[c] > tmax) {                                                              \
                tmax = t[c];                                                                \
                a = c;                                                                      \
            }                                                                               \
        *targ = a;                                                                          \
        return loss;                                                                        \
    }
CSM_ROW_FUNCTIONS(__global, global)
CSM_ROW_FUNCTIONS(__private, private)

/* One row's bias, softmax, loss and delta: softmax_xent_forward's row
 * (forward.cl), and the tiled path's logits tasks' rows (tiled.cl), one
 * copy. s (C): the row's X W^T in, S + b out (in place); o (C): the
 * probabilities or their delta (O - T) scale wi, by mode; the targets: label
 * y (CSM_HAS_LABELS) or soft row t (CSM_HAS_TARGETS); wi the sample weight
 * (1 without). *loss: -sum_c T_c log O_c times wi; *hit: 1 when the argmax
 * is the target's (the predicted class without targets). */
static inline void row_softmax_xent(__global real *s, __global real *o,
                                    __global const real *bias, const int y,
                                    __global const real *t, const real wi, const int mode,
                                    const real scale, const int C, __global real *loss,
                                    __global int *hit)
{
    const int NCV = C / VEC; /* whole vectors per row */
    /* S + b, in place */
    for (int v = 0; v < NCV; v++)
        VSTORE(VLOAD(v, s) + VLOAD(v, bias), v, s);
    for (int c = NCV * VEC; c < C; c++)
        s[c] += bias[c];
    const real dscale = scale * wi;
    const int write = mode & (CSM_WRITE_PROBS | CSM_WRITE_DELTA);
    int arg;
    real rz;
    /* o holds exp(s - m) after this, when written */
    const real lse = row_lse_global(s, C, NCV, &arg, write ? o : 0, &rz);
    /* probabilities exp(s - m) / z, or their delta without the target term */
    const real pscale = ((mode & CSM_WRITE_DELTA) ? dscale : (real)1) * rz;
    if (write) {
        for (int v = 0; v < NCV; v++)
            VSTORE(VLOAD(v, o) * pscale, v, o);
        for (int c = NCV * VEC; c < C; c++)
            o[c] *= pscale;
    }
    if (mode & CSM_HAS_LABELS) {
        *loss = wi * (lse - s[y]);
        *hit = (arg == y);
        if (mode & CSM_WRITE_DELTA)
            o[y] -= dscale;
    } else if (mode & CSM_HAS_TARGETS) {
        int targ;
        *loss = wi * row_xent_global(s, t, C, NCV, lse, &targ);
        *hit = (arg == targ);
        if (mode & CSM_WRITE_DELTA) {
            for (int v = 0; v < NCV; v++)
                VSTORE(VLOAD(v, o) - VLOAD(v, t) * dscale, v, o);
            for (int c = NCV * VEC; c < C; c++)
                o[c] -= t[c] * dscale;
        }
    } else {
        *hit = arg; /* without targets: the predicted class */
    }
}

/* The optimizers' rules, written once on values of type T (real: one
 * entry; realv: VEC entries, each lane with the scalar's arithmetic) and
 * returning the new w: g = grad + l2 w (l2 = 0 for the bias). SGD:
 * w - lr g. Heavy-ball momentum: v = mu v + g; w - lr v. Adam (Kingma &
 * Ba): bc1 = 1 - beta1^t, bc2 = 1 - beta2^t from the host, which knows
 * the step count without reading the device. */
#define CSM_RULES(T, SFX)                                                                    \
    static inline T sgd_##SFX(const T w, const T grad, const real lr, const real l2)        \
    {                                                                                        \
        const T g = grad + l2 * w;                                                           \
        return w - lr * g;                                                                   \
    }                                                                                        \
    static inline T momentum_##SFX(const T w, T *v, const T grad, const real lr,            \
                                   const real mu, const real l2)                             \
    {                                                                                        \
        const T g = grad + l2 * w;                                                           \
        const T vi = mu * *v + g;                                                            \
        *v = vi;                                                                             \
        return w - lr * vi;                                                                  \
    }                                                                                        \
    static inline T adam_##SFX(const T w, T *m, T *v, const T grad, const real lr,          \
                               const real beta1, const real beta2, const real eps,           \
                               const real l2, const real bc1, const real bc2)                \
    {                                                                                        \
        const T g = grad + l2 * w;                                                           \
        const T mi = beta1 * *m + (1 - beta1) * g;                                           \
        const T vi = beta2 * *v + (1 - beta2) * g * g;                                       \
        *m = mi;                                                                             \
        *v = vi;                                                                             \
        return w - lr * (mi / bc1) / (sqrt(vi / bc2) + eps);                                 \
    }
CSM_RULES(real, val)
CSM_RULES(realv, vec)

/* The rules for entry i of a tensor w with gradient grad and state m, v
 * (update.cl's kernels, and the tiled path's gradient, which applies them
 * to the block it has just summed). */
static inline void sgd_one(__global real *w, __global const real *grad, const size_t i,
                           const real lr, const real l2)
{
    w[i] = sgd_val(w[i], grad[i], lr, l2);
}

static inline void momentum_one(__global real *w, __global real *v, __global const real *grad,
                                const size_t i, const real lr, const real mu, const real l2)
{
    real vi = v[i];
    w[i] = momentum_val(w[i], &vi, grad[i], lr, mu, l2);
    v[i] = vi;
}

static inline void adam_one(__global real *w, __global real *m, __global real *v,
                            __global const real *grad, const size_t i, const real lr,
                            const real beta1, const real beta2, const real eps, const real l2,
                            const real bc1, const real bc2)
{
    real mi = m[i], vi = v[i];
    w[i] = adam_val(w[i], &mi, &vi, grad[i], lr, beta1, beta2, eps, l2, bc1, bc2);
    m[i] = mi;
    v[i] = vi;
}

/* The rule `rule` (CSM_RULE_*) for entry i; m and v: its state (unused by
 * the rules without it). */
static inline void rule_one(const int rule, __global real *w, __global real *m,
                            __global real *v, __global const real *grad, const size_t i,
                            const real lr, const real mu, const real beta1, const real beta2,
                            const real eps, const real l2, const real bc1, const real bc2)
{
    if (rule == CSM_RULE_SGD)
        sgd_one(w, grad, i, lr, l2);
    else if (rule == CSM_RULE_MOMENTUM)
        momentum_one(w, v, grad, i, lr, mu, l2);
    else
        adam_one(w, m, v, grad, i, lr, beta1, beta2, eps, l2, bc1, bc2);
}

/* rule_one for the VEC entries from i (the same arithmetic in each lane) */
static inline void rule_vec(const int rule, __global real *w, __global real *m,
                            __global real *v, __global const real *grad, const size_t i,
                            const real lr, const real mu, const real beta1, const real beta2,
                            const real eps, const real l2, const real bc1, const real bc2)
{
    const realv wv = VLOAD(0, w + i), gv = VLOAD(0, grad + i);
    if (rule == CSM_RULE_SGD) {
        VSTORE(sgd_vec(wv, gv, lr, l2), 0, w + i);
    } else if (rule == CSM_RULE_MOMENTUM) {
        realv vv = VLOAD(0, v + i);
        VSTORE(momentum_vec(wv, &vv, gv, lr, mu, l2), 0, w + i);
        VSTORE(vv, 0, v + i);
    } else {
        realv mv = VLOAD(0, m + i), vv = VLOAD(0, v + i);
        VSTORE(adam_vec(wv, &mv, &vv, gv, lr, beta1, beta2, eps, l2, bc1, bc2), 0, w + i);
        VSTORE(mv, 0, m + i);
        VSTORE(vv, 0, v + i);
    }
}
