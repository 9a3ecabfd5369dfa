/* train's third stage, train: the notes on what is trained, csm_train() with the
 * epoch callback (progress, validation, --history, --plot, --early-stopping,
 * Ctrl-C), and the outcome at the weights that are saved. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mpi.h"
#include "train.h"

/* The epoch callback's state, for the length of csm_train(). */
typedef struct epoch_state {
    cli_progress *progress;
    cli_history history;
    plot_history *plot;
    const csm_dataset *val;
    long patience;
    int bad_epochs;
    double best_loss;
    int best_epoch;
    double *best_w, *best_b; /* --early-stopping: the best epoch's weights */
    double *gw, *gb;         /* ... and scratch for the gradient there */
    csm_status err;
    int write_failed;
    int stopped_early;
    int last_epoch;
} epoch_state;

static int on_epoch(csm_model *model, const csm_epoch_info *info, void *user)
{
    epoch_state *s = user;
    int has_val = s->val != NULL;
    double vl = 0, va = 0;
    if (has_val) {
        csm_status st = csm_evaluate(model, s->val, &vl, &va);
        if (st != CSM_OK) {
            s->err = st;
            return 1;
        }
    }
    s->last_epoch = info->epoch;
    cli_progress_epoch(s->progress, info, has_val, vl, va);
    if (cli_history_row(&s->history, info, has_val, vl, va) != 0 ||
        plot_history_add(s->plot, info, has_val, vl, va) != 0) {
        s->write_failed = 1;
        return 1;
    }
    if (s->patience > 0) {
        if (s->best_epoch == 0 || vl < s->best_loss) {
            s->best_loss = vl;
            s->best_epoch = info->epoch;
            s->bad_epochs = 0;
            csm_status st = csm_model_get_params(model, s->best_w, s->best_b);
            if (st != CSM_OK) {
                s->err = st;
                return 1;
            }
        } else if (++s->bad_epochs >= s->patience) {
            s->stopped_early = 1;
            return 1;
        }
    }
    /* Ctrl-C: stop here, at the end of the iteration, and save (signals.c) */
    return cli_signal_caught() != 0;
}

/* --early-stopping: the weights of the best epoch are kept, those of the
 * last one and a gradient at the best, C x k doubles each. */
static int alloc_early_stopping(epoch_state *e, size_t C, size_t k)
{
    if (!(k > 0 && C > SIZE_MAX / sizeof(double) / k)) {
        e->gw = malloc(C * k * sizeof *e->gw);
        e->gb = malloc(C * sizeof *e->gb);
        e->best_w = malloc(C * k * sizeof *e->best_w);
        e->best_b = malloc(C * sizeof *e->best_b);
    }
    if (!e->gw || !e->gb || !e->best_w || !e->best_b) {
        cli_error("out of memory");
        return CLI_FAIL;
    }
    return 0;
}

/* What is about to be trained, as notes (nothing with --quiet). */
static void note_start(const train_cfg *c, const train_input *in, const train_sets *s,
                       cli_progress *p)
{
    char list[512];
    cli_classes_list(list, sizeof list, &in->classes);
    const char *name = csm_display_name(c->data_path);
    size_t len = strlen(in->table_note);
    if (len > 0) /* the note adds the line break */
        cli_progress_note(p, "%.*s", (int)(len - 1), in->table_note);
    cli_progress_note(p, "%s: %zu samples, %zu features, %zu classes (%s)", name, in->n, in->k,
                      in->classes.C, list);
    cli_progress_note(p, "%s: %s", name, in->storage);
    if (s->n_val)
        cli_progress_note(p, "training on %zu samples, validating on %zu (%s)", s->n_train,
                          s->n_val, c->validation ? c->validation : "split");
    cli_progress_note(p, "device: %s", csm_context_device(in->ctx)->device_name);
    if (c->solver_defaulted)
        cli_progress_note(p, c->solver_defaulted == 1 ? TRAIN_DEFAULT_SOLVER_NOTE
                                                      : TRAIN_DEFAULT_SOLVER_NOTE_TIGHT);
    if (c->opt.l1_ratio > 0)
        cli_progress_note(p, "solver: OWL-QN (lbfgs with the L1 term of --l1-ratio %g)",
                          c->opt.l1_ratio);
    if (cli_mpi_size() > 1)
        cli_progress_note(p, "MPI: %d ranks, %zu to %zu rows each (rank 0 reports; every rank "
                          "its own device)", cli_mpi_size(),
                          s->n_train / (size_t)cli_mpi_size(),
                          (s->n_train + (size_t)cli_mpi_size() - 1) / (size_t)cli_mpi_size());
}

/* --early-stopping: why the run stopped, and the epoch kept. */
static void note_best_epoch(const train_cfg *c, const epoch_state *e, cli_progress *p)
{
    if (c->patience <= 0 || e->best_epoch <= 0)
        return;
    const char *unit = train_unit(c->opt.solver);
    if (e->stopped_early)
        cli_progress_note(p, "early stopping after %s %d: no val_loss improvement for %ld %ss",
                          unit, e->last_epoch, c->patience, unit);
    cli_progress_note(p, "keeping the best %s %d (val_loss %.6f)", unit, e->best_epoch,
                      e->best_loss);
}

/* The saved model's numbers: after --early-stopping the best epoch's
 * weights replace the last ones, so J and its gradient are recomputed
 * there (gw, gb: scratch of C x k and C). */
static csm_status finish_outcome(csm_model *model, const csm_dataset *train, const csm_dataset *val,
                                 const epoch_state *s, size_t C, size_t k, double penalty_C,
                                 double *gw, double *gb, train_outcome *out)
{
    csm_status st;
    if (s->patience > 0 && s->best_epoch > 0) {
        out->best_epoch = s->best_epoch;
        if ((st = csm_model_set_params(model, s->best_w, s->best_b)) != CSM_OK ||
            (st = csm_gradient(model, train, penalty_C, &out->res.objective, gw, gb)) != CSM_OK)
            return st;
        double g = 0;
        for (size_t i = 0; i < C * k; i++)
            g = fmax(g, fabs(gw[i]));
        for (size_t c = 0; c < C; c++)
            g = fmax(g, fabs(gb[c]));
        out->res.grad_max_abs = g;
    }
    if ((st = csm_evaluate(model, train, NULL, &out->accuracy)) != CSM_OK)
        return st;
    double *w = malloc((C * k + C) * sizeof *w);
    if (!w)
        return CSM_ERR_OUT_OF_MEMORY;
    st = csm_model_get_params(model, w, w + C * k);
    out->zero_weights = 0;
    out->n_weights = C * k;
    for (size_t i = 0; st == CSM_OK && i < C * k; i++)
        out->zero_weights += w[i] == 0;
    free(w);
    if (st != CSM_OK)
        return st;
    out->has_val = val != NULL;
    if (val && (st = csm_evaluate(model, val, &out->val_loss, &out->val_acc)) != CSM_OK)
        return st;
    return CSM_OK;
}

static int fit(const train_cfg *c, const train_input *in, const train_sets *s, cli_progress *p,
               train_fitted *out, epoch_state *e)
{
    train_outcome *o = &out->outcome;
    csm_train_options opt = c->opt;
    opt.callback = on_epoch;
    opt.user = e;
    e->progress = p;
    e->plot = &out->plot;
    e->val = s->val;
    e->patience = c->patience;
    if (c->patience > 0 && alloc_early_stopping(e, in->classes.C, in->k))
        return CLI_FAIL;
    if ((c->history && cli_history_open(&e->history, c->history)) ||
        (c->plot && plot_history_open(&out->plot, c->plot)))
        return CLI_FAIL;
    note_start(c, in, s, p);
    p->start = cli_now(); /* for the ETA: training starts now */
    o->res.struct_size = sizeof o->res;
    o->n_train = s->n_train;
    if (train_penalty(c, s->train, &opt))
        return CLI_FAIL;
    cli_signals_catch();
    csm_status st = csm_train(s->model, s->train, &opt, &o->res);
    cli_progress_done(p);
    if (st == CSM_OK)
        st = e->err;
    if (st != CSM_OK)
        return cli_lib_error(in->ctx, st);
    if (e->write_failed || cli_history_close(&e->history))
        return CLI_FAIL;
    note_best_epoch(c, e, p);
    st = finish_outcome(s->model, s->train, s->val, e, in->classes.C, in->k, opt.C, e->gw, e->gb,
                        o);
    if (st == CSM_OK && cli_mpi_size() > 1)
        st = train_mpi_accuracy(s->model, s->train, &o->accuracy);
    if (st != CSM_OK)
        return cli_lib_error(in->ctx, st);
    /* a signal that stopped training, on this process or (MPI) any rank */
    if (o->res.stop == CSM_STOP_CALLBACK)
        o->interrupted = cli_signal_caught();
    if (cli_mpi_size() > 1)
        o->interrupted = train_mpi_signal(o->interrupted);
    return 0;
}

int train_fit(const train_cfg *c, const train_input *in, const train_sets *s, cli_progress *p,
              train_fitted *out)
{
    epoch_state e;
    memset(&e, 0, sizeof e);
    int rc = fit(c, in, s, p, out, &e);
    if (e.history.f) /* a run that failed: what it wrote stays */
        fclose(e.history.f);
    free(e.best_w);
    free(e.best_b);
    free(e.gw);
    free(e.gb);
    return rc;
}

void train_fitted_free(train_fitted *f)
{
    plot_history_free(&f->plot);
}
