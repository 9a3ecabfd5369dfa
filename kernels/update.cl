/* Parameter updates. g = grad + l2 * w (l2 = 0 for the bias, which is not
 * regularised). One work-item per parameter. */

__kernel void sgd_update(__global real *w, __global const real *grad, const int count,
                         const real lr, const real l2)
{
    const int i = get_global_id(0);
    if (i >= count)
        return;
    const real g = grad[i] + l2 * w[i];
    w[i] -= lr * g;
}

/* Heavy-ball momentum: v = mu v + g; w -= lr v */
__kernel void momentum_update(__global real *w, __global real *v, __global const real *grad,
                              const int count, const real lr, const real mu, const real l2)
{
    const int i = get_global_id(0);
    if (i >= count)
        return;
    const real g = grad[i] + l2 * w[i];
    const real vi = mu * v[i] + g;
    v[i] = vi;
    w[i] -= lr * vi;
}

/* Adam (Kingma & Ba). bc1 = 1 - beta1^t, bc2 = 1 - beta2^t come from the
 * host, which knows the step count without reading the device. */
__kernel void adam_update(__global real *w, __global real *m, __global real *v,
                          __global const real *grad, const int count, const real lr,
                          const real beta1, const real beta2, const real eps, const real l2,
                          const real bc1, const real bc2)
{
    const int i = get_global_id(0);
    if (i >= count)
        return;
    const real g = grad[i] + l2 * w[i];
    const real mi = beta1 * m[i] + (1 - beta1) * g;
    const real vi = beta2 * v[i] + (1 - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    w[i] -= lr * (mi / bc1) / (sqrt(vi / bc2) + eps);
}
