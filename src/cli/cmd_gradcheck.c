/* clsoftmax gradcheck [DATA [MODEL]]: the device gradient against central
 * finite differences of the device loss. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define DEF_MAX_PARAMS 200
#define RANDOM_N 50
#define RANDOM_K 13
#define RANDOM_C 4
#define TOL64 1e-5
#define TOL32 5e-2
#define FLOOR64 1e-8
#define FLOOR32 1e-3
#define EPS64 1e-6
#define EPS32 1e-2

static void help(void)
{
    printf("Usage: clsoftmax gradcheck [OPTIONS] [DATA [MODEL]]\n"
           "Compare the device gradient of the loss (weights and bias) with central\n"
           "finite differences of the device loss, and print the largest relative error\n"
           "|a - b| / max(|a|, |b|, floor).\n"
           "\n"
           "Without DATA: %d random samples of %d features in %d classes (by --seed),\n"
           "with random N(0, 0.5^2) weights. With DATA: its samples and classes, and\n"
           "MODEL's weights, or N(0, 0.01^2) weights drawn by --seed. With MODEL, DATA\n"
           "is read with the data format the model remembers (as predict and eval do);\n"
           "the format options below win over it.\n"
           "\n"
           "Runs in float64 where the device has it (step 1e-6 * max(1, |w|), floor %g,\n"
           "tolerance %g), else float32 (step 1e-2 * max(1, |w|), floor %g,\n"
           "tolerance %g). Exit status 0 only when the error is within tolerance.\n"
           "\n"
           "Options:\n"
           "  --l2 F                 L2 penalty lambda, in loss and gradient (default 0):\n"
           "                         the library is given C = 1 / (F n), or 2 / (F n)\n"
           "                         for two classes\n"
           "  --C F                  the penalty as train's --C: lambda = 1 / (C n),\n"
           "                         2 / (C n) for two classes\n"
           "  --seed N               seed of the random data, the weights and the\n"
           "                         parameter sample (default 1)\n"
           "  --max-params N         check at most N parameters, a random sample when\n"
           "                         there are more; 0 = all (default %d)\n"
           "  --float32              check in float32 even where float64 is available\n"
           "  -h, --help             show this help\n"
           "\n"
           "%s"
           "\n"
           "Exit status: 0 within tolerance, 1 beyond it or on a runtime or data error,\n"
           "2 usage error.\n",
           RANDOM_N, RANDOM_K, RANDOM_C, FLOOR64, TOL64, FLOOR32, TOL32, DEF_MAX_PARAMS,
           cli_format_help);
}

enum { O_L2, O_C, O_SEED, O_MAX_PARAMS, O_FLOAT32, O_HELP };
static const cli_option options[] = {{"l2", 0, 1},      {"C", 0, 1},    {"seed", 0, 1},
                                     {"max-params", 0, 1}, {"float32", 0, 0},
                                     {"help", 'h', 0},  CLI_FORMAT_OPTIONS,
                                     {NULL, 0, 0}};

int cmd_gradcheck(int argc, char **argv)
{
    cli_args it;
    const char *v, *pos[2] = {NULL, NULL};
    int id, npos = 0, force32 = 0;
    double l2 = 0.0, penalty_C = 0.0; /* penalty_C > 0: --C, lambda once n is known */
    int l2_given = 0;
    uint64_t seed = 1;
    size_t max_params = DEF_MAX_PARAMS;
    csm_read_options ro;
    cli_format_unset(&ro); /* MODEL's data_* metadata fills what is not given */
    cli_args_init(&it, "gradcheck", argc, argv);
    while ((id = cli_args_next(&it, options, &v)) != CLI_ARG_END) {
        int rc = 0;
        if (id == CLI_ARG_ERROR)
            return CLI_USAGE;
        if (id == CLI_ARG_POSITIONAL) {
            if (npos >= 2)
                return cli_usage_error("gradcheck", "unexpected argument '%s'", v);
            pos[npos++] = v;
            continue;
        }
        switch (id) {
        case O_L2:
            rc = cli_parse_double("gradcheck", "--l2", v, 0, 0, INFINITY, 0, &l2);
            l2_given = 1;
            break;
        case O_C:
            rc = cli_parse_double("gradcheck", "--C", v, 0, 1, INFINITY, 0, &penalty_C);
            break;
        case O_SEED:
            rc = cli_parse_u64("gradcheck", "--seed", v, &seed);
            break;
        case O_MAX_PARAMS:
            rc = cli_parse_size("gradcheck", "--max-params", v, &max_params);
            break;
        case O_FLOAT32:
            force32 = 1;
            break;
        case O_HELP:
            help();
            return CLI_OK;
        default:
            rc = cli_format_option("gradcheck", options[id].name, v, &ro);
            break;
        }
        if (rc)
            return CLI_USAGE;
    }
    if (l2_given && penalty_C > 0)
        return cli_usage_error("gradcheck", "--C and --l2 both set the penalty (lambda = 1 / (C * "
                                            "n)): give one");
    const char *data_path = pos[0], *model_path = pos[1];

    int status = CLI_FAIL;
    csm_context *ctx = NULL;
    csm_model *model = NULL, *loaded = NULL;
    csm_dataset *data = NULL;
    csm_table tab;
    cli_classes classes = {0};
    int32_t *labels = NULL;
    double *x = NULL, *w = NULL, *b = NULL, *dw = NULL, *db = NULL;
    size_t *sel = NULL;
    csm_status st;
    size_t n, k, C;
    memset(&tab, 0, sizeof tab);

    if (!(ctx = cli_context_create()))
        goto done;
    int fp64 = csm_context_device(ctx)->has_fp64 && !force32;
    csm_precision prec = fp64 ? CSM_FLOAT64 : CSM_FLOAT32;
    uint64_t rs = seed;

    if (data_path) {
        char note[3072];
        if (model_path) {
            /* read as predict and eval read it: the model's remembered
             * format, unseen libsvm features ignored */
            if (cli_load_model(ctx, model_path, &loaded) ||
                cli_read_for_model(data_path, loaded, model_path, &ro, &tab, note, sizeof note))
                goto done;
        } else {
            cli_format_defaults(&ro);
            if (cli_read_table(data_path, &ro, &tab))
                goto done;
        }
        n = tab.n;
        k = tab.k;
        labels = malloc(n * sizeof *labels);
        if (!labels)
            goto nomem;
        if (loaded) {
            char whose[1100];
            if (cli_model_classes(loaded, model_path, &classes))
                goto done;
            C = classes.C;
            snprintf(whose, sizeof whose, "the model %s does not know", model_path);
            if (cli_map_table(data_path, &tab, &classes, whose, labels))
                goto done;
            if (csm_model_precision(loaded) != prec) {
                if (cli_convert_model(loaded, prec, &model))
                    goto done;
            } else {
                model = loaded;
                loaded = NULL;
            }
        } else {
            if (cli_table_classes(data_path, &tab, "the model", &classes))
                goto done;
            C = classes.C;
            if (cli_map_table(data_path, &tab, &classes, "the data does not have", labels))
                goto done;
            if ((st = csm_model_create(ctx, &model, prec, C, k)) != CSM_OK)
                goto liberr;
            if (cli_classes_to_model(model, &classes))
                goto done;
            if ((st = csm_model_init(model, CSM_INIT_NORMAL, seed)) != CSM_OK)
                goto liberr;
        }
        if (cli_make_dataset(ctx, &data, prec, &tab, labels, C))
            goto done;
    } else {
        n = RANDOM_N;
        k = RANDOM_K;
        C = RANDOM_C;
        x = malloc(n * k * sizeof *x);
        labels = malloc(n * sizeof *labels);
        w = malloc(C * k * sizeof *w);
        b = malloc(C * sizeof *b);
        if (!x || !labels || !w || !b)
            goto nomem;
        for (size_t i = 0; i < n * k; i++)
            x[i] = cli_rand_normal(&rs);
        for (size_t i = 0; i < n; i++)
            labels[i] = (int32_t)(i < C ? i : cli_rand(&rs) % C); /* every class present */
        for (size_t i = 0; i < C * k; i++)
            w[i] = 0.5 * cli_rand_normal(&rs);
        for (size_t c = 0; c < C; c++)
            b[c] = 0.5 * cli_rand_normal(&rs);
        if ((st = csm_model_create(ctx, &model, prec, C, k)) != CSM_OK ||
            (st = csm_model_set_params(model, w, b)) != CSM_OK)
            goto liberr;
        csm_table rnd = {.n = n, .k = k, .dtype = CSM_DTYPE_F64, .features = x};
        if (cli_make_dataset(ctx, &data, prec, &rnd, labels, C))
            goto done;
        free(w);
        free(b);
        w = b = NULL;
    }

    /* the library takes the penalty as C (csm_train's lambda for it: 1 / (C n),
     * 2 / (C n) for two classes); --l2 F is the C of that lambda */
    const double c_scale = C == 2 ? 2.0 : 1.0;
    if (penalty_C > 0)
        l2 = c_scale / (penalty_C * (double)n);
    else
        penalty_C = l2 > 0 ? c_scale / (l2 * (double)n) : INFINITY;
    size_t P = C * k + C;
    if (!w)
        w = malloc(C * k * sizeof *w);
    if (!b)
        b = malloc(C * sizeof *b);
    dw = malloc(C * k * sizeof *dw);
    db = malloc(C * sizeof *db);
    sel = malloc(P * sizeof *sel);
    if (!w || !b || !dw || !db || !sel)
        goto nomem;
    double loss = 0;
    if ((st = csm_model_get_params(model, w, b)) != CSM_OK ||
        (st = csm_gradient(model, data, penalty_C, &loss, dw, db)) != CSM_OK)
        goto liberr;

    for (size_t p = 0; p < P; p++)
        sel[p] = p;
    size_t m = P;
    if (max_params > 0 && P > max_params) {
        /* A seeded sample without replacement: partial Fisher-Yates. */
        for (size_t i = 0; i < max_params; i++) {
            size_t j = i + (size_t)(cli_rand(&rs) % (P - i));
            size_t t = sel[i];
            sel[i] = sel[j];
            sel[j] = t;
        }
        m = max_params;
    }

    double h_scale = fp64 ? EPS64 : EPS32, floor_ = fp64 ? FLOOR64 : FLOOR32;
    double tol = fp64 ? TOL64 : TOL32;
    double worst = 0, worst_a = 0, worst_b = 0;
    size_t worst_p = 0;
    printf("gradcheck: %zu samples, %zu features, %zu classes, %s, l2 %g%s\n", n, k, C,
           fp64 ? "float64" : "float32", l2, data_path ? "" : " (random data)");
    printf("loss %.9g\n", loss);
    fflush(stdout);
    for (size_t s = 0; s < m; s++) {
        size_t p = sel[s];
        double *slot = p < C * k ? &w[p] : &b[p - C * k];
        double analytic = p < C * k ? dw[p] : db[p - C * k];
        double orig = *slot;
        double h = h_scale * fmax(1.0, fabs(orig));
        double up = orig + h, down = orig - h;
        if (!fp64) {
            /* The step the device actually sees. */
            up = (double)(float)up;
            down = (double)(float)down;
        }
        double lup = 0, ldown = 0;
        *slot = up;
        if ((st = csm_model_set_params(model, w, b)) != CSM_OK ||
            (st = csm_loss(model, data, penalty_C, &lup)) != CSM_OK)
            goto liberr;
        *slot = down;
        if ((st = csm_model_set_params(model, w, b)) != CSM_OK ||
            (st = csm_loss(model, data, penalty_C, &ldown)) != CSM_OK)
            goto liberr;
        *slot = orig;
        double numeric = (lup - ldown) / (up - down);
        double denom = fmax(fmax(fabs(analytic), fabs(numeric)), floor_);
        double rel = fabs(analytic - numeric) / denom;
        if (isnan(rel))
            rel = INFINITY; /* a NaN on either side fails */
        if (s == 0 || rel > worst) {
            worst = rel;
            worst_a = analytic;
            worst_b = numeric;
            worst_p = p;
        }
    }
    if ((st = csm_model_set_params(model, w, b)) != CSM_OK)
        goto liberr;

    printf("checked %zu of %zu parameters\n", m, P);
    if (worst_p < C * k)
        printf("max relative error %.3g at weight[%zu,%zu] (device %.9g, numeric %.9g)\n", worst,
               worst_p / k, worst_p % k, worst_a, worst_b);
    else
        printf("max relative error %.3g at bias[%zu] (device %.9g, numeric %.9g)\n", worst,
               worst_p - C * k, worst_a, worst_b);
    int pass = worst <= tol;
    printf("tolerance %g: %s\n", tol, pass ? "PASS" : "FAIL");
    fflush(stdout);
    status = pass ? CLI_OK : CLI_FAIL;
    goto done;

liberr:
    status = cli_lib_error(ctx, st);
    goto done;
nomem:
    cli_error("out of memory");
    status = CLI_FAIL;
done:
    cli_classes_free(&classes);
    free(labels);
    free(x);
    free(w);
    free(b);
    free(dw);
    free(db);
    free(sel);
    csm_table_free(&tab);
    csm_dataset_free(data);
    csm_model_free(model);
    csm_model_free(loaded);
    csm_context_free(ctx);
    return status;
}
