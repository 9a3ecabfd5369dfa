/* train's last stage, report: the summary line, the warning when the run
 * ended short of --tol (scikit-learn's ConvergenceWarning: a model that did
 * not reach the optimum is still saved, so the exit status stays 0 and the
 * warning is the only sign), the --plot picture, and the exit status. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train.h"

const char *train_unit(csm_solver solver)
{
    return train_full_batch(solver) ? "iteration" : "epoch";
}

static const char *plural(long n)
{
    return n == 1 ? "" : "s";
}

/* "max|grad| 8.2e-05 <= tol 0.0001" for L-BFGS, whose criterion it is;
 * the first-order solvers stop on the epoch loss instead. */
static void criterion(char *buf, size_t len, const train_cfg *c, const csm_train_result *r)
{
    const csm_train_options *o = &c->opt;
    if (train_full_batch(o->solver))
        snprintf(buf, len, "max|%s| %.1e %s tol %g", o->l1_ratio > 0 ? "pseudo-grad" : "grad",
                 r->grad_max_abs, r->grad_max_abs <= o->tol ? "<=" : ">", o->tol);
    else if (r->stop == CSM_STOP_TOL)
        snprintf(buf, len, "epoch loss improved by <= tol %g for %d epochs, max|grad| %.1e",
                 o->tol, o->n_iter_no_change, r->grad_max_abs);
    else
        snprintf(buf, len, "max|grad| %.1e", r->grad_max_abs);
}

static void warn_short_of_tol(const train_cfg *c, const csm_train_result *r, size_t n_train)
{
    const csm_train_options *o = &c->opt;
    const char *name = o->l1_ratio > 0 ? "owlqn" : csm_solver_name(o->solver);
    char grad[96];
    if (train_full_batch(o->solver))
        snprintf(grad, sizeof grad, "max|%s| %.1e", o->l1_ratio > 0 ? "pseudo-grad" : "grad",
                 r->grad_max_abs);
    else
        snprintf(grad, sizeof grad,
                 "the epoch loss still improved by more than tol within the last %d epochs",
                 o->n_iter_no_change);
    /* --tol 0 asks to go as far as --max-iter or the arithmetic allows:
     * whichever ends it, nothing fell short of what was asked */
    if (o->tol == 0)
        return;
    switch (r->stop) {
    case CSM_STOP_MAX_ITER:
        cli_warning("%s stopped at --max-iter %d before reaching --tol %g (%s); %s",
                    name, o->max_iter, o->tol, grad,
                    c->standardize
                        ? "increase --max-iter"
                        : "increase --max-iter or standardize the features (--standardize)");
        break;
    case CSM_STOP_LINE_SEARCH:
        cli_warning("%s stopped after %d %s%s before reaching --tol %g: %s (%s); the saved "
                    "weights are the best point found; %s",
                    name, r->n_iter, train_unit(o->solver), plural(r->n_iter), o->tol,
                    csm_stop_string(r->stop), grad,
                    c->standardize
                        ? "use a larger --tol"
                        : "standardize the features (--standardize) or use a larger --tol");
        break;
    case CSM_STOP_PRECISION:
        cli_warning("%s stopped after %d %s%s before reaching --tol %g: %s (%s); %s",
                    name, r->n_iter, train_unit(o->solver), plural(r->n_iter), o->tol,
                    csm_stop_string(r->stop), grad,
                    c->use_double ? "use a larger --tol" : "use --double or a larger --tol");
        break;
    case CSM_STOP_TOL:
        /* The mean gradient shrinks like 1/n: on a large, sparse set it can
         * meet --tol at the starting weights, and nothing is learnt. */
        if (r->n_iter > 0 || r->total_iter > 0)
            return;
        cli_warning("%s made no step: the starting weights already meet --tol %g (%s); "
                    "the mean gradient of J is small on large data sets: lower --tol (e.g. %.1e, "
                    "--tol divided by the %zu samples)",
                    name, o->tol, grad, o->tol / (double)n_train, n_train);
        break;
    default:
        return;
    }
}

/* The one-line summary, and the warning of a run short of --tol. */
static void summary(cli_progress *p, const train_cfg *c, const train_outcome *out)
{
    const csm_train_result *r = &out->res;
    const csm_train_options *o = &c->opt;
    const char *unit = train_unit(o->solver);
    char how[128], total[64] = "", crit[160], val[96] = "";
    switch (r->stop) {
    case CSM_STOP_TOL:
        snprintf(how, sizeof how, "converged after");
        break;
    case CSM_STOP_MAX_ITER:
        snprintf(how, sizeof how, o->tol > 0 ? "stopped at --max-iter after" : "ran");
        break;
    case CSM_STOP_CALLBACK:
        if (out->interrupted)
            snprintf(how, sizeof how, "interrupted by %s after", cli_signal_name(out->interrupted));
        else
            snprintf(how, sizeof how, "stopped early after");
        break;
    default:
        snprintf(how, sizeof how, "stopped (%s) after", csm_stop_string(r->stop));
        break;
    }
    if (r->total_iter != r->n_iter)
        snprintf(total, sizeof total, ", %ld in total", r->total_iter);
    criterion(crit, sizeof crit, c, r);
    if (out->has_val)
        snprintf(val, sizeof val, ", val_loss %.6f, val_accuracy %.4f", out->val_loss,
                 out->val_acc);
    char pen[160];
    if (o->l1_ratio > 0)
        snprintf(pen, sizeof pen, "J incl. L1 and L2, l1_ratio %g, lambda %.3g; %zu of %zu "
                 "weights zero", o->l1_ratio, r->l2, out->zero_weights, out->n_weights);
    else
        snprintf(pen, sizeof pen, "J incl. L2, lambda %.3g", r->l2);
    cli_progress_note(p,
                      "%s %s %d %s%s%s (%ld %s%s) in %.2fs: objective %.12g (%s), %s, accuracy "
                      "%.4f%s",
                      o->l1_ratio > 0 ? "owlqn" : csm_solver_name(o->solver), how, r->n_iter,
                      unit, plural(r->n_iter), total, r->n_evals,
                      train_full_batch(o->solver) ? "evaluation" : "step", plural(r->n_evals),
                      r->seconds, r->objective, pen, crit, out->accuracy, val);
    warn_short_of_tol(c, r, out->n_train);
}

/* After an interrupted run was saved: says so on stderr, even with --quiet,
 * with how to continue it. */
static void report_interrupted(const train_cfg *c, const train_outcome *out)
{
    const csm_train_result *r = &out->res;
    fflush(stdout);
    fprintf(stderr,
            "clsoftmax: interrupted by %s: saved the model of %s %ld (not converged) to %s; "
            "continue it with --resume %s\n",
            cli_signal_name(out->interrupted), train_unit(c->opt.solver),
            out->best_epoch ? (long)out->best_epoch : r->total_iter, c->model_path,
            c->model_path);
    fflush(stderr);
}

/* --plot: the history drawn, titled with the data and the run's end. */
static int write_plot(const train_cfg *c, cli_progress *p, const plot_history *h,
                      const train_outcome *o)
{
    char title[1200], sub[1400];
    if (!c->plot)
        return 0;
    const char *unit = train_unit(c->opt.solver);
    snprintf(title, sizeof title, "clsoftmax train %s", c->data_path);
    snprintf(sub, sizeof sub, "%s, %d %s%s, %s; validation: %s", csm_solver_name(c->opt.solver),
             o->res.n_iter, unit, o->res.n_iter == 1 ? "" : "s",
             o->res.converged ? "converged" : csm_stop_string(o->res.stop),
             c->validation ? c->validation : c->split > 0 ? "split of the data" : "none");
    if (plot_history_write(h, title, sub, unit, o->best_epoch))
        return CLI_FAIL;
    cli_progress_note(p, "wrote %s (%zu %ss drawn)", c->plot, h->n, unit);
    return 0;
}

int train_report(cli_progress *p, const train_cfg *c, const train_sets *s, const train_fitted *f)
{
    const train_outcome *o = &f->outcome;
    summary(p, c, o);
    cli_progress_note(p, "wrote %s (%zu classes, %zu features, %s)", c->model_path,
                      csm_model_n_classes(s->model), csm_model_n_features(s->model),
                      c->use_double ? "float64" : "float32");
    if (write_plot(c, p, &f->plot, o))
        return CLI_FAIL;
    if (o->interrupted)
        report_interrupted(c, o);
    /* interrupted, saved: the exit status of the signal, as without us */
    return cli_signal_caught() ? 128 + cli_signal_caught()
           : o->interrupted    ? 128 + o->interrupted
                               : CLI_OK;
}
