/* Host side of kernels/vec.cl: level-1 operations on device parameter
 * vectors and the row matrices of the L-BFGS history. Everything only enqueues, except
 * csm_vec_read. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "solver.h"

static size_t round_up(size_t v, size_t to) { return (v + to - 1) / to * to; }

csm_status csm_vec_init(csm_vecops *v, csm_model *m, size_t nscal)
{
    memset(v, 0, sizeof *v);
    v->ctx = m->ctx;
    v->prec = m->precision;
    v->nw = m->C * m->k;
    v->n = v->nw + m->C;
    v->nscal = nscal;
    const size_t es = csm_real_size(m->precision);
    static const char *const names[] = {"vec_reduce_partial", "vec_reduce_final", "vec_sub",
                                        "vec_set_params", "vec_get_params", "vec_pack_grad",
                                        "vec_multidot_partial", "vec_multidot_final",
                                        "vec_combine", "vec_sub_row"};
    cl_kernel *ks[] = {&v->k_partial, &v->k_final, &v->k_sub, &v->k_set, &v->k_get,
                       &v->k_pack, &v->k_mdot, &v->k_mdot_final, &v->k_combine, &v->k_sub_row};
    csm_status st = CSM_OK;
    /* history rows per multi-dot pass: 8, fewer when their lanes do not
     * fit the device's local memory (a row's sum is the same either way) */
    size_t md = 8;
    while (md > 1 && md * CSM_REDUCE_WG * es > m->ctx->limits.local_mem)
        md /= 2;
    v->md_rows = md;
    char extra[64];
    snprintf(extra, sizeof extra, "-DVEC_CONTIG=%d -DMD_ROWS=%zu",
             !strcmp(m->ctx->info.device_type, "cpu"), md);
    for (size_t i = 0; i < sizeof names / sizeof *names && st == CSM_OK; i++)
        st = csm_get_kernel_ex(m->ctx, ks[i], "vec.cl", names[i], m->precision, m->C, m->k,
                               extra);
    size_t wg2 = 0;
    if (st == CSM_OK) st = csm_reduce_group(m->ctx, v->k_partial, "vec_reduce_partial", &v->wg);
    if (st == CSM_OK) st = csm_reduce_group(m->ctx, v->k_mdot, "vec_multidot_partial", &wg2);
    if (st == CSM_OK && wg2 < v->wg)
        v->wg = wg2;
    if (st == CSM_OK)
        st = csm_buffer_create(m->ctx, &v->part, CSM_VEC_GROUPS * es, "reduction partials");
    if (st == CSM_OK)
        st = csm_buffer_create(m->ctx, &v->scal, nscal * es, "solver scalars");
    if (st == CSM_OK)
        st = csm_fill_zero(m->ctx, v->scal, nscal * es);
    if (st != CSM_OK)
        csm_vec_free(v);
    return st;
}

void csm_vec_free(csm_vecops *v)
{
    csm_buffer_release(&v->part);
    csm_buffer_release(&v->scal);
}

csm_status csm_vec_alloc(csm_vecops *v, cl_mem *out, const char *what)
{
    return csm_buffer_create(v->ctx, out, v->n * csm_real_size(v->prec), what);
}

/* Groups for a reduction over n elements: a function of n alone. */
static cl_int reduce_groups(size_t n)
{
    size_t g = (n + 4 * CSM_WG - 1) / (4 * CSM_WG);
    return (cl_int)(g < 1 ? 1 : g > CSM_VEC_GROUPS ? CSM_VEC_GROUPS : g);
}

static csm_status reduce(csm_vecops *v, size_t slot, cl_mem a, cl_mem b, cl_int op)
{
    csm_context *ctx = v->ctx;
    cl_int n = (cl_int)v->n, G = reduce_groups(v->n), s = (cl_int)slot;
    cl_kernel k = v->k_partial;
    csm_status st = csm_set_arg(ctx, k, 0, sizeof(cl_mem), &v->part);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 1, sizeof(cl_mem), &a);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 2, sizeof(cl_mem), &b);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 3, sizeof n, &n);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 4, sizeof op, &op);
    size_t global = (size_t)G * v->wg, local = v->wg;
    if (st == CSM_OK) st = csm_launch(ctx, k, 1, &global, &local, "vec_reduce_partial");
    k = v->k_final;
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 0, sizeof(cl_mem), &v->scal);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 1, sizeof s, &s);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 2, sizeof(cl_mem), &v->part);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 3, sizeof G, &G);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 4, sizeof op, &op);
    size_t one = 1;
    if (st == CSM_OK) st = csm_launch(ctx, k, 1, &one, NULL, "vec_reduce_final");
    return st;
}

csm_status csm_vec_dot(csm_vecops *v, size_t slot, cl_mem a, cl_mem b)
{
    return reduce(v, slot, a, b, 0);
}

csm_status csm_vec_maxabs(csm_vecops *v, size_t slot, cl_mem a)
{
    return reduce(v, slot, a, a, 1);
}

csm_status csm_vec_sub(csm_vecops *v, cl_mem out, cl_mem a, cl_mem b)
{
    csm_context *ctx = v->ctx;
    cl_kernel k = v->k_sub;
    cl_int n = (cl_int)v->n;
    csm_status st = csm_set_arg(ctx, k, 0, sizeof(cl_mem), &out);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 1, sizeof(cl_mem), &a);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 2, sizeof(cl_mem), &b);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 3, sizeof n, &n);
    size_t global = round_up(v->n, CSM_WG);
    if (st == CSM_OK) st = csm_launch(ctx, k, 1, &global, NULL, "vec_sub");
    return st;
}

csm_status csm_vec_set_params(csm_vecops *v, csm_model *m, cl_mem x, cl_mem d, double alpha)
{
    csm_context *ctx = v->ctx;
    cl_kernel k = v->k_set;
    cl_int nw = (cl_int)v->nw, n = (cl_int)v->n;
    csm_status st = csm_set_arg(ctx, k, 0, sizeof(cl_mem), &m->weight);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 1, sizeof(cl_mem), &m->bias);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 2, sizeof(cl_mem), &x);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 3, sizeof(cl_mem), &d);
    if (st == CSM_OK) st = csm_set_real_arg(ctx, k, 4, v->prec, alpha);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 5, sizeof nw, &nw);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 6, sizeof n, &n);
    size_t global = round_up(v->n, CSM_WG);
    if (st == CSM_OK) st = csm_launch(ctx, k, 1, &global, NULL, "vec_set_params");
    return st;
}

csm_status csm_vec_get_params(csm_vecops *v, cl_mem x, csm_model *m)
{
    csm_context *ctx = v->ctx;
    cl_kernel k = v->k_get;
    cl_int nw = (cl_int)v->nw, n = (cl_int)v->n;
    csm_status st = csm_set_arg(ctx, k, 0, sizeof(cl_mem), &x);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 1, sizeof(cl_mem), &m->weight);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 2, sizeof(cl_mem), &m->bias);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 3, sizeof nw, &nw);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 4, sizeof n, &n);
    size_t global = round_up(v->n, CSM_WG);
    if (st == CSM_OK) st = csm_launch(ctx, k, 1, &global, NULL, "vec_get_params");
    return st;
}

csm_status csm_vec_pack_grad(csm_vecops *v, cl_mem g, cl_mem dw, cl_mem db, csm_model *m,
                             double l2, int bias)
{
    csm_context *ctx = v->ctx;
    cl_kernel k = v->k_pack;
    cl_int nw = (cl_int)v->nw, n = (cl_int)v->n;
    csm_status st = csm_set_arg(ctx, k, 0, sizeof(cl_mem), &g);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 1, sizeof(cl_mem), &dw);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 2, sizeof(cl_mem), &db);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 3, sizeof(cl_mem), &m->weight);
    if (st == CSM_OK) st = csm_set_real_arg(ctx, k, 4, v->prec, l2);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 5, sizeof nw, &nw);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 6, sizeof n, &n);
    size_t global = round_up(v->n, CSM_WG);
    if (st == CSM_OK) st = csm_launch(ctx, k, 1, &global, NULL, "vec_pack_grad");
    if (st == CSM_OK && !bias) {
        /* the bias is fixed: its part of g is 0, so every L-BFGS direction
         * (a combination of g and of differences of g and theta) has 0 there */
        const size_t es = csm_real_size(v->prec);
        const cl_uchar zero = 0;
        cl_int rc = clEnqueueFillBuffer(ctx->queue, g, &zero, 1, v->nw * es, (v->n - v->nw) * es,
                                        0, NULL, NULL);
        if (rc != CL_SUCCESS)
            st = csm_cl_fail(ctx, rc, "clEnqueueFillBuffer");
    }
    return st;
}

csm_status csm_vec_read(csm_vecops *v, double *out, size_t slot, size_t count)
{
    return csm_download(v->ctx, out, v->scal, v->prec, slot, count);
}

csm_status csm_vec_multidot(csm_vecops *v, cl_mem part, cl_mem S, cl_mem Y, size_t m,
                            cl_mem x)
{
    csm_context *ctx = v->ctx;
    cl_int n = (cl_int)v->n, G = reduce_groups(v->n), s0 = 0, R = (cl_int)(2 * m),
           mm = (cl_int)m;
    cl_kernel k = v->k_mdot;
    csm_status st = csm_set_arg(ctx, k, 0, sizeof(cl_mem), &part);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 1, sizeof(cl_mem), &S);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 2, sizeof(cl_mem), &Y);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 3, sizeof(cl_mem), &x);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 4, sizeof n, &n);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 5, sizeof mm, &mm);
    size_t global[2] = {(size_t)G * v->wg, (2 * m + v->md_rows - 1) / v->md_rows},
           local[2] = {v->wg, 1};
    if (st == CSM_OK) st = csm_launch(ctx, k, 2, global, local, "vec_multidot_partial");
    k = v->k_mdot_final;
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 0, sizeof(cl_mem), &v->scal);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 1, sizeof s0, &s0);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 2, sizeof(cl_mem), &part);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 3, sizeof G, &G);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 4, sizeof R, &R);
    size_t g1 = 2 * m;
    if (st == CSM_OK) st = csm_launch(ctx, k, 1, &g1, NULL, "vec_multidot_final");
    return st;
}

csm_status csm_vec_combine(csm_vecops *v, cl_mem out, cl_mem x, double c0, cl_mem S, cl_mem Y,
                           cl_mem coef, size_t m)
{
    csm_context *ctx = v->ctx;
    cl_kernel k = v->k_combine;
    cl_int mm = (cl_int)m, n = (cl_int)v->n;
    csm_status st = csm_set_arg(ctx, k, 0, sizeof(cl_mem), &out);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 1, sizeof(cl_mem), &x);
    if (st == CSM_OK) st = csm_set_real_arg(ctx, k, 2, v->prec, c0);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 3, sizeof(cl_mem), &S);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 4, sizeof(cl_mem), &Y);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 5, sizeof(cl_mem), &coef);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 6, sizeof mm, &mm);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 7, sizeof n, &n);
    size_t global = round_up(v->n, CSM_WG);
    if (st == CSM_OK) st = csm_launch(ctx, k, 1, &global, NULL, "vec_combine");
    return st;
}

csm_status csm_vec_sub_row(csm_vecops *v, cl_mem M, size_t row, cl_mem a, cl_mem b)
{
    csm_context *ctx = v->ctx;
    cl_kernel k = v->k_sub_row;
    cl_int r = (cl_int)row, n = (cl_int)v->n;
    csm_status st = csm_set_arg(ctx, k, 0, sizeof(cl_mem), &M);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 1, sizeof r, &r);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 2, sizeof(cl_mem), &a);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 3, sizeof(cl_mem), &b);
    if (st == CSM_OK) st = csm_set_arg(ctx, k, 4, sizeof n, &n);
    size_t global = round_up(v->n, CSM_WG);
    if (st == CSM_OK) st = csm_launch(ctx, k, 1, &global, NULL, "vec_sub_row");
    return st;
}
