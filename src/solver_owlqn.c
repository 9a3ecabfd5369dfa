/* OWL-QN: L-BFGS for J = f + l1 ||W||_1 (elastic net: f holds the data
 * term and the L2 part), on the device (Andrew & Gao, "Scalable training
 * of L1-regularized log-linear models", ICML 2007).
 *
 * J is not differentiable where a weight is 0, but on each orthant (a
 * fixed sign per weight) it is smooth. The method keeps the L-BFGS history
 * of f alone (pairs of f's gradient: the L1 term is linear within an
 * orthant and adds nothing to the curvature) and at every iteration:
 *   - forms the pseudo-gradient pg of J at x (vec_pseudo_grad): f's
 *     gradient plus l1 sign(x), and at x_i = 0 the one-sided derivative
 *     in the direction J decreases (0 when neither does);
 *   - takes the quasi-Newton direction d = -H pg (the same compact
 *     representation and history code as L-BFGS, lbfgs.h) and zeroes the
 *     entries whose sign is not -pg's, so that d is a descent direction
 *     of J within the orthant chosen;
 *   - searches along d by backtracking (halving from 1, or from 1/|d|
 *     without history) on the projected point p(x + a d), which keeps the
 *     orthant of x (sign x, or sign -pg where x is 0) and sets every
 *     weight that would cross zero to exactly 0: these are the model's
 *     exact zeros. A step is taken when J(p) <= J(x) + c1 pg.(p - x)
 *     (the paper's condition, as corrected in its erratum), or, as in
 *     solver_lbfgs.c, when J at p equals J at x within J's rounding noise
 *     and is no higher (float32 near the optimum).
 * The bias is not penalised: its pseudo-gradient is f's gradient, and it
 * is not projected.
 *
 * Stopping: max |pg| <= tol (pg is 0 at the optimum: the L1 analogue of
 * L-BFGS's max |g|), max_iter, the callback, a line search that finds no
 * step even along -pg after the history was dropped, or J stalled at the
 * precision for 10 iterations. The history is kept and resumed as for
 * L-BFGS (the pairs are f's, whatever the L1 weight). */
#include "config.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "lbfgs.h"

#define OWL_C1 1e-4

/* J, accuracy, max |pg| at a point */
typedef struct owl_point {
    double a, f, acc, pgmax;
} owl_point;

/* J and f's gradient (into gn) at the model's weights. */
static csm_status evaluate(csm_lbfgs *lb, owl_point *p)
{
    csm_status st = csm_objective_fun_grad(lb->s->f, lb->gn);
    if (st == CSM_OK)
        st = csm_objective_value(lb->s->f, &p->f, &p->acc);
    lb->s->res->n_evals++;
    return st;
}

/* pg at the accepted point (x, g), and max |pg| into p. */
static csm_status pseudo_grad(csm_lbfgs *lb, cl_mem pg, double l1, owl_point *p)
{
    csm_status st = csm_vec_pseudo_grad(&lb->v, pg, lb->g, lb->x, l1);
    if (st == CSM_OK) st = csm_vec_maxabs(&lb->v, SLOT_PGMAX(lb), pg);
    if (st == CSM_OK) st = csm_vec_read(&lb->v, &p->pgmax, SLOT_PGMAX(lb), 1);
    return st;
}

typedef enum { BT_OK, BT_NONE } bt_status;

/* Backtracking from step a along d, projected onto the orthant; on BT_OK
 * the model holds the new point, gn its gradient, *out its J. */
static csm_status backtrack(csm_lbfgs *lb, cl_mem pg, const owl_point *p0, double a,
                            owl_point *out, bt_status *bt)
{
    const int maxls = lb->s->opt->max_linesearch;
    csm_vecops *v = &lb->v;
    *bt = BT_NONE;
    for (int evals = 0; evals < maxls; evals++, a *= 0.5) {
        owl_point p = {a, 0, 0, 0};
        double pgs = 0;
        csm_status st = csm_vec_set_params_orthant(v, lb->x, lb->d, pg, a);
        if (st == CSM_OK) st = evaluate(lb, &p);
        /* pg.(p - x): the change of J to first order along the projected step */
        if (st == CSM_OK) st = csm_vec_get_params(v, lb->xn);
        if (st == CSM_OK) st = csm_vec_sub(v, lb->sn, lb->xn, lb->x);
        if (st == CSM_OK) st = csm_vec_dot(v, SLOT_PGS(lb), pg, lb->sn);
        if (st == CSM_OK) st = csm_vec_read(v, &pgs, SLOT_PGS(lb), 1);
        if (st != CSM_OK)
            return st;
        if (!isfinite(p.f))
            continue;
        if (p.f <= p0->f + OWL_C1 * pgs ||
            (pgs < 0 && p.f <= p0->f && p0->f - p.f <= lb->eps_f * fabs(p0->f))) {
            *out = p;
            *bt = BT_OK;
            return CSM_OK;
        }
    }
    return CSM_OK;
}

csm_status csm_solve_owlqn(csm_solve *s)
{
    csm_model *m = s->model;
    const csm_train_options *o = s->opt;
    const double l1 = csm_objective_l1(s->f);
    csm_lbfgs lb;
    cl_mem pg = NULL;
    csm_status st = csm_lbfgs_init(&lb, s, 1);
    if (st == CSM_OK) st = csm_vec_alloc(&lb.v, &pg, "OWL-QN pseudo-gradient");
    if (st == CSM_OK) st = csm_model_state_prepare(m, CSM_LBFGS);
    if (st == CSM_OK) st = csm_lbfgs_resume(&lb);
    owl_point cur = {0, 0, 0, 0};
    /* the starting point: x = theta, g = f's gradient, pg */
    if (st == CSM_OK) st = csm_vec_get_params(&lb.v, lb.x);
    if (st == CSM_OK) st = evaluate(&lb, &cur);
    if (st == CSM_OK) {
        cl_mem t = lb.g;
        lb.g = lb.gn;
        lb.gn = t;
        st = pseudo_grad(&lb, pg, l1, &cur);
    }
    if (st == CSM_OK && !isfinite(cur.f))
        st = csm_fail(m->ctx, CSM_ERR_NONFINITE, "the objective is %g at the starting weights",
                      cur.f);
    s->res->stop = CSM_STOP_MAX_ITER;
    if (st == CSM_OK && cur.pgmax <= o->tol)
        s->res->stop = CSM_STOP_TOL;
    const int f64 = m->precision == CSM_FLOAT64;
    for (int it = 1; st == CSM_OK && s->res->stop == CSM_STOP_MAX_ITER && it <= o->max_iter;) {
        double t0 = csm_now_seconds();
        long evals0 = s->res->n_evals;
        st = csm_lbfgs_direction(&lb, pg);
        double gd = 0;
        if (st == CSM_OK) st = csm_vec_orthant_dir(&lb.v, lb.d, pg);
        if (st == CSM_OK) st = csm_vec_dot(&lb.v, SLOT_GD(&lb), pg, lb.d);
        if (st == CSM_OK) st = csm_vec_read(&lb.v, &gd, SLOT_GD(&lb), 1);
        if (st != CSM_OK)
            break;
        if (!(gd < 0) && lb.count > 0) {
            csm_log(m->ctx, CSM_LOG_DEBUG, "owlqn: not a descent direction (pg.d = %g), restart",
                    gd);
            lb.count = 0;
            continue;
        }
        if (!(gd < 0)) {
            s->res->stop = f64 ? CSM_STOP_LINE_SEARCH : CSM_STOP_PRECISION;
            break;
        }
        const double a1 = lb.count == 0 ? fmin(1.0, 1.0 / sqrt(-gd)) : 1.0;
        owl_point next;
        bt_status bt;
        st = backtrack(&lb, pg, &cur, a1, &next, &bt);
        if (st != CSM_OK)
            break;
        if (bt != BT_OK) {
            /* no decrease: back to x, retry along -pg once, then give up */
            st = csm_vec_set_params(&lb.v, lb.x, lb.d, 0.0);
            if (st != CSM_OK)
                break;
            if (lb.count > 0) {
                csm_log(m->ctx, CSM_LOG_DEBUG, "owlqn: line search failed, restart along -pg");
                lb.count = 0;
                continue;
            }
            s->res->stop = f64 ? CSM_STOP_LINE_SEARCH : CSM_STOP_PRECISION;
            break;
        }
        st = csm_lbfgs_accept(&lb);
        if (st == CSM_OK)
            st = pseudo_grad(&lb, pg, l1, &next);
        if (st != CSM_OK)
            break;
        const double f_prev = cur.f;
        cur = next;
        csm_log(m->ctx, CSM_LOG_DEBUG, "owlqn %d: J %.12g max|pg| %.3g step %.3g (%ld evals)", it,
                cur.f, cur.pgmax, cur.a, s->res->n_evals - evals0);
        if (csm_lbfgs_iteration_done(&lb, it, f_prev, cur.f, cur.acc, cur.pgmax, evals0, t0))
            break;
        it++;
    }
    csm_lbfgs_keep(&lb, st);
    csm_buffer_release(&pg);
    csm_lbfgs_free(&lb);
    return st;
}
