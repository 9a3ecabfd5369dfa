/* Parameter updates of W (C, k) and b (C) together: one launch per step
 * rather than one per tensor, since minibatch steps on a GPU are
 * launch-bound. The optimizer state is per tensor (m[0], v[0] for W; m[1],
 * v[1] for b), so both tensors' buffers come in.
 *
 * The first GW work-groups update W, one item per entry, the groups after
 * them b (GW follows the launch's group size, the device's choice). The branch between the tensors
 * is then the same for a whole group, and POCL keeps each tensor's loop
 * vectorised (choosing per item, by pointer select or by branch, measured
 * 3x and 35x slower on it than the two launches this one replaces).
 *
 * g = grad + l * w with l = l2 for W and l = 0 for the bias, which is not
 * regularised: the bias keeps the "+ 0 * b" of the former per-tensor
 * launches, so every element sees the same arithmetic as before. */

/* The entries' rules (sgd_one, momentum_one, adam_one) are common.cl's:
 * the tiled path's gradient applies them too (tiled.cl). */

/* W has nw entries, b has C; GW groups cover W */
#define GW (((size_t)nw + get_local_size(0) - 1) / get_local_size(0))

__kernel void sgd_update(__global real *w, __global real *b, __global const real *dw,
                         __global const real *db, const real lr, const real l2, const int nw,
                         const int C)
{
    if (get_group_id(0) < GW) {
        const size_t i = get_global_id(0);
        if (i < (size_t)nw)
            sgd_one(w, dw, i, lr, l2);
    } else {
        const size_t c = get_global_id(0) - GW * get_local_size(0);
        if (c < (size_t)C)
            sgd_one(b, db, c, lr, 0);
    }
}

/* Heavy-ball momentum: v = mu v + g; w -= lr v */
__kernel void momentum_update(__global real *w, __global real *b, __global real *vw,
                              __global real *vb, __global const real *dw,
                              __global const real *db, const real lr, const real mu,
                              const real l2, const int nw, const int C)
{
    if (get_group_id(0) < GW) {
        const size_t i = get_global_id(0);
        if (i < (size_t)nw)
            momentum_one(w, vw, dw, i, lr, mu, l2);
    } else {
        const size_t c = get_global_id(0) - GW * get_local_size(0);
        if (c < (size_t)C)
            momentum_one(b, vb, db, c, lr, mu, 0);
    }
}

/* Adam (Kingma & Ba). bc1 = 1 - beta1^t, bc2 = 1 - beta2^t come from the
 * host, which knows the step count without reading the device. */
__kernel void adam_update(__global real *w, __global real *b, __global real *mw,
                          __global real *mb, __global real *vw, __global real *vb,
                          __global const real *dw, __global const real *db, const real lr,
                          const real beta1, const real beta2, const real eps, const real l2,
                          const real bc1, const real bc2, const int nw, const int C)
{
    if (get_group_id(0) < GW) {
        const size_t i = get_global_id(0);
        if (i < (size_t)nw)
            adam_one(w, mw, vw, dw, i, lr, beta1, beta2, eps, l2, bc1, bc2);
    } else {
        const size_t c = get_global_id(0) - GW * get_local_size(0);
        if (c < (size_t)C)
            adam_one(b, mb, vb, db, c, lr, beta1, beta2, eps, 0, bc1, bc2);
    }
}
