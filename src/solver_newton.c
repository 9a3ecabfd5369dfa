/* Trust-region Newton-CG on the device (Lin, Weng & Keerthi, "Trust region
 * Newton method for large-scale logistic regression", JMLR 9, 2008: the
 * method of liblinear's TRON).
 *
 * Each outer iteration approximately minimises the quadratic model
 * Q(s) = g's + s'Hs/2 within ||s||_M <= delta by preconditioned conjugate
 * gradients (Steihaug's CG: stop at the boundary, or along a direction of
 * no positive curvature), each CG step one Hessian-vector product, a pass
 * over the data with the objective's Hv (objective.h). CG stops early by
 * the relative decrease of Q (Hsia, Chiang & Lin, "Preconditioned
 * conjugate gradient methods in truncated Newton frameworks for
 * large-scale linear classification", ACML 2018: stop at step j when
 * j (Q_j - Q_j-1) >= min(0.5, sqrt(||g||_M^-1)) Q_j), which asks for
 * little accuracy far from the optimum and more near it. The trial point
 * x + s is accepted when J's actual decrease is at least eta0 = 1e-4 of
 * the predicted -Q(s); the radius follows Hsia, Zhu & Lin's rules ("On the
 * study of the trust-region update rules in Newton methods for large-scale
 * linear classification", ACML 2017): grown by sigma3 = 4 when the step
 * was good and reached the boundary, else set from the step's length and
 * a cubic-free estimate of where J along s is least.
 *
 * Preconditioner (Hsia, Chiang & Lin 2018): the diagonal M = (1 - a) +
 * a diag(H) / lambda, a = 0.01, in liblinear's scale (there the penalty's
 * Hessian is I; here lambda I), from the Hessian's diagonal at each new
 * point (csm_objective_hessian_at: one pass over the data, on every path).
 * The trust region is measured in the M-norm, as TRON's: ||s||_M^2 =
 * s'Ms. On the sparse sets of BENCHMARKS.md ("Newton or L-BFGS") CG takes
 * 35 steps instead of 88 with M = I (20000 x 50000), 40 instead of 249
 * (200000 x 10^6). The same call keeps the rows' probabilities at the
 * point, where they fit, so each product is one pass of products with the
 * direction instead of two.
 *
 * Five parameter vectors, against L-BFGS's 2m + 5: the gradient g, the
 * step s, the CG direction d, its product Hd and the preconditioner M
 * (z = M^-1 r is formed inside the kernels that use it). The residual
 * r = -g - Hs takes g's place during CG: CG needs g only through s'g, for
 * Q(s) = g's + s'Hs/2, and s'g = -s'r - s'Hs, with s'Hs carried along the
 * steps (s_j+1'H s_j+1 = s_j'H s_j + 2 a s_j+1'Hd - a^2 d'Hd, from a dot
 * product in the pass that updates s). That keeps one vector of C k reals
 * fewer (80 MB at C = 20, k = 10^6: BENCHMARKS.md, "Sparse data"). The
 * trial point is taken in place on the model's weights (+s) and taken back
 * (-s) on a rejection; its gradient goes into d, free after CG, and
 * becomes g when the trial is accepted. A rejected trial leaves the
 * weights within a rounding of where they were, and the products' point
 * (and M) where they were; g, given to r, is computed there again before
 * the next CG (a pass over the data, on rejections only).
 *
 * The host reads back scalars only: two small reads per CG step (d'Hd,
 * s'Md, d'Md; then r'M^-1 r, s'r, s'Hd, each three in one pass), J and
 * max |g| per trial.
 *
 * Near the optimum a step's predicted decrease can fall below J's rounding
 * noise (about 1e-15 relative in float64, before max |g| reaches 1e-9 on
 * small problems): there J cannot judge the step, and it is accepted when
 * it lowers ||g|| instead (as L-BFGS's line search accepts by the slope at
 * that floor).
 *
 * Stopping: max |g| <= tol (L-BFGS's criterion), max_iter accepted
 * iterations, the callback, or a step at the noise floor that does not
 * lower ||g||, a non-positive predicted decrease, or 60 rejected trials in a
 * row (CSM_STOP_PRECISION). */
#include "config.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "solver.h"

#define ETA0 1e-4
#define ETA1 0.25
#define ETA2 0.75
#define SIGMA1 0.25
#define SIGMA2 0.5
#define SIGMA3 4.0
#define EPS_CG 0.5
/* the diagonal's share of the preconditioner (Hsia, Chiang & Lin 2018) */
#define ALPHA_PCG 0.01
/* rejected trials in a row before the radius is taken as too small to
 * matter: each one at least halves it */
#define MAX_REJECTS 60

enum { SLOT_A, SLOT_B, SLOT_C, SLOT_GMAX, N_SLOTS };

typedef struct newton {
    csm_solve *s;
    csm_vecops v;
    cl_mem g, st, d, hd; /* gradient (CG's residual r in its place), step, CG direction, H d */
    cl_mem m;            /* the diagonal preconditioner */
    int g_is_r;          /* g holds CG's residual: the gradient is to be computed again */
    double eps_f;           /* relative rounding noise of J */
    long hv;                /* Hessian-vector products of this run */
} newton;

static csm_status newton_init(newton *nt, csm_solve *s)
{
    memset(nt, 0, sizeof *nt);
    nt->s = s;
    csm_model *m = s->model;
    nt->eps_f = 16.0 * (m->precision == CSM_FLOAT64 ? DBL_EPSILON : FLT_EPSILON) / 2;
    csm_status st = csm_vec_init(&nt->v, m, N_SLOTS);
    if (st == CSM_OK)
        st = csm_vec_check_room(&nt->v, 5, 0);
    cl_mem *bufs[] = {&nt->g, &nt->st, &nt->d, &nt->hd, &nt->m};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs && st == CSM_OK; i++)
        st = csm_vec_alloc(&nt->v, bufs[i], "Newton vectors");
    return st;
}

static void newton_free(newton *nt)
{
    if (nt->s)
        clFinish(nt->s->model->ctx->queue);
    cl_mem *bufs[] = {&nt->g, &nt->st, &nt->d, &nt->hd, &nt->m};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        csm_buffer_release(bufs[i]);
    csm_vec_free(&nt->v);
}

/* J, accuracy and max |grad| at the model's weights, the gradient into g. */
static csm_status evaluate(newton *nt, cl_mem g, double *f, double *acc, double *gmax)
{
    csm_status st = csm_objective_fun_grad(nt->s->f, g);
    if (st == CSM_OK) st = csm_vec_maxabs(&nt->v, SLOT_GMAX, g);
    if (st == CSM_OK) st = csm_objective_value(nt->s->f, f, acc);
    if (st == CSM_OK) st = csm_vec_read(&nt->v, gmax, SLOT_GMAX, 1);
    nt->s->res->n_evals++;
    return st;
}

/* Three dot products in one pass (weighted by the preconditioner m where
 * bit u of `weighted` is set), read back together. */
static csm_status dots3(newton *nt, double out[3], cl_mem a0, cl_mem b0, cl_mem a1, cl_mem b1,
                        cl_mem a2, cl_mem b2, unsigned weighted)
{
    csm_status st = csm_vec_dots3(&nt->v, SLOT_A, a0, b0, a1, b1, a2, b2, nt->m, weighted);
    if (st == CSM_OK) st = csm_vec_read(&nt->v, out, SLOT_A, 3);
    return st;
}

/* J does not change when the same constant is added to every class's
 * bias (the softmax does not see it, and the bias is not penalised): along
 * that direction J is flat, the gradient and every Hessian product have
 * no component, and CG's steps would have none either, but a diagonal
 * preconditioner with unequal bias entries gives them one, and the bias
 * drifts along the flat direction (on iris at C = 100 the intercepts came
 * out 5.06 above L-BFGS's, J the same to 1e-15). The bias entries of the
 * diagonal h are therefore replaced by their mean, which keeps the steps'
 * bias parts summing to 0, as L-BFGS's do (a model started at zero keeps
 * sum b = 0, as scikit-learn's). C reals read and written once per
 * iteration. */
static csm_status equal_bias_entries(newton *nt)
{
    const csm_model *m = nt->s->model;
    csm_vecops *v = &nt->v;
    double *hb = malloc(m->C * sizeof *hb);
    if (!hb)
        return csm_fail(m->ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
    csm_status st = csm_download(m->ctx, hb, nt->hd, v->prec, v->nw, m->C);
    double mean = 0;
    for (size_t c = 0; st == CSM_OK && c < m->C; c++)
        mean += hb[c] / (double)m->C;
    for (size_t c = 0; c < m->C; c++)
        hb[c] = mean;
    if (st == CSM_OK)
        st = csm_upload(m->ctx, nt->hd, v->prec, v->nw, hb, m->C);
    free(hb);
    return st;
}

/* The preconditioner at the point of the Hessian products (Hsia, Chiang &
 * Lin 2018): m = (1 - a) + a h / mu, h J's Hessian diagonal there, mu the
 * L2 weight lambda (in liblinear's scale, where the penalty's Hessian is
 * I, this is their (1 - a) I + a diag(H)), or without an L2 term the mean
 * of h. Also fixes the point of the products (csm_objective_hessian_at);
 * h passes through hd, free between CG runs. */
static csm_status precondition(newton *nt)
{
    csm_vecops *v = &nt->v;
    csm_status st = csm_objective_hessian_at(nt->s->f, nt->hd);
    if (st == CSM_OK)
        st = equal_bias_entries(nt);
    double mu = csm_objective_lambda(nt->s->f);
    if (st == CSM_OK && !(mu > 0)) {
        st = csm_vec_asum(v, SLOT_A, nt->hd, v->n);
        if (st == CSM_OK) st = csm_vec_read(v, &mu, SLOT_A, 1);
        mu /= (double)v->n;
    }
    if (st != CSM_OK)
        return st;
    /* no scale to mix the diagonal with (no L2 term, and no data seen):
     * no preconditioner */
    const int none = !(mu > 0) || !isfinite(mu);
    return csm_vec_precond(v, nt->m, nt->hd, none ? 0.0 : ALPHA_PCG / mu,
                           none ? 1.0 : 1 - ALPHA_PCG);
}

/* The step that takes s to the boundary ||s + tau d||_M = delta, tau > 0,
 * from ss = s'Ms, sd = s'Md, dd = d'Md (ss <= delta^2), in the form
 * without cancellation. */
static double to_boundary(double ss, double sd, double dd, double delta)
{
    const double room = fmax(delta * delta - ss, 0.0), rad = sqrt(sd * sd + dd * room);
    return sd >= 0 ? room / (sd + rad) : (rad - sd) / dd;
}

/* What CG leaves for the outer iteration. */
typedef struct cg_out {
    int iters, boundary;
    double gs, sr, snorm; /* g's, s'r, ||s||_M */
} cg_out;

/* The step s += a d with b = (r'M^-1 r, s'r, s'Hd) after it: s'Hs along. */
static double shs_after(double shs, double a, double dhd, const double b[3])
{
    return shs + 2 * a * b[2] - a * a * dhd;
}

/* Steihaug's preconditioned CG on H s = -g within ||s||_M <= delta (see
 * the top of the file); r = -g - Hs in g's place. */
static csm_status conjugate_gradient(newton *nt, double delta, cg_out *out)
{
    csm_context *ctx = nt->s->model->ctx;
    csm_vecops *v = &nt->v;
    const size_t n = v->n;
    cl_mem r = nt->g;
    memset(out, 0, sizeof *out);
    csm_status st = csm_fill_zero(ctx, nt->st, n * csm_real_size(v->prec));
    if (st == CSM_OK) st = csm_vec_axpby(v, r, -1.0, nt->g, 0.0, nt->g);
    nt->g_is_r = 1;
    if (st == CSM_OK) st = csm_vec_precond_dir(v, nt->d, r, nt->m, 0.0);
    double z[3]; /* r'M^-1 r (= r'd), the rest unused */
    if (st == CSM_OK)
        st = dots3(nt, z, r, nt->d, r, nt->d, r, nt->d, 0);
    if (st != CSM_OK)
        return st;
    double rz = z[0], ss = 0, Q = 0, shs = 0; /* shs: s'Hs */
    const double cgtol = fmin(EPS_CG, sqrt(sqrt(rz)));
    /* every step is exact in exact arithmetic after n; rounding can stretch it */
    const long max_iters = n > 5 ? (long)n : 5;
    while (st == CSM_OK && out->iters < max_iters) {
        out->iters++;
        nt->hv++;
        st = csm_objective_hv(nt->s->f, nt->d, nt->hd);
        double a[3]; /* d'Hd, s'Md, d'Md */
        if (st == CSM_OK)
            st = dots3(nt, a, nt->d, nt->hd, nt->st, nt->d, nt->d, nt->d, 6);
        if (st != CSM_OK)
            break;
        const double dhd = a[0], sd = a[1], dd = a[2];
        if (!(dd > 0))
            break; /* r = 0: s solves H s = -g */
        const double alpha = rz / dhd;
        double b[3]; /* r'M^-1 r, s'r, s'Hd after the step */
        /* no positive curvature along d (rounding; or l2 = 0 along a
         * direction the data do not see), or a step past the boundary:
         * to the boundary along d */
        if (!(dhd > 0) || ss + 2 * alpha * sd + alpha * alpha * dd >= delta * delta) {
            const double tau = to_boundary(ss, sd, dd, delta);
            st = csm_vec_cg_step(v, SLOT_A, nt->st, r, nt->d, nt->hd, nt->m, tau);
            if (st == CSM_OK)
                st = csm_vec_read(v, b, SLOT_A, 3);
            shs = shs_after(shs, tau, dhd, b);
            out->boundary = 1;
            break;
        }
        st = csm_vec_cg_step(v, SLOT_A, nt->st, r, nt->d, nt->hd, nt->m, alpha);
        if (st == CSM_OK)
            st = csm_vec_read(v, b, SLOT_A, 3);
        if (st != CSM_OK)
            break;
        ss += 2 * alpha * sd + alpha * alpha * dd;
        shs = shs_after(shs, alpha, dhd, b);
        /* Q(s) = g's + s'Hs/2 = -s'r - s'Hs/2, as r = -g - Hs */
        const double newQ = -b[1] - 0.5 * shs, dQ = newQ - Q;
        if (!(newQ <= 0 && dQ <= 0))
            break; /* rounding: Q no longer decreases */
        if ((double)out->iters * dQ >= cgtol * newQ)
            break;
        Q = newQ;
        const double beta = b[0] / rz;
        rz = b[0];
        st = csm_vec_precond_dir(v, nt->d, r, nt->m, beta);
    }
    double c[3]; /* s'r, s'Ms, s'r again (unused) */
    if (st == CSM_OK)
        st = dots3(nt, c, nt->st, r, nt->st, nt->st, nt->st, r, 2);
    if (st == CSM_OK) {
        out->gs = -c[0] - shs;
        out->sr = c[0];
        out->snorm = sqrt(c[1]);
    }
    return st;
}

/* The new radius after a trial of step length snorm with decrease actred
 * against the model's prered (Hsia, Zhu & Lin 2017, as liblinear). The
 * estimate alpha snorm is where the quadratic through J(x), g's and
 * J(x + s) is least along s. */
static double new_radius(double delta, double snorm, double f, double fnew, double gs,
                         double actred, double prered, int boundary)
{
    const double curv = fnew - f - gs;
    const double alpha = curv <= 0 ? SIGMA3 : fmax(SIGMA1, -0.5 * gs / curv);
    if (actred < ETA0 * prered)
        return fmin(alpha * snorm, SIGMA2 * delta);
    if (actred < ETA1 * prered)
        return fmax(SIGMA1 * delta, fmin(alpha * snorm, SIGMA2 * delta));
    if (actred < ETA2 * prered)
        return fmax(SIGMA1 * delta, fmin(alpha * snorm, SIGMA3 * delta));
    if (boundary)
        return SIGMA3 * delta;
    return fmax(delta, fmin(alpha * snorm, SIGMA3 * delta));
}

csm_status csm_solve_newton(csm_solve *s)
{
    csm_model *m = s->model;
    const csm_train_options *o = s->opt;
    newton nt;
    csm_status st = newton_init(&nt, s);
    if (st == CSM_OK)
        st = csm_model_state_prepare(m, CSM_NEWTON);
    double f = 0, acc = 0, gmax = 0, gg = 0;
    if (st == CSM_OK)
        st = evaluate(&nt, nt.g, &f, &acc, &gmax);
    if (st == CSM_OK) st = csm_vec_dot(&nt.v, SLOT_A, nt.g, nt.g);
    if (st == CSM_OK) st = csm_vec_read(&nt.v, &gg, SLOT_A, 1);
    if (st == CSM_OK && !isfinite(f))
        st = csm_fail(m->ctx, CSM_ERR_NONFINITE, "the objective is %g at the starting weights",
                      f);
    s->res->stop = CSM_STOP_MAX_ITER;
    if (st == CSM_OK && gmax <= o->tol)
        s->res->stop = CSM_STOP_TOL;
    /* liblinear's first radius ||g||_M, cut to the first step */
    double gm[3] = {0, 0, 0};
    if (st == CSM_OK && s->res->stop == CSM_STOP_MAX_ITER) {
        st = precondition(&nt);
        if (st == CSM_OK)
            st = dots3(&nt, gm, nt.g, nt.g, nt.g, nt.g, nt.g, nt.g, 1);
    }
    double delta = sqrt(gm[0]);
    int first = 1, rejects = 0;
    long cg_total = 0;
    double t0 = csm_now_seconds();
    long evals0 = s->res->n_evals;
    for (int it = 1; st == CSM_OK && s->res->stop == CSM_STOP_MAX_ITER && it <= o->max_iter;) {
        /* after a rejected trial: g at the weights taken back (CG left r
         * in its place) */
        if (nt.g_is_r) {
            st = csm_objective_fun_grad(s->f, nt.g);
            s->res->n_evals++;
            nt.g_is_r = 0;
            if (st != CSM_OK)
                break;
        }
        cg_out cg;
        st = conjugate_gradient(&nt, delta, &cg);
        if (st != CSM_OK)
            break;
        cg_total += cg.iters;
        const double prered = -0.5 * (cg.gs - cg.sr);
        /* the trial point, in place */
        double fnew = 0, accnew = 0, gmaxnew = 0, ggnew = 0;
        st = csm_vec_add_params(&nt.v, nt.st, 1.0);
        if (st == CSM_OK) st = evaluate(&nt, nt.d, &fnew, &accnew, &gmaxnew);
        if (st != CSM_OK)
            break;
        st = csm_vec_dot(&nt.v, SLOT_A, nt.d, nt.d);
        if (st == CSM_OK) st = csm_vec_read(&nt.v, &ggnew, SLOT_A, 1);
        if (st != CSM_OK)
            break;
        const double actred = f - fnew;
        if (first)
            delta = fmin(delta, cg.snorm);
        first = 0;
        /* Near the optimum the decrease a Newton step predicts can fall
         * below J's rounding noise, where the actual decrease says nothing:
         * there the step is judged by the gradient's norm instead */
        const double noise = nt.eps_f * fabs(f);
        const int at_floor = fabs(actred) <= noise && prered <= noise;
        const int ok = isfinite(fnew) && (actred > ETA0 * prered || (at_floor && ggnew < gg));
        delta = isfinite(fnew)
                    ? new_radius(delta, cg.snorm, f, fnew, cg.gs, actred, prered, cg.boundary)
                    : SIGMA1 * fmin(delta, cg.snorm);
        csm_log(m->ctx, CSM_LOG_DEBUG,
                "newton %d: J %.12g -> %.12g (predicted %.3g) %s, %d CG step%s%s, |s| %.3g, "
                "radius %.3g",
                it, f, fnew, -prered, ok ? "accepted" : "rejected", cg.iters,
                cg.iters == 1 ? "" : "s", cg.boundary ? " to the boundary" : "", cg.snorm,
                delta);
        if (ok) {
            cl_mem t = nt.g;
            nt.g = nt.d;
            nt.d = t;
            nt.g_is_r = 0;
            f = fnew;
            acc = accnew;
            gmax = gmaxnew;
            gg = ggnew;
            rejects = 0;
            m->state.iter++;
            s->res->n_iter = it;
            if (s->report(s, it, f, acc, gmax, (int)(s->res->n_evals - evals0),
                          csm_now_seconds() - t0)) {
                s->res->stop = CSM_STOP_CALLBACK;
                break;
            }
            if (gmax <= o->tol) {
                s->res->stop = CSM_STOP_TOL;
                break;
            }
            st = precondition(&nt); /* and the products' new point */
            t0 = csm_now_seconds();
            evals0 = s->res->n_evals;
            it++;
        } else {
            st = csm_vec_add_params(&nt.v, nt.st, -1.0); /* back to x */
            rejects++;
        }
        /* nothing left that J or the gradient at this precision can tell
         * apart */
        if (st == CSM_OK && ((at_floor && !ok) || !(prered > 0) || rejects >= MAX_REJECTS)) {
            s->res->stop = CSM_STOP_PRECISION;
            break;
        }
    }
    if (st == CSM_OK)
        csm_log(m->ctx, CSM_LOG_INFO,
                "newton: %d iteration%s, %ld CG step%s (Hessian-vector products), %ld "
                "evaluation%s",
                s->res->n_iter, s->res->n_iter == 1 ? "" : "s", cg_total, cg_total == 1 ? "" : "s",
                s->res->n_evals, s->res->n_evals == 1 ? "" : "s");
    newton_free(&nt);
    return st;
}
