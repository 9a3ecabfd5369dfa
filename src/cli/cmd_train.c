/* clsoftmax train [OPTIONS] DATA MODEL */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The command's defaults (chosen on Fashion-MNIST; see the man page). */
#define DEF_EPOCHS 20
#define DEF_LR_SGD 0.1
#define DEF_LR_MOMENTUM 0.01
#define DEF_LR_ADAM 0.001
#define DEF_BATCH 256
#define DEF_L2 0.0
#define DEF_OPTIMIZER 2 /* index into optimizers[]: adam */
#define DEF_MOMENTUM 0.9
#define DEF_INIT 0 /* zeros */
#define DEF_SEED 1

static const char *const optimizers[] = {"sgd", "momentum", "adam", NULL};
static const char *const inits[] = {"zeros", "normal", NULL};

static void help(void)
{
    printf("Usage: clsoftmax train [OPTIONS] DATA MODEL\n"
           "Train a softmax-regression model on DATA and write it to MODEL (safetensors).\n"
           "Classes are the sorted distinct labels of DATA; predictions come back in\n"
           "the same label values.\n"
           "\n"
           "Training options:\n"
           "  --epochs N             passes over the training data (default %d)\n"
           "  --lr F                 learning rate (default %g with adam, %g with sgd,\n"
           "                         %g with momentum)\n"
           "  --batch-size N         samples per step, 0 = full batch (default %d)\n"
           "  --l2 F                 L2 penalty lambda, (lambda/2)||W||^2 (default %g)\n"
           "  --optimizer NAME       sgd, momentum or adam (default %s)\n"
           "  --momentum F           momentum of the momentum optimizer (default %g)\n"
           "  --init NAME            zeros, or normal: N(0, 0.01^2) weights (default %s)\n"
           "  --seed N               seed for shuffling, --init normal and\n"
           "                         --validation-split (default %d)\n"
           "  --no-shuffle           keep the data order (default: reshuffle every epoch)\n"
           "  --standardize          train on per-feature standardized features (mean 0,\n"
           "                         std 1); the saved model still takes raw features\n"
           "  --double               train in float64 (needs a device with fp64;\n"
           "                         default float32)\n"
           "  --validation FILE      validation data, evaluated after every epoch\n"
           "  --validation-split F   hold out the last fraction F (0 < F < 1) of the\n"
           "                         data after a shuffle by --seed (default: none)\n"
           "  --early-stopping N     stop after N epochs without validation-loss\n"
           "                         improvement and save the best epoch's weights\n"
           "                         (needs --validation or --validation-split; default off)\n"
           "  --history FILE         write a CSV row per epoch: epoch,loss,accuracy,\n"
           "                         val_loss,val_accuracy,seconds\n"
           "  --resume MODEL         start from a saved model instead of --init (its\n"
           "                         classes must include every label of DATA)\n"
           "  -q, --quiet            print nothing but errors\n"
           "  -h, --help             show this help\n"
           "\n"
           "%s"
           "\n"
           "Progress goes to stderr: a live line on a terminal, else one line per epoch.\n"
           "Exit status: 0 success, 1 runtime or data error, 2 usage error.\n",
           DEF_EPOCHS, DEF_LR_ADAM, DEF_LR_SGD, DEF_LR_MOMENTUM, DEF_BATCH, DEF_L2,
           optimizers[DEF_OPTIMIZER], DEF_MOMENTUM,
           inits[DEF_INIT], DEF_SEED, cli_format_help);
}

enum {
    O_EPOCHS,
    O_LR,
    O_BATCH,
    O_L2,
    O_OPTIMIZER,
    O_MOMENTUM,
    O_INIT,
    O_SEED,
    O_NO_SHUFFLE,
    O_STANDARDIZE,
    O_DOUBLE,
    O_VALIDATION,
    O_VALIDATION_SPLIT,
    O_EARLY_STOPPING,
    O_HISTORY,
    O_RESUME,
    O_QUIET,
    O_HELP,
    O_FORMAT_FIRST
};

static const cli_option options[] = {
    {"epochs", 0, 1},   {"lr", 0, 1},         {"batch-size", 0, 1},   {"l2", 0, 1},
    {"optimizer", 0, 1}, {"momentum", 0, 1},  {"init", 0, 1},         {"seed", 0, 1},
    {"no-shuffle", 0, 0}, {"standardize", 0, 0}, {"double", 0, 0},    {"validation", 0, 1},
    {"validation-split", 0, 1}, {"early-stopping", 0, 1}, {"history", 0, 1}, {"resume", 0, 1},
    {"quiet", 'q', 0},  {"help", 'h', 0},     CLI_FORMAT_OPTIONS,     {NULL, 0, 0}};

typedef struct train_cfg {
    long epochs;
    double lr;
    size_t batch;
    double l2;
    int optimizer;
    double momentum;
    int init;
    uint64_t seed;
    int shuffle;
    int standardize;
    int use_double;
    const char *validation;
    double split; /* 0: none */
    long patience; /* 0: off */
    const char *history;
    const char *resume;
    int quiet;
    csm_read_options ro;
    const char *data_path, *model_path;
} train_cfg;

/* State shared with the epoch callback. */
typedef struct train_state {
    cli_progress progress;
    cli_history history;
    csm_dataset *val;
    size_t C, k;
    long patience;
    int bad_epochs;
    double best_loss;
    int best_epoch;
    double *best_w, *best_b;
    csm_status err;
    int write_failed;
    int stopped_early;
    int last_epoch;
    double loss, acc, val_loss, val_acc;
} train_state;

static int on_epoch(csm_model *model, const csm_epoch_info *info, void *user)
{
    train_state *s = user;
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
    s->loss = info->loss;
    s->acc = info->accuracy;
    s->val_loss = vl;
    s->val_acc = va;
    cli_progress_epoch(&s->progress, info, has_val, vl, va);
    if (cli_history_row(&s->history, info, has_val, vl, va) != 0) {
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
    return 0;
}

static size_t dtype_size(csm_dtype dt)
{
    return dt == CSM_DTYPE_U8 ? 1 : dt == CSM_DTYPE_F32 ? sizeof(float) : sizeof(double);
}

/* Rows `rows` of x (n_all, k) into a new array of the same dtype. */
static void *gather_rows(const void *x, csm_dtype dt, size_t k, const size_t *rows, size_t n)
{
    size_t row_bytes = k * dtype_size(dt);
    unsigned char *out = malloc((n > 0 && row_bytes > 0) ? n * row_bytes : 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++)
        memcpy(out + i * row_bytes, (const unsigned char *)x + rows[i] * row_bytes, row_bytes);
    return out;
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

static int parse_args(int argc, char **argv, train_cfg *c)
{
    cli_args it;
    const char *v;
    int id, npos = 0;
    const char *pos[2] = {NULL, NULL};
    long l;

    memset(c, 0, sizeof *c);
    c->epochs = DEF_EPOCHS;
    c->lr = 0; /* by optimizer, below */
    c->batch = DEF_BATCH;
    c->l2 = DEF_L2;
    c->optimizer = DEF_OPTIMIZER;
    c->momentum = DEF_MOMENTUM;
    c->init = DEF_INIT;
    c->seed = DEF_SEED;
    c->shuffle = 1;
    csm_read_options_init(&c->ro);

    cli_args_init(&it, "train", argc, argv);
    while ((id = cli_args_next(&it, options, &v)) != CLI_ARG_END) {
        int rc = 0;
        switch (id) {
        case CLI_ARG_ERROR:
            return CLI_USAGE;
        case CLI_ARG_POSITIONAL:
            if (npos >= 2)
                return cli_usage_error("train", "unexpected argument '%s'", v);
            pos[npos++] = v;
            break;
        case O_EPOCHS:
            rc = cli_parse_long("train", "--epochs", v, 1, INT_MAX, &c->epochs);
            break;
        case O_LR:
            rc = cli_parse_double("train", "--lr", v, 0, 1, INFINITY, 0, &c->lr);
            break;
        case O_BATCH:
            rc = cli_parse_size("train", "--batch-size", v, &c->batch);
            break;
        case O_L2:
            rc = cli_parse_double("train", "--l2", v, 0, 0, INFINITY, 0, &c->l2);
            break;
        case O_OPTIMIZER:
            rc = cli_parse_choice("train", "--optimizer", v, optimizers, &c->optimizer);
            break;
        case O_MOMENTUM:
            rc = cli_parse_double("train", "--momentum", v, 0, 0, 1, 1, &c->momentum);
            break;
        case O_INIT:
            rc = cli_parse_choice("train", "--init", v, inits, &c->init);
            break;
        case O_SEED:
            rc = cli_parse_u64("train", "--seed", v, &c->seed);
            break;
        case O_NO_SHUFFLE:
            c->shuffle = 0;
            break;
        case O_STANDARDIZE:
            c->standardize = 1;
            break;
        case O_DOUBLE:
            c->use_double = 1;
            break;
        case O_VALIDATION:
            c->validation = v;
            break;
        case O_VALIDATION_SPLIT:
            rc = cli_parse_double("train", "--validation-split", v, 0, 1, 1, 1, &c->split);
            break;
        case O_EARLY_STOPPING:
            rc = cli_parse_long("train", "--early-stopping", v, 1, INT_MAX, &l);
            c->patience = l;
            break;
        case O_HISTORY:
            c->history = v;
            break;
        case O_RESUME:
            c->resume = v;
            break;
        case O_QUIET:
            c->quiet = 1;
            break;
        case O_HELP:
            help();
            return -1;
        default:
            rc = cli_format_option("train", options[id].name, v, &c->ro);
            break;
        }
        if (rc)
            return CLI_USAGE;
    }
    if (npos < 2)
        return cli_usage_error("train", npos == 0 ? "missing DATA and MODEL arguments"
                                                  : "missing MODEL argument");
    if (c->lr == 0)
        c->lr = c->optimizer == 0 ? DEF_LR_SGD : c->optimizer == 1 ? DEF_LR_MOMENTUM : DEF_LR_ADAM;
    c->data_path = pos[0];
    c->model_path = pos[1];
    if (c->validation && c->split > 0)
        return cli_usage_error("train", "--validation and --validation-split exclude each other");
    if (c->patience > 0 && !c->validation && !(c->split > 0))
        return cli_usage_error("train",
                               "--early-stopping needs --validation or --validation-split");
    return 0;
}

int cmd_train(int argc, char **argv)
{
    train_cfg cfg;
    int rc = parse_args(argc, argv, &cfg);
    if (rc == -1)
        return CLI_OK;
    if (rc)
        return rc;

    const char *whose_resume = NULL;
    char whose_buf[1100];
    csm_context *ctx = NULL;
    csm_model *model = NULL, *loaded = NULL;
    csm_dataset *train_set = NULL, *val_set = NULL;
    csm_table tab, vtab;
    int64_t *classes = NULL;
    size_t C = 0, k = 0;
    int32_t *labels = NULL;
    int32_t *train_labels = NULL, *val_labels = NULL;
    size_t *perm = NULL;
    void *train_x = NULL, *val_x = NULL; /* owned copies, or NULL */
    double *mean = NULL, *scale = NULL, *w = NULL, *b = NULL;
    train_state state;
    csm_status st;
    int status = CLI_FAIL;
    memset(&tab, 0, sizeof tab);
    memset(&vtab, 0, sizeof vtab);
    memset(&state, 0, sizeof state);
    csm_precision prec = cfg.use_double ? CSM_FLOAT64 : CSM_FLOAT32;

    /* A resumed model fixes the feature count (libsvm) and the classes. */
    if (cfg.resume) {
        if (!(ctx = cli_context_create()))
            goto done;
        if (cli_load_model(ctx, cfg.resume, &loaded))
            goto done;
        cfg.ro.n_features = csm_model_n_features(loaded);
        snprintf(whose_buf, sizeof whose_buf, "the model %s does not know", cfg.resume);
        whose_resume = whose_buf;
    }
    if (cli_read_table(cfg.data_path, &cfg.ro, &tab))
        goto done;
    k = tab.k;
    if (!ctx && !(ctx = cli_context_create()))
        goto done;

    labels = malloc(tab.n * sizeof *labels);
    if (!labels)
        goto nomem;
    if (loaded) {
        if (cli_check_features(cfg.data_path, &tab, csm_model_n_features(loaded), cfg.resume))
            goto done;
        C = csm_model_n_classes(loaded);
        classes = malloc(C * sizeof *classes);
        if (!classes)
            goto nomem;
        memcpy(classes, csm_model_labels(loaded), C * sizeof *classes);
        if (cli_map_labels(cfg.data_path, &tab, classes, C, whose_resume, labels))
            goto done;
    } else {
        if (csm_distinct_labels(tab.labels, tab.n, &classes, &C) != 0)
            goto nomem;
        if (C < 2) {
            cli_error("%s: every sample has label %lld: training needs at least 2 classes",
                      cfg.data_path, (long long)tab.labels[0]);
            goto done;
        }
        if (cli_map_labels(cfg.data_path, &tab, classes, C, "the training data does not have", labels))
            goto done;
    }

    /* Training and validation rows. */
    size_t n_train = tab.n, n_val = 0;
    const void *tx = tab.features, *vx = NULL;
    csm_dtype tdt = tab.dtype, vdt = tab.dtype;
    train_labels = labels;
    if (cfg.split > 0) {
        n_val = (size_t)floor(cfg.split * (double)tab.n);
        if (n_val < 1 || n_val >= tab.n) {
            cli_error("%s: --validation-split %g of %zu samples leaves %zu for validation and "
                      "%zu for training: both need at least one",
                      cfg.data_path, cfg.split, tab.n, n_val, tab.n - n_val);
            goto done;
        }
        n_train = tab.n - n_val;
        perm = malloc(tab.n * sizeof *perm);
        train_labels = malloc(n_train * sizeof *train_labels);
        val_labels = malloc(n_val * sizeof *val_labels);
        if (!perm || !train_labels || !val_labels)
            goto nomem;
        for (size_t i = 0; i < tab.n; i++)
            perm[i] = i;
        uint64_t rs = cfg.seed ^ 0x5EED5A17ULL;
        cli_shuffle(perm, tab.n, &rs);
        for (size_t i = 0; i < n_train; i++)
            train_labels[i] = labels[perm[i]];
        for (size_t i = 0; i < n_val; i++)
            val_labels[i] = labels[perm[n_train + i]];
        train_x = gather_rows(tab.features, tab.dtype, k, perm, n_train);
        val_x = gather_rows(tab.features, tab.dtype, k, perm + n_train, n_val);
        if (!train_x || !val_x)
            goto nomem;
        tx = train_x;
        vx = val_x;
    } else if (cfg.validation) {
        csm_read_options vro;
        csm_read_options_init(&vro);
        vro.format = cfg.ro.format;
        vro.label_column = cfg.ro.label_column;
        vro.header = cfg.ro.header;
        vro.n_features = k;
        if (cli_read_table(cfg.validation, &vro, &vtab))
            goto done;
        if (vtab.k != k) {
            cli_error("%s: the validation data has %zu features but the training data %s has %zu",
                      cfg.validation, vtab.k, cfg.data_path, k);
            goto done;
        }
        n_val = vtab.n;
        val_labels = malloc(n_val * sizeof *val_labels);
        if (!val_labels)
            goto nomem;
        if (cli_map_labels(cfg.validation, &vtab, classes, C,
                           whose_resume ? whose_resume : "the training data does not have",
                           val_labels))
            goto done;
        vx = vtab.features;
        vdt = vtab.dtype;
    }

    /* Standardization: from the resumed model's metadata when it has it,
     * else fitted on the training rows. */
    if (cfg.standardize) {
        mean = malloc(k * sizeof *mean);
        scale = malloc(k * sizeof *scale);
        if (!mean || !scale)
            goto nomem;
        int have = 0;
        if (loaded) {
            const char *ms = csm_model_get_metadata(loaded, "standardize_mean");
            const char *ss = csm_model_get_metadata(loaded, "standardize_scale");
            if (ms && ss) {
                if (cli_vector_from_json(ms, mean, k) != 0 ||
                    cli_vector_from_json(ss, scale, k) != 0) {
                    cli_error("%s: metadata standardize_mean/standardize_scale is not a list "
                              "of %zu numbers",
                              cfg.resume, k);
                    goto done;
                }
                for (size_t j = 0; j < k; j++)
                    if (!(scale[j] > 0)) {
                        cli_error("%s: metadata standardize_scale has a non-positive value",
                                  cfg.resume);
                        goto done;
                    }
                have = 1;
            }
        }
        if (!have)
            cli_standardize_fit(tx, tdt, n_train, k, mean, scale);
        double *sx = cli_standardize_apply(tx, tdt, n_train, k, mean, scale);
        if (!sx)
            goto nomem;
        free(train_x);
        train_x = sx;
        tx = sx;
        tdt = CSM_DTYPE_F64;
        if (vx) {
            double *svx = cli_standardize_apply(vx, vdt, n_val, k, mean, scale);
            if (!svx)
                goto nomem;
            free(val_x);
            val_x = svx;
            vx = svx;
            vdt = CSM_DTYPE_F64;
        }
    }

    /* The model. */
    w = malloc(C * k * sizeof *w);
    b = malloc(C * sizeof *b);
    if (!w || !b)
        goto nomem;
    if (loaded) {
        if (csm_model_precision(loaded) != prec) {
            if (cli_convert_model(loaded, prec, &model))
                goto done;
            csm_model_free(loaded);
        } else {
            model = loaded;
        }
        loaded = NULL;
        if (cfg.standardize) {
            if ((st = csm_model_get_params(model, w, b)) != CSM_OK)
                goto liberr;
            cli_standardize_unfold(w, b, C, k, mean, scale);
            if ((st = csm_model_set_params(model, w, b)) != CSM_OK)
                goto liberr;
        }
    } else {
        if ((st = csm_model_create(ctx, &model, prec, C, k)) != CSM_OK)
            goto liberr;
        if ((st = csm_model_set_labels(model, classes)) != CSM_OK)
            goto liberr;
        if ((st = csm_model_init(model, cfg.init == 1 ? CSM_INIT_NORMAL : CSM_INIT_ZEROS,
                                 cfg.seed)) != CSM_OK)
            goto liberr;
    }

    if (cli_make_dataset(ctx, &train_set, prec, tx, tdt, n_train, k, train_labels, C))
        goto done;
    if (vx && cli_make_dataset(ctx, &val_set, prec, vx, vdt, n_val, k, val_labels, C))
        goto done;
    /* The host copies are on the device now. */
    free(train_x);
    train_x = NULL;
    free(val_x);
    val_x = NULL;

    csm_train_options topt;
    csm_train_options_init(&topt);
    topt.epochs = (int)cfg.epochs;
    topt.learning_rate = cfg.lr;
    topt.batch_size = cfg.batch;
    topt.l2 = cfg.l2;
    topt.optimizer = cfg.optimizer == 0 ? CSM_SGD : cfg.optimizer == 1 ? CSM_MOMENTUM : CSM_ADAM;
    topt.momentum = cfg.momentum;
    topt.seed = cfg.seed;
    topt.shuffle = cfg.shuffle;
    topt.callback = on_epoch;
    topt.user = &state;

    state.val = val_set;
    state.C = C;
    state.k = k;
    state.patience = cfg.patience;
    if (cfg.patience > 0) {
        state.best_w = malloc(C * k * sizeof *state.best_w);
        state.best_b = malloc(C * sizeof *state.best_b);
        if (!state.best_w || !state.best_b)
            goto nomem;
    }
    if (cfg.history && cli_history_open(&state.history, cfg.history))
        goto done;

    cli_progress_init(&state.progress, cfg.quiet, (int)cfg.epochs);
    {
        char list[512];
        cli_format_labels(list, sizeof list, classes, C);
        cli_progress_note(&state.progress, "%s: %zu samples, %zu features, %zu classes (%s)",
                          cfg.data_path, tab.n, k, C, list);
        if (n_val)
            cli_progress_note(&state.progress, "training on %zu samples, validating on %zu (%s)",
                              n_train, n_val, cfg.validation ? cfg.validation : "split");
        cli_progress_note(&state.progress, "device: %s",
                          csm_context_device(ctx)->device_name);
    }
    double t0 = cli_now();
    st = csm_train(model, train_set, &topt);
    double elapsed = cli_now() - t0;
    cli_progress_done(&state.progress);
    if (st != CSM_OK)
        goto liberr;
    if (state.err != CSM_OK) {
        st = state.err;
        goto liberr;
    }
    if (state.write_failed)
        goto done;
    if (cli_history_close(&state.history))
        goto done;

    if (cfg.patience > 0 && state.best_epoch > 0) {
        if ((st = csm_model_set_params(model, state.best_w, state.best_b)) != CSM_OK)
            goto liberr;
        if (state.stopped_early)
            cli_progress_note(&state.progress,
                              "early stopping after epoch %d: no val_loss improvement for %ld "
                              "epochs",
                              state.last_epoch, cfg.patience);
        cli_progress_note(&state.progress, "keeping the best epoch %d (val_loss %.6f)",
                          state.best_epoch, state.best_loss);
    }

    /* Fold the standardization into the saved weights. */
    if (cfg.standardize) {
        if ((st = csm_model_get_params(model, w, b)) != CSM_OK)
            goto liberr;
        cli_standardize_fold(w, b, C, k, mean, scale);
        if ((st = csm_model_set_params(model, w, b)) != CSM_OK)
            goto liberr;
    }

    /* Metadata: the training options, as strings. */
    {
        char buf[64];
        int bad = 0;
        snprintf(buf, sizeof buf, "%ld", cfg.epochs);
        bad |= set_meta(model, "epochs", buf);
        snprintf(buf, sizeof buf, "%d", state.last_epoch);
        bad |= set_meta(model, "epochs_run", buf);
        bad |= set_meta_f(model, "lr", cfg.lr);
        snprintf(buf, sizeof buf, "%zu", cfg.batch);
        bad |= set_meta(model, "batch_size", buf);
        bad |= set_meta_f(model, "l2", cfg.l2);
        bad |= set_meta(model, "optimizer", optimizers[cfg.optimizer]);
        bad |= set_meta_f(model, "momentum", cfg.momentum);
        if (cfg.resume)
            bad |= set_meta(model, "resumed_from", cfg.resume);
        else
            bad |= set_meta(model, "init", inits[cfg.init]);
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)cfg.seed);
        bad |= set_meta(model, "seed", buf);
        bad |= set_meta(model, "shuffle", cfg.shuffle ? "true" : "false");
        bad |= set_meta(model, "standardize", cfg.standardize ? "true" : "false");
        bad |= set_meta(model, "precision", cfg.use_double ? "float64" : "float32");
        if (cfg.split > 0)
            bad |= set_meta_f(model, "validation_split", cfg.split);
        else
            bad |= set_meta(model, "validation_split", NULL);
        if (cfg.patience > 0) {
            snprintf(buf, sizeof buf, "%ld", cfg.patience);
            bad |= set_meta(model, "early_stopping", buf);
            snprintf(buf, sizeof buf, "%d", state.best_epoch);
            bad |= set_meta(model, "best_epoch", buf);
        } else {
            bad |= set_meta(model, "early_stopping", NULL);
            bad |= set_meta(model, "best_epoch", NULL);
        }
        if (cfg.standardize) {
            char *ms = cli_vector_to_json(mean, k), *ss = cli_vector_to_json(scale, k);
            if (!ms || !ss) {
                free(ms);
                free(ss);
                goto nomem;
            }
            bad |= set_meta(model, "standardize_mean", ms);
            bad |= set_meta(model, "standardize_scale", ss);
            free(ms);
            free(ss);
        } else {
            bad |= set_meta(model, "standardize_mean", NULL);
            bad |= set_meta(model, "standardize_scale", NULL);
        }
        if (bad)
            goto done;
    }

    if ((st = csm_model_save(model, cfg.model_path)) != CSM_OK)
        goto liberr;
    if (val_set)
        cli_progress_note(&state.progress,
                          "trained %d epochs in %.2fs: loss %.6f accuracy %.4f, val_loss %.6f "
                          "val_accuracy %.4f",
                          state.last_epoch, elapsed, state.loss, state.acc, state.val_loss,
                          state.val_acc);
    else
        cli_progress_note(&state.progress, "trained %d epochs in %.2fs: loss %.6f accuracy %.4f",
                          state.last_epoch, elapsed, state.loss, state.acc);
    cli_progress_note(&state.progress, "wrote %s (%zu classes, %zu features, %s)",
                      cfg.model_path, C, k, cfg.use_double ? "float64" : "float32");
    status = CLI_OK;
    goto done;

liberr:
    status = cli_lib_error(ctx, st);
    goto done;
nomem:
    cli_error("out of memory");
    status = CLI_FAIL;
done:
    if (state.history.f) {
        fclose(state.history.f);
        state.history.f = NULL;
    }
    free(state.best_w);
    free(state.best_b);
    if (train_labels != labels)
        free(train_labels);
    free(labels);
    free(val_labels);
    free(perm);
    free(train_x);
    free(val_x);
    free(mean);
    free(scale);
    free(w);
    free(b);
    free(classes);
    csm_table_free(&tab);
    csm_table_free(&vtab);
    csm_dataset_free(train_set);
    csm_dataset_free(val_set);
    csm_model_free(model);
    csm_model_free(loaded);
    csm_context_free(ctx);
    return status;
}
