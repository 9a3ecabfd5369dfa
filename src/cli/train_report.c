/* What `clsoftmax train` tells about a finished run: the summary line, the
 * warning when it ended short of --tol (scikit-learn's ConvergenceWarning:
 * a model that did not reach the optimum is still saved, so the exit status
 * stays 0 and the warning is the only sign), and the model metadata. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train.h"

const char *train_unit(csm_solver solver)
{
    return solver == CSM_LBFGS ? "iteration" : "epoch";
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
    if (o->solver == CSM_LBFGS)
        snprintf(buf, len, "max|grad| %.1e %s tol %g", r->grad_max_abs,
                 r->grad_max_abs <= o->tol ? "<=" : ">", o->tol);
    else if (r->stop == CSM_STOP_TOL)
        snprintf(buf, len, "epoch loss improved by <= tol %g for %d epochs, max|grad| %.1e",
                 o->tol, o->n_iter_no_change, r->grad_max_abs);
    else
        snprintf(buf, len, "max|grad| %.1e", r->grad_max_abs);
}

static void warn_short_of_tol(const train_cfg *c, const csm_train_result *r, size_t n_train)
{
    const csm_train_options *o = &c->opt;
    const char *name = csm_solver_name(o->solver);
    char grad[96];
    if (o->solver == CSM_LBFGS)
        snprintf(grad, sizeof grad, "max|grad| %.1e", r->grad_max_abs);
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

void train_report(cli_progress *p, const train_cfg *c, const train_outcome *out)
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
    cli_progress_note(p,
                      "%s %s %d %s%s%s (%ld %s%s) in %.2fs: objective %.12g (J incl. L2, "
                      "lambda %.3g), %s, accuracy %.4f%s",
                      csm_solver_name(o->solver), how, r->n_iter, unit, plural(r->n_iter), total,
                      r->n_evals, o->solver == CSM_LBFGS ? "evaluation" : "step", plural(r->n_evals),
                      r->seconds,
                      r->objective, r->l2, crit, out->accuracy, val);
    warn_short_of_tol(c, r, out->n_train);
}

void train_report_interrupted(const train_cfg *c, const train_outcome *out)
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

static int set_meta(csm_model *m, const char *key, const char *value)
{
    csm_status st = csm_model_set_metadata(m, key, value);
    return st == CSM_OK ? 0 : cli_lib_error(csm_model_context(m), st);
}

/* The shortest %g form that reads back as exactly v. */
static int set_meta_f(csm_model *m, const char *key, double v)
{
    char buf[64];
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return set_meta(m, key, buf);
}

static int set_meta_l(csm_model *m, const char *key, long long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    return set_meta(m, key, buf);
}

/* "--weight-column 3 --weights w.txt": the per-sample weights as given. */
static void sample_weights_text(char *buf, size_t len, const train_cfg *c)
{
    size_t used = 0;
    buf[0] = '\0';
    if (c->ro.weight_column >= 0)
        used = (size_t)snprintf(buf, len, "--weight-column %d", c->ro.weight_column);
    if (c->weights_path && used < len)
        snprintf(buf + used, len - used, "%s--weights %s", used ? " " : "", c->weights_path);
}

int train_write_metadata(csm_model *m, const train_cfg *c, const train_outcome *out,
                         const double *mean, const double *scale, size_t k)
{
    const csm_train_options *o = &c->opt;
    const csm_train_result *r = &out->res;
    int first_order = o->solver != CSM_LBFGS;
    int bad = 0;
    /* A resumed model brings the keys of its own run: the keys of earlier
     * versions, and options that do not apply to this run, must go. */
    static const char *const stale[] = {"epochs", "epochs_run", "optimizer", "C", "l2",
                                        "lr", "batch_size", "momentum", "n_iter_no_change",
                                        "lbfgs_memory", "class_weight", "sample_weights"};
    for (size_t i = 0; i < sizeof stale / sizeof *stale; i++)
        bad |= set_meta(m, stale[i], NULL);

    bad |= set_meta(m, "solver", csm_solver_name(o->solver));
    bad |= set_meta_l(m, "max_iter", o->max_iter);
    bad |= set_meta_f(m, "tol", o->tol);
    if (c->use_l2)
        bad |= set_meta_f(m, "l2", c->l2);
    else
        bad |= set_meta_f(m, "C", o->C);
    bad |= set_meta_f(m, "lambda", r->l2);
    bad |= set_meta(m, "fit_intercept", o->fit_intercept ? "true" : "false");
    if (first_order) {
        bad |= set_meta_l(m, "n_iter_no_change", o->n_iter_no_change);
        bad |= set_meta_f(m, "lr", o->learning_rate > 0 ? o->learning_rate
                                                        : csm_default_learning_rate(o->solver));
        bad |= set_meta_l(m, "batch_size", (long long)o->batch_size);
        if (o->solver == CSM_MOMENTUM)
            bad |= set_meta_f(m, "momentum", o->momentum);
    } else {
        bad |= set_meta_l(m, "lbfgs_memory", o->lbfgs_memory);
    }
    if (c->class_weight)
        bad |= set_meta(m, "class_weight", c->class_weight);
    if (c->ro.weight_column >= 0 || c->weights_path) {
        char sw[1100];
        sample_weights_text(sw, sizeof sw, c);
        bad |= set_meta(m, "sample_weights", sw);
    }
    bad |= set_meta_l(m, "n_iter", r->n_iter);
    bad |= set_meta_l(m, "total_iter", r->total_iter);
    bad |= set_meta(m, "converged", r->converged ? "true" : "false");
    if (out->interrupted) {
        char why[64];
        snprintf(why, sizeof why, "interrupted by %s", cli_signal_name(out->interrupted));
        bad |= set_meta(m, "stop", why);
        bad |= set_meta(m, "interrupted", cli_signal_name(out->interrupted));
    } else {
        bad |= set_meta(m, "stop", csm_stop_string(r->stop));
        bad |= set_meta(m, "interrupted", NULL);
    }
    bad |= set_meta_f(m, "objective", r->objective);
    bad |= set_meta_f(m, "grad_max_abs", r->grad_max_abs);

    if (c->resume)
        bad |= set_meta(m, "resumed_from", c->resume);
    else
        bad |= set_meta(m, "init", train_inits[c->init]);
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->seed);
    bad |= set_meta(m, "seed", seed);
    bad |= set_meta(m, "shuffle", o->shuffle ? "true" : "false");
    bad |= set_meta(m, "standardize", c->standardize ? "true" : "false");
    bad |= set_meta(m, "precision", c->use_double ? "float64" : "float32");
    if (c->split > 0)
        bad |= set_meta_f(m, "validation_split", c->split);
    else
        bad |= set_meta(m, "validation_split", NULL);
    if (c->patience > 0) {
        bad |= set_meta_l(m, "early_stopping", c->patience);
        bad |= set_meta_l(m, "best_epoch", out->best_epoch);
    } else {
        bad |= set_meta(m, "early_stopping", NULL);
        bad |= set_meta(m, "best_epoch", NULL);
    }
    if (c->standardize) {
        char *ms = cli_vector_to_json(mean, k), *ss = cli_vector_to_json(scale, k);
        if (!ms || !ss) {
            free(ms);
            free(ss);
            cli_error("out of memory");
            return CLI_FAIL;
        }
        bad |= set_meta(m, "standardize_center", c->center ? "true" : "false");
        bad |= set_meta(m, "standardize_mean", ms);
        bad |= set_meta(m, "standardize_scale", ss);
        free(ms);
        free(ss);
    } else {
        bad |= set_meta(m, "standardize_center", NULL);
        bad |= set_meta(m, "standardize_mean", NULL);
        bad |= set_meta(m, "standardize_scale", NULL);
    }
    bad |= cli_format_to_metadata(m, &c->ro, c->read_format) != 0;
    return bad ? CLI_FAIL : 0;
}
