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

typedef struct gc_args {
    const char *data_path, *model_path; /* NULL: random data; no model */
    double l2, penalty_C; /* penalty_C > 0: --C, lambda once n is known */
    uint64_t seed;
    size_t max_params;
    int force32;
    csm_read_options ro;
} gc_args;

/* 0, CLI_USAGE after the error, or -1 after --help. */
static int parse_args(int argc, char **argv, gc_args *a)
{
    cli_args it;
    const char *v, *pos[2] = {NULL, NULL};
    int id, npos = 0, l2_given = 0;
    memset(a, 0, sizeof *a);
    a->seed = 1;
    a->max_params = DEF_MAX_PARAMS;
    cli_format_unset(&a->ro); /* MODEL's data_* metadata fills what is not given */
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
            rc = cli_parse_double("gradcheck", "--l2", v, 0, 0, INFINITY, 0, &a->l2);
            l2_given = 1;
            break;
        case O_C:
            rc = cli_parse_double("gradcheck", "--C", v, 0, 1, INFINITY, 0, &a->penalty_C);
            break;
        case O_SEED:
            rc = cli_parse_u64("gradcheck", "--seed", v, &a->seed);
            break;
        case O_MAX_PARAMS:
            rc = cli_parse_size("gradcheck", "--max-params", v, &a->max_params);
            break;
        case O_FLOAT32:
            a->force32 = 1;
            break;
        case O_HELP:
            help();
            return -1;
        default:
            rc = cli_format_option("gradcheck", options[id].name, v, &a->ro);
            break;
        }
        if (rc)
            return CLI_USAGE;
    }
    if (l2_given && a->penalty_C > 0)
        return cli_usage_error("gradcheck", "--C and --l2 both set the penalty (lambda = 1 / (C * "
                                            "n)): give one");
    a->data_path = pos[0];
    a->model_path = pos[1];
    return 0;
}

/* The problem checked, freed in one place: a model (MODEL's, converted
 * to the precision checked, or a new one) on a dataset. */
typedef struct gc_problem {
    cli_model_data md; /* the context; MODEL, its classes and DATA */
    csm_model *model;  /* the model checked: md.model taken, or made here */
    csm_dataset *data;
    int32_t *labels;
    size_t n, k, C;
    int fp64;
    csm_precision prec;
    double *w, *b, *dw, *db; /* (C, k), (C): the parameters and the device gradient */
} gc_problem;

/* No DATA: RANDOM_N samples of RANDOM_K features, every class present,
 * and N(0, 0.5^2) weights, drawn from *rs. */
static int random_problem(gc_problem *p, uint64_t *rs)
{
    const size_t n = RANDOM_N, k = RANDOM_K, C = RANDOM_C;
    p->n = n;
    p->k = k;
    p->C = C;
    double *x = malloc(n * k * sizeof *x);
    p->labels = malloc(n * sizeof *p->labels);
    p->w = malloc(C * k * sizeof *p->w);
    p->b = malloc(C * sizeof *p->b);
    if (!x || !p->labels || !p->w || !p->b) {
        free(x);
        cli_error("out of memory");
        return CLI_FAIL;
    }
    for (size_t i = 0; i < n * k; i++)
        x[i] = cli_rand_normal(rs);
    for (size_t i = 0; i < n; i++)
        p->labels[i] = (int32_t)(i < C ? i : cli_rand(rs) % C); /* every class present */
    for (size_t i = 0; i < C * k; i++)
        p->w[i] = 0.5 * cli_rand_normal(rs);
    for (size_t c = 0; c < C; c++)
        p->b[c] = 0.5 * cli_rand_normal(rs);
    csm_status st = csm_model_create(p->md.ctx, &p->model, p->prec, C, k);
    if (st == CSM_OK)
        st = csm_model_set_params(p->model, p->w, p->b);
    int rc = st == CSM_OK ? 0 : cli_lib_error(p->md.ctx, st);
    csm_table rnd = {.n = n, .k = k, .dtype = CSM_DTYPE_F64, .features = x};
    if (!rc)
        rc = cli_make_dataset(p->md.ctx, &p->data, p->prec, &rnd, p->labels, C);
    free(x);
    return rc;
}

/* DATA without MODEL: its classes, and N(0, 0.01^2) weights by --seed. */
static int data_model(const gc_args *a, gc_problem *p)
{
    csm_read_options ro = a->ro;
    cli_format_defaults(&ro);
    if (cli_read_table(a->data_path, &ro, &p->md.tab))
        return CLI_FAIL;
    if (!(p->labels = malloc(p->md.tab.n * sizeof *p->labels))) {
        cli_error("out of memory");
        return CLI_FAIL;
    }
    if (cli_table_classes(a->data_path, &p->md.tab, "the model", &p->md.classes))
        return CLI_FAIL;
    p->C = p->md.classes.C;
    if (cli_map_table(a->data_path, &p->md.tab, &p->md.classes, "the data does not have",
                      p->labels))
        return CLI_FAIL;
    csm_status st = csm_model_create(p->md.ctx, &p->model, p->prec, p->C, p->md.tab.k);
    if (st != CSM_OK)
        return cli_lib_error(p->md.ctx, st);
    if (cli_classes_to_model(p->model, &p->md.classes))
        return CLI_FAIL;
    st = csm_model_init(p->model, CSM_INIT_NORMAL, a->seed);
    return st == CSM_OK ? 0 : cli_lib_error(p->md.ctx, st);
}

/* float64 where the device has it, unless --float32. */
static void choose_precision(const gc_args *a, gc_problem *p)
{
    p->fp64 = csm_context_device(p->md.ctx)->has_fp64 && !a->force32;
    p->prec = p->fp64 ? CSM_FLOAT64 : CSM_FLOAT32;
}

/* DATA and MODEL: read as predict and eval read it (the model's
 * remembered format, unseen libsvm features ignored), the model's
 * weights in the precision checked. */
static int saved_model(const gc_args *a, gc_problem *p)
{
    char whose[1100];
    csm_read_options ro = a->ro;
    if (cli_model_data_open(&p->md, a->model_path, a->data_path, &ro))
        return CLI_FAIL;
    choose_precision(a, p);
    if (!(p->labels = malloc(p->md.tab.n * sizeof *p->labels))) {
        cli_error("out of memory");
        return CLI_FAIL;
    }
    p->C = p->md.classes.C;
    snprintf(whose, sizeof whose, "the model %s does not know", a->model_path);
    if (cli_map_table(a->data_path, &p->md.tab, &p->md.classes, whose, p->labels))
        return CLI_FAIL;
    if (csm_model_precision(p->md.model) != p->prec)
        return cli_convert_model(p->md.model, p->prec, &p->model);
    p->model = p->md.model;
    p->md.model = NULL;
    return 0;
}

/* The problem of the command line, in the precision checked. */
static int make_problem(const gc_args *a, gc_problem *p, uint64_t *rs)
{
    if (a->data_path && a->model_path) {
        if (saved_model(a, p))
            return CLI_FAIL;
    } else {
        if (!(p->md.ctx = cli_context_create()))
            return CLI_FAIL;
        choose_precision(a, p);
        if (!a->data_path)
            return random_problem(p, rs);
        if (data_model(a, p))
            return CLI_FAIL;
    }
    p->n = p->md.tab.n;
    p->k = p->md.tab.k;
    return cli_make_dataset(p->md.ctx, &p->data, p->prec, &p->md.tab, p->labels, p->C);
}

/* The parameters checked: all, or a seeded sample of max_params of them
 * without replacement (a partial Fisher-Yates shuffle, drawn from *rs). */
static size_t *sample_params(size_t P, size_t max_params, uint64_t *rs, size_t *m)
{
    size_t *sel = malloc(P * sizeof *sel);
    if (!sel)
        return NULL;
    for (size_t p = 0; p < P; p++)
        sel[p] = p;
    *m = P;
    if (max_params > 0 && P > max_params) {
        for (size_t i = 0; i < max_params; i++) {
            size_t j = i + (size_t)(cli_rand(rs) % (P - i));
            size_t t = sel[i];
            sel[i] = sel[j];
            sel[j] = t;
        }
        *m = max_params;
    }
    return sel;
}

/* The largest relative error between the device gradient and the central
 * difference of the device loss, over the parameters sel[0..m). */
typedef struct gc_worst {
    double rel, analytic, numeric;
    size_t param;
} gc_worst;

static csm_status central_differences(gc_problem *p, double penalty_C, const size_t *sel, size_t m,
                                      gc_worst *worst)
{
    const size_t Ck = p->C * p->k;
    const double h_scale = p->fp64 ? EPS64 : EPS32, floor_ = p->fp64 ? FLOOR64 : FLOOR32;
    csm_status st;
    for (size_t s = 0; s < m; s++) {
        size_t q = sel[s];
        double *slot = q < Ck ? &p->w[q] : &p->b[q - Ck];
        double analytic = q < Ck ? p->dw[q] : p->db[q - Ck];
        double orig = *slot;
        double h = h_scale * fmax(1.0, fabs(orig));
        double up = orig + h, down = orig - h;
        if (!p->fp64) {
            /* The step the device actually sees. */
            up = (double)(float)up;
            down = (double)(float)down;
        }
        double lup = 0, ldown = 0;
        *slot = up;
        if ((st = csm_model_set_params(p->model, p->w, p->b)) != CSM_OK ||
            (st = csm_loss(p->model, p->data, penalty_C, &lup)) != CSM_OK)
            return st;
        *slot = down;
        if ((st = csm_model_set_params(p->model, p->w, p->b)) != CSM_OK ||
            (st = csm_loss(p->model, p->data, penalty_C, &ldown)) != CSM_OK)
            return st;
        *slot = orig;
        double numeric = (lup - ldown) / (up - down);
        double denom = fmax(fmax(fabs(analytic), fabs(numeric)), floor_);
        double rel = fabs(analytic - numeric) / denom;
        if (isnan(rel))
            rel = INFINITY; /* a NaN on either side fails */
        if (s == 0 || rel > worst->rel)
            *worst = (gc_worst){rel, analytic, numeric, q};
    }
    return csm_model_set_params(p->model, p->w, p->b);
}

/* The gradient at the model's weights, its check, and the verdict. */
static int check(const gc_args *a, gc_problem *p, uint64_t *rs)
{
    /* the library takes the penalty as C (csm_train's lambda for it: 1 / (C n),
     * 2 / (C n) for two classes); --l2 F is the C of that lambda */
    const double c_scale = p->C == 2 ? 2.0 : 1.0;
    double l2 = a->l2, penalty_C = a->penalty_C;
    if (penalty_C > 0)
        l2 = c_scale / (penalty_C * (double)p->n);
    else
        penalty_C = l2 > 0 ? c_scale / (l2 * (double)p->n) : INFINITY;
    const size_t P = p->C * p->k + p->C;
    if (!p->w)
        p->w = malloc(p->C * p->k * sizeof *p->w);
    if (!p->b)
        p->b = malloc(p->C * sizeof *p->b);
    p->dw = malloc(p->C * p->k * sizeof *p->dw);
    p->db = malloc(p->C * sizeof *p->db);
    size_t m = 0, *sel = NULL;
    if (!p->w || !p->b || !p->dw || !p->db || !(sel = sample_params(P, a->max_params, rs, &m))) {
        cli_error("out of memory");
        return CLI_FAIL;
    }
    double loss = 0;
    gc_worst worst = {0, 0, 0, 0};
    csm_status st = csm_model_get_params(p->model, p->w, p->b);
    if (st == CSM_OK)
        st = csm_gradient(p->model, p->data, penalty_C, &loss, p->dw, p->db);
    if (st == CSM_OK) {
        printf("gradcheck: %zu samples, %zu features, %zu classes, %s, l2 %g%s\n", p->n, p->k,
               p->C, p->fp64 ? "float64" : "float32", l2, a->data_path ? "" : " (random data)");
        printf("loss %.9g\n", loss);
        fflush(stdout);
        st = central_differences(p, penalty_C, sel, m, &worst);
    }
    free(sel);
    if (st != CSM_OK)
        return cli_lib_error(p->md.ctx, st);
    printf("checked %zu of %zu parameters\n", m, P);
    if (worst.param < p->C * p->k)
        printf("max relative error %.3g at weight[%zu,%zu] (device %.9g, numeric %.9g)\n",
               worst.rel, worst.param / p->k, worst.param % p->k, worst.analytic, worst.numeric);
    else
        printf("max relative error %.3g at bias[%zu] (device %.9g, numeric %.9g)\n", worst.rel,
               worst.param - p->C * p->k, worst.analytic, worst.numeric);
    const double tol = p->fp64 ? TOL64 : TOL32;
    int pass = worst.rel <= tol;
    printf("tolerance %g: %s\n", tol, pass ? "PASS" : "FAIL");
    fflush(stdout);
    return pass ? CLI_OK : CLI_FAIL;
}

int cmd_gradcheck(int argc, char **argv)
{
    gc_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    gc_problem p;
    memset(&p, 0, sizeof p);
    uint64_t rs = a.seed;
    rc = make_problem(&a, &p, &rs);
    if (!rc)
        rc = check(&a, &p, &rs);
    free(p.labels);
    free(p.w);
    free(p.b);
    free(p.dw);
    free(p.db);
    csm_dataset_free(p.data);
    csm_model_free(p.model);
    cli_model_data_free(&p.md);
    return rc;
}
