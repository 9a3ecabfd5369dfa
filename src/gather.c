/* Minibatch gather (gather.h). */
#include "config.h"

#include <string.h>

#include "gather.h"
#include "launch.h"

csm_status csm_gather_init(csm_gather *g, const csm_model *m, const csm_dataset *d, size_t cap,
                           const csm_path_ops *path)
{
    memset(g, 0, sizeof *g);
    g->in_place = (path->flags & CSM_PATH_ROWS_IDX) || d->sparse;
    csm_context *ctx = m->ctx;
    g->ctx = ctx;
    g->C = m->C;
    g->k = m->k;
    const size_t es = csm_real_size(m->precision);
    csm_status st = csm_get_kernel(ctx, &g->k_batch, "gather.cl", "gather_batch", m->precision,
                                   NULL);
    /* rows read through the permutation: only the targets move */
    if (st == CSM_OK)
        st = csm_buffer_create(ctx, &g->xb, g->in_place ? 0 : cap * m->k * es, "batch features");
    if (st == CSM_OK)
        st = csm_buffer_create(ctx, &g->yb, cap * sizeof(cl_int), "batch labels");
    if (st == CSM_OK)
        st = csm_buffer_create(ctx, &g->tb, d->targets ? cap * m->C * es : 0, "batch targets");
    if (st == CSM_OK)
        st = csm_buffer_create(ctx, &g->wb, d->weights ? cap * es : 0, "batch weights");
    if (st != CSM_OK)
        csm_gather_free(g);
    return st;
}

void csm_gather_free(csm_gather *g)
{
    csm_buffer_release(&g->xb);
    csm_buffer_release(&g->yb);
    csm_buffer_release(&g->tb);
    csm_buffer_release(&g->wb);
}

csm_status csm_gather_enqueue(csm_gather *g, const csm_dataset *d, cl_mem idx, size_t start,
                              size_t B)
{
    /* rows read through the permutation: only the targets move */
    const int has_rows = !g->in_place;
    /* unused pointer arguments still need a valid buffer */
    csm_args a = csm_args_start(g->ctx, g->k_batch, "gather_batch");
    csm_arg_mem(&a, g->xb);
    csm_arg_mem(&a, g->yb);
    csm_arg_mem(&a, g->tb);
    csm_arg_mem(&a, g->wb);
    csm_arg_mem(&a, has_rows ? d->x : g->xb);
    csm_arg_mem(&a, d->labels ? d->labels : g->yb);
    csm_arg_mem(&a, d->targets ? d->targets : g->tb);
    csm_arg_mem(&a, d->weights ? d->weights : g->wb);
    csm_arg_mem(&a, idx);
    csm_arg_int(&a, has_rows);
    csm_arg_int(&a, d->labels != NULL);
    csm_arg_int(&a, d->weights != NULL);
    csm_arg_int(&a, (cl_int)start);
    csm_arg_int(&a, (cl_int)B);
    csm_arg_int(&a, (cl_int)g->k);
    csm_arg_int(&a, (cl_int)g->C);
    /* one item per feature of a row (see gather.cl) */
    size_t global[2] = {has_rows ? d->k : 1, B};
    return csm_args_launch(&a, 2, global, NULL);
}

csm_block csm_gather_block(const csm_gather *g, const csm_dataset *d, cl_mem idx, size_t start,
                           size_t B)
{
    /* targets gathered; rows in place are read through the permutation */
    csm_block b = {g->xb, 0, d->labels ? g->yb : NULL, d->targets ? g->tb : NULL, 0, B, d,
                   g->in_place ? idx : NULL, g->in_place ? start : 0, d->weights ? g->wb : NULL};
    return b;
}
