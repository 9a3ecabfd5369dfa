/* The objective J over a whole resident dataset: one pass over its row
 * blocks computes the weighted loss sum, the correct count and the data
 * part of the gradient (fused kernel or CLBlast GEMMs, whichever path the
 * device uses); ||W||^2 comes from one more small reduction. */
#include "config.h"

#include <string.h>

#include "choose.h"
#include "solver.h"

csm_status csm_objective_init(csm_objective *f, csm_model *m, const csm_dataset *d, double l2,
                              csm_dist *dist)
{
    memset(f, 0, sizeof *f);
    f->model = m;
    f->data = d;
    f->l2 = l2;
    f->dist = dist && dist->reduce ? dist : NULL;
    f->cap = csm_pass_rows(m, d);
    f->nblocks = csm_pass_blocks(d, f->cap);
    return csm_bind_step(&f->work, m, d, f->cap, f->nblocks, CSM_MEASURE_ALLOWED);
}

void csm_objective_free(csm_objective *f)
{
    if (f->model)
        csm_step_free(&f->work);
    f->model = NULL;
}

csm_status csm_objective_enqueue(csm_objective *f)
{
    csm_status st = csm_step_dataset(&f->work, f->model, f->data, 1);
    /* Distributed: this process's share of the data part (its local mean
     * rescaled to the global weight sum) joins the others' before the L2
     * term, which every process adds alike to the same weights. */
    if (st == CSM_OK && f->dist) {
        double sums[2];
        st = csm_step_read_sums(&f->work, f->nblocks, &sums[0], &sums[1]);
        if (st == CSM_OK)
            st = csm_dist_grad(f->dist, &f->work, f->dist->local_scale, 1, sums, 2);
        f->loss_sum = sums[0];
        f->hits = sums[1];
    }
    if (st == CSM_OK && f->l2 > 0)
        st = csm_step_sumsq(&f->work, f->model, 0);
    return st;
}

csm_status csm_objective_read(csm_objective *f, double *J, double *accuracy)
{
    double sum = f->loss_sum, hits = f->hits, sq = 0;
    double wsum = f->dist ? f->dist->weight_sum : f->data->weight_sum;
    double n = f->dist ? (double)f->dist->n : (double)f->data->n;
    csm_status st = f->dist ? CSM_OK : csm_step_read_sums(&f->work, f->nblocks, &sum, &hits);
    if (st == CSM_OK && f->l2 > 0)
        st = csm_download(f->model->ctx, &sq, f->work.sumsq, f->model->precision, 0, 1);
    if (st == CSM_OK) {
        if (J) *J = sum / wsum + 0.5 * f->l2 * sq;
        if (accuracy) *accuracy = hits / n;
    }
    return st;
}
