/* Training against the reference: exact optimizer steps, loss going down,
 * separable data learned, determinism. Tolerances as in check_ops.c
 * (float32 atol 2e-5 rtol 1e-4; float64 atol 1e-12 rtol 1e-10), scaled by
 * the number of steps compared where errors can accumulate. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "problem.h"
#include "reference.h"
#include "rng.h"
#include "split_k.h"
#include "testutil.h"

/* Minibatch tests that reimplement the resident sampling (one permutation
 * of all rows, batches across the whole dataset). */
#define SKIP_IF_STREAMED(d, cleanup)                                                           \
    do {                                                                                       \
        if (csm_dataset_chunks(d)) {                                                           \
            cleanup;                                                                           \
            CSM_TEST_SKIP("the dataset streams (CLSOFTMAX_MAX_ALLOC, tests/stream_env.sh): "   \
                          "minibatches follow the per-chunk sampling, which check_stream "     \
                          "tests against its own reference");                                  \
        }                                                                                      \
    } while (0)

static double atol_for(csm_precision p) { return p == CSM_FLOAT32 ? 2e-5 : 1e-12; }
static double rtol_for(csm_precision p) { return p == CSM_FLOAT32 ? 1e-4 : 1e-10; }

static void expect_params(csm_model *m, const double *W, const double *b, size_t C, size_t k,
                          csm_precision prec, double scale, const char *what)
{
    double *gw = malloc(C * k * sizeof *gw), *gb = malloc(C * sizeof *gb);
    ck_assert_int_eq(csm_model_get_params(m, gw, gb), CSM_OK);
    size_t at;
    double worst = csm_worst(gw, W, C * k, scale * atol_for(prec), scale * rtol_for(prec), &at);
    ck_assert_msg(worst <= 1, "%s: W[%zu] got %.17g want %.17g", what, at, gw[at], W[at]);
    worst = csm_worst(gb, b, C, scale * atol_for(prec), scale * rtol_for(prec), &at);
    ck_assert_msg(worst <= 1, "%s: b[%zu] got %.17g want %.17g", what, at, gb[at], b[at]);
    free(gw);
    free(gb);
}

/* l2: the reference's lambda, as the library's C over d (test_C) */
static void opts_plain(csm_train_options *o, const csm_dataset *d, int epochs, double lr,
                       size_t batch, double l2)
{
    csm_train_options_init(o, sizeof *o);
    o->solver = CSM_SGD;
    o->max_iter = epochs;
    o->tol = 0; /* every epoch asked for */
    o->learning_rate = lr;
    o->batch_size = batch;
    o->C = test_C(d, l2);
    o->shuffle = 0;
}

/* Full-batch SGD epochs == repeated reference steps (labels and soft
 * targets, with L2, odd sizes, both precisions). */
START_TEST(test_full_batch_sgd_matches_reference)
{
    csm_context *ctx = test_context();
    static const size_t shapes[][3] = {{7, 5, 3}, {93, 7, 2}, {13, 31, 100}};
    for (int pi = 0; pi < 2; pi++) {
        csm_precision prec = pi ? CSM_FLOAT64 : CSM_FLOAT32;
        if (prec == CSM_FLOAT64 && !test_has_fp64(ctx))
            continue;
        for (size_t s = 0; s < 3; s++)
            for (int soft = 0; soft < 2; soft++) {
                problem p = problem_make(shapes[s][0], shapes[s][1], shapes[s][2], prec, soft, 40 + s);
                csm_dataset *d = problem_dataset(&p, ctx);
                csm_model *m = problem_model(&p, ctx);
                csm_train_options o;
                opts_plain(&o, d, 3, 0.5, 0, 0.01);
                ck_assert_int_eq(csm_train(m, d, &o, NULL), CSM_OK);
                for (int e = 0; e < 3; e++)
                    ref_sgd_step(p.W, p.b, p.X, p.y, p.T, NULL, p.n, p.k, p.C, 0.01, 0.5);
                expect_params(m, p.W, p.b, p.C, p.k, prec, 3, "full-batch SGD");
                csm_model_free(m);
                csm_dataset_free(d);
                problem_free(&p);
            }
    }
    csm_context_free(ctx);
}
END_TEST

/* Full-batch SGD with the gradient GEMM split in 3 row chunks (the GPU
 * configuration, forced): the same steps as the reference. CLBlast path
 * only, with the split checked to be in effect. */
START_TEST(test_split_k_training_matches_reference)
{
    setenv("CLSOFTMAX_SPLIT_K", "3", 1);
    csm_context *ctx = test_context();
    csm_precision prec = test_has_fp64(ctx) ? CSM_FLOAT64 : CSM_FLOAT32;
    problem p = problem_make(50, 9, 4, prec, 0, 12);
    csm_dataset *d = problem_dataset(&p, ctx);
    csm_model *m = problem_model(&p, ctx);
    expect_split_k(m, d, p.n, 3);
    csm_train_options o;
    opts_plain(&o, d, 3, 0.5, 0, 0.01);
    ck_assert_int_eq(csm_train(m, d, &o, NULL), CSM_OK);
    for (int e = 0; e < 3; e++)
        ref_sgd_step(p.W, p.b, p.X, p.y, NULL, NULL, p.n, p.k, p.C, 0.01, 0.5);
    expect_params(m, p.W, p.b, p.C, p.k, prec, 3, "split-K full-batch SGD");
    csm_model_free(m);
    csm_dataset_free(d);
    problem_free(&p);
    csm_context_free(ctx);
    unsetenv("CLSOFTMAX_SPLIT_K");
}
END_TEST

/* Unshuffled minibatches of 3 over 8 rows: steps on rows 0-2, 3-5, 6-7,
 * each the mean over its own rows, in order. */
START_TEST(test_minibatch_sequence_matches_reference)
{
    csm_context *ctx = test_context();
    csm_precision prec = test_has_fp64(ctx) ? CSM_FLOAT64 : CSM_FLOAT32;
    problem p = problem_make(8, 4, 3, prec, 0, 8);
    csm_dataset *d = problem_dataset(&p, ctx);
    csm_model *m = problem_model(&p, ctx);
    csm_train_options o;
    opts_plain(&o, d, 2, 0.3, 3, 0.0);
    ck_assert_int_eq(csm_train(m, d, &o, NULL), CSM_OK);
    for (int e = 0; e < 2; e++)
        for (size_t r = 0; r < 8; r += 3) {
            size_t B = 8 - r < 3 ? 8 - r : 3;
            ref_sgd_step(p.W, p.b, p.X + r * 4, p.y + r, NULL, NULL, B, 4, 3, 0.0, 0.3);
        }
    expect_params(m, p.W, p.b, 3, 4, prec, 6, "minibatch SGD");
    csm_model_free(m);
    csm_dataset_free(d);
    problem_free(&p);
    csm_context_free(ctx);
}
END_TEST

/* Momentum and Adam: two full-batch steps against the textbook update
 * written out here on top of the reference gradient. */
START_TEST(test_momentum_and_adam_match_reference)
{
    csm_context *ctx = test_context();
    csm_precision prec = test_has_fp64(ctx) ? CSM_FLOAT64 : CSM_FLOAT32;
    for (int opt = CSM_MOMENTUM; opt <= CSM_ADAM; opt++) {
        problem p = problem_make(11, 6, 4, prec, 0, 60 + (uint64_t)opt);
        csm_dataset *d = problem_dataset(&p, ctx);
        csm_model *m = problem_model(&p, ctx);
        csm_train_options o;
        opts_plain(&o, d, 2, 0.05, 0, 0.02);
        o.solver = (csm_solver)opt;
        ck_assert_int_eq(csm_train(m, d, &o, NULL), CSM_OK);
        size_t nw = p.C * p.k, np = nw + p.C;
        double *g = malloc(np * sizeof *g), *mo = calloc(np, sizeof *mo), *v = calloc(np, sizeof *v);
        for (int t = 1; t <= 2; t++) {
            ref_backward(g, g + nw, p.X, p.y, NULL, NULL, p.W, p.b, p.n, p.k, p.C, 0.02);
            for (size_t q = 0; q < np; q++) {
                double *w = q < nw ? &p.W[q] : &p.b[q - nw];
                if (opt == CSM_MOMENTUM) {
                    v[q] = 0.9 * v[q] + g[q];
                    *w -= 0.05 * v[q];
                } else {
                    mo[q] = 0.9 * mo[q] + 0.1 * g[q];
                    v[q] = 0.999 * v[q] + 0.001 * g[q] * g[q];
                    double mh = mo[q] / (1 - pow(0.9, t)), vh = v[q] / (1 - pow(0.999, t));
                    *w -= 0.05 * mh / (sqrt(vh) + 1e-8);
                }
            }
        }
        /* Adam divides by sqrt(v): relative error grows for tiny gradients */
        expect_params(m, p.W, p.b, p.C, p.k, prec, opt == CSM_ADAM ? 100 : 4,
                      opt == CSM_ADAM ? "adam" : "momentum");
        free(g), free(mo), free(v);
        csm_model_free(m);
        csm_dataset_free(d);
        problem_free(&p);
    }
    csm_context_free(ctx);
}
END_TEST

/* The first-order optimizers written out on top of the reference gradient,
 * for steps over any rows: L2 on W only, never on the bias. */
typedef struct ref_opt {
    csm_solver solver;
    double lr, l2;
    long t;          /* steps so far (Adam's bias correction) */
    double *m, *v;   /* (C*k + C) moments, W's then b's */
    double *g;       /* (C*k + C) scratch */
} ref_opt;

static ref_opt ref_opt_make(csm_solver solver, double lr, double l2, size_t np)
{
    ref_opt r = {solver, lr, l2, 0, calloc(np, sizeof(double)), calloc(np, sizeof(double)),
                 malloc(np * sizeof(double))};
    ck_assert(r.m && r.v && r.g);
    return r;
}

static void ref_opt_free(ref_opt *r) { free(r->m), free(r->v), free(r->g); }

/* One step on rows X (B, k): f times the reference's (weighted) mean
 * gradient, + l2 W on W, then SGD, momentum (0.9) or Adam (0.9, 0.999,
 * 1e-8, the library's defaults). */
static void ref_opt_step(ref_opt *r, double *W, double *b, const double *X, const int32_t *y,
                         const double *T, const double *wts, size_t B, size_t k, size_t C,
                         double f)
{
    const size_t nw = C * k, np = nw + C;
    ref_backward(r->g, r->g + nw, X, y, T, wts, W, b, B, k, C, 0.0);
    r->t++;
    for (size_t q = 0; q < np; q++) {
        double *p = q < nw ? &W[q] : &b[q - nw];
        const double g = f * r->g[q] + (q < nw ? r->l2 * *p : 0.0);
        if (r->solver == CSM_SGD) {
            *p -= r->lr * g;
        } else if (r->solver == CSM_MOMENTUM) {
            r->v[q] = 0.9 * r->v[q] + g;
            *p -= r->lr * r->v[q];
        } else {
            r->m[q] = 0.9 * r->m[q] + 0.1 * g;
            r->v[q] = 0.999 * r->v[q] + 0.001 * g * g;
            const double mh = r->m[q] / (1 - pow(0.9, (double)r->t));
            const double vh = r->v[q] / (1 - pow(0.999, (double)r->t));
            *p -= r->lr * mh / (sqrt(vh) + 1e-8);
        }
    }
}

/* W and b are updated by one launch: with a strong L2 term the bias must
 * still get none. SGD, momentum and Adam over unshuffled minibatches (a
 * short last one), C*k = 651 so W's last work-group is partial, both
 * precisions, against the optimizers written out above; and without an
 * intercept (fit_intercept 0: the launch has no bias groups), where b is
 * set to 0 and must stay exactly 0 while W follows the steps taken with
 * b = 0. */
START_TEST(test_update_l2_on_weights_only)
{
    csm_context *ctx = test_context();
    const size_t n = 50, k = 93, C = 7, batch = 16;
    for (int run = 0; run < 4; run++) {
        csm_precision prec = run % 2 ? CSM_FLOAT64 : CSM_FLOAT32;
        const int bias = run < 2;
        if (prec == CSM_FLOAT64 && !test_has_fp64(ctx))
            continue;
        for (int opt = CSM_SGD; opt <= CSM_ADAM; opt++) {
            problem p = problem_make(n, k, C, prec, 0, 70 + (uint64_t)opt);
            csm_dataset *d = problem_dataset(&p, ctx);
            SKIP_IF_STREAMED(d, (csm_dataset_free(d), problem_free(&p), csm_context_free(ctx)));
            csm_model *m = problem_model(&p, ctx);
            const double lr = opt == CSM_ADAM ? 0.01 : 0.05, l2 = 0.5;
            csm_train_options o;
            opts_plain(&o, d, 2, lr, batch, l2);
            o.solver = (csm_solver)opt;
            o.fit_intercept = bias;
            ck_assert_int_eq(csm_train(m, d, &o, NULL), CSM_OK);
            ref_opt r = ref_opt_make((csm_solver)opt, lr, l2, C * k + C);
            if (!bias)
                memset(p.b, 0, C * sizeof *p.b);
            for (int e = 0; e < 2; e++)
                for (size_t row = 0; row < n; row += batch) {
                    size_t B = n - row < batch ? n - row : batch;
                    ref_opt_step(&r, p.W, p.b, p.X + row * k, p.y + row, NULL, NULL, B, k, C, 1.0);
                    if (!bias)
                        memset(p.b, 0, C * sizeof *p.b);
                }
            if (!bias) {
                double got[7], w[651];
                ck_assert_int_eq(csm_model_get_params(m, w, got), CSM_OK);
                for (size_t c = 0; c < C; c++)
                    ck_assert_msg(got[c] == 0.0, "%s, no intercept: b[%zu] = %g",
                                  csm_solver_name((csm_solver)opt), c, got[c]);
            }
            /* 8 steps; Adam divides by sqrt(v), so its relative error is larger */
            expect_params(m, p.W, p.b, C, k, prec, opt == CSM_ADAM ? 20 : 8,
                          bias ? csm_solver_name((csm_solver)opt) : "no intercept");
            ref_opt_free(&r);
            csm_model_free(m);
            csm_dataset_free(d);
            problem_free(&p);
        }
    }
    csm_context_free(ctx);
}
END_TEST

/* Shuffled minibatches with soft targets and sample weights: on the
 * CLBlast path one gather launch copies the rows, target rows and weights
 * of each batch; on the fused path the kernel reads them through the
 * permutation; on the tiled path the targets and weights are gathered and
 * the rows read in place. Each against the reference on the same batches: epoch e's
 * permutation is the seed's stream e (solver_first.c), each step's
 * gradient sum_batch w_i (O_i - T_i) x_i * n / (B sum_all w). */
START_TEST(test_shuffled_soft_weighted_match_reference)
{
    csm_context *ctx = test_context();
    const size_t n = 45, k = 13, C = 7, batch = 8, steps = 6;
    const int epochs = 2;
    static const char *const paths[3] = {"clblast", "fused", "tiled"};
    for (int run = 0; run < 6; run++) {
        csm_precision prec = run >= 3 ? CSM_FLOAT64 : CSM_FLOAT32;
        if (prec == CSM_FLOAT64 && !test_has_fp64(ctx))
            continue;
        ck_assert_int_eq(csm_context_set_option(ctx, "path", paths[run % 3]), CSM_OK);
        problem p = problem_make(n, k, C, prec, 1, 90 + (uint64_t)run);
        double *wts = malloc(n * sizeof *wts), wsum = 0;
        uint64_t ws = 31;
        csm_fill_uniform(wts, n, &ws, 0.2, 3.0);
        wts[n / 3] = 0;
        for (size_t i = 0; i < n; i++)
            wsum += wts[i];
        csm_dataset *d = problem_dataset(&p, ctx);
        SKIP_IF_STREAMED(d, (csm_dataset_free(d), free(wts), problem_free(&p), csm_context_free(ctx)));
        ck_assert_int_eq(csm_dataset_set_weights(d, wts), CSM_OK);
        csm_model *m = problem_model(&p, ctx);
        csm_train_options o;
        opts_plain(&o, d, epochs, 0.1, batch, 0.01);
        o.solver = CSM_MOMENTUM;
        o.shuffle = 1;
        o.seed = 5;
        ck_assert_int_eq(csm_train(m, d, &o, NULL), CSM_OK);

        ref_opt r = ref_opt_make(CSM_MOMENTUM, 0.1, 0.01, C * k + C);
        int32_t *perm = malloc(n * sizeof *perm);
        double *Xb = malloc(batch * k * sizeof *Xb), *Tb = malloc(batch * C * sizeof *Tb);
        double wb[8];
        for (int e = 0; e < epochs; e++) {
            csm_rng rng;
            csm_rng_seed_stream(&rng, 5, (uint64_t)e);
            for (size_t i = 0; i < n; i++)
                perm[i] = (int32_t)i;
            csm_rng_shuffle(&rng, perm, n);
            for (size_t row = 0; row < n; row += batch) {
                size_t B = n - row < batch ? n - row : batch;
                double bsum = 0;
                for (size_t i = 0; i < B; i++) {
                    size_t src = (size_t)perm[row + i];
                    memcpy(Xb + i * k, p.X + src * k, k * sizeof *Xb);
                    memcpy(Tb + i * C, p.T + src * C, C * sizeof *Tb);
                    wb[i] = wts[src];
                    bsum += wb[i];
                }
                /* the reference's mean is over sum_batch w: rescale */
                double f = bsum * (double)n / ((double)B * wsum);
                ref_opt_step(&r, p.W, p.b, Xb, NULL, Tb, wb, B, k, C, f);
            }
        }
        expect_params(m, p.W, p.b, C, k, prec, (double)(epochs * steps),
                      run & 1 ? "fused, shuffled soft weighted" : "clblast, shuffled soft weighted");
        free(perm), free(Xb), free(Tb), free(wts);
        ref_opt_free(&r);
        csm_model_free(m);
        csm_dataset_free(d);
        problem_free(&p);
    }
    csm_context_free(ctx);
}
END_TEST

typedef struct history {
    int n;
    double loss[64], acc[64];
} history;

static int record(csm_model *m, const csm_epoch_info *info, void *user)
{
    (void)m;
    history *h = user;
    ck_assert_uint_eq(info->struct_size, sizeof *info);
    ck_assert_int_eq(info->epoch, h->n + 1);
    ck_assert(info->seconds >= 0);
    h->loss[h->n] = info->loss;
    h->acc[h->n] = info->accuracy;
    h->n++;
    return 0;
}

/* Full batch with a small learning rate: gradient descent on a convex
 * smooth loss with lr below 2/L must decrease J every epoch (strictly). The
 * reported loss is J at the epoch's start, so compare with the reference. */
START_TEST(test_full_batch_loss_decreases)
{
    csm_context *ctx = test_context();
    problem p = problem_make(200, 10, 5, CSM_FLOAT32, 0, 3);
    csm_dataset *d = problem_dataset(&p, ctx);
    csm_model *m = problem_model(&p, ctx);
    history h = {0};
    csm_train_options o;
    opts_plain(&o, d, 25, 0.1, 0, 0.0);
    o.callback = record;
    o.user = &h;
    double J0 = ref_loss(p.X, p.y, NULL, NULL, p.W, p.b, p.n, p.k, p.C, 0.0);
    ck_assert_int_eq(csm_train(m, d, &o, NULL), CSM_OK);
    ck_assert_int_eq(h.n, 25);
    ck_assert_msg(csm_close(h.loss[0], J0, 2e-5, 1e-4), "first loss %g vs %g", h.loss[0], J0);
    for (int e = 1; e < h.n; e++)
        ck_assert_msg(h.loss[e] < h.loss[e - 1], "epoch %d: %.9g >= %.9g", e + 1, h.loss[e],
                      h.loss[e - 1]);
    csm_model_free(m);
    csm_dataset_free(d);
    problem_free(&p);
    csm_context_free(ctx);
}
END_TEST

/* The target class of row i: its label, or the argmax of its soft targets. */
static size_t target_class(const problem *p, size_t i)
{
    if (p->y)
        return (size_t)p->y[i];
    size_t t = 0;
    for (size_t c = 1; c < p->C; c++)
        if (p->T[i * p->C + c] > p->T[i * p->C + t])
            t = c;
    return t;
}

/* Correct predictions among rows [r0, r0 + B) at weights W, b, by the
 * reference: *sure counts the rows whose top two logits are further apart
 * than `tie` (device rounding cannot flip them), *hits those rows and the
 * others that are right, so a device count in [sure hits, hits] is right. */
static void ref_hits(const problem *p, const double *W, const double *b, size_t r0, size_t B,
                     double tie, size_t *hits, size_t *sure_hits)
{
    double *lg = malloc(B * p->C * sizeof *lg);
    ref_forward(lg, NULL, p->X + r0 * p->k, W, b, B, p->k, p->C);
    for (size_t i = 0; i < B; i++) {
        const double *l = lg + i * p->C;
        size_t best = 0;
        for (size_t c = 1; c < p->C; c++)
            if (l[c] > l[best])
                best = c;
        double gap = INFINITY;
        for (size_t c = 0; c < p->C; c++)
            if (c != best)
                gap = fmin(gap, l[best] - l[c]);
        int right = best == target_class(p, r0 + i);
        *hits += (size_t)right;
        *sure_hits += (size_t)(right && gap > tie);
    }
    free(lg);
}

/* The epoch report of the first-order solvers against the reference: the
 * loss is the mean over the epoch's steps of each step's loss at the
 * weights before it (rows weighted by batch size, so a short last batch
 * counts by its rows), plus the mean over steps of (l2/2)||W||^2 at those
 * weights; the accuracy is the fraction of rows right at those weights.
 * Unshuffled minibatches of 3 over 8 rows (the last one short), L2 0.05,
 * SGD and momentum, labels and soft targets, both precisions, 3 epochs.
 * Tolerances as above, scaled by the steps that led to the weights. */
START_TEST(test_epoch_report_matches_reference)
{
    csm_context *ctx = test_context();
    const size_t n = 8, k = 4, C = 3, B = 3, epochs = 3;
    const double l2 = 0.05, lr = 0.3;
    for (int pi = 0; pi < 2; pi++) {
        csm_precision prec = pi ? CSM_FLOAT64 : CSM_FLOAT32;
        if (prec == CSM_FLOAT64 && !test_has_fp64(ctx))
            continue;
        const double tie = prec == CSM_FLOAT64 ? 1e-9 : 1e-3;
        for (int solver = CSM_SGD; solver <= CSM_MOMENTUM; solver++)
            for (int soft = 0; soft < 2; soft++) {
                problem p = problem_make(n, k, C, prec, soft, 70 + (uint64_t)(solver * 2 + soft));
                csm_dataset *d = problem_dataset(&p, ctx);
                csm_model *m = problem_model(&p, ctx);
                history h = {0};
                csm_train_options o;
                opts_plain(&o, d, (int)epochs, lr, B, l2);
                o.solver = (csm_solver)solver;
                o.callback = record;
                o.user = &h;
                ck_assert_int_eq(csm_train(m, d, &o, NULL), CSM_OK);
                ck_assert_int_eq(h.n, (int)epochs);

                double v[15] = {0}, g[15];
                const size_t nw = C * k, steps = (n + B - 1) / B;
                for (size_t e = 0; e < epochs; e++) {
                    double loss = 0, sq = 0;
                    size_t hits = 0, sure = 0;
                    for (size_t r = 0; r < n; r += B) {
                        size_t b = n - r < B ? n - r : B;
                        loss += (double)b * ref_loss(p.X + r * k, p.y ? p.y + r : NULL,
                                                     p.T ? p.T + r * C : NULL, NULL, p.W, p.b,
                                                     b, k, C, 0.0);
                        for (size_t q = 0; q < nw; q++)
                            sq += p.W[q] * p.W[q];
                        ref_hits(&p, p.W, p.b, r, b, tie, &hits, &sure);
                        ref_backward(g, g + nw, p.X + r * k, p.y ? p.y + r : NULL,
                                     p.T ? p.T + r * C : NULL, NULL, p.W, p.b, b, k, C, l2);
                        for (size_t q = 0; q < nw + C; q++) {
                            double *w = q < nw ? &p.W[q] : &p.b[q - nw];
                            v[q] = solver == CSM_MOMENTUM ? 0.9 * v[q] + g[q] : g[q];
                            *w -= lr * v[q];
                        }
                    }
                    double want = loss / (double)n + 0.5 * l2 * sq / (double)steps;
                    double scale = (double)(e + 1) * (double)steps;
                    ck_assert_msg(csm_close(h.loss[e], want, scale * atol_for(prec),
                                            scale * rtol_for(prec)),
                                  "%s solver %d soft %d epoch %zu: loss %.12g, reference %.12g",
                                  prec == CSM_FLOAT64 ? "f64" : "f32", solver, soft, e + 1,
                                  h.loss[e], want);
                    double got = h.acc[e] * (double)n;
                    ck_assert_msg(fabs(got - nearbyint(got)) < 1e-9 &&
                                      got >= (double)sure - 0.5 && got <= (double)hits + 0.5,
                                  "%s solver %d soft %d epoch %zu: accuracy %.6g (%g of %zu), "
                                  "reference %zu (%zu certain)",
                                  prec == CSM_FLOAT64 ? "f64" : "f32", solver, soft, e + 1,
                                  h.acc[e], got, n, hits, sure);
                }
                csm_model_free(m);
                csm_dataset_free(d);
                problem_free(&p);
            }
    }
    csm_context_free(ctx);
}
END_TEST

/* L-BFGS reports J (with its L2 term) and the accuracy at each new iterate:
 * both recomputed by the reference from the weights the callback sees. */
typedef struct lbfgs_check {
    const problem *p;
    double l2, tie;
    csm_precision prec;
    int n;
} lbfgs_check;

static int check_lbfgs_iterate(csm_model *m, const csm_epoch_info *info, void *user)
{
    lbfgs_check *c = user;
    const problem *p = c->p;
    double *W = malloc((p->C * p->k + p->C) * sizeof *W), *b = W + p->C * p->k;
    ck_assert_int_eq(csm_model_get_params(m, W, b), CSM_OK);
    double J = ref_loss(p->X, p->y, p->T, NULL, W, b, p->n, p->k, p->C, c->l2);
    ck_assert_msg(csm_close(info->loss, J, atol_for(c->prec), rtol_for(c->prec)),
                  "iteration %d: J %.12g, reference %.12g", info->epoch, info->loss, J);
    size_t hits = 0, sure = 0;
    ref_hits(p, W, b, 0, p->n, c->tie, &hits, &sure);
    double got = info->accuracy * (double)p->n;
    ck_assert_msg(got >= (double)sure - 0.5 && got <= (double)hits + 0.5,
                  "iteration %d: accuracy %.6g, reference %zu of %zu (%zu certain)", info->epoch,
                  info->accuracy, hits, p->n, sure);
    free(W);
    c->n++;
    return 0;
}

START_TEST(test_lbfgs_report_matches_reference)
{
    csm_context *ctx = test_context();
    csm_precision prec = test_has_fp64(ctx) ? CSM_FLOAT64 : CSM_FLOAT32;
    for (int soft = 0; soft < 2; soft++) {
        problem p = problem_make(40, 5, 4, prec, soft, 90 + (uint64_t)soft);
        csm_dataset *d = problem_dataset(&p, ctx);
        csm_model *m = problem_model(&p, ctx);
        lbfgs_check c = {&p, 0.03, prec == CSM_FLOAT64 ? 1e-9 : 1e-3, prec, 0};
        csm_train_options o;
        csm_train_options_init(&o, sizeof o);
        o.C = test_C(d, c.l2);
        o.max_iter = 8;
        o.tol = 0;
        o.callback = check_lbfgs_iterate;
        o.user = &c;
        ck_assert_int_eq(csm_train(m, d, &o, NULL), CSM_OK);
        ck_assert_int_ge(c.n, 1);
        csm_model_free(m);
        csm_dataset_free(d);
        problem_free(&p);
    }
    csm_context_free(ctx);
}
END_TEST

/* Linearly separable: class = argmax of 4 fixed random directions (with a
 * margin), shuffled minibatches: >= 99% training accuracy for each
 * optimizer. */
START_TEST(test_separable_reaches_99_percent)
{
    csm_context *ctx = test_context();
    const size_t n = 2000, k = 8, C = 4;
    uint64_t s = 1234;
    double *X = malloc(n * k * sizeof *X), dirs[32];
    int32_t *y = malloc(n * sizeof *y);
    csm_fill_uniform(dirs, C * k, &s, -1, 1);
    size_t i = 0;
    while (i < n) {
        double x[8], sc[4];
        csm_fill_uniform(x, k, &s, -1, 1);
        for (size_t c = 0; c < C; c++) {
            sc[c] = 0;
            for (size_t j = 0; j < k; j++)
                sc[c] += dirs[c * k + j] * x[j];
        }
        size_t best = 0, second = 1;
        if (sc[1] > sc[0]) best = 1, second = 0;
        for (size_t c = 2; c < C; c++) {
            if (sc[c] > sc[best]) second = best, best = c;
            else if (sc[c] > sc[second]) second = c;
        }
        if (sc[best] - sc[second] < 0.1)
            continue; /* keep a margin */
        memcpy(X + i * k, x, sizeof x);
        y[i++] = (int32_t)best;
    }
    csm_dataset *d = NULL;
    ck_assert_int_eq(csm_dataset_create(ctx, &d, CSM_FLOAT32, X, CSM_DTYPE_F64, n, k, y, NULL, C), CSM_OK);
    for (int opt = CSM_SGD; opt <= CSM_ADAM; opt++) {
        csm_model *m = NULL;
        ck_assert_int_eq(csm_model_create(ctx, &m, CSM_FLOAT32, C, k), CSM_OK);
        ck_assert_int_eq(csm_model_init(m, CSM_INIT_NORMAL, 5), CSM_OK);
        csm_train_options o;
        csm_train_options_init(&o, sizeof o);
        o.solver = (csm_solver)opt;
        o.max_iter = 60;
        o.tol = 0;
        o.C = INFINITY;
        o.batch_size = 32;
        o.learning_rate = opt == CSM_ADAM ? 0.05 : 0.5;
        ck_assert_int_eq(csm_train(m, d, &o, NULL), CSM_OK);
        double acc = 0;
        ck_assert_int_eq(csm_evaluate(m, d, NULL, &acc), CSM_OK);
        ck_assert_msg(acc >= 0.99, "optimizer %d: accuracy %.4f", opt, acc);
        csm_model_free(m);
    }
    csm_dataset_free(d);
    free(X);
    free(y);
    csm_context_free(ctx);
}
END_TEST

/* Same seed, same device: bitwise the same weights (fixed reduction order,
 * seeded shuffle and init); another seed gives other weights. */
START_TEST(test_deterministic_by_seed)
{
    csm_context *ctx = test_context();
    problem p = problem_make(97, 9, 3, CSM_FLOAT32, 0, 21);
    csm_dataset *d = problem_dataset(&p, ctx);
    double w[3][27];
    for (int run = 0; run < 3; run++) {
        csm_model *m = NULL;
        ck_assert_int_eq(csm_model_create(ctx, &m, CSM_FLOAT32, 3, 9), CSM_OK);
        ck_assert_int_eq(csm_model_init(m, CSM_INIT_NORMAL, 8), CSM_OK);
        csm_train_options o;
        csm_train_options_init(&o, sizeof o);
        o.solver = CSM_SGD;
        o.max_iter = 3;
        o.tol = 0;
        o.batch_size = 10;
        o.seed = run == 2 ? 99 : 7;
        ck_assert_int_eq(csm_train(m, d, &o, NULL), CSM_OK);
        ck_assert_int_eq(csm_model_get_params(m, w[run], NULL), CSM_OK);
        csm_model_free(m);
    }
    ck_assert(memcmp(w[0], w[1], sizeof w[0]) == 0);
    ck_assert(memcmp(w[0], w[2], sizeof w[0]) != 0);
    csm_dataset_free(d);
    problem_free(&p);
    csm_context_free(ctx);
}
END_TEST

/* N(0, 0.01) init: mean ~0, std ~0.01 over 10000 weights (3-sigma bounds),
 * bias zero; zeros init gives zeros. */
START_TEST(test_init)
{
    csm_context *ctx = test_context();
    csm_model *m = NULL;
    ck_assert_int_eq(csm_model_create(ctx, &m, CSM_FLOAT32, 10, 1000), CSM_OK);
    ck_assert_int_eq(csm_model_init(m, CSM_INIT_NORMAL, 42), CSM_OK);
    double *w = malloc(10000 * sizeof *w), b[10];
    ck_assert_int_eq(csm_model_get_params(m, w, b), CSM_OK);
    double mean = 0, var = 0;
    for (int i = 0; i < 10000; i++)
        mean += w[i] / 10000;
    for (int i = 0; i < 10000; i++)
        var += (w[i] - mean) * (w[i] - mean) / 9999;
    ck_assert_msg(fabs(mean) < 3 * 0.01 / 100, "mean %g", mean);
    ck_assert_msg(fabs(sqrt(var) - 0.01) < 3 * 0.01 / sqrt(2 * 9999.0), "std %g", sqrt(var));
    for (int c = 0; c < 10; c++)
        ck_assert(b[c] == 0);
    ck_assert_int_eq(csm_model_init(m, CSM_INIT_ZEROS, 0), CSM_OK);
    ck_assert_int_eq(csm_model_get_params(m, w, NULL), CSM_OK);
    for (int i = 0; i < 10000; i++)
        ck_assert(w[i] == 0);
    free(w);
    csm_model_free(m);
    csm_context_free(ctx);
}
END_TEST

static int stop_after_two(csm_model *m, const csm_epoch_info *info, void *user)
{
    (void)m;
    *(int *)user = info->epoch;
    return info->epoch == 2;
}

/* A callback returning non-zero stops training, with CSM_OK. */
START_TEST(test_callback_stops)
{
    csm_context *ctx = test_context();
    problem p = problem_make(20, 3, 2, CSM_FLOAT32, 0, 2);
    csm_dataset *d = problem_dataset(&p, ctx);
    csm_model *m = problem_model(&p, ctx);
    int last = 0;
    csm_train_options o;
    csm_train_options_init(&o, sizeof o);
    o.solver = CSM_SGD;
    o.max_iter = 10;
    o.tol = 0;
    o.callback = stop_after_two;
    o.user = &last;
    csm_train_result r = {.struct_size = sizeof r};
    ck_assert_int_eq(csm_train(m, d, &o, &r), CSM_OK);
    ck_assert_int_eq(last, 2);
    ck_assert_int_eq(r.n_iter, 2);
    ck_assert_int_eq(r.stop, CSM_STOP_CALLBACK);
    ck_assert_int_eq(r.converged, 0);
    /* and with L-BFGS, whose callback runs per iteration */
    last = 0;
    csm_train_options_init(&o, sizeof o);
    o.callback = stop_after_two;
    o.user = &last;
    o.tol = 1e-12;
    ck_assert_int_eq(csm_train(m, d, &o, &r), CSM_OK);
    ck_assert_int_eq(last, 2);
    ck_assert_int_eq(r.stop, CSM_STOP_CALLBACK);
    csm_model_free(m);
    csm_dataset_free(d);
    problem_free(&p);
    csm_context_free(ctx);
}
END_TEST

/* Options and result from another header (another struct_size) are
 * refused before training, with a message naming the field and the fix;
 * the model is untouched. */
START_TEST(test_train_struct_size)
{
    csm_context *ctx = test_context();
    problem p = problem_make(20, 3, 2, CSM_FLOAT32, 0, 2);
    csm_dataset *d = problem_dataset(&p, ctx);
    csm_model *m = problem_model(&p, ctx);
    csm_train_options o;
    ck_assert_int_eq(csm_train_options_init(&o, sizeof o), CSM_OK);
    o.max_iter = 2;
    csm_train_result r = {.struct_size = sizeof r};
    o.struct_size = sizeof o - sizeof(double);
    ck_assert_int_eq(csm_train(m, d, &o, &r), CSM_ERR_INVALID_VALUE);
    const char *e = csm_context_last_error(ctx);
    ck_assert_msg(strstr(e, "options->struct_size") && strstr(e, "csm_train_options_init"), "%s", e);
    o.struct_size = sizeof o;
    r.struct_size = 0;
    ck_assert_int_eq(csm_train(m, d, &o, &r), CSM_ERR_INVALID_VALUE);
    e = csm_context_last_error(ctx);
    ck_assert_msg(strstr(e, "result->struct_size is 0"), "%s", e);
    double w[6], b[2];
    ck_assert_int_eq(csm_model_get_params(m, w, b), CSM_OK);
    ck_assert(memcmp(w, p.W, sizeof w) == 0 && memcmp(b, p.b, sizeof b) == 0);
    ck_assert_ptr_null(csm_model_solver_state(m, NULL));
    /* NULL result needs no size; a right one gets it back */
    ck_assert_int_eq(csm_train(m, d, &o, NULL), CSM_OK);
    r.struct_size = sizeof r;
    ck_assert_int_eq(csm_train(m, d, &o, &r), CSM_OK);
    ck_assert_uint_eq(r.struct_size, sizeof r);
    ck_assert_int_eq(r.n_iter, 2);
    csm_model_free(m);
    csm_dataset_free(d);
    problem_free(&p);
    csm_context_free(ctx);
}
END_TEST

/* Shuffled minibatches over 8-bit features: the CLBlast path (gather
 * kernels, widened X), the fused and the tiled path (read bytes through
 * the permutation) must train to the same weights, and the same as a float
 * dataset holding byte/255. Same seed, so the same permutation; float32
 * tolerance scaled by the 3 epochs x 7 steps compared. */
START_TEST(test_paths_agree_shuffled_u8)
{
    csm_context *ctx = test_context();
    const size_t n = 100, k = 12, C = 5;
    unsigned char *xb = malloc(n * k);
    float *xf = malloc(n * k * sizeof *xf);
    int32_t *y = malloc(n * sizeof *y);
    uint64_t s = 77;
    for (size_t i = 0; i < n * k; i++) {
        xb[i] = (unsigned char)(csm_test_rand(&s) & 0xff);
        xf[i] = (float)(xb[i] / 255.0);
    }
    for (size_t i = 0; i < n; i++)
        y[i] = (int32_t)(csm_test_rand(&s) % C);
    double w[6][60], bias[6][5];
    static const char *const paths[3] = {"clblast", "fused", "tiled"};
    for (int run = 0; run < 6; run++) {
        ck_assert_int_eq(csm_context_set_option(ctx, "path", paths[run % 3]), CSM_OK);
        csm_dataset *d = NULL;
        if (run < 3)
            ck_assert_int_eq(csm_dataset_create(ctx, &d, CSM_FLOAT32, xb, CSM_DTYPE_U8, n, k, y, NULL, C), CSM_OK);
        else
            ck_assert_int_eq(csm_dataset_create(ctx, &d, CSM_FLOAT32, xf, CSM_DTYPE_F32, n, k, y, NULL, C), CSM_OK);
        SKIP_IF_STREAMED(d, (csm_dataset_free(d), free(xb), free(xf), free(y), csm_context_free(ctx)));
        csm_model *m = NULL;
        ck_assert_int_eq(csm_model_create(ctx, &m, CSM_FLOAT32, C, k), CSM_OK);
        ck_assert_int_eq(csm_model_init(m, CSM_INIT_NORMAL, 3), CSM_OK);
        csm_train_options o;
        csm_train_options_init(&o, sizeof o);
        o.max_iter = 3;
        o.tol = 0;
        o.C = INFINITY;
        o.batch_size = 16;
        o.solver = CSM_MOMENTUM;
        o.learning_rate = 0.2;
        ck_assert_int_eq(csm_train(m, d, &o, NULL), CSM_OK);
        ck_assert_int_eq(csm_model_get_params(m, w[run], bias[run]), CSM_OK);
        csm_model_free(m);
        csm_dataset_free(d);
    }
    for (int run = 1; run < 6; run++) {
        size_t at;
        double worst = csm_worst(w[run], w[0], C * k, 21 * 2e-5, 21 * 1e-4, &at);
        ck_assert_msg(worst <= 1, "run %d: W[%zu] %.9g vs %.9g", run, at, w[run][at], w[0][at]);
        worst = csm_worst(bias[run], bias[0], C, 21 * 2e-5, 21 * 1e-4, &at);
        ck_assert_msg(worst <= 1, "run %d: b[%zu] %.9g vs %.9g", run, at, bias[run][at], bias[0][at]);
    }
    free(xb);
    free(xf);
    free(y);
    csm_context_free(ctx);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        test_full_batch_sgd_matches_reference,
        test_minibatch_sequence_matches_reference,
        test_momentum_and_adam_match_reference,
        test_update_l2_on_weights_only,
        test_full_batch_loss_decreases,
        test_separable_reaches_99_percent,
        test_deterministic_by_seed,
        test_init,
        test_callback_stops,
        test_train_struct_size,
        test_epoch_report_matches_reference,
        test_lbfgs_report_matches_reference,
    };
    Suite *s = csm_suite_per_path("train", tests, sizeof tests / sizeof *tests);
    const TTest *const clblast_only[] = {test_split_k_training_matches_reference};
    csm_suite_add_clblast_only(s, clblast_only, 1);
    TCase *both = tcase_create("both-paths");
    tcase_set_timeout(both, CSM_DEVICE_TIMEOUT);
    tcase_add_test(both, test_paths_agree_shuffled_u8);
    tcase_add_test(both, test_shuffled_soft_weighted_match_reference);
    suite_add_tcase(s, both);
    return csm_test_main(s, 1);
}
