/* csm_train(): the defaults and their checks, the data source and the
 * objective over it, the regularisation in effect, the solver run
 * (solver_first.c, solver_lbfgs.c, solver_owlqn.c, solver_newton.c), and
 * the result: whether it converged, and J and its gradient at the final
 * weights. */
#include "config.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "profile.h"
#include "solver.h"
#include "source.h"

/* One set of defaults, shared with the clsoftmax command: scikit-learn's
 * LogisticRegression() (lbfgs, C = 1, tol 1e-4, max_iter... 1000 rather
 * than its 100, which stops short on unscaled data). */
csm_status csm_train_options_init(csm_train_options *o, size_t struct_size)
{
    if (!o)
        return CSM_ERR_NULL_ARGUMENT;
    /* A caller built against another header has another layout: writing
     * ours into it would overrun it or leave fields unset. */
    if (struct_size != sizeof *o)
        return CSM_ERR_INVALID_VALUE;
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->solver = CSM_LBFGS;
    o->max_iter = 1000;
    o->tol = 1e-4;
    o->n_iter_no_change = 5;
    o->C = 1.0;
    o->batch_size = 256;
    o->learning_rate = 0.0;
    o->momentum = 0.9;
    o->beta1 = 0.9;
    o->beta2 = 0.999;
    o->epsilon = 1e-8;
    o->lbfgs_memory = 10;
    o->max_linesearch = 50;
    o->seed = 1;
    o->shuffle = 1;
    o->resume = 0;
    o->fit_intercept = 1;
    o->l1_ratio = 0.0;
    return CSM_OK;
}

double csm_default_learning_rate(csm_solver solver)
{
    switch (solver) {
    case CSM_SGD: return 0.1;
    case CSM_MOMENTUM: return 0.01;
    case CSM_ADAM: return 0.001;
    default: return 0.0;
    }
}

static csm_status check_options(csm_context *ctx, const csm_train_options *o)
{
#define BAD(...) return csm_fail(ctx, CSM_ERR_INVALID_VALUE, __VA_ARGS__)
    if ((unsigned)o->solver > CSM_NEWTON)
        BAD("unknown solver %d", (int)o->solver);
    if (o->max_iter < 1)
        BAD("max_iter is %d, must be >= 1", o->max_iter);
    if (!isfinite(o->tol) || o->tol < 0)
        BAD("tol is %g, must be finite and >= 0", o->tol);
    if (!(o->C > 0))
        BAD("C is %g, must be > 0 (INFINITY: no penalty)", o->C);
    if (o->fit_intercept != 0 && o->fit_intercept != 1)
        BAD("fit_intercept is %d, must be 0 or 1", o->fit_intercept);
    if (!(o->l1_ratio >= 0 && o->l1_ratio <= 1))
        BAD("l1_ratio is %g, must be in [0, 1]", o->l1_ratio);
    if (o->l1_ratio > 0 && o->solver != CSM_LBFGS)
        BAD("l1_ratio %g needs the lbfgs solver (OWL-QN): %s has no L1 penalty", o->l1_ratio,
            csm_solver_name(o->solver));
    if (o->solver == CSM_LBFGS) {
        if (o->lbfgs_memory < 1 || o->lbfgs_memory > 1000)
            BAD("lbfgs_memory is %d, must be in [1, 1000]", o->lbfgs_memory);
        if (o->max_linesearch < 1)
            BAD("max_linesearch is %d, must be >= 1", o->max_linesearch);
        return CSM_OK;
    }
    if (o->solver == CSM_NEWTON)
        return CSM_OK;
    if (o->n_iter_no_change < 1)
        BAD("n_iter_no_change is %d, must be >= 1", o->n_iter_no_change);
    if (!isfinite(o->learning_rate) || o->learning_rate < 0)
        BAD("learning rate is %g, must be finite and > 0 (0: the solver's default)",
            o->learning_rate);
    if (o->solver == CSM_MOMENTUM && !(o->momentum >= 0 && o->momentum < 1))
        BAD("momentum is %g, must be in [0, 1)", o->momentum);
    if (o->solver == CSM_ADAM) {
        if (!(o->beta1 >= 0 && o->beta1 < 1))
            BAD("beta1 is %g, must be in [0, 1)", o->beta1);
        if (!(o->beta2 >= 0 && o->beta2 < 1))
            BAD("beta2 is %g, must be in [0, 1)", o->beta2);
        if (!(o->epsilon > 0) || !isfinite(o->epsilon))
            BAD("epsilon is %g, must be finite and > 0", o->epsilon);
    }
#undef BAD
    return CSM_OK;
}

/* Calls the user's callback for iteration `it`; a stop on any process
 * stops every one, at the same iteration (a failed sum stops too;
 * csm_train reports it). */
static int report(csm_solve *s, int it, double loss, double accuracy, double grad_max_abs,
                  int evaluations, double seconds)
{
    const csm_train_options *o = s->opt;
    int stop = 0;
    if (o->callback) {
        csm_epoch_info info = {.struct_size = sizeof info,
                               .epoch = it,
                               .epochs = o->max_iter,
                               .loss = loss,
                               .accuracy = accuracy,
                               .seconds = seconds,
                               .samples = csm_objective_samples(s->f),
                               .grad_max_abs = grad_max_abs,
                               .evaluations = evaluations};
        stop = o->callback(s->model, &info, o->user) != 0;
    }
    if (s->model->ctx->prof) {
        char what[48];
        csm_snprintf(what, sizeof what, "%s %d", o->solver == CSM_LBFGS ? "iteration" : "epoch",
                     it);
        csm_profile_report(s->model->ctx, what, seconds);
    }
    s->failed = csm_objective_any(s->f, stop, &stop);
    return stop;
}

/* J and max |gradient| at the model's current weights, for the result;
 * with an L1 term, max |pseudo-gradient| (solver_owlqn.c). */
static csm_status final_objective(csm_model *m, csm_objective *f, csm_train_result *res)
{
    csm_vecops v;
    cl_mem g = NULL, x = NULL;
    const double l1 = csm_objective_l1(f);
    csm_status st = csm_vec_init(&v, m, 1);
    if (st == CSM_OK) st = csm_vec_alloc(&v, &g, "gradient");
    if (st == CSM_OK) st = csm_objective_fun_grad(f, g);
    if (st == CSM_OK && l1 > 0) st = csm_vec_alloc(&v, &x, "parameters");
    if (st == CSM_OK && l1 > 0) st = csm_vec_get_params(&v, x);
    if (st == CSM_OK && l1 > 0) st = csm_vec_pseudo_grad(&v, g, g, x, l1);
    if (st == CSM_OK) st = csm_vec_maxabs(&v, 0, g);
    if (st == CSM_OK) st = csm_vec_read(&v, &res->grad_max_abs, 0, 1);
    if (st == CSM_OK) st = csm_objective_value(f, &res->objective, NULL);
    csm_buffer_release(&g);
    csm_buffer_release(&x);
    csm_vec_free(&v);
    return st;
}

/* The solver run over the source's data, and J at its end. */
static csm_status run(csm_model *m, csm_source *src, const csm_train_options *o,
                      csm_train_result *res)
{
    /* lambda from C over the global weight sum (csm_lambda: twice it for
     * two classes) */
    const double l2 = (1.0 - o->l1_ratio) * csm_lambda(o->C, src->weight_sum, m->C);
    const double l1 = csm_l1_weight(o->C, src->weight_sum, o->l1_ratio);
    res->l2 = l2;
    csm_solve s = {.model = m, .opt = o, .l2 = l2, .res = res, .report = report};
    s.lr = o->learning_rate > 0 ? o->learning_rate : csm_default_learning_rate(o->solver);
    csm_status st = csm_objective_create(&s.f, m, src, l2, o->fit_intercept);
    if (st != CSM_OK)
        return st;
    csm_objective_set_l1(s.f, l1);
    if (!o->resume || m->state.solver != (int)o->solver)
        csm_model_clear_solver_state(m);
    /* No intercept: b = 0, and the solvers leave it there (L-BFGS sees a
     * zero bias gradient, the first-order update skips b). */
    if (!o->fit_intercept)
        st = csm_fill_zero(m->ctx, m->bias, m->C * csm_real_size(m->precision));
    if (st == CSM_OK && l1 > 0)
        csm_log(m->ctx, CSM_LOG_INFO,
                "lbfgs with l1_ratio %g: OWL-QN (L1 weight %.6g, L2 weight %.6g)", o->l1_ratio,
                l1, l2);
    if (st == CSM_OK)
        st = l1 > 0                   ? csm_solve_owlqn(&s)
             : o->solver == CSM_LBFGS  ? csm_solve_lbfgs(&s)
             : o->solver == CSM_NEWTON ? csm_solve_newton(&s)
                                       : csm_solve_first_order(&s);
    if (st == CSM_OK)
        st = s.failed;
    if (st == CSM_OK)
        st = final_objective(m, s.f, res);
    csm_objective_free(s.f);
    return st;
}

csm_status csm_train(csm_model *m, const csm_dataset *d, const csm_train_options *o,
                     csm_train_result *result)
{
    csm_status st = csm_check_pair(m, d, 1, "csm_train");
    if (st != CSM_OK)
        return st;
    if (!o)
        return csm_fail(m->ctx, CSM_ERR_NULL_ARGUMENT, "csm_train: options is NULL");
    /* Only exact sizes: this is the first version with struct_size, so
     * there is no older layout to accept yet. */
    if (o->struct_size != sizeof *o)
        return csm_fail(m->ctx, CSM_ERR_INVALID_VALUE,
                        "csm_train: options->struct_size is %zu, but this library (clsoftmax "
                        "%s) knows only %zu, sizeof(csm_train_options) in its clsoftmax.h: set "
                        "the options with csm_train_options_init(&options, sizeof options), and "
                        "build against the clsoftmax.h of the library you link",
                        o->struct_size, csm_version(), sizeof *o);
    if (result && result->struct_size != sizeof *result)
        return csm_fail(m->ctx, CSM_ERR_INVALID_VALUE,
                        "csm_train: result->struct_size is %zu, but this library (clsoftmax "
                        "%s) knows only %zu, sizeof(csm_train_result) in its clsoftmax.h: "
                        "declare the result as csm_train_result r = {.struct_size = sizeof r}, "
                        "and build against the clsoftmax.h of the library you link",
                        result->struct_size, csm_version(), sizeof *result);
    st = check_options(m->ctx, o);
    if (st != CSM_OK)
        return st;
    csm_train_result res = {.struct_size = sizeof res};
    const double t_start = csm_now_seconds();
    /* the data as training sees it: this process's share of the global set */
    csm_source src;
    st = csm_source_init(&src, m, d, o->reduce, o->reduce_user);
    if (st == CSM_OK)
        st = run(m, &src, o, &res);
    csm_source_free(&src);
    csm_profile_report(m->ctx, "the final objective", -1);
    if (st == CSM_OK && !isfinite(res.objective))
        st = csm_fail(m->ctx, CSM_ERR_NONFINITE,
                      "training diverged: the objective is %g at the final weights",
                      res.objective);
    res.converged = res.stop == CSM_STOP_TOL;
    res.total_iter = m->state.iter;
    res.seconds = csm_now_seconds() - t_start;
    if (st == CSM_OK)
        csm_log(m->ctx, CSM_LOG_DEBUG,
                "%s: %s after %d iterations (%ld evaluations): J %.12g, max|grad| %.3g, %.3fs",
                csm_solver_name(o->solver), csm_stop_string(res.stop), res.n_iter, res.n_evals,
                res.objective, res.grad_max_abs, res.seconds);
    if (result)
        *result = res;
    return st;
}
