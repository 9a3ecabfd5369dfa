/* train's fourth stage, save: --standardize folded into the weights, the
 * run in the model's metadata (what show prints, what predict and eval
 * read the data with, what --resume continues), and MODEL replaced whole. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train.h"

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

int train_meta_double(csm_model *m, const char *key, double v)
{
    return set_meta_f(m, key, v);
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

/* The training options and the outcome, dropping keys of an earlier run
 * (--resume) that no longer apply. */
static int write_metadata(csm_model *m, const train_cfg *c, const train_outcome *out,
                          const double *mean, const double *scale, size_t k)
{
    const csm_train_options *o = &c->opt;
    const csm_train_result *r = &out->res;
    int first_order = !train_full_batch(o->solver);
    int bad = 0;
    /* A resumed model brings the keys of its own run: the keys of earlier
     * versions, and options that do not apply to this run, must go. */
    static const char *const stale[] = {"epochs", "epochs_run", "optimizer", "C", "l2",
                                        "lr", "batch_size", "momentum", "n_iter_no_change",
                                        "lbfgs_memory", "class_weight", "sample_weights",
                                        "l1_ratio", "zero_weights"};
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
    if (o->l1_ratio > 0) {
        bad |= set_meta_f(m, "l1_ratio", o->l1_ratio);
        bad |= set_meta_l(m, "zero_weights", (long long)out->zero_weights);
    }
    bad |= set_meta(m, "fit_intercept", o->fit_intercept ? "true" : "false");
    if (first_order) {
        bad |= set_meta_l(m, "n_iter_no_change", o->n_iter_no_change);
        bad |= set_meta_f(m, "lr", o->learning_rate > 0 ? o->learning_rate
                                                        : csm_default_learning_rate(o->solver));
        bad |= set_meta_l(m, "batch_size", (long long)o->batch_size);
        if (o->solver == CSM_MOMENTUM)
            bad |= set_meta_f(m, "momentum", o->momentum);
    } else if (o->solver == CSM_LBFGS) {
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

int train_save(const train_cfg *c, const train_sets *s, const train_outcome *o)
{
    if (c->standardize && cli_standardize_model(s->model, s->mean, s->scale, 1))
        return CLI_FAIL;
    if (write_metadata(s->model, c, o, s->mean, s->scale, csm_model_n_features(s->model)))
        return CLI_FAIL;
    csm_status st = csm_model_save(s->model, c->model_path);
    return st == CSM_OK ? 0 : cli_lib_error(csm_model_context(s->model), st);
}
