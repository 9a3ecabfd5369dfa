/* Full-batch L-BFGS on the device.
 *
 * theta = (W, b) lives on the device; so do the gradient, the direction
 * and the m most recent pairs s = theta_new - theta_old, y = g_new - g_old,
 * as the rows of two matrices S and Y. The direction d = -H g uses the
 * compact representation of the L-BFGS matrix (Byrd, Nocedal & Schnabel,
 * Math. Prog. 63, 1994; Nocedal & Wright, Numerical Optimization, 2nd ed.,
 * eq. 7.24, H0 = (s'y / y'y) I): one pass over the history gives S g and
 * Y g, the host solves the small triangular systems in double, and one more
 * pass forms d. The two-loop recursion (N&W Alg. 7.4) computes the same
 * vector but needs 4m dependent passes, and on wide models (millions of
 * parameters) those passes cost more than the loss and gradient. The host
 * reads back only scalars: J, g'd, max |g|, the 2m products per direction
 * and per accepted pair.
 *
 * The line search is N&W's Alg. 3.5 (bracketing) and 3.6 (zoom) for the
 * strong Wolfe conditions, c1 = 1e-4, c2 = 0.9, with cubic interpolation
 * (N&W eq. 3.59) safeguarded to the inner 80% of the bracket, and at most
 * max_linesearch evaluations. In float32 J carries rounding noise of about
 * 1e-7 relative that can hide a real decrease near the optimum, so a step is
 * also accepted by Hager & Zhang's approximate Wolfe conditions (SIAM J.
 * Optim. 16(1), 2005, eq. 4.1-4.2: 0.9 g0 <= phi'(a) <= -0.8 g0 and
 * phi(a) <= phi(0) + eps |phi(0)|, eps = 16 unit roundoffs here).
 *
 * Stopping: max |g| <= tol (scikit-learn's criterion for lbfgs), max_iter,
 * the callback, a line search that finds no acceptable step even along
 * -g after the history was dropped, or J's relative decrease below one
 * machine epsilon of the precision for 10 iterations in a row (scipy's
 * factr test stops at one iteration under 64 eps, which in float64 comes
 * before a gradient of 1e-9 is reached; the gradient test is the one that
 * matters here). */
#include "config.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lbfgs.h"
#include "lbfgs_state.h"

#define LS_C1 1e-4
#define LS_C2 0.9

/* One evaluation along the direction: phi(a) = J(x + a d), phi'(a) = g.d */
typedef struct ls_point {
    double a, f, g, gmax, acc;
} ls_point;

csm_status csm_lbfgs_init(csm_lbfgs *lb, csm_solve *s, size_t extra)
{
    csm_model *m = s->model;
    memset(lb, 0, sizeof *lb);
    lb->s = s;
    lb->mem = s->opt->lbfgs_memory;
    lb->eps_f = 16.0 * (m->precision == CSM_FLOAT64 ? DBL_EPSILON : FLT_EPSILON) / 2;
    csm_status st = csm_vec_init(&lb->v, m, N_SLOTS(lb));
    /* 2m history vectors and 6 more of C k + C each: on a CPU device they
     * are host memory, where runtimes often accept allocations past what
     * exists: check first */
    if (st == CSM_OK)
        st = csm_vec_check_room(&lb->v, 6 + extra, (size_t)lb->mem);
    const size_t mm = (size_t)lb->mem;
    lb->order = calloc(mm, sizeof *lb->order);
    lb->sy = calloc(mm * mm, sizeof *lb->sy);
    lb->yy = calloc(mm * mm, sizeof *lb->yy);
    lb->work = calloc(8 * mm, sizeof *lb->work);
    if (st == CSM_OK && (!lb->order || !lb->sy || !lb->yy || !lb->work))
        st = csm_fail(m->ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
    cl_mem *bufs[] = {&lb->x, &lb->g, &lb->xn, &lb->gn, &lb->d, &lb->sn};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs && st == CSM_OK; i++)
        st = csm_vec_alloc(&lb->v, bufs[i], "L-BFGS vectors");
    const size_t es_b = csm_real_size(m->precision), hist = mm * lb->v.n * es_b;
    if (st == CSM_OK) st = csm_buffer_create(m->ctx, &lb->S, hist, "L-BFGS history S");
    if (st == CSM_OK) st = csm_buffer_create(m->ctx, &lb->Y, hist, "L-BFGS history Y");
    /* zeroed: rows not yet written are read with a zero coefficient */
    if (st == CSM_OK) st = csm_fill_zero(m->ctx, lb->S, hist);
    if (st == CSM_OK) st = csm_fill_zero(m->ctx, lb->Y, hist);
    if (st == CSM_OK)
        st = csm_buffer_create(m->ctx, &lb->mpart, 2 * mm * CSM_VEC_GROUPS * es_b,
                               "multi-dot partials");
    if (st == CSM_OK)
        st = csm_buffer_create(m->ctx, &lb->coef, 2 * mm * es_b, "L-BFGS coefficients");
    return st;
}

void csm_lbfgs_free(csm_lbfgs *lb)
{
    if (lb->s)
        clFinish(lb->s->model->ctx->queue);
    cl_mem *bufs[] = {&lb->x, &lb->g, &lb->xn, &lb->gn, &lb->d, &lb->sn, &lb->S, &lb->Y, &lb->mpart,
                      &lb->coef};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        csm_buffer_release(bufs[i]);
    free(lb->order);
    free(lb->sy);
    free(lb->yy);
    free(lb->work);
    csm_vec_free(&lb->v);
}

/* J, the gradient (into gn), g.d and max |g| at the model's current
 * weights. */
static csm_status evaluate(csm_lbfgs *lb, ls_point *p, int with_gd)
{
    csm_status st = csm_objective_fun_grad(lb->s->f, lb->gn);
    if (st == CSM_OK && with_gd)
        st = csm_vec_dot(&lb->v, SLOT_GD(lb), lb->gn, lb->d);
    if (st == CSM_OK)
        st = csm_vec_maxabs(&lb->v, SLOT_GMAX(lb), lb->gn);
    double sc[2] = {0, 0};
    if (st == CSM_OK)
        st = csm_objective_value(lb->s->f, &p->f, &p->acc);
    if (st == CSM_OK)
        st = csm_vec_read(&lb->v, sc, SLOT_GD(lb), 2);
    p->g = with_gd ? sc[0] : 0;
    p->gmax = sc[1];
    lb->s->res->n_evals++;
    return st;
}

/* phi at step a: the model's weights become x + a d. */
static csm_status eval_step(csm_lbfgs *lb, double a, ls_point *p)
{
    p->a = a;
    csm_status st = csm_vec_set_params(&lb->v, lb->x, lb->d, a);
    return st == CSM_OK ? evaluate(lb, p, 1) : st;
}

/* Sufficient decrease: Armijo, or the approximate form near the noise
 * floor of J (see the top of the file). */
static int decrease_ok(const csm_lbfgs *lb, const ls_point *p0, const ls_point *p)
{
    if (!isfinite(p->f))
        return 0;
    if (p->f <= p0->f + LS_C1 * p->a * p0->g)
        return 1;
    return p->f <= p0->f + lb->eps_f * fabs(p0->f) && p->g <= -0.8 * p0->g &&
           p->g >= LS_C2 * p0->g;
}

static int curvature_ok(const ls_point *p0, const ls_point *p)
{
    return fabs(p->g) <= -LS_C2 * p0->g;
}

/* At the noise floor: J at p equals J at 0 within its rounding noise, and
 * the slope meets the approximate Wolfe bounds. Such a point is as good
 * as any the line search can tell apart; a J a few ulps above the best so
 * far says nothing about it. */
static int noise_floor_ok(const csm_lbfgs *lb, const ls_point *p0, const ls_point *p)
{
    return isfinite(p->f) && fabs(p->f - p0->f) <= lb->eps_f * fabs(p0->f) &&
           p->g <= -0.8 * p0->g && p->g >= LS_C2 * p0->g;
}

/* The minimiser of the cubic through (a, f, g) at lo and hi, kept within
 * the inner 80% of the interval; bisection where the cubic fails. */
static double cubic_step(const ls_point *lo, const ls_point *hi)
{
    const double mid = 0.5 * (lo->a + hi->a);
    if (!isfinite(hi->f) || !isfinite(hi->g))
        return lo->a + 0.1 * (hi->a - lo->a); /* overflow at hi: stay close to lo */
    double d1 = lo->g + hi->g - 3.0 * (lo->f - hi->f) / (lo->a - hi->a);
    double disc = d1 * d1 - lo->g * hi->g;
    if (!(disc >= 0))
        return mid;
    double d2 = (hi->a > lo->a ? 1.0 : -1.0) * sqrt(disc);
    double den = hi->g - lo->g + 2.0 * d2;
    if (den == 0)
        return mid;
    double a = hi->a - (hi->a - lo->a) * (hi->g + d2 - d1) / den;
    double left = fmin(lo->a, hi->a), width = fabs(hi->a - lo->a);
    if (!isfinite(a) || a < left + 0.1 * width || a > left + 0.9 * width)
        return mid;
    return a;
}

typedef enum { LS_OK, LS_MAX_EVALS, LS_NARROW } ls_status;

/* N&W Alg. 3.6 between lo (decrease holds, lowest J so far) and hi. */
static csm_status zoom(csm_lbfgs *lb, const ls_point *p0, ls_point lo, ls_point hi, int *evals,
                       ls_point *out, ls_status *ls)
{
    const int maxls = lb->s->opt->max_linesearch;
    csm_status st = CSM_OK;
    for (;;) {
        *out = lo;
        if (*evals >= maxls) {
            *ls = LS_MAX_EVALS;
            return CSM_OK;
        }
        if (fabs(hi.a - lo.a) <= DBL_EPSILON * fmax(fabs(lo.a), fabs(hi.a))) {
            *ls = LS_NARROW;
            return CSM_OK;
        }
        ls_point p;
        st = eval_step(lb, cubic_step(&lo, &hi), &p);
        (*evals)++;
        if (st != CSM_OK)
            return st;
        if (!decrease_ok(lb, p0, &p) || (p.f >= lo.f && !noise_floor_ok(lb, p0, &p))) {
            hi = p;
        } else {
            if (curvature_ok(p0, &p)) {
                *out = p;
                *ls = LS_OK;
                return CSM_OK;
            }
            if (p.g * (hi.a - lo.a) >= 0)
                hi = lo;
            lo = p;
        }
    }
}

/* N&W Alg. 3.5 from step a1. On LS_OK the model holds the accepted point
 * and gn its gradient. Otherwise *out is the best point that satisfied the
 * decrease condition (a = 0: none). */
static csm_status line_search(csm_lbfgs *lb, const ls_point *p0, double a1, ls_point *out,
                              ls_status *ls, ls_point *last)
{
    const int maxls = lb->s->opt->max_linesearch;
    ls_point prev = *p0, p;
    double a = a1;
    int evals = 0;
    csm_status st = CSM_OK;
    *out = *p0;
    last->a = 0;
    for (int i = 0;; i++) {
        if (evals >= maxls) {
            *out = prev;
            *ls = LS_MAX_EVALS;
            return CSM_OK;
        }
        st = eval_step(lb, a, &p);
        evals++;
        if (st != CSM_OK)
            return st;
        *last = p;
        if (!decrease_ok(lb, p0, &p) || (i > 0 && p.f >= prev.f)) {
            st = zoom(lb, p0, prev, p, &evals, out, ls);
            break;
        }
        if (curvature_ok(p0, &p)) {
            *out = p;
            *ls = LS_OK;
            break;
        }
        if (p.g >= 0) {
            st = zoom(lb, p0, p, prev, &evals, out, ls);
            break;
        }
        prev = p;
        a *= 4; /* still descending steeply: a longer step */
    }
    return st;
}

/* d = -H g from the compact representation (see the top of the file),
 * d = -gamma g - S top + gamma Y t over the pairs held, oldest first:
 * a = S g, b = Y g; t = R^-1 a; top = R^-T ((D + gamma Y'Y) t - gamma b),
 * with R the upper triangle of S'Y and D its diagonal. d = -g without
 * pairs. */
csm_status csm_lbfgs_direction(csm_lbfgs *lb, cl_mem g)
{
    csm_vecops *v = &lb->v;
    const int m = lb->mem, k = lb->count;
    double *coef = lb->work, *a = lb->work + 2 * m, *b = a + m, *t = b + m, *top = t + m;
    for (int j = 0; j < 2 * m; j++)
        coef[j] = 0;
    csm_status st = CSM_OK;
    if (k > 0) {
        double *dots = lb->work + 6 * m;
        st = csm_vec_multidot(v, lb->mpart, lb->S, lb->Y, (size_t)m, g);
        if (st == CSM_OK)
            st = csm_vec_read(v, dots, SLOT_DOTS, 2 * (size_t)m);
        for (int i = 0; i < k; i++) {
            a[i] = dots[lb->order[i]];
            b[i] = dots[m + lb->order[i]];
        }
        if (st != CSM_OK)
            return st;
#define SY(i, j) lb->sy[(size_t)lb->order[i] * (size_t)m + (size_t)lb->order[j]]
#define YY(i, j) lb->yy[(size_t)lb->order[i] * (size_t)m + (size_t)lb->order[j]]
        for (int i = k - 1; i >= 0; i--) { /* R t = a, R upper: R_ij = s_i.y_j, i <= j */
            double acc = a[i];
            for (int j = i + 1; j < k; j++)
                acc -= SY(i, j) * t[j];
            t[i] = acc / SY(i, i);
        }
        for (int i = 0; i < k; i++) { /* R' top = (D + gamma Y'Y) t - gamma b */
            double acc = SY(i, i) * t[i] - lb->gamma * b[i];
            for (int j = 0; j < k; j++)
                acc += lb->gamma * YY(i, j) * t[j];
            for (int j = 0; j < i; j++)
                acc -= SY(j, i) * top[j];
            top[i] = acc / SY(i, i);
        }
#undef SY
#undef YY
        for (int i = 0; i < k; i++) {
            coef[lb->order[i]] = -top[i];
            coef[m + lb->order[i]] = lb->gamma * t[i];
        }
    }
    if (st == CSM_OK)
        st = csm_upload(v->ctx, lb->coef, v->prec, 0, coef, 2 * (size_t)m);
    if (st == CSM_OK)
        st = csm_vec_combine(v, lb->d, g, k > 0 ? -lb->gamma : -1.0, lb->S, lb->Y, lb->coef,
                             (size_t)m);
    return st;
}

/* Stores the pair (s, y) = (xn - x, gn - g) in history row j, dropping
 * the oldest pair when the history is full, with its products with every
 * row held (two passes over the history). */
static csm_status store_pair(csm_lbfgs *lb)
{
    csm_vecops *v = &lb->v;
    const int m = lb->mem, j = lb->head;
    /* with a full history the row written is the oldest pair's: drop it */
    if (lb->count == m) {
        memmove(lb->order, lb->order + 1, (size_t)(m - 1) * sizeof *lb->order);
        lb->count--;
    }
    double *dots = lb->work + 6 * m;
    csm_status st = csm_vec_sub_row(v, lb->S, (size_t)j, lb->xn, lb->x);
    if (st == CSM_OK) st = csm_vec_sub_row(v, lb->Y, (size_t)j, lb->gn, lb->g);
    // s_i.y and y_i.y for every row i, the new pair's included (y is in d)
    if (st == CSM_OK) st = csm_vec_multidot(v, lb->mpart, lb->S, lb->Y, (size_t)m, lb->d);
    if (st == CSM_OK) st = csm_vec_read(v, dots, SLOT_DOTS, 2 * (size_t)m);
    if (st != CSM_OK)
        return st;
    for (int c = 0; c < lb->count; c++) {
        const int i = lb->order[c];
        lb->sy[(size_t)i * (size_t)m + (size_t)j] = dots[i];
        lb->yy[(size_t)i * (size_t)m + (size_t)j] = dots[m + i];
        lb->yy[(size_t)j * (size_t)m + (size_t)i] = dots[m + i];
    }
    lb->sy[(size_t)j * (size_t)m + (size_t)j] = dots[j];
    lb->yy[(size_t)j * (size_t)m + (size_t)j] = dots[m + j];
    lb->gamma = dots[j] / dots[m + j];
    lb->order[lb->count++] = j;
    lb->head = (lb->head + 1) % m;
    return CSM_OK;
}

/* The model holds the accepted point and gn its gradient: keep the pair
 * (s, y) when it has positive curvature, judged before anything held is
 * touched (a pair without it would break H's positivity, and must not
 * cost the oldest pair its place), and make (xn, gn) current. */
csm_status csm_lbfgs_accept(csm_lbfgs *lb)
{
    csm_vecops *v = &lb->v;
    double c[2] = {0, 0};
    csm_status st = csm_vec_get_params(v, lb->xn);
    /* y in d (free until the next direction), s in its own vector */
    if (st == CSM_OK) st = csm_vec_sub(v, lb->d, lb->gn, lb->g);
    if (st == CSM_OK) st = csm_vec_sub(v, lb->sn, lb->xn, lb->x);
    if (st == CSM_OK) st = csm_vec_dot(v, SLOT_SY(lb), lb->sn, lb->d);
    if (st == CSM_OK) st = csm_vec_dot(v, SLOT_YY(lb), lb->d, lb->d);
    if (st == CSM_OK) st = csm_vec_read(v, c, SLOT_SY(lb), 2);
    if (st != CSM_OK)
        return st;
    const double eps = v->prec == CSM_FLOAT64 ? DBL_EPSILON : FLT_EPSILON;
    if (c[0] > eps * c[1] && c[1] > 0)
        st = store_pair(lb);
    else
        csm_log(v->ctx, CSM_LOG_DEBUG, "lbfgs: pair skipped (s.y %g, y.y %g), %d kept", c[0],
                c[1], lb->count);
    if (st != CSM_OK)
        return st;
    cl_mem t = lb->x;
    lb->x = lb->xn;
    lb->xn = t;
    t = lb->g;
    lb->g = lb->gn;
    lb->gn = t;
    return CSM_OK;
}

/* Resume: takes over the history the model carries (csm_lbfgs_state,
 * from an earlier csm_train() or a model file), when its memory is this
 * run's, so that the run goes on exactly as the one that stopped would
 * have: the same rows of S and Y, the same order and next row, and the
 * products s_i.y_j, y_i.y_j of the pairs in use computed again from the
 * rows by the reductions csm_lbfgs_accept() used, to the same bits. */
csm_status csm_lbfgs_resume(csm_lbfgs *lb)
{
    csm_model *m = lb->s->model;
    csm_lbfgs_state *h = m->state.lbfgs;
    m->state.lbfgs = NULL; /* the run owns it now; it hands one back at the end */
    if (!h)
        return CSM_OK;
    if (!lb->s->opt->resume || h->mem != lb->mem || !h->S || !h->Y) {
        if (lb->s->opt->resume)
            csm_log(m->ctx, CSM_LOG_INFO,
                    "lbfgs: the model's history (memory %d) is not continued: lbfgs_memory is "
                    "%d; the history restarts at the model's weights",
                    h->mem, lb->mem);
        csm_lbfgs_state_free(h);
        return CSM_OK;
    }
    csm_buffer_release(&lb->S);
    csm_buffer_release(&lb->Y);
    lb->S = h->S;
    lb->Y = h->Y;
    h->S = h->Y = NULL;
    lb->count = h->count;
    lb->head = h->head;
    lb->stalled = h->stalled;
    memcpy(lb->order, h->order, (size_t)h->count * sizeof *lb->order);
    csm_lbfgs_state_free(h);
    const int mm = lb->mem;
    const size_t row = lb->v.n * csm_real_size(m->precision);
    double *dots = lb->work + 6 * mm;
    csm_status st = CSM_OK;
    for (int c = 0; c < lb->count && st == CSM_OK; c++) {
        const int j = lb->order[c];
        cl_int rc = clEnqueueCopyBuffer(m->ctx->queue, lb->Y, lb->d, (size_t)j * row, 0, row, 0,
                                        NULL, NULL);
        if (rc != CL_SUCCESS)
            return csm_cl_fail(m->ctx, rc, "clEnqueueCopyBuffer (L-BFGS history)");
        st = csm_vec_multidot(&lb->v, lb->mpart, lb->S, lb->Y, (size_t)mm, lb->d);
        if (st == CSM_OK)
            st = csm_vec_read(&lb->v, dots, SLOT_DOTS, 2 * (size_t)mm);
        for (int c2 = 0; c2 <= c && st == CSM_OK; c2++) {
            const int i = lb->order[c2];
            lb->sy[(size_t)i * (size_t)mm + (size_t)j] = dots[i];
            lb->yy[(size_t)i * (size_t)mm + (size_t)j] = dots[mm + i];
            lb->yy[(size_t)j * (size_t)mm + (size_t)i] = dots[mm + i];
        }
    }
    if (st == CSM_OK && lb->count > 0) {
        const size_t j = (size_t)lb->order[lb->count - 1];
        lb->gamma = lb->sy[j * (size_t)mm + j] / lb->yy[j * (size_t)mm + j];
    }
    csm_log(m->ctx, CSM_LOG_INFO, "lbfgs: continuing with the model's history of %d pair%s",
            lb->count, lb->count == 1 ? "" : "s");
    return st;
}

/* The end of a run that did not converge: the model keeps the history, for
 * a resume (see csm_lbfgs_resume). A converged run keeps none: continuing it
 * with the same tol does nothing, and the file stays small. */
void csm_lbfgs_keep(csm_lbfgs *lb, csm_status st)
{
    csm_model *m = lb->s->model;
    if (st != CSM_OK || lb->s->res->stop == CSM_STOP_TOL)
        return;
    csm_lbfgs_state *h = csm_lbfgs_state_new(lb->mem);
    if (!h)
        return; /* out of memory: a resume restarts the history, nothing worse */
    h->S = lb->S;
    h->Y = lb->Y;
    lb->S = lb->Y = NULL;
    h->count = lb->count;
    h->head = lb->head;
    h->stalled = lb->stalled;
    memcpy(h->order, lb->order, (size_t)lb->count * sizeof *h->order);
    m->state.lbfgs = h;
}

int csm_lbfgs_iteration_done(csm_lbfgs *lb, int it, double f_prev, double f, double acc,
                             double gmax, long evals0, double t0)
{
    csm_solve *s = lb->s;
    s->model->state.iter++;
    s->res->n_iter = it;
    /* counted before the callback may stop the run: the history a resume
     * continues holds this iteration whole */
    const double eps = s->model->precision == CSM_FLOAT64 ? DBL_EPSILON : FLT_EPSILON;
    const double rel = (f_prev - f) / fmax(fmax(fabs(f_prev), fabs(f)), 1.0);
    lb->stalled = rel <= eps ? lb->stalled + 1 : 0;
    if (s->report(s, it, f, acc, gmax, (int)(s->res->n_evals - evals0), csm_now_seconds() - t0))
        s->res->stop = CSM_STOP_CALLBACK;
    else if (gmax <= s->opt->tol)
        s->res->stop = CSM_STOP_TOL;
    else if (lb->stalled >= 10)
        s->res->stop = CSM_STOP_PRECISION;
    else
        return 0;
    return 1;
}

csm_status csm_solve_lbfgs(csm_solve *s)
{
    csm_model *m = s->model;
    const csm_train_options *o = s->opt;
    csm_lbfgs lb;
    csm_status st = csm_lbfgs_init(&lb, s, 0);
    if (st == CSM_OK)
        st = csm_model_state_prepare(m, CSM_LBFGS);
    if (st == CSM_OK)
        st = csm_lbfgs_resume(&lb);
    ls_point cur = {0, 0, 0, 0, 0};
    /* the starting point: x = theta, g = its gradient */
    if (st == CSM_OK) st = csm_vec_get_params(&lb.v, lb.x);
    if (st == CSM_OK) st = evaluate(&lb, &cur, 0);
    if (st == CSM_OK) {
        cl_mem t = lb.g;
        lb.g = lb.gn;
        lb.gn = t;
    }
    if (st == CSM_OK && !isfinite(cur.f))
        st = csm_fail(m->ctx, CSM_ERR_NONFINITE,
                      "the objective is %g at the starting weights", cur.f);
    s->res->stop = CSM_STOP_MAX_ITER;
    if (st == CSM_OK && cur.gmax <= o->tol)
        s->res->stop = CSM_STOP_TOL;
    const int f64 = m->precision == CSM_FLOAT64;
    for (int it = 1; st == CSM_OK && s->res->stop == CSM_STOP_MAX_ITER && it <= o->max_iter;) {
        double t0 = csm_now_seconds();
        long evals0 = s->res->n_evals;
        st = csm_lbfgs_direction(&lb, lb.g);
        double gd = 0;
        if (st == CSM_OK) st = csm_vec_dot(&lb.v, SLOT_GD(&lb), lb.g, lb.d);
        if (st == CSM_OK) st = csm_vec_read(&lb.v, &gd, SLOT_GD(&lb), 1);
        if (st != CSM_OK)
            break;
        if (!(gd < 0) && lb.count > 0) {
            /* rounding made the quasi-Newton direction useless: restart */
            csm_log(m->ctx, CSM_LOG_DEBUG, "lbfgs: not a descent direction (g.d = %g), restart", gd);
            lb.count = 0;
            continue;
        }
        if (!(gd < 0)) {
            s->res->stop = f64 ? CSM_STOP_LINE_SEARCH : CSM_STOP_PRECISION;
            break;
        }
        /* unit step with history; scaled to |d| = 1 without (N&W 7.2) */
        double a1 = 1.0;
        if (lb.count == 0)
            a1 = fmin(1.0, 1.0 / sqrt(-gd));
        ls_point p0 = {0, cur.f, gd, cur.gmax, cur.acc}, best, last;
        ls_status ls;
        st = line_search(&lb, &p0, a1, &best, &ls, &last);
        if (st != CSM_OK)
            break;
        if (ls != LS_OK && best.a > 0 && last.a != best.a)
            st = eval_step(&lb, best.a, &best); /* back to the best point */
        if (st != CSM_OK)
            break;
        if (ls != LS_OK && best.a == 0) {
            /* no decrease at all: retry along -g once, then give up */
            st = csm_vec_set_params(&lb.v, lb.x, lb.d, 0.0);
            if (st != CSM_OK)
                break;
            if (lb.count > 0) {
                csm_log(m->ctx, CSM_LOG_DEBUG, "lbfgs: line search failed, restart along -g");
                lb.count = 0;
                continue;
            }
            s->res->stop = ls == LS_NARROW || !f64 ? CSM_STOP_PRECISION : CSM_STOP_LINE_SEARCH;
            break;
        }
        st = csm_lbfgs_accept(&lb);
        if (st != CSM_OK)
            break;
        double f_prev = cur.f;
        cur = best;
        csm_log(m->ctx, CSM_LOG_DEBUG, "lbfgs %d: J %.12g max|g| %.3g step %.3g (%ld evals)", it,
                cur.f, cur.gmax, cur.a, s->res->n_evals - evals0);
        if (csm_lbfgs_iteration_done(&lb, it, f_prev, cur.f, cur.acc, cur.gmax, evals0, t0))
            break;
        it++;
    }
    csm_lbfgs_keep(&lb, st);
    csm_lbfgs_free(&lb);
    return st;
}
