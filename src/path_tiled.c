/* The tiled path: S = X W^T and dW = D^T X by our own register-blocked
 * kernels (kernels/tiled.cl) for CPU devices, where CLBlast's untuned
 * GEMMs reach a few GFLOP/s and the fused kernel's per-class registers run
 * out past a few dozen classes. A gradient step is three launches, where
 * the other product paths run six: the weights' transpose; the logits with
 * each row's bias, softmax, loss and delta (common.cl's row, as
 * forward.cl's kernel computes it); the gradient with the bias sums and the
 * step's loss sums. A minibatch step of a first-order solver is two: the
 * gradient's tasks also apply the update to the blocks they summed and
 * write W^T for the next step, whose transpose is then left out
 * (tiled_step_update). Shuffled rows and their targets are read in place
 * through the permutation: nothing is gathered. The other passes (a
 * direction's products, forward passes, the Hessian's) run the products
 * alone between step.c's kernels. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "launch.h"
#include "step.h"
#include "vec.h"

/* Features per work-item of the weights' transpose (tiled.cl's TJ): a
 * class tile's block of them stays in L1. */
#define TJ 64
/* Elements of dW per work-item of tiled_dweight_sum (tiled.cl's SPAN). */
#define SPAN 2048

/* The gradient's rows go in up to MAX_CHUNKS chunks of at least
 * CHUNK_PANELS panels (KC rows each), so that a full batch makes 64 or
 * more tasks where it made 8 (class_chunk); each chunk's partial dW (C k reals) is
 * summed afterwards in chunk order, and the partials take at most
 * PART_BYTES. The count follows from the rows, the geometry and the
 * shape only, never from the device's threads, so neither does the
 * result. A 256-row minibatch stays one chunk: no partials, no sum. */
#define MAX_CHUNKS 16
#define CHUNK_PANELS 4
#define PART_BYTES ((size_t)64 << 20)
#define TASKS_PER_CU 32

typedef struct tiled {
    csm_tile tile;
    unsigned vec;     /* vector width */
    size_t cp;        /* C rounded up to the vector width */
    size_t nfi;       /* gradient items along the features */
    size_t rows;      /* rows per logits item (a multiple of RT) */
    size_t cu;        /* compute units */
    size_t rmax;      /* the most row chunks a gradient launch may use */
    cl_mem wt;        /* (k, CP) W^T packed by class tiles */
    cl_mem dbias_comp; /* (C) compensation of the bias gradient's sums */
    cl_mem pw, pb, pbc; /* (rmax, C, k), (rmax, C) x 2: row chunks' partials */
    cl_mem counter;   /* (1) int: the tasks' counter of tiled_logits_softmax, tiled_dweight */
    long next;        /* its value after the launches so far; -1: to be zeroed */
    int wt_kept;      /* wt holds W^T as the last step_update left W */
    cl_kernel k_transpose, k_logits, k_step_logits, k_dweight, k_dsum;
} tiled;

/* Its kernels are written for CPUs: one work-item per group running
 * explicit vector code. */
static int tiled_fits(const csm_context *ctx, const csm_shape *s)
{
    return !s->sparse && csm_is_cpu(ctx);
}

/* A smaller packed panel (xpack, FTI KC NV VEC reals of local memory):
 * shorter panels first, down to 8 rows, then fewer feature tiles per item,
 * then shorter panels again. 0 when there is nothing left to take. */
static int shrink_tile(csm_tile *t)
{
    if (t->kc > 8)
        t->kc = (t->kc + 1) / 2;
    else if (t->fti > 1)
        t->fti = (t->fti + 1) / 2;
    else if (t->kc > 1)
        t->kc = (t->kc + 1) / 2;
    else
        return 0;
    return 1;
}

/* The work split for tile t: gradient items along the features (the
 * class chunks follow per launch, class_chunk) and logits items (up to 8
 * row tiles each, fewer when that would leave fewer than 4 items per
 * compute unit). */
static void split_work(const csm_step *w, tiled *p)
{
    const csm_tile *t = &p->tile;
    const size_t ft = t->nv * p->vec;
    p->nfi = ((w->k + ft - 1) / ft + t->fti - 1) / t->fti;
    const size_t cu = w->ctx->info.compute_units ? w->ctx->info.compute_units : 1;
    p->cu = cu;
    const size_t tiles = (w->cap + t->rt - 1) / t->rt, mt = (tiles + 4 * cu - 1) / (4 * cu);
    p->rows = t->rt * (mt < 1 ? 1 : mt > 8 ? 8 : mt);
}

/* The kernels for p->tile, shrunk until they fit the device's local
 * memory; *fits = 0 when even the smallest panel does not. */
static csm_status build(csm_step *w, tiled *p, const csm_dataset *d, int *fits)
{
    csm_context *ctx = w->ctx;
    csm_tile *t = &p->tile;
    const csm_tile asked = *t;
    const size_t es = csm_real_size(w->prec);
    char why[160] = "";
    *fits = 0;
    for (;;) {
        split_work(w, p);
        /* logits panel: 64 KiB of WT per class tile, at home in L2 */
        const size_t kp = 65536 / (t->nv * p->vec * es);
        const size_t bytes = (size_t)t->fti * t->kc * t->nv * p->vec * es;
        if (bytes <= ctx->limits.local_mem) {
            char extra[192];
            snprintf(extra, sizeof extra,
                     "-DX_U8=%d -DVEC=%u -DNV=%u -DRT=%u -DQC=%u -DKC=%u -DFTI=%u -DKP=%zu "
                     "-DTJ=%d -DSPAN=%d",
                     d && d->x_u8 ? 1 : 0, p->vec, t->nv, t->rt, t->qc, t->kc, t->fti,
                     kp < 16 ? (size_t)16 : kp, TJ, SPAN);
            static const char *const names[] = {"tiled_transpose", "tiled_logits",
                                                "tiled_logits_softmax", "tiled_dweight",
                                                "tiled_dweight_sum"};
            cl_kernel *ks[] = {&p->k_transpose, &p->k_logits, &p->k_step_logits, &p->k_dweight,
                               &p->k_dsum};
            csm_status st = CSM_OK;
            for (size_t i = 0; i < 5 && st == CSM_OK; i++)
                st = csm_get_kernel(ctx, ks[i], "tiled.cl", names[i], w->prec, extra);
            if (st != CSM_OK)
                return st;
            /* one work-item per group: only the panel can be too large */
            if (csm_kernel_fits(ctx, p->k_dweight, 1, why, sizeof why) &&
                csm_kernel_fits(ctx, p->k_logits, 1, why, sizeof why) &&
                csm_kernel_fits(ctx, p->k_step_logits, 1, why, sizeof why))
                break;
        } else {
            snprintf(why, sizeof why, "%zu bytes of local memory, the device has %llu", bytes,
                     (unsigned long long)ctx->limits.local_mem);
        }
        if (!shrink_tile(t)) {
            csm_log(ctx, CSM_LOG_DEBUG, "tiled path cannot run C=%zu on %s: even one row needs %s",
                    w->C, ctx->info.device_name, why);
            return CSM_OK;
        }
    }
    *fits = 1;
    if (t->kc != asked.kc || t->fti != asked.fti)
        csm_log(ctx, CSM_LOG_DEBUG,
                "tiled path for C=%zu: panels of %u rows, %u feature tiles per item (asked %u, "
                "%u): those need %s",
                w->C, t->kc, t->fti, asked.kc, asked.fti, why);
    return CSM_OK;
}

static void tiled_free(csm_step *w)
{
    tiled *p = w->priv;
    if (!p)
        return;
    csm_buffer_release(&p->wt);
    csm_buffer_release(&p->dbias_comp);
    csm_buffer_release(&p->pw);
    csm_buffer_release(&p->pb);
    csm_buffer_release(&p->pbc);
    csm_buffer_release(&p->counter);
    free(p);
    w->priv = NULL;
}

/* The most row chunks a launch of B rows may use: at least CHUNK_PANELS
 * panels of KC rows each, at most rmax chunks. */
static size_t chunks_max(const tiled *p, size_t B)
{
    const size_t r = B / (CHUNK_PANELS * (size_t)p->tile.kc);
    return r < 1 ? 1 : r > p->rmax ? p->rmax : r;
}

/* Rows per gradient chunk for a launch of B rows: whole panels, so that
 * ceil(B / rows) <= chunks_max(B). */
static size_t chunk_rows(const tiled *p, size_t B)
{
    const size_t r = chunks_max(p, B);
    if (r == 1)
        return B > 0 ? B : 1;
    return csm_round_up((B + r - 1) / r, p->tile.kc);
}

/* Classes per gradient task for a launch of nr row chunks: whole class
 * tiles, as few chunks as give TASKS_PER_CU tasks per compute unit (4 per
 * unit with one row chunk, as before the row chunks). Each class chunk
 * packs the rows' features again, and at k = 1000 those come from memory:
 * two class chunks of a full batch read X twice (160 MB at n 20000). The
 * split changes which task computes an element, never the order of its
 * sum. */
static size_t class_chunk(const csm_step *w, const tiled *p, size_t nr)
{
    const size_t want = nr > 1 ? TASKS_PER_CU * p->cu : 4 * p->cu, have = p->nfi * nr;
    const size_t chunks = (want + have - 1) / have;
    return csm_round_up((w->C + chunks - 1) / chunks, p->tile.qc);
}

static csm_status tiled_init(csm_step *w, const csm_dataset *d, const csm_tile *tile, int *fits)
{
    csm_context *ctx = w->ctx;
    tiled *p = calloc(1, sizeof *p);
    if (!p)
        return csm_fail(ctx, CSM_ERR_OUT_OF_MEMORY, "out of host memory");
    w->priv = p;
    /* The "tile" option (CLSOFTMAX_TILE) replaces the caller's geometry:
     * the tests use it to reach every remainder of the kernels. */
    const unsigned *o = ctx->opt.tile;
    p->tile = o[0] ? (csm_tile){o[0], o[1], o[2], o[3], o[4]} : *tile;
    p->vec = csm_vector_width(ctx, w->prec);
    p->cp = csm_round_up(w->C, p->vec);
    const size_t es = csm_real_size(w->prec);
    csm_status st = build(w, p, d, fits);
    if (st == CSM_OK && *fits)
        st = csm_buffer_create(ctx, &p->wt, w->k * p->cp * es, "transposed weights");
    if (st == CSM_OK && *fits)
        st = csm_buffer_create(ctx, &p->dbias_comp, w->C * es, "bias gradient compensation");
    if (st == CSM_OK && *fits)
        st = csm_buffer_create(ctx, &p->counter, sizeof(cl_int), "task counter");
    p->next = -1;
    if (st == CSM_OK && *fits) {
        const size_t part = w->C * w->k * es, rm = part ? PART_BYTES / part : MAX_CHUNKS;
        p->rmax = rm < 1 ? 1 : rm > MAX_CHUNKS ? MAX_CHUNKS : rm;
        const size_t nr = chunks_max(p, w->cap); /* B <= cap: as many as any launch needs */
        if (nr > 1) {
            st = csm_buffer_create(ctx, &p->pw, nr * part, "gradient row chunks' partials");
            if (st == CSM_OK)
                st = csm_buffer_create(ctx, &p->pb, nr * w->C * es, "bias gradient partials");
            if (st == CSM_OK)
                st = csm_buffer_create(ctx, &p->pbc, nr * w->C * es,
                                       "bias gradient partials' compensation");
        }
    }
    if (st != CSM_OK || !*fits)
        tiled_free(w);
    return st;
}

static cl_mem block_x(const csm_block *b)
{
    return b->d->x_u8 ? b->d->x_u8 : b->d->x;
}

/* The base of a launch that takes tasks from p->counter and adds
 * `increments` to it (tasks plus work-items: each work-item's last take
 * finds none); the counter is zeroed first when it is new or would pass
 * 2^30. A failed launch leaves it to be zeroed again. */
static csm_status counter_base(csm_step *w, tiled *p, size_t increments, cl_int *base)
{
    if (p->next < 0 || p->next + (long)increments > (1L << 30)) {
        csm_status st = csm_fill_zero(w->ctx, p->counter, sizeof(cl_int));
        if (st != CSM_OK)
            return st;
        p->next = 0;
    }
    *base = (cl_int)p->next;
    p->next += (long)increments;
    return CSM_OK;
}

static csm_status counted_launch(csm_args *a, tiled *p, size_t global)
{
    size_t local = 1;
    csm_status st = csm_args_launch(a, 1, &global, &local);
    if (st != CSM_OK)
        p->next = -1;
    return st;
}

static csm_status transpose(csm_step *w, cl_mem weight)
{
    // WT (k, CP) = W (C, k)^T, packed by class tiles
    tiled *p = w->priv;
    p->wt_kept = 0;
    csm_args a = csm_args_start(w->ctx, p->k_transpose, "tiled_transpose");
    csm_arg_mem(&a, p->wt);
    csm_arg_mem(&a, weight);
    csm_arg_int(&a, (cl_int)w->C);
    csm_arg_int(&a, (cl_int)w->k);
    csm_arg_int(&a, (cl_int)p->cp);
    /* a work-item per class tile and block of TJ features */
    const size_t tw = (size_t)p->tile.nv * p->vec;
    size_t tg[2] = {(p->cp + tw - 1) / tw, (w->k + TJ - 1) / TJ}, tl[2] = {1, 1};
    return csm_args_launch(&a, 2, tg, tl);
}

static csm_status tiled_logits(csm_step *w, cl_mem weight, const csm_block *b)
{
    // logits (B, C) = X_rows (B, k) . W (C, k)^T, through WT (k, CP) packed by class tiles
    tiled *p = w->priv;
    csm_status st = transpose(w, weight);
    if (st != CSM_OK)
        return st;
    csm_args a = csm_args_start(w->ctx, p->k_logits, "tiled_logits");
    csm_arg_mem(&a, w->logits);
    csm_arg_mem(&a, block_x(b));
    csm_arg_mem(&a, b->idx ? b->idx : w->row_correct); /* unused without a permutation */
    csm_arg_int(&a, b->idx != NULL);
    csm_arg_int(&a, (cl_int)b->start);
    csm_arg_int(&a, (cl_int)b->B);
    csm_arg_mem(&a, p->wt);
    csm_arg_int(&a, (cl_int)p->rows);
    csm_arg_int(&a, (cl_int)w->C);
    csm_arg_int(&a, (cl_int)w->k);
    csm_arg_int(&a, (cl_int)p->cp);
    size_t global = (b->B + p->rows - 1) / p->rows, local = 1;
    return csm_args_launch(&a, 1, &global, &local);
}

/* logits, then w->out = the delta (O - T) scale w_i of the block's rows,
 * their losses and hits, in one launch (tiled_logits_softmax); the targets
 * read through the permutation like the rows. */
static csm_status step_logits(csm_step *w, const csm_model *m, const csm_block *b, double scale,
                              int wt_kept)
{
    tiled *p = w->priv;
    const int mode = csm_step_mode(b, CSM_WRITE_DELTA);
    /* as many tasks as tasks of p->rows rows would make; the kernel deals
     * the row tiles to them evenly */
    const size_t tasks = (b->B + p->rows - 1) / p->rows;
    cl_int base = 0;
    csm_status st = wt_kept ? CSM_OK : transpose(w, m->weight);
    if (st == CSM_OK)
        st = counter_base(w, p, 2 * tasks, &base);
    if (st != CSM_OK)
        return st;
    csm_args a = csm_args_start(w->ctx, p->k_step_logits, "tiled_logits_softmax");
    csm_arg_mem(&a, w->logits);
    csm_arg_mem(&a, w->out);
    csm_arg_mem(&a, w->row_loss);
    csm_arg_mem(&a, w->row_correct);
    csm_arg_mem(&a, p->counter);
    csm_arg_int(&a, base);
    csm_arg_mem(&a, block_x(b));
    /* unused pointer arguments still need a valid buffer */
    csm_arg_mem(&a, b->idx ? b->idx : w->row_correct);
    csm_arg_int(&a, b->idx != NULL);
    csm_arg_int(&a, (cl_int)b->start);
    csm_arg_int(&a, (cl_int)b->row0);
    csm_arg_int(&a, (cl_int)b->B);
    csm_arg_mem(&a, p->wt);
    csm_arg_mem(&a, m->bias);
    csm_arg_mem(&a, b->labels ? b->labels : w->row_correct);
    csm_arg_mem(&a, b->targets ? b->targets : w->out);
    csm_arg_mem(&a, b->weights ? b->weights : w->row_loss);
    csm_arg_int(&a, (cl_int)tasks);
    csm_arg_int(&a, mode);
    csm_arg_real(&a, w->prec, scale);
    csm_arg_int(&a, (cl_int)w->C);
    csm_arg_int(&a, (cl_int)w->k);
    csm_arg_int(&a, (cl_int)p->cp);
    return counted_launch(&a, p, tasks);
}

/* tiled_dweight's update arguments: u's rule and its state, or none. */
static void update_args(csm_args *a, csm_step *w, const csm_model *m, const csm_update *u)
{
    tiled *p = w->priv;
    const csm_precision prec = w->prec;
    double bc1 = 1, bc2 = 1;
    if (u)
        csm_update_corrections(u, &bc1, &bc2);
    const int rule = !u                         ? 0
                     : u->solver == CSM_SGD      ? CSM_RULE_SGD
                     : u->solver == CSM_MOMENTUM ? CSM_RULE_MOMENTUM
                                                 : CSM_RULE_ADAM;
    csm_arg_int(a, rule);
    csm_arg_int(a, u && u->bias);
    /* valid buffers where unused */
    csm_arg_mem(a, u ? m->weight : w->dweight);
    csm_arg_mem(a, u ? m->bias : w->dbias);
    cl_mem state[4] = {w->dweight, w->dbias, w->dweight, w->dbias};
    if (u && u->solver == CSM_ADAM) {
        state[0] = m->state.m[0];
        state[1] = m->state.m[1];
    }
    if (u && (u->solver == CSM_MOMENTUM || u->solver == CSM_ADAM)) {
        state[2] = m->state.v[0];
        state[3] = m->state.v[1];
    }
    for (size_t i = 0; i < 4; i++)
        csm_arg_mem(a, state[i]);
    csm_arg_mem(a, p->wt);
    csm_arg_int(a, (cl_int)p->cp);
    csm_arg_real(a, prec, u ? u->lr : 0);
    csm_arg_real(a, prec, u ? u->momentum : 0);
    csm_arg_real(a, prec, u ? u->beta1 : 0);
    csm_arg_real(a, prec, u ? u->beta2 : 0);
    csm_arg_real(a, prec, u ? u->epsilon : 0);
    csm_arg_real(a, prec, u ? u->l2 : 0);
    csm_arg_real(a, prec, bc1);
    csm_arg_real(a, prec, bc2);
}

/* dweight (C, k) (+)= delta (B, C)^T . X_rows (B, k); dbias (C) (+)= delta^T 1;
 * with slot >= 0 the step's loss sums into stats and correct [slot]; with
 * u (one row chunk), u applied to m's W and b, and W^T packed into wt */
static csm_status grad_launch(csm_step *w, const csm_model *m, const csm_block *b,
                              int accumulate, long slot, const csm_update *u)
{
    tiled *p = w->priv;
    const size_t rch = chunk_rows(p, b->B), nr = b->B ? (b->B + rch - 1) / rch : 1;
    const size_t cch = class_chunk(w, p, nr), nch = (w->C + cch - 1) / cch;
    /* a work-item per task; each takes tasks from the counter until none
     * is left, so the ones after the first few find none */
    const size_t tasks = p->nfi * nch * nr;
    cl_int base = 0;
    csm_status st = counter_base(w, p, 2 * tasks, &base);
    if (st != CSM_OK)
        return st;
    csm_args a = csm_args_start(w->ctx, p->k_dweight, "tiled_dweight");
    csm_arg_mem(&a, w->dweight);
    csm_arg_mem(&a, w->dbias);
    csm_arg_mem(&a, p->dbias_comp);
    /* unused with one chunk */
    csm_arg_mem(&a, nr > 1 ? p->pw : w->dweight);
    csm_arg_mem(&a, nr > 1 ? p->pb : w->dbias);
    csm_arg_mem(&a, nr > 1 ? p->pbc : p->dbias_comp);
    csm_arg_mem(&a, p->counter);
    csm_arg_int(&a, base);
    csm_arg_mem(&a, w->stats);
    csm_arg_mem(&a, w->correct);
    csm_arg_int(&a, (cl_int)slot);
    csm_arg_mem(&a, w->row_loss);
    csm_arg_mem(&a, w->row_correct);
    csm_arg_mem(&a, w->out);
    csm_arg_mem(&a, block_x(b));
    csm_arg_mem(&a, b->idx ? b->idx : w->row_correct);
    csm_arg_int(&a, b->idx != NULL);
    csm_arg_int(&a, (cl_int)b->start);
    csm_arg_int(&a, (cl_int)b->B);
    csm_arg_int(&a, (cl_int)cch);
    csm_arg_int(&a, (cl_int)p->nfi);
    csm_arg_int(&a, (cl_int)nch);
    csm_arg_int(&a, (cl_int)rch);
    csm_arg_int(&a, accumulate);
    csm_arg_int(&a, (cl_int)w->C);
    csm_arg_int(&a, (cl_int)w->k);
    update_args(&a, w, m, u);
    st = counted_launch(&a, p, tasks);
    if (st != CSM_OK || nr == 1)
        return st;
    a = csm_args_start(w->ctx, p->k_dsum, "tiled_dweight_sum");
    csm_arg_mem(&a, w->dweight);
    csm_arg_mem(&a, w->dbias);
    csm_arg_mem(&a, p->pw);
    csm_arg_mem(&a, p->pb);
    csm_arg_int(&a, (cl_int)nr);
    csm_arg_int(&a, accumulate);
    csm_arg_int(&a, (cl_int)w->C);
    csm_arg_int(&a, (cl_int)w->k);
    size_t global = (w->C * w->k + SPAN - 1) / SPAN, local = 1;
    return csm_args_launch(&a, 1, &global, &local);
}

static csm_status tiled_grad(csm_step *w, const csm_block *b, int accumulate)
{
    return grad_launch(w, NULL, b, accumulate, -1, NULL);
}

/* A gradient step: logits with the softmax and delta, then the gradient
 * with the loss sums; ||W||^2 (sumsq) by step.c's kernel. */
static csm_status tiled_step(csm_step *w, const csm_model *m, const csm_block *b, double scale,
                             size_t slot, int accumulate, int sumsq)
{
    csm_status st = step_logits(w, m, b, scale, 0);
    if (st == CSM_OK)
        st = grad_launch(w, m, b, accumulate, (long)slot, NULL);
    if (st == CSM_OK && sumsq)
        st = csm_step_sumsq(w, m, slot);
    return st;
}

/* The update in the gradient's tasks needs each task to hold its block's
 * final sums: one row chunk. */
static int tiled_fuses_update(const csm_step *w, size_t B)
{
    return chunks_max(w->priv, B) == 1;
}

/* A step with the update: ||W||^2 (sumsq) before the gradient's launch
 * writes W; the transpose only when W^T was not kept. */
static csm_status tiled_step_update(csm_step *w, const csm_model *m, const csm_block *b,
                                    double scale, size_t slot, int sumsq, const csm_update *u,
                                    int kept)
{
    tiled *p = w->priv;
    csm_status st = step_logits(w, m, b, scale, kept && p->wt_kept);
    if (st == CSM_OK && sumsq)
        st = csm_step_sumsq(w, m, slot);
    if (st == CSM_OK)
        st = grad_launch(w, m, b, 0, (long)slot, u);
    p->wt_kept = st == CSM_OK;
    return st;
}

static void tiled_describe(const csm_step *w, char *buf, size_t len)
{
    const csm_tile *t = &((const tiled *)w->priv)->tile;
    csm_snprintf(buf, len, "%u,%u,%u,%u,%u", t->nv, t->rt, t->qc, t->kc, t->fti);
}

const csm_path_ops csm_path_tiled = {
    .id = CSM_PATH_TILED,
    .flags = CSM_PATH_ROWS_IDX | CSM_PATH_TARGETS_IDX,
    .fits = tiled_fits,
    .init = tiled_init,
    .free = tiled_free,
    .logits = tiled_logits,
    .grad = tiled_grad,
    .sums_bias = 1,
    .step = tiled_step,
    .fuses_update = tiled_fuses_update,
    .step_update = tiled_step_update,
    .describe = tiled_describe,
};
