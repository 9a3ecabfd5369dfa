/* Operations on device parameter vectors (vec.h): kernels/vec.cl's
 * level-1 operations and L-BFGS history products, update.cl's first-order
 * updates. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <math.h>

#include "launch.h"
#include "vec.h"

static const char *const kernel_names[VEC_N_KERNELS] = {
    [VEC_PARTIAL] = "vec_reduce_partial", [VEC_FINAL] = "vec_reduce_final",
    [VEC_SUB] = "vec_sub",                [VEC_SET] = "vec_set_params",
    [VEC_GET] = "vec_get_params",         [VEC_MDOT] = "vec_multidot_partial",
    [VEC_MDOT_FINAL] = "vec_multidot_final", [VEC_COMBINE] = "vec_combine",
    [VEC_SUB_ROW] = "vec_sub_row",        [VEC_PACK] = "vec_pack_grad",
    [VEC_PSEUDO_GRAD] = "vec_pseudo_grad", [VEC_ORTHANT_DIR] = "vec_orthant_dir",
    [VEC_SET_ORTHANT] = "vec_set_params_orthant",
    [VEC_AXPBY] = "vec_axpby",            [VEC_ADD_PARAMS] = "vec_add_params",
    [VEC_PACK_DIAG] = "vec_pack_diag",    [VEC_DOTS3] = "vec_dots3",
    [VEC_CG_STEP] = "vec_cg_step",        [VEC_PRECOND_DIR] = "vec_precond_dir",
    [VEC_PRECOND] = "vec_precond"};

csm_status csm_vec_init(csm_vecops *v, csm_model *m, size_t nscal)
{
    memset(v, 0, sizeof *v);
    v->ctx = m->ctx;
    v->model = m;
    v->prec = m->precision;
    v->nw = m->C * m->k;
    v->n = v->nw + m->C;
    v->nscal = nscal;
    v->update_solver = -1;
    const size_t es = csm_real_size(m->precision);
    /* history rows per multi-dot pass: 8, fewer when their lanes do not
     * fit the device's local memory (a row's sum is the same either way) */
    size_t md = 8;
    while (md > 1 && md * CSM_WG * es > m->ctx->limits.local_mem)
        md /= 2;
    v->md_rows = md;
    /* the fused dot products' lanes: three rows side by side where they fit */
    v->dots_rows = 3 * CSM_WG * es <= m->ctx->limits.local_mem ? 3 : 1;
    /* three rows of partials: csm_vec_dots3 and csm_vec_cg_step */
    csm_status st =
        csm_buffer_create(m->ctx, &v->part, 3 * CSM_VEC_GROUPS * es, "reduction partials");
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

/* Kernel i of vec.cl, built on first use. */
static csm_status kernel(csm_vecops *v, int i, cl_kernel *out)
{
    if (!v->k[i]) {
        char extra[64];
        csm_snprintf(extra, sizeof extra, "-DVEC_CONTIG=%d -DMD_ROWS=%zu -DDOTS_ROWS=%d",
                     csm_is_cpu(v->ctx), v->md_rows, v->dots_rows);
        csm_status st = csm_get_kernel(v->ctx, &v->k[i], "vec.cl", kernel_names[i], v->prec,
                                       extra);
        if (st != CSM_OK)
            return st;
    }
    *out = v->k[i];
    return CSM_OK;
}

/* The reductions' work-group size: the smallest of the reduction
 * kernels' (they share the partition, which does not depend on it). */
static csm_status reduction_group(csm_vecops *v)
{
    if (v->wg)
        return CSM_OK;
    static const int ids[] = {VEC_PARTIAL, VEC_MDOT, VEC_DOTS3, VEC_CG_STEP};
    size_t least = 0;
    csm_status st = CSM_OK;
    for (size_t i = 0; i < sizeof ids / sizeof *ids && st == CSM_OK; i++) {
        cl_kernel k;
        size_t wg = 0;
        st = kernel(v, ids[i], &k);
        if (st == CSM_OK)
            st = csm_reduce_group(v->ctx, k, kernel_names[ids[i]], &wg);
        if (st == CSM_OK && (least == 0 || wg < least))
            least = wg;
    }
    if (st == CSM_OK)
        v->wg = least;
    return st;
}

csm_status csm_vec_alloc(csm_vecops *v, cl_mem *out, const char *what)
{
    return csm_buffer_create(v->ctx, out, v->n * csm_real_size(v->prec), what);
}

csm_status csm_vec_check_room(csm_vecops *v, size_t vectors, size_t rows)
{
    const csm_device_info *info = &v->ctx->info;
    const double P = (double)v->n, es = (double)csm_real_size(v->prec);
    const double need = ((double)vectors + 2.0 * (double)rows) * P * es;
    if (info->global_mem_bytes > 0 && need > 0.9 * (double)info->global_mem_bytes)
        return csm_fail(v->ctx, CSM_ERR_OUT_OF_MEMORY,
                        "the solver needs %.0f MB for %zu vectors of %.0f parameters (L-BFGS "
                        "memory %zu), over 90%% of the device's %.0f MB: lower lbfgs_memory, "
                        "or use newton (5 vectors) or a first-order solver",
                        need / 1e6, vectors + 2 * rows, P, rows,
                        (double)info->global_mem_bytes / 1e6);
    if (info->max_alloc_bytes > 0 && (double)rows * P * es > (double)info->max_alloc_bytes)
        return csm_fail(v->ctx, CSM_ERR_OUT_OF_MEMORY,
                        "L-BFGS memory %zu keeps %.0f MB per history matrix, over the device's "
                        "largest allocation (%.0f MB): lower lbfgs_memory",
                        rows, (double)rows * P * es / 1e6, (double)info->max_alloc_bytes / 1e6);
    return CSM_OK;
}

/* Groups for a reduction over n elements: a function of n alone. */
static cl_int reduce_groups(size_t n)
{
    size_t g = (n + 4 * CSM_WG - 1) / (4 * CSM_WG);
    return (cl_int)(g < 1 ? 1 : g > CSM_VEC_GROUPS ? CSM_VEC_GROUPS : g);
}

static csm_status reduce(csm_vecops *v, size_t slot, cl_mem x, cl_mem y, size_t len, cl_int op)
{
    const cl_int G = reduce_groups(len);
    cl_kernel kp, kf;
    csm_status st = reduction_group(v);
    if (st == CSM_OK) st = kernel(v, VEC_PARTIAL, &kp);
    if (st == CSM_OK) st = kernel(v, VEC_FINAL, &kf);
    if (st != CSM_OK)
        return st;
    csm_args a = csm_args_start(v->ctx, kp, "vec_reduce_partial");
    csm_arg_mem(&a, v->part);
    csm_arg_mem(&a, x);
    csm_arg_mem(&a, y);
    csm_arg_int(&a, (cl_int)len);
    csm_arg_int(&a, op);
    size_t global = (size_t)G * v->wg, local = v->wg;
    st = csm_args_launch(&a, 1, &global, &local);
    if (st != CSM_OK)
        return st;
    a = csm_args_start(v->ctx, kf, "vec_reduce_final");
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
    return reduce(v, slot, a, b, v->n, CSM_VEC_DOT);
}

csm_status csm_vec_maxabs(csm_vecops *v, size_t slot, cl_mem a)
{
    return reduce(v, slot, a, a, v->n, CSM_VEC_MAXABS);
}

csm_status csm_vec_asum(csm_vecops *v, size_t slot, cl_mem a, size_t len)
{
    return reduce(v, slot, a, a, len, CSM_VEC_ASUM);
}

/* The cursor of elementwise kernel i (see launch_elementwise). */
static csm_args start_elementwise(csm_vecops *v, int i)
{
    cl_kernel k = NULL;
    csm_status st = kernel(v, i, &k);
    csm_args a = csm_args_start(v->ctx, k, kernel_names[i]);
    a.st = st;
    return a;
}

/* An elementwise kernel over the n parameters, its arguments set. */
static csm_status launch_elementwise(csm_vecops *v, csm_args *a)
{
    size_t global = csm_round_up(v->n, CSM_WG);
    return csm_args_launch(a, 1, &global, NULL);
}

csm_status csm_vec_sub(csm_vecops *v, cl_mem out, cl_mem a, cl_mem b)
{
    csm_args k = start_elementwise(v, VEC_SUB);
    csm_arg_mem(&k, out);
    csm_arg_mem(&k, a);
    csm_arg_mem(&k, b);
    csm_arg_int(&k, (cl_int)v->n);
    return launch_elementwise(v, &k);
}

csm_status csm_vec_set_params(csm_vecops *v, cl_mem x, cl_mem d, double alpha)
{
    csm_args k = start_elementwise(v, VEC_SET);
    csm_arg_mem(&k, v->model->weight);
    csm_arg_mem(&k, v->model->bias);
    csm_arg_mem(&k, x);
    csm_arg_mem(&k, d);
    csm_arg_real(&k, v->prec, alpha);
    csm_arg_int(&k, (cl_int)v->nw);
    csm_arg_int(&k, (cl_int)v->n);
    return launch_elementwise(v, &k);
}

csm_status csm_vec_add_params(csm_vecops *v, cl_mem d, double alpha)
{
    csm_args k = start_elementwise(v, VEC_ADD_PARAMS);
    csm_arg_mem(&k, v->model->weight);
    csm_arg_mem(&k, v->model->bias);
    csm_arg_mem(&k, d);
    csm_arg_real(&k, v->prec, alpha);
    csm_arg_int(&k, (cl_int)v->nw);
    csm_arg_int(&k, (cl_int)v->n);
    return launch_elementwise(v, &k);
}

csm_status csm_vec_axpby(csm_vecops *v, cl_mem out, double a, cl_mem x, double b, cl_mem y)
{
    csm_args k = start_elementwise(v, VEC_AXPBY);
    csm_arg_mem(&k, out);
    csm_arg_real(&k, v->prec, a);
    csm_arg_mem(&k, x);
    csm_arg_real(&k, v->prec, b);
    csm_arg_mem(&k, y);
    csm_arg_int(&k, (cl_int)v->n);
    return launch_elementwise(v, &k);
}

csm_status csm_vec_get_params(csm_vecops *v, cl_mem x)
{
    csm_args k = start_elementwise(v, VEC_GET);
    csm_arg_mem(&k, x);
    csm_arg_mem(&k, v->model->weight);
    csm_arg_mem(&k, v->model->bias);
    csm_arg_int(&k, (cl_int)v->nw);
    csm_arg_int(&k, (cl_int)v->n);
    return launch_elementwise(v, &k);
}

/* The bias part of g = 0 (no intercept). */
static csm_status zero_bias(csm_vecops *v, cl_mem g)
{
    const size_t es = csm_real_size(v->prec);
    const cl_uchar zero = 0;
    cl_int rc = clEnqueueFillBuffer(v->ctx->queue, g, &zero, 1, v->nw * es, (v->n - v->nw) * es,
                                    0, NULL, NULL);
    return rc == CL_SUCCESS ? CSM_OK : csm_cl_fail(v->ctx, rc, "clEnqueueFillBuffer");
}

csm_status csm_vec_pack_grad(csm_vecops *v, cl_mem g, cl_mem dw, cl_mem db, double l2,
                             cl_mem theta, int bias)
{
    csm_args k = start_elementwise(v, VEC_PACK);
    csm_arg_mem(&k, g);
    csm_arg_mem(&k, dw);
    csm_arg_mem(&k, db);
    csm_arg_mem(&k, theta ? theta : v->model->weight);
    csm_arg_real(&k, v->prec, l2);
    csm_arg_int(&k, (cl_int)v->nw);
    csm_arg_int(&k, (cl_int)v->n);
    csm_status st = launch_elementwise(v, &k);
    /* the bias is fixed: its part of g is 0, so every L-BFGS direction
     * (a combination of g and of differences of g and theta) has 0 there */
    if (st == CSM_OK && !bias)
        st = zero_bias(v, g);
    return st;
}

csm_status csm_vec_pack_diag(csm_vecops *v, cl_mem h, cl_mem dw, cl_mem db, double l2,
                             int bias)
{
    csm_args k = start_elementwise(v, VEC_PACK_DIAG);
    csm_arg_mem(&k, h);
    csm_arg_mem(&k, dw);
    csm_arg_mem(&k, db);
    csm_arg_real(&k, v->prec, l2);
    csm_arg_int(&k, (cl_int)v->nw);
    csm_arg_int(&k, (cl_int)v->n);
    csm_status st = launch_elementwise(v, &k);
    if (st == CSM_OK && !bias)
        st = zero_bias(v, h);
    return st;
}

/* Partials of three sums (kernel i, its arguments set), then their totals
 * into scal[slot ..]. */
static csm_status sums3(csm_vecops *v, csm_args *a, size_t slot)
{
    const cl_int G = reduce_groups(v->n);
    cl_kernel kf = NULL;
    csm_status st = kernel(v, VEC_MDOT_FINAL, &kf);
    if (st == CSM_OK && a->st != CSM_OK)
        st = a->st;
    size_t global = (size_t)G * v->wg, local = v->wg;
    if (st == CSM_OK)
        st = csm_args_launch(a, 1, &global, &local);
    if (st != CSM_OK)
        return st;
    csm_args f = csm_args_start(v->ctx, kf, "vec_multidot_final");
    csm_arg_mem(&f, v->scal);
    csm_arg_int(&f, (cl_int)slot);
    csm_arg_mem(&f, v->part);
    csm_arg_int(&f, G);
    csm_arg_int(&f, 3);
    size_t rows = 3;
    return csm_args_launch(&f, 1, &rows, NULL);
}

/* The cursor of kernel i after the reductions' group size is known. */
static csm_args start_sums(csm_vecops *v, int i)
{
    csm_status st = reduction_group(v);
    csm_args a = start_elementwise(v, i);
    if (a.st == CSM_OK)
        a.st = st;
    return a;
}

csm_status csm_vec_dots3(csm_vecops *v, size_t slot, cl_mem a0, cl_mem b0, cl_mem a1,
                         cl_mem b1, cl_mem a2, cl_mem b2, cl_mem m, unsigned weighted)
{
    csm_args k = start_sums(v, VEC_DOTS3);
    csm_arg_mem(&k, v->part);
    csm_arg_mem(&k, a0);
    csm_arg_mem(&k, b0);
    csm_arg_mem(&k, a1);
    csm_arg_mem(&k, b1);
    csm_arg_mem(&k, a2);
    csm_arg_mem(&k, b2);
    csm_arg_mem(&k, weighted ? m : a0); /* valid when unused */
    csm_arg_int(&k, (cl_int)weighted);
    csm_arg_int(&k, (cl_int)v->n);
    return sums3(v, &k, slot);
}

csm_status csm_vec_cg_step(csm_vecops *v, size_t slot, cl_mem s, cl_mem r, cl_mem d, cl_mem hd,
                           cl_mem m, double alpha)
{
    csm_args k = start_sums(v, VEC_CG_STEP);
    csm_arg_mem(&k, v->part);
    csm_arg_mem(&k, s);
    csm_arg_mem(&k, r);
    csm_arg_mem(&k, d);
    csm_arg_mem(&k, hd);
    csm_arg_mem(&k, m);
    csm_arg_real(&k, v->prec, alpha);
    csm_arg_int(&k, (cl_int)v->n);
    return sums3(v, &k, slot);
}

csm_status csm_vec_precond_dir(csm_vecops *v, cl_mem d, cl_mem r, cl_mem m, double beta)
{
    csm_args k = start_elementwise(v, VEC_PRECOND_DIR);
    csm_arg_mem(&k, d);
    csm_arg_mem(&k, r);
    csm_arg_mem(&k, m);
    csm_arg_real(&k, v->prec, beta);
    csm_arg_int(&k, (cl_int)v->n);
    return launch_elementwise(v, &k);
}

csm_status csm_vec_precond(csm_vecops *v, cl_mem m, cl_mem h, double a, double c)
{
    csm_args k = start_elementwise(v, VEC_PRECOND);
    csm_arg_mem(&k, m);
    csm_arg_mem(&k, h);
    csm_arg_real(&k, v->prec, a);
    csm_arg_real(&k, v->prec, c);
    csm_arg_int(&k, (cl_int)v->n);
    return launch_elementwise(v, &k);
}

csm_status csm_vec_pseudo_grad(csm_vecops *v, cl_mem pg, cl_mem g, cl_mem x, double l1)
{
    csm_args k = start_elementwise(v, VEC_PSEUDO_GRAD);
    csm_arg_mem(&k, pg);
    csm_arg_mem(&k, g);
    csm_arg_mem(&k, x);
    csm_arg_real(&k, v->prec, l1);
    csm_arg_int(&k, (cl_int)v->nw);
    csm_arg_int(&k, (cl_int)v->n);
    return launch_elementwise(v, &k);
}

csm_status csm_vec_orthant_dir(csm_vecops *v, cl_mem d, cl_mem pg)
{
    csm_args k = start_elementwise(v, VEC_ORTHANT_DIR);
    csm_arg_mem(&k, d);
    csm_arg_mem(&k, pg);
    csm_arg_int(&k, (cl_int)v->n);
    return launch_elementwise(v, &k);
}

csm_status csm_vec_set_params_orthant(csm_vecops *v, cl_mem x, cl_mem d, cl_mem pg,
                                      double alpha)
{
    csm_args k = start_elementwise(v, VEC_SET_ORTHANT);
    csm_arg_mem(&k, v->model->weight);
    csm_arg_mem(&k, v->model->bias);
    csm_arg_mem(&k, x);
    csm_arg_mem(&k, d);
    csm_arg_mem(&k, pg);
    csm_arg_real(&k, v->prec, alpha);
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
    cl_kernel kp, kf;
    csm_status st = reduction_group(v);
    if (st == CSM_OK) st = kernel(v, VEC_MDOT, &kp);
    if (st == CSM_OK) st = kernel(v, VEC_MDOT_FINAL, &kf);
    if (st != CSM_OK)
        return st;
    csm_args a = csm_args_start(v->ctx, kp, "vec_multidot_partial");
    csm_arg_mem(&a, part);
    csm_arg_mem(&a, S);
    csm_arg_mem(&a, Y);
    csm_arg_mem(&a, x);
    csm_arg_int(&a, (cl_int)v->n);
    csm_arg_int(&a, (cl_int)m);
    size_t global[2] = {(size_t)G * v->wg, (2 * m + v->md_rows - 1) / v->md_rows},
           local[2] = {v->wg, 1};
    st = csm_args_launch(&a, 2, global, local);
    if (st != CSM_OK)
        return st;
    a = csm_args_start(v->ctx, kf, "vec_multidot_final");
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
    csm_args k = start_elementwise(v, VEC_COMBINE);
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
    csm_args k = start_elementwise(v, VEC_SUB_ROW);
    csm_arg_mem(&k, M);
    csm_arg_int(&k, (cl_int)row);
    csm_arg_mem(&k, a);
    csm_arg_mem(&k, b);
    csm_arg_int(&k, (cl_int)v->n);
    return launch_elementwise(v, &k);
}

/* The update kernel of u->solver, built on first use: no local memory and
 * no sums, so any group size the device runs will do. */
static csm_status update_kernel(csm_vecops *v, csm_solver solver, const char **name)
{
    *name = solver == CSM_ADAM ? "adam_update" : solver == CSM_MOMENTUM ? "momentum_update"
                                                                           : "sgd_update";
    if (v->update_solver == (int)solver)
        return CSM_OK;
    csm_status st = csm_get_kernel(v->ctx, &v->k_update, "update.cl", *name, v->prec, NULL);
    if (st == CSM_OK)
        st = csm_reduce_group(v->ctx, v->k_update, *name, &v->update_wg);
    if (st == CSM_OK)
        v->update_solver = (int)solver;
    return st;
}

void csm_update_corrections(const csm_update *u, double *bc1, double *bc2)
{
    const double t = (double)u->t;
    *bc1 = 1.0 - pow(u->beta1, t);
    *bc2 = 1.0 - pow(u->beta2, t);
}

csm_status csm_vec_update(csm_vecops *v, const csm_update *u, cl_mem dweight, cl_mem dbias)
{
    const char *name;
    csm_status st = update_kernel(v, u->solver, &name);
    if (st != CSM_OK)
        return st;
    const csm_model *m = v->model;
    const csm_precision prec = v->prec;
    // buffers: w, b, then the state per tensor (v or m, v), then dw, db
    csm_args a = csm_args_start(v->ctx, v->k_update, name);
    csm_arg_mem(&a, m->weight);
    csm_arg_mem(&a, m->bias);
    if (u->solver == CSM_ADAM) {
        csm_arg_mem(&a, m->state.m[0]);
        csm_arg_mem(&a, m->state.m[1]);
    }
    if (u->solver == CSM_MOMENTUM || u->solver == CSM_ADAM) {
        csm_arg_mem(&a, m->state.v[0]);
        csm_arg_mem(&a, m->state.v[1]);
    }
    csm_arg_mem(&a, dweight);
    csm_arg_mem(&a, dbias);
    csm_arg_real(&a, prec, u->lr);
    if (u->solver == CSM_MOMENTUM)
        csm_arg_real(&a, prec, u->momentum);
    if (u->solver == CSM_ADAM) {
        csm_arg_real(&a, prec, u->beta1);
        csm_arg_real(&a, prec, u->beta2);
        csm_arg_real(&a, prec, u->epsilon);
    }
    csm_arg_real(&a, prec, u->l2);
    if (u->solver == CSM_ADAM) {
        double bc1, bc2;
        csm_update_corrections(u, &bc1, &bc2);
        csm_arg_real(&a, prec, bc1);
        csm_arg_real(&a, prec, bc2);
    }
    csm_arg_int(&a, (cl_int)v->nw);
    csm_arg_int(&a, (cl_int)m->C);
    // work-groups of L items: W's (C*k rounded up), then b's (C rounded up;
    // none without an intercept: b stays 0)
    const size_t L = v->update_wg;
    const size_t gw = (v->nw + L - 1) / L, gb = u->bias ? (m->C + L - 1) / L : 0;
    size_t global = (gw + gb) * L, local = L;
    return csm_args_launch(&a, 1, &global, &local);
}
