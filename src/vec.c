/* Host side of kernels/vec.cl: level-1 operations on device parameter
 * vectors and the row matrices of the L-BFGS history. Everything only enqueues, except
 * csm_vec_read. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "launch.h"
#include "solver.h"

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
    while (md > 1 && md * CSM_WG * es > m->ctx->limits.local_mem)
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

static csm_status reduce(csm_vecops *v, size_t slot, cl_mem x, cl_mem y, cl_int op)
{
    const cl_int G = reduce_groups(v->n);
    csm_args a = csm_args_start(v->ctx, v->k_partial, "vec_reduce_partial");
    csm_arg_mem(&a, v->part);
    csm_arg_mem(&a, x);
    csm_arg_mem(&a, y);
    csm_arg_int(&a, (cl_int)v->n);
    csm_arg_int(&a, op);
    size_t global = (size_t)G * v->wg, local = v->wg;
    csm_status st = csm_args_launch(&a, 1, &global, &local);
    if (st != CSM_OK)
        return st;
    a = csm_args_start(v->ctx, v->k_final, "vec_reduce_final");
    csm_arg_mem(&a, v->scal);
    csm_arg_int(&a, (cl_int)slot);
    csm_arg_mem(&a, v->part);
    csm_arg_int(&a, G);
    csm_arg_int(&a, op);
    size_t one = 1;
    return csm_args_launch(&a, 1, &one, NULL);
}

csm_status csm_vec_dot(csm_vecops *v, size_t slot, cl_mem a, cl_mem b)
{
    return reduce(v, slot, a, b, CSM_VEC_DOT);
}

csm_status csm_vec_maxabs(csm_vecops *v, size_t slot, cl_mem a)
{
    return reduce(v, slot, a, a, CSM_VEC_MAXABS);
}

/* An elementwise kernel over the n parameters, its arguments set. */
static csm_status launch_elementwise(csm_vecops *v, csm_args *a)
{
    size_t global = csm_round_up(v->n, CSM_WG);
    return csm_args_launch(a, 1, &global, NULL);
}

csm_status csm_vec_sub(csm_vecops *v, cl_mem out, cl_mem a, cl_mem b)
{
    csm_args k = csm_args_start(v->ctx, v->k_sub, "vec_sub");
    csm_arg_mem(&k, out);
    csm_arg_mem(&k, a);
    csm_arg_mem(&k, b);
    csm_arg_int(&k, (cl_int)v->n);
    return launch_elementwise(v, &k);
}

csm_status csm_vec_set_params(csm_vecops *v, csm_model *m, cl_mem x, cl_mem d, double alpha)
{
    csm_args k = csm_args_start(v->ctx, v->k_set, "vec_set_params");
    csm_arg_mem(&k, m->weight);
    csm_arg_mem(&k, m->bias);
    csm_arg_mem(&k, x);
    csm_arg_mem(&k, d);
    csm_arg_real(&k, v->prec, alpha);
    csm_arg_int(&k, (cl_int)v->nw);
    csm_arg_int(&k, (cl_int)v->n);
    return launch_elementwise(v, &k);
}

csm_status csm_vec_get_params(csm_vecops *v, cl_mem x, csm_model *m)
{
    csm_args k = csm_args_start(v->ctx, v->k_get, "vec_get_params");
    csm_arg_mem(&k, x);
    csm_arg_mem(&k, m->weight);
    csm_arg_mem(&k, m->bias);
    csm_arg_int(&k, (cl_int)v->nw);
    csm_arg_int(&k, (cl_int)v->n);
    return launch_elementwise(v, &k);
}

csm_status csm_vec_pack_grad(csm_vecops *v, cl_mem g, cl_mem dw, cl_mem db, csm_model *m,
                             double l2)
{
    csm_args k = csm_args_start(v->ctx, v->k_pack, "vec_pack_grad");
    csm_arg_mem(&k, g);
    csm_arg_mem(&k, dw);
    csm_arg_mem(&k, db);
    csm_arg_mem(&k, m->weight);
    csm_arg_real(&k, v->prec, l2);
    csm_arg_int(&k, (cl_int)v->nw);
    csm_arg_int(&k, (cl_int)v->n);
    return launch_elementwise(v, &k);
}

csm_status csm_vec_read(csm_vecops *v, double *out, size_t slot, size_t count)
{
    return csm_download(v->ctx, out, v->scal, v->prec, slot, count);
}

csm_status csm_vec_multidot(csm_vecops *v, cl_mem part, cl_mem S, cl_mem Y, size_t m,
                            cl_mem x)
{
    const cl_int G = reduce_groups(v->n);
    csm_args a = csm_args_start(v->ctx, v->k_mdot, "vec_multidot_partial");
    csm_arg_mem(&a, part);
    csm_arg_mem(&a, S);
    csm_arg_mem(&a, Y);
    csm_arg_mem(&a, x);
    csm_arg_int(&a, (cl_int)v->n);
    csm_arg_int(&a, (cl_int)m);
    size_t global[2] = {(size_t)G * v->wg, (2 * m + v->md_rows - 1) / v->md_rows},
           local[2] = {v->wg, 1};
    csm_status st = csm_args_launch(&a, 2, global, local);
    if (st != CSM_OK)
        return st;
    a = csm_args_start(v->ctx, v->k_mdot_final, "vec_multidot_final");
    csm_arg_mem(&a, v->scal);
    csm_arg_int(&a, 0);
    csm_arg_mem(&a, part);
    csm_arg_int(&a, G);
    csm_arg_int(&a, (cl_int)(2 * m));
    size_t rows = 2 * m;
    return csm_args_launch(&a, 1, &rows, NULL);
}

csm_status csm_vec_combine(csm_vecops *v, cl_mem out, cl_mem x, double c0, cl_mem S, cl_mem Y,
                           cl_mem coef, size_t m)
{
    csm_args k = csm_args_start(v->ctx, v->k_combine, "vec_combine");
    csm_arg_mem(&k, out);
    csm_arg_mem(&k, x);
    csm_arg_real(&k, v->prec, c0);
    csm_arg_mem(&k, S);
    csm_arg_mem(&k, Y);
    csm_arg_mem(&k, coef);
    csm_arg_int(&k, (cl_int)m);
    csm_arg_int(&k, (cl_int)v->n);
    return launch_elementwise(v, &k);
}

csm_status csm_vec_sub_row(csm_vecops *v, cl_mem M, size_t row, cl_mem a, cl_mem b)
{
    csm_args k = csm_args_start(v->ctx, v->k_sub_row, "vec_sub_row");
    csm_arg_mem(&k, M);
    csm_arg_int(&k, (cl_int)row);
    csm_arg_mem(&k, a);
    csm_arg_mem(&k, b);
    csm_arg_int(&k, (cl_int)v->n);
    return launch_elementwise(v, &k);
}
