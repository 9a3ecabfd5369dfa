/* First-order solvers: minibatch SGD, heavy-ball momentum and Adam. An
 * epoch is the objective's minibatch steps, each followed by the update
 * (vec.h), all enqueued without waiting; the host reads the epoch's loss
 * and accuracy back once per epoch and stops when the epoch loss has not
 * improved by more than tol for n_iter_no_change epochs (scikit-learn's
 * SGD criterion). The moments live in the model (csm_solver_state), so a
 * resumed run continues them. */
#include "config.h"

#include <math.h>

#include "solver.h"

typedef struct first_order {
    csm_solve *s;
    csm_vecops v;
    csm_update u;
} first_order;

/* After every step: W and b updated by one launch; L2 on W only. Without
 * a gradient the step applies fo->u itself (csm_objective_epoch): the
 * step is counted before it. */
static csm_status update(void *user, cl_mem dweight, cl_mem dbias)
{
    first_order *fo = user;
    csm_model *m = fo->s->model;
    m->state.steps++;
    fo->u.t = m->state.steps;
    return dweight ? csm_vec_update(&fo->v, &fo->u, dweight, dbias) : CSM_OK;
}

/* scikit-learn's SGD rule: an epoch counts as no improvement unless it
 * beats the best loss so far by more than tol. */
static int converged(double loss, double tol, int patience, double *best, int *no_improvement)
{
    *no_improvement = loss > *best - tol ? *no_improvement + 1 : 0;
    if (loss < *best)
        *best = loss;
    return *no_improvement >= patience;
}

csm_status csm_solve_first_order(csm_solve *s)
{
    csm_model *m = s->model;
    const csm_train_options *o = s->opt;
    first_order fo = {.s = s};
    fo.u = (csm_update){o->solver, s->lr, o->momentum, o->beta1, o->beta2, o->epsilon, s->l2, 0,
                        o->fit_intercept};
    csm_status st = csm_objective_minibatches(s->f, o->batch_size, o->shuffle, o->seed);
    if (st == CSM_OK)
        st = csm_vec_init(&fo.v, m, 0);
    if (st == CSM_OK)
        st = csm_model_state_prepare(m, o->solver);
    const size_t steps = csm_objective_steps(s->f);
    double best = INFINITY;
    int no_improvement = 0;
    s->res->stop = CSM_STOP_MAX_ITER;
    for (int e = 1; st == CSM_OK && e <= o->max_iter; e++) {
        double t0 = csm_now_seconds();
        st = csm_objective_epoch(s->f, m->state.iter, update, &fo, &fo.u);
        double loss = 0, acc = 0;
        if (st == CSM_OK)
            st = csm_objective_epoch_value(s->f, &loss, &acc);
        if (st != CSM_OK)
            break;
        m->state.iter++;
        s->res->n_iter = e;
        s->res->n_evals += (long)steps;
        if (!isfinite(loss)) {
            st = csm_fail(m->ctx, CSM_ERR_NONFINITE,
                          "training diverged at epoch %d (loss %g): lower the learning rate", e,
                          loss);
            break;
        }
        const double took = csm_now_seconds() - t0;
        /* the second epoch: the first builds kernels and warms caches */
        if (e == 2)
            csm_objective_observe(s->f, took);
        csm_log(m->ctx, CSM_LOG_DEBUG, "epoch %d/%d loss %.6f accuracy %.4f", e, o->max_iter,
                loss, acc);
        if (s->report(s, e, loss, acc, NAN, 0, took)) {
            s->res->stop = CSM_STOP_CALLBACK;
            break;
        }
        if (o->tol > 0 && converged(loss, o->tol, o->n_iter_no_change, &best, &no_improvement)) {
            s->res->stop = CSM_STOP_TOL;
            break;
        }
    }
    csm_vec_free(&fo.v);
    return st;
}
