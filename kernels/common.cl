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

/* ls[0] = sum of ls[0 .. CSM_WG) by a fixed tree. Every item of the
 * work-group must call it. */
static inline real group_sum(__local real *ls)
{
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int h = CSM_WG / 2; h > 0; h >>= 1) {
        for (int l = get_local_id(0); l < h; l += get_local_size(0))
            ls[l] += ls[l + h];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return ls[0];
}

/* The value of ||w||^2 over count entries (to every item), by one work-group
 * in a fixed order: lane l sums entries l, l + CSM_WG, ... then the tree of
 * group_sum. sum_squares and the launches that fold it in (bias_grad,
 * fused_reduce) share it so they agree bit for bit. */
static inline real group_sum_squares(__local real *ls, __global const real *w, const int count)
{
    FOR_LANES(l) {
        real acc = 0, comp = 0;
        for (long i = l; i < count; i += CSM_WG)
            kahan_add(&acc, &comp, w[i] * w[i]);
        ls[l] = acc;
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
