/* train's first stage, read: DATA (with --weights) and its classes, as the
 * --resume model says when there is one; the device only once the data
 * proved good, so that a bad file fails fast. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train.h"

/* Without --seed, a resumed run takes the seed it was trained with: the
 * library draws epoch e's shuffle from (seed, e), so the same seed makes
 * 3 + 3 epochs see the batches of 6 in one run. */
static int inherit_seed(train_cfg *c, const csm_model *loaded)
{
    const char *s = csm_model_get_metadata(loaded, "seed");
    if (c->seed_given || !s)
        return 0;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || errno == ERANGE || s[0] == '-' || s[0] == '+' || s[0] == ' ') {
        cli_error("%s: metadata seed '%.40s' is not a seed: give --seed", c->resume, s);
        return CLI_FAIL;
    }
    c->opt.seed = (uint64_t)v;
    return 0;
}

/* --resume MODEL: the model, its seed, and the data format it remembers
 * for what the command line does not give. */
static int read_resumed(train_cfg *c, train_input *in)
{
    char from[256];
    if (!(in->ctx = cli_context_create()) || cli_load_model(in->ctx, c->resume, &in->loaded) ||
        inherit_seed(c, in->loaded))
        return CLI_FAIL;
    c->ro.n_features = csm_model_n_features(in->loaded);
    if (cli_format_from_model(&c->ro, in->loaded, c->resume, c->data_path, from, sizeof from))
        return CLI_FAIL;
    snprintf(in->whose_buf, sizeof in->whose_buf, "the model %s does not know", c->resume);
    in->whose = in->whose_buf;
    return 0;
}

/* --weights FILE: one weight per sample of `tab`, multiplied into
 * tab->weights (those of --weight-column, or none yet). */
static int read_weights(const train_cfg *c, csm_table *tab)
{
    char err[1024];
    double *w = NULL;
    if (csm_read_weights(c->weights_path, tab->n, &w, err, sizeof err) != 0) {
        cli_error("%s (--weights: one weight per sample of %s)", err,
                  csm_display_name(c->data_path));
        return CLI_FAIL;
    }
    if (tab->weights) {
        for (size_t i = 0; i < tab->n; i++)
            tab->weights[i] *= w[i];
        free(w);
    } else {
        tab->weights = w;
    }
    return 0;
}

/* The classes, the resumed model's (which the data's features and
 * header names must match) or the data's, and each sample's class. */
static int map_classes(const train_cfg *c, train_input *in)
{
    if (!(in->labels = malloc(in->tab.n * sizeof *in->labels))) {
        cli_error("out of memory");
        return CLI_FAIL;
    }
    if (in->loaded) {
        if (cli_check_features(c->data_path, &in->tab, csm_model_n_features(in->loaded),
                               c->resume) ||
            cli_check_names(c->data_path, &in->tab, in->loaded, c->resume) < 0 ||
            cli_model_classes(in->loaded, c->resume, &in->classes))
            return CLI_FAIL;
    } else if (cli_table_classes(c->data_path, &in->tab, "training", &in->classes)) {
        return CLI_FAIL;
    }
    return cli_map_table(c->data_path, &in->tab, &in->classes, in->whose, in->labels);
}

int train_read(train_cfg *c, train_input *in)
{
    in->whose = "the training data does not have";
    if (c->resume && read_resumed(c, in))
        return CLI_FAIL;
    cli_format_defaults(&c->ro);
    if (cli_read_table(c->data_path, &c->ro, &in->tab) ||
        (c->weights_path && read_weights(c, &in->tab)))
        return CLI_FAIL;
    cli_table_notes(in->table_note, sizeof in->table_note, c->data_path, &in->tab);
    in->n = in->tab.n;
    in->k = in->tab.k;
    c->read_format = in->tab.format;
    cli_describe_storage(in->storage, sizeof in->storage, &in->tab, c->ro.storage);
    if (map_classes(c, in))
        return CLI_FAIL;
    /* The data is good: only now the device (a bad file fails fast). */
    if (!in->ctx && !(in->ctx = cli_context_create()))
        return CLI_FAIL;
    return 0;
}

void train_input_free(train_input *in)
{
    free(in->labels);
    cli_classes_free(&in->classes);
    csm_table_free(&in->tab);
    csm_model_free(in->loaded);
    csm_context_free(in->ctx);
    memset(in, 0, sizeof *in);
}
