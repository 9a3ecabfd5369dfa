/* The L-BFGS history and its direction, shared by the two quasi-Newton
 * solvers (solver_lbfgs.c, which holds this code, and solver_owlqn.c):
 * the device vectors of the current and trial point, the m most recent
 * pairs s = theta_new - theta_old, y = g_new - g_old of the smooth
 * objective's gradient as the rows of S and Y, and d = -H v for any
 * vector v from the compact representation (see solver_lbfgs.c). */
#ifndef CSM_LBFGS_H
#define CSM_LBFGS_H

#include "solver.h"

typedef struct csm_lbfgs {
    csm_solve *s;
    csm_vecops v;
    int mem;          /* m */
    int count, head;  /* pairs held; row of the next pair */
    int *order;       /* (m) rows of the pairs held, oldest first */
    cl_mem x, g;      /* the accepted point and its gradient */
    cl_mem xn, gn;    /* the trial point (as evaluated) and its gradient */
    cl_mem d;         /* direction */
    cl_mem sn;        /* a new pair's s, before it is known to be kept */
    cl_mem S, Y;      /* (m, n) history, zeroed at the start */
    cl_mem mpart;     /* (2m, CSM_VEC_GROUPS) multi-dot partials */
    cl_mem coef;      /* (2m) combination coefficients */
    double *sy, *yy;  /* (m, m) by row: s_i.y_j, y_i.y_j */
    double *work;     /* (8m) host scratch: coefficients, a, b, t, top, products */
    double gamma;     /* s'y / y'y of the newest pair */
    double eps_f;     /* relative noise of J at the device precision */
    int stalled;      /* iterations in a row without a decrease of J */
} csm_lbfgs;

/* Device scalar slots: the 2m products of a multi-dot, then these (the
 * last two for OWL-QN). */
#define SLOT_DOTS 0
#define SLOT_GD(lb) (2 * (size_t)(lb)->mem)
#define SLOT_GMAX(lb) (2 * (size_t)(lb)->mem + 1)
#define SLOT_SY(lb) (2 * (size_t)(lb)->mem + 2)
#define SLOT_YY(lb) (2 * (size_t)(lb)->mem + 3)
#define SLOT_PGMAX(lb) (2 * (size_t)(lb)->mem + 4)
#define SLOT_PGS(lb) (2 * (size_t)(lb)->mem + 5)
#define N_SLOTS(lb) (2 * (size_t)(lb)->mem + 6)

/* The vectors, `extra` more of them (OWL-QN's pseudo-gradient), and an
 * empty history of opt->lbfgs_memory pairs. */
csm_status csm_lbfgs_init(csm_lbfgs *lb, csm_solve *s, size_t extra);
void csm_lbfgs_free(csm_lbfgs *lb);
/* lb->d = -H g over the pairs held (-g without pairs). */
csm_status csm_lbfgs_direction(csm_lbfgs *lb, cl_mem g);
/* The model holds the accepted point, gn its smooth gradient: keeps the
 * pair (s, y) when its curvature is positive, makes (xn, gn) current.
 * Uses d as scratch. */
csm_status csm_lbfgs_accept(csm_lbfgs *lb);
/* After the accepted step of iteration `it` (1-based in this call) from
 * J f_prev to f, with max |gradient| (pseudo-gradient) gmax: counts it,
 * reports it (evaluations since evals0, seconds since t0), and returns 1
 * with res->stop set when the run ends there (callback, tol, or J stalled
 * at the precision for 10 iterations), else 0. */
int csm_lbfgs_iteration_done(csm_lbfgs *lb, int it, double f_prev, double f, double acc,
                             double gmax, long evals0, double t0);
/* Resume: takes over the history the model carries when opt->resume and
 * its memory is this run's; drops it otherwise. */
csm_status csm_lbfgs_resume(csm_lbfgs *lb);
/* The end of a run: the model keeps the history unless it converged (or
 * failed). */
void csm_lbfgs_keep(csm_lbfgs *lb, csm_status st);

#endif
