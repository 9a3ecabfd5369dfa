/* The training options train and cv both take, parsed and checked once:
 * the two commands must not disagree about what `--solver newton --lr 0.1`
 * means. Each command keeps its own option table and help; what is the same
 * is read here by the option's name. */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "train.h"

const char *const train_solvers[] = {"sgd", "momentum", "adam", "lbfgs", "newton", NULL};

/* The options only the first-order solvers read, and the bit each sets in
 * train_cfg.given when on the command line. */
static const struct {
    const char *name;
    unsigned bit;
} first_order_only[] = {{"lr", TRAIN_GIVEN_LR},
                        {"batch-size", TRAIN_GIVEN_BATCH},
                        {"momentum", TRAIN_GIVEN_MOMENTUM},
                        {"n-iter-no-change", TRAIN_GIVEN_N_ITER_NO_CHANGE},
                        {"no-shuffle", TRAIN_GIVEN_NO_SHUFFLE}};

int train_option(const char *cmd, train_cfg *c, const char *name, const char *v)
{
    char opt[64];
    snprintf(opt, sizeof opt, "--%s", name);
    int rc = 0, choice = 0;
    long l = 0;
    if (!strcmp(name, "solver") || !strcmp(name, "optimizer")) {
        rc = cli_parse_choice(cmd, opt, v, train_solvers, &choice);
        if (!rc)
            c->opt.solver = (csm_solver)csm_solver_from_name(train_solvers[choice]);
        c->solver_given = 1;
    } else if (!strcmp(name, "max-iter") || !strcmp(name, "epochs")) {
        rc = cli_parse_long(cmd, opt, v, 1, INT_MAX, &l);
        c->opt.max_iter = (int)l;
    } else if (!strcmp(name, "tol")) {
        rc = cli_parse_double(cmd, opt, v, 0, 0, INFINITY, 0, &c->opt.tol);
    } else if (!strcmp(name, "lbfgs-memory")) {
        rc = cli_parse_long(cmd, opt, v, 1, 1000, &l);
        c->opt.lbfgs_memory = (int)l;
        c->given |= TRAIN_GIVEN_LBFGS_MEMORY;
        c->solver_given = 1; /* an L-BFGS option names its solver */
    } else if (!strcmp(name, "lr")) {
        rc = cli_parse_double(cmd, opt, v, 0, 1, INFINITY, 0, &c->opt.learning_rate);
    } else if (!strcmp(name, "batch-size")) {
        rc = cli_parse_size(cmd, opt, v, &c->opt.batch_size);
    } else if (!strcmp(name, "momentum")) {
        rc = cli_parse_double(cmd, opt, v, 0, 0, 1, 1, &c->opt.momentum);
    } else if (!strcmp(name, "n-iter-no-change")) {
        rc = cli_parse_long(cmd, opt, v, 1, INT_MAX, &l);
        c->opt.n_iter_no_change = (int)l;
    } else if (!strcmp(name, "no-shuffle")) {
        c->opt.shuffle = 0;
    } else if (!strcmp(name, "no-intercept")) {
        c->opt.fit_intercept = 0;
    } else if (!strcmp(name, "seed")) {
        rc = cli_parse_u64(cmd, opt, v, &c->opt.seed);
        c->seed_given = 1;
    } else if (!strcmp(name, "class-weight")) {
        cli_class_weight_free(&c->cw);
        rc = cli_class_weight_parse(cmd, v, &c->cw);
        c->class_weight = v;
    } else if (!strcmp(name, "weights")) {
        c->weights_path = v;
    } else if (!strcmp(name, "standardize")) {
        c->standardize = 1;
    } else if (!strcmp(name, "double")) {
        c->use_double = 1;
    } else if (cli_output_option(name) == 0) {
        return 0;
    } else {
        return cli_format_option(cmd, name, v, &c->ro) ? CLI_USAGE : 0;
    }
    for (size_t i = 0; i < sizeof first_order_only / sizeof *first_order_only; i++)
        if (!strcmp(name, first_order_only[i].name))
            c->given |= first_order_only[i].bit;
    return rc ? CLI_USAGE : 0;
}

int train_check_solver_options(const char *cmd, const train_cfg *c, double l1_ratio)
{
    const char *name = csm_solver_name(c->opt.solver);
    if (l1_ratio > 0 && c->opt.solver != CSM_LBFGS)
        return cli_usage_error(cmd, "--l1-ratio needs --solver lbfgs (OWL-QN); %s has no L1 "
                                    "penalty",
                               name);
    if (train_full_batch(c->opt.solver))
        for (size_t i = 0; i < sizeof first_order_only / sizeof *first_order_only; i++)
            if (c->given & first_order_only[i].bit)
                return cli_usage_error(cmd,
                                       "--%s applies to --solver sgd, momentum and adam, not "
                                       "to %s (full batch, no learning rate)",
                                       first_order_only[i].name, name);
    if (c->opt.solver != CSM_LBFGS && (c->given & TRAIN_GIVEN_LBFGS_MEMORY))
        return cli_usage_error(cmd, "--lbfgs-memory applies to --solver lbfgs only");
    return 0;
}
